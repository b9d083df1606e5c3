"""Sphinx extension: keep the rendered pages free of browser console errors, offline.

* jupyter-book 1.0.4 with sphinx-book-theme 1.x registers sphinx-thebe's inline configuration
  script twice, so every page declares ``const THEBE_JS_URL`` twice and the browser reports a
  SyntaxError. The book has no live-kernel buttons (it must work offline), so the thebe scripts,
  which would also point at a CDN, are dropped from every page.
"""
from __future__ import annotations

from sphinx.application import Sphinx


def _is_thebe(script) -> bool:
    filename = getattr(script, "filename", None) or ""
    body = getattr(script, "attributes", {}).get("body", "") or ""
    return "thebe" in filename or "THEBE_JS_URL" in body


def drop_thebe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = [s for s in context["script_files"] if not _is_thebe(s)]


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", drop_thebe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
