"""Tests of xai_tutorial.agreement: agreement with a rationale (against scikit-learn) and between attributions (against SciPy).
"""
import numpy as np
import pytest
from scipy.stats import kendalltau, spearmanr
from sklearn.metrics import roc_auc_score

from xai_tutorial import agreement

# --------------------------------------------------------------------------- a known-answer model



# --------------------------------------------------------------------------- deletion / insertion

def test_rationale_auc_matches_sklearn_and_ignores_padding():
    rng = np.random.default_rng(14)
    scores = rng.normal(size=(30, 8))
    rationale = rng.uniform(size=(30, 8)) < 0.3
    valid = rng.uniform(size=(30, 8)) < 0.8
    expected = roc_auc_score(rationale[valid], np.abs(scores[valid]))
    assert agreement.rationale_auc(scores, rationale, valid) == pytest.approx(expected)
    signed = roc_auc_score(rationale[valid], scores[valid])
    assert agreement.rationale_auc(scores, rationale, valid, absolute=False) == pytest.approx(signed)
    # what padding scores does not matter
    scores2 = np.where(valid, scores, 100.0)
    assert agreement.rationale_auc(scores2, rationale, valid) == pytest.approx(expected)


def test_rationale_auc_extremes():
    rationale = np.array([[True, False, False, True]])
    assert agreement.rationale_auc(np.array([[5.0, 1, 2, 4]]), rationale) == 1.0
    assert agreement.rationale_auc(np.array([[0.0, 1, 2, 0.5]]), rationale) == 0.0


def test_rationale_auc_errors():
    r = np.array([[True, False]])
    with pytest.raises(TypeError, match="rationale must be a bool array"):
        agreement.rationale_auc(np.ones((1, 2)), r.astype(int))
    with pytest.raises(ValueError, match="same shape"):
        agreement.rationale_auc(np.ones((1, 3)), r)
    with pytest.raises(ValueError, match="both rationale and non-rationale"):
        agreement.rationale_auc(np.ones((1, 2)), np.array([[True, True]]))
    with pytest.raises(TypeError, match="valid must be a boolean array"):
        agreement.rationale_auc(np.ones((1, 2)), r, np.ones((1, 2)))


# --------------------------------------------------------------------------- precision_at_k

def test_precision_at_k_by_hand():
    scores = np.array([[0.9, 0.1, 0.8, 0.2], [0.1, 0.9, 0.3, 0.2]])
    rationale = np.array([[True, True, False, False], [False, True, False, False]])
    # example 1: 2 rationale tokens, top-2 = {0, 2} -> 1/2; example 2: top-1 = {1} -> 1
    assert agreement.precision_at_k(scores, rationale) == pytest.approx(0.75)
    # k = 1: tops {0} -> 1, {1} -> 1
    assert agreement.precision_at_k(scores, rationale, k=1) == pytest.approx(1.0)
    # absolute: a large negative score ranks first
    neg = np.array([[-5.0, 0.1, 0.2, 0.3]])
    assert agreement.precision_at_k(neg, np.array([[True, False, False, False]]), k=1) == 1.0
    assert agreement.precision_at_k(neg, np.array([[True, False, False, False]]), k=1,
                                  absolute=False) == 0.0


def test_precision_at_k_never_counts_padding():
    scores = np.array([[0.9, 0.5, 0.0, 0.0]])
    rationale = np.array([[True, True, False, False]])
    valid = np.array([[True, True, False, False]])
    # k = 3 but only 2 real tokens: both retrieved, both rationale
    assert agreement.precision_at_k(scores, rationale, valid, k=3) == 1.0
    # a rationale flag on padding is ignored
    flagged_pad = np.array([[True, False, True, False]])
    assert agreement.precision_at_k(scores, flagged_pad, valid) == 1.0


def test_precision_at_k_errors():
    with pytest.raises(ValueError, match="no example has a rationale token"):
        agreement.precision_at_k(np.ones((2, 3)), np.zeros((2, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"k must be in \[1, 3\]"):
        agreement.precision_at_k(np.ones((1, 3)), np.ones((1, 3), dtype=bool), k=4)
    with pytest.raises(TypeError, match="rationale must be a bool array"):
        agreement.precision_at_k(np.ones((1, 3)), np.ones((1, 3)))


# --------------------------------------------------------------------------- rank_correlation

def test_rank_correlation_matches_scipy():
    rng = np.random.default_rng(15)
    a, b = rng.normal(size=(6, 9)), rng.normal(size=(6, 9))
    valid = np.ones((6, 9), dtype=bool)
    valid[:, 7:] = False
    tau = agreement.rank_correlation(a, b, valid)
    rho = agreement.rank_correlation(a, b, valid, method="spearman")
    rho_abs = agreement.rank_correlation(a, b, valid, method="spearman", absolute=True)
    for i in range(6):
        assert tau[i] == pytest.approx(kendalltau(a[i, :7], b[i, :7])[0])
        assert rho[i] == pytest.approx(spearmanr(a[i, :7], b[i, :7])[0])
        assert rho_abs[i] == pytest.approx(spearmanr(np.abs(a[i, :7]), np.abs(b[i, :7]))[0])


def test_rank_correlation_identity_reversal_and_nan():
    a = np.array([[1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 1.0, 1.0]])
    out = agreement.rank_correlation(a, a, method="spearman")
    assert out[0] == pytest.approx(1.0) and np.isnan(out[1])  # constant map: undefined
    assert agreement.rank_correlation(a[:1], -a[:1])[0] == pytest.approx(-1.0)


def test_rank_correlation_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        agreement.rank_correlation(np.ones((1, 3)), np.ones((1, 3)), method="pearson")
    with pytest.raises(ValueError, match="same shape"):
        agreement.rank_correlation(np.ones((1, 3)), np.ones((1, 4)))
    with pytest.raises(TypeError, match="b must hold numbers"):
        agreement.rank_correlation(np.ones((1, 2)), np.array([["x", "y"]]))


