"""Tests of the planted-negation data (xai_tutorial.negation_data)."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

import xai_tutorial  # noqa: F401
from xai_tutorial import data, negation_data as nd


@pytest.fixture(scope="module")
def negation():
    return nd.make_negation_text(1000, seq_len=10, min_len=5, negation_rate=0.4, distractor_rate=0.5, seed=0)


def _words(d, ids):
    return {d.vocab[i] for i in np.ravel(ids)}


def test_shapes_types_and_the_label_rule(negation):
    d = negation
    n = len(d)
    assert isinstance(d, data.TextData) and isinstance(d, nd.NegationText)
    assert d.token_ids.shape == (n, 10) and d.token_ids.dtype == np.int32
    assert d.rationale.shape == (n, 10) and d.rationale.dtype == bool
    np.testing.assert_array_equal(d.labels, d.polarity ^ d.negated)
    assert d.labels.sum() == n // 2  # balanced by construction
    assert d.vocab == nd.negation_vocab() and d.vocab[:2] == (data.PAD, data.UNK)
    # padding only after the last real token, lengths in [min_len, seq_len]
    real = d.token_ids != data.PAD_ID
    assert np.all(np.diff(real.astype(int), axis=1) <= 0)
    assert real.sum(1).min() >= 5 and real.sum(1).max() <= 10


def test_planted_positions_hold_the_planted_words(negation):
    d = negation
    rows = np.arange(len(d))
    cues = d.token_ids[rows, d.cue_position]
    pos = np.isin(cues, [d.vocab.index(w) for w in data.POSITIVE_CUES])
    neg = np.isin(cues, [d.vocab.index(w) for w in data.NEGATIVE_CUES])
    np.testing.assert_array_equal(pos, d.polarity == 1)
    np.testing.assert_array_equal(neg, d.polarity == 0)
    negator_ids = [d.vocab.index(w) for w in nd.NEGATORS]
    # a negated cue has a negator right before it; a plain one has a neutral word there
    before = d.token_ids[rows, d.cue_position - 1]
    np.testing.assert_array_equal(np.isin(before, negator_ids), d.negated)
    np.testing.assert_array_equal(d.negator_position, np.where(d.negated, d.cue_position - 1, -1))
    assert _words(d, before[~d.negated]) <= set(data.NEUTRAL_WORDS)
    # distractors are negators elsewhere, never at the cue or right before it
    has = d.distractor_position >= 0
    assert 0.4 < has.mean() < 0.6
    assert np.all(np.isin(d.token_ids[rows[has], d.distractor_position[has]], negator_ids))
    assert np.all(d.distractor_position[has] != d.cue_position[has])
    assert np.all(d.distractor_position[has] != d.cue_position[has] - 1)
    # every other real token is a neutral word
    other = (d.token_ids != 0).copy()
    other[rows, d.cue_position] = False
    other[rows[d.negated], d.negator_position[d.negated]] = False
    other[rows[has], d.distractor_position[has]] = False
    assert _words(d, d.token_ids[other]) <= set(data.NEUTRAL_WORDS)


def test_rationale_is_the_cue_and_its_negator_only(negation):
    d = negation
    rows = np.arange(len(d))
    np.testing.assert_array_equal(d.rationale.sum(1), 1 + d.negated)
    assert d.rationale[rows, d.cue_position].all()
    assert d.rationale[rows[d.negated], d.negator_position[d.negated]].all()
    has = d.distractor_position >= 0
    assert not d.rationale[rows[has], d.distractor_position[has]].any()


def test_rates_and_defaults():
    d = nd.make_negation_text(seed=1)
    assert len(d) == 3000 and d.seq_len == 10
    assert abs(d.negated.mean() - 0.3) < 0.03
    assert np.all(d.distractor_position == -1)  # no distractors by default
    negator_ids = [d.vocab.index(w) for w in nd.NEGATORS]
    # without distractors, a negator occurs exactly where it negates
    np.testing.assert_array_equal(np.isin(d.token_ids, negator_ids).sum(1), d.negated.astype(int))
    none = nd.make_negation_text(50, negation_rate=0.0, seed=0)
    assert not none.negated.any() and np.array_equal(none.labels, none.polarity)
    every = nd.make_negation_text(50, negation_rate=1.0, distractor_rate=1.0, seed=0)
    assert every.negated.all() and (every.distractor_position >= 0).all()


def test_label_needs_the_two_tokens_to_interact():
    """A linear bag-of-words model cannot fit XOR(polarity, negated); the interaction feature does."""
    d = nd.make_negation_text(3000, seed=3)
    train, test = data.split_text(d, 0.3, seed=0)
    bow = lambda t: np.stack([np.bincount(r, minlength=len(d.vocab)) for r in t.token_ids])[:, 1:]  # noqa: E731
    linear = LogisticRegression(max_iter=2000).fit(bow(train), train.labels).score(bow(test), test.labels)
    # no additive rule fits XOR: the best one gets three of the four (polarity, negated) cells right,
    # 0.35 + 0.35 + 0.15 = 0.85 of the sentences; logistic regression settles near the cue's polarity (0.7)
    assert linear < 0.86, linear
    assert linear > 0.6  # it does find the cue words: the data are not noise
    xor = np.array([test.polarity ^ test.negated]).T
    assert np.mean(xor[:, 0] == test.labels) == 1.0


def test_same_seed_same_data_and_subsets_keep_the_positions(negation):
    a = nd.make_negation_text(200, seed=5)
    b = nd.make_negation_text(200, seed=5)
    c = nd.make_negation_text(200, seed=6)
    np.testing.assert_array_equal(a.token_ids, b.token_ids)
    np.testing.assert_array_equal(a.cue_position, b.cue_position)
    assert not np.array_equal(a.token_ids, c.token_ids)
    for index in ([3, 1, -1], np.arange(1000) % 3 == 0, slice(10, 20)):
        s = negation.subset(index)
        assert isinstance(s, nd.NegationText)
        np.testing.assert_array_equal(s.token_ids, negation.token_ids[index])
        np.testing.assert_array_equal(s.cue_position, negation.cue_position[index])
        np.testing.assert_array_equal(s.negated, negation.negated[index])
    train, test = data.split_text(negation, 0.25, seed=0)
    assert isinstance(train, nd.NegationText) and len(train) + len(test) == len(negation)
    np.testing.assert_array_equal(test.labels, test.polarity ^ test.negated)


def test_doc_example():
    d = nd.make_negation_text(4, seq_len=6, min_len=4, seed=1)
    assert bool(((d.polarity ^ d.negated) == d.labels).all())


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"n_samples": 1}, ValueError, "n_samples"),
    ({"n_samples": "10"}, TypeError, "n_samples"),
    ({"seq_len": 2}, ValueError, "seq_len"),
    ({"min_len": 2}, ValueError, "min_len"),
    ({"min_len": 11}, ValueError, "min_len"),
    ({"negation_rate": 1.5}, ValueError, "negation_rate"),
    ({"negation_rate": "half"}, TypeError, "negation_rate"),
    ({"distractor_rate": -0.1}, ValueError, "distractor_rate"),
    ({"seed": 1.0}, TypeError, "seed"),
])
def test_bad_arguments_are_rejected(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        nd.make_negation_text(**{"n_samples": 10, **kwargs})


def test_inconsistent_negation_text_is_rejected(negation):
    d = negation.subset(slice(0, 5))
    fields = dict(polarity=d.polarity, negated=d.negated, cue_position=d.cue_position,
                  negator_position=d.negator_position, distractor_position=d.distractor_position)
    with pytest.raises(ValueError, match="labels must equal polarity XOR negated"):
        nd.NegationText(d.token_ids, 1 - d.labels, d.vocab, d.rationale, **fields)
    with pytest.raises(ValueError, match="rationale must be given"):
        nd.NegationText(d.token_ids, d.labels, d.vocab, None, **fields)
    with pytest.raises(ValueError, match=r"cue_position must have one entry per sequence \(5,\)"):
        nd.NegationText(d.token_ids, d.labels, d.vocab, d.rationale, **{**fields, "cue_position": d.cue_position[:3]})
    with pytest.raises(TypeError, match="negated must be a bool array"):
        nd.NegationText(d.token_ids, d.labels, d.vocab, d.rationale, **{**fields, "negated": d.negated.astype(int)})
    with pytest.raises(ValueError, match="cue_position must lie in"):
        nd.NegationText(d.token_ids, d.labels, d.vocab, d.rationale, **{**fields, "cue_position": d.cue_position * 0})
    with pytest.raises(TypeError):
        nd.NegationText(d.token_ids, d.labels, d.vocab, d.rationale)  # the planted positions are required
