"""Checks of the built HTML book (run by `make test` after `jupyter-book build`)."""
from __future__ import annotations

import os
import re
import tempfile

import pytest
from bs4 import BeautifulSoup

from bookpages import HTML, ROOT, notebook_pages, source_of, toc_files

pytestmark = pytest.mark.book

if not (HTML / "index.html").exists():
    pytest.skip("the book is not built: run `make book` first", allow_module_level=True)

MACHINE_PATH = re.compile(
    "|".join([
        r"/home/[A-Za-z0-9_.-]+/", r"/root/", r"/Users/[A-Za-z0-9_.-]+/", r"[A-Z]:\\\\Users\\\\",
        r"/tmp/", r"/var/folders/", re.escape(tempfile.gettempdir() + os.sep), re.escape(str(ROOT)),
    ])
)
WARNING_TEXT = re.compile(r"\b(\w+Warning|WARNING):|Traceback \(most recent call last\)")


def soup(page: str) -> BeautifulSoup:
    return BeautifulSoup((HTML / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


def outputs_outside_raises_exception(doc: BeautifulSoup):
    for cell in doc.select("div.cell"):
        if "tag_raises-exception" in cell.get("class", []):
            continue
        yield from cell.select("div.cell_output")


@pytest.mark.parametrize("page", toc_files())
def test_every_toc_page_is_built(page):
    assert (HTML / f"{page}.html").is_file(), f"{page} is in _toc.yml but has no HTML page"
    source_of(page)


@pytest.mark.parametrize("page", toc_files())
def test_no_traceback_stderr_or_warning_outside_raises_exception_cells(page):
    doc = soup(page)
    for out in outputs_outside_raises_exception(doc):
        assert not out.select(".traceback, .output.error"), f"{page}: a traceback in a cell output"
        assert not out.select(".stderr"), f"{page}: an stderr output block: {out.get_text()[:200]}"
        text = out.get_text()
        assert not WARNING_TEXT.search(text), f"{page}: warning text in an output: {text[:300]}"


@pytest.mark.parametrize("page", toc_files())
def test_no_machine_paths(page):
    text = (HTML / f"{page}.html").read_text(encoding="utf-8")
    found = MACHINE_PATH.search(text)
    assert not found, f"{page}: a path of the building machine: {text[max(0, found.start() - 80):found.end() + 80]}"


@pytest.mark.parametrize("page", notebook_pages())
def test_every_notebook_page_shows_a_figure(page):
    imgs = [img for out in soup(page).select("div.cell_output") for img in out.select("img")]
    assert imgs, f"{page}: no figure in any cell output"
    for img in imgs:
        src = img.get("src", "")
        assert src.startswith("data:") or (HTML / os.path.dirname(page) / src).resolve().is_file(), \
            f"{page}: figure {src} is missing"


@pytest.mark.parametrize("page", notebook_pages())
def test_raises_exception_cells_really_raise(page):
    """A cell tagged raises-exception must show its error (otherwise the tag hides nothing)."""
    for cell in soup(page).select("div.cell.tag_raises-exception"):
        assert cell.select(".traceback, .output.error"), f"{page}: a raises-exception cell did not raise"


@pytest.mark.parametrize("page", notebook_pages())
def test_chapter_has_objectives_summary_exercises_references(page):
    text = soup(page).get_text(" ")
    for heading in ("Learning objectives", "Summary", "Exercises", "References"):
        assert heading in text, f"{page}: no '{heading}' section"
    assert len(soup(page).select("div.exercise")) >= 3, f"{page}: fewer than 3 exercises"
    assert soup(page).select("a[href*='bibliography.html#id'], a[href*='bibliography.html']"), \
        f"{page}: no citation linking to the bibliography"


def test_no_todo_text_in_book():
    for page in toc_files():
        text = soup(page).get_text(" ")
        assert not re.search(r"\bTODO\b|\bTBD\b|lorem ipsum", text, re.I), f"{page}: placeholder text"


def test_mathjax_is_served_from_the_book():
    index = (HTML / "index.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net/npm/mathjax" not in index
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").is_file()


@pytest.mark.parametrize("page", notebook_pages())
def test_notebook_can_be_downloaded(page):
    links = [a.get("href", "") for a in soup(page).select("a")]
    ipynb = [h for h in links if h.endswith(f"{os.path.basename(page)}.ipynb")]
    assert ipynb, f"{page}: no download link to the notebook"
    assert (HTML / os.path.dirname(page) / ipynb[0]).resolve().is_file(), f"{page}: {ipynb[0]} is not in the build"


def test_previous_and_next_links_follow_the_toc():
    pages = toc_files()
    for before, page, after in zip(pages, pages[1:], pages[2:]):
        doc = soup(page)
        prev = doc.select_one("a.left-prev")
        nxt = doc.select_one("a.right-next")
        assert prev is not None and nxt is not None, f"{page}: no previous/next links"
        assert prev["href"].split("#")[0].endswith(f"{os.path.basename(before)}.html"), (
            f"{page}: previous is {prev['href']}")
        assert nxt["href"].split("#")[0].endswith(f"{os.path.basename(after)}.html"), f"{page}: next is {nxt['href']}"


def test_chapters_and_figures_are_numbered_and_glossary_terms_link():
    numbered = 0
    for page in notebook_pages():
        doc = soup(page)
        number = doc.select_one("main section h1 span.section-number")
        if number is not None and re.match(r"^\d+\.", number.get_text(strip=True)):
            numbered += 1
        assert doc.select("a[href*='glossary.html#term-']"), f"{page}: no glossary term links"
    assert numbered >= len(notebook_pages()) - 1, "chapters are not numbered"
    captions = [c.get_text(" ", strip=True) for p in notebook_pages() for c in soup(p).select("figcaption")]
    assert len(captions) >= len(notebook_pages()), "too few numbered figures"
    bad = [c for c in captions if not re.match(r"^Fig\. \d+(\.\d+)*\s", c)]
    assert not bad, bad[:3]


@pytest.mark.parametrize("page", toc_files())
def test_pages_load_nothing_from_the_internet(page):
    """The book must work offline: no script, stylesheet or widget state pointing elsewhere."""
    doc = soup(page)
    remote = [t.get("src") or t.get("href") for t in doc.select("script[src], link[href]")
              if (t.get("src") or t.get("href") or "").startswith(("http://", "https://", "//"))
              and t.name == "script" or (t.name == "link" and "stylesheet" in (t.get("rel") or [])
                                         and (t.get("href") or "").startswith(("http", "//")))]
    assert not remote, f"{page}: loads {remote}"
    assert not doc.select('script[type="application/vnd.jupyter.widget-state+json"]'), \
        f"{page}: widget state stored in the page (its JavaScript would come from a CDN)"
