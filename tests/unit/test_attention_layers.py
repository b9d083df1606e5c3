"""Tests of the Keras attention layers (xai_tutorial.attention_layers).

References: the NumPy functions of xai_tutorial.attention (themselves tested against loops and
closed forms), keras.layers.MultiHeadAttention, keras.layers.AdditiveAttention,
keras.layers.Attention and keras.ops.dot_product_attention.
"""
from __future__ import annotations

import numpy as np
import pytest

import xai_tutorial  # noqa: F401  (silences TensorFlow before keras is imported)
from xai_tutorial import attention as A
from xai_tutorial import attention_layers as L

import keras  # noqa: E402

TOL = 1e-5
RNG = np.random.default_rng(1)


def _x(*shape):
    return RNG.normal(size=shape).astype("float32")


def _np(t):
    return keras.ops.convert_to_numpy(t)


# --------------------------------------------------------------------------- dot-product attention
def test_numpy_attention_equals_keras_mha_with_identity_projections():
    d = 4
    x_q, x_kv = _x(2, 3, d), _x(2, 5, d)
    mha = keras.layers.MultiHeadAttention(num_heads=1, key_dim=d)
    mha(x_q, x_kv)  # build
    eye = np.eye(d, dtype="float32")
    mha.set_weights([eye[:, None, :], np.zeros((1, d)), eye[:, None, :], np.zeros((1, d)),
                     eye[:, None, :], np.zeros((1, d)), eye[None], np.zeros(d)])
    mask = np.broadcast_to(A.key_padding_mask(np.array([5, 3]), 5), (2, 3, 5))
    out, scores = mha(x_q, x_kv, attention_mask=mask, return_attention_scores=True)
    ref_out, ref_w = A.scaled_dot_product_attention(x_q, x_kv, x_kv, mask)
    np.testing.assert_allclose(_np(scores)[:, 0], ref_w, atol=TOL)
    np.testing.assert_allclose(_np(out), ref_out, atol=TOL)


def test_numpy_attention_equals_keras_ops_dot_product_attention():
    q, k, v = _x(2, 3, 4), _x(2, 6, 4), _x(2, 6, 5)
    # keras.ops.dot_product_attention takes (batch, seq, heads, dim)
    ref = keras.ops.dot_product_attention(q[:, :, None], k[:, :, None], v[:, :, None])
    out, _ = A.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out, _np(ref)[:, :, 0], atol=TOL)


def test_keras_attention_layer_is_unscaled_dot_product_attention():
    q, v = _x(2, 3, 8), _x(2, 5, 8)
    layer = keras.layers.Attention(use_scale=True)  # learns a scalar scale that starts at 1
    out, w = layer([q, v], return_attention_scores=True)
    ref_out, ref_w = A.scaled_dot_product_attention(q, v, v, scale=1.0)
    np.testing.assert_allclose(_np(w), ref_w, atol=TOL)
    _, scaled_w = A.scaled_dot_product_attention(q, v, v)
    assert not np.allclose(_np(w), scaled_w, atol=1e-3)  # not the 1/sqrt(d) of the formula


def test_dot_product_attention_layer_equals_numpy_with_masks():
    q, k, v = _x(2, 4, 3), _x(2, 4, 3), _x(2, 4, 2)
    mask = np.broadcast_to(A.causal_mask(4), (2, 4, 4))
    out, w = L.DotProductAttention()(q, k, v, attention_mask=mask)
    ref_out, ref_w = A.scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(_np(w), ref_w, atol=TOL)
    np.testing.assert_allclose(_np(out), ref_out, atol=TOL)
    assert np.all(_np(w)[:, ~A.causal_mask(4)] == 0.0)
    np.testing.assert_allclose(_np(w).sum(-1), 1.0, atol=TOL)


def test_fully_masked_row_is_an_error_in_keras_as_in_numpy():
    q = _x(1, 2, 3)
    mask = np.array([[[True, True], [False, False]]])
    with pytest.raises(ValueError, match="1 row\\(s\\) of attention_mask allow no key"):
        L.DotProductAttention()(q, q, attention_mask=mask)
    with pytest.raises(ValueError, match="allow no key"):
        A.masked_softmax(np.zeros((1, 2, 2)), mask)
    with pytest.raises(ValueError, match="allow no key"):
        A.scaled_dot_product_attention(q, q, q, mask)
    # keras.layers.MultiHeadAttention (Keras 3.15) silently gives the row zero weights; ours refuses
    mha = keras.layers.MultiHeadAttention(num_heads=1, key_dim=3)
    _, keras_w = mha(q, q, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_array_equal(_np(keras_w)[0, 0, 1], 0.0)
    scratch = L.MultiHeadAttentionFromScratch(num_heads=1, key_dim=3)
    with pytest.raises(ValueError, match="allow no key"):
        scratch(q, q, attention_mask=mask)


# --------------------------------------------------------------------------- multi-head attention
@pytest.mark.parametrize("use_bias", [True, False])
def test_multi_head_numpy_and_scratch_layer_equal_keras_mha(use_bias):
    x_q, x_kv = _x(2, 5, 8), _x(2, 7, 6)
    mask = np.broadcast_to(A.key_padding_mask(np.array([7, 3]), 7), (2, 5, 7)) & (RNG.random((2, 5, 7)) < 0.8)
    mask[..., 0] = True
    mha = keras.layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2, use_bias=use_bias)
    ref_out, ref_w = mha(x_q, x_kv, attention_mask=mask, return_attention_scores=True)
    ref_out, ref_w = _np(ref_out), _np(ref_w)
    weights = mha.get_weights()

    scratch = L.MultiHeadAttentionFromScratch(num_heads=3, key_dim=4, value_dim=2, use_bias=use_bias)
    scratch(x_q, x_kv)  # build
    assert [w.shape for w in scratch.get_weights()] == [w.shape for w in weights]
    scratch.set_weights(weights)
    out, w = scratch(x_q, x_kv, attention_mask=mask)
    np.testing.assert_allclose(_np(w), ref_w, atol=TOL)
    np.testing.assert_allclose(_np(out), ref_out, atol=TOL)

    if use_bias:
        Wq, bq, Wk, bk, Wv, bv, Wo, bo = weights
        out_np, w_np = A.multi_head_attention(x_q, x_kv, Wq, Wk, Wv, Wo, 3, mask,
                                              b_q=bq, b_k=bk, b_v=bv, b_o=bo)
    else:
        Wq, Wk, Wv, Wo = weights
        out_np, w_np = A.multi_head_attention(x_q, x_kv, Wq, Wk, Wv, Wo, 3, mask)
    assert w_np.shape == (2, 3, 5, 7)
    np.testing.assert_allclose(w_np, ref_w, atol=TOL)
    np.testing.assert_allclose(out_np, ref_out, atol=TOL)
    assert np.all(w_np[np.broadcast_to(~mask[:, None], w_np.shape)] == 0.0)


def test_multi_head_with_separate_key_and_output_dim():
    q, v, k = _x(1, 3, 4), _x(1, 5, 6), _x(1, 5, 2)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, output_shape=7)
    ref_out, ref_w = mha(q, v, key=k, return_attention_scores=True)
    scratch = L.MultiHeadAttentionFromScratch(num_heads=2, key_dim=3, output_dim=7)
    scratch(q, v, key=k)
    scratch.set_weights(mha.get_weights())
    out, w = scratch(q, v, key=k)
    assert out.shape == (1, 3, 7)
    np.testing.assert_allclose(_np(out), _np(ref_out), atol=TOL)
    np.testing.assert_allclose(_np(w), _np(ref_w), atol=TOL)


def test_scratch_mha_is_a_different_function_with_other_weights():
    x = _x(1, 4, 6)
    mha = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3)
    ref_out = _np(mha(x, x))
    scratch = L.MultiHeadAttentionFromScratch(num_heads=2, key_dim=3)
    out, _ = scratch(x, x)  # its own random initial weights
    assert not np.allclose(_np(out), ref_out, atol=1e-3)


# --------------------------------------------------------------------------- additive attention
def test_bahdanau_layer_equals_numpy_additive_attention():
    q, k, v = _x(2, 3, 5), _x(2, 6, 4), _x(2, 6, 2)
    layer = L.BahdanauAttention(units=7, use_bias=True)
    layer(q, k, v)
    W_q, W_k, w_v, b = (w.copy() for w in layer.get_weights())
    b += 0.3  # a non-zero bias, so that the test sees it
    layer.set_weights([W_q, W_k, w_v, b])
    mask = np.broadcast_to(A.key_padding_mask(np.array([6, 2]), 6), (2, 3, 6))
    out, w = layer(q, k, v, attention_mask=mask)
    ref_out, ref_w = A.additive_attention(q, k, v, W_q, W_k, w_v, mask, b=b)
    np.testing.assert_allclose(_np(w), ref_w, atol=TOL)
    np.testing.assert_allclose(_np(out), ref_out, atol=TOL)
    assert np.all(_np(w)[1, :, 2:] == 0.0)
    np.testing.assert_allclose(_np(w).sum(-1), 1.0, atol=TOL)


def test_keras_additive_attention_is_additive_attention_without_projections():
    q, v = _x(2, 3, 4), _x(2, 5, 4)
    layer = keras.layers.AdditiveAttention()
    out, w = layer([q, v], return_attention_scores=True)
    eye = np.eye(4)
    ref_out, ref_w = A.additive_attention(q, v, v, eye, eye, _np(layer.scale))
    np.testing.assert_allclose(_np(w), ref_w, atol=TOL)
    np.testing.assert_allclose(_np(out), ref_out, atol=TOL)


# --------------------------------------------------------------------------- config and errors
def test_layers_round_trip_through_their_config():
    for layer in (L.BahdanauAttention(5, use_bias=True),
                  L.MultiHeadAttentionFromScratch(2, 3, value_dim=4, output_dim=5, use_bias=False),
                  L.DotProductAttention()):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_layer_arguments_are_validated():
    with pytest.raises(ValueError, match="units must be"):
        L.BahdanauAttention(0)
    with pytest.raises(TypeError, match="use_bias must be a bool"):
        L.BahdanauAttention(3, use_bias="yes")
    with pytest.raises(ValueError, match="num_heads must be"):
        L.MultiHeadAttentionFromScratch(0, 4)
    with pytest.raises(TypeError, match="key_dim must be an int"):
        L.MultiHeadAttentionFromScratch(2, 4.0)
