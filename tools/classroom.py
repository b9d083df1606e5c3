"""The book in a classroom: student notebooks without solutions, and an nbgrader course.

    python tools/classroom.py student DEST             # one notebook per chapter, every solution removed
    python tools/classroom.py student DEST --from DIR  # the same from executed chapters, outputs kept
    python tools/classroom.py nbgrader DEST            # an nbgrader course: source/chNN/NN_name.ipynb
    python tools/classroom.py run-student DIR           # execute every student notebook in DIR, check
                                                         # that nothing raises and each checker says "Not yet"
    python tools/classroom.py check-not-yet DIR         # the same check on executed student notebooks
                                                         # (their stored outputs; no execution)
    python tools/classroom.py grade DEST chNN [chNN ...]
        # release those assignments, autograde a fully solved and an unanswered submission of
        # each, write feedback, and print (and check) the scores
    python tools/classroom.py timings [--write]
        # execute every chapter with its solutions, time each exercise's cells, print the table
        # (with --write: put it into book/teachers.md between its exercise-times markers)

The chapters mark each exercise the same way: a markdown cell with a ```` ```{exercise} ```` block
and its ``:label:``; a starter code cell; the solution between ```` ```{solution-start} label ````
and ```` ```{solution-end} ```` (its prose and its code cells); then a hidden cell (tag
``remove-cell``) that asserts the exercise's checker accepts the solution. The same checkers of
``xai_tutorial.exercises`` serve the book, the student notebooks and the grader:

* a **student notebook** keeps everything but the solution (prose, code, outputs) and the hidden
  check of the solution: the exercise text, the starter cell and its checker call;
* in the **nbgrader course**, the solution code becomes an nbgrader solution region inside the
  starter cell (the release replaces it with a stub), and the hidden check becomes a graded test
  cell worth one point whose asserts are hidden tests (the release shows no test at all).

Nothing here executes a chapter except ``run-student``, ``grade`` and ``timings``.
"""
from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebooks import toc_notebooks  # noqa: E402

EXERCISE = re.compile(r"\{exercise(?:-start)?\}[^\n]*\n(?:(?::[^\n]*\n)*)", re.M)
LABEL = re.compile(r"^:label:\s*(\S+)", re.M)
SOLUTION_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}\s*(\S+)", re.M)
SOLUTION_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}[^\n]*\n\1[ \t]*$\n?", re.M)
CHECKER_CALL = re.compile(r"\bch\d\d\.check_\w+\(")
COURSE_ID = "attention-xai"


@dataclass
class Exercise:
    label: str
    exercise_cell: int                 # index of the markdown cell with the exercise text
    starter_cell: int | None = None    # index of the code cell the student works in
    solution_cells: list[int] = field(default_factory=list)  # every cell from solution-start to -end
    solution_code: list[str] = field(default_factory=list)
    check_cell: int | None = None      # the hidden cell that asserts the checker accepts the solution


def exercises(nb) -> list[Exercise]:
    """The exercises of a chapter notebook, in order, with the indices of their cells."""
    out: list[Exercise] = []
    current: Exercise | None = None
    in_solution = False
    for i, cell in enumerate(nb.cells):
        src = cell.source
        if cell.cell_type == "markdown" and SOLUTION_START.search(src):
            label = SOLUTION_START.search(src).group(2)
            if current is None or current.label != label:
                raise ValueError(f"cell {i}: solution of {label!r} does not follow its exercise")
            in_solution = True
            current.solution_cells.append(i)
            if SOLUTION_END.search(src):
                in_solution = False
            continue
        if in_solution:
            current.solution_cells.append(i)
            if cell.cell_type == "code":
                current.solution_code.append(src)
            if cell.cell_type == "markdown" and SOLUTION_END.search(src):
                in_solution = False
            continue
        if cell.cell_type == "markdown" and EXERCISE.search(src):
            label = LABEL.search(src[EXERCISE.search(src).start():])
            if not label:
                raise ValueError(f"cell {i}: an exercise without a :label:")
            current = Exercise(label.group(1), i)
            out.append(current)
            continue
        if current is None:
            continue
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "code" and not current.solution_cells and current.starter_cell is None \
                and "remove-cell" not in tags:
            current.starter_cell = i
        elif cell.cell_type == "code" and current.solution_cells and current.check_cell is None \
                and "remove-cell" in tags and CHECKER_CALL.search(src):
            current.check_cell = i
    for ex in out:
        if not ex.solution_cells:
            raise ValueError(f"exercise {ex.label!r} has no solution-start/solution-end block")
    return out


def _end_remainder(src: str) -> str:
    """What a solution-end cell holds after the closing fence (kept: it is not solution text)."""
    m = SOLUTION_END.search(src)
    return src[m.end():].strip() if m else ""


def _clean(nb):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nb


def student_notebook(nb, *, keep_outputs: bool = False):
    """The chapter with every solution removed: its prose, its code and the hidden check of it.

    With ``keep_outputs`` (for an executed chapter) the remaining cells keep their outputs, so that
    nbval can check that the student notebook, run on its own, prints what the book printed.
    """
    drop: set[int] = set()
    keep_text: dict[int, str] = {}
    for ex in exercises(nb):
        drop.update(ex.solution_cells)
        last = nb.cells[ex.solution_cells[-1]]
        if _end_remainder(last.source):
            keep_text[ex.solution_cells[-1]] = _end_remainder(last.source)
        if ex.check_cell is not None:
            drop.add(ex.check_cell)
    out = copy.deepcopy(nb) if keep_outputs else _clean(nb)
    cells = []
    for i, cell in enumerate(out.cells):
        if i in keep_text:
            cell.source = keep_text[i]
            cells.append(cell)
        elif i not in drop:
            cells.append(cell)
    out.cells = cells
    return out


def _split_tail(src: str) -> tuple[str, str]:
    """Split a starter cell into its body and its trailing checker call lines (live or commented)."""
    lines = src.rstrip("\n").split("\n")
    tail: list[str] = []
    while lines and (CHECKER_CALL.search(lines[-1]) or not lines[-1].strip()):
        tail.insert(0, lines.pop())
    return "\n".join(lines), "\n".join(t.lstrip("# ") if t.lstrip().startswith("#") else t for t in tail).strip()


def _nbgrader_meta(grade_id: str, *, solution: bool, grade: bool, points: int = 0) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return meta


def nbgrader_notebook(nb):
    """The chapter as an nbgrader source notebook: one solution cell and one graded test per exercise."""
    exs = exercises(nb)
    out = _clean(nb)
    by_cell: dict[int, list] = {}
    drop: set[int] = set()
    for ex in exs:
        drop.update(ex.solution_cells)
        if ex.check_cell is not None:
            drop.add(ex.check_cell)
        body, tail = ("", "")
        if ex.starter_cell is not None:
            body, tail = _split_tail(nb.cells[ex.starter_cell].source)
            drop.add(ex.starter_cell)
        solution = "\n\n".join(s.rstrip() for s in ex.solution_code)
        sol_body, sol_tail = _split_tail(solution)
        call = tail or sol_tail
        answer = "\n".join(p for p in (body, "### BEGIN SOLUTION", sol_body, "### END SOLUTION", call) if p)
        answer_cell = nbformat.v4.new_code_cell(answer)
        answer_cell.metadata["nbgrader"] = _nbgrader_meta(f"{ex.label}-answer", solution=True, grade=False)
        if ex.check_cell is not None:
            hidden = nb.cells[ex.check_cell].source.strip()
        else:
            hidden = "\n".join(f"assert {line.strip()}" for line in call.split("\n") if CHECKER_CALL.search(line))
        if not hidden:
            raise ValueError(f"exercise {ex.label!r}: no checker call to grade it with")
        test_cell = nbformat.v4.new_code_cell(
            "# This exercise is graded by its checker when your work is collected.\n"
            f"### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS")
        test_cell.metadata["nbgrader"] = _nbgrader_meta(f"{ex.label}-test", solution=False, grade=True, points=1)
        # the answer takes the starter's place (or follows the exercise text), the test follows it
        anchor = ex.starter_cell if ex.starter_cell is not None else ex.exercise_cell
        by_cell[anchor] = [answer_cell, test_cell]
    cells = []
    for i, cell in enumerate(out.cells):
        if i not in drop:
            cells.append(cell)
        elif cell.cell_type == "markdown" and _end_remainder(cell.source):
            cells.append(nbformat.v4.new_markdown_cell(_end_remainder(cell.source)))
        cells.extend(by_cell.get(i, []))
    out.cells = cells
    return out


def assignment_name(path: Path) -> str:
    return "ch" + path.name[:2]


def write_student(dest: Path, source: Path | None = None) -> list[Path]:
    """Write the student notebook of every chapter to ``dest``.

    From the repository's chapters (no outputs), or with ``source`` from the executed chapters in
    that folder (``tools/notebooks.py export``), keeping their outputs.
    """
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in toc_notebooks():
        origin = path if source is None else Path(source) / path.name
        target = dest / path.name
        nbformat.write(student_notebook(nbformat.read(origin, as_version=4), keep_outputs=source is not None),
                       target)
        written.append(target)
    return written


CONFIG = '''# nbgrader configuration of the course built by tools/classroom.py (offline, no exchange needed)
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{course}"
c.CourseDirectory.root = r"{root}"
c.CourseDirectory.db_url = "sqlite:///{root}/gradebook.db"
c.ExecutePreprocessor.timeout = 300
c.ClearSolutions.code_stub = {{"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
'''


def write_course(dest: Path) -> list[str]:
    dest = dest.resolve()
    (dest / "source").mkdir(parents=True, exist_ok=True)
    (dest / "nbgrader_config.py").write_text(CONFIG.format(course=COURSE_ID, root=dest), encoding="utf-8")
    names = []
    for path in toc_notebooks():
        name = assignment_name(path)
        folder = dest / "source" / name
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nbgrader_notebook(nbformat.read(path, as_version=4)), folder / path.name)
        names.append(name)
    return names


def _with_venv_path() -> None:
    """nbgrader runs `alembic` (and kernels) from PATH: put this environment's scripts first."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def _nbgrader(dest: Path, *args: str) -> None:
    _with_venv_path()
    exe = Path(sys.executable).parent / "nbgrader"
    proc = subprocess.run([str(exe), *args, "--log-level=WARN"], cwd=dest, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")


def _grade_one(args: tuple[str, str]) -> tuple[str, dict[str, tuple[float, float]]]:
    """Grade one assignment in its own course folder ``dest/name`` (its own gradebook)."""
    import shutil

    from nbgrader.api import Gradebook

    dest, name = Path(args[0]) / args[1], args[1]
    shutil.rmtree(dest, ignore_errors=True)
    write_course(dest)
    db = dest / "gradebook.db"
    for student in ("solved", "unanswered"):
        _nbgrader(dest, "db", "student", "add", student)
    _nbgrader(dest, "db", "assignment", "add", name)
    _nbgrader(dest, "generate_assignment", name, "--force")
    for student, folder in (("solved", "source"), ("unanswered", "release")):
        shutil.copytree(dest / folder / name, dest / "submitted" / student / name)
    _nbgrader(dest, "autograde", name, "--force")
    _nbgrader(dest, "generate_feedback", name, "--force")
    with Gradebook(f"sqlite:///{db}") as gb:
        return name, {s: (gb.find_submission(name, s).score, gb.find_submission(name, s).max_score)
                      for s in ("solved", "unanswered")}


def grade(dest: Path, names: list[str]) -> dict[str, dict[str, tuple[float, float]]]:
    """Release, autograde a solved and an unanswered submission of each assignment, write feedback.

    Each assignment is graded in a course folder of its own, ``dest/chNN`` (two at a time): the
    release, the two submissions, the autograded notebooks, the feedback and the gradebook.
    """
    from multiprocessing import Pool

    _with_venv_path()
    dest = dest.resolve()
    dest.mkdir(parents=True, exist_ok=True)
    with Pool(min(2, len(names))) as pool:
        return dict(pool.map(_grade_one, [(str(dest), name) for name in names]))


def _run_one(path_str: str) -> tuple[str, str | None, list[str], float]:
    """Execute one student notebook; return (name, error, exercises whose checker did not say "Not yet", s)."""
    import time

    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = Path(path_str)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=300, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as exc:
        return path.name, str(exc).splitlines()[-1][:300], [], time.perf_counter() - start
    return path.name, None, silent_exercises(nb), time.perf_counter() - start


def silent_exercises(nb) -> list[str]:
    """The exercises of an executed student notebook whose starter cell did not answer "Not yet".

    An exercise passes when its starter cell holds a live (not commented) checker call and the
    cell's output says "Not yet".
    """
    silent = []
    for ex in exercises_of_student(nb):
        cell = nb.cells[ex.starter_cell] if ex.starter_cell is not None else None
        live = cell is not None and any(CHECKER_CALL.search(line) and not line.lstrip().startswith("#")
                                        for line in cell.source.splitlines())
        text = "" if cell is None else "".join(
            o.get("text", "") + "".join(str(v) for v in o.get("data", {}).values()) for o in cell.outputs)
        if not live or "Not yet" not in text:
            silent.append(ex.label)
    return silent


def check_not_yet(folder: Path) -> int:
    """Check the stored outputs of executed student notebooks: every exercise answers "Not yet"."""
    n_ex = 0
    failed = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        n_ex += len(exercises_of_student(nb))
        failed += [f"{path.name}: {label}" for label in silent_exercises(nb)]
    print(f"{n_ex - len(failed)} of {n_ex} exercises answer 'Not yet' from a live checker call in their starter cell")
    for line in failed:
        print(f"  no live checker call answering 'Not yet': {line}")
    return 1 if failed or not n_ex else 0


def exercises_of_student(nb) -> list[Exercise]:
    """The exercises of a student notebook (no solutions): the exercise cell and its starter cell."""
    out: list[Exercise] = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and EXERCISE.search(cell.source):
            label = LABEL.search(cell.source[EXERCISE.search(cell.source).start():])
            out.append(Exercise(label.group(1) if label else f"cell {i}", i))
        elif out and cell.cell_type == "code" and out[-1].starter_cell is None and \
                "remove-cell" not in cell.metadata.get("tags", []) and i == out[-1].exercise_cell + 1:
            out[-1].starter_cell = i
    return out


def run_student(folder: Path, *, require_not_yet: bool = True) -> int:
    """Execute the student notebooks two at a time; fail on any error or a silent checker."""
    from multiprocessing import Pool

    paths = sorted(str(p) for p in folder.glob("*.ipynb"))
    with Pool(2) as pool:
        results = pool.map(_run_one, paths)
    failed = False
    n_ex = n_silent = 0
    for name, error, silent, seconds in results:
        n_ex += len(exercises_of_student(nbformat.read(folder / name, as_version=4)))
        n_silent += len(silent)
        status = f"ERROR {error}" if error else ("ok" if not silent else "checker silent for " + ", ".join(silent))
        print(f"  {name}: {status} ({seconds:.0f} s)")
        failed |= bool(error) or (require_not_yet and bool(silent))
    print(f"{len(paths)} student notebooks ran; {n_ex - n_silent} of {n_ex} exercises answered 'Not yet' "
          "from a live checker call in their starter cell")
    return 1 if failed else 0


TIMES_START, TIMES_END = "<!-- exercise-times:start -->", "<!-- exercise-times:end -->"
TEACHERS = ROOT / "book" / "teachers.md"


def solution_lines(ex: Exercise) -> int:
    """Lines of solution code, without blank lines, comments and the checker call."""
    return sum(1 for src in ex.solution_code for line in src.splitlines()
               if line.strip() and not line.lstrip().startswith("#") and not CHECKER_CALL.search(line))


def _seconds(cell) -> float:
    from datetime import datetime

    t = cell.metadata.get("execution", {})
    if "iopub.execute_input" not in t or "shell.execute_reply" not in t:
        return 0.0
    start, end = (datetime.fromisoformat(t[k].replace("Z", "+00:00"))
                  for k in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def _time_one(path_str: str) -> list[tuple[str, str, int, float]]:
    """Execute one chapter with its solutions; (chapter, label, solution lines, seconds) per exercise."""
    from nbclient import NotebookClient

    path = Path(path_str)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    rows = []
    for ex in exercises(nb):
        cells = [ex.starter_cell, *ex.solution_cells, ex.check_cell]
        seconds = sum(_seconds(nb.cells[i]) for i in cells if i is not None and nb.cells[i].cell_type == "code")
        rows.append((path.stem, ex.label, solution_lines(ex), seconds))
    return rows


def exercise_times() -> list[tuple[str, str, int, float]]:
    """Every exercise of the book, timed on a run of the chapters with their solutions (two at a time)."""
    from multiprocessing import Pool

    with Pool(2) as pool:
        return [row for rows in pool.map(_time_one, [str(p) for p in toc_notebooks()]) for row in rows]


def times_table(rows: list[tuple[str, str, int, float]]) -> str:
    """The Markdown table of :func:`exercise_times` for the teachers' page."""
    import platform

    lines = [f"Measured by `python tools/classroom.py timings` on {platform.machine()} with "
             f"{os.cpu_count()} cores: the seconds a solved exercise's cells take to run (its starter "
             "cell, the solution and the check), and the lines of code a solution has (without "
             "comments and the checker call).", "",
             "| exercise | chapter | solution lines | run time (s) |", "|---|---|---:|---:|"]
    lines += [f"| {{ref}}`{label}` | {chapter[:2]} | {n} | {sec:.1f} |" for chapter, label, n, sec in rows]
    return "\n".join(lines)


def write_times(table: str, page: Path = TEACHERS) -> None:
    """Put ``table`` between the exercise-times markers of the teachers' page."""
    text = page.read_text(encoding="utf-8")
    if TIMES_START not in text or TIMES_END not in text:
        raise ValueError(f"{page} has no {TIMES_START} ... {TIMES_END} block")
    head, rest = text.split(TIMES_START, 1)
    _, tail = rest.split(TIMES_END, 1)
    page.write_text(f"{head}{TIMES_START}\n{table}\n{TIMES_END}{tail}", encoding="utf-8")


def main(argv: list[str]) -> int:
    if argv and argv[0] == "timings" and set(argv[1:]) <= {"--write"}:
        table = times_table(exercise_times())
        print(table)
        if "--write" in argv:
            write_times(table)
        return 0
    if len(argv) in (2, 4) and argv[0] == "student" and (len(argv) == 2 or argv[2] == "--from"):
        source = Path(argv[3]) if len(argv) == 4 else None
        print(f"wrote {len(write_student(Path(argv[1]), source))} student notebooks to {argv[1]}")
        return 0
    if len(argv) == 2 and argv[0] == "nbgrader":
        names = write_course(Path(argv[1]))
        print(f"wrote the nbgrader course ({len(names)} assignments) to {argv[1]}")
        return 0
    if len(argv) in (2, 3) and argv[0] == "run-student":
        return run_student(Path(argv[1]), require_not_yet="--allow-silent" not in argv)
    if len(argv) == 2 and argv[0] == "check-not-yet":
        return check_not_yet(Path(argv[1]))
    if len(argv) >= 3 and argv[0] == "grade":
        scores = grade(Path(argv[1]), argv[2:])
        ok = True
        for name, by_student in scores.items():
            (s, m), (u, _) = by_student["solved"], by_student["unanswered"]
            print(f"{name}: solved submission {s:g}/{m:g}, unanswered release {u:g}/{m:g}")
            ok &= s == m and u == 0 and m > 0
        return 0 if ok else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
