"""Checks of the PDF of each edition (tools/pdf.py; `make test` builds one chapter, `make pdf` all).

Every page that the PDF holds (its manifest lists them) is there by its title, every figure of
those pages is embedded, every page renders to an image with ink on it (pdftoppm), and XeLaTeX
had a glyph for every character (its log has no "Missing character"; a missing glyph is what shows
as a tofu box).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from bs4 import BeautifulSoup

from bookpages import EDITIONS, ROOT

pytestmark = pytest.mark.book

PDF = ROOT / "_build" / "pdf"
IN_CI = bool(os.environ.get("CI"))

# `make test` and `make pdf` build the PDFs (and stop if that fails) before these tests run; the
# module is also collected, and skipped, by `make unit`
if not (PDF / "manifest.json").exists():
    pytest.skip("the PDFs are not built: run `make pdf`", allow_module_level=True)

MANIFEST = json.loads((PDF / "manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True, scope="module")
def _poppler():
    if not shutil.which("pdftotext"):
        message = "poppler-utils (pdftotext, pdfimages, pdftoppm, pdffonts) is needed to check the PDFs"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def _text(edition: str) -> str:
    pdf = PDF / MANIFEST[edition]["pdf"]
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True)
    return re.sub(r"\s+", "", out.stdout)


def _html(edition: str, page: str) -> BeautifulSoup:
    return BeautifulSoup((EDITIONS[edition] / f"{page}.html").read_text(encoding="utf-8"), "html.parser")


def _title(edition: str, page: str) -> str:
    h1 = _html(edition, page).select_one("main h1")
    for extra in h1.select("a.headerlink, span.section-number"):
        extra.decompose()
    return h1.get_text(" ", strip=True)


@pytest.mark.parametrize("edition", list(MANIFEST))
def test_every_page_of_the_pdf_is_there_by_its_title(edition):
    text = _text(edition)
    assert MANIFEST[edition]["pages"] >= 10, MANIFEST[edition]
    for page in MANIFEST[edition]["book_pages"][1:]:  # the root page opens the book without a title
        title = re.sub(r"\s+", "", _title(edition, page))
        assert title in text, f"{edition}: the PDF lacks the chapter '{_title(edition, page)}'"


@pytest.mark.parametrize("edition", list(MANIFEST))
def test_every_figure_of_the_pdf_pages_is_embedded(edition):
    figures = set()
    for page in MANIFEST[edition]["book_pages"]:
        for img in _html(edition, page).select("div.cell_output img"):
            figures.add(os.path.basename(img["src"]))
    out = subprocess.run(["pdfimages", "-list", str(PDF / MANIFEST[edition]["pdf"])],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    images = [line for line in out[2:] if line.split()[2] == "image"]
    assert figures, f"{edition}: no figures on the pages of the PDF"
    assert len(images) >= len(figures), f"{edition}: {len(images)} images in the PDF, {len(figures)} figures"


@pytest.mark.parametrize("edition", list(MANIFEST))
def test_xelatex_had_a_glyph_for_every_character(edition):
    log = (PDF / MANIFEST[edition]["pdf"].replace(".pdf", ".log")).read_text(encoding="utf-8", errors="replace")
    missing = sorted(set(re.findall(r"Missing character: There is no (\S+)", log)))
    assert not missing, f"{edition}: characters without a glyph (tofu): {missing[:20]}"


@pytest.mark.parametrize("edition", list(MANIFEST))
def test_every_pdf_page_renders_with_ink(edition, tmp_path):
    pdf = PDF / MANIFEST[edition]["pdf"]
    subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.pgm"))
    assert len(pages) == MANIFEST[edition]["pages"]
    inked = 0
    for page in pages:
        data = page.read_bytes()
        pixels = data[data.index(b"255\n") + 4:]  # after the PGM header
        inked += min(pixels) < 128
    # blank pages are allowed only where LaTeX starts a chapter on a right-hand page
    assert inked >= 0.6 * len(pages), f"{edition}: only {inked} of {len(pages)} pages have ink"
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:] if line.strip()), \
        f"{edition}: a font is not embedded:\n{fonts}"
    if edition == "zh":
        assert "CJK" in fonts, f"zh: no CJK font in the PDF:\n{fonts}"
