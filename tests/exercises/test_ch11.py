"""Tests of the exercise checkers of the FAQ chapter (xai_tutorial.exercises.ch11)."""
import numpy as np
from sklearn.linear_model import LogisticRegression

from xai_tutorial import shapley
from xai_tutorial.exercises import ch11

A = np.array([0.70, 0.10, 0.10, 0.10])
V = np.array([[0.01, 0.0], [4.0, 1.0], [0.5, -0.2], [0.3, 0.1]])


def test_contribution_right_and_typical_mistakes():
    out = (A[:, None] * V).sum(0)
    assert ch11.check_contribution(out, 1, A, V)
    res = ch11.check_contribution(A[:, None] * V @ np.ones(2), 1, A, V)
    assert not res and "one entry per token" in res.message
    res = ch11.check_contribution(V.sum(0), 1, A, V)
    assert not res and "plain sum" in res.message
    res = ch11.check_contribution(out, 0, A, V)
    assert not res and "largest weight but not the largest contribution" in res.message
    res = ch11.check_contribution(out, 2, A, V)
    assert not res and "token 1 has the largest" in res.message
    res = ch11.check_contribution(out, 1.0, A, V)
    assert not res and "must be an int" in res.message


def test_attention_kind_checker():
    def kind(q, kv):
        return "self" if q is kv or (np.shape(q) == np.shape(kv) and np.array_equal(q, kv)) else "cross"

    assert ch11.check_attention_kind(kind, lambda nq, nk: (nq, nk))
    res = ch11.check_attention_kind(lambda q, kv: "self" if q is kv else "cross", lambda nq, nk: (nq, nk))
    assert not res and "case 2" in res.message
    res = ch11.check_attention_kind(kind, lambda nq, nk: (nk, nq))
    assert not res and "rows are queries" in res.message


def test_efficiency_checker():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    f = lambda Z: model.predict_proba(Z)[:, 1]  # noqa: E731
    x0, bg = X[:1], X[10:40]
    res = shapley.exact_shapley_values(f, x0, bg)
    assert ch11.check_efficiency(res.values, res.base_value, f, x0, bg)
    bad = ch11.check_efficiency(res.values, 0.5, f, x0, bg)
    assert not bad and "mean prediction over the background" in bad.message
    bad = ch11.check_efficiency(res.values * 2, res.base_value, f, x0, bg)
    assert not bad and "efficiency fails" in bad.message
    bad = ch11.check_efficiency(res.values[0], res.base_value, f, x0, bg)
    assert not bad and "shape" in bad.message
