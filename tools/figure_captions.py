"""Give every figure of the chapters a number and a caption in the book.

Usage: python tools/figure_captions.py [--check] [NOTEBOOK ...]

A code cell that draws exactly one figure (one ``plt.show()``, not inside a loop) and displays
nothing else (no table, no value as its last line) gets the
myst-nb cell metadata ``{"mystnb": {"figure": {"name": "fig-NN-k", "caption": ...}}}``, so the
book renders its output as a numbered figure ("Fig. 3.2") with a caption that can be referenced.
The caption is the figure's own title, which in this book states the finding: the last literal
string passed to ``suptitle`` or, failing that, to ``set_title``/``title``. A caption already set by
hand is kept. With --check, exit 1 if a notebook would change (the unit tests run this).

Every cell that draws figures also gets alt text for its images (``{"mystnb": {"image": {"alt":
...}}}``), for readers who cannot see them: the caption of a single figure, or the titles of all
the figures the cell draws. Where the titles are computed (f-strings with values), the alt text is
written by hand in that metadata and kept; the book tests require one on every figure. Sphinx
extracts alt text for translation like any caption.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def _literal(node: ast.AST) -> str | None:
    """The text of a string literal, or of an f-string with its fields shown as '…'."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append(str(v.value))
            else:
                return None  # a title built from numbers: no stable caption
        return "".join(parts)
    return None


def _shows(tree: ast.AST) -> tuple[int, bool]:
    """Number of ``plt.show()`` calls, and whether one sits inside a loop."""
    count, in_loop = 0, False

    def visit(node: ast.AST, loop: bool) -> None:
        nonlocal count, in_loop
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "show":
            count += 1
            in_loop = in_loop or loop
        for child in ast.iter_child_nodes(node):
            visit(child, loop or isinstance(node, (ast.For, ast.While, ast.comprehension,
                                                    ast.FunctionDef, ast.Lambda)))

    visit(tree, False)
    return count, in_loop


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
    return None


def _other_rich_output(tree: ast.Module) -> bool:
    """Whether the cell also displays something else (a table, a value): myst-nb would wrap it in
    the same figure, and the figure's name would be defined twice."""
    if any(_call_name(n) == "display" for n in ast.walk(tree)):
        return True
    last = tree.body[-1] if tree.body else None
    return isinstance(last, ast.Expr) and _call_name(last.value) not in ("show", "print", "tight_layout")


def _titles(tree: ast.AST) -> dict[str, list[str]]:
    titles: dict[str, list[str]] = {"suptitle": [], "title": []}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            text = _literal(node.args[0])
            if text is None:
                continue
            if node.func.attr == "suptitle":
                titles["suptitle"].append(text)
            elif node.func.attr in ("set_title", "title"):
                titles["title"].append(text)
    for node in ast.walk(tree):  # plotting helpers of the package: plot_...(..., title="...")
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in ("title", "suptitle") and (text := _literal(kw.value)) is not None:
                    titles["suptitle" if kw.arg == "suptitle" else "title"].append(text)
    return titles


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else text + "."


def alt_of(source: str) -> str | None:
    """Alt text for the images of a cell that draws figures: the titles of its figures, or None.

    The suptitles if there are any (a figure's suptitle states its finding), else the panel titles,
    in the order the code sets them.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    if _shows(tree)[0] == 0:
        return None
    titles = _titles(tree)
    chosen = titles["suptitle"] or titles["title"]
    return " ".join(_sentence(t) for t in chosen) if chosen else None


def caption_of(source: str) -> str | None:
    """The caption for a cell that draws one figure, or None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: leave the cell alone
        return None
    n_show, in_loop = _shows(tree)
    if n_show != 1 or in_loop or _other_rich_output(tree):
        return None
    titles = _titles(tree)
    chosen = titles["suptitle"] or titles["title"]
    return _sentence(chosen[-1]) if chosen else None


def _set_alt(cell: nbformat.NotebookNode, alt: str | None) -> bool:
    """Set the alt text of a cell's images; return whether it changed.

    With ``alt=None`` (titles built from computed values, which no static reading can give) an
    alt text written by hand is kept.
    """
    meta = cell.metadata.get("mystnb", {})
    image = dict(meta.get("image", {}))
    if alt is None or image.get("alt") == alt:
        return False
    image["alt"] = alt
    mystnb = cell.metadata.setdefault("mystnb", {})
    if image:
        mystnb["image"] = image
    else:
        mystnb.pop("image", None)
    if not mystnb:
        del cell.metadata["mystnb"]
    return True


def annotate(nb: nbformat.NotebookNode, chapter: str) -> bool:
    """Add figure metadata to the cells of one notebook; return whether anything changed."""
    changed, k = False, 0
    for cell in nb.cells:
        if cell.cell_type != "code" or "remove-cell" in cell.metadata.get("tags", []):
            continue
        caption = caption_of(cell.source)
        figure = cell.metadata.get("mystnb", {}).get("figure")
        if caption is None and figure is None:
            changed |= _set_alt(cell, alt_of(cell.source))
            continue
        if caption is None and figure.get("name", "").startswith("fig-"):  # no longer one figure
            del cell.metadata["mystnb"]["figure"]
            if not cell.metadata["mystnb"]:
                del cell.metadata["mystnb"]
            changed = True
            changed |= _set_alt(cell, alt_of(cell.source))
            continue
        k += 1
        want = {"name": f"fig-{chapter}-{k}", "caption": (figure or {}).get("caption") or caption}
        if figure != want:
            cell.metadata.setdefault("mystnb", {})["figure"] = want
            changed = True
        changed |= _set_alt(cell, " ".join(want["caption"].split()))
    return changed


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a) for a in argv if a != "--check"] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    stale = []
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if annotate(nb, path.name[:2]):
            stale.append(path.name)
            if not check:
                nbformat.write(nb, path)
    if check and stale:
        print(f"figure captions out of date in {stale}: run python tools/figure_captions.py", file=sys.stderr)
        return 1
    if not check:
        print(f"updated {stale}" if stale else "all figure captions up to date")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
