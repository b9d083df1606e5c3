"""Checkers for the exercises of chapter 13, *Inside a transformer: probes, ablations and activation patching*.

Three small computations by hand: the selectivity of a probe from its accuracies on the real and
the control task (:data:`PROBE_ACCURACY`, :data:`CONTROL_ACCURACY`); the normalised effect of an
activation patch from the logits of the clean, corrupted and patched runs (:data:`CLEAN_LOGITS`,
:data:`CORRUPTED_LOGITS`, :data:`PATCHED_LOGITS`, :data:`LABELS`); and the prefix-matching score
of one attention map (:data:`TOY_SEQUENCE`, :data:`TOY_ATTENTION`). Each checker computes the
expected answer with the package (:mod:`xai_tutorial.mechanistic`, :mod:`xai_tutorial.induction`),
recognises the usual mistakes and says which one it found, without printing the expected values.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import induction as _induction
from .. import mechanistic as _mech
from .core import Feedback, NotYet, answer_array, answer_number, check_array, checker

__all__ = ["LAYERS", "PROBE_ACCURACY", "CONTROL_ACCURACY", "CLEAN_LOGITS", "CORRUPTED_LOGITS",
           "PATCHED_LOGITS", "LABELS", "TOY_SEQUENCE", "TOY_ATTENTION", "check_selectivity",
           "check_patching_effect", "check_prefix_matching"]

#: The three probed layers of the exercise on selectivity.
LAYERS: tuple[str, ...] = ("embeddings", "after block 1", "after block 2")
#: Held-out accuracy of a probe for the real property at each layer.
PROBE_ACCURACY = np.array([0.62, 0.91, 0.97])
#: Held-out accuracy of the same kind of probe on the control task at each layer.
CONTROL_ACCURACY = np.array([0.95, 0.74, 0.58])

#: Logits (n = 4 sentence pairs, 2 classes) of the clean run, whose labels are :data:`LABELS`.
CLEAN_LOGITS = np.array([[-1.2, 2.4], [2.0, -0.5], [-0.3, 1.9], [1.1, -2.1]])
#: Logits of the corrupted run (the negator replaced): it prefers the other class.
CORRUPTED_LOGITS = np.array([[1.5, -0.9], [-1.0, 1.5], [0.8, -0.6], [-0.4, 0.6]])
#: Logits of the corrupted run with one clean hidden state patched in.
PATCHED_LOGITS = np.array([[0.2, 0.9], [0.6, 0.4], [0.5, 0.1], [1.5, -2.5]])
#: The labels of the clean sentences (the class whose logit difference is restored).
LABELS = np.array([1, 0, 1, 0])

#: A sequence that repeats a block of three tokens, and one head's attention map over it (row = query).
TOY_SEQUENCE = np.array([7, 3, 9, 7, 3, 9, 7])
TOY_ATTENTION = np.array([
    [1.00, 0.00, 0.00, 0.00, 0.00, 0.00, 0.00],
    [0.60, 0.40, 0.00, 0.00, 0.00, 0.00, 0.00],
    [0.20, 0.50, 0.30, 0.00, 0.00, 0.00, 0.00],
    [0.30, 0.50, 0.10, 0.10, 0.00, 0.00, 0.00],   # query "7" (seen at 0): the token after it is at 1
    [0.05, 0.10, 0.60, 0.15, 0.10, 0.00, 0.00],   # query "3" (seen at 1): target 2
    [0.10, 0.05, 0.05, 0.70, 0.05, 0.05, 0.00],   # query "9" (seen at 2): target 3
    [0.05, 0.30, 0.05, 0.05, 0.40, 0.10, 0.05],   # query "7" (seen at 0 and 3): targets 1 and 4
])


@checker
def check_selectivity(selectivity: Any) -> Feedback:
    """Check the selectivity of the probe at each of the three layers (shape (3,))."""
    arr = answer_array(selectivity, "selectivity", what="three numbers, one per layer")
    if arr.shape != (3,):
        raise NotYet(f"selectivity has shape {arr.shape}; it needs one value per layer, shape (3,)")
    expected = PROBE_ACCURACY - CONTROL_ACCURACY
    if np.allclose(arr, expected, atol=1e-6):
        return Feedback(True, "selectivity = task accuracy − control accuracy. It is negative at the "
                              "embeddings (the probe memorises word identity better than it reads the "
                              "property) and grows with depth, while the probe's own accuracy alone would "
                              "only say 'decodable everywhere from block 1 on'.")
    if np.allclose(arr, -expected, atol=1e-6):
        return Feedback(False, "the sign is reversed: selectivity is the task accuracy minus the control "
                               "accuracy, so a selective probe has a positive value")
    if np.allclose(arr, PROBE_ACCURACY / CONTROL_ACCURACY, atol=1e-6):
        return Feedback(False, "this is a ratio; Hewitt & Liang define selectivity as a difference of "
                               "the two accuracies")
    if np.allclose(arr, PROBE_ACCURACY - 0.5, atol=1e-6):
        return Feedback(False, "this compares the probe with chance (0.5); selectivity compares it with "
                               "the control task, the same probe trained on random labels per word type")
    return check_array(arr, expected, name="selectivity", rtol=0, atol=1e-4)


def _logit_diff(z: np.ndarray) -> np.ndarray:
    return _mech.logit_difference(z, LABELS)


@checker
def check_patching_effect(effect: Any) -> Feedback:
    """Check the normalised effect of the patch for each of the four sentence pairs (shape (4,))."""
    arr = answer_array(effect, "effect", what="four numbers, one per sentence pair")
    if arr.shape != (4,):
        raise NotYet(f"effect has shape {arr.shape}; it needs one value per sentence pair, shape (4,)")
    clean, corrupted, patched = (_logit_diff(z) for z in (CLEAN_LOGITS, CORRUPTED_LOGITS, PATCHED_LOGITS))
    expected = _mech.normalised_effect(patched, corrupted, clean)
    if np.allclose(arr, expected, atol=1e-4):
        return Feedback(True, "(patched − corrupted) / (clean − corrupted) of the logit difference: 0 "
                              "means the patch restored nothing, 1 everything. One pair goes beyond 1: a "
                              "patch can overshoot the clean run.")
    if np.allclose(arr, 1 - expected, atol=1e-4):
        return Feedback(False, "this is the share that is still missing, (clean − patched) / (clean − "
                               "corrupted); the effect measures how much the patch restored")
    rows = np.arange(4)
    zt = [z[rows, LABELS] for z in (CLEAN_LOGITS, CORRUPTED_LOGITS, PATCHED_LOGITS)]
    if np.allclose(arr, (zt[2] - zt[1]) / (zt[0] - zt[1]), atol=1e-4):
        return Feedback(False, "you used the logit of the label alone; use the logit difference, the "
                               "label's logit minus the other class's, which is what decides the class")
    if np.allclose(arr, patched / clean, atol=1e-4) or np.allclose(arr, (patched - corrupted) / clean, atol=1e-4):
        return Feedback(False, "normalise by the whole gap between the clean and the corrupted run, "
                               "clean − corrupted, and measure the patched run from the corrupted one")
    z = [np.exp(m) / np.exp(m).sum(1, keepdims=True) for m in (CLEAN_LOGITS, CORRUPTED_LOGITS, PATCHED_LOGITS)]
    pt = [p[rows, LABELS] for p in z]
    if np.allclose(arr, (pt[2] - pt[1]) / (pt[0] - pt[1]), atol=1e-4):
        return Feedback(False, "you used probabilities; the exercise asks for the logit difference, which "
                               "does not saturate near 0 and 1")
    return check_array(arr, expected, name="effect", rtol=0, atol=1e-3)


@checker
def check_prefix_matching(score: Any) -> Feedback:
    """Check the prefix-matching score of :data:`TOY_ATTENTION` on :data:`TOY_SEQUENCE` (one number)."""
    value = answer_number(score, "score")
    expected = float(_induction.prefix_matching_scores(TOY_ATTENTION, TOY_SEQUENCE)[0])
    if abs(value - expected) <= 1e-4:
        return Feedback(True, "the head puts most of its weight on the token after the earlier occurrence "
                              "of the current token: an induction pattern. At the last query both earlier "
                              "'7's count, so their two targets add up.")
    L = len(TOY_SEQUENCE)
    a, toks = TOY_ATTENTION, TOY_SEQUENCE
    repeated = [i for i in range(L) if toks[i] in toks[:i]]
    same = [sum(a[i, j] for j in range(i) if toks[j] == toks[i]) for i in repeated]
    if abs(value - float(np.mean(same))) <= 1e-4:
        return Feedback(False, "this is the attention on the earlier occurrences of the current token "
                               "themselves; an induction head attends to the token right *after* each "
                               "earlier occurrence")
    previous = float(np.mean([a[i, i - 1] for i in range(1, L)]))
    if abs(value - previous) <= 1e-4:
        return Feedback(False, "this is the previous-token score (attention from i to i − 1); the "
                               "prefix-matching score looks at the position after an earlier copy of token i")
    targets = [sum(a[i, j] for j in range(1, i + 1) if toks[j - 1] == toks[i]) for i in range(L)]
    if abs(value - float(np.mean(targets))) <= 1e-4:
        return Feedback(False, "average only over the queries whose token occurred before (from the "
                               "first repeat on); the first block has no earlier copy to match")
    first_only = []
    for i in repeated:
        j = int(np.flatnonzero(toks[:i] == toks[i])[0]) + 1
        first_only.append(a[i, j])
    if abs(value - float(np.mean(first_only))) <= 1e-4:
        return Feedback(False, "when a token occurred more than once before, every position after an "
                               "earlier copy counts; add the attention on all of them")
    direction = "too large" if value > expected else "too small"
    return Feedback(False, f"score = {value:.4g} is {direction}; at each query i whose token occurred "
                           "before, add the attention on the positions j <= i with token[j − 1] == token[i], "
                           "then average over those queries")
