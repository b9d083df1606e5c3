"""The student edition (`make book-student`): every exercise is there, no solution is."""
from __future__ import annotations

import re

import nbformat
import pytest
from bs4 import BeautifulSoup

from bookpages import HTML, ROOT, STUDENT, notebook_pages

pytestmark = pytest.mark.book

if not (STUDENT / "index.html").exists():
    pytest.skip("the student edition is not built: run `make book-student`", allow_module_level=True)


def solution_lines(page: str) -> list[str]:
    """Distinctive source lines of the code cells inside the chapter's solutions: lines that
    appear nowhere else in the notebook (not in the exercise text, not in a starter cell)."""
    nb = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
    inside, solution, elsewhere = False, [], []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            inside = True
        elif cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            inside = False
        elif inside and cell.cell_type == "code":
            solution += cell.source.splitlines()
            continue
        elsewhere.append(cell.source)
    rest = "\n".join(elsewhere)
    return [ln.strip() for ln in solution
            if len(ln.strip()) >= 25 and not ln.strip().startswith(("#", "import", "from"))
            and ln.strip() not in rest]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.parametrize("page", notebook_pages())
def test_student_page_has_every_exercise_and_no_solution(page):
    full = BeautifulSoup((HTML / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    student = BeautifulSoup((STUDENT / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    exercises_full = [d.get("id") for d in full.select("div.exercise")]
    exercises_student = [d.get("id") for d in student.select("div.exercise")]
    assert exercises_full and exercises_student == exercises_full
    assert full.select("div.solution"), f"{page}: the full book has no solution to hide"
    assert not student.select("div.solution"), f"{page}: the student edition still has a solution"
    text = normalise(student.get_text(" "))
    full_text = normalise(full.get_text(" "))
    lines = solution_lines(page)
    assert lines, f"{page}: found no solution code to look for"
    for line in lines:
        needle = normalise(line)
        if needle in full_text:  # what the full book shows, the student one must not
            assert needle not in text, f"{page}: solution code in the student edition: {line}"


def solution_prose(page: str) -> list[str]:
    """Distinctive sentences of the solutions' prose (the markdown between solution-start and -end)."""
    nb = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
    inside, prose, elsewhere = False, [], []
    for cell in nb.cells:
        start = cell.cell_type == "markdown" and "{solution-start}" in cell.source
        if start:
            inside = True
        if inside and cell.cell_type == "markdown":
            body = re.sub(r"(`{3,}|:{3,})\{solution-(start|end)\}[^\n]*\n(:[^\n]*\n)*\1?", "", cell.source)
            prose += [s.strip() for s in re.split(r"(?<=[.!?])\s+", body)]
        else:
            elsewhere.append(cell.source)
        if cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            inside = False
    rest = normalise("\n".join(elsewhere))
    return [s for s in prose if len(s) >= 40 and "{" not in s and "$" not in s and normalise(s) not in rest]


@pytest.mark.parametrize("page", notebook_pages())
def test_no_solution_anywhere_in_the_student_edition(page):
    """Not in the pages, not in _sources (the download button), not in the search index."""
    nb = nbformat.read(ROOT / f"{page}.ipynb", as_version=4)
    inside, outside = False, []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{solution-start}" in cell.source:
            inside = True
        if not inside:
            outside.append(cell.source)
        if cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            inside = False
    rest = normalise("\n".join(outside))  # what the chapter shows outside its solutions may stay
    needles = [n for n in (normalise(x) for x in solution_lines(page) + solution_prose(page)) if n not in rest]
    assert needles, f"{page}: found no solution to look for"
    files = [p for p in STUDENT.rglob("*") if p.is_file() and p.suffix in (".html", ".ipynb", ".js", ".txt", ".md")]
    assert any(p.name == f"{page.split('/')[-1]}.ipynb" for p in files), f"{page}: no downloadable notebook"
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":  # the JSON escapes quotes and newlines: compare the cells' text
            text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
        text = normalise(text)
        for needle in needles:
            assert needle not in text, f"{path.relative_to(STUDENT)} holds solution text of {page}: {needle[:80]}"
