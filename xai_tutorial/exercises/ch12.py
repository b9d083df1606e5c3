"""Checkers for the exercises of chapter 12, *Inside a transformer: attribution beyond raw attention*.

The three exercises work by hand on one toy two-layer, one-head transformer over three positions,
``[CLS] not good``: its attention maps :data:`TOY_A1` and :data:`TOY_A2` (rows are queries and sum
to 1) and the gradients :data:`TOY_G1` and :data:`TOY_G2` of a logit with respect to them. Each
checker computes the expected answer with the package's own functions
(:mod:`xai_tutorial.transformer_attribution`, :mod:`xai_tutorial.attention`), recognises the usual
mistakes (no residual connection, the layers multiplied in the wrong order, a missing
renormalisation, products instead of bottlenecks, negative evidence not clipped) and says which
one it found, without printing the expected values.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import attention as _attention
from .. import transformer_attribution as _ta
from .core import Feedback, NotYet, answer_array, check_array, checker

__all__ = ["TOY_TOKENS", "TOY_A1", "TOY_A2", "TOY_G1", "TOY_G2", "toy_maps", "toy_gradients",
           "check_rollout_row", "check_flow_row", "check_chefer_row"]

#: The positions of the toy sequence: the classification token and two words.
TOY_TOKENS: tuple[str, ...] = ("[CLS]", "not", "good")
#: First-layer attention, shape (3, 3): row i is query i; every row sums to 1.
TOY_A1 = np.array([[0.6, 0.2, 0.2],
                   [0.1, 0.3, 0.6],   # "not" reads "good": the negation is composed here
                   [0.1, 0.1, 0.8]])
#: Second-layer attention, shape (3, 3).
TOY_A2 = np.array([[0.2, 0.7, 0.1],   # [CLS] reads the position that now holds "not good"
                   [0.2, 0.6, 0.2],
                   [0.3, 0.3, 0.4]])
#: Gradient of the logit with respect to TOY_A1, shape (3, 3).
TOY_G1 = np.array([[0.5, -1.0, 2.0],
                   [0.0, 1.0, 1.5],
                   [0.0, 0.0, 0.0]])
#: Gradient of the logit with respect to TOY_A2, shape (3, 3).
TOY_G2 = np.array([[-0.5, 2.0, -3.0],
                   [0.0, 0.0, 0.0],
                   [0.0, 0.0, 0.0]])

_TOL = 1e-6


def toy_maps() -> list[np.ndarray]:
    """The toy attention maps in the package's layout: a list of two arrays (1, 1, 3, 3)."""
    return [TOY_A1[None, None].copy(), TOY_A2[None, None].copy()]


def toy_gradients() -> list[np.ndarray]:
    """The toy gradients in the package's layout: a list of two arrays (1, 1, 3, 3)."""
    return [TOY_G1[None, None].copy(), TOY_G2[None, None].copy()]


def _augmented(a: np.ndarray, residual_weight: float = 0.5, normalise: bool = True) -> np.ndarray:
    aug = residual_weight * np.eye(len(a)) + (1.0 - residual_weight) * a
    return aug / aug.sum(axis=1, keepdims=True) if normalise else aug


def _row(answer: Any, name: str) -> np.ndarray:
    """The answer as a row of three numbers, or stop with a "Not yet" that says why it is not one."""
    arr = answer_array(answer, name, what="a row of three numbers, one per position [CLS], not, good")
    if arr.shape == (3, 3):
        raise NotYet(f"{name} is a whole (3, 3) matrix; the explanation of the classifier is "
                     "its row 0, the row of [CLS]")
    if arr.shape == (2,):
        raise NotYet(f"{name} has 2 values; keep all three positions, [CLS] included "
                     "(column 0 is [CLS]'s share of itself)")
    if arr.shape != (3,):
        raise NotYet(f"{name} has shape {arr.shape}; it needs one value per position, shape (3,)")
    return arr


def _near(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=0, atol=1e-4))


@checker
def check_rollout_row(row: Any) -> Feedback:
    """Check the rollout row of [CLS] for the toy maps (residual weight 0.5, rows renormalised)."""
    arr = _row(row, "the rollout row")
    maps = toy_maps()
    expected = _attention.attention_rollout(maps, residual_weight=0.5)[0, 0]
    if _near(arr, expected):
        return Feedback(True, "R = Ã2 Ã1, row 0. 'good' gets more than it gets from [CLS] in either "
                              "layer alone, because the path [CLS] -> not -> good carries it.")
    a1, a2 = _augmented(TOY_A1), _augmented(TOY_A2)
    if _near(arr, (a1 @ a2)[0]):
        return Feedback(False, "the layers are multiplied in the wrong order: the last layer is applied "
                               "last, so R = Ã2 · Ã1 (read from [CLS] at the top down to the inputs)")
    if _near(arr, (TOY_A2 @ TOY_A1)[0]):
        return Feedback(False, "this is the product of the raw maps: add the residual connection first, "
                               "Ã = 0.5 I + 0.5 A, in each layer")
    if _near(arr, (_augmented(TOY_A2, normalise=False) @ _augmented(TOY_A1, normalise=False))[0] * 4) or \
            _near(arr, ((TOY_A2 + np.eye(3)) @ (TOY_A1 + np.eye(3)))[0]):
        return Feedback(False, "the residual is added as A + I but the rows are not renormalised, so the "
                               "row sums to 4 instead of 1: divide each layer's A + I by its row sums")
    if _near(arr, TOY_A2[0]) or _near(arr, a2[0]):
        return Feedback(False, "this is the last layer alone; rollout multiplies the maps of both layers")
    if _near(arr, (a2 @ a1)[:, 0]):
        return Feedback(False, "this is column 0 of R; the explanation of [CLS] is row 0, R[0, :]")
    return check_array(arr, expected, name="the rollout row", rtol=0, atol=1e-4)


@checker
def check_flow_row(row: Any) -> Feedback:
    """Check the attention flow from [CLS] at the top to each input position for the toy maps."""
    arr = _row(row, "the flow row")
    maps = toy_maps()
    expected = _ta.attention_flow_values(maps, output=0, residual_weight=0.5)[0]
    if _near(arr, expected):
        return Feedback(True, "each path [CLS] -> k -> j carries at most its narrowest edge, "
                              "min(Ã2[0, k], Ã1[k, j]), and the flow adds the paths. No value is below "
                              "the rollout value, since min(a, b) >= a b for weights in [0, 1].")
    a1, a2 = _augmented(TOY_A1), _augmented(TOY_A2)
    if _near(arr, (a2 @ a1)[0]):
        return Feedback(False, "this is rollout, the sum of the *products* of the weights along the paths; "
                              "a flow through a path is limited by its narrowest edge: use min, not the product")
    if _near(arr, np.minimum(a2[0][:, None], a1).max(axis=0)):
        return Feedback(False, "you kept only the best path into each position; the paths share no edge, "
                              "so their flows add up: sum over k, not max")
    if _near(arr, np.minimum(TOY_A2[0][:, None], TOY_A1).sum(axis=0)):
        return Feedback(False, "the capacities must include the residual connection: Ã = 0.5 I + 0.5 A, "
                              "rows renormalised")
    column_of_a2 = np.minimum(a2[:, 0][:, None], a1).sum(axis=0)
    transposed_a1 = np.minimum(a2[0][None, :], a1.T).sum(axis=1)
    if _near(arr, column_of_a2) or _near(arr, transposed_a1):
        return Feedback(False, "the capacities are read the wrong way round: the edge from [CLS] at the top "
                              "to k below is Ã2[0, k], and from k to input j is Ã1[k, j]")
    return check_array(arr, expected, name="the flow row", rtol=0, atol=1e-4)


@checker
def check_chefer_row(row: Any) -> Feedback:
    """Check the gradient-weighted relevance of Chefer et al. (row 0 of R) for the toy maps and gradients."""
    arr = _row(row, "the relevance row")
    expected = _ta.chefer_relevance_matrix(toy_maps(), toy_gradients())[0, 0]
    if _near(arr, expected):
        return Feedback(True, "R starts at I and each layer adds (∇A ⊙ A)^+ · R. The second layer's "
                              "negative gradients on [CLS] and 'good' are clipped away, so in that layer "
                              "'good' reaches [CLS] only through 'not'.")

    def relevance(cams):
        r = np.eye(3)
        for c in cams:
            r = r + c @ r
        return r[0]

    g_a = [TOY_G1 * TOY_A1, TOY_G2 * TOY_A2]
    if _near(arr, relevance(g_a)):
        return Feedback(False, "the negative products were not clipped: rule 5 keeps only the positive part, "
                              "(∇A ⊙ A)^+ = max(∇A ⊙ A, 0)")
    if _near(arr, relevance([np.abs(c) for c in g_a])):
        return Feedback(False, "you took the absolute value; rule 5 keeps the positive part only, so "
                              "attention that lowers the logit counts 0, not as evidence")
    if _near(arr, relevance([TOY_A1, TOY_A2])):
        return Feedback(False, "the gradients are missing: weight each attention weight by its gradient, "
                              "∇A ⊙ A, before clipping")
    clipped = [np.clip(c, 0, None) for c in g_a]
    if _near(arr, relevance(clipped[::-1])):
        return Feedback(False, "the layers are applied in the wrong order: start with the first layer, then "
                              "the second (R <- R + Ā1 R, then R <- R + Ā2 R)")
    if _near(arr, clipped[0][0] + clipped[1][0]) or _near(arr, (clipped[1] @ clipped[0])[0]):
        return Feedback(False, "start from the identity and update R <- R + Ā · R in each layer: the identity "
                              "keeps each token's relevance to itself, and the update adds the paths")
    return check_array(arr, expected, name="the relevance row", rtol=0, atol=1e-4)
