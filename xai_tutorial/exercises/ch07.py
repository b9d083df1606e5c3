"""Checkers for the exercises of chapter 7, *SHAP on the attention model*.

Each checker computes the expected answer itself and returns a
:class:`~xai_tutorial.exercises.Feedback` that says what is right or, for the usual mistakes,
what exactly is wrong. A wrong *answer* (the first argument) never raises; wrong *context*
arguments (a classifier of the wrong kind, arrays of the wrong shape) raise ``TypeError`` or
``ValueError``, because they are a bug in the calling cell rather than a wrong solution.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import as_float_array, as_int_array, check_int
from .core import Feedback, answer_array, answer_number, call, checker, describe, require_callable

__all__ = ["check_masker", "check_predict_fn", "check_efficiency", "check_random_auc"]


# --------------------------------------------------------------------------- exercise 1

@checker
def check_masker(fn: Any, *, seq_len: int = 8, seed: int = 0) -> Feedback:
    """Check a padding masker ``fn(mask, x) -> (1, seq_len)`` int array.

    The masker is called on one sentence (with trailing padding) and four masks: all present,
    none present, every other token, and a random mask. It must return ``where(mask, x, 0)`` with
    a leading batch axis, keep an integer dtype and leave ``x`` unchanged.

    Parameters
    ----------
    fn : callable
        The learner's masker.
    seq_len : int, default 8
        Length of the test sentence, at least 4.
    seed : int, default 0
        Seed of the test sentence and of the random mask.
    """
    seq_len = check_int(seq_len, "seq_len", 4)
    require_callable(fn, "a function mask_tokens(mask, x)")
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    x = rng.integers(2, 50, size=seq_len).astype(np.int32)
    x[-2:] = 0  # trailing padding, as in the data
    masks = {"every token present": np.ones(seq_len, bool), "no token present": np.zeros(seq_len, bool),
             "every other token present": np.arange(seq_len) % 2 == 0,
             "a random mask": rng.random(seq_len) < 0.5}
    for name, mask in masks.items():
        x_in = x.copy()
        # x itself, not a copy: a masker that changes it in place is a mistake to report
        got = call(fn, mask.copy(), x_in, name="mask_tokens", case=f"(case: {name})", copy_args=False)
        if not np.array_equal(x_in, x):
            return Feedback(False, "mask_tokens changed x in place; shap passes the same x for every "
                                   "mask, so build a new array (np.where does)")
        arr = answer_array(got, "the result of mask_tokens", dtype=None, what="an array of token ids")
        expected = np.where(mask, x, 0)[None, :]
        if arr.shape == (seq_len,):
            return Feedback(False, f"the result has shape ({seq_len},); shap expects a batch of masked "
                                   f"rows, shape (1, {seq_len}): add a leading axis, e.g. `[None, :]`")
        if arr.shape != expected.shape:
            return Feedback(False, f"the result has shape {arr.shape}, expected {expected.shape} "
                                   f"(case: {name})")
        if arr.dtype.kind not in "iu":
            return Feedback(False, f"the result has dtype {arr.dtype}; token ids must stay integers "
                                   "(the embedding layer looks them up), e.g. `.astype(x.dtype)`")
        if not np.array_equal(arr, expected):
            if np.array_equal(arr, x[None, :]):
                return Feedback(False, f"with {name}, the result is x unchanged: replace the tokens where "
                                       "the mask is False by padding (id 0)")
            if np.array_equal(arr, np.where(~mask, x, 0)[None, :]):
                return Feedback(False, "the mask is inverted: True means the token is *present* and "
                                       "must be kept; False means absent, replaced by 0")
            bad = np.flatnonzero(arr[0] != expected[0])
            j = int(bad[0])
            should = "keep the token of x (the mask is True there)" if mask[j] else \
                "be padding, id 0 (the mask is False there)"
            return Feedback(False, f"with {name}, position {j} holds {arr[0, j]} but should {should}; "
                                   f"{len(bad)} position(s) differ")
    return Feedback(True, "mask_tokens keeps the present tokens, pads the absent ones and returns a "
                          f"batch of one integer row, shape (1, {seq_len}).")


# --------------------------------------------------------------------------- exercise 2

@checker
def check_predict_fn(fn: Any, clf: Any, *, seed: int = 0, atol: float = 1e-5) -> Feedback:
    """Check a predict function ``fn(ids (n, seq_len)) -> (n,)`` for a text classifier.

    The function is called on a batch of random sentences (int32), on the same batch as int64, on
    a single sentence and on a sentence of padding only, and compared with
    ``clf.predict_proba``.

    Parameters
    ----------
    fn : callable
        The learner's predict function.
    clf : TextAttentionClassifier
        The classifier it should wrap.
    seed : int, default 0
        Seed of the random test sentences.
    atol : float, default 1e-5
        Absolute tolerance on the probabilities.
    """
    model = getattr(clf, "model", None)
    if model is None or not callable(getattr(clf, "predict_proba", None)):
        raise TypeError(f"clf must be a TextAttentionClassifier, got {type(clf).__name__}")
    require_callable(fn, "a function predict_positive(ids)")
    seq_len = int(model.inputs[0].shape[1])
    vocab_size = int(model.get_layer("embedding").input_dim)
    rng = np.random.default_rng(check_int(seed, "seed", 0))
    ids = rng.integers(1, vocab_size, size=(6, seq_len)).astype(np.int32)
    lengths = rng.integers(max(1, seq_len // 3), seq_len + 1, size=6)
    ids[np.arange(seq_len)[None, :] >= lengths[:, None]] = 0
    cases = {"a batch of 6 int32 sentences": ids, "the same batch as int64": ids.astype(np.int64),
             "a single sentence": ids[:1], "a sentence of padding only": np.zeros((1, seq_len), np.int32)}
    for name, x in cases.items():
        got = call(fn, x, name="predict_positive", case=f"(case: {name})")
        if not isinstance(got, np.ndarray):
            return Feedback(False, f"predict_positive returned {describe(got)}; shap needs a NumPy "
                                   "array: wrap the model's output in np.asarray(...)")
        expected = clf.predict_proba(x.astype(np.int32))
        if got.shape == (len(x), 1):
            return Feedback(False, f"the result has shape {got.shape}: one column too many; take "
                                   "`[:, 0]` so that shap gets one number per sentence")
        if got.shape != expected.shape:
            return Feedback(False, f"on {name} the result has shape {got.shape}, expected {expected.shape}")
        if got.dtype.kind not in "fc":
            return Feedback(False, f"the result has dtype {got.dtype}; return probabilities (floats)")
        g = got.astype(np.float64)
        if np.allclose(g, expected, atol=atol):
            continue
        if np.allclose(g, 1.0 - expected, atol=atol):
            return Feedback(False, "these are the probabilities of the *negative* class, 1 - p; return "
                                   "the model's output p = P(positive) itself")
        if np.any((g < 0) | (g > 1)):
            return Feedback(False, f"on {name} some results lie outside [0, 1]: these are not probabilities "
                                   "(logits?); return the model's output, P(positive)")
        if np.allclose(g, 1.0 / (1.0 + np.exp(-expected)), atol=atol):
            return Feedback(False, "the sigmoid is applied twice: the model's output already is the "
                                   "probability P(positive)")
        worst = int(np.argmax(np.abs(g - expected)))
        how = "too large" if g[worst] > expected[worst] else "too small"
        return Feedback(False, f"on {name}, sentence {worst}: got {g[worst]:.6g}, which is {how} for the "
                               "model's P(positive); call clf_b.model(ids, training=False) on the ids as given")
    return Feedback(True, "predict_positive returns P(positive) as a NumPy array of shape (n,) for int32 "
                          "and int64 batches, single sentences and empty sentences.")


# --------------------------------------------------------------------------- exercise 3

@checker
def check_efficiency(i: int, total: Any, f_x: Any, f_empty: Any, values: Any,
                     predict_fn: Callable[[np.ndarray], np.ndarray], token_ids: Any, *,
                     tol: float = 1e-6) -> Feedback:
    """Check the three numbers of the efficiency identity for sentence ``i``.

    ``total = values[i].sum()``, ``f_x = f(token_ids[i])`` and ``f_empty = f(all padding)``;
    efficiency says ``total = f_x - f_empty``.

    Parameters
    ----------
    i : int
        The sentence.
    total, f_x, f_empty : float
        The learner's three numbers.
    values : array of shape (n, seq_len)
        SHAP values of the sentences.
    predict_fn : callable
        NumPy predict function ``(m, seq_len) -> (m,)``.
    token_ids : int array of shape (n, seq_len)
    tol : float, default 1e-6
        Absolute tolerance.
    """
    v = as_float_array(values, "values", ndim=2)
    ids = as_int_array(token_ids, "token_ids", ndim=2)
    if v.shape != ids.shape:
        raise ValueError(f"values and token_ids must have the same shape, got {v.shape} and {ids.shape}")
    i = check_int(i, "i", 0, len(ids) - 1)
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    want_total = float(v[i].sum())
    want_fx = float(np.asarray(predict_fn(ids[i:i + 1].astype(np.int32)), dtype=np.float64).reshape(-1)[0])
    want_empty = float(np.asarray(predict_fn(np.zeros((1, ids.shape[1]), np.int32)),
                                  dtype=np.float64).reshape(-1)[0])
    total, f_x, f_empty = (answer_number(got, name, what="one finite number")
                           for name, got in (("total", total), ("f_x", f_x), ("f_empty", f_empty)))
    if abs(total - want_total) > tol:
        if abs(total - float(v.sum())) <= tol:
            return Feedback(False, f"total is the sum over *all* sentences; sum only row {i}: values[{i}].sum()")
        if abs(total - float(v[:, i].sum())) <= tol:
            return Feedback(False, f"total is the sum of column {i} (position {i} of every sentence); sum "
                                   f"the row of sentence {i}: values[{i}]")
        if abs(total - float(np.abs(v[i]).sum())) <= tol:
            return Feedback(False, "total sums the absolute values; efficiency adds the signed values")
        how = "too large" if total > want_total else "too small"
        return Feedback(False, f"total = {total:.6g} is {how}: it is the sum of the SHAP values of "
                               f"sentence {i}, values[{i}].sum()")
    if abs(f_x - want_fx) > tol:
        if abs(f_x - (1.0 - want_fx)) <= tol:
            return Feedback(False, "f_x is the probability of the negative class; use the predict "
                                   "function's output itself")
        how = "too large" if f_x > want_fx else "too small"
        return Feedback(False, f"f_x = {f_x:.6g} is {how}: it is the prediction of predict_fn on sentence "
                               f"{i} alone, a batch of one row (token_ids[{i}:{i + 1}])")
    if abs(f_empty - want_empty) > tol:
        if abs(f_empty) <= tol:
            return Feedback(False, "f_empty is not 0: it is the model's *prediction* on a sentence of "
                                   "padding only, predict_fn(np.zeros((1, seq_len), dtype=np.int32))")
        if abs(f_empty - 0.5) <= tol:
            return Feedback(False, "f_empty is not simply 0.5: it is what the model predicts on a sentence "
                                   "of padding only; compute it with the predict function")
        return Feedback(False, f"f_empty = {f_empty:.6g} is {'too large' if f_empty > want_empty else 'too small'}: "
                               "predict on a sentence of padding only (a row of zeros, the masker's "
                               "'nothing present')")
    gap = abs(total - (f_x - f_empty))
    if gap > 1e-5:  # the three numbers are right but efficiency fails: the values are not SHAP values
        return Feedback(False, f"the three numbers are right, but total - (f_x - f_empty) = {gap:.2g}: "
                               "these values do not satisfy efficiency")
    return Feedback(True, f"total = {total:.6f} and f(x) - f(empty) = {f_x - f_empty:.6f}: efficiency "
                          f"holds to {gap:.1e}.")


# --------------------------------------------------------------------------- exercise 4

@checker
def check_random_auc(auc: Any, rationale: Any, valid: Any, *, n_sd: float = 4.0) -> Feedback:
    """Check that an AUC is what random scores give: 0.5 within ``n_sd`` null standard deviations.

    Under random scores the AUC of ``n1`` positives against ``n0`` negatives has mean 1/2 and
    standard deviation ``sqrt((n1 + n0 + 1) / (12 n1 n0))`` (the Mann-Whitney null distribution).

    Parameters
    ----------
    auc : float
        The learner's AUC.
    rationale, valid : bool arrays of shape (n, seq_len)
        Ground-truth cue tokens and real tokens, as passed to ``agreement.rationale_auc``.
    n_sd : float, default 4.0
        Accepted distance from 0.5, in standard deviations.
    """
    r = np.asarray(rationale)
    v = np.asarray(valid)
    if r.dtype != bool or v.dtype != bool or r.shape != v.shape or r.ndim != 2:
        raise ValueError(f"rationale and valid must be bool arrays of the same 2-D shape, got "
                         f"{r.dtype} {r.shape} and {v.dtype} {v.shape}")
    n1 = int((r & v).sum())
    n0 = int((~r & v).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError("rationale must mark some but not all real tokens")
    auc = answer_number(auc, "auc_random", what="one number")
    sd = float(np.sqrt((n1 + n0 + 1) / (12.0 * n1 * n0)))
    if not 0.0 <= auc <= 1.0:
        return Feedback(False, f"an AUC lies in [0, 1], got {auc:.4g}")
    if auc == 0.5:
        return Feedback(False, "auc_random is exactly 0.5, the value you expect: compute it from random "
                               "scores with agreement.rationale_auc, then compare")
    if abs(auc - 0.5) <= n_sd * sd:
        return Feedback(True, f"AUC = {auc:.3f}: chance level, 0.5 ± {sd:.3f} (one standard deviation) "
                              f"for {n1} cue tokens among {n1 + n0} real tokens.")
    if auc > 0.9:
        return Feedback(False, f"AUC = {auc:.3f} is far too good for random scores: did you pass a real "
                               "attribution (or the rationale itself) instead of random numbers?")
    return Feedback(False, f"AUC = {auc:.3f} is {abs(auc - 0.5) / sd:.1f} standard deviations from chance "
                           "level, more than random scores land. Draw one independent random number per "
                           "token, shape (n, seq_len), and pass valid so padding is left out.")
