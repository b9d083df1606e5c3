"""Tests of the exercise checkers of chapter 2 (xai_tutorial.exercises.ch02).

For every checker: the right answer passes, each typical wrong answer fails with a message that
names the mistake, and bad context arguments raise a clear TypeError or ValueError. The reference
answers the checkers compute are themselves checked against scikit-learn or a closed form.
"""
from __future__ import annotations

import numpy as np
import pytest
from checker_asserts import rejected
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.neighbors import NearestNeighbors

from xai_tutorial import attention
from xai_tutorial.exercises import ch02

# breast_cancer (the data set) comes from tests/conftest.py


# --------------------------------------------------------------------------- chapter 2: attend

def stable_attend(query, keys, values):
    s = keys @ query / np.sqrt(query.shape[0])
    w = np.exp(s - s.max())
    return (w / w.sum()) @ values


def test_attend_matches_scaled_dot_product_attention():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=4), rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    out, _ = attention.scaled_dot_product_attention(q[None], k, v)
    np.testing.assert_allclose(ch02.attend(q, k, v), out[0], rtol=1e-12)
    # a query equal to a key that is far longer than the others takes (almost) only its value
    k2 = np.vstack([10 * np.eye(4)[:1], rng.normal(size=(3, 4)) * 0.1])
    np.testing.assert_allclose(ch02.attend(10 * np.eye(4)[0], k2, np.eye(4)), np.eye(4)[0], atol=1e-10)


def test_check_attend_accepts_a_correct_function():
    res = ch02.check_attend(stable_attend)
    assert res and "all 4 test cases" in res.message
    assert ch02.check_attend(ch02.attend)


def naive_softmax_attend(q, k, v):
    s = k @ q / np.sqrt(q.shape[0])
    w = np.exp(s)
    return (w / w.sum()) @ v


@pytest.mark.parametrize("fn, words", [
    (lambda q, k, v: stable_attend(q * np.sqrt(q.shape[0]), k, v), "divide the scores by sqrt(d)"),
    (lambda q, k, v: v.mean(axis=0), "plain mean of the values"),
    (lambda q, k, v: v[np.argmax(k @ q)], "hard max"),
    (lambda q, k, v: np.exp(k @ q / np.sqrt(q.shape[0])) @ v, "do not sum to 1"),
    (naive_softmax_attend, "subtract the largest score"),
    (lambda q, k, v: np.exp(k @ q) / np.exp(k @ q).sum(), "those are the weights"),
    (lambda q, k, v: (stable_attend(q, k, v), None), "returned a pair"),
    (lambda q, k, v: stable_attend(q, k, k), "average the values, not the keys"),
    (lambda q, k, v: None, "forget to `return`"),
    (lambda q, k, v: 1 / 0, "ZeroDivisionError"),
    (lambda q, k, v: "output", "must be an array of numbers"),
    (lambda q, k, v: stable_attend(q, k, v) + 0.1, "differ"),
    (lambda q, k, v: stable_attend(q, k, v)[None], "expected (3,)"),
    (np.ones(3), "expected a function"),
])
def test_check_attend_names_each_mistake(fn, words):
    res = ch02.check_attend(fn)
    assert not res
    assert words in res.message


def test_naive_softmax_passes_small_cases_and_fails_only_the_large_one():
    res = ch02.check_attend(naive_softmax_attend)
    assert "test case 4" in res.message


def test_attend_rejects_bad_input():
    q, k, v = np.ones(3), np.ones((4, 3)), np.ones((4, 2))
    with pytest.raises(ValueError, match="query must be 1-D"):
        ch02.attend(np.ones((1, 3)), k, v)
    with pytest.raises(ValueError, match=r"keys must have shape \(n_keys, 3\)"):
        ch02.attend(q, np.ones((4, 2)), v)
    with pytest.raises(ValueError, match="one row per key"):
        ch02.attend(q, k, np.ones((5, 2)))
    with pytest.raises(TypeError, match="must hold numbers"):
        ch02.attend(np.array(["a", "b", "c"]), k, v)


# --------------------------------------------------------------------------- chapter 2: neighbours

def test_nearest_neighbours_match_scikit_learn(breast_cancer):
    x = breast_cancer.X_test[5]
    ours = ch02.nearest_neighbours(breast_cancer.X_train, x, 7)
    nn = NearestNeighbors(n_neighbors=7).fit(breast_cancer.X_train)
    theirs = nn.kneighbors(x[None], return_distance=False)[0]
    np.testing.assert_array_equal(ours, theirs)


def test_check_nearest_neighbours(breast_cancer):
    X, x, k = breast_cancer.X_train, breast_cancer.X_test[5], 5
    right = ch02.nearest_neighbours(X, x, k)
    res = ch02.check_nearest_neighbours(right, X, x, k)
    assert res and "5 nearest" in res.message
    assert ch02.check_nearest_neighbours(list(right), X, x, k)
    dist = np.linalg.norm(X - x, axis=1)
    l1_order = np.argsort(np.abs(X - x).sum(axis=1))[:k]
    assert set(l1_order) != set(right)  # so the L1 case below tests a real mistake
    cases = [
        (right[::-1], "wrong order"),
        (np.argsort(dist)[::-1][:k], "farthest"),
        (l1_order, "L1 (Manhattan)"),
        (np.sort(dist)[:k], "look like distances"),
        (right[:3], "returned 3 indices, expected k = 5"),
        (np.r_[right[:4], right[0]], "appear twice"),
        (np.r_[right[:4], len(X)], "must lie in [0, 425]"),
        (np.r_[right[:4], np.argsort(dist)[-1]], "4 of your 5 indices"),
        (None, "None"),
        ("0 1 2", "must be integer row indices"),
    ]
    for answer, words in cases:
        res = ch02.check_nearest_neighbours(answer, X, x, k)
        assert not res, answer
        assert words in res.message, (words, res.message)


def test_check_nearest_neighbours_accepts_ties_in_any_order():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [5.0, 5.0]])
    x = np.zeros(2)
    assert ch02.check_nearest_neighbours([2, 0, 1], X, x, 3)
    assert not ch02.check_nearest_neighbours([3, 0, 1], X, x, 3)


def test_nearest_neighbours_reject_bad_input(breast_cancer):
    X, x = breast_cancer.X_train, breast_cancer.X_test[0]
    with pytest.raises(ValueError, match="k must be in"):
        ch02.nearest_neighbours(X, x, 0)
    with pytest.raises(ValueError, match="k must be in"):
        ch02.check_nearest_neighbours([0], X, x, len(X) + 1)
    with pytest.raises(TypeError, match="k must be an int"):
        ch02.nearest_neighbours(X, x, 2.0)
    with pytest.raises(ValueError, match="x must have 30 features"):
        ch02.nearest_neighbours(X, x[:3], 2)
    with pytest.raises(ValueError, match="X_train must be 2-D"):
        ch02.nearest_neighbours(x, x, 2)


# --------------------------------------------------------------------------- chapter 2: fidelity

def test_fidelity_matches_accuracy_score():
    rng = np.random.default_rng(1)
    s, b = rng.integers(0, 2, 50), rng.integers(0, 2, 50)
    assert ch02.fidelity(s, b) == pytest.approx(accuracy_score(b, s))


def test_check_fidelity():
    b = np.array([1, 1, 0, 0, 1, 0, 1, 1, 0, 1])   # black box
    s = np.array([1, 1, 0, 1, 1, 0, 1, 0, 0, 1])   # surrogate: agrees on 8 of 10
    y = np.array([1, 0, 0, 1, 1, 0, 0, 0, 0, 0])   # truth: surrogate 0.7 and black box 0.5 accurate
    fid = 0.8
    assert ch02.fidelity(s, b) == fid
    acc_s, acc_b = np.mean(s == y), np.mean(b == y)
    assert len({fid, 1 - fid, acc_s, acc_b}) == 4  # so each mistake below is distinguishable
    res = ch02.check_fidelity(fid, s, b, y)
    assert res and "8 of 10" in res.message
    cases = [
        (80.0, "percentage"),
        (1 - fid, "disagreement rate"),
        (acc_s, "surrogate's accuracy against the true labels"),
        (acc_b, "black box's accuracy"),
        (0.95, "too high"),
        (0.1, "too low"),
        ("0.8", "single number"),
        (None, "single number"),
    ]
    for answer, words in cases:
        res = ch02.check_fidelity(answer, s, b, y)
        assert not res, answer
        assert words in res.message, (words, res.message)
    # without y_true an accuracy cannot be recognised, but it still fails
    res = ch02.check_fidelity(acc_s, s, b)
    assert not res and "mean(surrogate_pred == black_box_pred)" in res.message


def test_check_fidelity_rejects_bad_input():
    s = np.array([0, 1, 1])
    with pytest.raises(ValueError, match="same length"):
        ch02.check_fidelity(0.5, s, np.array([0, 1]))
    with pytest.raises(ValueError, match="must not be empty"):
        ch02.fidelity(np.array([], dtype=int), np.array([], dtype=int))
    with pytest.raises(TypeError, match="must hold integers"):
        ch02.fidelity(np.array([0.2, 0.7, 0.9]), s)
    with pytest.raises(ValueError, match="y_true must have 3 labels"):
        ch02.check_fidelity(0.5, s, s, np.array([0, 1]))
    with pytest.raises(ValueError, match="surrogate_pred must be 1-D"):
        ch02.fidelity(s[None], s)


# --------------------------------------------------------------------------- chapter 2: families

def test_check_families():
    right = {m: fam for m, (fam, _) in ch02.FAMILY_QUIZ.items()}
    assert set(right.values()) == set(ch02.FAMILIES)
    res = ch02.check_families(right)
    assert res and f"all {len(right)}" in res.message
    assert ch02.check_families({m: f.upper() for m, f in right.items()})  # case does not matter

    wrong = dict(right, **{"SHAP values": "example", "five nearest training patients": "feature"})
    res = ch02.check_families(wrong)
    assert not res and "2 of 8 are in the wrong family" in res.message
    # the hint names the misplaced methods and what they are made of, not their family
    assert "'SHAP values': it splits one prediction" in res.message
    assert "feature explanation" not in res.message and "example explanation" not in res.message

    missing = dict(right)
    missing.pop("LASSO coefficients")
    res = ch02.check_families(missing)
    assert not res and "no family yet" in res.message and "LASSO coefficients" in res.message

    res = ch02.check_families(dict(right, **{"LIME": "model"}))
    assert not res and "unknown method name" in res.message

    res = ch02.check_families(dict(right, **{"SHAP values": "attribution"}))
    assert not res and "must be one of" in res.message

    res = ch02.check_families(list(right))
    assert not res and "dict" in res.message


# --------------------------------------------------------------------------- the classroom standard
# Each checker: a right answer written differently from the notebook's solution passes; typical
# wrong answers fail with a hint that does not print the expected answer; None and wrong types get
# "Not yet" and never raise.

def _reveals(message, expected):
    """Whether ``message`` prints one of the ``expected`` numbers (to 3, 4 or 6 significant digits)."""
    values = np.atleast_1d(np.asarray(expected, dtype=float)).ravel()
    shown = {f"{v:.{p}g}" for v in values for p in (3, 4, 6)} | {f"{v:.3f}" for v in values}
    return any(s in message for s in shown if len(s.strip("-0.")) >= 2)


def test_check_attend_standard():
    from scipy.special import softmax as scipy_softmax

    # right, written differently: SciPy's softmax (stable) and a weighted sum by einsum
    assert ch02.check_attend(lambda q, k, v: np.einsum("i,ij->j", scipy_softmax(k @ q / len(q) ** 0.5), v))
    expected = [ch02.attend(*case) for case in ch02._attend_cases()]
    for wrong in (lambda q, k, v: stable_attend(q * np.sqrt(q.shape[0]), k, v),   # unscaled
                  lambda q, k, v: v.mean(axis=0), naive_softmax_attend,
                  lambda q, k, v: stable_attend(q, k, v) * 1.1):
        res = ch02.check_attend(wrong)
        assert not res and not _reveals(res.message, np.concatenate(expected)), res.message
    for bad in (None, "attend", 3, lambda q, k, v: None, lambda q, k: q, lambda q, k, v: [["a"]]):
        res = ch02.check_attend(bad)
        assert not res and str(res).startswith("Not yet")


def test_check_nearest_neighbours_standard(breast_cancer):
    X, x, k = breast_cancer.X_train, breast_cancer.X_test[40], 10
    # right, written differently: scikit-learn's neighbours, as a list of floats
    right = NearestNeighbors(n_neighbors=k).fit(X).kneighbors(x[None], return_distance=False)[0]
    assert ch02.check_nearest_neighbours([float(i) for i in right], X, x, k)
    dist = np.linalg.norm(X - x, axis=1)
    for wrong in (right[::-1], np.argsort(dist)[::-1][:k], np.argsort(np.abs(X - x).sum(1))[:k],
                  np.argsort(-dist)[k:2 * k], np.r_[right[1:], np.argsort(dist)[k + 3]]):
        res = ch02.check_nearest_neighbours(wrong, X, x, k)
        assert not res
        # neither the indices nor the distances of the right answer appear
        assert not any(f" {i} " in f" {res.message} " for i in right[:3]), res.message
        assert not _reveals(res.message, dist[right]), res.message
    for bad in (None, "0 1 2", 3.5, lambda: 0, {"a": 1}):
        res = ch02.check_nearest_neighbours(bad, X, x, k)
        assert not res and str(res).startswith("Not yet")


def test_check_fidelity_standard():
    b = np.array([1, 1, 0, 0, 1, 0, 1, 1, 0, 1])
    s = np.array([1, 1, 0, 1, 1, 0, 1, 0, 0, 1])
    y = np.array([1, 0, 0, 1, 1, 0, 0, 0, 0, 0])
    # right, written differently: a count of agreements over the length, rounded to 3 decimals
    assert ch02.check_fidelity(round(sum(int(p == q) for p, q in zip(s, b)) / len(s), 3), s, b, y)
    for wrong in (80.0, 0.2, np.mean(s == y), np.mean(b == y), 0.6):
        res = ch02.check_fidelity(wrong, s, b, y)
        assert not res and "0.8 " not in res.message + " " and "0.800" not in res.message, res.message
    for bad in (None, "0.8", [0.8, 0.8], True, s):
        res = ch02.check_fidelity(bad, s, b, y)
        assert not res and str(res).startswith("Not yet")


def test_check_families_standard():
    right = {m: fam for m, (fam, _) in ch02.FAMILY_QUIZ.items()}
    # right, written differently: built in another order, with spaces and capitals
    assert ch02.check_families({m: f" {right[m].title()} " for m in reversed(list(right))})
    all_feature = dict.fromkeys(right, "feature")
    swapped = dict(right, **{"depth-2 surrogate tree of the MLP": "example",
                             "five nearest training patients": "model"})
    one_off = dict(right, **{"counterfactual: the smallest change that flips the decision": "feature"})
    for wrong in (all_feature, swapped, one_off):
        res = ch02.check_families(wrong)
        assert not res and "wrong family" in res.message
        for fam in ch02.FAMILIES:  # the message never says which family a method belongs to
            assert f"is a {fam}" not in res.message and f"{fam} explanation" not in res.message
    for bad in (None, "feature", list(right), dict.fromkeys(right), {m: 1 for m in right}):
        res = ch02.check_families(bad)
        assert not res and str(res).startswith("Not yet")
    # the starter's placeholder: every method still None
    res = ch02.check_families(dict.fromkeys(right))
    assert not res and f"{len(right)} method(s) have no family yet" in res.message


# --------------------------------------------------------------------------- chapter 2: linear counterfactual

def test_check_linear_counterfactual(breast_cancer):
    model = LogisticRegression(max_iter=1000).fit(breast_cancer.X_train, breast_cancer.y_train)
    w, b, x = model.coef_[0], float(model.intercept_[0]), breast_cancer.X_test[18]
    z = w @ x + b
    # right, written differently: the unit normal times the signed distance
    unit = w / np.linalg.norm(w)
    right = x - (z / np.linalg.norm(w)) * unit
    fb = ch02.check_linear_counterfactual(right, model.coef_, model.intercept_, x)
    assert fb and "decision boundary" in fb.message
    assert model.predict_proba(right[None])[0, 1] == pytest.approx(0.5)
    hidden = f"{right[0]:.3f}"
    rejected(ch02.check_linear_counterfactual(x + z / (w @ w) * w, w, b, x), "wrong way", hidden)
    rejected(ch02.check_linear_counterfactual(x - z / np.linalg.norm(w) * w, w, b, x), "||w||^2, not ||w||")
    rejected(ch02.check_linear_counterfactual(x - z * w, w, b, x), "not scaled")
    rejected(ch02.check_linear_counterfactual(x - (w @ x) / (w @ w) * w, w, b, x), "bias b is missing")
    rejected(ch02.check_linear_counterfactual(x.copy(), w, b, x), "equals x")
    # on the boundary, but not the closest point: move along w and along a direction in the boundary
    other = np.zeros_like(w)
    other[:2] = [w[1], -w[0]]
    rejected(ch02.check_linear_counterfactual(right + other, w, b, x), "not the closest point")
    rejected(ch02.check_linear_counterfactual(right + 0.1, w, b, x), "not on the decision boundary")
    rejected(ch02.check_linear_counterfactual(None, w, b, x), "")
    rejected(ch02.check_linear_counterfactual(right[:5], w, b, x), "shape")


def test_check_linear_counterfactual_rejects_bad_context():
    with pytest.raises(ValueError, match="x must have 3 features"):
        ch02.check_linear_counterfactual(np.zeros(3), np.ones(3), 0.0, np.zeros(2))
    with pytest.raises(ValueError, match="b must be one number"):
        ch02.check_linear_counterfactual(np.zeros(3), np.ones(3), np.zeros(2), np.zeros(3))
    with pytest.raises(TypeError, match="w must"):
        ch02.check_linear_counterfactual(np.zeros(3), "w", 0.0, np.zeros(3))
