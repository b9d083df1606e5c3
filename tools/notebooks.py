"""Execute the book's notebooks into the build's execution cache, on every core, and export them.

    python tools/notebooks.py execute          # run every notebook of _toc.yml not yet cached
    python tools/notebooks.py execute NB ...   # only these notebooks (if not yet cached)
    python tools/notebooks.py export DEST      # write the executed notebooks (with outputs) to DEST

``execute`` is the first of the two executions of ``make test``: it runs every cell (hidden
asserts included) of every notebook whose code changed, two notebooks at a time, into the same
jupyter-cache that ``jupyter-book build`` reads (``execute.cache`` in ``_config.yml``), so the
book build afterwards executes nothing. A notebook that raises fails the command with its
traceback. ``export`` writes those executed notebooks out; ``make test`` then re-executes them
under nbval, which checks that the second run gives the same outputs as the first.
"""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]


def config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


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


def toc_notebooks() -> list[Path]:
    """Every notebook listed in _toc.yml, in order."""
    return [ROOT / f"{f}.ipynb" for f in toc_files() if (ROOT / f"{f}.ipynb").exists()]


def cache():
    from jupyter_cache import get_cache

    return get_cache(str(ROOT / config()["execute"]["cache"]))


def execute(only: list[str] | None = None) -> int:
    from jupyter_cache.executors import load_executor

    c = cache()
    notebooks = toc_notebooks()
    if only:
        wanted = {Path(p).resolve() for p in only}
        unknown = wanted - {p.resolve() for p in notebooks}
        if unknown:
            print(f"not notebooks of _toc.yml: {sorted(map(str, unknown))}", file=sys.stderr)
            return 2
        notebooks = [p for p in notebooks if p.resolve() in wanted]
    todo = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        try:
            c.match_cache_notebook(nb)
        except KeyError:
            todo.append(path)
    print(f"{len(notebooks) - len(todo)} notebook(s) already cached, {len(todo)} to execute")
    if not todo:
        return 0
    # the longest notebooks first, so that the two workers finish together
    previous = {p: _last_runtime(c, p) for p in todo}
    todo.sort(key=lambda p: -(previous[p] or 60.0))
    records = [c.add_nb_to_project(str(p)) for p in todo]
    logging.basicConfig(level=logging.WARNING)
    executor = load_executor("local-parallel", c, logger=logging.getLogger("notebooks"))
    start = time.perf_counter()
    result = executor.run_and_cache(filter_pks=[r.pk for r in records],
                                    timeout=int(config()["execute"].get("timeout", 300)),
                                    allow_errors=False)
    wall = time.perf_counter() - start
    failed = list(result.excepted) + list(result.errored)
    for uri in result.succeeded:
        seconds = _last_runtime(c, Path(uri))
        print(f"  executed {Path(uri).relative_to(ROOT)} in {seconds:.1f} s" if seconds else f"  executed {uri}")
    print(f"{len(result.succeeded)} notebook(s) executed in {wall:.1f} s wall")
    for uri in failed:
        record = c.get_project_record(uri)
        print(f"\nFAILED: {Path(uri).relative_to(ROOT)}\n{record.traceback or '(no traceback recorded)'}",
              file=sys.stderr)
    return 1 if failed else 0


def _last_runtime(c, path: Path) -> float | None:
    try:
        record = c.match_cache_notebook(nbformat.read(path, as_version=4))
    except KeyError:
        return None
    return record.data.get("execution_seconds")


def export(dest: Path) -> int:
    c = cache()
    dest.mkdir(parents=True, exist_ok=True)
    missing = []
    for path in toc_notebooks():
        nb = nbformat.read(path, as_version=4)
        try:
            _, merged = c.merge_match_into_notebook(nb)
        except KeyError:
            missing.append(path)
            continue
        nbformat.write(merged, dest / path.name)
    if missing:
        print("not in the execution cache (run `execute` first): "
              + ", ".join(str(p.relative_to(ROOT)) for p in missing), file=sys.stderr)
        return 1
    print(f"exported {len(toc_notebooks())} executed notebook(s) to {dest}")
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["execute"]:
        return execute(argv[1:])
    if argv[:1] == ["export"] and len(argv) == 2:
        return export(Path(argv[1]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
