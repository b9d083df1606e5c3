"""Checkers for the exercises of the FAQ chapter (11)."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .core import (Feedback, answer_array, answer_int, answer_number, call, check_array, checker, describe,
                   require_callable)


@checker
def check_contribution(output, most_influential, weights: np.ndarray, values: np.ndarray) -> Feedback:
    """Check the attention output ``sum_j a_j v_j`` and the index of the most influential token."""
    weights = np.asarray(weights, dtype=float)
    values = np.asarray(values, dtype=float)
    expected = (weights[:, None] * values).sum(axis=0)
    out = answer_array(output, "output")
    res = check_array(out, expected, name="output")
    if not res:
        if out.shape == (values.shape[0],):
            return Feedback(False, "output has one entry per token: sum over the tokens (axis 0) of "
                                   "a_j * v_j, which leaves one entry per value dimension")
        if out.shape == expected.shape and np.allclose(out, values.sum(axis=0)):
            return Feedback(False, "output is the plain sum of the values: weight each row by its "
                                   "attention weight")
        return res
    best = int(np.argmax(np.linalg.norm(weights[:, None] * values, axis=1)))
    chosen = answer_int(most_influential, "most_influential", what="an int index")
    if chosen == int(np.argmax(weights)) and best != int(np.argmax(weights)):
        return Feedback(False, f"token {chosen} has the largest weight but not the largest "
                               "contribution: compare the norms of a_j * v_j")
    if chosen != best:
        return Feedback(False, f"most_influential is {chosen}, but token {best} has the largest |a_j v_j|")
    return Feedback(True, f"the output is {np.round(expected, 3)} and token {best} contributes most, "
                          f"although token {int(np.argmax(weights))} has the largest weight.")


@checker
def check_attention_kind(attention_kind: Callable, weight_shape: Callable) -> Feedback:
    """Check the two functions of the self-or-cross exercise on several cases."""
    require_callable(attention_kind, "a function attention_kind(q_source, kv_source)")
    require_callable(weight_shape, "a function weight_shape(n_queries, n_keys)")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(3, 4))
    cases = [((x, x), "self"), ((x, x.copy()), "self"), ((y, x), "cross"), ((x, x[:3]), "cross")]
    for i, (args, want) in enumerate(cases, 1):
        # the copies keep an argument passed twice the same object, as `is` needs
        got = call(attention_kind, *args, name="attention_kind", case=f"on case {i}")
        if got != want:
            return Feedback(False, f"attention_kind returned {got!r} on case {i} (queries of shape "
                                   f"{args[0].shape}, keys of shape {args[1].shape}); expected {want!r}")
    for nq, nk in [(5, 5), (3, 7), (1, 20)]:
        got = call(weight_shape, nq, nk, name=f"weight_shape({nq}, {nk})")
        try:
            got = tuple(got)
        except TypeError:
            return Feedback(False, f"weight_shape({nq}, {nk}) must return a shape (a tuple), got {describe(got)}")
        if got != (nq, nk):
            hint = " (rows are queries, columns are keys)" if got == (nk, nq) else ""
            return Feedback(False, f"weight_shape({nq}, {nk}) returned {got}, expected {(nq, nk)}{hint}")
    return Feedback(True, "both functions are right on every case.")


@checker
def check_efficiency(phi, base_value, predict_fn: Callable, x: np.ndarray, background: np.ndarray) -> Feedback:
    """Check Shapley values for ``x`` against the efficiency property and the background's mean prediction."""
    x = np.asarray(x, dtype=float)
    phi_arr = answer_array(phi, "phi", what=f"an array of the shape of x {x.shape}")
    if phi_arr.shape != x.shape:
        return Feedback(False, f"phi must have the shape of x {x.shape}, got {phi_arr.shape}")
    base = answer_number(base_value, "the base value")
    expected_base = float(np.mean(predict_fn(np.asarray(background, dtype=float))))
    if not np.isclose(base, expected_base, atol=1e-9):
        return Feedback(False, f"the base value should be the mean prediction over the background, "
                               f"{expected_base:.6f}; got {base:.6f}")
    gap = abs(phi_arr.sum() - (float(predict_fn(x)[0]) - expected_base))
    if gap > 1e-8:
        return Feedback(False, f"the values add up to {phi_arr.sum():.6f} but f(x) - base is "
                               f"{float(predict_fn(x)[0]) - expected_base:.6f}: efficiency fails")
    return Feedback(True, f"the values add up to f(x) - base = {phi_arr.sum():+.4f} (efficiency holds).")
