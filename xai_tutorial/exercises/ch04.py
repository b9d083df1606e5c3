"""Checkers for the exercises of chapter 4 (permutation importance, LASSO, Shapley values).

Every checker computes the expected answer itself and returns a :class:`Feedback` that says what
is wrong when the answer is not right.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import (Feedback, answer_array, answer_number, call, check_array, check_scalar, checker, describe,
                   require_callable)

__all__ = [
    "TOY_X", "TOY_Y", "TOY_ORDER", "toy_model",
    "THREE_PLAYER_GAME",
    "check_toy_permutation_importance",
    "check_three_player_shapley",
    "check_lasso_without_bmi",
    "check_linear_shapley",
    "PERMUTATION_TOLERANCE", "LASSO_TOLERANCE",
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


#: The precision the exercise asks for: two decimals, as a pen-and-paper answer gives them (2/3 ≈ 0.67).
PERMUTATION_TOLERANCE = 0.005


@checker
def check_toy_permutation_importance(importance_0: Any, importance_1: Any) -> Feedback:
    """Check the permutation importances of features 0 and 1 of the toy model for TOY_ORDER.

    Values rounded to two decimals pass (the check allows an error of 0.005).
    """
    base = float(np.mean(toy_model(TOY_X) == TOY_Y))
    expected = (_toy_importance(0), _toy_importance(1))
    n = len(TOY_Y)
    tol = PERMUTATION_TOLERANCE
    for name, got, want, j in (("importance_0", importance_0, expected[0], 0),
                               ("importance_1", importance_1, expected[1], 1)):
        value = answer_number(got, name)
        if abs(value - want) <= tol:
            continue
        if want != 0 and abs(value + want) <= tol:
            return Feedback(False, f"{name} has the wrong sign: importance is baseline score minus "
                                   "shuffled score, positive when shuffling hurts.")
        if want != 0 and abs(value - (base - want)) <= tol:
            return Feedback(False, f"{name} = {value:.4g} is the accuracy after shuffling; the importance "
                                   "is the baseline accuracy (of the unshuffled data) minus it.")
        if abs(value - base) <= tol:
            return Feedback(False, f"{name} = {value:.4g} is the baseline accuracy; subtract the accuracy "
                                   f"after shuffling column {j}.")
        if value != 0 and abs(value - n * want) <= tol:
            return Feedback(False, f"{name} = {value:g} counts rows; accuracy is a fraction, so divide the "
                                   f"counts by the {n} rows.")
        if want != 0 and abs(value - want / base) <= tol:
            return Feedback(False, f"{name} is a ratio to the baseline; the importance is the difference "
                                   "baseline accuracy minus shuffled accuracy.")
        if want == 0:
            return Feedback(False, f"{name} = {value:.4g}: look at what the model does with feature 1 "
                                   "before you shuffle it; does shuffling it change any prediction?")
        direction = "too large" if value > want else "too small"
        return Feedback(False, f"{name} = {value:.4g} is {direction}: shuffle column {j} only (row i gets "
                               "the value of row TOY_ORDER[i]), predict again, and subtract the new "
                               "accuracy from the baseline accuracy.")
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
    game = THREE_PLAYER_GAME
    expected = _three_player_reference()
    arr = answer_array(phi, "phi", what="three numbers [phi_A, phi_B, phi_C]").ravel()
    if arr.shape != (3,):
        return Feedback(False, f"phi must hold three numbers (A, B, C), got {arr.size}")
    if np.allclose(arr, expected, atol=1e-6):
        return Feedback(True, f"phi = {expected.tolist()}: each player's average marginal contribution over "
                              "the 6 orderings, and they add up to v(ABC).")
    total = game["ABC"] - game[""]
    singles = np.array([game[p] - game[""] for p in "ABC"])
    leave_one_out = np.array([game["ABC"] - game["ABC".replace(p, "")] for p in "ABC"])
    first_order = np.array([game["A"] - game[""], game["AB"] - game["A"], game["ABC"] - game["AB"]])
    if np.allclose(arr, singles):
        return Feedback(False, "these are v(A), v(B), v(C), what each player earns alone; a Shapley value "
                               "averages the player's marginal contribution over all 6 orderings")
    if np.allclose(arr, leave_one_out):
        return Feedback(False, "these are v(ABC) minus the coalition without the player (leave one out), "
                               "the contribution when joining last; average over all 6 orderings")
    if np.allclose(arr, first_order):
        return Feedback(False, "these are the marginal contributions of the single ordering A, B, C; "
                               "average them over all 6 orderings")
    if np.allclose(arr, np.full(3, total / 3)):
        return Feedback(False, "this splits v(ABC) equally; the players are not symmetric, so each one's "
                               "average marginal contribution differs")
    for factor, word in ((6 / 3, "3"), (6, "1 (a sum over orderings)"), (6 / 2, "2")):
        if np.allclose(arr, expected * factor):
            return Feedback(False, f"the values sum to {arr.sum():g}, more than v(ABC): it looks like you "
                                   f"divided by {word} instead of by the 3! = 6 orderings")
    if abs(arr.sum() - total) > 1e-6:
        return Feedback(False, f"your values sum to {arr.sum():.6g}, but efficiency requires "
                               "v(ABC) - v(empty). Average each player's marginal contribution over all 6 "
                               "orderings.")
    res = check_array(arr, expected, name="phi")
    if res:
        return Feedback(True, f"phi = {expected.tolist()}: each player's average marginal contribution over "
                              "the 6 orderings, and they add up to v(ABC).")
    return res.with_hint("Average each player's marginal contribution v(S + player) - v(S) over all 6 "
                         "orderings.")


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


#: The precision the exercise asks for: alpha_max to three decimals (as printed with ``:.3f``).
LASSO_TOLERANCE = 1e-3


@checker
def check_lasso_without_bmi(alpha_max: Any, first_feature: Any) -> Feedback:
    """Check alpha_max and the first feature to enter the LASSO path on diabetes without ``bmi``.

    ``alpha_max`` rounded to three decimals passes; the name is compared without regard to case
    or surrounding spaces.
    """
    from .. import data

    want_alpha, want_name = _lasso_without_bmi()
    names = data.load_tabular("diabetes").feature_names
    if first_feature is None or first_feature is Ellipsis:
        return Feedback(False, f"first_feature is {describe(first_feature)}: assign the name of the feature "
                               "that enters the path first (a str such as 'age')")
    if not isinstance(first_feature, str):
        hint = (" (an index? look its name up in dia_names, remembering that the columns without bmi "
                "are renumbered)" if isinstance(first_feature, (int, np.integer)) else "")
        return Feedback(False, f"first_feature must be a feature name (a str), got {describe(first_feature)}"
                               + hint)
    name = first_feature.strip().lower()
    if name == "bmi":
        return Feedback(False, "bmi was removed from the data in this exercise: which feature enters first now?")
    if name not in names:
        return Feedback(False, f"{first_feature!r} is not a feature of the diabetes data; use one of "
                               f"{list(names)}")
    if name != want_name:
        return Feedback(False, f"{first_feature!r} is not the first feature to enter: the first one has the "
                               "largest |x_j . (y - mean y)| / n (the absolute value counts, not the sign). "
                               "If you took the arg-max among the columns without bmi, map its index back "
                               "to the name through keep.")
    value = answer_number(alpha_max, "alpha_max")
    if abs(value - want_alpha) <= LASSO_TOLERANCE:
        return Feedback(True, f"without bmi, {want_name} enters first, at alpha_max = {want_alpha:.4g}.")
    split = data.load_tabular("diabetes")
    yc = split.y_train - split.y_train.mean()
    n = len(yc)
    keep = [j for j, nm in enumerate(split.feature_names) if nm != "bmi"]
    with_bmi = float(np.abs(split.X_train.T @ yc).max() / n)
    if abs(value - want_alpha * n) <= LASSO_TOLERANCE * n:
        return Feedback(False, "alpha_max is missing the division by n, the number of training rows "
                               "(scikit-learn's Lasso minimises (1 / (2n)) ||y - Xw||² + alpha ||w||₁)")
    if abs(value - want_alpha * n / (n - 1)) <= LASSO_TOLERANCE:
        return Feedback(False, "alpha_max was divided by n - 1; scikit-learn's scaling divides by n, the "
                               "number of training rows")
    if abs(value - with_bmi) <= LASSO_TOLERANCE:
        return Feedback(False, "this alpha_max still includes bmi: take the maximum over the columns "
                               "without it (X_train[:, keep])")
    if abs(value - float(np.abs(split.X_train[:, keep].T @ yc).max())) <= 1e-6 * n:
        return Feedback(False, "alpha_max is missing the division by n")
    res = check_scalar(value, want_alpha, name="alpha_max", tol=LASSO_TOLERANCE)
    return res.with_hint("alpha_max is max_j |x_j . (y - mean y)| / n on the training data, with n "
                         "the number of rows (scikit-learn's scaling).")


# --------------------------------------------------------------------------- exercise: linear Shapley

@checker
def check_linear_shapley(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], Any]) -> Feedback:
    """Check ``fn(w, X, background)`` against exact enumeration for random linear models.

    Three cases with different numbers of features, rows and background rows (one with a single
    row); the first failing case is diagnosed.
    """
    from ..shapley import exact_shapley_values

    require_callable(fn, "a function linear_shapley(w, X, background)")
    rng = np.random.default_rng(4)
    for case, (d, n, m) in enumerate([(3, 2, 5), (5, 4, 8), (6, 1, 3)], start=1):
        w = rng.normal(size=d)
        X, background = rng.normal(size=(n, d)), rng.normal(size=(m, d)) + 0.5
        expected = exact_shapley_values(lambda Z, w=w: Z @ w + 1.0, X, background).values
        where = f"on test case {case} (w {w.shape}, X {X.shape}, background {background.shape})"
        got = answer_array(call(fn, w, X, background, name="linear_shapley", case=where),
                           f"the result {where}")
        if got.shape == (n,) and n != d:
            return Feedback(False, f"the result {where} has one number per row, shape {got.shape}: these look "
                                   "like summed attributions; return one value per row and feature, shape "
                                   f"(n_rows, d) = {expected.shape}")
        if got.shape == expected.T.shape and n != d:
            return Feedback(False, f"the result {where} has shape {got.shape}, expected (n_rows, d) = "
                                   f"{expected.shape} (transposed?)")
        if got.shape != expected.shape:
            return Feedback(False, f"the result {where} has shape {got.shape}, expected (n_rows, d) = "
                                   f"{expected.shape}: one Shapley value per row of X and feature")
        mean = background.mean(axis=0)
        if np.allclose(got, w * X):
            return Feedback(False, "you returned w * x: the background mean is missing. A feature's value is "
                                   "measured against the average background value, w_i (x_i - mean_i).")
        if np.allclose(got, X - mean):
            return Feedback(False, f"{where}: the weights are missing; multiply x_i - mean_i by w_i")
        if np.allclose(got, -w * (X - mean)):
            return Feedback(False, f"{where}: the sign is flipped; phi_i = w_i (x_i - mean_i), positive when "
                                   "x_i lies above the background mean and w_i > 0")
        if np.allclose(got, w * (X - background.mean())):
            return Feedback(False, f"{where}: you subtracted the mean of the whole background array; take the "
                                   "mean of each feature over the background rows, background.mean(axis=0)")
        if np.allclose(got, w * (X - mean) + 1.0 / d):
            return Feedback(False, f"{where}: the intercept is spread over the features; it cancels in every "
                                   "marginal contribution, so leave it out")
        res = check_array(got, expected, name=f"the result {where}")
        if not res:
            return res.with_hint("phi_i = w_i (x_i - mean_i), with mean_i the mean of feature i over the "
                                 "background rows.")
    return Feedback(True, "w_i (x_i - mean of background_i) equals exact enumeration over all coalitions.")
