"""Tests of xai_tutorial.feature_importance against scikit-learn and closed forms."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, lasso_path
from sklearn.metrics import accuracy_score, log_loss, r2_score

from xai_tutorial import data
from xai_tutorial import feature_importance as fi


@pytest.fixture(scope="module")
def wine_model():
    split = data.load_tabular("wine")
    model = LogisticRegression(max_iter=1000).fit(split.X_train, split.y_train)
    return split, model


# diabetes (the data set) comes from tests/conftest.py

# ----------------------------------------------------------------------------- permutation importance

@pytest.mark.parametrize("seed", [0, 7, 12345])
def test_permutation_importance_equals_sklearn_accuracy(wine_model, seed):
    split, model = wine_model
    ref = sk_permutation_importance(model, split.X_test, split.y_test, n_repeats=6, random_state=seed)
    got = fi.permutation_importance(model.predict, split.X_test, split.y_test, scoring=accuracy_score,
                                    n_repeats=6, seed=seed)
    assert got.importances.shape == (split.X_test.shape[1], 6)
    np.testing.assert_allclose(got.importances, ref.importances, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.importances_mean, ref.importances_mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.importances_std, ref.importances_std, rtol=0, atol=1e-12)
    assert got.baseline_score == pytest.approx(model.score(split.X_test, split.y_test))


def test_permutation_importance_equals_sklearn_log_loss(wine_model):
    split, model = wine_model
    ref = sk_permutation_importance(model, split.X_test, split.y_test, n_repeats=5, random_state=3,
                                    scoring="neg_log_loss")
    got = fi.permutation_importance(model.predict_proba, split.X_test, split.y_test,
                                    scoring=lambda y, p: -log_loss(y, p), n_repeats=5, seed=3)
    np.testing.assert_allclose(got.importances, ref.importances, rtol=0, atol=1e-12)
    # log-loss moves continuously: the leading feature has a clearly positive importance
    assert got.importances_mean.max() > 0.05


def test_permutation_importance_equals_sklearn_r2_with_randomstate(diabetes):
    model = LinearRegression().fit(diabetes.X_train, diabetes.y_train)
    ref = sk_permutation_importance(model, diabetes.X_test, diabetes.y_test, n_repeats=4,
                                    random_state=np.random.RandomState(11))
    got = fi.permutation_importance(model.predict, diabetes.X_test, diabetes.y_test, scoring=r2_score,
                                    n_repeats=4, seed=np.random.RandomState(11))
    np.testing.assert_allclose(got.importances, ref.importances, rtol=0, atol=1e-12)


def test_permutation_importance_none_uses_global_state(wine_model):
    split, model = wine_model
    np.random.seed(5)
    ref = sk_permutation_importance(model, split.X_test, split.y_test, n_repeats=3, random_state=None)
    np.random.seed(5)
    got = fi.permutation_importance(model.predict, split.X_test, split.y_test, scoring=accuracy_score,
                                    n_repeats=3, seed=None)
    np.testing.assert_allclose(got.importances, ref.importances, rtol=0, atol=1e-12)


def test_ignored_feature_has_zero_importance():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = 2 * X[:, 0] - X[:, 2]
    predict = lambda Z: 2 * Z[:, 0] - Z[:, 2]  # noqa: E731 - feature 1 is never used
    res = fi.permutation_importance(predict, X, y, scoring=r2_score, n_repeats=4, seed=0)
    assert res.importances_mean[1] == 0.0
    # expected drop in R^2 for a linear model: 2 w_j^2 var(x_j) / var(y) = 1.6 and 0.4
    assert res.importances_mean[0] > 1.0 and 0.2 < res.importances_mean[2] < 0.7


def test_permutation_indices_are_composed_permutations():
    orders = fi.permutation_indices(10, 3, seed=4)
    assert orders.shape == (3, 10)
    for row in orders:
        assert sorted(row.tolist()) == list(range(10))
    rng = np.random.RandomState(4)
    idx = np.arange(10)
    rng.shuffle(idx)
    first = idx.copy()
    rng.shuffle(idx)
    np.testing.assert_array_equal(orders[0], first)
    np.testing.assert_array_equal(orders[1], first[idx])  # the shuffled column is shuffled again


@pytest.mark.parametrize("n_repeats", [0, -2])
def test_permutation_importance_rejects_n_repeats_below_one(wine_model, n_repeats):
    split, model = wine_model
    with pytest.raises(ValueError, match="n_repeats must be in"):
        fi.permutation_importance(model.predict, split.X_test, split.y_test, scoring=accuracy_score,
                                  n_repeats=n_repeats)


def test_permutation_importance_rejects_bad_inputs(wine_model):
    split, model = wine_model
    X, y = split.X_test, split.y_test
    with pytest.raises(ValueError, match="X must be 2-D"):
        fi.permutation_importance(model.predict, X[0], y[:1], scoring=accuracy_score)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        fi.permutation_importance(model.predict, X_nan, y, scoring=accuracy_score)
    with pytest.raises(ValueError, match="one entry per row"):
        fi.permutation_importance(model.predict, X, y[:-1], scoring=accuracy_score)
    with pytest.raises(TypeError, match="predict_fn must be callable"):
        fi.permutation_importance("model", X, y, scoring=accuracy_score)
    with pytest.raises(TypeError, match="scoring must be callable"):
        fi.permutation_importance(model.predict, X, y, scoring="accuracy")
    with pytest.raises(TypeError, match="seed must be an int"):
        fi.permutation_importance(model.predict, X, y, scoring=accuracy_score, seed=0.5)


# ----------------------------------------------------------------------------- LASSO

def test_soft_threshold_closed_form():
    np.testing.assert_array_equal(fi.soft_threshold([-3.0, -0.5, 0.0, 0.5, 3.0], 1.0),
                                  [-2.0, 0.0, 0.0, 0.0, 2.0])
    with pytest.raises(ValueError, match="threshold must be"):
        fi.soft_threshold([1.0], -1.0)


@pytest.mark.parametrize("alpha", [0.01, 0.5, 2.0, 10.0])
def test_lasso_coordinate_descent_equals_sklearn(diabetes, alpha):
    coef, intercept = fi.lasso_coordinate_descent(diabetes.X_train, diabetes.y_train, alpha, tol=1e-12)
    ref = Lasso(alpha=alpha, tol=1e-14, max_iter=200_000).fit(diabetes.X_train, diabetes.y_train)
    np.testing.assert_allclose(coef, ref.coef_, rtol=0, atol=1e-6)
    assert intercept == pytest.approx(ref.intercept_, abs=1e-6)


def test_lasso_coordinate_descent_is_zero_above_alpha_max(diabetes):
    Xc = diabetes.X_train - diabetes.X_train.mean(axis=0)
    yc = diabetes.y_train - diabetes.y_train.mean()
    alpha_max = np.abs(Xc.T @ yc).max() / len(yc)   # smallest alpha with all weights 0
    coef, intercept = fi.lasso_coordinate_descent(diabetes.X_train, diabetes.y_train, alpha_max * 1.001)
    assert np.all(coef == 0) and intercept == pytest.approx(diabetes.y_train.mean())
    coef, _ = fi.lasso_coordinate_descent(diabetes.X_train, diabetes.y_train, alpha_max * 0.99)
    assert np.count_nonzero(coef) == 1


def test_lasso_rejects_bad_inputs(diabetes):
    with pytest.raises(ValueError, match="alpha must be"):
        fi.lasso_coordinate_descent(diabetes.X_train, diabetes.y_train, -1.0)
    with pytest.raises(ValueError, match="one entry per row"):
        fi.lasso_coordinate_descent(diabetes.X_train, diabetes.y_train[:-1], 1.0)


def test_lasso_entry_alphas_orders_features(diabetes):
    alphas, coefs, _ = lasso_path(diabetes.X_train, diabetes.y_train - diabetes.y_train.mean())
    entry = fi.lasso_entry_alphas(alphas, coefs)
    first = int(np.argmax(entry))
    # the first feature to enter is the one most correlated with the target
    corr = np.abs(diabetes.X_train.T @ (diabetes.y_train - diabetes.y_train.mean()))
    assert first == int(np.argmax(corr))
    np.testing.assert_array_equal(fi.lasso_entry_alphas([3.0, 2.0, 1.0], [[0, 0, 1.0], [0, 0, 0]]), [1.0, 0.0])
    with pytest.raises(ValueError, match="coefs must have shape"):
        fi.lasso_entry_alphas([3.0, 2.0], [[0, 0, 1.0]])
