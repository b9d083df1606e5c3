"""Automatic checks for the book's exercises.

Each check returns a :class:`Feedback`: truthy when the answer is right, and in every case a
message that says what is right or, when it is wrong, what is wrong and what was expected.
:mod:`xai_tutorial.exercises.core` holds the prologue every checker shares (reading the answer,
calling the learner's function) and the generic checks; each chapter's own checkers live in
``xai_tutorial.exercises.chNN``.
"""
from .core import (Feedback, NotYet, answer_array, answer_int, answer_number, call, check_array,
                   check_function, check_scalar, check_shape, check_true, checker, describe,
                   describe_exception, function_name, require, require_callable)

__all__ = ["Feedback", "NotYet", "answer_array", "answer_int", "answer_number", "call", "check_array",
           "check_function", "check_scalar", "check_shape", "check_true", "checker", "describe",
           "describe_exception", "function_name", "require", "require_callable"]
