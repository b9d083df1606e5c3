"""Checkers for the exercises of chapter 4 (permutation importance, LASSO, Shapley values).

Every checker computes the expected answer itself and returns a :class:`Feedback` that says what
is wrong when the answer is not right.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import (Feedback, answer_array, answer_number, call, check_array, check_scalar, checker, describe,
                   require, require_callable)

__all__ = [
    "TOY_X", "TOY_Y", "TOY_ORDER", "toy_model",
    "THREE_PLAYER_GAME",
    "check_toy_permutation_importance",
    "check_three_player_shapley",
    "check_lasso_without_bmi",
    "check_linear_shapley",
]

# --------------------------------------------------------------------------- exercise: permutation by hand

#: Six rows, two features. Column 0 drives the toy model, column 1 is ignored by it.
TOY_X = np.array([[-2.0, 5.0], [-1.0, 3.0], [0.5, 1.0], [1.0, 4.0], [2.0, 2.0], [3.0, 6.0]])
#: True labels; the last row is misclassified by the toy model.
TOY_Y = np.array([0, 0, 1, 1, 1, 0])
#: The shuffle of the rows to apply to one column: row i receives the value of row TOY_ORDER[i].
TOY_ORDER = np.array([3, 5, 0, 4, 1, 2])


def toy_model(X: np.ndarray) -> np.ndarray:
    """Predict class 1 when feature 0 is positive. Input (n, 2), output (n,) of 0/1."""
    return (np.asarray(X)[:, 0] > 0).astype(int)


def _toy_importance(j: int) -> float:
    base = np.mean(toy_model(TOY_X) == TOY_Y)
    X_perm = TOY_X.copy()
    X_perm[:, j] = TOY_X[TOY_ORDER, j]
    return float(base - np.mean(toy_model(X_perm) == TOY_Y))


@checker
def check_toy_permutation_importance(importance_0: Any, importance_1: Any) -> Feedback:
    """Check the permutation importances of features 0 and 1 of the toy model for TOY_ORDER."""
    base = float(np.mean(toy_model(TOY_X) == TOY_Y))
    expected = (_toy_importance(0), _toy_importance(1))
    for name, got, want in (("importance_0", importance_0, expected[0]),
                            ("importance_1", importance_1, expected[1])):
        value = answer_number(got, name)
        if abs(value - want) <= 1e-9:
            continue
        if abs(value + want) < 1e-9 and want != 0:
            return Feedback(False, f"{name} has the wrong sign: importance is baseline score minus "
                                   "shuffled score, positive when shuffling hurts.")
        if abs(value - (base - want)) < 1e-9:
            return Feedback(False, f"{name} = {value:.4g} is the accuracy after shuffling; the importance "
                                   f"is the baseline accuracy ({base:.4g}) minus it.")
        return check_scalar(value, want, name=name, tol=1e-9)
    return Feedback(True, f"shuffling feature 0 drops the accuracy by {expected[0]:.4g}; feature 1, which the "
                          "model never reads, has importance exactly 0.")


# --------------------------------------------------------------------------- exercise: a 3-player game

#: v(S) for every coalition of the players A, B, C.
THREE_PLAYER_GAME: dict[str, float] = {"": 0.0, "A": 10.0, "B": 20.0, "C": 30.0,
                                       "AB": 40.0, "AC": 50.0, "BC": 60.0, "ABC": 90.0}


def _three_player_reference() -> np.ndarray:
    from itertools import permutations

    phi = dict.fromkeys("ABC", 0.0)
    for order in permutations("ABC"):
        members = ""
        for p in order:
            after = "".join(sorted(members + p))
            phi[p] += THREE_PLAYER_GAME[after] - THREE_PLAYER_GAME[members]
            members = after
    return np.array([phi[p] / 6 for p in "ABC"])


@checker
def check_three_player_shapley(phi: Any) -> Feedback:
    """Check the Shapley values ``[phi_A, phi_B, phi_C]`` of :data:`THREE_PLAYER_GAME`."""
    expected = _three_player_reference()
    arr = answer_array(phi, "phi", what="three numbers [phi_A, phi_B, phi_C]").ravel()
    if arr.shape != (3,):
        return Feedback(False, f"phi must hold three numbers (A, B, C), got {arr.size}")
    total = THREE_PLAYER_GAME["ABC"] - THREE_PLAYER_GAME[""]
    if abs(arr.sum() - total) > 1e-6:
        return Feedback(False, f"your values sum to {arr.sum():.6g}, but efficiency requires "
                               f"v(ABC) - v(empty) = {total:g}. Average each player's marginal "
                               "contribution over all 6 orderings.")
    require(check_array(arr, expected, name="phi"))
    return Feedback(True, f"phi = {expected.tolist()}: each player's average marginal contribution over the "
                          "6 orderings, and they add up to v(ABC).")


# --------------------------------------------------------------------------- exercise: LASSO without bmi

def _lasso_without_bmi() -> tuple[float, str]:
    from .. import data

    split = data.load_tabular("diabetes")
    keep = [j for j, n in enumerate(split.feature_names) if n != "bmi"]
    X = split.X_train[:, keep]
    yc = split.y_train - split.y_train.mean()
    Xc = X - X.mean(axis=0)
    scores = np.abs(Xc.T @ yc) / len(yc)
    j = int(np.argmax(scores))
    return float(scores[j]), split.feature_names[keep[j]]


@checker
def check_lasso_without_bmi(alpha_max: Any, first_feature: Any) -> Feedback:
    """Check alpha_max and the first feature to enter the LASSO path on diabetes without ``bmi``."""
    want_alpha, want_name = _lasso_without_bmi()
    if not isinstance(first_feature, str):
        return Feedback(False, f"first_feature must be a feature name (a str), got {describe(first_feature)}")
    if first_feature == "bmi":
        return Feedback(False, "bmi was removed from the data in this exercise: which feature enters first now?")
    if first_feature != want_name:
        return Feedback(False, f"{first_feature!r} is not the first feature to enter: the first one has the "
                               "largest |x_j . (y - mean y)| / n.")
    res = check_scalar(alpha_max, want_alpha, name="alpha_max", tol=1e-4 * max(1.0, want_alpha))
    if not res:
        return res.with_hint("alpha_max is max_j |x_j . (y - mean y)| / n on the training data, with n "
                             "the number of rows (scikit-learn's scaling).")
    return Feedback(True, f"without bmi, {want_name} enters first, at alpha_max = {want_alpha:.4g}.")


# --------------------------------------------------------------------------- exercise: linear Shapley

@checker
def check_linear_shapley(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], Any]) -> Feedback:
    """Check ``fn(w, X, background)`` against exact enumeration for random linear models."""
    from ..shapley import exact_shapley_values

    require_callable(fn, "a function fn(w, X, background)")
    rng = np.random.default_rng(4)
    for case, (d, n, m) in enumerate([(3, 2, 5), (5, 4, 8), (6, 1, 3)], start=1):
        w = rng.normal(size=d)
        X, background = rng.normal(size=(n, d)), rng.normal(size=(m, d))
        expected = exact_shapley_values(lambda Z, w=w: Z @ w + 1.0, X, background).values
        got = answer_array(call(fn, w, X, background, case=f"on test case {case}"),
                           f"the result on test case {case}")
        if got.shape == expected.shape and np.allclose(got, w * X):
            return Feedback(False, "you returned w * x: the background mean is missing. A feature's value is "
                                   "measured against the average background value, w_i (x_i - mean_i).")
        require(check_array(got, expected, name=f"the result on test case {case}"))
    return Feedback(True, "w_i (x_i - mean of background_i) equals exact enumeration over all coalitions.")
