"""Tests of the exercise checkers of chapter 1 (xai_tutorial.exercises.ch01).

For every checker: the right answer passes, each typical wrong answer fails with a message that
names the mistake, and bad context arguments raise a clear TypeError or ValueError. The reference
answers the checkers compute are themselves checked against scikit-learn or a closed form.
"""
from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier
from sklearn.tree import DecisionTreeClassifier

from xai_tutorial import data
from xai_tutorial.exercises import ch01


# --------------------------------------------------------------------------- fixtures
# breast_cancer (the data set) comes from tests/conftest.py

@pytest.fixture(scope="module")
def logreg(breast_cancer):
    return LogisticRegression(max_iter=1000).fit(breast_cancer.X_train, breast_cancer.y_train)


@pytest.fixture(scope="module")
def mlp(breast_cancer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few iterations are enough: only the shapes matter
        return MLPClassifier(hidden_layer_sizes=(16, 8), max_iter=20, random_state=0).fit(
            breast_cancer.X_train, breast_cancer.y_train)


# --------------------------------------------------------------------------- chapter 1: contributions

def test_logistic_contributions_sum_to_the_logit(logreg, breast_cancer):
    x = breast_cancer.X_test[3]
    c = ch01.logistic_contributions(logreg, x)
    assert c.shape == (30,)
    logit = logreg.decision_function(x[None])[0]
    assert c.sum() + logreg.intercept_[0] == pytest.approx(logit, abs=1e-10)
    # a row vector works too
    np.testing.assert_allclose(ch01.logistic_contributions(logreg, x[None]), c)


def test_check_contributions_accepts_the_right_answer(logreg, breast_cancer):
    x = breast_cancer.X_test[3]
    res = ch01.check_contributions(logreg.coef_[0] * x, logreg, x)
    assert res and "match w_j * x_j" in res.message
    assert ch01.check_contributions(list(logreg.coef_[0] * x), logreg, x)  # a list is fine
    assert ch01.check_contributions((logreg.coef_ * x), logreg, x)  # so is a (1, n) row


@pytest.mark.parametrize("mistake, words", [
    ("coef", "coefficients w_j alone"),
    ("x", "feature values x_j alone"),
    ("neg", "wrong sign"),
    ("abs", "absolute values"),
    ("intercept", "spread the intercept"),
    ("shape", "one number per feature"),
    ("none", "None"),
    ("text", "must be an array of numbers"),
    ("other", "differ"),
])
def test_check_contributions_names_each_mistake(logreg, breast_cancer, mistake, words):
    x = breast_cancer.X_test[3]
    right = logreg.coef_[0] * x
    answer = {
        "coef": logreg.coef_[0], "x": x, "neg": -right, "abs": np.abs(right),
        "intercept": right + logreg.intercept_[0] / x.size, "shape": right[:10], "none": None,
        "text": "w*x", "other": right + np.eye(x.size)[4],
    }[mistake]
    res = ch01.check_contributions(answer, logreg, x)
    assert not res
    assert words in res.message


def test_check_contributions_rejects_bad_context(logreg, breast_cancer):
    x = breast_cancer.X_test[0]
    with pytest.raises(TypeError, match="fitted binary linear classifier"):
        ch01.check_contributions(x, LogisticRegression(), x)  # not fitted
    with pytest.raises(TypeError, match="fitted binary linear classifier"):
        ch01.logistic_contributions("model", x)
    with pytest.raises(ValueError, match="binary classifier"):
        ch01.check_contributions(x, SimpleNamespace(coef_=np.ones((3, 30)), intercept_=np.ones(3)), x)
    with pytest.raises(ValueError, match="must have 30 features"):
        ch01.check_contributions(x, logreg, x[:5])
    with pytest.raises(ValueError, match="must be one patient"):
        ch01.check_contributions(x, logreg, breast_cancer.X_test[:2])
    with pytest.raises(TypeError, match="array of numbers"):
        ch01.check_contributions(x, logreg, "patient 3")
    with pytest.raises(ValueError, match="finite"):
        ch01.check_contributions(x, logreg, np.full(30, np.nan))


# --------------------------------------------------------------------------- chapter 1: stump

def test_stump_accuracy_matches_scikit_learn_and_beats_the_majority_class(breast_cancer):
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(breast_cancer.X_train, breast_cancer.y_train)
    acc = ch01.stump_accuracy(breast_cancer)
    assert acc == pytest.approx(accuracy_score(breast_cancer.y_test, stump.predict(breast_cancer.X_test)))
    majority = np.mean(breast_cancer.y_test == np.bincount(breast_cancer.y_train).argmax())
    assert majority < acc < 1.0
    assert ch01.stump_accuracy(breast_cancer, train=True) != acc


def test_check_stump_accuracy(breast_cancer):
    acc = ch01.stump_accuracy(breast_cancer)
    assert ch01.check_stump_accuracy(acc, breast_cancer)
    assert ch01.check_stump_accuracy(round(acc, 3), breast_cancer)  # rounding to 3 decimals is fine
    assert ch01.check_stump_accuracy(np.float32(acc), breast_cancer)
    cases = [
        (100 * acc, "percentage"),
        (ch01.stump_accuracy(breast_cancer, train=True), "training data"),
        (1 - acc, "error rate"),
        (acc + 0.05, "too high"),
        (acc - 0.05, "too low"),
        ("0.89", "single number"),
        ([acc, acc], "single number"),
        (None, "single number"),
    ]
    for answer, words in cases:
        res = ch01.check_stump_accuracy(answer, breast_cancer)
        assert not res, answer
        assert words in res.message, (answer, res.message)


def test_check_stump_accuracy_rejects_bad_context(breast_cancer):
    with pytest.raises(TypeError, match="TabularSplit"):
        ch01.check_stump_accuracy(0.9, (breast_cancer.X_train, breast_cancer.y_train))
    with pytest.raises(ValueError, match="classification"):
        ch01.check_stump_accuracy(0.9, data.load_tabular("diabetes"))
    with pytest.raises(TypeError, match="train must be a bool"):
        ch01.stump_accuracy(breast_cancer, train="yes")


# --------------------------------------------------------------------------- chapter 1: parameters

def test_mlp_parameter_count_matches_the_closed_form(mlp):
    # 30 inputs -> 16 -> 8 -> 1 output: weights 30*16 + 16*8 + 8*1, biases 16 + 8 + 1
    assert ch01.mlp_parameter_count(mlp) == 30 * 16 + 16 * 8 + 8 * 1 + 16 + 8 + 1 == 641


def test_check_parameter_count(mlp):
    res = ch01.check_parameter_count(641, mlp)
    assert res and "641" in res.message and "30x16+16" in res.message
    assert ch01.check_parameter_count(np.int64(641), mlp)
    assert ch01.check_parameter_count(641.0, mlp)
    cases = [
        (30 * 16 + 16 * 8 + 8, "only the weight matrices"),
        (25, "only the biases"),
        (24, "counts units"),
        (30 + 25, "counts units"),
        (3, "number of weight matrices"),
        (700, "too many"),
        (600, "too few"),
        (640.5, "whole number"),
        ("641", "whole number"),
        (None, "whole number"),
    ]
    for answer, words in cases:
        res = ch01.check_parameter_count(answer, mlp)
        assert not res, answer
        assert words in res.message, (answer, res.message)


def test_check_parameter_count_rejects_a_non_mlp():
    with pytest.raises(TypeError, match="MLPClassifier"):
        ch01.check_parameter_count(10, LogisticRegression())
    with pytest.raises(TypeError, match="MLPClassifier"):
        ch01.mlp_parameter_count(MLPClassifier())  # not fitted


# --------------------------------------------------------------------------- the classroom standard
# Each checker: a right answer written differently from the notebook's solution passes; typical
# wrong answers fail with a hint that does not print the expected answer; None and wrong types get
# "Not yet" and never raise.

def _reveals(message, expected):
    """Whether ``message`` prints one of the ``expected`` numbers (to 3 or 4 significant digits)."""
    values = np.atleast_1d(np.asarray(expected, dtype=float)).ravel()
    shown = {f"{v:.{p}g}" for v in values for p in (3, 4, 6)} | {f"{v:.3f}" for v in values} | \
        {f"{v:,.0f}" for v in values if abs(v) >= 100}
    return any(s in message for s in shown if len(s.strip("-0.")) >= 2)


def test_check_contributions_standard(logreg, breast_cancer):
    x = breast_cancer.X_test[20]
    expected = logreg.coef_[0] * x
    # right, written differently: the logit's decomposition by einsum on a (1, 30) row
    assert ch01.check_contributions(np.einsum("ij,j->ij", logreg.coef_, x), logreg, x)
    for wrong in (logreg.coef_[0], -expected, np.abs(expected), expected + 0.5, x):
        res = ch01.check_contributions(wrong, logreg, x)
        assert not res and "contributions" in res.message
        assert not _reveals(res.message, expected), res.message
    for bad in (None, "w*x", {"a": 1}, lambda v: v, expected[:5]):
        res = ch01.check_contributions(bad, logreg, x)
        assert not res and str(res).startswith("Not yet")


def test_check_stump_accuracy_standard(breast_cancer):
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(breast_cancer.X_train, breast_cancer.y_train)
    acc = ch01.stump_accuracy(breast_cancer)
    # right, written differently: the mean of correct predictions, rounded as the solution prints it
    assert ch01.check_stump_accuracy(round(float(np.mean(stump.predict(breast_cancer.X_test)
                                                        == breast_cancer.y_test)), 3), breast_cancer)
    for wrong in (100 * acc, 1 - acc, ch01.stump_accuracy(breast_cancer, train=True), acc - 0.1):
        res = ch01.check_stump_accuracy(wrong, breast_cancer)
        assert not res and not _reveals(res.message, acc), res.message
    for bad in (None, "0.9", [0.9, 0.8], stump, True):
        res = ch01.check_stump_accuracy(bad, breast_cancer)
        assert not res and str(res).startswith("Not yet")


def test_check_parameter_count_standard(mlp):
    # right, written differently: from the layer sizes
    sizes = [30, 16, 8, 1]
    assert ch01.check_parameter_count(sum((a + 1) * b for a, b in zip(sizes, sizes[1:])), mlp)
    for wrong in (30 * 16 + 16 * 8 + 8, 25, 24, 3, 700):
        res = ch01.check_parameter_count(wrong, mlp)
        assert not res and "641" not in res.message, res.message
        # no hint names the number of biases or weights that would complete the count
        assert "25 biases" not in res.message and "616" not in res.message.replace(f"{wrong:,}", "")
    for bad in (None, "641", 640.5, mlp.coefs_, ...):
        res = ch01.check_parameter_count(bad, mlp)
        assert not res and str(res).startswith("Not yet")
