"""Sphinx extension: keep the rendered pages free of browser console errors and accessible, offline.

* jupyter-book 1.0.4 with sphinx-book-theme 1.x registers sphinx-thebe's inline configuration
  script twice, so every page declares ``const THEBE_JS_URL`` twice and the browser reports a
  SyntaxError. The book has no live-kernel buttons (it must work offline), so the thebe scripts,
  which would also point at a CDN, are dropped from every page.
* docutils marks the entries of a bibliography with the deprecated ARIA role ``doc-biblioentry``
  inside a ``role="list"``, which screen readers then read as an empty list (axe-core's critical
  "aria-required-children"); the entries become list items.
"""
from __future__ import annotations

from sphinx.application import Sphinx

# docutils writes a bibliography as <div role="list"> whose entries have the deprecated ARIA role
# doc-biblioentry; a list must contain list items (axe-core: aria-required-children, critical)
_BIBLIOENTRY = ('role="doc-biblioentry"', 'role="listitem"')


def _is_thebe(script) -> bool:
    filename = getattr(script, "filename", None) or ""
    body = getattr(script, "attributes", {}).get("body", "") or ""
    return "thebe" in filename or "THEBE_JS_URL" in body


def drop_thebe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def accessible_bibliography(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if "body" in context and _BIBLIOENTRY[0] in context["body"]:
        context["body"] = context["body"].replace(*_BIBLIOENTRY)


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", drop_thebe_scripts, priority=900)
    app.connect("html-page-context", accessible_bibliography, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
