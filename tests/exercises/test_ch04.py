"""Tests of the exercise checkers of chapter 4 (xai_tutorial.exercises.ch04): permutation importance
by hand, the three-player game, the LASSO path without bmi and the Shapley values of a linear model.
The references are scikit-learn's lasso_path and the package's exact Shapley values."""
import numpy as np
from sklearn.linear_model import lasso_path

from xai_tutorial import feature_importance as fi
from xai_tutorial import shapley
from xai_tutorial.exercises import ch04

# diabetes (the data set) comes from tests/conftest.py


def test_ch04_permutation_checker_explains_mistakes():
    assert ch04.check_toy_permutation_importance(2 / 3, 0.0)
    shuffled_accuracy = ch04.check_toy_permutation_importance(1 / 6, 0.0)
    assert not shuffled_accuracy and "accuracy after shuffling" in shuffled_accuracy.message
    wrong_sign = ch04.check_toy_permutation_importance(-2 / 3, 0.0)
    assert not wrong_sign and "sign" in wrong_sign.message
    assert not ch04.check_toy_permutation_importance(2 / 3, 0.1)


def test_ch04_lasso_checker(diabetes):
    keep = [j for j, n in enumerate(diabetes.feature_names) if n != "bmi"]
    yc = diabetes.y_train - diabetes.y_train.mean()
    alphas, coefs, _ = lasso_path(diabetes.X_train[:, keep], yc, alphas=20)
    first = diabetes.feature_names[keep[int(np.argmax(fi.lasso_entry_alphas(alphas, coefs)))]]
    assert ch04.check_lasso_without_bmi(alphas[0], first)
    assert not ch04.check_lasso_without_bmi(alphas[0], "bmi")
    assert not ch04.check_lasso_without_bmi(alphas[0] * 1.1, first)
    other = next(n for n in diabetes.feature_names if n not in (first, "bmi"))
    assert not ch04.check_lasso_without_bmi(alphas[0], other)


def test_ch04_shapley_checkers():
    game = ch04.THREE_PLAYER_GAME
    phi = shapley.shapley_values_of_game(lambda S: game["".join("ABC"[i] for i in sorted(S))], 3)
    assert ch04.check_three_player_shapley(phi)
    alone = ch04.check_three_player_shapley([10, 20, 30])
    assert not alone and "earns alone" in alone.message
    not_efficient = ch04.check_three_player_shapley([10, 20, 31])
    assert not not_efficient and "efficiency" in not_efficient.message
    assert not ch04.check_three_player_shapley([30, 30, 30])

    assert ch04.check_linear_shapley(lambda w, X, b: w * (X - b.mean(axis=0)))
    no_mean = ch04.check_linear_shapley(lambda w, X, b: w * X)
    assert not no_mean and "background mean" in no_mean.message
    assert not ch04.check_linear_shapley(lambda w, X, b: None)


# --------------------------------------------------------------------------- the classroom standard
# Each checker: a right answer written differently from the notebook's solution passes; typical
# wrong answers fail with a hint that does not print the expected answer; None and wrong types get
# "Not yet" and never raise.

def _not_yet(res):
    return not res and str(res).startswith("Not yet")


def test_toy_permutation_accepts_the_precision_the_exercise_asks_for():
    # pen and paper: (5 - 1) / 6 rounded to two decimals
    assert ch04.check_toy_permutation_importance(0.67, 0)
    assert ch04.check_toy_permutation_importance(0.667, 0.0)
    assert not ch04.check_toy_permutation_importance(0.6, 0)


def test_toy_permutation_standard():
    # right, written differently: count the rows whose prediction changes from right to wrong
    pred = ch04.toy_model(ch04.TOY_X)
    shuffled = ch04.TOY_X.copy()
    shuffled[:, 0] = shuffled[ch04.TOY_ORDER, 0]
    lost = np.sum((pred == ch04.TOY_Y) & (ch04.toy_model(shuffled) != ch04.TOY_Y))
    gained = np.sum((pred != ch04.TOY_Y) & (ch04.toy_model(shuffled) == ch04.TOY_Y))
    assert ch04.check_toy_permutation_importance((lost - gained) / 6, np.float32(0))
    cases = [((1 / 6, 0), "accuracy after shuffling"), ((-2 / 3, 0), "wrong sign"),
             ((5 / 6, 0), "baseline accuracy"), ((4, 0), "counts rows"), ((0.8, 0), "ratio"),
             ((2 / 3, 1 / 6), "feature 1"), ((0.5, 0), "too small")]
    for answer, words in cases:
        res = ch04.check_toy_permutation_importance(*answer)
        assert _not_yet(res) and words in res.message, (answer, res.message)
        for shown in ("0.667", "0.6667", "2/3", "0.67 "):
            assert shown not in res.message + " ", (answer, res.message)
    for bad in ((None, 0), (2 / 3, None), ("0.67", 0), ([0.6, 0.1], 0), (2 / 3, np.nan), (..., ...)):
        assert _not_yet(ch04.check_toy_permutation_importance(*bad))


def test_three_player_standard():
    from math import factorial
    from itertools import combinations

    game = ch04.THREE_PLAYER_GAME

    def v(players):
        return game["".join(sorted(players))]

    # right, written differently: the coalition formula |S|! (n - |S| - 1)! / n! [v(S + i) - v(S)]
    phi = []
    for i in "ABC":
        others = [p for p in "ABC" if p != i]
        phi.append(sum(factorial(len(S)) * factorial(2 - len(S)) / 6 * (v(S + (i,)) - v(S))
                       for r in range(3) for S in combinations(others, r)))
    assert ch04.check_three_player_shapley(np.array(phi)[None])  # a (1, 3) row is fine
    cases = [([10, 20, 30], "alone"), ([30, 40, 50], "leave one out"), ([10, 30, 50], "single ordering"),
             ([30, 30, 30], "equally"), ([40, 60, 80], "instead of by the 3! = 6"), ([25, 25, 40], "differ")]
    for answer, words in cases:
        res = ch04.check_three_player_shapley(answer)
        assert _not_yet(res) and words in res.message, (answer, res.message)
        assert "20" not in res.message.replace("[10, 20", "") and "40]" not in res.message, res.message
    for bad in (None, "20 30 40", [20, 30], {"A": 20}, 90):
        assert _not_yet(ch04.check_three_player_shapley(bad))


def test_lasso_without_bmi_standard(diabetes):
    keep = [j for j, n in enumerate(diabetes.feature_names) if n != "bmi"]
    yc = diabetes.y_train - diabetes.y_train.mean()
    # right, written differently: scikit-learn's path starts at alpha_max; three decimals and capitals
    alphas, _, _ = lasso_path(diabetes.X_train[:, keep], yc, alphas=5)
    corr = np.abs(np.corrcoef(diabetes.X_train[:, keep].T, yc)[-1, :-1])
    first = diabetes.feature_names[keep[int(np.argmax(corr))]]
    assert ch04.check_lasso_without_bmi(round(float(alphas[0]), 3), f" {first.upper()}")
    n = len(yc)
    alpha = alphas[0]
    full = np.abs(diabetes.X_train.T @ yc).max() / n
    cases = [((alpha * n, first), "division by n"), ((alpha * n / (n - 1), first), "n - 1"),
             ((full, first), "still includes bmi"), ((alpha, "bmi"), "bmi was removed"),
             ((alpha, "s1"), "not the first feature"), ((alpha, keep.index(8)), "feature name"),
             ((alpha * 1.1, first), "too large")]
    for answer, words in cases:
        res = ch04.check_lasso_without_bmi(*answer)
        assert _not_yet(res) and words in res.message, (answer, res.message)
        assert f"{alpha:.3f}" not in res.message and f"{alpha:.4g}" not in res.message, res.message
        if answer[1] != first:
            assert first not in res.message.split("use one of")[0], res.message
    for bad in ((None, None), (alpha, None), (None, first), ("46", first), (alpha, ["s5"]), (alpha, "BMI2")):
        assert _not_yet(ch04.check_lasso_without_bmi(*bad))


def test_linear_shapley_standard():
    # right, written differently: the interventional value of each single feature, by loops
    def right(w, X, background):
        out = np.zeros(np.shape(X))
        for r, x in enumerate(X):
            for i in range(len(w)):
                out[r, i] = w[i] * x[i] - np.mean([w[i] * b[i] for b in background])
        return out

    assert ch04.check_linear_shapley(right)
    cases = [(lambda w, X, b: w * X, "background mean is missing"),
             (lambda w, X, b: X - b.mean(axis=0), "weights are missing"),
             (lambda w, X, b: w * (b.mean(axis=0) - X), "sign is flipped"),
             (lambda w, X, b: w * (X - b.mean()), "axis=0"),
             (lambda w, X, b: (w * (X - b.mean(axis=0))).sum(axis=1), "summed"),
             (lambda w, X, b: (w * (X - b.mean(axis=0))).T, "transposed"),
             (lambda w, X, b: w * (X - np.median(b, axis=0)), "differ")]
    rng = np.random.default_rng(4)  # the checker's first test case, to look for its values in the messages
    w, X, b = rng.normal(size=3), rng.normal(size=(2, 3)), rng.normal(size=(5, 3)) + 0.5
    expected = w * (X - b.mean(axis=0))
    for wrong, words in cases:
        res = ch04.check_linear_shapley(wrong)
        assert _not_yet(res) and words in res.message, res.message
        assert not any(f"{v:.6g}" in res.message or f"{v:.3f}" in res.message for v in expected.ravel())
    for bad in (None, "phi", np.zeros((2, 3)), lambda w, X, b: None, lambda w, X: w,
                lambda w, X, b: w * (X - b)):
        assert _not_yet(ch04.check_linear_shapley(bad))
