"""Benchmark of the book: every notebook in a fresh kernel, integrated gradients, and rebuilds.

Usage: python tools/bench.py [--skip-rebuild] [--only-rebuild] [NOTEBOOK ...]
       python tools/bench.py --fresh-test      (only the fresh-clone `make test`, see 4.)

Writes _build/bench.md and prints it:
1. each notebook's wall seconds and peak kernel memory (RSS of the kernel process and its children,
   sampled every 50 ms), executed with nbclient in a fresh kernel, against the budget (60 s, 2 GiB);
2. integrated gradients for a batch of 32 inputs at 64 steps: one batched computation against a
   step-by-step loop (one gradient call per step);
3. a full build of the book from an empty execution cache, a second build (which should execute no
   notebook) and a build after editing one notebook (which should execute only that one), in a
   temporary copy of the book;
4. with ``--fresh-test``: ``make test`` in a fresh clone of the repository's HEAD (a new virtual
   environment installed from the warm package cache, an empty execution cache), with the time of
   each of its steps, as CI runs it. ``CI`` is unset, so a missing browser skips instead of failing.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "bench.md"
BUDGET_S, BUDGET_MB = 60.0, 2048.0
os.environ.setdefault("XAI_TUTORIAL_STATIC", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_notebook(path: Path) -> tuple[float, float, str]:
    """Execute one notebook in a fresh kernel; return (wall seconds, peak MiB, status)."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            km = client.km
            pid = None
            if km is not None:
                prov = getattr(km, "provisioner", None)
                proc = getattr(prov, "process", None) if prov is not None else None
                pid = getattr(proc, "pid", None)
            if pid:
                peak[0] = max(peak[0], _tree_rss(pid))
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    status = "ok"
    sampler.start()
    try:
        client.execute()
    except Exception as exc:  # report, do not stop the benchmark
        status = f"failed: {type(exc).__name__}"
    finally:
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
    return wall, peak[0] / 2**20, status


def bench_integrated_gradients(batch: int = 32, steps: int = 64, repeats: int = 3) -> list[str]:
    """Batched IG against a loop with one gradient call per step, on the chapter-6 text model."""
    import numpy as np

    import xai_tutorial  # noqa: F401
    from xai_tutorial import data, gradient_attribution, models, reproducibility

    reproducibility.set_seed(0)
    text = data.make_planted_text(256, 20, seed=0)
    clf = models.build_text_attention_classifier(len(text.vocab), text.seq_len, seed=0)
    models.train_text_classifier(clf, text.token_ids, text.labels, epochs=1)
    ids = text.token_ids[:batch]
    emb = clf.embed(ids).numpy()
    mask = (ids != 0).astype("float32")

    def batched():
        return gradient_attribution.integrated_gradients(clf.head, emb, steps=steps, aux=[mask])

    def loop():  # the textbook implementation: one gradient call per point of the path
        alphas = np.linspace(0.0, 1.0, steps + 1)
        grads = [gradient_attribution.gradients(clf.head, a * emb, aux=[mask]) for a in alphas]
        w = np.full(steps + 1, 1.0 / steps)
        w[[0, -1]] /= 2
        return emb * np.tensordot(w, np.stack(grads), axes=1)

    def best(fn):
        fn()  # warm-up (tracing)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return min(times)

    np.testing.assert_allclose(batched(), loop(), rtol=1e-4, atol=1e-6)
    t_batched, t_loop = best(batched), best(loop)
    gap = gradient_attribution.completeness_gap(clf.head, emb, batched(), aux=[mask]).max()
    return [
        f"| batched (one computation, {batch * (steps + 1)} rows) | {t_batched * 1000:.1f} ms |",
        f"| step-by-step loop ({steps + 1} gradient calls) | {t_loop * 1000:.1f} ms |",
        f"| speed-up | {t_loop / t_batched:.1f}x |",
        f"| max relative completeness gap (trapezoid, {steps} steps) | {gap:.2e} |",
    ]


def _jb_build(src: Path) -> tuple[float, int, str]:
    t = time.perf_counter()
    # run inside the copy: myst-nb resolves the execution cache path against the working directory
    proc = subprocess.run([str(Path(sys.executable).parent / "jupyter-book"), "build", "."],
                          capture_output=True, text=True, cwd=src)
    wall = time.perf_counter() - t
    log = proc.stdout + proc.stderr
    executed = len(re.findall(r"Executed notebook in", log))
    status = "ok" if proc.returncode == 0 else f"failed (exit {proc.returncode})"
    return wall, executed, status


def bench_rebuilds(edit: str) -> list[str]:
    """Full build, cached rebuild and rebuild after editing one notebook, in a temporary copy."""
    import nbformat

    rows = []
    with tempfile.TemporaryDirectory(prefix="book-bench-") as tmp:
        src = Path(tmp) / "book"
        src.mkdir()
        for name in ("_config.yml", "_toc.yml", "references.bib"):
            shutil.copy(ROOT / name, src / name)
        for name in ("book", "notebooks"):
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        for label in ("full build (empty cache)", "second build (cache warm)"):
            wall, n, status = _jb_build(src)
            rows.append(f"| {label} | {wall:.1f} | {n} | {status} |")
        nb_path = src / "notebooks" / edit
        nb = nbformat.read(nb_path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        code[-1].source += "\n# edited by the benchmark"
        nbformat.write(nb, nb_path)
        wall, n, status = _jb_build(src)
        rows.append(f"| after editing {edit} | {wall:.1f} | {n} | {status} |")
    return rows


def bench_fresh_test() -> list[str]:
    """`make test` in a fresh clone of HEAD; the wall time of each step and of the whole."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="book-fresh-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV")}
        start = time.perf_counter()
        proc = subprocess.Popen(["make", "test"], cwd=clone, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        step, step_start, log = "install (venv, pip from the cache)", start, []
        markers = [("ruff check", "lint"), ("--doctest-modules", "unit tests, checker tests, wheel, doctests"),
                   ("tools/notebooks.py execute", "execution 1 (every cell, two notebooks at a time)"),
                   ("jupyter-book build . ", "book build (from the cache)"),
                   ("student_config.py", "student edition"),
                   ("translations.py config", "Chinese edition (from the cache)"),
                   ("translations.py check", "translation check (gettext extraction)"),
                   ("tools/pdf.py", "PDF of one chapter, both editions (XeLaTeX)"),
                   ("tools/notebooks.py export", "execution 2 (student notebooks under nbval: same outputs)"),
                   ("classroom.py grade", "nbgrader: autograde two chapters"),
                   ('-m "book or browser"', "built-book, PDF, browser and accessibility tests, both editions")]
        current = -1  # the steps come in this order; a later match of an earlier marker is not a new step
        for line in proc.stdout:
            log.append(line)
            for k, (marker, name) in enumerate(markers):
                if k > current and line.startswith(".venv/bin/") and marker in line:
                    now = time.perf_counter()
                    rows.append(f"| {step} | {now - step_start:.0f} |")
                    step, step_start, current = name, now, k
                    break
        code = proc.wait()
        end = time.perf_counter()
        rows.append(f"| {step} | {end - step_start:.0f} |")
        rows.append(f"| **total** ({'passed' if code == 0 else f'FAILED, exit {code}'}) | {end - start:.0f} |")
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.with_name("bench_fresh_test.log").write_text("".join(log), encoding="utf-8")
        if code:
            print("".join(log[-60:]), file=sys.stderr)
    return rows


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebooks to time (default: all)")
    parser.add_argument("--skip-rebuild", action="store_true", help="skip the three book builds")
    parser.add_argument("--only-rebuild", action="store_true", help="only the three book builds")
    parser.add_argument("--fresh-test", action="store_true", help="only `make test` in a fresh clone")
    args = parser.parse_args(argv)
    if args.fresh_test:
        lines = ["# Benchmark: `make test` in a fresh clone", "",
                 f"Machine: {os.cpu_count()} CPU cores; Python {sys.version.split()[0]}.", "",
                 "| step | wall s |", "|---|---:|", *bench_fresh_test(), ""]
        out = OUT.with_name("bench_fresh_test.md")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("\n".join(lines))
        return 0
    paths = [Path(p).resolve() for p in args.notebooks] or sorted((ROOT / "notebooks").glob("*.ipynb"))

    lines = ["# Benchmark", "", f"Machine: {os.cpu_count()} CPU cores; Python {sys.version.split()[0]}.", "",
             "## Notebooks (fresh kernel each)", "",
             "| notebook | wall s | peak kernel MiB | status | within budget (60 s, 2 GiB) |",
             "|---|---:|---:|---|---|"]
    total = 0.0
    for path in [] if args.only_rebuild else paths:
        wall, mib, status = run_notebook(path)
        total += wall
        ok = "yes" if wall <= BUDGET_S and mib <= BUDGET_MB and status == "ok" else "NO"
        lines.append(f"| {path.name} | {wall:.1f} | {mib:.0f} | {status} | {ok} |")
        print(lines[-1], flush=True)
    lines += [f"| **total** | {total:.1f} | | | |", "", "## Integrated gradients: batch of 32, 64 steps", "",
              "| what | value |", "|---|---:|",
              *([] if args.only_rebuild else bench_integrated_gradients()), ""]
    if not args.skip_rebuild:
        edit = paths[0].name
        lines += ["## Book builds (temporary copy, `jupyter-book build`)", "",
                  "| build | wall s | notebooks executed | status |", "|---|---:|---:|---|",
                  *bench_rebuilds(edit), ""]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    print(f"\nwritten to {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
