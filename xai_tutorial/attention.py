"""Attention from scratch in NumPy: the reference the Keras versions are tested against.

Shapes follow the book: queries ``(..., n_queries, d_k)``, keys ``(..., n_keys, d_k)``,
values ``(..., n_keys, d_v)``; weights ``(..., n_queries, n_keys)``, each row summing to 1.
"""
from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_int


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis``; ``-inf`` entries get weight 0.

    Parameters
    ----------
    x : array-like
        Scores; may contain ``-inf`` (masked) but not NaN, and not a slice that is all ``-inf``.
    axis : int, default -1
        Axis to normalise over.
    """
    x = as_float_array(x, "x", allow_nan=True)
    if np.isnan(x).any():
        raise ValueError("x must not contain NaN")
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


def padding_mask(lengths: np.ndarray, n_keys: int) -> np.ndarray:
    """Boolean (batch, 1, n_keys) mask, True on the first ``lengths[b]`` keys of each sequence."""
    from ._validation import as_int_array

    lengths = as_int_array(lengths, "lengths", ndim=1)
    n_keys = check_int(n_keys, "n_keys", 1)
    if lengths.size and (lengths.min() < 1 or lengths.max() > n_keys):
        raise ValueError(f"lengths must lie in [1, {n_keys}], got values in "
                         f"[{lengths.min()}, {lengths.max()}]")
    return (np.arange(n_keys)[None, :] < lengths[:, None])[:, None, :]


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
    q = as_float_array(q, "q")
    k = as_float_array(k, "k")
    v = as_float_array(v, "v")
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(f"q, k and v must be at least 2-D, got shapes {q.shape}, {k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must share their last dimension d_k, got {q.shape[-1]} and {k.shape[-1]}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have the same number of keys, got {k.shape[-2]} and {v.shape[-2]}")
    d_k = q.shape[-1]
    scale = 1.0 / np.sqrt(d_k) if scale is None else float(scale)
    scores = (q @ np.swapaxes(k, -1, -2)) * scale
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise TypeError(f"mask must be a boolean array, got dtype {mask.dtype}")
        try:
            mask = np.broadcast_to(mask, scores.shape)
        except ValueError as exc:
            raise ValueError(f"mask of shape {mask.shape} does not broadcast to the scores' "
                             f"shape {scores.shape}") from exc
        scores = np.where(mask, scores, -np.inf)
    weights = softmax(scores, axis=-1)
    return weights @ v, weights


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
    if isinstance(attentions, np.ndarray) and attentions.ndim >= 3:
        layers = list(attentions)
    elif isinstance(attentions, (list, tuple)):
        layers = list(attentions)
    else:
        raise TypeError("attentions must be a list of per-layer arrays or an array of shape "
                        f"(n_layers, ...), got {type(attentions).__name__}")
    if not layers:
        raise ValueError("attentions must hold at least one layer, got none")
    if not 0.0 <= float(residual_weight) <= 1.0:
        raise ValueError(f"residual_weight must be in [0, 1], got {residual_weight}")
    arrays = [as_float_array(a, f"attentions[{i}]", ndim=(2, 3, 4)) for i, a in enumerate(layers)]
    shape0 = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape0:
            raise ValueError(f"every layer must have the same shape, got {shape0} and {a.shape} "
                             f"(layer {i})")
        if a.shape[-1] != a.shape[-2]:
            raise ValueError(f"self-attention maps must be square, got {a.shape}")
    if np.min([a.min() for a in arrays]) < 0:
        raise ValueError("attention weights must be non-negative")
    n = shape0[-1]
    eye = np.eye(n)
    rollout = None
    for a in arrays:
        w = a.mean(axis=-3) if a.ndim >= 3 else a  # average the heads
        aug = residual_weight * eye + (1.0 - residual_weight) * w
        aug = aug / aug.sum(axis=-1, keepdims=True)
        rollout = aug if rollout is None else aug @ rollout
    return rollout
