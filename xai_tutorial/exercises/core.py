"""Generic answer checks that explain what is wrong."""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Feedback:
    """The verdict on an answer: ``passed`` and a message for the learner.

    A Feedback is truthy exactly when the answer passed, so ``assert check_...(answer)`` works,
    and it displays as one line in a notebook.
    """

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return ("Correct: " if self.passed else "Not yet: ") + self.message

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        mark = "✅ **Correct**" if self.passed else "❌ **Not yet**"
        return f"{mark}: {self.message}"


def _describe(x: Any) -> str:
    arr = np.asarray(x) if not isinstance(x, (str, bytes)) else None
    if arr is None or arr.dtype == object:
        return f"a {type(x).__name__}"
    return f"an array of shape {arr.shape} and dtype {arr.dtype}" if arr.ndim else f"the number {arr.item()!r}"


def check_array(answer: Any, expected: Any, *, name: str = "your answer", rtol: float = 1e-5,
                atol: float = 1e-8) -> Feedback:
    """Check a numeric array against the expected one: kind, shape, NaNs, then values.

    Parameters
    ----------
    answer, expected : array-like
    name : str
        How the message refers to the answer.
    rtol, atol : float
        Tolerances of :func:`numpy.allclose`.
    """
    if answer is None:
        return Feedback(False, f"{name} is None: did the function forget to `return` its result?")
    try:
        a = np.asarray(answer, dtype=np.float64)
    except (TypeError, ValueError):
        return Feedback(False, f"{name} must be numeric, got {_describe(answer)}")
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        hint = ""
        if a.ndim >= 2 and a.shape == e.shape[::-1]:
            hint = " (transposed?)"
        elif a.size == e.size:
            hint = " (same number of entries: a transpose or reshape may be missing)"
        return Feedback(False, f"{name} has shape {a.shape}, expected {e.shape}{hint}")
    if np.isnan(a).any() and not np.isnan(e).any():
        return Feedback(False, f"{name} contains {int(np.isnan(a).sum())} NaN value(s); "
                               "look for a division by zero or a log of 0")
    close = np.isclose(a, e, rtol=rtol, atol=atol)
    if close.all():
        return Feedback(True, f"{name} matches the expected values (shape {e.shape}).")
    worst = np.unravel_index(np.argmax(np.where(close, 0, np.abs(a - e))), a.shape) if a.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if a.ndim else ""
    return Feedback(False, f"{int((~close).sum())} of {close.size} value(s) of {name} differ; the largest "
                           f"difference is{where}: got {a[worst]:.6g}, expected {e[worst]:.6g}")


def check_scalar(answer: Any, expected: float, *, name: str = "your answer", tol: float = 1e-6) -> Feedback:
    """Check one number against the expected one within an absolute tolerance ``tol``."""
    try:
        value = float(np.asarray(answer).item()) if np.size(answer) == 1 else None
    except (TypeError, ValueError):
        value = None
    if value is None:
        return Feedback(False, f"{name} must be a single number, got {_describe(answer)}")
    if abs(value - expected) <= tol:
        return Feedback(True, f"{name} = {value:.6g}, as expected.")
    direction = "too large" if value > expected else "too small"
    return Feedback(False, f"{name} = {value:.6g} is {direction}; expected {expected:.6g} (±{tol:g})")


def check_true(condition: bool, success: str, failure: str) -> Feedback:
    """Wrap a condition computed by a chapter checker into a Feedback with both messages."""
    return Feedback(bool(condition), success if condition else failure)


def check_function(fn: Callable, reference: Callable, cases: Sequence[tuple], *,
                   name: str | None = None, rtol: float = 1e-5, atol: float = 1e-8) -> Feedback:
    """Call a learner's function and a reference on the same arguments and compare the results.

    Parameters
    ----------
    fn : callable
        The learner's function.
    reference : callable
        A correct implementation.
    cases : sequence of tuples
        Positional arguments of each test call; the first failing case is reported.
    """
    if not callable(fn):
        return Feedback(False, f"expected a function, got {_describe(fn)}")
    label = name or getattr(fn, "__name__", "your function")
    for i, args in enumerate(cases):
        # each function gets its own copy, so an answer that changes its inputs in place is judged
        # on what it returns and cannot change what the reference sees
        expected = reference(*copy.deepcopy(args))
        try:
            got = fn(*copy.deepcopy(args))
        except Exception as exc:  # the learner's code may raise anything
            return Feedback(False, f"{label} raised {type(exc).__name__}: {exc} on test case {i + 1}")
        res = check_array(got, expected, name=f"the result of {label} on test case {i + 1}",
                          rtol=rtol, atol=atol)
        if not res:
            return res
    return Feedback(True, f"{label} agrees with the reference on all {len(cases)} test cases.")
