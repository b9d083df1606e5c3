"""Keras 3 attention layers that return their weights, written to be read next to chapter 3.

Each layer mirrors a NumPy function of :mod:`xai_tutorial.attention` (the tests check they agree):

- :class:`DotProductAttention` — ``softmax(Q K^T / sqrt(d_k)) V``, no parameters
  (:func:`~xai_tutorial.attention.scaled_dot_product_attention`).
- :class:`BahdanauAttention` — additive attention ``w_v^T tanh(W_q q + W_k k + b)`` with its
  projections (:func:`~xai_tutorial.attention.additive_attention`). Keras' own
  ``keras.layers.AdditiveAttention`` has no projections: its score is ``sum(scale * tanh(q + k))``.
- :class:`MultiHeadAttentionFromScratch` — the computation of ``keras.layers.MultiHeadAttention``
  spelled out with ``keras.ops.einsum``; it has the same weights in the same order, so
  ``layer.set_weights(keras_mha.get_weights())`` makes the two compute the same function
  (:func:`~xai_tutorial.attention.multi_head_attention`).

Every layer is called as ``layer(query, key_or_value, ..., attention_mask=None)`` and returns
``(output, weights)``. ``attention_mask`` is a boolean tensor broadcastable to
(batch, n_queries, n_keys), True where a query may attend to a key; masked weights are exactly 0.

Called on concrete tensors or arrays (eagerly), the layers check their inputs as the NumPy
functions do: ``TypeError`` for a missing or non-numeric input or a non-boolean mask,
``ValueError`` for mismatched shapes, NaN or infinite values, or a mask row that allows no key
(a fully masked row has no softmax). Inside a compiled graph only the static shapes are checked.
"""
from __future__ import annotations

import math

from ._validation import CheckedTensorCall, check_batch_axes, check_bool, check_int, check_tensor, check_tensor_mask

import keras  # noqa: E402  (after the package __init__ has set the TF log variables)
from keras import ops  # noqa: E402

__all__ = ["DotProductAttention", "BahdanauAttention", "MultiHeadAttentionFromScratch"]

_NEG = -1e9  # a masked score; exp(-1e9 - max) is exactly 0 in float32


def _masked_softmax(scores, attention_mask=None):
    """Softmax over the last axis with masked entries set to exactly 0 (tensors in, tensor out)."""
    if attention_mask is None:
        return ops.softmax(scores, axis=-1)
    mask = ops.cast(attention_mask, "bool")
    scores = ops.where(mask, scores, ops.cast(_NEG, scores.dtype))
    weights = ops.softmax(scores, axis=-1)
    return ops.where(mask, weights, ops.zeros_like(weights))


def _check_attention_inputs(query, key, value, attention_mask, *, min_rank: int = 2,
                            key_name: str = "key", value_name: str = "value", same_batch: bool = False):
    """Checked (query, key, value, mask) of an attention layer call (see the module docstring).

    ``same_batch``: the leading axes must be equal (layers of shape (batch, n, d)); otherwise they
    only have to broadcast, as in ``ops.matmul``.
    """
    query = check_tensor(query, "query", min_rank)
    key = check_tensor(key, key_name, min_rank, nonempty_axis=-2)
    value = check_tensor(value, value_name, min_rank)
    qs, ks, vs = tuple(query.shape), tuple(key.shape), tuple(value.shape)
    if ks[-2] is not None and vs[-2] is not None and ks[-2] != vs[-2]:
        raise ValueError(f"{key_name} and {value_name} must have as many positions (axis -2), got shapes {ks} and {vs}")
    check_batch_axes({"query": qs, key_name: ks, value_name: vs}, exact=same_batch)
    check_tensor_mask(attention_mask, "attention_mask", qs[:-1] + (ks[-2],))
    return query, key, value, attention_mask


def _check_built_size(x, name: str, kernel, what: str) -> None:
    """The last axis of ``x`` must match the input size of a kernel the layer was built with."""
    want, got = kernel.shape[0], x.shape[-1]
    if want is not None and got is not None and want != got:
        raise ValueError(f"{name} must have {want} features (the layer's {what} was built for them), "
                         f"got shape {tuple(x.shape)}")


@keras.saving.register_keras_serializable(package="xai_tutorial")
class DotProductAttention(CheckedTensorCall, keras.layers.Layer):
    """Scaled dot-product attention ``softmax(Q K^T / sqrt(d_k)) V``; it has no weights.

    Call arguments
    --------------
    query : tensor of shape (..., n_queries, d_k)
    key : tensor of shape (..., n_keys, d_k)
    value : tensor of shape (..., n_keys, d_v), optional
        Defaults to ``key``.
    attention_mask : bool tensor broadcastable to (..., n_queries, n_keys), optional

    Returns
    -------
    (output, weights)
        ``output`` of shape (..., n_queries, d_v), ``weights`` of shape (..., n_queries, n_keys).
    """

    _tensor_args = ("query", "key", "value")

    def call(self, query, key, value=None, attention_mask=None):
        value = key if value is None else value
        query, key, value, attention_mask = _check_attention_inputs(query, key, value, attention_mask)
        if query.shape[-1] != key.shape[-1]:
            raise ValueError(f"query and key must have the same size d_k (last axis), got shapes "
                             f"{tuple(query.shape)} and {tuple(key.shape)}")
        scale = 1.0 / math.sqrt(query.shape[-1])
        scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) * scale
        weights = _masked_softmax(scores, attention_mask)
        return ops.matmul(weights, value), weights


@keras.saving.register_keras_serializable(package="xai_tutorial")
class BahdanauAttention(CheckedTensorCall, keras.layers.Layer):
    """Additive (Bahdanau) attention with learned projections, returning its weights.

    ``score(q, k) = w_v^T tanh(W_q q + W_k k + b)``; ``weights = softmax(scores)`` over the keys;
    ``output = weights @ value``.

    Parameters
    ----------
    units : int
        Size of the hidden layer inside the ``tanh``.
    use_bias : bool, default False
        Add the bias ``b`` inside the ``tanh``.

    Weights
    -------
    ``W_q`` (d_q, units), ``W_k`` (d_k, units), ``w_v`` (units,) and, with ``use_bias``, ``b``
    (units,): the arguments of :func:`xai_tutorial.attention.additive_attention`.

    Call arguments
    --------------
    query : tensor of shape (batch, n_queries, d_q)
    key : tensor of shape (batch, n_keys, d_k)
    value : tensor of shape (batch, n_keys, d_v), optional
        Defaults to ``key``.
    attention_mask : bool tensor broadcastable to (batch, n_queries, n_keys), optional

    Returns
    -------
    (output, weights)
        ``output`` of shape (batch, n_queries, d_v), ``weights`` of shape (batch, n_queries, n_keys).
    """

    _tensor_args = ("query", "key", "value")

    def __init__(self, units: int, use_bias: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int(units, "units", 1)
        self.use_bias = check_bool(use_bias, "use_bias")

    def build(self, query_shape, key_shape, value_shape=None):
        self.W_q = self.add_weight(name="W_q", shape=(query_shape[-1], self.units),
                                   initializer="glorot_uniform")
        self.W_k = self.add_weight(name="W_k", shape=(key_shape[-1], self.units),
                                   initializer="glorot_uniform")
        self.w_v = self.add_weight(name="w_v", shape=(self.units,), initializer="glorot_uniform")
        self.b = (self.add_weight(name="b", shape=(self.units,), initializer="zeros")
                  if self.use_bias else None)

    def call(self, query, key, value=None, attention_mask=None):
        value = key if value is None else value
        query, key, value, attention_mask = _check_attention_inputs(query, key, value, attention_mask,
                                                                    min_rank=3, same_batch=True)
        _check_built_size(query, "query", self.W_q, "W_q")
        _check_built_size(key, "key", self.W_k, "W_k")
        q = ops.matmul(query, self.W_q)[..., :, None, :]  # (batch, n_queries, 1, units)
        k = ops.matmul(key, self.W_k)[..., None, :, :]    # (batch, 1, n_keys, units)
        hidden = q + k if self.b is None else q + k + self.b
        scores = ops.tensordot(ops.tanh(hidden), self.w_v, axes=1)  # (batch, n_queries, n_keys)
        weights = _masked_softmax(scores, attention_mask)
        return ops.matmul(weights, value), weights

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias}


@keras.saving.register_keras_serializable(package="xai_tutorial")
class MultiHeadAttentionFromScratch(CheckedTensorCall, keras.layers.Layer):
    """Multi-head attention written out, with the weights of ``keras.layers.MultiHeadAttention``.

    For each head ``h``: ``Q_h = query W_q[:, h] + b_q[h]`` (likewise K from ``key``, V from
    ``value``), ``A_h = softmax(Q_h K_h^T / sqrt(key_dim))``, ``O_h = A_h V_h``; then
    ``output = sum_h O_h W_o[h] + b_o``, which is ``concat(O_1, ..., O_H) W_o + b_o``.

    Parameters
    ----------
    num_heads : int
    key_dim : int
        Size of each head's queries and keys.
    value_dim : int, optional
        Size of each head's values; defaults to ``key_dim``.
    output_dim : int, optional
        Size of the output; defaults to the last dimension of ``query``.
    use_bias : bool, default True

    Weights (created in Keras' order)
    ---------------------------------
    ``query_kernel`` (d_q, num_heads, key_dim), ``query_bias`` (num_heads, key_dim),
    ``key_kernel`` (d_k, num_heads, key_dim), ``key_bias``, ``value_kernel``
    (d_v, num_heads, value_dim), ``value_bias``, ``output_kernel`` (num_heads, value_dim, d_out),
    ``output_bias`` (d_out,).

    Call arguments
    --------------
    query : tensor of shape (batch, n_queries, d_q)
    value : tensor of shape (batch, n_keys, d_v)
    key : tensor of shape (batch, n_keys, d_k), optional
        Defaults to ``value`` (the argument order of Keras' layer).
    attention_mask : bool tensor broadcastable to (batch, n_queries, n_keys), optional

    Returns
    -------
    (output, weights)
        ``output`` of shape (batch, n_queries, d_out) and ``weights`` of shape
        (batch, num_heads, n_queries, n_keys).
    """

    def __init__(self, num_heads: int, key_dim: int, value_dim: int | None = None,
                 output_dim: int | None = None, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = check_int(num_heads, "num_heads", 1)
        self.key_dim = check_int(key_dim, "key_dim", 1)
        self.value_dim = self.key_dim if value_dim is None else check_int(value_dim, "value_dim", 1)
        self.output_dim = None if output_dim is None else check_int(output_dim, "output_dim", 1)
        self.use_bias = check_bool(use_bias, "use_bias")

    def _projection(self, name: str, d_in: int, d_head: int) -> tuple:
        kernel = self.add_weight(name=f"{name}_kernel", shape=(d_in, self.num_heads, d_head),
                                 initializer="glorot_uniform")
        bias = (self.add_weight(name=f"{name}_bias", shape=(self.num_heads, d_head),
                                initializer="zeros") if self.use_bias else None)
        return kernel, bias

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        d_out = query_shape[-1] if self.output_dim is None else self.output_dim
        self.query_kernel, self.query_bias = self._projection("query", query_shape[-1], self.key_dim)
        self.key_kernel, self.key_bias = self._projection("key", key_shape[-1], self.key_dim)
        self.value_kernel, self.value_bias = self._projection("value", value_shape[-1],
                                                              self.value_dim)
        self.output_kernel = self.add_weight(name="output_kernel",
                                             shape=(self.num_heads, self.value_dim, d_out),
                                             initializer="glorot_uniform")
        self.output_bias = (self.add_weight(name="output_bias", shape=(d_out,), initializer="zeros")
                            if self.use_bias else None)

    @staticmethod
    def _project(x, kernel, bias):
        y = ops.einsum("btd,dhk->bhtk", x, kernel)  # (batch, heads, n, d_head)
        return y if bias is None else y + bias[:, None, :]

    _tensor_args = ("query", "value", "key")

    def call(self, query, value, key=None, attention_mask=None):
        key = value if key is None else key
        query, key, value, attention_mask = _check_attention_inputs(query, key, value, attention_mask,
                                                                    min_rank=3, same_batch=True)
        _check_built_size(query, "query", self.query_kernel, "query_kernel")
        _check_built_size(key, "key", self.key_kernel, "key_kernel")
        _check_built_size(value, "value", self.value_kernel, "value_kernel")
        q = self._project(query, self.query_kernel, self.query_bias)
        k = self._project(key, self.key_kernel, self.key_bias)
        v = self._project(value, self.value_kernel, self.value_bias)
        scores = ops.einsum("bhtk,bhsk->bhts", q, k) / math.sqrt(self.key_dim)
        if attention_mask is not None:
            attention_mask = ops.expand_dims(ops.cast(attention_mask, "bool"), axis=-3)
        weights = _masked_softmax(scores, attention_mask)  # (batch, heads, n_queries, n_keys)
        heads = ops.einsum("bhts,bhsv->bhtv", weights, v)
        output = ops.einsum("bhtv,hvo->bto", heads, self.output_kernel)
        if self.output_bias is not None:
            output = output + self.output_bias
        return output, weights

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.value_dim, "output_dim": self.output_dim,
                "use_bias": self.use_bias}
