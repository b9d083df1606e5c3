"""The Chinese edition: its configuration, its message catalogs, and the check that they are current.

Usage:
    python tools/translations.py config OUT.yml   write the jupyter-book config of the Chinese edition
    python tools/translations.py extract          English messages of every page -> _build/gettext/*.pot
    python tools/translations.py update           extract, then merge into locales/zh_CN/LC_MESSAGES/*.po
    python tools/translations.py check            extract, then fail if any message is untranslated or fuzzy
    python tools/translations.py stats            extract, then print the table of `check` and exit 0

The English notebooks and pages are the only source. Sphinx's gettext builder cuts every page into
messages (a paragraph, a heading, a list item, a caption, ...), one catalog per page
(``gettext_compact: false``); the translations live in ``locales/zh_CN/LC_MESSAGES/<dir>/<page>.po``
and the Chinese edition is the same book built with ``language: zh_CN`` from the same execution
cache, so nothing executes twice.

When the English of a message changes, its msgid no longer matches: ``update`` (sphinx-intl) keeps
the old translation marked *fuzzy*, new messages come in untranslated, and ``check`` fails with the
page and the counts until a translator has followed.
"""
from __future__ import annotations

import subprocess
import sys
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from student_config import absolute_paths

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = "zh_CN"
LOCALES = ROOT / "locales"
CATALOGS = LOCALES / LANGUAGE / "LC_MESSAGES"
POT_DIR = ROOT / "_build" / "gettext"
BIN = Path(sys.executable).parent


def zh_config(config: dict) -> dict:
    """Return a copy of a jupyter-book config dict set up for the Chinese edition."""
    cfg = absolute_paths(config)
    cfg["title"] = "注意力机制与可解释人工智能"
    sphinx_cfg = cfg.setdefault("sphinx", {}).setdefault("config", {})
    sphinx_cfg["language"] = LANGUAGE
    sphinx_cfg["edition"] = "zh"
    cfg.setdefault("latex", {}).setdefault("latex_documents", {})["title"] = cfg["title"]
    latex = sphinx_cfg.get("latex_elements", {})
    if "preamble" in latex:  # quotes and dashes are CJK punctuation in Chinese text
        latex["preamble"] = "\n".join(line for line in latex["preamble"].splitlines()
                                       if "DeclareCharClass" not in line) + "\n"
    return cfg


def _book_config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def write_config(out: Path, cfg: dict) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def extract() -> Path:
    """Run Sphinx's gettext builder over the book (from the execution cache) -> _build/gettext."""
    cfg = write_config(ROOT / "_build" / "gettext_config.yml", absolute_paths(_book_config()))
    out = ROOT / "_build" / "gettext_tmp"
    cmd = [str(BIN / "jupyter-book"), "build", str(ROOT), "--builder", "custom", "--custom-builder",
           "gettext", "--config", str(cfg), "--path-output", str(out), "--quiet"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"the gettext build failed ({done.returncode})")
    if POT_DIR.exists():
        subprocess.run(["rm", "-rf", str(POT_DIR)], check=True)
    (out / "_build" / "gettext").rename(POT_DIR)
    subprocess.run(["rm", "-rf", str(out)], check=True)
    return POT_DIR


def update() -> None:
    """Merge the current English messages into the catalogs (changed ones become fuzzy).

    A message with nothing to translate (only numbers, formulas, code or references, such as the
    cells of a table of timings) is filled with itself, so that re-measuring a number does not
    call for a translator.
    """
    from babel.messages.pofile import write_po

    subprocess.run([str(BIN / "sphinx-intl"), "update", "-p", str(POT_DIR), "-d", str(LOCALES),
                    "-l", LANGUAGE, "-w", "76"], check=True, stdout=subprocess.DEVNULL)
    for path in sorted(CATALOGS.rglob("*.po")):
        catalog, changed = _read(path), False
        for m in catalog:
            if m.id and not has_words(m.id) and (m.string != m.id or m.fuzzy):
                m.string, changed = m.id, True
                m.flags.discard("fuzzy")
        if changed:
            with open(path, "wb") as f:
                write_po(f, catalog, width=76)


def has_words(text: str) -> bool:
    """Whether a message holds words to translate, beyond roles, formulas, code, numbers and signs."""
    rest = _ROLE.sub(" ", text)
    rest = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", " ", rest, flags=re.S)
    return bool(re.search(r"[^\W\d_]{2,}", rest))


@dataclass
class PageStatus:
    page: str
    total: int
    untranslated: int
    fuzzy: int
    obsolete: int
    broken: list[str] = field(default_factory=list)  # msgids whose translation lost or changed a key

    @property
    def ok(self) -> bool:
        return self.untranslated == 0 and self.fuzzy == 0 and not self.broken


_ROLE = re.compile(r"\{([a-z][\w:-]*)\}`([^`]*)`")
_TARGETED = {"term", "ref", "numref", "doc"}  # roles whose shown text may be translated: keep the target


def markup_keys(text: str) -> Counter:
    """What a translation must keep exactly: role targets and keys, inline math, code spans, URLs.

    ``{term}`注意力 <Attention>``` and ``{term}`Attention``` have the same key (the target); a
    citation, glue key, equation label or code span must come back unchanged.
    """
    keys: Counter = Counter()
    for role, content in _ROLE.findall(text):
        if role in _TARGETED:
            m = re.search(r"<([^<>]+)>\s*$", content)
            content = m.group(1) if m else content
            if role == "numref":
                content = content.strip()
        keys[(role, content.strip())] += 1
    rest = _ROLE.sub(" ", text)
    for span in re.findall(r"(?<!\$)\$(?!\$)[^$]+?\$", rest):
        keys[("math", span)] += 1
    for span in re.findall(r"`[^`]+`", rest):
        keys[("code", span)] += 1
    for url in re.findall(r"\]\(([^)\s]+)\)", rest):
        keys[("url", url)] += 1
    return keys


def _read(path: Path):
    from babel.messages.pofile import read_po

    with open(path, "rb") as f:
        return read_po(f)


def status(pot_dir: Path = POT_DIR, catalogs: Path = CATALOGS) -> list[PageStatus]:
    """Compare every page's English messages (.pot) with its catalog (.po).

    A message is untranslated when the catalog lacks it or its msgstr is empty, fuzzy when the
    catalog has it marked fuzzy, and broken when its translation does not keep the message's
    :func:`markup_keys` (a citation, glue key, link target, formula or code span lost or changed).
    The catalog's own header does not count.
    """
    rows = []
    for pot in sorted(pot_dir.rglob("*.pot")):
        page = pot.relative_to(pot_dir).with_suffix("").as_posix()
        ids = [m.id for m in _read(pot) if m.id]
        po_path = catalogs / f"{page}.po"
        po = _read(po_path) if po_path.exists() else None
        untranslated = fuzzy = 0
        broken = []
        for msgid in ids:
            m = po.get(msgid) if po is not None else None
            if m is None or not m.string:
                untranslated += 1
            elif m.fuzzy:
                fuzzy += 1
            elif markup_keys(msgid) != markup_keys(m.string):
                broken.append(msgid)
        obsolete = len(po.obsolete) if po is not None else 0
        rows.append(PageStatus(page, len(ids), untranslated, fuzzy, obsolete, broken))
    return rows


def table(rows: list[PageStatus]) -> str:
    lines = [f"{'page':45s} {'messages':>8s} {'untranslated':>12s} {'fuzzy':>6s} {'broken':>6s}"]
    for r in rows:
        lines.append(f"{r.page:45s} {r.total:8d} {r.untranslated:12d} {r.fuzzy:6d} {len(r.broken):6d}")
    total = sum(r.total for r in rows)
    done = sum(r.total - r.untranslated - r.fuzzy - len(r.broken) for r in rows)
    lines.append(f"{'all pages':45s} {total:8d} {sum(r.untranslated for r in rows):12d} "
                 f"{sum(r.fuzzy for r in rows):6d} {sum(len(r.broken) for r in rows):6d}   "
                 f"({done}/{total} translated)")
    for r in rows:
        for msgid in r.broken[:5]:
            lines.append(f"  broken in {r.page}: {msgid[:100]!r}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1] not in {"config", "extract", "update", "check", "stats"}:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    cmd = argv[1]
    if cmd == "config":
        if len(argv) != 3:
            print("usage: python tools/translations.py config OUT.yml", file=sys.stderr)
            return 2
        print(f"wrote {write_config(Path(argv[2]), zh_config(_book_config()))}")
        return 0
    extract()
    if cmd == "extract":
        print(f"wrote the English messages to {POT_DIR}")
        return 0
    if cmd == "update":
        update()
    rows = status()
    print(table(rows))
    if cmd == "check" and not all(r.ok for r in rows):
        bad = [f"{r.page} ({r.untranslated} untranslated, {r.fuzzy} fuzzy, {len(r.broken)} broken)"
               for r in rows if not r.ok]
        print("Not translated yet: " + "; ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
