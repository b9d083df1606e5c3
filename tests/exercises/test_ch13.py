"""Tests of the exercise checkers of chapter 13 (xai_tutorial.exercises.ch13): selectivity, the normalised
effect of a patch and the prefix-matching score, each worked by hand with the typical mistakes."""
import numpy as np
import pytest

from tests.checker_asserts import not_yet, rejected


@pytest.fixture()
def ch13():
    from xai_tutorial.exercises import ch13

    return ch13


def _texts(values):
    """How an expected value could appear in a message."""
    out = set()
    for v in np.atleast_1d(values):
        out |= {f"{v:.3f}", f"{v:.4f}", f"{v:.6g}"}
    return [t for t in out if t not in ("0", "1", "0.5")]


def test_selectivity_checker(ch13):
    expected = ch13.PROBE_ACCURACY - ch13.CONTROL_ACCURACY
    # right, written differently: a list, from a loop, at 4 decimals
    assert ch13.check_selectivity([round(float(a - c), 4) for a, c in zip(ch13.PROBE_ACCURACY, ch13.CONTROL_ACCURACY)])
    assert rejected(ch13.check_selectivity(-expected), "sign is reversed", *_texts(expected))
    assert rejected(ch13.check_selectivity(ch13.PROBE_ACCURACY / ch13.CONTROL_ACCURACY), "ratio", *_texts(expected))
    assert rejected(ch13.check_selectivity(ch13.PROBE_ACCURACY - 0.5), "chance", *_texts(expected))
    assert rejected(ch13.check_selectivity(expected + np.array([0, 0.1, 0])), "differ", *_texts(expected))
    assert rejected(ch13.check_selectivity(expected[:2]), "shape (3,)")
    assert not_yet(ch13.check_selectivity(None))
    assert not_yet(ch13.check_selectivity("0.1 0.2 0.3"))


def _diff(z, labels):
    return np.array([row[y] - row[1 - y] for row, y in zip(z, labels)])


def test_patching_checker(ch13):
    clean, corrupted, patched = (_diff(z, ch13.LABELS) for z in (ch13.CLEAN_LOGITS, ch13.CORRUPTED_LOGITS,
                                                                 ch13.PATCHED_LOGITS))
    expected = (patched - corrupted) / (clean - corrupted)
    assert expected.max() > 1  # one pair overshoots, as the solution says
    # right, written differently: with the other class's logit difference (the ratio does not change), float32
    other = [-_diff(z, ch13.LABELS) for z in (ch13.CLEAN_LOGITS, ch13.CORRUPTED_LOGITS, ch13.PATCHED_LOGITS)]
    assert ch13.check_patching_effect(((other[2] - other[1]) / (other[0] - other[1])).astype(np.float32))
    hidden = _texts(expected)
    assert rejected(ch13.check_patching_effect(1 - expected), "still missing", *hidden)
    rows = np.arange(4)
    zt = [z[rows, ch13.LABELS] for z in (ch13.CLEAN_LOGITS, ch13.CORRUPTED_LOGITS, ch13.PATCHED_LOGITS)]
    assert rejected(ch13.check_patching_effect((zt[2] - zt[1]) / (zt[0] - zt[1])), "logit difference", *hidden)
    assert rejected(ch13.check_patching_effect(patched / clean), "whole gap", *hidden)
    p = [np.exp(z) / np.exp(z).sum(1, keepdims=True) for z in (ch13.CLEAN_LOGITS, ch13.CORRUPTED_LOGITS,
                                                               ch13.PATCHED_LOGITS)]
    pt = [q[rows, ch13.LABELS] for q in p]
    assert rejected(ch13.check_patching_effect((pt[2] - pt[1]) / (pt[0] - pt[1])), "probabilities", *hidden)
    assert rejected(ch13.check_patching_effect(expected[:3]), "shape (4,)")
    assert not_yet(ch13.check_patching_effect(expected * 0.9))
    assert not_yet(ch13.check_patching_effect(None))


def test_prefix_matching_checker(ch13):
    toks, a = ch13.TOY_SEQUENCE, ch13.TOY_ATTENTION
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    assert np.allclose(np.triu(a, 1), 0)  # causal
    # right, written differently: by looping over keys first
    total, count = 0.0, 0
    for i in range(len(toks)):
        if toks[i] in toks[:i]:
            total += sum(a[i, j] for j in range(1, i + 1) if toks[j - 1] == toks[i])
            count += 1
    expected = total / count
    assert ch13.check_prefix_matching(np.float32(expected))
    hidden = _texts(expected)
    repeated = [i for i in range(len(toks)) if toks[i] in toks[:i]]
    same = np.mean([sum(a[i, j] for j in range(i) if toks[j] == toks[i]) for i in repeated])
    assert rejected(ch13.check_prefix_matching(same), "right *after*", *hidden)
    previous = np.mean([a[i, i - 1] for i in range(1, len(toks))])
    assert rejected(ch13.check_prefix_matching(previous), "previous-token score", *hidden)
    all_queries = np.mean([sum(a[i, j] for j in range(1, i + 1) if toks[j - 1] == toks[i]) for i in range(len(toks))])
    assert rejected(ch13.check_prefix_matching(all_queries), "occurred before", *hidden)
    first = np.mean([a[i, int(np.flatnonzero(toks[:i] == toks[i])[0]) + 1] for i in repeated])
    assert rejected(ch13.check_prefix_matching(first), "every position after", *hidden)
    assert rejected(ch13.check_prefix_matching(expected + 0.05), "too large", *hidden)
    assert not_yet(ch13.check_prefix_matching([expected, expected]))
    assert not_yet(ch13.check_prefix_matching(None))


def test_checkers_agree_with_the_package(ch13):
    from xai_tutorial import induction, mechanistic

    assert ch13.check_prefix_matching(induction.prefix_matching_scores(ch13.TOY_ATTENTION, ch13.TOY_SEQUENCE)[0])
    d = [mechanistic.logit_difference(z, ch13.LABELS) for z in (ch13.PATCHED_LOGITS, ch13.CORRUPTED_LOGITS,
                                                                ch13.CLEAN_LOGITS)]
    assert ch13.check_patching_effect(mechanistic.normalised_effect(*d))
