"""Sphinx extension: decide what the Chinese edition translates, where Sphinx's gettext gets it wrong.

* **Code output stays English.** A cell's Markdown output (a checker's "Not yet", a table) is parsed
  into paragraphs that gettext would extract like prose; they are output of the code, which both
  editions show as it ran. Every text node inside a cell output is marked untranslatable, except
  the figure captions (and images' alt text), which the book writes in the cell's metadata.

* **Numbers in translated text.** Sphinx re-parses each translated paragraph as a small document
  of its own, which lacks the notebook's glue data, so ``{glue:text}`key``` in a translation would
  find nothing. For those small documents myst-nb's lookup falls back to the glue data that it
  wrote for the page being read (``<page>.glue.json`` in its output folder).
* **Exercise titles.** sphinx-exercise builds the title of ```{exercise} Title``` as a node without
  a source, which Sphinx skips as a "built-in message", and rebuilds it after reading. A transform
  that runs before Sphinx's own (priority 20) puts the title's text into one inline node with a
  source, which survives the rebuild, so that it is extracted into the page's catalog and
  translated like any paragraph; the copy of each exercise from which sphinx-exercise titles its
  solution is refreshed after translation.
* **Part captions of the table of contents.** sphinx-external-toc inserts the toctrees of
  ``_toc.yml`` into the root page at priority 100, after Sphinx has translated the page, so the
  captions ("Part I: Foundations") stay English although the gettext builder extracts them. A
  transform that runs after the insertion translates them from the root page's catalog.
"""
from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from docutils.utils import get_source_line
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.util.i18n import docname_to_domain

try:
    from sphinx_exercise.nodes import exercise_subtitle
except ImportError:  # pragma: no cover - sphinx-exercise is in requirements.txt
    exercise_subtitle = None


def _page_glue(env) -> dict:
    """The glue data of the page being read, as myst-nb wrote it to its output folder."""
    path = Path(env.mystnb_config.output_folder, *env.docname.split("/"))
    path = path.with_name(path.name + ".glue.json")
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _with_page_glue(retrieve):
    """myst-nb's glue lookup, falling back to the glue data of the page being read."""
    from myst_nb.core.variables import VariableOutput
    from myst_nb.ext.glue.utils import RetrievalError

    def retrieve_glue_data(document, key):
        try:
            return retrieve(document, key)
        except RetrievalError:
            env = getattr(document.settings, "env", None)
            if env is None or "nb_renderer" in document or not document.current_source.endswith("<translated>"):
                raise
            glue = _page_glue(env)
            if key not in glue:
                raise
            return VariableOutput(data=glue[key]["data"], metadata=glue[key].get("metadata", {}),
                                  nb_renderer=None, vtype="glue")

    retrieve_glue_data.wrapped = retrieve
    return retrieve_glue_data


def _patch_glue_lookup() -> None:
    from myst_nb.ext.glue import directives, roles

    for module in (roles, directives):
        if not hasattr(module.retrieve_glue_data, "wrapped"):
            module.retrieve_glue_data = _with_page_glue(module.retrieve_glue_data)


class UntranslatedCellOutputs(SphinxTransform):
    default_priority = 10  # before sphinx.transforms.i18n.Locale (20) and before extraction

    def apply(self, **kwargs) -> None:
        for output in self.document.findall(nodes.container):
            if "cell_output" not in output.get("classes", []):
                continue
            for node in output.findall(nodes.TextElement):
                if not any(isinstance(a, nodes.caption) for a in _self_and_ancestors(node, output)):
                    node["translatable"] = False


def _self_and_ancestors(node, stop):
    while node is not None and node is not stop:
        yield node
        node = node.parent


class TranslatableExerciseTitles(SphinxTransform):
    default_priority = 10  # before sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        if exercise_subtitle is None:
            return
        for node in list(self.document.findall(exercise_subtitle)):
            source, line = get_source_line(node.parent)
            # sphinx-exercise later rebuilds the title from the subtitle's children (a post-transform),
            # so the text goes into one inline node that is carried over, with a source to extract
            inline = nodes.inline(node.astext(), "", *node.children, translatable=True)
            inline.source, inline.line = source or self.document["source"], line or 1
            node.children = []
            node += inline


class TranslatedExerciseRegistry(SphinxTransform):
    """sphinx-exercise titles each solution after its exercise from a copy of the exercise node
    that it keeps from before translation; after Sphinx's translation, refresh that copy."""

    default_priority = 21  # after sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        registry = getattr(self.env, "sphinx_exercise_registry", None)
        if not registry or not self.config.language or self.config.language == "en":
            return
        from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node

        for node in list(self.document.findall(lambda n: isinstance(n, (exercise_node, exercise_enumerable_node)))):
            entry = registry.get(node.get("label"))
            if entry is not None and entry.get("docname") == self.env.docname:
                entry["node"] = node.deepcopy()


class TranslatedTocCaptions(SphinxTransform):
    default_priority = 110  # after sphinx_external_toc's InsertToctrees (100)

    def apply(self, **kwargs) -> None:
        if not self.config.language or self.config.language == "en":
            return
        toctrees = [t for t in self.document.findall(addnodes.toctree) if t.get("caption")]
        if not toctrees:
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [str(Path(self.env.srcdir) / d) for d in self.config.locale_dirs]
        catalog, found = init_locale(dirs, self.config.language, domain)
        if not found:
            return
        for toctree in toctrees:
            toctree["caption"] = catalog.gettext(toctree["caption"])


def setup(app: Sphinx) -> dict:
    _patch_glue_lookup()
    app.add_transform(UntranslatedCellOutputs)
    app.add_transform(TranslatableExerciseTitles)
    app.add_transform(TranslatedExerciseRegistry)
    app.add_transform(TranslatedTocCaptions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
