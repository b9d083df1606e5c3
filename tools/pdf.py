"""The PDF of each edition, through jupyter-book's LaTeX route with XeLaTeX.

Usage:
    python tools/pdf.py                    the whole book, English and Chinese -> _build/pdf/
    python tools/pdf.py --chapter PAGE     the front page and one chapter (e.g. notebooks/03_attention_math)

Both editions are built from the execution cache (nothing executes). XeLaTeX needs Debian's
texlive-xetex, texlive-latex-extra, texlive-fonts-recommended, texlive-lang-chinese, latexmk,
fonts-freefont-otf and fonts-noto-cjk (`.ci/run` installs them); the Chinese text is set in Noto
CJK through xeCJK (``latex_elements`` in ``_config.yml``). Each PDF is written with its LaTeX log
and a manifest of the pages it holds (``_build/pdf/manifest.json``), which the tests of
``tests/book/test_pdf.py`` read: every chapter and every figure is there and no glyph is missing.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from student_config import absolute_paths
from translations import zh_config, write_config

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "pdf"
BIN = Path(sys.executable).parent
TARGET = "attention-xai"


def _toc_with_one_chapter(toc: dict, page: str) -> dict:
    """The table of contents cut down to its root page and the part that holds ``page``."""
    for part in toc.get("parts", []):
        chapters = [c for c in part.get("chapters", []) if c.get("file") == page]
        if chapters:
            return {"format": toc["format"], "root": toc["root"],
                    "parts": [{**{k: v for k, v in part.items() if k != "chapters"}, "chapters": chapters}]}
    raise SystemExit(f"{page} is not a chapter of _toc.yml")


def _pages(toc: dict) -> list[str]:
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [c["file"] for c in part.get("chapters", [])]
    return pages


def build(edition: str, chapter: str | None) -> dict:
    book = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    cfg = zh_config(book) if edition == "zh" else absolute_paths(book)
    config = write_config(ROOT / "_build" / f"pdf_{edition}_config.yml", cfg)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    cmd = [str(BIN / "jupyter-book"), "build", str(ROOT), "--builder", "pdflatex", "--config", str(config)]
    if chapter:
        toc = _toc_with_one_chapter(toc, chapter)
        toc_path = ROOT / "_build" / f"pdf_{edition}_toc.yml"
        toc_path.write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        cmd += ["--toc", str(toc_path)]
    tmp = ROOT / "_build" / f"pdf_{edition}_tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(cmd + ["--path-output", str(tmp)], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    latex = tmp / "_build" / "latex"
    OUT.mkdir(parents=True, exist_ok=True)
    if (latex / f"{TARGET}.log").exists():
        shutil.copy(latex / f"{TARGET}.log", OUT / f"{TARGET}-{edition}.log")
    if done.returncode != 0 or not (latex / f"{TARGET}.pdf").exists():
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"the {edition} PDF failed: see {OUT / f'{TARGET}-{edition}.log'}")
    pdf = OUT / f"{TARGET}-{edition}.pdf"
    shutil.copy(latex / f"{TARGET}.pdf", pdf)
    shutil.rmtree(tmp, ignore_errors=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return {"pdf": pdf.name, "pages": pages, "seconds": round(seconds, 1), "book_pages": _pages(toc)}


def main(argv: list[str]) -> int:
    chapter = None
    if argv[:1] == ["--chapter"] and len(argv) == 2:
        chapter = argv[1]
    elif argv:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    shutil.rmtree(OUT, ignore_errors=True)
    manifest = {edition: build(edition, chapter) for edition in ("en", "zh")}
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    for edition, m in manifest.items():
        print(f"{edition}: {OUT.relative_to(ROOT) / m['pdf']}, {m['pages']} pages, {m['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
