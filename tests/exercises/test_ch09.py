"""Tests of the exercise checkers of chapter 9 (xai_tutorial.exercises.ch09): the Jensen-Shannon
divergence, the shortcut rule and the top-2 erasure count, checked against an independent
computation through xai_tutorial.attention_interventions."""
import numpy as np
import pytest

from xai_tutorial import attention_interventions
from xai_tutorial.exercises import ch09

# planted_split and planted_clf (a trained text classifier) come from tests/conftest.py


def test_check_jsd_accepts_right_and_explains_mistakes():
    assert ch09.check_jsd(ch09.jsd_reference)

    def base2(p, q):
        return ch09.jsd_reference(p, q) / np.log(2)

    def doubled(p, q):
        return 2 * ch09.jsd_reference(p, q)

    def kl_pq(p, q):
        return float(np.sum(p * np.log(p / q)))

    def nan_on_zero(p, q):
        m = (p + q) / 2
        return 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))

    for fn, words in [(base2, "bits"), (doubled, "twice"), (kl_pq, "mixture"),
                      (lambda p, q: None, "returned None"), (nan_on_zero, "0 log 0")]:
        with np.errstate(all="ignore"):
            res = ch09.check_jsd(fn)
        assert not res and words in res.message, (words, res.message)
    assert not ch09.check_jsd(3)


def test_check_shortcut_rule():
    ids = np.array([[5, 7, 0], [9, 5, 0], [4, 4, 4]])
    labels = np.array([1, 0, 1])
    conditions = {"a": ids, "b": ids[::-1]}

    def rule(x):
        return (np.asarray(x) == 7).any(axis=1).astype(int)

    res = ch09.check_shortcut_rule(rule, conditions, labels, 7)
    assert res and "a: 0.67" in res.message
    res = ch09.check_shortcut_rule(lambda x: 1 - rule(x), conditions, labels, 7)
    assert not res and "inverted" in res.message
    res = ch09.check_shortcut_rule(lambda x: (np.asarray(x) == 7).any(), conditions, labels, 7)
    assert not res and "axis=1" in res.message
    res = ch09.check_shortcut_rule(lambda x: None, conditions, labels, 7)
    assert not res and "None" in res.message
    with pytest.raises(ValueError, match="rows"):
        ch09.check_shortcut_rule(rule, {"a": ids[:2]}, labels, 7)


def test_check_top2_erasure_flips(planted_split, planted_clf):
    _, test = planted_split
    ids = test.token_ids[(test.token_ids != 0).sum(axis=1) >= 3][:80]
    expected = ch09.top2_erasure_flips(planted_clf, ids)
    # independent computation through the package
    w = planted_clf.attention_weights(ids)
    mask = np.zeros(ids.shape, dtype=bool)
    np.put_along_axis(mask, np.argsort(-w, axis=1)[:, :2], True, axis=1)
    assert expected == int(attention_interventions.erasure_flips(planted_clf, ids, mask).flipped.sum())
    assert ch09.check_top2_erasure_flips(expected, planted_clf, ids)
    assert ch09.check_top2_erasure_flips(np.int64(expected), planted_clf, ids)
    res = ch09.check_top2_erasure_flips(expected + 1000, planted_clf, ids)
    assert not res and f"expected {expected}" in res.message
    assert not ch09.check_top2_erasure_flips(None, planted_clf, ids)
    assert not ch09.check_top2_erasure_flips(float(expected) + 0.5, planted_clf, ids)
    with pytest.raises(TypeError, match="TextAttentionClassifier"):
        ch09.check_top2_erasure_flips(expected, planted_clf.model, ids)
