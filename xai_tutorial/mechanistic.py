"""Causal and probing tools for the text transformer: probes, head ablation and activation patching.

Attention maps say where a head looks; the tools here test what the model *uses*, by reading its
internal states (probes) and by changing them (interventions). All of them work on the
:class:`~xai_tutorial.transformer.TextTransformer` of chapter 12, whose forward pass they recompute
in TensorFlow (float32, eager) from the model's own weights (:func:`trace`), so that any internal value can be
read or replaced; a unit test checks that the recomputation equals the Keras model.

=============================  ==================================================================
:func:`trace`                  the residual stream before, between and after the blocks, every
                               head's output, the attention maps and the logits
:func:`ablate_heads`           logits with chosen heads' outputs set to 0 (Michel et al. 2019's
                               gate of 0) or to their mean over reference inputs
:func:`patch_residual`         logits of a corrupted run with the clean run's residual stream
                               pasted in at one layer and chosen positions (Meng et al. 2022)
:func:`patch_heads`            the same for one head's output (Vig et al. 2020)
:func:`patching_map`           normalised effect of every single (layer, position) patch
:func:`head_patching_map`      normalised effect of patching each head's output
:func:`logit_difference`       ``z_target - z_other``, the quantity patching restores
:func:`normalised_effect`      ``(patched - corrupted) / (clean - corrupted)``
:func:`probe_accuracy`         held-out accuracy of a logistic-regression probe (scikit-learn)
:func:`control_task_labels`    Hewitt & Liang (2019)'s control task: a random fixed label per word type
=============================  ==================================================================

Positions follow the model: position 0 is [CLS], position ``1 + t`` input token ``t``. The
residual stream has ``depth + 1`` layers: ``x_0`` (token embeddings with [CLS] and positions, the
input of block 1), ``x_1`` (after block 1), ..., ``x_depth`` (after the last block, before the
final layer norm). A head's output is its share of the attention sublayer's output,
``f^h_i = sum_j A^h_ij v^h_j W_O^h``, so that the sublayer adds ``sum_h f^h + b_O`` to the stream
(the decomposition of Kobayashi et al. 2020; ``b_O`` belongs to no head).

References: J. Hewitt & P. Liang, "Designing and interpreting probes with control tasks", EMNLP
2019. P. Michel, O. Levy & G. Neubig, "Are sixteen heads really better than one?", NeurIPS 2019.
J. Vig, S. Gehrmann, Y. Belinkov, S. Qian, D. Nevo, Y. Singer & S. Shieber, "Investigating gender
bias in language models using causal mediation analysis", NeurIPS 2020. K. Meng, D. Bau,
A. Andonian & Y. Belinkov, "Locating and editing factual associations in GPT", NeurIPS 2022.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import as_bool_mask, as_float_array, as_int_array, check_choice, check_int, check_number
from .forward import check_target
from .transformer import TextTransformer, check_token_ids

import tensorflow as tf  # noqa: E402  (after the package __init__ has set the TF log variables)

__all__ = ["Trace", "trace", "ablate_heads", "patch_residual", "patch_heads", "patching_map",
           "head_patching_map", "logit_difference", "normalised_effect", "probe_accuracy",
           "control_task_labels", "ABLATIONS"]

#: What an ablated head's output is replaced by: zero (Michel et al.'s gate of 0) or its mean.
ABLATIONS: tuple[str, ...] = ("zero", "mean")


# =========================================================================== the forward pass

@dataclass(frozen=True)
class Trace:
    """Every internal value of one forward pass of the text transformer.

    Attributes
    ----------
    residual : list of ``depth + 1`` arrays (n, 1 + seq_len, dim)
        The residual stream: ``residual[0]`` enters block 1, ``residual[l]`` leaves block ``l``.
    heads : list of ``depth`` arrays (n, heads, 1 + seq_len, dim)
        Each head's output ``f^h`` in each block (its share of the attention sublayer's output,
        without the output bias).
    attention : list of ``depth`` arrays (n, heads, 1 + seq_len, 1 + seq_len)
        The attention weights, row = query.
    logits : ndarray of shape (n, n_classes)
        The classifier's values before the softmax (or sigmoid).
    """

    residual: list
    heads: list
    attention: list
    logits: np.ndarray


def _check_tr(tr: Any) -> TextTransformer:
    if not isinstance(tr, TextTransformer):
        raise TypeError(f"tr must be a TextTransformer (transformer.build_text_transformer), got {type(tr).__name__}")
    return tr


def _weights(tr: TextTransformer) -> dict:
    """The model's weights as float32 tensors, read afresh on every call (they change in training)."""
    get = tr.model.get_layer
    f = lambda v: tf.constant(np.asarray(v, dtype=np.float32))  # noqa: E731
    cls_pos = get("cls_and_position")
    w = {"embedding": f(get("embedding").embeddings), "cls": f(cls_pos.cls_token)[0, 0],
         "position": f(cls_pos.position)[0], "blocks": []}
    for b, mha in enumerate(tr.attention_layers, start=1):
        n1, n2 = get(f"block{b}_norm1"), get(f"block{b}_norm2")
        m1, m2 = get(f"block{b}_mlp1"), get(f"block{b}_mlp2")
        w["blocks"].append({
            "norm1": (f(n1.gamma), f(n1.beta), float(n1.epsilon)),
            "q": (f(mha.query_dense.kernel), f(mha.query_dense.bias)),
            "k": (f(mha.key_dense.kernel), f(mha.key_dense.bias)),
            "v": (f(mha.value_dense.kernel), f(mha.value_dense.bias)),
            "o": (f(mha.output_dense.kernel), f(mha.output_dense.bias)),
            "norm2": (f(n2.gamma), f(n2.beta), float(n2.epsilon)),
            "mlp1": (f(m1.kernel), f(m1.bias)), "mlp2": (f(m2.kernel), f(m2.bias))})
    fn, c = get("final_norm"), get("classifier")
    w["final_norm"] = (f(fn.gamma), f(fn.beta), float(fn.epsilon))
    w["classifier"] = (f(c.kernel), f(c.bias))
    return w


def _layer_norm(x, params: tuple):
    gamma, beta, eps = params
    centred = x - tf.reduce_mean(x, axis=-1, keepdims=True)
    return centred * tf.math.rsqrt(tf.reduce_mean(tf.square(centred), axis=-1, keepdims=True) + eps) * gamma + beta


def _project(h, kernel, bias):
    """``h W + b`` of a Keras EinsumDense with kernel (dim, heads, key_dim), as (n, heads, T, key_dim)."""
    d, heads, kd = kernel.shape
    out = tf.matmul(h, tf.reshape(kernel, (d, heads * kd))) + tf.reshape(bias, (-1,))
    return tf.transpose(tf.reshape(out, (-1, h.shape[1], heads, kd)), (0, 2, 1, 3))


def _f32(x: np.ndarray):
    return tf.constant(np.asarray(x, dtype=np.float32))


def _forward(w: dict, ids: np.ndarray, *, gates: np.ndarray | None = None,
             replacement: list | None = None, residual_patch: tuple | None = None,
             head_patch: tuple | None = None, full: bool = True) -> Trace:
    """The transformer's forward pass (TensorFlow, float32, eager) with optional interventions.

    full : keep the residual stream, head outputs and maps (as float64 arrays); else only the logits.

    gates : (n, depth, heads) in [0, 1] or None; a head's output becomes
        ``gate * f + (1 - gate) * replacement`` (replacement 0 unless given, per layer (heads, T, dim)).
    residual_patch : (layer, mask (n, T) bool, values (n, T, dim)): x_layer[mask] = values[mask].
    head_patch : (layer, head, mask (n, T) bool, values (n, T, dim)): f^head[mask] = values[mask].
    """
    n, seq_len = ids.shape
    keys = tf.constant(np.concatenate([np.ones((n, 1), dtype=bool), ids != 0], axis=1)[:, None, None, :])
    cls = tf.broadcast_to(w["cls"], (n, 1, w["cls"].shape[0]))
    x = tf.concat([cls, tf.gather(w["embedding"], ids)], axis=1) + w["position"]
    residual, heads, maps = [], [], []

    def patched_residual(layer: int, x):
        if residual_patch is not None and residual_patch[0] == layer:
            _, mask, values = residual_patch
            x = tf.where(tf.constant(mask[..., None]), _f32(values), x)
        residual.append(x)
        return x

    x = patched_residual(0, x)
    for b, blk in enumerate(w["blocks"]):
        h = _layer_norm(x, blk["norm1"])
        q, k, v = (_project(h, *blk[p]) for p in "qkv")
        scores = tf.matmul(q, k, transpose_b=True) / np.sqrt(float(q.shape[-1]))
        a = tf.nn.softmax(tf.where(keys, scores, -1e9), axis=-1)
        f = tf.matmul(tf.matmul(a, v), blk["o"][0][None])  # (n, heads, T, key_dim) @ (1, heads, key_dim, dim)
        if gates is not None:
            g = _f32(gates[:, b][:, :, None, None])
            f = g * f if replacement is None else g * f + (1.0 - g) * replacement[b][None]
        if head_patch is not None and head_patch[0] == b:
            _, head, mask, values = head_patch
            one_head = np.arange(f.shape[1])[None, :, None] == head  # (1, heads, 1)
            where = tf.constant((mask[:, None, :] & one_head)[..., None])  # (n, heads, T, 1)
            f = tf.where(where, _f32(values)[:, None], f)
        heads.append(f)
        maps.append(a)
        x = x + tf.reduce_sum(f, axis=1) + blk["o"][1]
        u = tf.matmul(_layer_norm(x, blk["norm2"]), blk["mlp1"][0]) + blk["mlp1"][1]
        x = x + tf.matmul(tf.nn.gelu(u, approximate=False), blk["mlp2"][0]) + blk["mlp2"][1]
        x = patched_residual(b + 1, x)
    out = _layer_norm(x, w["final_norm"])[:, 0]
    logits = tf.matmul(out, w["classifier"][0]) + w["classifier"][1]
    as64 = lambda t: np.asarray(t, dtype=np.float64)  # noqa: E731
    if not full:
        return Trace([], [], [], as64(logits))
    return Trace([as64(r) for r in residual], [as64(f) for f in heads], [as64(a) for a in maps], as64(logits))


def trace(tr: TextTransformer, token_ids: np.ndarray) -> Trace:
    """Run the transformer and keep every internal value (recomputed from the model's own weights).

    Parameters
    ----------
    tr : TextTransformer
    token_ids : int array of shape (n, seq_len)

    Returns
    -------
    Trace
        The residual stream (``depth + 1`` layers), every head's output, the attention maps and
        the logits, as float64 arrays; ``softmax(logits)`` equals ``tr.model(token_ids)`` up to
        float32 rounding.
    """
    _check_tr(tr)
    ids = check_token_ids(token_ids, tr)
    return _forward(_weights(tr), ids)


# =========================================================================== head ablation

def _check_keep(keep: Any, tr: TextTransformer) -> tuple[np.ndarray, bool]:
    """A keep mask (m, depth, heads) of floats in {0, 1}, and whether one mask (depth, heads) was given."""
    shape = (tr.depth, tr.heads)
    if isinstance(keep, (str, bytes, dict, set)) or keep is None:
        raise TypeError(f"keep must be a boolean array of shape {shape} or (m, {tr.depth}, {tr.heads}) "
                        f"(True = keep the head), got {type(keep).__name__}")
    arr = np.asarray(keep)
    if arr.dtype != bool:
        raise TypeError(f"keep must be a boolean array (True = keep the head), got dtype {arr.dtype}")
    single = arr.ndim == 2
    if single:
        arr = arr[None]
    if arr.ndim != 3 or arr.shape[1:] != shape or arr.shape[0] == 0:
        raise ValueError(f"keep must have shape {shape} or (m, {tr.depth}, {tr.heads}) with m >= 1, got "
                         f"{np.asarray(keep).shape}")
    return arr.astype(np.float64), single


def ablate_heads(tr: TextTransformer, token_ids: np.ndarray, keep: np.ndarray, *, method: str = "zero",
                 reference_ids: np.ndarray | None = None) -> np.ndarray:
    """Logits with some heads ablated: their outputs set to 0 or to their mean over reference inputs.

    Michel et al. (2019) multiply each head's output by a gate ``ξ_h`` and mask a head with
    ``ξ_h = 0``; ``method="zero"`` is that. ``method="mean"`` replaces the head's output at each
    position by its mean over ``reference_ids`` (the mean-ablation of later work), which keeps the
    head's average contribution and removes only what depends on the input. The output bias of
    the attention sublayer is kept either way.

    Parameters
    ----------
    tr : TextTransformer
    token_ids : int array of shape (n, seq_len)
    keep : bool array of shape (depth, heads), or (m, depth, heads) for m ablations at once
        True keeps a head, False ablates it; all True reproduces the model.
    method : {"zero", "mean"}, default "zero"
    reference_ids : int array of shape (n_ref, seq_len), optional
        Inputs over which ``"mean"`` averages each head's output; default ``token_ids``.

    Returns
    -------
    ndarray of shape (n, n_classes), or (m, n, n_classes) for m masks
        Logits (before the softmax).

    Examples
    --------
    >>> from xai_tutorial import transformer
    >>> tr = transformer.build_text_transformer(8, 4, dim=8, depth=1, heads=2, seed=0)
    >>> ids = np.array([[2, 3, 4, 0]])
    >>> np.allclose(ablate_heads(tr, ids, np.ones((1, 2), bool)), trace(tr, ids).logits)
    True
    """
    _check_tr(tr)
    ids = check_token_ids(token_ids, tr)
    gates, single = _check_keep(keep, tr)
    check_choice(method, "method", ABLATIONS)
    w = _weights(tr)
    replacement = None
    if method == "mean":
        ref = ids if reference_ids is None else check_token_ids(reference_ids, tr, "reference_ids")
        replacement = [_f32(f.mean(axis=0)) for f in _forward(w, ref).heads]
    elif reference_ids is not None:
        raise ValueError("reference_ids is used only by method='mean', got it with method='zero'")
    m, n = len(gates), len(ids)
    tiled = np.tile(ids, (m, 1))
    g = np.repeat(gates, n, axis=0)
    logits = _forward(w, tiled, gates=g, replacement=replacement, full=False).logits
    out = logits.reshape(m, n, -1)
    return out[0] if single else out


# =========================================================================== activation patching

def _check_pair(tr: TextTransformer, clean_ids: Any, corrupted_ids: Any) -> tuple[np.ndarray, np.ndarray]:
    clean = check_token_ids(clean_ids, tr, "clean_ids")
    corrupted = check_token_ids(corrupted_ids, tr, "corrupted_ids")
    if clean.shape != corrupted.shape:
        raise ValueError(f"clean_ids and corrupted_ids must have the same shape, got {clean.shape} and "
                         f"{corrupted.shape}")
    if not np.array_equal(clean == 0, corrupted == 0):
        raise ValueError("clean_ids and corrupted_ids must have padding at the same positions (a patch "
                         "pastes positions one to one)")
    return clean, corrupted


def _positions(positions: Any, n: int, width: int) -> np.ndarray:
    """A position mask (n, 1 + seq_len) from None (all), a bool mask (width,) or (n, width)."""
    if positions is None:
        return np.ones((n, width), dtype=bool)
    arr = as_bool_mask(positions, "positions", None, meaning="True = patch this position, 0 = [CLS]")
    if arr.shape not in ((width,), (n, width)):
        raise ValueError(f"positions must have shape ({width},) or ({n}, {width}) (one entry per position, "
                         f"[CLS] first), got {arr.shape}")
    return np.broadcast_to(arr, (n, width))


def patch_residual(tr: TextTransformer, clean_ids: np.ndarray, corrupted_ids: np.ndarray, layer: int,
                   positions: np.ndarray | None = None) -> np.ndarray:
    """Logits of the corrupted run with the clean run's residual stream pasted in (causal tracing).

    Run the clean input and keep its residual stream; run the corrupted input, and at layer
    ``layer`` replace its residual stream at ``positions`` by the clean one, then let the rest of
    the model run on (Meng et al. 2022's restoration of a hidden state). Patching every position
    of a layer gives the clean logits; patching none gives the corrupted logits.

    Parameters
    ----------
    tr : TextTransformer
    clean_ids, corrupted_ids : int arrays of shape (n, seq_len), padding at the same positions
    layer : int
        Residual layer in [0, depth]: 0 is the input of block 1, ``l`` the output of block ``l``.
    positions : bool array of shape (1 + seq_len,) or (n, 1 + seq_len), optional
        Where to patch (position 0 is [CLS]); default every position.

    Returns
    -------
    ndarray of shape (n, n_classes)
        Logits of the patched run.
    """
    _check_tr(tr)
    clean, corrupted = _check_pair(tr, clean_ids, corrupted_ids)
    layer = check_int(layer, "layer", 0, tr.depth)
    mask = _positions(positions, len(clean), 1 + tr.seq_len)
    w = _weights(tr)
    source = _forward(w, clean).residual[layer]
    return _forward(w, corrupted, residual_patch=(layer, mask, source), full=False).logits


def patch_heads(tr: TextTransformer, clean_ids: np.ndarray, corrupted_ids: np.ndarray, layer: int, head: int,
                positions: np.ndarray | None = None) -> np.ndarray:
    """Logits of the corrupted run with one head's output taken from the clean run.

    The head's output ``f^h`` (its share of the attention sublayer's output) at ``positions``
    (query positions) is replaced by its value in the clean run; everything else, including the
    inputs of the head and the other heads of the layer, is computed on the corrupted input. This
    is the head-level mediation of Vig et al. (2020) (their "indirect effect" of a head).

    Parameters
    ----------
    tr : TextTransformer
    clean_ids, corrupted_ids : int arrays of shape (n, seq_len), padding at the same positions
    layer : int
        Block index in [0, depth - 1] (0 is the first block).
    head : int
        Head index in [0, heads - 1].
    positions : bool array of shape (1 + seq_len,) or (n, 1 + seq_len), optional
        Query positions to patch; default every position.

    Returns
    -------
    ndarray of shape (n, n_classes)
    """
    _check_tr(tr)
    clean, corrupted = _check_pair(tr, clean_ids, corrupted_ids)
    layer = check_int(layer, "layer", 0, tr.depth - 1)
    head = check_int(head, "head", 0, tr.heads - 1)
    mask = _positions(positions, len(clean), 1 + tr.seq_len)
    w = _weights(tr)
    source = _forward(w, clean).heads[layer][:, head]
    return _forward(w, corrupted, head_patch=(layer, head, mask, source), full=False).logits


def logit_difference(logits: np.ndarray, target: Any) -> np.ndarray:
    """``z_target - z_other`` per example: how strongly the logits favour the target class.

    With two classes ``z_other`` is the other class's logit; with more, the largest logit of the
    other classes; with one (sigmoid) output ``z`` for target 1 and ``-z`` for target 0.

    Parameters
    ----------
    logits : array of shape (n, n_classes)
    target : int or int array of shape (n,)

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> logit_difference(np.array([[1.0, 3.0], [2.0, 0.5]]), np.array([1, 1]))
    array([ 2. , -1.5])
    """
    z = as_float_array(logits, "logits", ndim=2)
    n, c = z.shape
    if c == 0:
        raise ValueError(f"logits must have at least one column (one per class), got shape {z.shape}")
    if target is None:
        raise TypeError("target must be an int or an int array of shape (n,), got None")
    if np.ndim(target) == 1 and len(target) != n:
        raise ValueError(f"target must be an int or have one entry per row of logits ({n}), got shape "
                         f"{np.shape(target)}")
    t = check_target(target, n)
    t = as_int_array(np.broadcast_to(t, (n,)), "target", low=0, high=max(c - 1, 1))
    if c == 1:
        return np.where(t == 1, z[:, 0], -z[:, 0])
    if t.max(initial=0) >= c:
        raise ValueError(f"target must be in [0, {c - 1}], got {int(t.max())}")
    rows = np.arange(n)
    others = z.copy()
    others[rows, t] = -np.inf
    return z[rows, t] - others.max(axis=1)


def normalised_effect(patched: Any, corrupted: Any, clean: Any, *, min_gap: float = 1e-9) -> np.ndarray:
    """The share of the clean-minus-corrupted gap a patch restores: ``(patched - corrupted) / (clean - corrupted)``.

    0 means the patch changed nothing, 1 that it restored the clean value fully; values outside
    [0, 1] overshoot. The arrays broadcast against each other (e.g. ``patched`` of shape
    (n, layers, positions) against ``corrupted`` and ``clean`` of shape (n, 1, 1)).

    Parameters
    ----------
    patched, corrupted, clean : float arrays (broadcastable)
        The metric (e.g. :func:`logit_difference`) of the patched, corrupted and clean runs.
    min_gap : float, default 1e-9
        Smallest ``|clean - corrupted|`` allowed; a smaller gap leaves nothing to restore.

    Returns
    -------
    ndarray of the broadcast shape

    Examples
    --------
    >>> normalised_effect(1.0, -2.0, 4.0)
    array(0.5)
    """
    p = as_float_array(patched, "patched")
    c = as_float_array(corrupted, "corrupted")
    cl = as_float_array(clean, "clean")
    min_gap = check_number(min_gap, "min_gap", low=0)
    try:
        p, c, cl = np.broadcast_arrays(p, c, cl)
    except ValueError:
        raise ValueError(f"patched, corrupted and clean must broadcast together, got shapes {np.shape(patched)}, "
                         f"{np.shape(corrupted)} and {np.shape(clean)}") from None
    gap = cl - c
    if np.any(np.abs(gap) <= min_gap):
        raise ValueError(f"clean and corrupted must differ by more than min_gap={min_gap:g} everywhere "
                         "(else there is nothing to restore), got a smaller difference")
    return np.asarray((p - c) / gap)


def _check_effect_inputs(tr, clean_ids, corrupted_ids, target):
    _check_tr(tr)
    clean, corrupted = _check_pair(tr, clean_ids, corrupted_ids)
    t = check_target(target, len(clean))
    if t is None:
        raise TypeError("target must be an int or an int array of shape (n,) (the clean run's class), got None")
    return clean, corrupted, np.broadcast_to(t, (len(clean),))


def _check_gap(d_clean: np.ndarray, d_corrupt: np.ndarray) -> None:
    """Refuse pairs whose clean and corrupted runs give the same logit difference (nothing to restore).

    The threshold is :func:`normalised_effect`'s default ``min_gap``, which would refuse them anyway.
    """
    same = np.flatnonzero(np.abs(d_clean - d_corrupt) <= 1e-9)
    if same.size:
        raise ValueError("clean_ids and corrupted_ids must give different logit differences of target in every "
                         f"row (else there is nothing to restore), got the same in row(s) {same[:5].tolist()}")


def patching_map(tr: TextTransformer, clean_ids: np.ndarray, corrupted_ids: np.ndarray,
                 target: Any) -> np.ndarray:
    """Normalised effect of patching the clean residual stream at each single (layer, position).

    For every layer ``l`` in [0, depth] and position ``p``, the corrupted run gets the clean
    residual stream at ``(l, p)`` only (:func:`patch_residual`), and the effect is the
    :func:`normalised_effect` of the :func:`logit_difference` of ``target``. All patches run in
    one batch.

    Parameters
    ----------
    tr : TextTransformer
    clean_ids, corrupted_ids : int arrays of shape (n, seq_len), padding at the same positions
    target : int or int array of shape (n,)
        The class the clean run decides for (its logit difference is restored).

    Returns
    -------
    ndarray of shape (n, depth + 1, 1 + seq_len)
        NaN at padded positions (nothing to patch there).
    """
    clean, corrupted, t = _check_effect_inputs(tr, clean_ids, corrupted_ids, target)
    w = _weights(tr)
    run_clean, run_corrupt = _forward(w, clean), _forward(w, corrupted)
    d_clean = logit_difference(run_clean.logits, t)
    d_corrupt = logit_difference(run_corrupt.logits, t)
    _check_gap(d_clean, d_corrupt)
    n, width = clean.shape[0], 1 + tr.seq_len
    out = np.full((n, tr.depth + 1, width), np.nan)
    eye = np.eye(width, dtype=bool)
    tiled = np.tile(corrupted, (width, 1))           # copy p patches position p
    mask = np.repeat(eye, n, axis=0)                  # (width * n, width)
    targets = np.tile(t, width)
    for layer in range(tr.depth + 1):
        source = np.tile(run_clean.residual[layer], (width, 1, 1))
        z = _forward(w, tiled, residual_patch=(layer, mask, source), full=False).logits
        d = logit_difference(z, targets).reshape(width, n).T
        out[:, layer] = normalised_effect(d, d_corrupt[:, None], d_clean[:, None])
    real = np.concatenate([np.ones((n, 1), dtype=bool), clean != 0], axis=1)
    return np.where(real[:, None, :], out, np.nan)


def head_patching_map(tr: TextTransformer, clean_ids: np.ndarray, corrupted_ids: np.ndarray, target: Any, *,
                      positions: np.ndarray | None = None) -> np.ndarray:
    """Normalised effect of patching each head's clean output into the corrupted run.

    Parameters
    ----------
    tr : TextTransformer
    clean_ids, corrupted_ids : int arrays of shape (n, seq_len), padding at the same positions
    target : int or int array of shape (n,)
    positions : bool array of shape (1 + seq_len,) or (n, 1 + seq_len), optional
        Query positions at which each head is patched; default all.

    Returns
    -------
    ndarray of shape (n, depth, heads)
    """
    clean, corrupted, t = _check_effect_inputs(tr, clean_ids, corrupted_ids, target)
    mask = _positions(positions, len(clean), 1 + tr.seq_len)
    w = _weights(tr)
    run_clean, run_corrupt = _forward(w, clean), _forward(w, corrupted)
    d_clean = logit_difference(run_clean.logits, t)
    d_corrupt = logit_difference(run_corrupt.logits, t)
    _check_gap(d_clean, d_corrupt)
    out = np.zeros((len(clean), tr.depth, tr.heads))
    for layer in range(tr.depth):
        for head in range(tr.heads):
            z = _forward(w, corrupted, head_patch=(layer, head, mask, run_clean.heads[layer][:, head]),
                         full=False).logits
            out[:, layer, head] = normalised_effect(logit_difference(z, t), d_corrupt, d_clean)
    return out


# =========================================================================== probes

def probe_accuracy(features: np.ndarray, labels: np.ndarray, train: np.ndarray, *, C: float = 1.0) -> float:
    """Held-out accuracy of a linear probe: logistic regression from representations to labels.

    The features are standardised with the training rows' means and deviations, and a
    multinomial L2-regularised logistic regression (scikit-learn, lbfgs) is fitted on the rows
    where ``train`` is True and scored on the others. A linear probe asks whether a property
    can be *read off* a representation by a linear map; high accuracy shows that the property is
    decodable, not that the model uses it.

    Parameters
    ----------
    features : array of shape (n, d)
    labels : int array of shape (n,)
    train : bool array of shape (n,)
        True on training rows; the accuracy is measured on the rest. Both parts must be non-empty,
        and the training rows must hold at least two classes.
    C : float, default 1.0
        Inverse regularisation strength, > 0.

    Returns
    -------
    float
        Accuracy on the held-out rows.

    Examples
    --------
    >>> x = np.array([[0.0], [1.0], [2.0], [3.0], [0.5], [2.5]])
    >>> probe_accuracy(x, np.array([0, 0, 1, 1, 0, 1]), np.array([True] * 4 + [False] * 2))
    1.0
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    x = as_float_array(features, "features", ndim=2)
    y = as_int_array(labels, "labels", ndim=1)
    if len(y) != len(x):
        raise ValueError(f"labels must have one entry per row of features ({len(x)}), got {len(y)}")
    if train is None:
        raise TypeError("train must be a boolean array of shape (n,) (True = training row), got None")
    mask = as_bool_mask(train, "train", (len(x),), meaning="True = training row")
    C = check_number(C, "C", low=0, low_open=True)
    if mask.all() or not mask.any():
        raise ValueError("train must mark some rows True (training) and some False (held out), got "
                         f"{int(mask.sum())} of {len(mask)} True")
    if len(np.unique(y[mask])) < 2:
        raise ValueError("the training rows of labels must hold at least two classes, got one")
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=2000))
    # one BLAS thread: these problems are tiny, and threads that spin against TensorFlow's own
    # (in the same process) make the fit ten times slower on two cores
    with threadpool_limits(1):
        probe.fit(x[mask], y[mask])
        predicted = probe.predict(x[~mask])
    return float(np.mean(predicted == y[~mask]))


def control_task_labels(word_ids: np.ndarray, *, n_labels: int = 2, seed: int = 0) -> np.ndarray:
    """Hewitt & Liang (2019)'s control task: every word type gets a random label, fixed for all its tokens.

    A probe that reaches high accuracy on a control task does so by memorising word identity, not
    by reading the property of interest. Hewitt & Liang draw each type's label from the empirical
    distribution of the real task's labels; here the types are shuffled and dealt out in turn, so
    that every label goes to the same number of types (within one), which keeps a binary control
    task balanced when there are only a few types.

    Parameters
    ----------
    word_ids : int array of shape (n,)
        The word type of each example (e.g. the token id at the probed position).
    n_labels : int, default 2
        Size of the control label set, at least 2.
    seed : int, default 0
        Seed of the assignment.

    Returns
    -------
    ndarray of shape (n,), int64
        The control label of each example; equal word ids get equal labels.

    Examples
    --------
    >>> y = control_task_labels(np.array([5, 7, 5, 9, 7]), seed=1)
    >>> bool(y[0] == y[2] and y[1] == y[4])
    True
    """
    ids = as_int_array(word_ids, "word_ids", ndim=1, nonempty=True)
    n_labels = check_int(n_labels, "n_labels", 2)
    seed = check_int(seed, "seed", 0)
    types, inverse = np.unique(ids, return_inverse=True)
    order = np.random.default_rng(seed).permutation(len(types))
    label_of_type = np.empty(len(types), dtype=np.int64)
    label_of_type[order] = np.arange(len(types)) % n_labels
    return label_of_type[inverse]
