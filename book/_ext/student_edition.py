"""Sphinx extension: build a student edition of the book with every solution removed.

sphinx-exercise's own ``hide_solutions`` option fails on the gated syntax
(``solution-start``/``solution-end``) that the chapters use so that solution code is executed:
with it, the start directive returns nothing and the orphaned end node crashes the HTML writer
(sphinx-exercise 1.2.1). This transform instead runs right after sphinx-exercise has merged the
gated directives into solution nodes, and removes those nodes whole, code cells included.

Enable it with ``-D student_edition=1`` (see ``make book-student``).
"""
from __future__ import annotations

from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx_exercise.nodes import solution_node


class RemoveSolutions(SphinxTransform):
    """Remove every (merged) solution node from the document."""

    default_priority = 11  # after sphinx_exercise.transforms.MergeGatedSolutions (10)

    def apply(self, **kwargs) -> None:
        if not self.config.student_edition:
            return
        for node in list(self.document.findall(solution_node)):
            node.parent.remove(node)


def setup(app: Sphinx) -> dict:
    app.add_config_value("student_edition", False, "env", types=[bool, int, str])
    app.add_transform(RemoveSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
