"""Tests of the induction-head tools (xai_tutorial.induction).

References: the definition of the data (every token after the first period is the one a period
earlier), hand-made attention maps with known previous-token and prefix-matching scores, the
causal mask (no weight right of the diagonal), and ablation against the model with the head's
rows of the output projection set to 0 by hand.
"""
from __future__ import annotations

import numpy as np
import pytest

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import induction as ind

V, CONTEXT = 10, 8


@pytest.fixture(scope="module")
def net():
    return ind.build_induction_transformer(V, CONTEXT, dim=8, heads=2, seed=1)


@pytest.fixture(scope="module")
def tokens():
    return ind.make_repeated_sequences(20, CONTEXT + 1, V, seed=3)[0]


def test_repeated_sequences():
    x, periods = ind.make_repeated_sequences(50, 12, 9, min_period=2, max_period=5, seed=0)
    assert x.shape == (50, 12) and x.dtype == np.int32 and periods.min() >= 2 and periods.max() <= 5
    for row, p in zip(x, periods):
        assert len(set(row[:p].tolist())) == p            # one block of distinct tokens
        assert np.array_equal(row[p:], row[:12 - p])      # repeated with period p
    assert np.array_equal(x, ind.make_repeated_sequences(50, 12, 9, min_period=2, max_period=5, seed=0)[0])
    assert len(np.unique(periods)) == 4
    with pytest.raises(ValueError, match="vocab_size"):
        ind.make_repeated_sequences(5, 12, 4)  # max_period 6 needs at least 6 token types
    with pytest.raises(ValueError, match="min_period"):
        ind.make_repeated_sequences(5, 12, 9, min_period=7)


def test_model_shapes_and_causality(net, tokens):
    p = np.asarray(net.model(tokens[:, :-1]))
    assert p.shape == (20, CONTEXT, V)
    np.testing.assert_allclose(p.sum(-1), 1, atol=1e-5)
    maps = net.attention_maps(tokens)
    assert len(maps) == 2 and maps[0].shape == (20, 2, CONTEXT, CONTEXT)
    assert np.abs(np.triu(np.ones((CONTEXT, CONTEXT)), 1) * maps[1]).max() < 1e-7  # causal
    # changing a later token changes nothing at earlier positions
    other = tokens.copy()
    other[:, 5] = (other[:, 5] + 1) % V
    q = np.asarray(net.model(other[:, :-1]))
    np.testing.assert_allclose(q[:, :5], p[:, :5], atol=1e-6)
    loss = ind.next_token_loss(net, tokens)
    want = -np.log(np.take_along_axis(p, tokens[:, 1:, None], -1)[..., 0])
    np.testing.assert_allclose(loss, want, rtol=1e-5)


def test_ablation_equals_zeroing_by_hand(net, tokens):
    before = [np.asarray(layer.output_dense.kernel).copy() for layer in net.attention_layers]
    ablated = ind.next_token_loss(net, tokens, ablate=[(1, 0), (0, 1)])
    for layer, b in zip(net.attention_layers, before):  # the weights are restored
        np.testing.assert_array_equal(np.asarray(layer.output_dense.kernel), b)
    for (layer, head) in [(1, 0), (0, 1)]:
        k = before[layer].copy()
        k[head] = 0
        net.attention_layers[layer].output_dense.kernel.assign(k)
    try:
        p = np.asarray(net.model(tokens[:, :-1]))
    finally:
        for layer, b in zip(net.attention_layers, before):
            layer.output_dense.kernel.assign(b)
    want = -np.log(np.take_along_axis(p, tokens[:, 1:, None], -1)[..., 0])
    np.testing.assert_allclose(ablated, want, rtol=1e-5)
    assert not np.allclose(ablated, ind.next_token_loss(net, tokens))
    with pytest.raises(ValueError, match="head"):
        ind.next_token_loss(net, tokens, ablate=[(0, 2)])
    with pytest.raises(TypeError, match="ablate"):
        ind.next_token_loss(net, tokens, ablate=[0, 1])


def test_training_learns_the_repeats():
    x, periods = ind.make_repeated_sequences(3000, 13, 8, seed=0)
    net = ind.build_induction_transformer(8, 12, dim=16, heads=2, seed=0)
    ind.train_induction_transformer(net, x, epochs=4, batch_size=64, seed=0)
    xt, pt = ind.make_repeated_sequences(300, 13, 8, seed=9)
    loss = ind.next_token_loss(net, xt)
    repeat = np.arange(12)[None] >= pt[:, None]
    assert loss[repeat].mean() < 0.5 * np.log(8) < loss[~repeat].mean()


def test_previous_token_scores():
    L = 5
    prev = np.eye(L, k=-1)
    prev[0, 0] = 1
    uniform = np.tril(np.ones((L, L))) / np.arange(1, L + 1)[:, None]
    maps = np.stack([prev, uniform])[None]  # (1, 2 heads, L, L)
    np.testing.assert_allclose(ind.previous_token_scores(maps), [1.0, np.mean(1 / np.arange(2, L + 1))])
    np.testing.assert_allclose(ind.previous_token_scores(prev), [1.0])
    with pytest.raises(ValueError, match="square"):
        ind.previous_token_scores(np.ones((2, 3)))
    with pytest.raises(ValueError, match="non-negative"):
        ind.previous_token_scores(-prev)


def test_prefix_matching_scores():
    tokens = np.array([5, 2, 7, 5, 2, 7])  # period 3: query i >= 3 should look at i - 2
    L = len(tokens)
    induction = np.zeros((L, L))
    induction[np.arange(L), np.maximum(np.arange(L) - 2, 0)] = 1.0
    induction[1, :] = [1, 0, 0, 0, 0, 0]
    previous = np.eye(L, k=-1)
    previous[0, 0] = 1
    maps = np.stack([induction, previous])[None]
    np.testing.assert_allclose(ind.prefix_matching_scores(maps, tokens[None]), [1.0, 0.0])
    # two earlier occurrences: the score adds the attention on both targets
    toks = np.array([1, 2, 1, 2, 1])
    a = np.zeros((5, 5))
    a[np.arange(5), np.arange(5)] = 1
    a[4] = [0.1, 0.3, 0.2, 0.4, 0.0]  # targets of query 4 (token 1): positions 1 and 3
    a[2] = [0.5, 0.5, 0, 0, 0]       # query 2 (token 1): target position 1
    a[3] = [0, 0, 0.6, 0.4, 0]       # query 3 (token 2): target position 2
    np.testing.assert_allclose(ind.prefix_matching_scores(a, toks), [np.mean([0.5, 0.6, 0.7])])
    with pytest.raises(ValueError, match="repeat"):
        ind.prefix_matching_scores(np.eye(3), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="tokens"):
        ind.prefix_matching_scores(maps, tokens[None, :5])


def test_bad_inputs(net, tokens):
    with pytest.raises(TypeError, match="net"):
        ind.next_token_loss("net", tokens)
    with pytest.raises(ValueError, match="tokens"):
        ind.next_token_loss(net, tokens[:, :5])
    with pytest.raises(ValueError, match="tokens"):
        ind.next_token_loss(net, tokens + V)
    with pytest.raises(ValueError, match="divisible"):
        ind.build_induction_transformer(V, CONTEXT, dim=9, heads=2)
    with pytest.raises(TypeError, match="epochs"):
        ind.train_induction_transformer(net, tokens, epochs=1.5)


def test_bad_inputs_found_by_the_sweep(net, tokens):
    """Empty inputs were accepted silently (training on nothing; a score of NaN)."""
    with pytest.raises(ValueError, match="tokens must not be empty"):
        ind.train_induction_transformer(net, tokens[:0])
    with pytest.raises(ValueError, match="attention must not be empty"):
        ind.previous_token_scores(np.zeros((0, 2, 4, 4)))
    with pytest.raises(ValueError, match="attention must not be empty"):
        ind.prefix_matching_scores(np.zeros((0, 2, 4, 4)), np.zeros((0, 4), dtype=int))
