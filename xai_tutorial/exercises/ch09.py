"""Checkers for the exercises of chapter 9, *The limits of attention*.

Each checker computes the expected answer itself and returns a
:class:`~xai_tutorial.exercises.Feedback` that says what is right or, for the usual mistakes,
what exactly is wrong. A wrong *answer* never raises; wrong *context* arguments (a classifier of
the wrong kind, token ids of the wrong shape) raise ``TypeError`` or ``ValueError``, because they
are a bug in the calling cell rather than a wrong solution.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import as_int_array, check_int
from ..models import TextAttentionClassifier
from .core import (Feedback, answer_array, answer_int, answer_number, call, check_function, checker, require,
                   require_callable)

__all__ = ["jsd_reference", "check_jsd", "shortcut_rule_reference", "check_shortcut_rule",
           "top2_erasure_flips", "check_top2_erasure_flips"]


# --------------------------------------------------------------------------- exercise 1: JSD

def jsd_reference(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence of two 1-D distributions, natural log, ``0 log 0 = 0``."""
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    m = (p + q) / 2

    def kl(a):
        nz = a > 0
        return float(np.sum(a[nz] * np.log(a[nz] / m[nz])))

    return 0.5 * kl(p) + 0.5 * kl(q)


_JSD_CASES = (
    (np.array([0.5, 0.5]), np.array([0.5, 0.5])),
    (np.array([0.7, 0.2, 0.1]), np.array([0.1, 0.3, 0.6])),
    (np.array([0.6, 0.4, 0.0]), np.array([0.2, 0.3, 0.5])),
    (np.array([1.0, 0.0]), np.array([0.0, 1.0])),
)


@checker
def check_jsd(fn: Any) -> Feedback:
    """Check a learner's ``fn(p, q) -> float``, the JSD of two 1-D distributions in nats.

    Test cases: identical distributions (0), two generic ones, one with a zero entry, and two with
    disjoint supports (``ln 2``). Recognises base-2 logarithms, a missing factor 1/2, KL to ``q``
    instead of to the mixture, and ``0 log 0`` evaluated as NaN.
    """
    require_callable(fn, "a function my_jsd(p, q)")
    p, q = _JSD_CASES[1]
    got = answer_number(call(fn, p, q, case="on two distributions"), "the result of your function",
                        what="one number per pair of distributions")
    got_zero = answer_array(call(fn, *_JSD_CASES[2], case="on two distributions, one with a zero entry"),
                            "the result of your function")
    ref = jsd_reference(p, q)
    m = (p + q) / 2
    kl_pm, kl_qm = float(np.sum(p * np.log(p / m))), float(np.sum(q * np.log(q / m)))
    if np.isclose(got, ref / np.log(2), rtol=1e-6):
        return Feedback(False, f"you get {got:.6f}, an answer in bits (log base 2): use the natural log "
                               "(np.log)")
    if np.isclose(got, np.sqrt(ref), rtol=1e-6):
        return Feedback(False, f"you get {got:.6f}, the Jensen-Shannon *distance*, the square root of the "
                               "divergence (what scipy.spatial.distance.jensenshannon returns); do not take "
                               "the root")
    if np.isclose(got, 2 * ref, rtol=1e-6):
        return Feedback(False, f"you get {got:.6f}: each KL term carries a factor 1/2 (did you drop it?)")
    if any(np.isclose(got, k * kl, rtol=1e-6) for kl in (kl_pm, kl_qm) for k in (0.5, 1.0)):
        return Feedback(False, f"you get {got:.6f}, which uses only one of KL(p || m) and KL(q || m); the JSD "
                               "averages the two")
    kl_pq = float(np.sum(p * np.log(p / q)))
    if np.isclose(got, kl_pq, rtol=1e-6) or np.isclose(got, 0.5 * kl_pq + 0.5 * float(np.sum(q * np.log(q / p))),
                                                       rtol=1e-6):
        return Feedback(False, "you compare p with q directly; the JSD compares each of them with the "
                               "mixture m = (p + q) / 2")
    m2 = p + q
    if np.isclose(got, 0.5 * float(np.sum(p * np.log(p / m2))) + 0.5 * float(np.sum(q * np.log(q / m2))),
                  rtol=1e-6):
        return Feedback(False, "the mixture is the *average* m = (p + q) / 2, not the sum p + q")
    if np.isnan(got_zero).any():
        return Feedback(False, "p = [0.6, 0.4, 0.0] gives NaN: a zero entry contributes 0 log 0 = 0, so "
                               "leave zero entries out of the sum (or use np.where)")
    require(check_function(fn, jsd_reference, _JSD_CASES, name="your JSD", rtol=1e-6, atol=1e-9))
    return Feedback(True, f"your JSD matches on all {len(_JSD_CASES)} cases, including disjoint supports, "
                          f"where it reaches its maximum ln 2 = {np.log(2):.4f}.")


# --------------------------------------------------------------------------- exercise 2: shortcut rule

def shortcut_rule_reference(token_ids: np.ndarray, shortcut_id: int) -> np.ndarray:
    """1 where a sequence contains ``shortcut_id``, else 0; shape (n,)."""
    ids = as_int_array(token_ids, "token_ids", ndim=2)
    return (ids == shortcut_id).any(axis=1).astype(np.int64)


@checker
def check_shortcut_rule(fn: Any, conditions: Mapping[str, np.ndarray], labels: np.ndarray,
                        shortcut_id: int) -> Feedback:
    """Check ``fn(token_ids) -> predictions (n,)``: 1 if a sequence contains the shortcut token, else 0.

    Parameters
    ----------
    fn : the learner's function
    conditions : dict of name -> int array of shape (n, seq_len)
        The test sets of the chapter (the same examples under each condition).
    labels : array of shape (n,)
        Their labels.
    shortcut_id : int
        Id of the token that signals label 1 in training.

    The message gives the rule's accuracy under each condition.
    """
    if not isinstance(conditions, Mapping) or not conditions:
        raise TypeError(f"conditions must be a non-empty dict of name -> token ids, got "
                        f"{type(conditions).__name__}")
    y = as_int_array(labels, "labels", ndim=1)
    shortcut_id = check_int(shortcut_id, "shortcut_id", 1)
    sets = {}
    for name, ids in conditions.items():
        arr = as_int_array(ids, f"conditions[{name!r}]", ndim=2)
        if arr.shape[0] != len(y):
            raise ValueError(f"conditions[{name!r}] has {arr.shape[0]} rows but labels has {len(y)}")
        sets[name] = arr
    require_callable(fn, "a function shortcut_rule(token_ids)")
    accs = []
    for name, ids in sets.items():
        pred = answer_array(call(fn, ids, case=f"on {name!r}"), f"the predictions on {name!r}", dtype=None,
                            what="an array of 0/1 predictions")
        want = shortcut_rule_reference(ids, shortcut_id)
        if pred.shape != want.shape:
            hint = " (did you forget axis=1, one answer per sequence?)" if pred.ndim != 1 else ""
            return Feedback(False, f"on {name!r} your function returns shape {pred.shape}, expected "
                                   f"{want.shape}{hint}")
        if pred.dtype == bool:
            pred = pred.astype(np.int64)
        if np.array_equal(pred, 1 - want):
            return Feedback(False, f"on {name!r} every prediction is inverted: predict 1 when the "
                                   "shortcut token is present")
        if not np.array_equal(pred, want):
            if np.array_equal(pred, (ids[:, 0] == shortcut_id).astype(np.int64)):
                return Feedback(False, f"on {name!r} your rule looks only at the first position; the "
                                       "shortcut token may stand anywhere in the row (use .any(axis=1))")
            bad = int(np.flatnonzero(pred != want)[0])
            has = "contains" if want[bad] else "does not contain"
            return Feedback(False, f"on {name!r} example {bad} gets {pred[bad]!r}, but it {has} the shortcut "
                                   f"token (id {shortcut_id}); {int(np.sum(pred != want))} example(s) are wrong")
        accs.append(f"{name}: {np.mean(want == y):.2f}")
    return Feedback(True, "the rule is right; its accuracy is " + "; ".join(accs) + ".")


# --------------------------------------------------------------------------- exercise 3: top-2 erasure

def _check_clf(clf: Any) -> None:
    if not isinstance(clf, TextAttentionClassifier):
        raise TypeError(f"clf must be a TextAttentionClassifier, got {type(clf).__name__}")


def _proba_from_weights(clf: TextAttentionClassifier, ids: np.ndarray, w: np.ndarray) -> np.ndarray:
    """P(label = 1) with attention ``w``, computed in NumPy from the output layer's weights."""
    from ..attention_interventions import encoded_tokens

    h = encoded_tokens(clf, ids).astype(np.float64)
    kernel, bias = clf.model.get_layer("output").get_weights()
    logit = np.einsum("nt,nth->nh", w, h) @ kernel[:, 0] + bias[0]
    return 1.0 / (1.0 + np.exp(-logit))


def top2_erasure_flips(clf: TextAttentionClassifier, token_ids: np.ndarray,
                       renormalise: bool = True) -> int:
    """Decisions that flip when the two most-attended real tokens are erased (weights set to 0).

    Only sequences with at least 3 real tokens may be passed.
    """
    _check_clf(clf)
    ids = as_int_array(token_ids, "token_ids", ndim=2)
    real = ids != 0
    if (real.sum(axis=1) < 3).any():
        raise ValueError("every sequence needs at least 3 real tokens")
    w = clf.attention_weights(ids).astype(np.float64)
    top2 = np.argsort(np.where(real, -w, np.inf), axis=1, kind="stable")[:, :2]
    erased = w.copy()
    np.put_along_axis(erased, top2, 0.0, axis=1)
    if renormalise:
        erased /= erased.sum(axis=1, keepdims=True)
    before = _proba_from_weights(clf, ids, w) > 0.5
    after = _proba_from_weights(clf, ids, erased) > 0.5
    return int(np.sum(before != after))


@checker
def check_top2_erasure_flips(n_flips: Any, clf: TextAttentionClassifier, token_ids: np.ndarray) -> Feedback:
    """Check the number of flipped decisions when the two most-attended tokens are erased together.

    Recognises erasing only the top token, and forgetting to renormalise the remaining weights.
    """
    _check_clf(clf)
    ids = as_int_array(token_ids, "token_ids", ndim=2)
    expected = top2_erasure_flips(clf, ids)
    if isinstance(n_flips, (float, np.floating)) and 0.0 < float(n_flips) < 1.0:
        return Feedback(False, f"n_flips = {float(n_flips):.3g} looks like a fraction; give the *number* of "
                               "decisions that flip (a count of examples)")
    value = answer_int(n_flips, "n_flips", what="one whole number (a count of examples)", whole_floats=True)
    if value == expected:
        return Feedback(True, f"{expected} of {len(ids)} decisions flip ({expected / len(ids):.0%}) when "
                              "the two most-attended tokens are erased.")
    if value == top2_erasure_flips(clf, ids, renormalise=False) and value != expected:
        return Feedback(False, f"{value} is the count without renormalising: divide the remaining "
                               "weights by their sum so that they add up to 1 again")
    from ..attention_interventions import erasure_flips

    w = clf.attention_weights(ids)
    top1 = int(erasure_flips(clf, ids, np.argmax(w, axis=1)).flipped.sum())
    if value == top1:
        return Feedback(False, f"{value} is the count for erasing only the most-attended token; erase "
                               "the two largest weights of each example together")
    if value == len(ids) - expected:
        return Feedback(False, f"{value} is the number of decisions that do *not* flip; count those that "
                               "change")
    if not 0 <= value <= len(ids):
        return Feedback(False, f"n_flips = {value} is not a count of the {len(ids)} sentences")
    how = "too many" if value > expected else "too few"
    return Feedback(False, f"you counted {value} flips, {how}: take the two "
                           "largest weights of each example (np.argsort), set both to 0, renormalise, "
                           "predict, and compare the decisions (p > 0.5) before and after")

