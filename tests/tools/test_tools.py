"""The maintainer scripts: exercise index, student-edition config, classroom, JupyterLab citations."""
from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from bookpages import ROOT, notebook_pages, source_of

sys.path.insert(0, str(ROOT / "tools"))
import classroom  # noqa: E402
import exercise_index  # noqa: E402
import student_config  # noqa: E402
import translations  # noqa: E402


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
    assert cfg["sphinx"]["config"]["edition"] == ""  # no link to the Chinese edition


# --------------------------------------------------------------------------- the Chinese edition

def test_zh_config_builds_the_chinese_edition_from_the_same_cache():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    cfg = translations.zh_config(config)
    assert cfg["sphinx"]["config"]["language"] == "zh_CN" and cfg["sphinx"]["config"]["edition"] == "zh"
    assert config["sphinx"]["config"]["edition"] == "en"  # the original is untouched
    assert cfg["execute"]["cache"] == str(ROOT / config["execute"]["cache"])
    assert config["sphinx"]["config"]["locale_dirs"] == ["locales"]
    assert config["sphinx"]["config"]["gettext_compact"] is False  # one catalog per page


def _catalog(path, messages, fuzzy=()):
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    cat = Catalog(locale="zh_CN")
    for msgid, msgstr in messages.items():
        cat.add(msgid, msgstr, flags=["fuzzy"] if msgid in fuzzy else [])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_po(f, cat)


def test_translation_status_counts_untranslated_and_fuzzy_messages_per_page(tmp_path):
    pot, po = tmp_path / "pot", tmp_path / "po"
    _catalog(pot / "notebooks" / "01_a.pot", {"One.": "", "Two.": "", "Three.": ""})
    _catalog(po / "notebooks" / "01_a.po", {"One.": "一。", "Two.": "二。"})  # "Three." is new
    _catalog(pot / "book" / "b.pot", {"Changed English.": "", "Same.": ""})
    _catalog(po / "book" / "b.po", {"Changed English.": "旧的翻译。", "Same.": "相同。"}, fuzzy={"Changed English."})
    _catalog(pot / "book" / "c.pot", {"Never translated.": ""})  # no catalog at all
    rows = {r.page: r for r in translations.status(pot, po)}
    first = rows["notebooks/01_a"]
    assert (first.total, first.untranslated, first.fuzzy) == (3, 1, 0)
    assert (rows["book/b"].untranslated, rows["book/b"].fuzzy) == (0, 1)
    assert rows["book/c"].untranslated == 1 and not rows["book/c"].ok
    assert "book/b" in translations.table(list(rows.values()))


def test_a_changed_english_message_makes_its_translation_fuzzy(tmp_path):
    pot, locales = tmp_path / "gettext", tmp_path / "locales"
    _catalog(pot / "page.pot", {"Attention is a weighting.": ""})
    _catalog(locales / "zh_CN" / "LC_MESSAGES" / "page.po", {"Attention is a weighting.": "注意力是一种加权。"})
    _catalog(pot / "page.pot", {"Attention is a learned weighting.": ""})  # the English changed
    subprocess.run([str(translations.BIN / "sphinx-intl"), "update", "-p", str(pot), "-d", str(locales),
                    "-l", "zh_CN"], check=True, capture_output=True)
    [row] = translations.status(pot, locales / "zh_CN" / "LC_MESSAGES")
    assert (row.untranslated, row.fuzzy) == (0, 1) and not row.ok


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


def test_teachers_page_times_every_exercise_of_the_book():
    import re

    text = (ROOT / "book" / "teachers.md").read_text(encoding="utf-8")
    block = text.split(classroom.TIMES_START, 1)[1].split(classroom.TIMES_END, 1)[0]
    timed = re.findall(r"^\| \{ref\}`([\w-]+)` \| \d\d \| \d+ \| \d+\.\d \|$", block, re.M)
    book = [ex.label for page in notebook_pages() for ex in exercise_index.exercises_of(page)]
    assert timed == book, f"re-measure with tools/classroom.py timings --write: missing {set(book) - set(timed)}"


# --------------------------------------------------------------------------- classroom

def _chapter(starter: str, starter_output: str):
    import nbformat.v4 as v4

    starter_cell = v4.new_code_cell(starter, outputs=[v4.new_output("stream", name="stdout", text=starter_output)])
    return v4.new_notebook(cells=[
        v4.new_code_cell("x = 1", outputs=[v4.new_output("stream", name="stdout", text="body\n")]),
        v4.new_markdown_cell("```{exercise} Double\n:label: ex-99-double\n\nDouble x.\n```"),
        starter_cell,
        v4.new_markdown_cell("```{solution-start} ex-99-double\n:class: dropdown\n```\nMultiply."),
        v4.new_code_cell("# the answer\ny = 2 * x\n\nch99.check_double(y)"),
        v4.new_markdown_cell("```{solution-end}\n```"),
        v4.new_code_cell("assert ch99.check_double(y)", metadata={"tags": ["remove-cell"]}),
    ])


def test_student_notebook_drops_the_solution_and_keeps_outputs_only_when_asked():
    nb = _chapter("y = None\nch99.check_double(y)", "❌ Not yet: y is None\n")
    plain = classroom.student_notebook(nb)
    kept = classroom.student_notebook(nb, keep_outputs=True)
    for out in (plain, kept):
        assert [c.source for c in out.cells] == [nb.cells[i].source for i in (0, 1, 2)]
    assert all(not c.get("outputs") for c in plain.cells)
    assert kept.cells[2].outputs[0]["text"] == "❌ Not yet: y is None\n"
    assert nb.cells[2].outputs, "the chapter itself is not changed"
    assert classroom.silent_exercises(kept) == []
    assert classroom.solution_lines(classroom.exercises(nb)[0]) == 1  # no comment, blank or checker line


@pytest.mark.parametrize("starter, output", [
    ("y = None\n# ch99.check_double(y)", "❌ Not yet: y is None\n"),   # the call is commented out
    ("y = None\nch99.check_double(y)", "✅ Correct\n"),                 # the placeholder passes
    ("y = None", ""),                                                    # no checker call at all
])
def test_an_exercise_whose_starter_does_not_answer_not_yet_is_reported(starter, output, tmp_path):
    nb = classroom.student_notebook(_chapter(starter, output), keep_outputs=True)
    assert classroom.silent_exercises(nb) == ["ex-99-double"]
    import nbformat

    nbformat.write(nb, tmp_path / "99_x.ipynb")
    assert classroom.check_not_yet(tmp_path) == 1


def test_write_times_replaces_only_the_marked_block(tmp_path):
    page = tmp_path / "teachers.md"
    page.write_text(f"intro\n{classroom.TIMES_START}\nold\n{classroom.TIMES_END}\nrest\n", encoding="utf-8")
    classroom.write_times("| new |", page)
    assert page.read_text(encoding="utf-8") == f"intro\n{classroom.TIMES_START}\n| new |\n{classroom.TIMES_END}\nrest\n"
    (tmp_path / "bare.md").write_text("no markers", encoding="utf-8")
    with pytest.raises(ValueError, match="exercise-times"):
        classroom.write_times("x", tmp_path / "bare.md")
