"""The prologue every exercise checker shares, and generic checks that explain what is wrong.

A checker gets the learner's answer: a value (an array, a number) or a function to call on test
cases. Before it can recognise the mistakes typical of its exercise, it has to make sure the
answer can be used at all: a value must not be ``None`` or the starter cell's ``...``, must be
numbers rather than text and have the expected shape; a function must be callable, must not
raise, and must return something. The steps below do this once, with one wording for the whole
book:

=====================  ===========================================================
:func:`answer_array`   a value -> a NumPy array (float64 unless told otherwise)
:func:`answer_number`  a value -> one finite float
:func:`answer_int`     a value -> one int (an index or a count)
:func:`check_shape`    an array of the wrong shape -> stop, with a transpose hint
:func:`require_callable`  not a function -> stop
:func:`call`           call the learner's function on one test case: an exception or
                       a missing ``return`` -> stop, naming the exception
:func:`require`        a failed sub-check (a :class:`Feedback`) -> stop with it
=====================  ===========================================================

Each step returns the usable value or raises :class:`NotYet`, which carries a "Not yet"
:class:`Feedback`; a checker decorated with :func:`checker` returns that Feedback instead of
raising, so a wrong *answer* never raises. Wrong *context* arguments (the model, the data) are
not caught: they are a bug in the calling cell and raise ``TypeError`` or ``ValueError``.

Examples
--------
A complete checker of ``double(x) = 2 x``:

>>> @checker
... def check_double(fn):
...     require_callable(fn, "a function double(x)")
...     got = call(fn, np.arange(3.0), name="double", case="on [0, 1, 2]")
...     return check_array(got, [0.0, 2.0, 4.0], name="double([0, 1, 2])")
>>> check_double(lambda x: 2 * x)
Correct: double([0, 1, 2]) matches the expected values (shape (3,)).
>>> check_double(lambda x: None)
Not yet: double returned None on [0, 1, 2]: did it forget to `return` its result?
>>> check_double(lambda x: x[5])
Not yet: double raised IndexError: index 5 is out of bounds for axis 0 with size 3 on [0, 1, 2]
>>> check_double(2.0)
Not yet: expected a function double(x), got the number 2.0 (pass the function itself, without calling it)
"""
from __future__ import annotations

import copy
import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

__all__ = ["Feedback", "NotYet", "checker", "require", "describe", "describe_exception",
           "function_name", "answer_array", "answer_number", "answer_int", "check_shape",
           "require_callable", "call", "check_array", "check_scalar", "check_function", "check_true"]

F = TypeVar("F", bound=Callable[..., Any])


# --------------------------------------------------------------------------- the verdict

@dataclass(frozen=True)
class Feedback:
    """The verdict on an answer: ``passed`` and a message for the learner.

    A Feedback is truthy exactly when the answer passed, so ``assert check_...(answer)`` works,
    and it displays as one line in a notebook.

    Examples
    --------
    >>> fb = Feedback(False, "the weights do not sum to 1")
    >>> bool(fb), str(fb)
    (False, 'Not yet: the weights do not sum to 1')
    >>> fb.with_hint("divide by their sum")
    Not yet: the weights do not sum to 1. divide by their sum
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

    def with_hint(self, hint: str) -> Feedback:
        """The same verdict with ``hint`` appended to the message, after one separator.

        The separator is a space if the message already ends a sentence, else ``". "``.
        """
        sep = " " if self.message.endswith((".", "?", "!")) else ". "
        return Feedback(self.passed, self.message + sep + hint)


class NotYet(Exception):
    """Stops a checker with a "Not yet" :class:`Feedback`; :func:`checker` returns it.

    Parameters
    ----------
    feedback : Feedback or str
        The verdict, or its message (then ``passed`` is False).
    """

    def __init__(self, feedback: Feedback | str):
        fb = feedback if isinstance(feedback, Feedback) else Feedback(False, str(feedback))
        super().__init__(fb.message)
        self.feedback = fb


def checker(fn: F) -> F:
    """Decorate a checker so that a :class:`NotYet` raised inside it becomes its return value.

    Only :class:`NotYet` is caught: a ``TypeError`` or ``ValueError`` about a context argument
    still propagates.

    Examples
    --------
    >>> @checker
    ... def check_positive(x):
    ...     value = answer_number(x, "x")
    ...     return check_true(value > 0, "x is positive.", f"x = {value:g} is not positive")
    >>> check_positive("three")
    Not yet: x must be a single number, got the text 'three'
    """
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NotYet as stop:
            return stop.feedback

    return wrapper  # type: ignore[return-value]


def require(feedback: Feedback) -> Feedback:
    """Return ``feedback`` if it passed; otherwise stop the checker with it (raise :class:`NotYet`).

    Examples
    --------
    >>> require(Feedback(True, "fine"))
    Correct: fine
    """
    if not feedback:
        raise NotYet(feedback)
    return feedback


# --------------------------------------------------------------------------- describing things

def describe(x: Any) -> str:
    """A short description of any object for a message: its value, shape and dtype, or type.

    Examples
    --------
    >>> describe(None), describe(3.0), describe("text"), describe(np.zeros((2, 3)))
    ('None', 'the number 3.0', "the text 'text'", 'an array of shape (2, 3) and dtype float64')
    >>> describe([1, 2]), describe({"a": 1}), describe(len)
    ('a list of shape (2,) and dtype int64', 'a dict', 'the function len')
    """
    if x is None:
        return "None"
    if x is Ellipsis:
        return "`...` (the starter's placeholder)"
    if isinstance(x, (bool, np.bool_)):
        return f"the bool {bool(x)}"
    if isinstance(x, (str, bytes)):
        text = x if len(x) <= 40 else x[:37] + "..."
        return f"the text {text!r}"
    if isinstance(x, type):
        return f"the class {x.__name__}"
    if callable(x) and not hasattr(x, "__array__"):
        name = getattr(x, "__name__", None)
        return f"the function {name}" if name and name.isidentifier() else f"a {type(x).__name__}"
    try:
        arr = np.asarray(x)
    except Exception:  # ragged lists, objects NumPy cannot read
        return f"a {type(x).__name__}"
    if arr.dtype == object or arr.dtype.kind in "USV":
        return f"a {type(x).__name__}"
    if arr.ndim == 0:
        return f"the number {arr.item()!r}"
    kind = "an array" if isinstance(x, np.ndarray) else f"a {type(x).__name__}"
    return f"{kind} of shape {arr.shape} and dtype {arr.dtype}"


def describe_exception(exc: BaseException) -> str:
    """``"TypeName: message"`` on one line, without the colour codes and context lines Keras adds.

    Examples
    --------
    >>> describe_exception(ValueError("shapes (2,) and (3,)\\nnot aligned"))
    'ValueError: shapes (2,) and (3,) not aligned'
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))
    keep = [ln.strip() for ln in text.splitlines()
            if ln.strip() and not ln.strip().startswith(("Exception encountered when calling",
                                                         "Arguments received by", "•"))]
    return f"{type(exc).__name__}: {' '.join(keep)}" if keep else type(exc).__name__


def function_name(fn: Any, default: str = "your function") -> str:
    """The name of a learner's function for messages; ``default`` for lambdas and callables.

    Examples
    --------
    >>> function_name(np.mean), function_name(lambda x: x)
    ('mean', 'your function')
    """
    name = getattr(fn, "__name__", "")
    return name if isinstance(name, str) and name.isidentifier() else default


# --------------------------------------------------------------------------- values

def _unanswered(answer: Any, name: str, what: str) -> None:
    """Stop if ``answer`` is None or the starter's ``...``."""
    if answer is None:
        raise NotYet(f"{name} is None, expected {what}: assign your answer to it "
                     "(or did a function forget to `return` its result?)")
    if answer is Ellipsis:
        raise NotYet(f"{name} is still `...`, the starter's placeholder: replace it by {what}")


def _not_a(name: str, what: str, answer: Any) -> NotYet:
    """The NotYet for an answer that is not ``what``; a function gets a hint to pass its result."""
    hint = " (call it, and pass its result)" if callable(answer) else ""
    return NotYet(f"{name} must be {what}, got {describe(answer)}{hint}")


def _as_ndarray(answer: Any) -> np.ndarray | None:
    try:
        return np.asarray(answer)
    except Exception:  # ragged lists, objects NumPy cannot read
        return None


def check_shape(arr: np.ndarray, shape: Sequence[int], name: str = "your answer") -> np.ndarray:
    """Return ``arr`` if it has ``shape``; otherwise stop, saying if a transpose or reshape is missing.

    Examples
    --------
    >>> @checker
    ... def f(a):
    ...     return check_shape(np.asarray(a), (2, 3), "W")
    >>> f(np.zeros((3, 2)))
    Not yet: W has shape (3, 2), expected (2, 3) (transposed?)
    """
    shape = tuple(int(s) for s in shape)
    if arr.shape == shape:
        return arr
    hint = ""
    if arr.ndim >= 2 and arr.shape == shape[::-1]:
        hint = " (transposed?)"
    elif arr.size == math.prod(shape):
        hint = " (same number of entries: a transpose or reshape may be missing)"
    raise NotYet(f"{name} has shape {arr.shape}, expected {shape}{hint}")


def answer_array(answer: Any, name: str = "your answer", *, shape: Sequence[int] | None = None,
                 dtype: Any = np.float64, what: str = "an array of numbers") -> np.ndarray:
    """The learner's answer as an array of numbers, or stop with a message that says why not.

    Parameters
    ----------
    answer : array-like
        The learner's value (a list, an array, a tensor, ...).
    name : str
        How the messages refer to it.
    shape : tuple of int, optional
        The required shape, checked with :func:`check_shape`.
    dtype : dtype or None, default float64
        Convert to this dtype; None keeps the answer's own (bool, int or float) dtype.
    what : str
        What the answer should be, for the messages.

    Returns
    -------
    ndarray

    Raises
    ------
    NotYet
        If ``answer`` is None, ``...``, not numeric (text, objects, ragged lists), or of the
        wrong shape.

    Examples
    --------
    >>> answer_array([[1, 2]], "x")
    array([[1., 2.]])
    >>> @checker
    ... def f(a):
    ...     return answer_array(a, "x", shape=(2,))
    >>> f(None).message.split(":")[0]
    'x is None, expected an array of numbers'
    >>> f(["1", "2"])
    Not yet: x must be an array of numbers, got a list
    >>> f([1, 2, 3])
    Not yet: x has shape (3,), expected (2,)
    """
    _unanswered(answer, name, what)
    arr = _as_ndarray(answer)
    if arr is None or arr.dtype.kind not in "biuf":
        raise _not_a(name, what, answer)
    if dtype is not None:
        arr = arr.astype(dtype)
    if shape is not None:
        check_shape(arr, shape, name)
    return arr


def answer_number(answer: Any, name: str = "your answer", *, what: str = "a single number") -> float:
    """The learner's answer as one finite float (a size-1 array is fine), or stop with why not.

    Raises
    ------
    NotYet
        If ``answer`` is None, ``...``, a bool, text, more than one number, or NaN or infinite.

    Examples
    --------
    >>> answer_number(np.float32(0.5)), answer_number([2])
    (0.5, 2.0)
    >>> checker(answer_number)(float("nan"), "the AUC")
    Not yet: the AUC is nan, not a finite number: look for a division by zero or a log of 0
    """
    _unanswered(answer, name, what)
    arr = None if isinstance(answer, (bool, np.bool_, str, bytes)) else _as_ndarray(answer)
    if arr is None or arr.dtype.kind not in "iuf" or arr.size != 1:
        raise _not_a(name, what, answer)
    value = float(arr.reshape(()))
    if not np.isfinite(value):
        raise NotYet(f"{name} is {value}, not a finite number: look for a division by zero or a log of 0")
    return value


def answer_int(answer: Any, name: str = "your answer", *, what: str = "a whole number",
               whole_floats: bool = False) -> int:
    """The learner's answer as one int, or stop with a message that says why not.

    Parameters
    ----------
    answer : int-like
        A Python or NumPy integer, or a size-1 integer array (what ``np.argmax`` returns).
    name, what : str
        How the messages refer to the answer, and what it should be.
    whole_floats : bool, default False
        Also accept a float with a whole value, such as ``641.0`` (for counts).

    Raises
    ------
    NotYet
        If ``answer`` is None, ``...``, a bool, text, more than one number, or not whole.

    Examples
    --------
    >>> answer_int(np.int64(3)), answer_int(np.array([4])), answer_int(5.0, whole_floats=True)
    (3, 4, 5)
    >>> checker(answer_int)(2.0, "the index", what="an int")
    Not yet: the index must be an int, got the number 2.0
    """
    _unanswered(answer, name, what)
    arr = None if isinstance(answer, (bool, np.bool_, str, bytes)) else _as_ndarray(answer)
    kinds = "iuf" if whole_floats else "iu"
    if arr is not None and arr.dtype.kind in kinds and arr.size == 1:
        value = arr.reshape(()).item()
        if arr.dtype.kind in "iu" or (math.isfinite(value) and value == round(value)):
            return int(value)
    raise _not_a(name, what, answer)


# --------------------------------------------------------------------------- functions

def require_callable(fn: Any, what: str = "a function") -> Callable:
    """Return ``fn`` if it can be called; otherwise stop with "expected <what>, got ...".

    Examples
    --------
    >>> checker(require_callable)(None, "a function attend(query, keys, values)")
    Not yet: expected a function attend(query, keys, values), got None
    """
    if callable(fn):
        return fn
    hint = "" if fn is None or fn is Ellipsis else " (pass the function itself, without calling it)"
    raise NotYet(f"expected {what}, got {describe(fn)}{hint}")


def call(fn: Callable, *args: Any, name: str = "your function", case: str = "",
         copy_args: bool = True) -> Any:
    """Call the learner's ``fn(*args)`` on one test case; stop if it raises or returns nothing.

    Parameters
    ----------
    fn : callable
        The learner's function (check it first with :func:`require_callable`).
    *args
        The arguments of the test case.
    name : str
        How the messages refer to the function, e.g. ``"masked_softmax"``.
    case : str
        Appended to the messages to say which test case failed, e.g. ``"on test case 2"``.
    copy_args : bool, default True
        Pass deep copies, so that a function that changes its inputs in place cannot change the
        test case (aliasing between the arguments is preserved).

    Returns
    -------
    The function's result, never None.

    Raises
    ------
    NotYet
        If ``fn`` raises any exception (the message names it) or returns None or ``...``.

    Notes
    -----
    NumPy's floating-point warnings (overflow, division by zero) are silenced during the call:
    the checker diagnoses the NaN or inf they produce, and the notebook output stays clean.
    """
    where = f" {case}" if case else ""
    if copy_args:
        args = copy.deepcopy(args)
    try:
        with np.errstate(all="ignore"):
            result = fn(*args)
    except Exception as exc:  # the learner's code may raise anything
        raise NotYet(f"{name} raised {describe_exception(exc)}{where}") from None
    if result is None or result is Ellipsis:
        raise NotYet(f"{name} returned {describe(result)}{where}: did it forget to `return` its result?")
    return result


# --------------------------------------------------------------------------- generic checks

@checker
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

    Examples
    --------
    >>> check_array([1.0, 2.5], [1.0, 2.0], name="x")
    Not yet: 1 of 2 value(s) of x differ; the largest difference is at index (1,), where x holds 2.5, which is too large

    The message points at the value that is off and says in which direction; it never prints the
    expected value, so a learner cannot copy it.
    """
    e = np.asarray(expected, dtype=np.float64)
    a = answer_array(answer, name, shape=e.shape)
    if np.isnan(a).any() and not np.isnan(e).any():
        return Feedback(False, f"{name} contains {int(np.isnan(a).sum())} NaN value(s); "
                               "look for a division by zero or a log of 0")
    close = np.isclose(a, e, rtol=rtol, atol=atol)
    if close.all():
        return Feedback(True, f"{name} matches the expected values (shape {e.shape}).")
    worst = np.unravel_index(np.argmax(np.where(close, 0, np.abs(a - e))), a.shape) if a.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if a.ndim else ""
    if np.isnan(e[worst]) or np.isnan(a[worst]):
        how = "which should not be NaN" if np.isnan(a[worst]) else "which should be NaN"
    else:
        how = "which is too large" if a[worst] > e[worst] else "which is too small"
    if not a.ndim:
        return Feedback(False, f"{name} = {a[()]:.6g}, {how}")
    return Feedback(False, f"{int((~close).sum())} of {close.size} value(s) of {name} differ; the largest "
                           f"difference is{where}, where {name} holds {a[worst]:.6g}, {how}")


@checker
def check_scalar(answer: Any, expected: float, *, name: str = "your answer", tol: float = 1e-6) -> Feedback:
    """Check one number against the expected one within an absolute tolerance ``tol``.

    Examples
    --------
    >>> check_scalar(0.7, 0.5, name="AUC", tol=0.01)
    Not yet: AUC = 0.7 is too large (the check allows an error of ±0.01)

    The message says in which direction the answer is off, never the expected value.
    """
    value = answer_number(answer, name)
    if abs(value - expected) <= tol:
        return Feedback(True, f"{name} = {value:.6g}, as expected.")
    direction = "too large" if value > expected else "too small"
    return Feedback(False, f"{name} = {value:.6g} is {direction} (the check allows an error of ±{tol:g})")


def check_true(condition: bool, success: str, failure: str) -> Feedback:
    """Wrap a condition computed by a chapter checker into a Feedback with both messages."""
    return Feedback(bool(condition), success if condition else failure)


@checker
def check_function(fn: Any, reference: Callable, cases: Sequence[tuple], *,
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
    name : str, optional
        How the messages refer to ``fn``; default its ``__name__``.
    rtol, atol : float
        Tolerances of the comparison (:func:`check_array`).
    """
    require_callable(fn, "a function")
    label = name or function_name(fn)
    for i, args in enumerate(cases, start=1):
        # each function gets its own copy, so an answer that changes its inputs in place is judged
        # on what it returns and cannot change what the reference sees
        expected = reference(*copy.deepcopy(args))
        got = call(fn, *args, name=label, case=f"on test case {i}")
        require(check_array(got, expected, name=f"the result of {label} on test case {i}", rtol=rtol, atol=atol))
    return Feedback(True, f"{label} agrees with the reference on all {len(cases)} test cases.")
