"""Tests of the exercise checkers of chapter 9 (xai_tutorial.exercises.ch09): the Jensen-Shannon
divergence, the shortcut rule and the top-2 erasure count, checked against an independent
computation (SciPy's Jensen-Shannon distance, xai_tutorial.attention_interventions).

Each checker accepts a right answer written differently from the book's solution, rejects the
typical wrong answers with a hint that does not print the expected value, and answers unusable
input with "Not yet" instead of raising."""
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.special import rel_entr

from xai_tutorial import attention_interventions
from xai_tutorial.exercises import ch09
from checker_asserts import not_yet, rejected

# planted_split and planted_clf (a trained text classifier) come from tests/conftest.py


# --------------------------------------------------------------------------- JSD

def test_jsd_reference_matches_scipy():
    for p, q in ch09._JSD_CASES:
        assert np.isclose(ch09.jsd_reference(p, q), jensenshannon(p, q) ** 2, atol=1e-12)


def test_jsd_right_answers():
    assert ch09.check_jsd(ch09.jsd_reference)
    # written differently: SciPy's relative entropy, or SciPy's distance squared
    assert ch09.check_jsd(lambda p, q: 0.5 * rel_entr(p, (p + q) / 2).sum() + 0.5 * rel_entr(q, (p + q) / 2).sum())
    assert ch09.check_jsd(lambda p, q: jensenshannon(p, q) ** 2)


def base2(p, q):
    return ch09.jsd_reference(p, q) / np.log(2)


def doubled(p, q):
    return 2 * ch09.jsd_reference(p, q)


def kl_pq(p, q):
    return float(np.sum(p * np.log(p / q)))


def nan_on_zero(p, q):
    m = (p + q) / 2
    return 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))


def half_kl_p(p, q):
    return 0.5 * float(rel_entr(p, (p + q) / 2).sum())


def sum_mixture(p, q):
    return 0.5 * float(rel_entr(p, p + q).sum()) + 0.5 * float(rel_entr(q, p + q).sum())


@pytest.mark.parametrize("fn, words", [
    (base2, "bits"), (doubled, "factor 1/2"), (kl_pq, "mixture"), (nan_on_zero, "0 log 0"),
    (lambda p, q: jensenshannon(p, q), "*distance*"), (half_kl_p, "only one of KL(p || m) and KL(q || m)"),
    (sum_mixture, "*average*"), (lambda p, q: ch09.jsd_reference(p, q) + 0.01, "too large"),
])
def test_jsd_typical_mistakes(fn, words):
    with np.errstate(all="ignore"):
        fb = ch09.check_jsd(fn)
    p, q = ch09._JSD_CASES[1]
    ref = ch09.jsd_reference(p, q)
    rejected(fb, words, f"{ref:.6f}", f"{ref:.4f}", f"{ref:.3f}")


@pytest.mark.parametrize("fn", [None, 3, lambda p, q: None, lambda p: 0.0, lambda p, q: "jsd",
                                lambda p, q: 1 / 0, lambda p, q: [0.1, 0.2]])
def test_jsd_unusable_answers_say_not_yet(fn):
    not_yet(ch09.check_jsd(fn))


# --------------------------------------------------------------------------- shortcut rule

IDS = np.array([[5, 7, 0], [9, 5, 0], [4, 4, 7], [7, 1, 2]])
LABELS = np.array([1, 0, 1, 0])
CONDITIONS = {"a": IDS, "b": IDS[::-1]}


def rule(x):
    return (np.asarray(x) == 7).any(axis=1).astype(int)


def test_shortcut_rule_right_answers():
    res = ch09.check_shortcut_rule(rule, CONDITIONS, LABELS, 7)
    assert res and "a: 0.75" in res.message
    # written differently: a list comprehension returning bools
    assert ch09.check_shortcut_rule(lambda x: np.array([7 in row for row in x]), CONDITIONS, LABELS, 7)


@pytest.mark.parametrize("fn, words", [
    (lambda x: 1 - rule(x), "inverted"),
    (lambda x: (np.asarray(x) == 7).any(), "axis=1"),
    (lambda x: (np.asarray(x) == 7).any(axis=0).astype(int), "shape"),
    (lambda x: (np.asarray(x)[:, 0] == 7).astype(int), "only at the first position"),
    (lambda x: (np.asarray(x) == 7).all(axis=1).astype(int), "contains the shortcut"),
    (lambda x: (np.asarray(x) == 5).any(axis=1).astype(int), "the shortcut token (id 7)"),
])
def test_shortcut_rule_typical_mistakes(fn, words):
    rejected(ch09.check_shortcut_rule(fn, CONDITIONS, LABELS, 7), words, "expected 0", "expected 1")


@pytest.mark.parametrize("fn", [None, "rule", lambda x: None, lambda x: "1", lambda x, y: 1, lambda x: 1 / 0])
def test_shortcut_rule_unusable_answers_say_not_yet(fn):
    not_yet(ch09.check_shortcut_rule(fn, CONDITIONS, LABELS, 7))


def test_shortcut_rule_bad_context_raises():
    with pytest.raises(ValueError, match="rows"):
        ch09.check_shortcut_rule(rule, {"a": IDS[:2]}, LABELS, 7)
    with pytest.raises(TypeError, match="dict"):
        ch09.check_shortcut_rule(rule, IDS, LABELS, 7)


# --------------------------------------------------------------------------- top-2 erasure

@pytest.fixture(scope="module")
def erasure_case(planted_split, planted_clf):
    _, test = planted_split
    ids = test.token_ids[(test.token_ids != 0).sum(axis=1) >= 3][:80]
    return planted_clf, ids, ch09.top2_erasure_flips(planted_clf, ids)


def test_top2_erasure_right_answers(erasure_case):
    clf, ids, expected = erasure_case
    # independent computation through the package, with a boolean mask of the two largest weights
    w = clf.attention_weights(ids)
    mask = w >= np.sort(w, axis=1)[:, -2:-1]
    count = attention_interventions.erasure_flips(clf, ids, mask).flipped.sum()
    assert expected == int(count)
    assert ch09.check_top2_erasure_flips(count, clf, ids)                # a NumPy integer
    assert ch09.check_top2_erasure_flips(float(expected), clf, ids)      # a whole float


def test_top2_erasure_typical_mistakes(erasure_case):
    clf, ids, expected = erasure_case
    w = clf.attention_weights(ids)
    top1 = int(attention_interventions.erasure_flips(clf, ids, np.argmax(w, axis=1)).flipped.sum())
    not_renormalised = ch09.top2_erasure_flips(clf, ids, renormalise=False)
    cases = [(expected + 1000, "not a count"), (len(ids) - expected, "do *not* flip"),
             (expected / len(ids), "fraction"), (expected + 1, "too many")]
    if top1 != expected:
        cases.append((top1, "only the most-attended token"))
    if not_renormalised != expected:
        cases.append((not_renormalised, "without renormalising"))
    assert len(cases) >= 4
    for value, words in cases:
        rejected(ch09.check_top2_erasure_flips(value, clf, ids), words, f"expected {expected}",
                 f" {expected} of")


@pytest.mark.parametrize("value", [None, "12", 12.5, [1, 2], ..., True])
def test_top2_erasure_unusable_answers_say_not_yet(erasure_case, value):
    clf, ids, _ = erasure_case
    not_yet(ch09.check_top2_erasure_flips(value, clf, ids))


def test_top2_erasure_bad_context_raises(erasure_case):
    clf, ids, expected = erasure_case
    with pytest.raises(TypeError, match="TextAttentionClassifier"):
        ch09.check_top2_erasure_flips(expected, clf.model, ids)
