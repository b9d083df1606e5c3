"""Author-year citations in JupyterLab, read from the book's references.bib.

jupyterlab-myst 2.7 renders ``{cite}`key``` without a bibliography (it reads no BibTeX file), as
the bare key in a "Citation Not Found" span. The book itself (sphinxcontrib-bibtex, style
``author_year``) shows "Bahdanau et al., 2015". For `make lab`, ``jupyter_lab_config.py`` calls
:func:`write_lab_template`, which writes JupyterLab's own page template with one small script
added: it replaces the key in each such span by the author and year of that entry and sets the
span's tooltip to the whole reference. Nothing in the notebooks changes.

    python tools/jupyterlab/citations.py          # print the label of every entry
"""
from __future__ import annotations

import codecs
import json
import re
import sys
from pathlib import Path

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
from pybtex.database import parse_file

ROOT = Path(__file__).resolve().parents[2]
BIBFILE = ROOT / "references.bib"
MARK = "<!-- xai-tutorial: author-year citations -->"


def _plain(latex: str) -> str:
    """BibTeX's LaTeX text as plain Unicode: ``{\\v{S}}trumbelj`` -> ``Štrumbelj``."""
    return re.sub(r"[{}]", "", codecs.decode(latex, "ulatex"))


def citation_labels(bibfile: Path = BIBFILE) -> dict[str, dict[str, str]]:
    """Each entry's in-text label and full reference, keyed by BibTeX key.

    The label follows sphinxcontrib-bibtex's ``author_year`` style as the book shows it: one
    author "Shapley, 1953", two "Jain and Wallace, 2019", three or more "Bahdanau et al., 2015".
    """
    out = {}
    for key, entry in parse_file(str(bibfile)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
        if not last:
            who = _plain(entry.fields.get("organization", entry.fields.get("title", key)))
        elif len(last) == 1:
            who = last[0]
        elif len(last) == 2:
            who = f"{last[0]} and {last[1]}"
        else:
            who = f"{last[0]} et al."
        year = entry.fields.get("year", "n.d.")
        names = ", ".join(_plain(str(p)) for p in people)
        venue = entry.fields.get("booktitle") or entry.fields.get("journal") or entry.fields.get("publisher", "")
        full = f"{names} ({year}). {_plain(entry.fields.get('title', ''))}." + (f" {_plain(venue)}." if venue else "")
        out[key] = {"label": f"{who}, {year}", "reference": full}
    return out


SCRIPT = """<script>
/* The book's citations, author and year, in place of the bare keys jupyterlab-myst shows. */
(function () {
  const refs = %s;
  const selector = 'span.text-yellow-600[title="Citation Not Found"]';
  function relabel(root) {
    root.querySelectorAll(selector).forEach(function (span) {
      const text = span.lastChild;
      if (!text || text.nodeType !== Node.TEXT_NODE) return;
      const ref = refs[text.data.trim()];
      if (!ref) return;
      span.dataset.citeKey = text.data.trim();
      text.data = ref.label;
      span.title = ref.reference;
    });
  }
  new MutationObserver(function () { relabel(document.body); })
    .observe(document.documentElement, {childList: true, subtree: true});
})();
</script>"""


def lab_template(index_html: str, labels: dict[str, dict[str, str]]) -> str:
    """JupyterLab's page template ``index.html`` with the relabelling script before ``</body>``."""
    if "</body>" not in index_html:
        raise ValueError("index_html must be JupyterLab's page template, with a </body> tag")
    script = SCRIPT % json.dumps(labels, ensure_ascii=False).replace("</", "<\\/")
    # the template is Jinja: keep the script's braces out of its syntax
    block = MARK + "{% raw %}" + script + "{% endraw %}"
    return index_html.replace("</body>", block + "</body>", 1)


def write_lab_template(dest: Path, static_dir: Path, bibfile: Path = BIBFILE) -> Path:
    """Write ``dest/index.html`` from JupyterLab's template in ``static_dir``; return ``dest``."""
    source = (Path(static_dir) / "index.html").read_text(encoding="utf-8")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "index.html").write_text(lab_template(source, citation_labels(bibfile)), encoding="utf-8")
    return dest


if __name__ == "__main__":
    for key, ref in citation_labels().items():
        print(f"{key:32s} {ref['label']}")
    sys.exit(0)
