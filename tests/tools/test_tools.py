"""The maintainer scripts: exercise index, student-edition config."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from bookpages import ROOT, notebook_pages, source_of

sys.path.insert(0, str(ROOT / "tools"))
import exercise_index  # noqa: E402
import student_config  # noqa: E402


def test_exercise_index_is_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "exercise_index.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_every_chapter_has_three_solved_exercises_with_unique_labels():
    labels = []
    for page in notebook_pages():
        items = exercise_index.exercises_of(page)
        assert len(items) >= 3, f"{page}: {len(items)} exercises"
        assert all(ex.has_solution for ex in items), f"{page}: an exercise without a solution"
        assert all(ex.checkers for ex in items), f"{page}: a solution that calls no checker"
        labels += [ex.label for ex in items]
    assert len(labels) == len(set(labels)), "exercise labels must be unique across the book"


def test_exercise_pattern_reads_title_and_label():
    nb_md = "```{exercise} Mask the future\n:label: ex-99-mask\n\nText\n```\n```{solution-start} ex-99-mask\n```"
    m = exercise_index.EXERCISE.search(nb_md)
    assert m.group("title") == "Mask the future" and ":label: ex-99-mask" in m.group("opts")


def test_student_config_turns_on_student_edition_and_keeps_the_shared_cache():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    cfg = student_config.student_config(config)
    assert cfg["sphinx"]["config"]["student_edition"] is True
    assert config["sphinx"]["config"]["student_edition"] is False  # the original is untouched
    assert cfg["execute"]["cache"] == str(ROOT / config["execute"]["cache"])
    assert cfg["title"].endswith("(student edition)")


def test_figure_captions_are_up_to_date():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "figure_captions.py"), "--check"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_figure_caption_is_the_stated_finding_of_a_single_figure_cell():
    import figure_captions

    one = 'fig, ax = plt.subplots()\nax.set_title("Scores grow like sqrt(d)")\nplt.show()'
    assert figure_captions.caption_of(one) == "Scores grow like sqrt(d)."
    sup = 'fig, axes = plt.subplots(1, 2)\naxes[0].set_title("a")\nfig.suptitle("Heads differ")\nplt.show()'
    assert figure_captions.caption_of(sup) == "Heads differ."
    loop = 'for i in range(3):\n    plt.title("x")\n    plt.show()'
    assert figure_captions.caption_of(loop) is None
    numbers = 'plt.title(f"accuracy {acc:.2f}")\nplt.show()'
    assert figure_captions.caption_of(numbers) is None


def test_a_figure_cell_that_also_shows_a_table_gets_no_caption():
    import figure_captions

    table_after = 'plt.title("A finding")\nplt.show()\npd.DataFrame({"a": [1]})'
    assert figure_captions.caption_of(table_after) is None
    display_call = 'plt.title("A finding")\nplt.show()\ndisplay(df)'
    assert figure_captions.caption_of(display_call) is None
    print_after = 'plt.title("A finding")\nplt.show()\nprint("done")'
    assert figure_captions.caption_of(print_after) == "A finding."


def test_only_timing_cells_are_exempt_from_the_reproducibility_check():
    """`make reproduce` compares every output of two executions except cells tagged
    nbval-ignore-output; the tag is for outputs that are timings, and for nothing else."""
    import nbformat

    timing = ("perf_counter", "process_time", "time.time(", "timeit", "timings[", "seconds")
    tagged = []
    for page in notebook_pages():
        nb = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        for k, cell in enumerate(code):
            if "nbval-ignore-output" in cell.metadata.get("tags", []):
                tagged.append((page, k))
                # the cell measures time, or shows the timings the code cell before it measured
                shown = cell.source + ("" if k == 0 else code[k - 1].source)
                assert any(t in shown for t in timing), (
                    f"{page} code cell {k} is exempt from the reproducibility check but shows no timing")
    assert len(tagged) <= 12, f"too many cells exempt from the reproducibility check: {tagged}"


def test_nbval_sanitizer_masks_only_memory_addresses():
    import configparser
    import re

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "tools" / "nbval_sanitize.cfg")
    patterns = [cfg[s]["regex"] for s in cfg.sections()]
    assert patterns == [r"0x[0-9a-fA-F]+"]
    assert re.sub(patterns[0], "X", "<Figure at 0x7f3a2b> 0.123") == "<Figure at X> 0.123"


def test_every_phony_make_target_exists_and_is_documented():
    import re

    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    phony = re.search(r"^\.PHONY:(.*)$", text, re.M).group(1).split()
    rules = set(re.findall(r"^([a-z][\w-]*):", text, re.M))
    assert set(phony) == rules, f"phony but no rule: {set(phony) - rules}; rule but not phony: {rules - set(phony)}"
    contributing = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for target in ("test", "unit", "lint", "execute", "reproduce", "book-student"):
        assert f"make {target}" in contributing or f"`{target}`" in contributing, target


# --------------------------------------------------------------------------- JupyterLab citations

def _citations():
    sys.path.insert(0, str(ROOT / "tools" / "jupyterlab"))
    import citations

    return citations


def test_citation_labels_follow_the_books_author_year_style(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text("""
@article{one, author = {Shapley, Lloyd S.}, title = {A Value for {n}-Person Games}, journal = {Annals}, year = {1953}}
@article{two, author = {{\\v{S}}trumbelj, Erik and Kononenko, Igor}, title = {E}, journal = {K}, year = {2014}}
@inproceedings{three, author = {Bahdanau, D. and Cho, K. and Bengio, Y.}, title = {A}, booktitle = {I}, year = {2015}}
""", encoding="utf-8")
    labels = _citations().citation_labels(bib)
    assert labels["one"]["label"] == "Shapley, 1953"
    assert labels["two"]["label"] == "Štrumbelj and Kononenko, 2014"
    assert labels["three"]["label"] == "Bahdanau et al., 2015"
    assert labels["one"]["reference"] == "Shapley, Lloyd S. (1953). A Value for n-Person Games. Annals."


def test_every_key_the_notebooks_cite_has_a_label():
    import re

    labels = _citations().citation_labels()
    cited = set()
    for page in notebook_pages():
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", source_of(page).read_text(encoding="utf-8")):
            cited |= {k.strip() for k in group.split(",")}
    assert cited and not cited - set(labels), sorted(cited - set(labels))


def test_lab_template_adds_the_script_once_and_keeps_the_template(tmp_path):
    citations = _citations()
    page = "<html><head>{{ page_config | tojson }}</head><body><script>x</script></body></html>"
    out = citations.lab_template(page, {"k": {"label": "A and B, 2020", "reference": "A, B (2020). T </script>."}})
    assert out.count(citations.MARK) == 1 and out.startswith(page[:-len("</body></html>")])
    assert "A and B, 2020" in out and "T <\\/script>" in out  # no early end of the script
    import jinja2

    rendered = jinja2.Template(out).render(page_config={"a": 1})  # the script is raw for Jinja
    assert '{"k": {"label"' in rendered
    with pytest.raises(ValueError, match="index_html"):
        citations.lab_template("<html></html>", {})
