"""Checkers for the exercises of chapter 3, *Attention(Q, K, V) from scratch*.

Each checker computes the expected answer itself, recognises the usual mistakes (no scaling,
softmax over the wrong axis, the future left visible, heads cut the wrong way) and says which one
it found.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import attention
from .core import Feedback, answer_array, call, check_array, checker, require, require_callable

__all__ = ["Q_EXERCISE", "K_EXERCISE", "WEIGHTS_TOLERANCE", "check_attention_weights", "check_masked_softmax",
           "check_causal_mask", "check_split_heads"]

#: The queries and keys of exercise ex-03-weights-by-hand (d_k = 2).
Q_EXERCISE = np.array([[1.0, 0.0], [1.0, 1.0]])
K_EXERCISE = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def _softmax_columns(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


#: The precision the exercise asks for: three decimals, as a hand computation with the rounded
#: exponentials e^(1/√2) ≈ 2.028 and e^(√2) ≈ 4.113 gives them.
WEIGHTS_TOLERANCE = 1e-3


@checker
def check_attention_weights(weights) -> Feedback:
    """Check the attention weights of ``Q_EXERCISE`` over ``K_EXERCISE``, shape (2, 3).

    Values rounded to three decimals pass (the check allows an error of 0.001 per entry).
    """
    w = answer_array(weights, "the weight matrix", what="the (2, 3) matrix of weights")
    q, k = Q_EXERCISE, K_EXERCISE
    raw = q @ k.T
    expected = attention.softmax(raw / np.sqrt(q.shape[1]))
    tol = WEIGHTS_TOLERANCE

    def close(a: np.ndarray, b: np.ndarray) -> bool:
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=tol))

    if w.shape == (3, 2):
        return Feedback(False, "the weights have shape (3, 2); one row per query and one column per "
                               "key gives (2, 3): use Q Kᵀ, not K Qᵀ")
    if w.shape != expected.shape:
        return Feedback(False, f"the weights have shape {w.shape}, expected (2, 3): "
                               "2 queries (rows) × 3 keys (columns)")
    if close(w, expected):
        return Feedback(True, "these are softmax(Q Kᵀ / √2): each query's weights sum to 1, and "
                              "the second query, closest to key 3, gives it the most weight.")
    if close(w, raw) or close(w, raw / np.sqrt(2)) or close(w, raw / 2):
        return Feedback(False, "these are the scores, not the weights: apply the softmax to each row")
    if close(w, attention.softmax(raw)):
        return Feedback(False, "the softmax is right but the scores were not divided by √d_k = √2")
    if close(w, attention.softmax(raw / 2)):
        return Feedback(False, "the scores were divided by d_k = 2; divide them by √d_k = √2")
    if close(w, _softmax_columns(raw / np.sqrt(2))) or close(w, _softmax_columns(raw)):
        return Feedback(False, "the softmax ran down the columns (over queries); it must run along "
                               "each row, over the keys, so that every row sums to 1")
    if close(w, np.exp(raw / np.sqrt(2))):
        return Feedback(False, "these are exp(scores) before normalising: divide each row by its sum")
    if close(w, raw / raw.sum(axis=1, keepdims=True)) or \
            close(w, (raw / np.sqrt(2)) / (raw / np.sqrt(2)).sum(axis=1, keepdims=True)):
        return Feedback(False, "the scores were divided by their row sum without exp(): a softmax "
                               "exponentiates each score first, then normalises")
    if not np.allclose(w.sum(axis=1), 1.0, atol=2 * tol):
        return Feedback(False, "the rows do not sum to 1: each query's weights over the three keys "
                               "must sum to 1")
    return check_array(w, expected, name="the weights", rtol=0, atol=tol)


def _masked_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(4, 5))
    pad = np.array([True, True, True, False, False])
    causal = attention.causal_mask(4)
    batch = rng.normal(size=(2, 3, 4))
    batch_mask = np.broadcast_to(attention.key_padding_mask(np.array([4, 2]), 4), (2, 3, 4))
    big = 1000.0 * rng.normal(size=(3, 4))
    return [(scores, np.broadcast_to(pad, (4, 5)).copy()), (rng.normal(size=(4, 4)), causal),
            (batch, batch_mask.copy()), (big, np.ones((3, 4), dtype=bool))]


@checker
def check_masked_softmax(fn: Callable) -> Feedback:
    """Check ``fn(scores, mask)``: a softmax over the last axis with masked weights exactly 0."""
    require_callable(fn, "a function masked_softmax(scores, mask)")
    names = ["a padding mask", "a causal mask", "a batch of padding masks",
             "scores in the thousands (numerical stability)"]
    for (scores, mask), label in zip(_masked_cases(), names):
        got = call(fn, scores, mask, name="masked_softmax", case=f"(test with {label})")
        w = answer_array(got, f"the result of masked_softmax with {label}")
        expected = attention.masked_softmax(scores, mask)
        if w.shape != expected.shape:
            return Feedback(False, f"with {label} the result has shape {w.shape}, expected "
                                   f"{expected.shape} (the same shape as the scores)")
        if np.isnan(w).any():
            hint = (" exp() overflowed: subtract each row's maximum before exponentiating"
                    if "stability" in label else " look for 0/0 or inf - inf")
            return Feedback(False, f"with {label} the result contains NaN;{hint}")
        if np.abs(w[~mask]).max(initial=0.0) > 1e-12:
            return Feedback(False, f"with {label} masked positions get weight up to "
                                   f"{np.abs(w[~mask]).max():.3g}; they must be exactly 0 "
                                   "(set their scores to -inf, or a huge negative number, "
                                   "before the softmax)")
        if not np.allclose(w.sum(axis=-1), 1.0, atol=1e-6):
            if np.allclose(w.sum(axis=-2), 1.0, atol=1e-6):
                return Feedback(False, f"with {label} the columns sum to 1, not the rows: normalise "
                                       "over the last axis (the keys)")
            return Feedback(False, f"with {label} the rows do not sum to 1 (sums "
                                   f"{np.round(w.sum(axis=-1).ravel()[:4], 3)}...)")
        require(check_array(w, expected, name=f"the weights with {label}", rtol=1e-6, atol=1e-9))
    return Feedback(True, "masked_softmax gives masked keys weight 0, rows that sum to 1, and "
                          "survives scores in the thousands.")


@checker
def check_causal_mask(fn: Callable) -> Feedback:
    """Check ``fn(n)``: a boolean (n, n) mask, True where key j is not in the future (j <= i)."""
    require_callable(fn, "a function causal_mask(n)")
    for n in (4, 1, 7):
        m = answer_array(call(fn, n, name=f"causal_mask({n})"), f"causal_mask({n})", dtype=None,
                         what="a boolean array")
        expected = attention.causal_mask(n)
        if m.shape != (n, n):
            return Feedback(False, f"causal_mask({n}) has shape {m.shape}, expected ({n}, {n})")
        if m.dtype != bool:
            return Feedback(False, f"causal_mask({n}) has dtype {m.dtype}; a mask must be boolean "
                                   "(use .astype(bool) or np.tri(..., dtype=bool))")
        if np.array_equal(m, expected):
            continue
        if np.array_equal(m, expected.T):
            return Feedback(False, "this is the upper triangle: query i may then see keys j >= i, "
                                   "the future; use the lower triangle (np.tril)")
        if np.array_equal(m, np.tril(np.ones((n, n), dtype=bool), -1)):
            return Feedback(False, "the diagonal is False, so a token may not attend to itself and "
                                   "the first row is fully masked; keep j <= i, not j < i")
        if np.array_equal(m, ~expected):
            return Feedback(False, "the mask is inverted: True must mean 'may attend'")
        return check_array(m, expected, name=f"causal_mask({n})")
    return Feedback(True, "causal_mask lets query i attend to keys 0..i and hides the future.")


def _split_heads_cases() -> list[tuple[np.ndarray, int]]:
    """(x, n_heads): several head counts and sizes, so that a fixed number of heads fails."""
    shapes = [((2, 3, 8), 2), ((1, 4, 12), 3), ((2, 2, 6), 1), ((3, 5, 8), 4)]
    return [(np.arange(np.prod(shape), dtype=float).reshape(shape), h) for shape, h in shapes]


@checker
def check_split_heads(fn: Callable) -> Feedback:
    """Check ``fn(x, n_heads)``: (batch, n, n_heads * d_head) -> (batch, n_heads, n, d_head).

    ``fn`` is called with 2, 3, 1 and 4 heads (different batch sizes, lengths and head sizes);
    the first failing case is diagnosed.
    """
    require_callable(fn, "a function split_heads(x, n_heads)")
    for x, n_heads in _split_heads_cases():
        batch, n, features = x.shape
        d_head = features // n_heads
        case = f"on x of shape {x.shape} with n_heads={n_heads}"
        s = answer_array(call(fn, x, n_heads, name="split_heads", case=case),
                         f"the result of split_heads {case}")
        expected = attention.split_heads(x, n_heads)
        if s.shape != expected.shape:
            others = [h for h in (1, 2, 3, 4) if h != n_heads and features % h == 0]
            if any(s.shape == (batch, h, n, features // h) for h in others):
                return Feedback(False, f"{case} the result has {s.shape[1]} heads: split_heads must use "
                                       "its n_heads argument, not a fixed number of heads")
            if s.shape == (batch, n, n_heads, d_head):
                return Feedback(False, f"{case} the result has shape {s.shape} = (batch, n, n_heads, "
                                       "d_head): the heads axis must come before the tokens; swap "
                                       "axes 1 and 2")
            return Feedback(False, f"{case} the result has shape {s.shape}, expected "
                                   f"(batch, n_heads, n, d_head) = {expected.shape}")
        if np.array_equal(s, expected):
            continue
        if np.array_equal(s, x.reshape(expected.shape)):
            return Feedback(False, f"{case}: a plain reshape to (batch, n_heads, n, d_head) mixes tokens "
                                   "into heads; reshape to (batch, n, n_heads, d_head) first, then swap "
                                   "axes 1 and 2")
        interleaved = x.reshape(batch, n, d_head, n_heads).transpose(0, 3, 1, 2)
        if np.array_equal(s, interleaved):
            return Feedback(False, f"{case}: the heads are interleaved (head h takes every n_heads-th "
                                   "feature); each head must take a contiguous block of d_head features")
        if np.array_equal(s, x.reshape(batch, n, n_heads, d_head).transpose(0, 2, 3, 1)) or \
                np.array_equal(s, x.reshape(batch, n, n_heads, d_head).transpose(2, 0, 1, 3)):
            return Feedback(False, f"{case}: the axes are in the wrong order; after reshaping to (batch, "
                                   "n, n_heads, d_head), move only the heads axis in front of the tokens: "
                                   "transpose(0, 2, 1, 3)")
        return Feedback(False, check_array(s, expected, name="the split heads").message + f" {case}")
    return Feedback(True, "head h holds features h·d_head … (h+1)·d_head − 1 of every token, in token "
                          "order, for 1 to 4 heads.")
