"""Automatic checks for the book's exercises.

Each check returns a :class:`Feedback`: truthy when the answer is right, and in every case a
message that says what is right or, when it is wrong, what is wrong and what was expected.
Generic checks live in :mod:`xai_tutorial.exercises.core`; each chapter's own checkers live in
``xai_tutorial.exercises.chNN``.
"""
from .core import Feedback, check_array, check_function, check_scalar, check_true

__all__ = ["Feedback", "check_array", "check_function", "check_scalar", "check_true"]
