"""Where the built book is and which pages it must have, read from _toc.yml."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
STUDENT = ROOT / "_build" / "student"


def toc_files() -> list[str]:
    """Every file listed in _toc.yml (root first), without extension, e.g. 'notebooks/03_attention_math'."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def notebook_pages() -> list[str]:
    return [f for f in toc_files() if f.startswith("notebooks/")]


def source_of(page: str) -> Path:
    for ext in (".ipynb", ".md"):
        path = ROOT / f"{page}{ext}"
        if path.exists():
            return path
    raise FileNotFoundError(page)
