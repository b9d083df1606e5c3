"""Tests of the exercise checkers of the FAQ chapter (xai_tutorial.exercises.ch11): a right answer
written differently from the book's solution passes, typical wrong answers get "Not yet" with a
hint that does not print the expected value, and unusable input never raises."""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from xai_tutorial import shapley
from xai_tutorial.exercises import ch11
from checker_asserts import rejected

A = np.array([0.70, 0.10, 0.10, 0.10])
V = np.array([[0.01, 0.0], [4.0, 1.0], [0.5, -0.2], [0.3, 0.1]])
OUT = (A[:, None] * V).sum(0)


# --------------------------------------------------------------------------- contribution

def test_contribution_right_answer_written_differently():
    output = A @ V  # a matrix product instead of the solution's weighted sum
    best = max(range(4), key=lambda j: np.hypot(*(A[j] * V[j])))
    assert ch11.check_contribution(output, best, A, V)
    assert ch11.check_contribution(list(output), np.int64(best), A, V)
    assert ch11.check_contribution(output[None], np.array(best), A, V)  # a (1, 2) row is fine


@pytest.mark.parametrize("output, index, words", [
    (A[:, None] * V, 1, "sum them over the tokens"),              # weighted but not summed
    ((A[:, None] * V).T, 1, "transposed product"),                # values.T * a
    ((A[:, None] * V).sum(1), 1, "summed over the value dimensions"),
    (V.sum(0), 1, "plain sum of the values"),
    (V.mean(0), 1, "mean of the values"),
    (OUT / 4, 1, "mean of a_j v_j"),
    (OUT, 0, "largest weight a_j, but not the largest"),          # argmax of the weights
    (OUT, 2, "does not have the largest"),
    (OUT, 7, "use 0 to 3"),
])
def test_contribution_typical_mistakes(output, index, words):
    fb = ch11.check_contribution(output, index, A, V)
    rejected(fb, words, "0.487", "token 1")


def test_contribution_largest_value_and_smallest_contribution():
    a = np.array([0.1, 0.6, 0.3])
    v = np.array([[10.0, 0.0], [1.0, 0.0], [0.1, 0.0]])  # contributions 1.0, 0.6, 0.03
    out = a @ v
    assert ch11.check_contribution(out, 0, a, v)
    a2 = np.array([0.05, 0.5, 0.45])
    v2 = np.array([[10.0, 0.0], [1.0, 0.0], [0.1, 0.0]])  # contributions 0.5, 0.5, 0.045 -> argmax 0
    rejected(ch11.check_contribution(a2 @ v2, 2, a2, v2), "the *least*")
    a3 = np.array([0.01, 0.5, 0.49])
    v3 = np.array([[10.0, 0.0], [1.0, 0.0], [0.5, 0.0]])  # ||v|| largest for 0, contribution for 1
    rejected(ch11.check_contribution(a3 @ v3, 0, a3, v3), "largest value vector")


@pytest.mark.parametrize("output, index", [(None, 1), (OUT, None), ("output", 1), (OUT, 1.0), (OUT, "1"),
                                           (..., 1), (OUT, [1, 2]), (print, 1)])
def test_contribution_unusable_answers_say_not_yet(output, index):
    fb = ch11.check_contribution(output, index, A, V)
    assert not fb and str(fb).startswith("Not yet")


def test_contribution_bad_context_raises():
    with pytest.raises(ValueError, match="one row per weight"):
        ch11.check_contribution(OUT, 1, A[:3], V)


# --------------------------------------------------------------------------- self or cross

def kind_by_values(q, kv):  # right, written without `is`
    q, kv = np.asarray(q), np.asarray(kv)
    return "self" if q.shape == kv.shape and bool((q == kv).all()) else "cross"


def shape_of(nq, nk):
    return np.zeros((nq, nk)).shape


def test_attention_kind_right_answer_written_differently():
    fb = ch11.check_attention_kind(kind_by_values, shape_of)
    assert fb, fb
    assert ch11.check_attention_kind(kind_by_values, lambda nq, nk: [nq, nk])  # a list is a shape too


@pytest.mark.parametrize("kind, shape, words", [
    (lambda q, kv: "self" if np.shape(q) == np.shape(kv) else "cross", shape_of, "equal shapes are not enough"),
    (lambda q, kv: "self" if q is kv else "cross", shape_of, "equal values count as the same source"),
    (lambda q, kv: "cross", shape_of, "compared with itself"),
    (lambda q, kv: "self", shape_of, "case 3"),
    (lambda q, kv: "self" if len(q) == len(kv) else "cross", shape_of, "equal shapes are not enough"),
    (kind_by_values, lambda nq, nk: (nk, nq), "rows and columns are swapped"),
    (kind_by_values, lambda nq, nk: nq * nk, "must return a shape"),
    (kind_by_values, lambda nq, nk: (nq, nk, 1), "two entries"),
    (kind_by_values, lambda nq, nk: (nq, nq), "one row per query and one column per key"),
    (lambda q, kv: q is kv, shape_of, "the text 'self' or 'cross'"),
    (lambda q, kv: "Self" if q is kv else "cross", shape_of, "exactly 'self'"),
])
def test_attention_kind_typical_mistakes(kind, shape, words):
    fb = ch11.check_attention_kind(kind, shape)
    rejected(fb, words, "expected")


@pytest.mark.parametrize("kind, shape", [(None, shape_of), (kind_by_values, None), ("self", shape_of),
                                         (lambda q, kv: None, shape_of), (lambda q: "self", shape_of),
                                         (kind_by_values, lambda nq, nk: 1 / 0)])
def test_attention_kind_unusable_answers_say_not_yet(kind, shape):
    fb = ch11.check_attention_kind(kind, shape)
    assert not fb and str(fb).startswith("Not yet")


# --------------------------------------------------------------------------- efficiency

@pytest.fixture(scope="module")
def tabular():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    f = lambda Z: model.predict_proba(Z)[:, 1]  # noqa: E731
    return f, X[:1], X[10:40], X[40:70]


def test_efficiency_right_answer_written_differently(tabular):
    f, x0, bg, _ = tabular
    # by hand: a linear logistic model is not additive in probability, so go through all 2^3 coalitions
    from itertools import combinations
    from math import factorial

    def v(S):
        Z = bg.copy()
        Z[:, list(S)] = x0[0, list(S)]
        return f(Z).mean()

    d = 3
    phi = np.zeros(d)
    for j in range(d):
        others = [k for k in range(d) if k != j]
        for r in range(d):
            for S in combinations(others, r):
                w = factorial(r) * factorial(d - r - 1) / factorial(d)
                phi[j] += w * (v(S + (j,)) - v(S))
    base = float(np.mean(f(bg)))
    assert ch11.check_efficiency(phi, base, f, x0, bg)          # shape (3,) is accepted
    assert ch11.check_efficiency(phi[None].tolist(), np.float64(base), f, x0, bg)
    assert ch11.check_efficiency(phi[None], base, f, x0, bg)


def test_efficiency_typical_mistakes(tabular):
    f, x0, bg, other_bg = tabular
    res = shapley.exact_shapley_values(f, x0, bg)
    total = float(res.values.sum())
    one_feature = np.zeros_like(res.values)
    one_feature[0, 0] = total                                    # all credit on one feature: adds up
    fx = float(f(x0)[0])
    other = shapley.exact_shapley_values(f, x0, other_bg)
    base_text = f"{res.base_value:.6g}"
    cases = [
        (one_feature, res.base_value, "not the Shapley values"),
        (res.values[:, ::-1], res.base_value, "not the Shapley values"),   # right numbers, wrong features
        (res.values, 0.5, "not the mean prediction over the background"),
        (res.values, fx, "the prediction f(x0) itself"),
        (res.values, 0.0, "base_mine is 0"),
        (other.values, res.base_value, "efficiency fails"),                # values for another background
        (res.values * 2, res.base_value, "efficiency fails"),
        (res.values.T, res.base_value, "transposed?"),
        (res, res.base_value, "`.values`"),
    ]
    for phi, base, words in cases:
        rejected(ch11.check_efficiency(phi, base, f, x0, bg), words, base_text, f"{total:.6g}")


@pytest.mark.parametrize("phi, base", [(None, 0.1), ("values", 0.1), (..., 0.1), (np.zeros((2, 3)), 0.1),
                                       ("ok", None), ("ok", "0.5"), ("ok", [0.1, 0.2]), ("ok", float("nan"))])
def test_efficiency_unusable_answers_say_not_yet(tabular, phi, base):
    f, x0, bg, _ = tabular
    if isinstance(phi, str) and phi == "ok":
        phi = shapley.exact_shapley_values(f, x0, bg).values
    fb = ch11.check_efficiency(phi, base, f, x0, bg)
    assert not fb and str(fb).startswith("Not yet")


def test_efficiency_bad_context_raises(tabular):
    f, x0, bg, _ = tabular
    with pytest.raises(TypeError, match="predict_fn"):
        ch11.check_efficiency(np.zeros((1, 3)), 0.0, None, x0, bg)
    with pytest.raises(ValueError, match="one row"):
        ch11.check_efficiency(np.zeros((1, 3)), 0.0, f, bg, bg)
