"""Tests of the NumPy attention functions (xai_tutorial.attention).

Each formula is checked against a reference computed independently: a hand-written loop, a
closed form, or Keras (the Keras comparisons of the layers live in test_attention_layers.py).
"""
from __future__ import annotations

import numpy as np
import pytest

import xai_tutorial  # noqa: F401  (silences TensorFlow before keras is imported)
from xai_tutorial import attention as A

RNG = np.random.default_rng(0)


# --------------------------------------------------------------------------- softmax and masks
def test_softmax_rows_sum_to_one_and_match_the_definition():
    x = RNG.normal(size=(3, 4, 5)) * 10
    w = A.softmax(x)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-12)
    np.testing.assert_allclose(w, np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True), rtol=1e-12)


def test_softmax_is_stable_for_huge_scores():
    w = A.softmax(np.array([1000.0, 1000.0, -1000.0]))
    np.testing.assert_allclose(w, [0.5, 0.5, 0.0], atol=1e-12)


def test_softmax_rejects_nan_posinf_and_fully_masked_rows():
    with pytest.raises(ValueError, match="NaN"):
        A.softmax(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"\+inf"):
        A.softmax(np.array([0.0, np.inf]))
    with pytest.raises(ValueError, match="fully masked"):
        A.softmax(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))


def test_causal_mask_is_lower_triangular_and_boolean():
    m = A.causal_mask(4)
    assert m.dtype == bool
    expected = np.array([[j <= i for j in range(4)] for i in range(4)])
    np.testing.assert_array_equal(m, expected)
    with pytest.raises(ValueError, match="n must be"):
        A.causal_mask(0)
    with pytest.raises(TypeError, match="n must be an int"):
        A.causal_mask(2.5)


def test_padding_mask_marks_the_first_length_keys():
    m = A.key_padding_mask(np.array([2, 4]), 4)
    assert m.shape == (2, 1, 4)
    np.testing.assert_array_equal(m[:, 0], [[1, 1, 0, 0], [1, 1, 1, 1]])
    with pytest.raises(ValueError, match="lengths must lie"):
        A.key_padding_mask(np.array([0, 3]), 4)


def test_masked_softmax_gives_masked_keys_exactly_zero():
    scores = RNG.normal(size=(2, 3, 5))
    mask = np.broadcast_to(A.key_padding_mask(np.array([2, 5]), 5), scores.shape)
    w = A.masked_softmax(scores, mask)
    assert np.all(w[~mask] == 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-12)
    # on the allowed keys it is the softmax of those keys alone
    np.testing.assert_allclose(w[0, :, :2], A.softmax(scores[0, :, :2]), rtol=1e-12)


def test_masked_softmax_errors():
    with pytest.raises(TypeError, match="boolean"):
        A.masked_softmax(np.zeros((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="does not broadcast"):
        A.masked_softmax(np.zeros((2, 3)), np.ones((2, 2), dtype=bool))
    with pytest.raises(ValueError, match="allow no key"):
        A.masked_softmax(np.zeros((2, 2)), np.array([[True, False], [False, False]]))
    with pytest.raises(ValueError, match="finite"):
        A.masked_softmax(np.array([[np.nan, 0.0]]))


# --------------------------------------------------------------------------- scaled dot-product
def _loop_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v written as loops over queries and keys."""
    n_q, n_k = q.shape[0], k.shape[0]
    out = np.zeros((n_q, v.shape[1]))
    weights = np.zeros((n_q, n_k))
    for i in range(n_q):
        s = np.array([q[i] @ k[j] / np.sqrt(q.shape[1]) for j in range(n_k)])
        allowed = np.ones(n_k, bool) if mask is None else mask[i]
        e = np.where(allowed, np.exp(s - s[allowed].max()), 0.0)
        weights[i] = e / e.sum()
        out[i] = sum(weights[i, j] * v[j] for j in range(n_k))
    return out, weights


def test_scaled_dot_product_attention_matches_a_loop():
    q, k, v = RNG.normal(size=(4, 3)), RNG.normal(size=(6, 3)), RNG.normal(size=(6, 2))
    mask = RNG.random((4, 6)) < 0.7
    mask[:, 0] = True
    for m in (None, mask):
        out, w = A.scaled_dot_product_attention(q, k, v, m)
        ref_out, ref_w = _loop_attention(q, k, v, m)
        np.testing.assert_allclose(w, ref_w, atol=1e-12)
        np.testing.assert_allclose(out, ref_out, atol=1e-12)


def test_scaled_dot_product_attention_masks_and_rows_sum_to_one():
    q = RNG.normal(size=(2, 5, 4))
    _, w = A.scaled_dot_product_attention(q, q, q, A.causal_mask(5))
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-12)
    assert np.all(w[:, ~A.causal_mask(5)] == 0.0)
    _, w = A.scaled_dot_product_attention(q, q, q, A.key_padding_mask(np.array([3, 5]), 5))
    assert np.all(w[0, :, 3:] == 0.0) and np.all(w[1] > 0)


def test_scaled_dot_product_attention_scale_argument():
    q, k = RNG.normal(size=(3, 4)), RNG.normal(size=(5, 4))
    _, w = A.scaled_dot_product_attention(q, k, k, scale=1.0)
    np.testing.assert_allclose(w, A.softmax(q @ k.T), rtol=1e-12)


def test_scaled_dot_product_attention_errors():
    q = np.zeros((3, 4))
    with pytest.raises(ValueError, match="d_k"):
        A.scaled_dot_product_attention(q, np.zeros((3, 5)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="same number of keys"):
        A.scaled_dot_product_attention(q, np.zeros((3, 4)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="at least 2-D"):
        A.scaled_dot_product_attention(np.zeros(4), np.zeros((3, 4)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="finite"):
        A.scaled_dot_product_attention(np.full((3, 4), np.nan), q, q)
    with pytest.raises(TypeError, match="boolean"):
        A.scaled_dot_product_attention(q, q, q, np.ones((3, 3), dtype=int))
    with pytest.raises(ValueError, match="allow no key"):
        A.scaled_dot_product_attention(q, q, q, np.array([[1, 0, 0], [0, 0, 0], [1, 1, 1]], bool))
    with pytest.raises(TypeError, match="numbers"):
        A.scaled_dot_product_attention("abc", q, q)


# --------------------------------------------------------------------------- additive attention
def test_additive_attention_matches_the_formula_per_pair():
    q, k, v = RNG.normal(size=(3, 4)), RNG.normal(size=(5, 2)), RNG.normal(size=(5, 3))
    W_q, W_k, w_v, b = (RNG.normal(size=(4, 6)), RNG.normal(size=(2, 6)), RNG.normal(size=6),
                        RNG.normal(size=6))
    out, w = A.additive_attention(q, k, v, W_q, W_k, w_v, b=b)
    scores = np.array([[w_v @ np.tanh(W_q.T @ q[i] + W_k.T @ k[j] + b) for j in range(5)]
                       for i in range(3)])
    np.testing.assert_allclose(w, A.softmax(scores), rtol=1e-12)
    np.testing.assert_allclose(out, A.softmax(scores) @ v, rtol=1e-12)


def test_additive_attention_masks_and_batches():
    q, k = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 5, 4))
    W, w_v = RNG.normal(size=(4, 3)), RNG.normal(size=3)
    mask = A.key_padding_mask(np.array([2, 5]), 5)
    out, w = A.additive_attention(q, k, k, W, W, w_v, mask)
    assert out.shape == (2, 3, 4) and w.shape == (2, 3, 5)
    assert np.all(w[0, :, 2:] == 0.0)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, atol=1e-12)


def test_additive_attention_errors():
    q = np.zeros((3, 4))
    with pytest.raises(ValueError, match="W_q must have shape"):
        A.additive_attention(q, q, q, np.zeros((3, 2)), np.zeros((4, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="share the number of units"):
        A.additive_attention(q, q, q, np.zeros((4, 2)), np.zeros((4, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="w_v must be 1-D"):
        A.additive_attention(q, q, q, np.zeros((4, 2)), np.zeros((4, 2)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="b must have shape"):
        A.additive_attention(q, q, q, np.zeros((4, 2)), np.zeros((4, 2)), np.zeros(2), b=np.zeros(3))
    with pytest.raises(TypeError, match="boolean"):
        A.additive_attention(q, q, q, np.zeros((4, 2)), np.zeros((4, 2)), np.zeros(2),
                             np.ones((3, 3)))


# --------------------------------------------------------------------------- multi-head attention
def test_split_and_merge_heads_are_inverse_and_contiguous():
    x = np.arange(2 * 3 * 6, dtype=float).reshape(2, 3, 6)
    s = A.split_heads(x, 3)
    assert s.shape == (2, 3, 3, 2)
    np.testing.assert_array_equal(s[:, 1], x[..., 2:4])  # head 1 = features 2, 3
    np.testing.assert_array_equal(A.merge_heads(s), x)
    with pytest.raises(ValueError, match="divisible"):
        A.split_heads(x, 4)
    with pytest.raises(ValueError, match="at least 3-D"):
        A.merge_heads(np.zeros((2, 2)))


def test_multi_head_attention_equals_a_loop_over_heads():
    x_q, x_kv = RNG.normal(size=(2, 4, 6)), RNG.normal(size=(2, 5, 3))
    h, dk, dv = 2, 3, 2
    W_q, W_k = RNG.normal(size=(6, h, dk)), RNG.normal(size=(3, h, dk))
    W_v, W_o = RNG.normal(size=(3, h, dv)), RNG.normal(size=(h, dv, 7))
    b_q, b_o = RNG.normal(size=(h, dk)), RNG.normal(size=7)
    mask = A.key_padding_mask(np.array([5, 2]), 5)
    out, w = A.multi_head_attention(x_q, x_kv, W_q, W_k, W_v, W_o, h, mask, b_q=b_q, b_o=b_o)
    assert out.shape == (2, 4, 7) and w.shape == (2, h, 4, 5)
    ref = np.zeros((2, 4, 7))
    for b in range(2):
        for head in range(h):
            q = x_q[b] @ W_q[:, head] + b_q[head]
            o, wh = A.scaled_dot_product_attention(q, x_kv[b] @ W_k[:, head], x_kv[b] @ W_v[:, head],
                                                   mask[b])
            np.testing.assert_allclose(w[b, head], wh, rtol=1e-12)
            ref[b] += o @ W_o[head]
    np.testing.assert_allclose(out, ref + b_o, rtol=1e-10)
    # the flat (d, heads * d_head) layout gives the same result
    flat = A.multi_head_attention(x_q, x_kv, W_q.reshape(6, -1), W_k.reshape(3, -1),
                                  W_v.reshape(3, -1), W_o.reshape(h * dv, 7), h, mask,
                                  b_q=b_q.reshape(-1), b_o=b_o)[0]
    np.testing.assert_allclose(flat, out, rtol=1e-12)


def test_multi_head_attention_errors():
    x = np.zeros((1, 3, 4))
    W, W_o = np.zeros((4, 4)), np.zeros((4, 4))
    with pytest.raises(ValueError, match="not divisible"):
        A.multi_head_attention(x, x, np.zeros((4, 6)), np.zeros((4, 6)), W, W_o, 4)
    with pytest.raises(ValueError, match="must map the 4 input features"):
        A.multi_head_attention(x, x, np.zeros((5, 4)), W, W, W_o, 2)
    with pytest.raises(ValueError, match="expected 2"):
        A.multi_head_attention(x, x, np.zeros((4, 3, 2)), W, W, W_o, 2)
    with pytest.raises(ValueError, match="same size"):
        A.multi_head_attention(x, x, W, np.zeros((4, 2)), W, W_o, 2)
    with pytest.raises(ValueError, match="concatenated value features"):
        A.multi_head_attention(x, x, W, W, W, np.zeros((3, 4)), 2)
    with pytest.raises(TypeError, match="boolean"):
        A.multi_head_attention(x, x, W, W, W, W_o, 2, np.ones((3, 3)))
    with pytest.raises(ValueError, match="n_heads must be"):
        A.multi_head_attention(x, x, W, W, W, W_o, 0)
    with pytest.raises(ValueError, match="b_q must hold 4"):
        A.multi_head_attention(x, x, W, W, W, W_o, 2, b_q=np.zeros(3))


# --------------------------------------------------------------------------- attention rollout
def _hand_two_layer_example():
    # layer 1: two heads over 3 tokens; layer 2: two heads; rows of each head sum to 1
    l1 = np.array([[[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.2, 0.3, 0.5]],
                   [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])
    l2 = np.array([[[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
                   [[0.6, 0.4, 0.0], [0.1, 0.1, 0.8], [0.0, 0.5, 0.5]]])
    return l1, l2


def _by_hand(layer):
    w = layer.mean(axis=0)             # heads averaged
    a = 0.5 * w + 0.5 * np.eye(3)      # residual connection
    return a / a.sum(axis=1, keepdims=True)  # rows renormalised


def test_attention_rollout_matches_the_formula_by_hand():
    l1, l2 = _hand_two_layer_example()
    a1, a2 = _by_hand(l1), _by_hand(l2)
    # spelled out for entry (0, 0): sum_m A2[0, m] A1[m, 0]
    r00 = sum(a2[0, m] * a1[m, 0] for m in range(3))
    r = A.attention_rollout([l1, l2])
    assert r.shape == (3, 3)
    np.testing.assert_allclose(r, a2 @ a1, rtol=1e-12)
    np.testing.assert_allclose(r[0, 0], r00, rtol=1e-12)
    np.testing.assert_allclose(r.sum(axis=1), 1.0, atol=1e-12)
    # the same from an array (n_layers, heads, n, n) and with a batch axis
    np.testing.assert_allclose(A.attention_rollout(np.stack([l1, l2])), r, rtol=1e-12)
    batched = A.attention_rollout([np.stack([l1, l2]), np.stack([l2, l1])])
    np.testing.assert_allclose(batched[0], _by_hand(np.stack([l2, l1])[0]) @ _by_hand(l1), rtol=1e-12)


def test_attention_rollout_order_of_multiplication_matters():
    l1, l2 = _hand_two_layer_example()
    a1, a2 = _by_hand(l1), _by_hand(l2)
    r = A.attention_rollout([l1, l2])
    wrong_order = a1 @ a2
    assert not np.allclose(wrong_order, a2 @ a1)  # the example can tell the orders apart
    assert not np.allclose(r, wrong_order)
    # and normalising columns instead of rows (a known bug) gives a different answer too
    cols = [(0.5 * layer.mean(0) + 0.5 * np.eye(3)) for layer in (l1, l2)]
    cols = [c / c.sum(axis=0, keepdims=True) for c in cols]
    assert not np.allclose(r, cols[1] @ cols[0])


def test_attention_rollout_residual_weight_extremes():
    l1, l2 = _hand_two_layer_example()
    np.testing.assert_allclose(A.attention_rollout([l1, l2], residual_weight=1.0), np.eye(3))
    np.testing.assert_allclose(A.attention_rollout([l1, l2], residual_weight=0.0),
                               l2.mean(0) @ l1.mean(0), rtol=1e-12)


def test_attention_rollout_errors():
    l1, _ = _hand_two_layer_example()
    with pytest.raises(ValueError, match="at least one layer"):
        A.attention_rollout([])
    with pytest.raises(ValueError, match="at least 3-D"):
        A.attention_rollout(np.eye(3))
    with pytest.raises(TypeError, match="list of per-layer arrays"):
        A.attention_rollout("layers")
    with pytest.raises(ValueError, match="same shape"):
        A.attention_rollout([l1, np.eye(3)])
    with pytest.raises(ValueError, match="square"):
        A.attention_rollout([np.ones((2, 3))])
    with pytest.raises(ValueError, match="non-negative"):
        A.attention_rollout([-np.eye(3)])
    with pytest.raises(ValueError, match="finite"):
        A.attention_rollout([np.full((3, 3), np.nan)])
    with pytest.raises(ValueError, match="residual_weight must be in"):
        A.attention_rollout([l1], residual_weight=1.5)
    with pytest.raises(ValueError, match="sums to 0"):
        A.attention_rollout([np.zeros((3, 3))], residual_weight=0.0)
