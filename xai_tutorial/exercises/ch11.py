"""Checkers for the exercises of the FAQ chapter (11).

Each checker computes the expected answer itself and returns a
:class:`~xai_tutorial.exercises.Feedback`. A wrong *answer* never raises and the messages point at
the mistake (a shape, an axis, a missing weight, a background) without printing the expected
value; wrong *context* arguments (the attention weights, the model, the background) raise
``TypeError`` or ``ValueError``, because they are a bug in the calling cell.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import as_float_array
from ..shapley import exact_shapley_values
from .core import (Feedback, NotYet, answer_array, answer_int, answer_number, call, check_array, checker,
                   describe, require, require_callable)

__all__ = ["check_contribution", "check_attention_kind", "check_efficiency"]


# --------------------------------------------------------------------------- exercise 1

@checker
def check_contribution(output: Any, most_influential: Any, weights: np.ndarray, values: np.ndarray) -> Feedback:
    """Check the attention output ``sum_j a_j v_j`` and the index of the most influential token.

    Parameters
    ----------
    output : array of shape (dim,)
        The learner's output vector.
    most_influential : int
        The learner's index of the token with the largest ``||a_j v_j||``.
    weights : array of shape (n_tokens,)
        The attention weights ``a``.
    values : array of shape (n_tokens, dim)
        The value vectors, one row per token.
    """
    a = as_float_array(weights, "weights", ndim=1)
    v = as_float_array(values, "values", ndim=2)
    if v.shape[0] != a.shape[0]:
        raise ValueError(f"values must have one row per weight, shape ({a.shape[0]}, dim), got {v.shape}")
    n, dim = v.shape
    contribution = a[:, None] * v
    expected = contribution.sum(axis=0)
    out = answer_array(output, "output", what=f"the output vector, shape ({dim},)")
    if out.shape == (n, dim):
        return Feedback(False, f"output has shape {out.shape}, one row a_j v_j per token: sum them over "
                               "the tokens (axis 0)")
    if out.shape == (dim, n):
        return Feedback(False, f"output has shape {out.shape}, one column a_j v_j per token (a transposed "
                               "product): sum over the tokens, which leaves one entry per value dimension")
    if out.shape == (n,) and n != dim:
        return Feedback(False, "output has one entry per token: you summed over the value dimensions "
                               "(axis 1); sum a_j v_j over the tokens (axis 0) instead")
    if out.size == dim and out.shape != (dim,):
        out = out.reshape(dim)  # (1, dim) or (dim, 1) hold the right numbers in the wrong frame
    if out.shape != (dim,):
        return Feedback(False, f"output has shape {out.shape}; the output is one vector of the values' "
                               f"dimension, shape ({dim},)")
    if not np.allclose(out, expected, rtol=1e-5, atol=1e-8):
        if np.allclose(out, v.sum(axis=0)):
            return Feedback(False, "output is the plain sum of the values: weight each row v_j by its "
                                   "attention weight a_j first")
        if np.allclose(out, v.mean(axis=0)):
            return Feedback(False, "output is the mean of the values: weight each row v_j by its attention "
                                   "weight a_j, then sum")
        if np.allclose(out, expected / n):
            return Feedback(False, "output is the mean of a_j v_j over the tokens; the attention output is "
                                   "their sum")
        require(check_array(out, expected, name="output"))
    chosen = answer_int(most_influential, "most_influential",
                        what="one int index (np.argmax returns one; convert it with int(...))")
    if not 0 <= chosen < n:
        return Feedback(False, f"most_influential = {chosen} is not a token: use 0 to {n - 1}")
    norms = np.linalg.norm(contribution, axis=1)
    best = int(np.argmax(norms))
    if chosen != best:
        if chosen == int(np.argmax(a)):
            return Feedback(False, f"token {chosen} has the largest weight a_j, but not the largest "
                                   "contribution: compare the norms ||a_j v_j|| of the weighted values")
        if chosen == int(np.argmax(np.linalg.norm(v, axis=1))):
            return Feedback(False, f"token {chosen} has the largest value vector ||v_j||; weight each value "
                                   "by a_j before taking the norm")
        if chosen == int(np.argmin(norms)):
            return Feedback(False, f"token {chosen} contributes the *least*: take the argmax of the norms, "
                                   "not the argmin")
        return Feedback(False, f"token {chosen} does not have the largest ||a_j v_j||: take the norm of "
                               "each row of a[:, None] * values (axis=1) and its argmax")
    return Feedback(True, f"the output is {np.round(expected, 3)} and token {best} contributes most, "
                          f"although token {int(np.argmax(a))} has the largest weight.")


# --------------------------------------------------------------------------- exercise 2

def _as_shape(got: Any) -> tuple | None:
    try:
        return tuple(int(s) for s in got)
    except (TypeError, ValueError):
        return None


@checker
def check_attention_kind(attention_kind: Any, weight_shape: Any) -> Feedback:
    """Check the two functions of the self-or-cross exercise on several cases.

    ``attention_kind`` gets the same array twice, an equal copy, two different arrays of the same
    shape, and arrays of different shapes; ``weight_shape`` gets square and non-square sizes.
    """
    require_callable(attention_kind, "a function attention_kind(q_source, kv_source)")
    require_callable(weight_shape, "a function weight_shape(n_queries, n_keys)")
    rng = np.random.default_rng(1)
    x, y, z = rng.normal(size=(5, 4)), rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    cases = [((x, x), "self", "the same array passed twice"),
             ((x, x.copy()), "self", "an equal copy of the queries"),
             ((x, z), "cross", "two different arrays of the same shape (5, 4)"),
             ((y, x), "cross", "3 queries and 5 keys"),
             ((x, x[:3]), "cross", "5 queries and the first 3 of them as keys")]
    for i, (args, want, what) in enumerate(cases, 1):
        # call without copies: the first case passes one object twice, as `is` needs
        got = call(attention_kind, *args, name="attention_kind", case=f"on case {i} ({what})",
                   copy_args=False)
        if not isinstance(got, str) or got.strip().lower() not in ("self", "cross"):
            raise NotYet(f"attention_kind must return the text 'self' or 'cross', got {describe(got)} "
                         f"on case {i} ({what})")
        if got != want:
            if got.strip().lower() == want:
                raise NotYet(f"attention_kind returned {got!r} on case {i}: return exactly 'self' or 'cross' "
                             "(lower case, no spaces)")
            hint = {1: "an array compared with itself is self-attention",
                    2: "equal values count as the same source, even in a different object "
                       "(compare with np.array_equal)",
                    3: "equal shapes are not enough: the values must be equal too",
                    4: "queries and keys of different lengths cannot be the same sequence",
                    5: "a part of the sequence is not the whole sequence: the shapes differ"}[i]
            return Feedback(False, f"attention_kind returned {got!r} on case {i} ({what}): {hint}")
    for nq, nk in [(5, 5), (3, 7), (1, 20)]:
        got = call(weight_shape, nq, nk, name=f"weight_shape({nq}, {nk})")
        shape = _as_shape(got)
        if shape is None:
            return Feedback(False, f"weight_shape({nq}, {nk}) must return a shape (a tuple of two ints), "
                                   f"got {describe(got)}")
        if shape != (nq, nk):
            if shape == (nk, nq):
                hint = "rows and columns are swapped: one row per query, one column per key"
            elif len(shape) != 2:
                hint = "the weights form a matrix, so the shape has two entries"
            else:
                hint = "the matrix has one row per query and one column per key"
            return Feedback(False, f"weight_shape({nq}, {nk}) returned {shape}: {hint}")
    return Feedback(True, "attention_kind tells self from cross on all 5 cases (the same object, an equal "
                          "copy, equal shapes with other values, other shapes), and weight_shape gives "
                          "(n_queries, n_keys).")


# --------------------------------------------------------------------------- exercise 3

@checker
def check_efficiency(phi: Any, base_value: Any, predict_fn: Callable, x: np.ndarray,
                     background: np.ndarray, *, tol: float = 1e-6) -> Feedback:
    """Check exact Shapley values of ``x`` for a background of the learner's choice.

    The checker computes the exact interventional Shapley values with the same background
    (:func:`xai_tutorial.shapley.exact_shapley_values`): the base value must be the mean
    prediction over the background, the values must add up to ``f(x) - base`` (efficiency) and
    each must equal the exact one, so that values that merely add up (all credit on one
    feature, or values for another background) are rejected.

    Parameters
    ----------
    phi : array of shape (1, n_features)
        The learner's Shapley values.
    base_value : float
        The learner's base value.
    predict_fn : callable
        ``(n, n_features) -> (n,)``, the model explained.
    x : array of shape (1, n_features)
        The explained row.
    background : array of shape (n_background, n_features)
        The background the learner chose (the same one must give phi and base_value).
    tol : float, default 1e-6
        Absolute tolerance.
    """
    xa = as_float_array(x, "x", ndim=(1, 2))
    xa = xa[None] if xa.ndim == 1 else xa
    if xa.shape[0] != 1:
        raise ValueError(f"x must be one row of shape (1, n_features), got {xa.shape}")
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    bg = as_float_array(background, "background", ndim=2)
    ref = exact_shapley_values(predict_fn, xa, bg)
    d = xa.shape[1]
    if hasattr(phi, "values") and hasattr(phi, "base_value") and not isinstance(phi, np.ndarray):
        return Feedback(False, "phi_mine is the whole result of exact_shapley_values; store its "
                               "`.values` in phi_mine and its `.base_value` in base_mine")
    p = answer_array(phi, "phi_mine", what=f"the Shapley values, shape (1, {d})")
    if p.shape == (d,):
        p = p[None]
    if p.shape == (d, 1):
        return Feedback(False, f"phi_mine has shape {p.shape}: one row per explained example, one column "
                               f"per feature, (1, {d}) (transposed?)")
    if p.shape != (1, d):
        return Feedback(False, f"phi_mine has shape {p.shape}; it holds one value per feature of x0, "
                               f"shape (1, {d})")
    base = answer_number(base_value, "base_mine", what="the base value, one number")
    fx = float(np.asarray(predict_fn(xa), dtype=np.float64).reshape(-1)[0])
    if abs(base - ref.base_value) > tol:
        if abs(base - fx) <= tol:
            return Feedback(False, "base_mine is the prediction f(x0) itself; the base value is the mean "
                                   "prediction over the background")
        if abs(base) <= tol:
            return Feedback(False, "base_mine is 0; the base value is the mean prediction over the "
                                   "background (the `.base_value` of the result)")
        return Feedback(False, f"base_mine = {base:.6g} is not the mean prediction over the background you "
                               "passed to the checker: compute phi_mine and base_mine with that same background")
    total = float(p.sum())
    if abs(total - (fx - base)) > 1e-5:
        how = "more" if total > fx - base else "less"
        return Feedback(False, f"the values sum to {total:.6g}, {how} than f(x0) - base_mine: efficiency "
                               "fails (are they for another background, or for another patient?)")
    if not np.allclose(p, ref.values, rtol=0, atol=tol):
        j = int(np.argmax(np.abs(p - ref.values)[0]))
        how = "too large" if p[0, j] > ref.values[0, j] else "too small"
        return Feedback(False, f"the values add up to f(x0) - base_mine, but they are not the Shapley values: "
                               f"the value of feature {j} is {how}. Adding up is not enough (any split "
                               "of the total does): compute them with shapley.exact_shapley_values and "
                               "the same background")
    return Feedback(True, f"the values are the exact Shapley values for your background and add up to "
                          f"f(x0) - base = {total:+.4f} (efficiency holds).")
