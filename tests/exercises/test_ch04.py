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
    not_efficient = ch04.check_three_player_shapley([10, 20, 30])
    assert not not_efficient and "efficiency" in not_efficient.message
    assert not ch04.check_three_player_shapley([30, 30, 30])

    assert ch04.check_linear_shapley(lambda w, X, b: w * (X - b.mean(axis=0)))
    no_mean = ch04.check_linear_shapley(lambda w, X, b: w * X)
    assert not no_mean and "background mean" in no_mean.message
    assert not ch04.check_linear_shapley(lambda w, X, b: None)
