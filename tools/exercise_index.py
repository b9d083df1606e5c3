"""Write book/exercises.md: every exercise of the book, by chapter, linked to where it stands.

Usage: python tools/exercise_index.py [--check]

With --check, exit 1 if book/exercises.md is not what this script would write (the unit tests
run this check, so the list cannot drift from the chapters).
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "exercises.md"
EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise(?:-start)?\}[ \t]*(?P<title>[^\n]*)\n(?P<opts>(?::[^\n]*\n)*)",
                      re.MULTILINE)


@dataclass(frozen=True)
class Exercise:
    chapter: str  # docname, e.g. notebooks/03_attention_math
    chapter_title: str
    label: str
    title: str
    has_solution: bool
    checkers: tuple[str, ...] = ()


def chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])
            if c["file"].startswith("notebooks/")]


def exercises_of(docname: str) -> list[Exercise]:
    nb = nbformat.read(ROOT / f"{docname}.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    title_match = re.search(r"^# (.+)$", markdown, re.MULTILINE)
    title = title_match.group(1).strip() if title_match else docname
    # the checkers called in the code cells of each (gated) solution
    checkers: dict[str, list[str]] = {}
    current = None
    for cell in nb.cells:
        start = (re.search(r"\{solution(?:-start)?\}[ \t]*([\w-]+)", cell.source)
                 if cell.cell_type == "markdown" else None)
        if start:
            current = start.group(1)
            checkers.setdefault(current, [])
        elif cell.cell_type == "markdown" and "{solution-end}" in cell.source:
            current = None
        elif current and cell.cell_type == "code":
            for name in re.findall(r"\b(ch\d\d\.check_\w+)\(", cell.source):
                if name not in checkers[current]:
                    checkers[current].append(name)
    out = []
    for m in EXERCISE.finditer(markdown):
        label = re.search(r"^:label:[ \t]*(\S+)", m.group("opts"), re.MULTILINE)
        if label is None:
            raise ValueError(f"{docname}: exercise '{m.group('title')}' has no :label:")
        key = label.group(1)
        out.append(Exercise(docname, title, key, m.group("title").strip(), key in checkers,
                            tuple(checkers.get(key, ()))))
    return out


def render() -> str:
    lines = [
        "# Exercises by chapter",
        "",
        "Every exercise of the book, for teachers planning a session. Each one has a hidden solution",
        "that runs when the book is built, and the automatic check listed here: a learner calls it on",
        "their own answer (`from xai_tutorial.exercises import ch03`, then `ch03.check_...(answer)`)",
        "and it says what is right or what is wrong. The list is generated from the chapters by",
        "`tools/exercise_index.py`; a unit test fails if it falls out of date.",
        "",
    ]
    for docname in chapters():
        items = exercises_of(docname)
        if not items:
            continue
        lines += [f"## {{doc}}`/{docname}`", "", "| exercise | automatic check |", "|---|---|"]
        for ex in items:
            check = ", ".join(f"`{c}`" for c in ex.checkers) or "none"
            lines.append(f"| {{ref}}`{ex.title or ex.label} <{ex.label}>` | {check} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print(f"{OUT.relative_to(ROOT)} is out of date: run python tools/exercise_index.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
