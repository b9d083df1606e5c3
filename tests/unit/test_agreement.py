"""Tests of xai_tutorial.agreement: agreement with a rationale (against scikit-learn) and between
attributions (against SciPy)."""
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




# --------------------------------------------------------------------------- per-example measures

def _random_rationale(n=40, seq_len=9, seed=0):
    rng = np.random.default_rng(seed)
    scores = np.round(rng.normal(size=(n, seq_len)), 1)  # rounding makes ties
    valid = np.arange(seq_len)[None, :] < rng.integers(3, seq_len + 1, size=n)[:, None]
    rationale = (rng.random((n, seq_len)) < 0.3) & valid
    return scores, rationale, valid


def test_per_example_auc_matches_sklearn_row_by_row():
    scores, rationale, valid = _random_rationale()
    got = agreement.per_example_auc(scores, rationale, valid)
    for i in range(len(scores)):
        y, s = rationale[i, valid[i]], np.abs(scores[i, valid[i]])
        if y.all() or not y.any():
            assert np.isnan(got[i])
        else:
            assert got[i] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    signed = agreement.per_example_auc(scores, rationale, valid, absolute=False)
    i = int(np.flatnonzero(np.isfinite(signed))[0])
    assert signed[i] == pytest.approx(roc_auc_score(rationale[i, valid[i]], scores[i, valid[i]]))


def test_per_example_measures_tell_apart_what_the_pooled_auc_does_not():
    # two methods rank the rationale first in every sentence (pooled AUC can differ, per-sentence
    # AUC is 1 for both), but one puts almost all its mass on the rationale and the other does not
    rationale = np.array([[True, False, False, False]] * 3)
    sharp = np.array([[9.0, 0.1, 0.1, 0.1]] * 3)
    flat = np.array([[1.0, 0.9, 0.9, 0.9]] * 3)
    np.testing.assert_array_equal(agreement.per_example_auc(sharp, rationale), 1.0)
    np.testing.assert_array_equal(agreement.per_example_auc(flat, rationale), 1.0)
    np.testing.assert_allclose(agreement.rationale_mass(sharp, rationale), 9 / 9.3)
    np.testing.assert_allclose(agreement.rationale_mass(flat, rationale), 1 / 3.7)


def test_rationale_mass_by_hand_and_uniform_baseline():
    r = np.array([[True, False, False, False], [False, True, True, False]])
    v = np.array([[True, True, True, False], [True, True, True, True]])
    s = np.array([[2.0, -1.0, 1.0, 50.0], [0.0, 0.0, 0.0, 0.0]])
    got = agreement.rationale_mass(s, r, v)
    assert got[0] == pytest.approx(0.5) and np.isnan(got[1])  # padding's 50 is ignored
    uniform = np.where(v, 1.0, 0.0)
    np.testing.assert_allclose(agreement.rationale_mass(uniform, r, v), [1 / 3, 2 / 4])
    assert agreement.rationale_mass(s, r, v, absolute=False)[0] == pytest.approx(2 / 3)


def test_per_example_precision_at_k_equals_a_loop_and_its_mean():
    scores, rationale, valid = _random_rationale(seed=3)
    got = agreement.per_example_precision_at_k(scores, rationale, valid, k=2)
    for i in range(len(scores)):
        real = np.flatnonzero(valid[i])
        top = real[np.argsort(-np.abs(scores[i, real]), kind="stable")[:2]]
        assert got[i] == pytest.approx(rationale[i, top].mean())
    r_prec = agreement.per_example_precision_at_k(scores, rationale, valid)
    assert agreement.precision_at_k(scores, rationale, valid) == pytest.approx(np.nanmean(r_prec))
    assert np.isnan(r_prec[~(rationale & valid).any(axis=1)]).all()


def test_per_example_measures_errors():
    s, r, v = _random_rationale(n=3)
    for fn in (agreement.per_example_auc, agreement.rationale_mass, agreement.per_example_precision_at_k):
        with pytest.raises(TypeError, match="rationale must be a bool array"):
            fn(s, r.astype(int), v)
        with pytest.raises(ValueError, match="scores and rationale must have the same shape"):
            fn(s, r[:, :3], v)
        with pytest.raises(TypeError, match="valid must be a boolean array"):
            fn(s, r, v.astype(float))
        with pytest.raises(TypeError, match="scores must be an array of numbers"):
            fn(None, r, v)
        with pytest.raises(ValueError, match="scores must be finite"):
            fn(np.full_like(s, np.nan), r, v)


# --------------------------------------------------------------------------- the disagreement problem

DISAGREEMENT = (agreement.feature_agreement, agreement.rank_agreement, agreement.sign_agreement,
                agreement.signed_rank_agreement)


def test_disagreement_measures_by_hand():
    # |a| ranks positions 0 > 2 > 1 > 3; |b| ranks 2 > 0 > 3 > 1; signs: position 0 differs
    a = np.array([[4.0, 1.0, -3.0, 0.5]])
    b = np.array([[-2.0, 0.1, -5.0, 1.0]])
    # k = 1: tops 0 and 2 -> nothing in common
    assert [m(a, b, k=1)[0] for m in DISAGREEMENT] == [0.0, 0.0, 0.0, 0.0]
    # k = 2: both top-2 = {0, 2}, ranks swapped, position 0 has opposite signs, 2 the same
    assert [m(a, b, k=2)[0] for m in DISAGREEMENT] == [1.0, 0.0, 0.5, 0.0]
    # k = 3: a {0, 2, 1}, b {2, 0, 3}; shared {0, 2}; no rank equal
    np.testing.assert_allclose([m(a, b, k=3)[0] for m in DISAGREEMENT], [2 / 3, 0, 1 / 3, 0])
    # k = 4: everything shared; ranks: a (0, 2, 1, 3), b (2, 0, 3, 1): none equal; signs agree on 1, 2, 3
    np.testing.assert_allclose([m(a, b, k=4)[0] for m in DISAGREEMENT], [1, 0, 0.75, 0])


def test_disagreement_identities():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(20, 9))
    valid = np.arange(9) < rng.integers(4, 10, size=(20, 1))
    for k in (1, 2, 3, 4):
        for m in DISAGREEMENT:  # a method agrees with itself
            np.testing.assert_array_equal(m(a, a, valid, k=k), 1.0)
        # the negated attribution: same features and ranks, every sign wrong
        np.testing.assert_array_equal(agreement.feature_agreement(a, -a, valid, k=k), 1.0)
        np.testing.assert_array_equal(agreement.rank_agreement(a, -a, valid, k=k), 1.0)
        np.testing.assert_array_equal(agreement.sign_agreement(a, -a, valid, k=k), 0.0)
        np.testing.assert_array_equal(agreement.signed_rank_agreement(a, -a, valid, k=k), 0.0)
        # a positive rescaling changes nothing
        np.testing.assert_array_equal(agreement.signed_rank_agreement(a, 3 * a, valid, k=k), 1.0)
    # a reversed ranking over an even number of positions: no position keeps its rank
    up = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])
    assert agreement.rank_agreement(up, up[:, ::-1], k=6)[0] == 0.0
    assert agreement.feature_agreement(up, up[:, ::-1], k=6)[0] == 1.0
    assert agreement.feature_agreement(up, up[:, ::-1], k=3)[0] == 0.0
    # the order of the measures: signed rank <= rank <= feature, signed rank <= sign <= feature
    b = rng.normal(size=(20, 9))
    for k in (1, 3):
        fa, ra, sa, sra = (m(a, b, valid, k=k) for m in DISAGREEMENT)
        assert np.all(sra <= ra) and np.all(ra <= fa) and np.all(sra <= sa) and np.all(sa <= fa)


def test_disagreement_matches_a_loop_and_ignores_padding():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(30, 7)), rng.normal(size=(30, 7))
    valid = np.arange(7) < rng.integers(3, 8, size=(30, 1))
    k = 3
    fa = agreement.feature_agreement(a, b, valid, k=k)
    ra = agreement.rank_agreement(a, b, valid, k=k)
    for i in range(30):
        real = np.flatnonzero(valid[i])
        ta = real[np.argsort(-np.abs(a[i, real]), kind="stable")][:k]
        tb = real[np.argsort(-np.abs(b[i, real]), kind="stable")][:k]
        assert fa[i] == pytest.approx(len(set(ta) & set(tb)) / k)
        assert ra[i] == pytest.approx(np.mean(ta == tb))
    # huge scores on padding change nothing
    a2 = np.where(valid, a, 1e6)
    np.testing.assert_array_equal(agreement.feature_agreement(a2, b, valid, k=k), fa)


def test_disagreement_errors_and_short_examples():
    a = np.ones((2, 4))
    valid = np.array([[True, True, False, False], [True, True, True, True]])
    out = agreement.rank_agreement(a, a, valid, k=3)
    assert np.isnan(out[0]) and out[1] == 1.0
    for m in DISAGREEMENT:
        with pytest.raises(ValueError, match=r"k must be in \[1, 4\]"):
            m(a, a, k=5)
        with pytest.raises(ValueError, match="same shape"):
            m(a, np.ones((2, 3)), k=1)
        with pytest.raises(TypeError, match="k must be an int"):
            m(a, a, k=1.5)
        with pytest.raises(TypeError, match="valid must be a boolean array"):
            m(a, a, np.ones((2, 4)), k=1)
        with pytest.raises(ValueError, match="a must be finite"):
            m(np.full((2, 4), np.nan), a, k=1)
