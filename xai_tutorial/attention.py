"""Attention from scratch in NumPy: the reference the Keras versions are tested against.

Shapes follow the book: queries ``(..., n_queries, d_k)``, keys ``(..., n_keys, d_k)``,
values ``(..., n_keys, d_v)``; weights ``(..., n_queries, n_keys)``, each row summing to 1.
Weight matrices multiply from the right (``x @ W``), as Keras' kernels do.

Functions
---------
softmax, masked_softmax
    Scores to weights.
causal_mask, key_padding_mask
    Boolean masks, True where a query may attend to a key.
scaled_dot_product_attention, additive_attention, multi_head_attention
    The three attention layers of chapter 3; each returns ``(output, weights)``.
split_heads, merge_heads
    The reshapes that turn one wide projection into ``n_heads`` narrow ones and back.
attention_rollout
    Attention rollout through a stack of self-attention layers (Abnar & Zuidema 2020; not their
    "attention flow", which solves a max-flow problem on the same graph).
"""
from __future__ import annotations

import numpy as np

from ._validation import (as_bool_mask, as_float_array, as_int_array, check_batch_axes, check_fraction, check_int,
                          check_number)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``; ``-inf`` entries get weight 0.

    Parameters
    ----------
    x : array-like
        Scores; may contain ``-inf`` (masked) but not NaN, and not a slice that is all ``-inf``.
    axis : int, default -1
        Axis to normalise over.
    """
    x = as_float_array(x, "x", allow_nan=True, min_ndim=1)
    axis = check_int(axis, "axis", -x.ndim, x.ndim - 1)
    if x.shape[axis] == 0:
        raise ValueError(f"x must have at least one score along axis {axis}, got shape {x.shape}")
    if np.isnan(x).any():
        raise ValueError("x must not contain NaN")
    if np.isposinf(x).any():
        raise ValueError("x must not contain +inf (only -inf, for masked entries, is allowed)")
    m = np.max(x, axis=axis, keepdims=True)
    if np.isneginf(m).any():
        raise ValueError("every slice along axis must have at least one finite score "
                         "(a fully masked row has no softmax)")
    e = np.exp(x - m)
    return e / e.sum(axis=axis, keepdims=True)


def causal_mask(n: int) -> np.ndarray:
    """Boolean (n, n) mask, True where query i may attend to key j (j <= i)."""
    n = check_int(n, "n", 1)
    return np.tril(np.ones((n, n), dtype=bool))


def key_padding_mask(lengths: np.ndarray, n_keys: int) -> np.ndarray:
    """Boolean (batch, 1, n_keys) mask, True on the first ``lengths[b]`` keys of each sequence."""
    lengths = as_int_array(lengths, "lengths", ndim=1)
    n_keys = check_int(n_keys, "n_keys", 1)
    if lengths.size and (lengths.min() < 1 or lengths.max() > n_keys):
        raise ValueError(f"lengths must lie in [1, {n_keys}], got values in "
                         f"[{lengths.min()}, {lengths.max()}]")
    return (np.arange(n_keys)[None, :] < lengths[:, None])[:, None, :]


def masked_softmax(scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Softmax over the last axis in which masked-out entries get weight exactly 0.

    Parameters
    ----------
    scores : array of shape (..., n_queries, n_keys)
        Finite attention scores.
    mask : bool array broadcastable to ``scores.shape``, optional
        True where attending is allowed. Every row needs at least one True entry.

    Returns
    -------
    ndarray of shape (..., n_queries, n_keys)
        Non-negative weights, 0 where ``mask`` is False, each row summing to 1.
    """
    scores = as_float_array(scores, "scores", min_ndim=1)
    if scores.shape[-1] == 0:
        raise ValueError(f"scores must have at least one key (last axis), got shape {scores.shape}")
    mask = as_bool_mask(mask, "mask", scores.shape, default=None, broadcast=True, meaning="True = may attend")
    if mask is not None:
        empty = ~mask.any(axis=-1)
        if empty.any():
            first = tuple(int(i) for i in np.argwhere(empty)[0])
            raise ValueError(f"{int(empty.sum())} row(s) of the mask allow no key at all (first at "
                             f"index {first}); a fully masked row has no softmax")
        scores = np.where(mask, scores, -np.inf)
    return softmax(scores, axis=-1)


def _check_qkv(q, k, v) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queries, keys and values as non-empty float arrays, at least 2-D, with as many values as keys."""
    q = as_float_array(q, "q", min_ndim=2, nonempty=True)
    k = as_float_array(k, "k", min_ndim=2, nonempty=True)
    v = as_float_array(v, "v", min_ndim=2, nonempty=True)
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of keys, got {k.shape[-2]} and {v.shape[-2]}")
    check_batch_axes({"q": q.shape, "k": k.shape, "v": v.shape})
    return q, k, v


def scaled_dot_product_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray,
                                 mask: np.ndarray | None = None, *,
                                 scale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``softmax(Q K^T / sqrt(d_k)) V`` with optional masking.

    Parameters
    ----------
    q : array of shape (..., n_queries, d_k)
    k : array of shape (..., n_keys, d_k)
    v : array of shape (..., n_keys, d_v)
    mask : bool array broadcastable to (..., n_queries, n_keys), optional
        True where attending is allowed; masked scores become ``-inf`` before the softmax.
    scale : float, optional
        Multiplier of the scores; defaults to ``1 / sqrt(d_k)``.

    Returns
    -------
    (output, weights)
        ``output`` of shape (..., n_queries, d_v), ``weights`` of shape (..., n_queries, n_keys).
    """
    q, k, v = _check_qkv(q, k, v)
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must share their last dimension d_k, got {q.shape[-1]} and {k.shape[-1]}")
    d_k = q.shape[-1]
    scale = 1.0 / np.sqrt(d_k) if scale is None else check_number(scale, "scale", low=0, low_open=True)
    scores = (q @ np.swapaxes(k, -1, -2)) * scale
    weights = masked_softmax(scores, mask)
    return weights @ v, weights


def additive_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, W_q: np.ndarray,
                       W_k: np.ndarray, w_v: np.ndarray, mask: np.ndarray | None = None, *,
                       b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Additive (Bahdanau) attention: scores ``w_v^T tanh(W_q q + W_k k + b)``.

    Parameters
    ----------
    q : array of shape (..., n_queries, d_q)
    k : array of shape (..., n_keys, d_k)
        Queries and keys may have different sizes; the projections map both to ``units``.
    v : array of shape (..., n_keys, d_v)
    W_q : array of shape (d_q, units)
    W_k : array of shape (d_k, units)
    w_v : array of shape (units,)
    mask : bool array broadcastable to (..., n_queries, n_keys), optional
        True where attending is allowed.
    b : array of shape (units,), optional
        Bias inside the ``tanh``; none by default.

    Returns
    -------
    (output, weights)
        ``output`` of shape (..., n_queries, d_v), ``weights`` of shape (..., n_queries, n_keys).

    Notes
    -----
    The hidden features have shape (..., n_queries, n_keys, units), so memory grows with
    ``n_queries * n_keys * units``, ``units`` times more than the scores of dot-product attention.
    """
    q, k, v = _check_qkv(q, k, v)
    W_q = as_float_array(W_q, "W_q", ndim=2)
    W_k = as_float_array(W_k, "W_k", ndim=2)
    w_v = as_float_array(w_v, "w_v", ndim=1)
    if W_q.shape[0] != q.shape[-1]:
        raise ValueError(f"W_q must have shape (d_q, units) = ({q.shape[-1]}, units), got {W_q.shape}")
    if W_k.shape[0] != k.shape[-1]:
        raise ValueError(f"W_k must have shape (d_k, units) = ({k.shape[-1]}, units), got {W_k.shape}")
    units = W_q.shape[1]
    if W_k.shape[1] != units or w_v.shape[0] != units:
        raise ValueError(f"W_q, W_k and w_v must share the number of units, got {W_q.shape[1]}, "
                         f"{W_k.shape[1]} and {w_v.shape[0]}")
    bias = np.zeros(units) if b is None else as_float_array(b, "b", ndim=1)
    if bias.shape != (units,):
        raise ValueError(f"b must have shape ({units},), got {bias.shape}")
    hidden = np.tanh((q @ W_q)[..., :, None, :] + (k @ W_k)[..., None, :, :] + bias)
    scores = hidden @ w_v  # (..., n_queries, n_keys)
    weights = masked_softmax(scores, mask)
    return weights @ v, weights


def split_heads(x: np.ndarray, n_heads: int) -> np.ndarray:
    """Split the last axis into heads: (..., n, n_heads * d_head) -> (..., n_heads, n, d_head).

    Head ``h`` takes features ``h * d_head`` to ``(h + 1) * d_head - 1``, the layout of Keras'
    kernels of shape (d_model, n_heads, d_head) flattened to (d_model, n_heads * d_head).
    """
    x = as_float_array(x, "x")
    n_heads = check_int(n_heads, "n_heads", 1)
    if x.ndim < 2:
        raise ValueError(f"x must be at least 2-D (..., n, features), got shape {x.shape}")
    if x.shape[-1] % n_heads:
        raise ValueError(f"the last axis ({x.shape[-1]}) must be divisible by n_heads ({n_heads})")
    x = x.reshape(x.shape[:-1] + (n_heads, x.shape[-1] // n_heads))
    return np.swapaxes(x, -2, -3)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`split_heads`: (..., n_heads, n, d_head) -> (..., n, n_heads * d_head)."""
    x = as_float_array(x, "x")
    if x.ndim < 3:
        raise ValueError(f"x must be at least 3-D (..., n_heads, n, d_head), got shape {x.shape}")
    x = np.swapaxes(x, -2, -3)
    return x.reshape(x.shape[:-2] + (x.shape[-2] * x.shape[-1],))


def _head_kernel(W: np.ndarray, name: str, d_in: int, n_heads: int) -> np.ndarray:
    """A projection as (d_in, n_heads * d_head), from that shape or Keras' (d_in, n_heads, d_head)."""
    W = as_float_array(W, name, ndim=(2, 3))
    if W.shape[0] != d_in:
        raise ValueError(f"{name} must map the {d_in} input features, got shape {W.shape}")
    if W.ndim == 3:
        if W.shape[1] != n_heads:
            raise ValueError(f"{name} of shape {W.shape} has {W.shape[1]} heads, expected {n_heads}")
        W = W.reshape(d_in, -1)
    elif W.shape[1] % n_heads:
        raise ValueError(f"{name} has {W.shape[1]} output features, not divisible by "
                         f"n_heads = {n_heads}")
    return W


def _head_bias(b: np.ndarray | None, name: str, width: int) -> np.ndarray:
    """A bias as (width,), from that shape or (n_heads, d_head); zeros when ``b`` is None."""
    if b is None:
        return np.zeros(width)
    b = as_float_array(b, name, ndim=(1, 2)).reshape(-1)
    if b.shape[0] != width:
        raise ValueError(f"{name} must hold {width} values, got {b.shape[0]}")
    return b


def multi_head_attention(x_q: np.ndarray, x_kv: np.ndarray, W_q: np.ndarray, W_k: np.ndarray,
                         W_v: np.ndarray, W_o: np.ndarray, n_heads: int,
                         mask: np.ndarray | None = None, *, b_q: np.ndarray | None = None,
                         b_k: np.ndarray | None = None, b_v: np.ndarray | None = None,
                         b_o: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head attention: ``n_heads`` scaled dot-product attentions side by side.

    ``head_h = softmax(Q_h K_h^T / sqrt(d_head)) V_h`` with ``Q_h = x_q W_q^(h) + b_q^(h)`` (and so
    on for K, V); the heads are concatenated and projected: ``output = concat(head_h) W_o + b_o``.

    Parameters
    ----------
    x_q : array of shape (..., n_queries, d_q)
        The inputs the queries are computed from.
    x_kv : array of shape (..., n_keys, d_kv)
        The inputs keys and values are computed from (``x_kv = x_q`` for self-attention).
    W_q, W_k : arrays of shape (d_q, n_heads * d_head) and (d_kv, n_heads * d_head)
        Or Keras' layout (d_in, n_heads, d_head).
    W_v : array of shape (d_kv, n_heads * d_v_head), or (d_kv, n_heads, d_v_head)
    W_o : array of shape (n_heads * d_v_head, d_out), or (n_heads, d_v_head, d_out)
    n_heads : int
    mask : bool array broadcastable to (..., n_queries, n_keys), optional
        True where attending is allowed; the same mask applies to every head.
    b_q, b_k, b_v : arrays of shape (n_heads * d_head,) or (n_heads, d_head), optional
    b_o : array of shape (d_out,), optional
        Biases; zeros when omitted.

    Returns
    -------
    (output, weights)
        ``output`` of shape (..., n_queries, d_out) and the per-head ``weights`` of shape
        (..., n_heads, n_queries, n_keys), the layout of Keras' ``return_attention_scores``.
    """
    x_q = as_float_array(x_q, "x_q", nonempty=True)
    x_kv = as_float_array(x_kv, "x_kv", nonempty=True)
    if x_q.ndim < 2 or x_kv.ndim < 2:
        raise ValueError(f"x_q and x_kv must be at least 2-D (..., n, d), got shapes {x_q.shape} "
                         f"and {x_kv.shape}")
    check_batch_axes({"x_q": x_q.shape, "x_kv": x_kv.shape})
    n_heads = check_int(n_heads, "n_heads", 1)
    W_q = _head_kernel(W_q, "W_q", x_q.shape[-1], n_heads)
    W_k = _head_kernel(W_k, "W_k", x_kv.shape[-1], n_heads)
    W_v = _head_kernel(W_v, "W_v", x_kv.shape[-1], n_heads)
    if W_q.shape[1] != W_k.shape[1]:
        raise ValueError(f"W_q and W_k must give queries and keys of the same size, got "
                         f"{W_q.shape[1]} and {W_k.shape[1]} features")
    W_o = as_float_array(W_o, "W_o", ndim=(2, 3))
    if W_o.ndim == 3:
        if W_o.shape[0] != n_heads:
            raise ValueError(f"W_o of shape {W_o.shape} has {W_o.shape[0]} heads, expected {n_heads}")
        W_o = W_o.reshape(-1, W_o.shape[-1])
    if W_o.shape[0] != W_v.shape[1]:
        raise ValueError(f"W_o must take the {W_v.shape[1]} concatenated value features, got "
                         f"shape {W_o.shape}")
    q = split_heads(x_q @ W_q + _head_bias(b_q, "b_q", W_q.shape[1]), n_heads)
    k = split_heads(x_kv @ W_k + _head_bias(b_k, "b_k", W_k.shape[1]), n_heads)
    v = split_heads(x_kv @ W_v + _head_bias(b_v, "b_v", W_v.shape[1]), n_heads)
    if mask is not None:
        mask = as_bool_mask(mask, "mask", meaning="True = may attend")
        if mask.ndim < 2:
            raise ValueError(f"mask must be at least 2-D (..., n_queries, n_keys), got shape {mask.shape}")
        mask = mask[..., None, :, :]  # the same mask for every head
    heads, weights = scaled_dot_product_attention(q, k, v, mask)
    output = merge_heads(heads) @ W_o + _head_bias(b_o, "b_o", W_o.shape[1])
    return output, weights


def attention_rollout(attentions: list[np.ndarray] | np.ndarray, *,
                      residual_weight: float = 0.5) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema 2020) through a stack of self-attention layers.

    For each layer, heads are averaged, the residual connection is added as
    ``A = residual_weight * I + (1 - residual_weight) * W``, rows are renormalised to sum to 1,
    and the layers are multiplied from the last down: ``R = A_L @ ... @ A_1``.

    Parameters
    ----------
    attentions : sequence of arrays, or array of shape (n_layers, ...)
        One array per layer, first layer first, each of shape (batch, heads, n, n),
        (heads, n, n) or (n, n); rows are queries, columns keys.
    residual_weight : float, default 0.5
        Weight of the identity (the skip connection), in [0, 1].

    Returns
    -------
    ndarray of shape (batch, n, n) or (n, n)
        ``R[i, j]``: how much of input token ``j`` flows into output token ``i``; rows sum to 1.
    """
    if isinstance(attentions, np.ndarray):
        if attentions.ndim < 3:
            raise ValueError("an array of attentions must have shape (n_layers, ..., n, n), at least "
                             f"3-D; got shape {attentions.shape} (wrap one layer's map in a list)")
        layers = list(attentions)
    elif isinstance(attentions, (list, tuple)):
        layers = list(attentions)
    else:
        raise TypeError("attentions must be a list of per-layer arrays or an array of shape "
                        f"(n_layers, ...), got {type(attentions).__name__}")
    if not layers:
        raise ValueError("attentions must hold at least one layer, got none")
    residual_weight = check_fraction(residual_weight, "residual_weight", inclusive=True)
    arrays = [as_float_array(a, f"attentions[{i}]", ndim=(2, 3, 4)) for i, a in enumerate(layers)]
    shape0 = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape0:
            raise ValueError(f"every layer of attentions must have the same shape, got {shape0} and "
                             f"{a.shape} (layer {i})")
        if a.shape[-1] != a.shape[-2]:
            raise ValueError(f"attentions must be self-attention maps, square in their last two axes, "
                             f"got shape {a.shape}")
    if np.min([a.min() for a in arrays]) < 0:
        raise ValueError("attentions must hold non-negative attention weights")
    n = shape0[-1]
    eye = np.eye(n)
    rollout = None
    for a in arrays:
        w = a.mean(axis=-3) if a.ndim >= 3 else a  # average the heads
        aug = residual_weight * eye + (1.0 - residual_weight) * w
        row_sums = aug.sum(axis=-1, keepdims=True)
        if np.any(row_sums <= 0):
            raise ValueError("a row of attention weights sums to 0 and residual_weight is 0, so the "
                             "row cannot be renormalised")
        aug = aug / row_sums
        rollout = aug if rollout is None else aug @ rollout
    return rollout
