"""Where the built book is and which pages it must have, read from _toc.yml."""
from __future__ import annotations

from pathlib import Path

import sys

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
STUDENT = ROOT / "_build" / "student"
ZH = ROOT / "_build" / "zh"
# edition -> the folder of its HTML (the Chinese edition is built from the same sources by
# `make book-zh`, tools/translations.py)
EDITIONS = {"en": HTML, "zh": ZH}

sys.path.insert(0, str(ROOT / "tools"))
from notebooks import toc_files  # noqa: E402  (one reading of _toc.yml, shared with the tools)


def notebook_pages() -> list[str]:
    return [f for f in toc_files() if f.startswith("notebooks/")]


def source_of(page: str) -> Path:
    for ext in (".ipynb", ".md"):
        path = ROOT / f"{page}{ext}"
        if path.exists():
            return path
    raise FileNotFoundError(page)
