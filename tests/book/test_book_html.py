"""Checks of the built HTML book, both editions (run by `make test` after `jupyter-book build`).

Every check that does not depend on the language runs on the English edition (``_build/html``) and
on the Chinese one (``_build/zh``, from `make book-zh`); the ``edition`` fixture (tests/conftest.py)
says which.
"""
from __future__ import annotations

import os
import re
import tempfile

import pytest
from bs4 import BeautifulSoup

from bookpages import EDITIONS, HTML, ROOT, notebook_pages, source_of, toc_files

pytestmark = pytest.mark.book

if not (HTML / "index.html").exists():
    pytest.skip("the book is not built: run `make book` first", allow_module_level=True)

MACHINE_PATH = re.compile(
    "|".join([
        r"/home/[A-Za-z0-9_.-]+/", r"/root/", r"/Users/[A-Za-z0-9_.-]+/", r"[A-Z]:\\\\Users\\\\",
        r"/tmp/", r"/var/folders/", re.escape(tempfile.gettempdir() + os.sep), re.escape(str(ROOT)),
    ])
)
# the sections every chapter has, as each edition names them
SECTIONS = {"en": ("Learning objectives", "Summary", "Exercises", "References"),
            "zh": ("学习目标", "小结", "练习", "参考文献")}
FIGURE_NUMBER = {"en": r"^Fig\. \d+(\.\d+)*\s", "zh": r"^图 \d+(\.\d+)*\s"}
WARNING_TEXT = re.compile(r"\b(\w+Warning|WARNING):|Traceback \(most recent call last\)")





def soup(page: str, edition: str = "en") -> BeautifulSoup:
    return BeautifulSoup((EDITIONS[edition] / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


def outputs_outside_raises_exception(doc: BeautifulSoup):
    for cell in doc.select("div.cell"):
        if "tag_raises-exception" in cell.get("class", []):
            continue
        yield from cell.select("div.cell_output")


@pytest.mark.parametrize("page", toc_files())
def test_every_toc_page_is_built(page, edition):
    assert (EDITIONS[edition] / f"{page}.html").is_file(), f"{edition}: {page} is in _toc.yml but has no HTML page"
    source_of(page)


@pytest.mark.parametrize("page", toc_files())
def test_no_traceback_stderr_or_warning_outside_raises_exception_cells(page, edition):
    doc = soup(page, edition)
    for out in outputs_outside_raises_exception(doc):
        assert not out.select(".traceback, .output.error"), f"{page}: a traceback in a cell output"
        assert not out.select(".stderr"), f"{page}: an stderr output block: {out.get_text()[:200]}"
        text = out.get_text()
        assert not WARNING_TEXT.search(text), f"{page}: warning text in an output: {text[:300]}"


@pytest.mark.parametrize("page", toc_files())
def test_no_machine_paths(page, edition):
    text = (EDITIONS[edition] / f"{page}.html").read_text(encoding="utf-8")
    found = MACHINE_PATH.search(text)
    assert not found, f"{page}: a path of the building machine: {text[max(0, found.start() - 80):found.end() + 80]}"


@pytest.mark.parametrize("page", notebook_pages())
def test_every_notebook_page_shows_a_figure(page, edition):
    imgs = [img for out in soup(page, edition).select("div.cell_output") for img in out.select("img")]
    assert imgs, f"{page}: no figure in any cell output"
    for img in imgs:
        src = img.get("src", "")
        assert src.startswith("data:") or (EDITIONS[edition] / os.path.dirname(page) / src).resolve().is_file(), \
            f"{page}: figure {src} is missing"
        alt = img.get("alt", "")
        # alt text says what the figure shows (tools/figure_captions.py), not its file name
        assert len(alt) >= 8 and not alt.endswith((".png", ".svg", ".jpg")), \
            f"{edition}: {page}: figure {os.path.basename(src)} has no alt text saying what it shows: {alt!r}"


@pytest.mark.parametrize("page", notebook_pages())
def test_raises_exception_cells_really_raise(page, edition):
    """A cell tagged raises-exception must show its error (otherwise the tag hides nothing)."""
    for cell in soup(page, edition).select("div.cell.tag_raises-exception"):
        assert cell.select(".traceback, .output.error"), f"{page}: a raises-exception cell did not raise"


@pytest.mark.parametrize("page", notebook_pages())
def test_chapter_has_objectives_summary_exercises_references(page, edition):
    doc = soup(page, edition)
    text = doc.get_text(" ")
    for heading in SECTIONS[edition]:
        assert heading in text, f"{edition}: {page}: no '{heading}' section"
    assert len(doc.select("div.exercise")) >= 3, f"{page}: fewer than 3 exercises"
    assert doc.select("a[href*='bibliography.html#id'], a[href*='bibliography.html']"), \
        f"{page}: no citation linking to the bibliography"


def test_no_todo_text_in_book(edition):
    for page in toc_files():
        text = soup(page, edition).get_text(" ")
        assert not re.search(r"\bTODO\b|\bTBD\b|lorem ipsum", text, re.I), f"{page}: placeholder text"


def test_mathjax_is_served_from_the_book(edition):
    index = (EDITIONS[edition] / "index.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr.net/npm/mathjax" not in index
    assert (EDITIONS[edition] / "_static" / "mathjax" / "tex-chtml.js").is_file()


@pytest.mark.parametrize("page", notebook_pages())
def test_notebook_can_be_downloaded(page, edition):
    links = [a.get("href", "") for a in soup(page, edition).select("a")]
    ipynb = [h for h in links if h.endswith(f"{os.path.basename(page)}.ipynb")]
    assert ipynb, f"{page}: no download link to the notebook"
    assert (EDITIONS[edition] / os.path.dirname(page) / ipynb[0]).resolve().is_file(), \
        f"{page}: {ipynb[0]} is not in the build"


def test_previous_and_next_links_follow_the_toc(edition):
    pages = toc_files()
    for before, page, after in zip(pages, pages[1:], pages[2:]):
        doc = soup(page, edition)
        prev = doc.select_one("a.left-prev")
        nxt = doc.select_one("a.right-next")
        assert prev is not None and nxt is not None, f"{page}: no previous/next links"
        assert prev["href"].split("#")[0].endswith(f"{os.path.basename(before)}.html"), (
            f"{page}: previous is {prev['href']}")
        assert nxt["href"].split("#")[0].endswith(f"{os.path.basename(after)}.html"), f"{page}: next is {nxt['href']}"


def test_chapters_and_figures_are_numbered_and_glossary_terms_link(edition):
    numbered = 0
    for page in notebook_pages():
        doc = soup(page, edition)
        number = doc.select_one("main section h1 span.section-number")
        if number is not None and re.match(r"^\d+\.", number.get_text(strip=True)):
            numbered += 1
        assert doc.select("a[href*='glossary.html#term-']"), f"{page}: no glossary term links"
    assert numbered >= len(notebook_pages()) - 1, "chapters are not numbered"
    captions = [c.get_text(" ", strip=True) for p in notebook_pages() for c in soup(p, edition).select("figcaption")]
    assert len(captions) >= len(notebook_pages()), "too few numbered figures"
    bad = [c for c in captions if not re.match(FIGURE_NUMBER[edition], c)]
    assert not bad, bad[:3]


@pytest.mark.parametrize("page", toc_files())
def test_pages_load_nothing_from_the_internet(page, edition):
    """The book must work offline: no script, stylesheet or widget state pointing elsewhere."""
    doc = soup(page, edition)
    remote = [t.get("src") or t.get("href") for t in doc.select("script[src], link[href]")
              if (t.get("src") or t.get("href") or "").startswith(("http://", "https://", "//"))
              and t.name == "script" or (t.name == "link" and "stylesheet" in (t.get("rel") or [])
                                         and (t.get("href") or "").startswith(("http", "//")))]
    assert not remote, f"{page}: loads {remote}"
    assert not doc.select('script[type="application/vnd.jupyter.widget-state+json"]'), \
        f"{page}: widget state stored in the page (its JavaScript would come from a CDN)"


@pytest.mark.parametrize("page", toc_files())
def test_every_page_links_to_the_same_page_in_the_other_edition(page, edition):
    other = "zh" if edition == "en" else "en"
    links = soup(page, edition).select("p.edition-switch a")
    assert len(links) == 1, f"{edition}: {page}: {len(links)} links to the other edition, expected 1"
    link = links[0]
    target = (EDITIONS[edition] / os.path.dirname(page) / link["href"]).resolve()
    assert target == (EDITIONS[other] / f"{page}.html").resolve(), f"{edition}: {page} links to {link['href']}"
    assert link.get("hreflang") == {"en": "en", "zh": "zh-CN"}[other]


def test_chinese_pages_declare_their_language_and_are_translated(edition):
    if edition != "zh":
        pytest.skip("a check of the Chinese edition")
    for page in toc_files():
        doc = soup(page, "zh")
        assert doc.html.get("lang") == "zh-CN", f"{page}: lang={doc.html.get('lang')}"
        heading = doc.select_one("main h1").get_text(" ", strip=True)
        assert re.search(r"[\u4e00-\u9fff]", heading), f"zh: {page}: the title is not in Chinese: {heading}"
