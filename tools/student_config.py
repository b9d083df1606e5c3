"""Write the configuration of the student edition: the book's _config.yml with solutions removed.

Usage: python tools/student_config.py OUT.yml

The student edition shares the execution cache of the full book (so nothing runs twice) and
turns on the ``student_edition`` option of book/_ext/student_edition.py, which removes every
solution, code included.
"""
from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def absolute_paths(config: dict) -> dict:
    """Return a deep copy of a jupyter-book config dict whose paths work from any folder.

    The execution cache, the bibliography and the local extensions are made absolute, so that a
    variant of the config written under ``_build/`` builds the same book from the same cache.
    """
    cfg = yaml.safe_load(yaml.safe_dump(config))  # deep copy
    cfg["execute"]["cache"] = str(ROOT / cfg["execute"].get("cache", "_build/.jupyter_cache"))
    cfg["bibtex_bibfiles"] = [str(ROOT / b) for b in cfg.get("bibtex_bibfiles", [])]
    exts = cfg.setdefault("sphinx", {}).get("local_extensions", {})
    cfg["sphinx"]["local_extensions"] = {k: str(ROOT / v) for k, v in exts.items()}
    return cfg


def student_config(config: dict) -> dict:
    """Return a copy of a jupyter-book config dict set up for the student edition."""
    cfg = absolute_paths(config)
    cfg["title"] = f"{cfg.get('title', 'Book')} (student edition)"
    sphinx_cfg = cfg["sphinx"].setdefault("config", {})
    sphinx_cfg["student_edition"] = True
    sphinx_cfg["edition"] = ""  # no link to the Chinese edition, which has the solutions
    return cfg


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.parent.mkdir(parents=True, exist_ok=True)
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    out.write_text(yaml.safe_dump(student_config(config), sort_keys=False), encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
