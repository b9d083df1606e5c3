"""Sphinx extension: every page of each edition links to the same page in the other edition.

The English edition is built into ``_build/html`` and the Chinese one into ``_build/zh``; the
two folders are siblings wherever the book is served, so the link from
``html/notebooks/03_attention_math.html`` to ``zh/notebooks/03_attention_math.html`` is relative
and works offline. ``edition`` (``"en"``, ``"zh"``, or ``""`` for a build without links, such as
the student edition) says which edition is being built.
"""
from __future__ import annotations

from html import escape

from sphinx.application import Sphinx

# edition -> (folder of its HTML next to the other edition's, its language tag, the link's text)
EDITIONS = {
    "en": ("html", "en", "English edition"),
    "zh": ("zh", "zh-CN", "中文版"),
}


def edition_link(pagename: str, this: str) -> str:
    """HTML of the link from page ``pagename`` of edition ``this`` to the same page of the other."""
    other = "zh" if this == "en" else "en"
    folder, lang, text = EDITIONS[other]
    up = "../" * (pagename.count("/") + 1)
    href = f"{up}{folder}/{pagename}.html"
    label = "Read this page in Chinese" if this == "en" else "阅读本页的英文版"
    return (f'<p class="edition-switch"><a href="{escape(href)}" hreflang="{lang}" lang="{lang}" '
            f'title="{escape(label)}">{escape(text)}</a></p>\n')


def add_edition_link(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    this = app.config.edition
    if this not in EDITIONS or doctree is None or "body" not in context:
        return
    context["body"] = edition_link(pagename, this) + context["body"]


def setup(app: Sphinx) -> dict:
    app.add_config_value("edition", "en", "html")
    app.connect("html-page-context", add_edition_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
