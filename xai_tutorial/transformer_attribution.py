"""Explaining a transformer beyond raw attention: rollout, flow, gradient-weighted relevance, value norms, AttnLRP.

Every method answers the same question for the text transformer of :mod:`xai_tutorial.transformer`
(chapter 12) and the tiny ViT of :mod:`xai_tutorial.vision` (chapter 8), which share their block
layout: how much does each input token (a word, or a patch) contribute to the [CLS] token that the
classifier reads? Each comes in two layers:

* a NumPy function of attention maps (and gradients, or transformed values) that states the
  paper's formula and can be checked on a hand-worked example: :func:`attention_flow_values`,
  :func:`chefer_relevance_matrix`, :func:`value_norm_matrix`, and the from-scratch max-flow
  :func:`max_flow_value`;
* a function of a model and its inputs, a :class:`~xai_tutorial.transformer.TextTransformer` and
  token ids or a :class:`~xai_tutorial.vision.TinyViT` and patches, that returns one score per
  input token, shape (n, n_tokens), aligned with the inputs (padding gets 0), so it plugs into
  :mod:`xai_tutorial.agreement` and :mod:`xai_tutorial.perturbation`:

========================  ==================================================================
:func:`raw_attention`     the last layer's attention of [CLS], heads averaged or per head
:func:`rollout`           attention rollout (Abnar & Zuidema 2020), via :func:`attention.attention_rollout`
:func:`attention_flow`    attention flow: max-flow in the layered attention graph (Abnar & Zuidema 2020)
:func:`chefer_relevance`  gradient-weighted attention relevance (Chefer, Gur & Wolf 2021)
:func:`value_norms`       attention weighted by the norm of the transformed values (Kobayashi et al. 2020)
:func:`attn_lrp`          layer-wise relevance propagation with the AttnLRP rules (Achtibat et al. 2024)
========================  ==================================================================

In every matrix, row ``i`` is a query (an output position) and column ``j`` a key (an input
position); position 0 is [CLS], position ``1 + t`` input token ``t``; the scores returned for the
tokens are row 0 without column 0. Gradients are taken of the *logit* of the explained class (the
value before the classifier's softmax or sigmoid), as the papers' code does; which class is said
by ``target``, as everywhere in the package (see :mod:`xai_tutorial.forward`).

References: S. Abnar & W. Zuidema, "Quantifying attention flow in transformers", ACL 2020
(code: samiraabnar/attention_flow). H. Chefer, S. Gur & L. Wolf, "Generic attention-model
explainability for interpreting bi-modal and encoder-decoder transformers", ICCV 2021 (code:
hila-chefer/Transformer-MM-Explainability). G. Kobayashi, T. Kuribayashi, S. Yokoi & K. Inui,
"Attention is not only a weight: analyzing transformers with vector norms", EMNLP 2020 (code:
gorokoba560/norm-analysis-of-transformer). R. Achtibat, S. M. V. Hatefi, M. Dreyer, A. Jain,
T. Wiegand, S. Lapuschkin & W. Samek, "AttnLRP: attention-aware layer-wise relevance propagation
for transformers", ICML 2024 (code: rachtibat/LRP-eXplains-Transformers, "LXT").
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import attention as _attention
from ._validation import (as_bool_mask, as_float_array, check_bool, check_choice, check_fraction, check_int,
                          check_number)
from .forward import call_in_batches, check_target, logit_model
from .transformer import TextTransformer, check_token_ids
from .vision import TinyViT, check_patches

import keras  # noqa: E402  (after the package __init__ has set the TF log variables)
import tensorflow as tf  # noqa: E402

__all__ = ["max_flow_value", "attention_graph", "attention_flow_values", "chefer_relevance_matrix",
           "value_norm_matrix", "attention_gradients", "transformed_values",
           "raw_attention", "rollout", "attention_flow", "chefer_relevance", "value_norms",
           "attn_lrp", "AttnLRPRelevance", "HEAD_MODES", "NORM_HEAD_MODES"]

#: How per-head attention weights are combined: averaged over heads, or one map per head.
HEAD_MODES: tuple[str, ...] = ("mean", "each")
#: How per-head weighted vectors are combined: added before the norm (the layer's), or one norm per head.
NORM_HEAD_MODES: tuple[str, ...] = ("sum", "each")


# =========================================================================== checks

@dataclass(frozen=True)
class _Encoder:
    """One checked call of an explainer: the model, its validated inputs and what differs by model.

    The two transformers of the book share their block layout and layer names (``block{b}_norm1``,
    ``block{b}_attention``, ..., ``final_norm``, ``classifier``, ``cls_and_position``); they differ
    in their input (token ids or patches), in padding (text only) and in how the first residual
    stream is made from it. This small view holds those differences, so each method is written once.
    """

    model: TextTransformer | TinyViT
    x: np.ndarray

    @property
    def is_text(self) -> bool:
        return isinstance(self.model, TextTransformer)

    @property
    def keras(self) -> keras.Model:
        return self.model.model

    @property
    def attention_layers(self) -> list:
        return [self.keras.get_layer(f"block{b}_attention") for b in range(1, self.model.depth + 1)]

    @property
    def depth(self) -> int:
        return self.model.depth

    @property
    def heads(self) -> int:
        return int(self.attention_layers[0].num_heads)

    @property
    def n_classes(self) -> int:
        return int(self.keras.outputs[0].shape[-1])

    @property
    def real(self) -> np.ndarray:
        """(n, n_tokens) bool: True on real tokens (every patch of an image is real)."""
        return self.x != 0 if self.is_text else np.ones(self.x.shape[:2], dtype=bool)

    def maps(self) -> list[np.ndarray]:
        return self.model.attention_maps(self.x)

    def layer_inputs(self) -> list[np.ndarray]:
        """Inputs of every attention layer (the layer-normed residual stream), (n, 1 + n_tokens, dim) each."""
        if self.is_text:
            return self.model.layer_inputs(self.x)
        net = keras.Model(self.keras.inputs[0], [self.keras.get_layer(f"block{b}_norm1").output
                                              for b in range(1, self.depth + 1)])
        out = call_in_batches(lambda b: net(b, training=False), self.x, 1024)
        return out if isinstance(out, list) else [out]

    def tokens(self, per_position: np.ndarray) -> np.ndarray:
        """Scores of the input tokens from scores of all positions (..., 1 + n_tokens): drop [CLS], 0 on padding."""
        scores = per_position[..., 1:].copy()
        pad = ~self.real
        if scores.ndim == 3:  # (n, heads, n_tokens)
            pad = pad[:, None, :]
        return np.where(pad, 0.0, scores)


def _encoder(model: Any, inputs: Any) -> _Encoder:
    """Check the model (a text transformer or a tiny ViT) and its inputs (token ids or patches)."""
    if isinstance(model, TextTransformer):
        return _Encoder(model, check_token_ids(inputs, model, "inputs"))
    if isinstance(model, TinyViT):
        return _Encoder(model, check_patches(inputs, model.n_patches, model.patch_dim, "inputs"))
    raise TypeError("model must be a TextTransformer (transformer.build_text_transformer) or a TinyViT "
                    f"(vision.build_tiny_vit), got {type(model).__name__}")


def _check_layer(layer: Any, depth: int) -> int:
    """A layer index in [-depth, depth - 1], returned non-negative."""
    layer = check_int(layer, "layer", -depth, depth - 1)
    return layer % depth


def _check_maps(attentions: Any, name: str = "attentions") -> list[np.ndarray]:
    """Per-layer attention maps as a list of float arrays (batch, heads, n, n), non-negative, same shape."""
    if isinstance(attentions, np.ndarray):
        if attentions.ndim != 5:
            raise ValueError(f"an array of {name} must have shape (n_layers, batch, heads, n, n), got "
                             f"shape {attentions.shape}")
        layers = list(attentions)
    elif isinstance(attentions, (list, tuple)):
        layers = list(attentions)
    else:
        raise TypeError(f"{name} must be a list of per-layer arrays (batch, heads, n, n), got "
                        f"{type(attentions).__name__}")
    if not layers:
        raise ValueError(f"{name} must hold at least one layer, got none")
    out = [as_float_array(a, f"{name}[{i}]", ndim=4) for i, a in enumerate(layers)]
    for i, a in enumerate(out):
        if a.shape != out[0].shape:
            raise ValueError(f"every layer of {name} must have the same shape, got {out[0].shape} and "
                             f"{a.shape} (layer {i})")
        if a.shape[-1] != a.shape[-2]:
            raise ValueError(f"{name} must be self-attention maps, square in their last two axes, got "
                             f"shape {a.shape}")
        if a.size and a.min() < 0:
            raise ValueError(f"{name} must hold non-negative attention weights, got {a.min():.3g} in layer {i}")
    return out


# =========================================================================== attention flow

def max_flow_value(capacity: np.ndarray, source: int, sink: int, *, tol: float = 1e-12) -> float:
    """Maximum flow from ``source`` to ``sink`` in a directed graph, by Edmonds–Karp.

    Ford–Fulkerson with breadth-first search for the augmenting paths (Edmonds & Karp 1972):
    repeatedly find a shortest path from source to sink in the residual graph (capacity left on
    an edge, plus the flow already sent the other way), send its bottleneck capacity along it,
    and stop when no path is left. The value then equals the capacity of a minimum cut
    (max-flow min-cut theorem). Capacities are floats; a residual below ``tol`` counts as none.

    Parameters
    ----------
    capacity : array of shape (m, m)
        ``capacity[u, v] >= 0`` is the capacity of the edge u -> v (0: no edge).
    source, sink : int
        Distinct node indices in [0, m).
    tol : float, default 1e-12
        Residual capacities at or below ``tol`` are treated as exhausted.

    Returns
    -------
    float
        The value of a maximum flow.

    Examples
    --------
    >>> import numpy as np
    >>> c = np.zeros((4, 4)); c[0, 1] = 2; c[0, 2] = 1; c[1, 2] = 1; c[1, 3] = 1; c[2, 3] = 2
    >>> max_flow_value(c, 0, 3)
    3.0
    """
    cap = as_float_array(capacity, "capacity", ndim=2)
    m = cap.shape[0]
    if cap.shape != (m, m):
        raise ValueError(f"capacity must be square (m, m), got shape {cap.shape}")
    if cap.size and cap.min() < 0:
        raise ValueError(f"capacity must be non-negative, got {cap.min():.3g}")
    source = check_int(source, "source", 0, m - 1)
    sink = check_int(sink, "sink", 0, m - 1)
    if source == sink:
        raise ValueError(f"source and sink must differ, got {source} for both")
    tol = check_number(tol, "tol", low=0)  # a negative tol would count exhausted edges and never stop
    # residual capacities on the edges and their reverses, in plain Python (tiny graphs: faster than NumPy)
    us, vs = np.nonzero(cap > 0)
    residual: dict[tuple[int, int], float] = {}
    neighbours: list[set[int]] = [set() for _ in range(m)]
    for u, v in zip(us.tolist(), vs.tolist()):
        residual[(u, v)] = residual.get((u, v), 0.0) + float(cap[u, v])
        residual.setdefault((v, u), 0.0)
        neighbours[u].add(v)
        neighbours[v].add(u)
    adjacency = [sorted(n) for n in neighbours]
    total = 0.0
    while True:
        parent = [-1] * m
        parent[source] = source
        queue = deque([source])
        while queue and parent[sink] < 0:
            u = queue.popleft()
            for v in adjacency[u]:
                if parent[v] < 0 and residual[(u, v)] > tol:
                    parent[v] = u
                    queue.append(v)
        if parent[sink] < 0:
            return total
        path, v = [], sink
        while v != source:
            path.append((parent[v], v))
            v = parent[v]
        push = min(residual[e] for e in path)
        for u, v in path:
            residual[(u, v)] -= push
            residual[(v, u)] += push
        total += push


def attention_graph(attentions: Any, *, residual_weight: float = 0.5) -> np.ndarray:
    """The layered attention graph of Abnar & Zuidema (2020) as capacity matrices.

    Node ``l * n + i`` is token ``i`` at layer ``l`` (layer 0: the inputs, layer ``L``: the
    outputs). Layer ``l``'s node ``i`` has an edge to layer ``l - 1``'s node ``j`` with capacity
    ``Ã_l[i, j]``, the heads-averaged attention with the residual connection,
    ``Ã_l = residual_weight * I + (1 - residual_weight) * mean_heads(A_l)``, rows renormalised to
    sum to 1 (their code: ``A + I``, then row normalisation, i.e. ``residual_weight = 0.5``).
    Edges point from the output side down to the inputs, as in their ``get_adjmat``.

    Parameters
    ----------
    attentions : list of arrays (batch, heads, n, n), first layer first
    residual_weight : float, default 0.5
        Weight of the identity, in [0, 1].

    Returns
    -------
    ndarray of shape (batch, (L + 1) * n, (L + 1) * n)
    """
    maps = _check_maps(attentions)
    residual_weight = check_fraction(residual_weight, "residual_weight", inclusive=True)
    batch, _, n, _ = maps[0].shape
    n_layers = len(maps)
    graph = np.zeros((batch, (n_layers + 1) * n, (n_layers + 1) * n))
    for layer, a in enumerate(maps, start=1):
        aug = residual_weight * np.eye(n) + (1.0 - residual_weight) * a.mean(axis=1)
        sums = aug.sum(axis=-1, keepdims=True)
        if np.any(sums <= 0):
            raise ValueError("a row of attention weights sums to 0 and residual_weight is 0, so the row "
                             "cannot be renormalised")
        graph[:, layer * n:(layer + 1) * n, (layer - 1) * n:layer * n] = aug / sums
    return graph


def attention_flow_values(attentions: Any, *, output: int = 0, residual_weight: float = 0.5,
                          normalize: bool = False, valid: np.ndarray | None = None) -> np.ndarray:
    """Attention flow (Abnar & Zuidema 2020): max-flow from an output token to every input token.

    The attention graph (:func:`attention_graph`) is read as a flow network whose capacities are
    the residual-augmented attention weights. The attention flow of input token ``j`` is the value
    of a maximum flow from node ``output`` of the last layer to node ``j`` of layer 0, computed
    for each ``j`` on its own (:func:`max_flow_value`, Edmonds–Karp, as their code calls
    ``networkx.maximum_flow_value`` with Edmonds–Karp). Unlike rollout, which sums products of
    weights over all paths, a flow is limited by the bottleneck edges of the paths, so it is
    never more than the smallest capacity of any cut between the two nodes.

    Parameters
    ----------
    attentions : list of arrays (batch, heads, n, n), first layer first
    output : int, default 0
        The output token ([CLS] is 0).
    residual_weight : float, default 0.5
        Weight of the identity in each layer's capacities, in [0, 1].
    normalize : bool, default False
        Divide each example's flows by their sum, as the released code (``compute_node_flow``)
        does; the paper defines the flow values themselves, the default here.
    valid : bool array of shape (batch, n), optional
        True on real tokens. Nodes of other tokens are left out of the graph (they carry no flow
        when their attention weights are 0, as padding's are) and get flow 0; skipping them keeps
        the graphs small.

    Returns
    -------
    ndarray of shape (batch, n)
        Flow into each input token; every value is in [0, 1] (the output node's capacities sum to 1).

    Notes
    -----
    With one layer the flow to ``j`` is ``Ã_1[output, j]``. With two layers every path is
    ``output -> k -> j``, the paths share no edge, and the flow is the closed form
    ``sum_k min(Ã_2[output, k], Ã_1[k, j])``. For one or two layers these closed forms are what
    is computed (vectorised, the same value as the search); deeper graphs run
    :func:`max_flow_value`. The tests check both closed forms against the max-flow.
    """
    maps = _check_maps(attentions)
    batch, _, n, _ = maps[0].shape
    output = check_int(output, "output", 0, n - 1)
    normalize = check_bool(normalize, "normalize")
    real = as_bool_mask(valid, "valid", (batch, n), meaning="True = real token")
    if not real[:, output].all():
        raise ValueError(f"valid must be True at the output token {output} of every example")
    graphs = attention_graph(maps, residual_weight=residual_weight)
    n_layers = len(maps)
    if n_layers <= 2:  # the closed forms of the Notes: the max-flow without a search
        top = graphs[:, n_layers * n + output, (n_layers - 1) * n:n_layers * n] * real  # output -> k
        flows = top if n_layers == 1 else np.minimum(top[:, :, None], graphs[:, n:2 * n, 0:n]).sum(axis=1)
        flows = np.where(real, flows, 0.0)
        if normalize:
            total = flows.sum(axis=1, keepdims=True)
            flows = np.divide(flows, total, out=flows.copy(), where=total > 0)
        return flows
    flows = np.zeros((batch, n))
    for b in range(batch):
        keep = np.flatnonzero(real[b])
        k = len(keep)
        nodes = (np.arange(n_layers + 1)[:, None] * n + keep[None, :]).ravel()
        g = graphs[b][np.ix_(nodes, nodes)]
        src = n_layers * k + int(np.searchsorted(keep, output))
        for pos, j in enumerate(keep):
            flows[b, j] = max_flow_value(g, src, pos)
        if normalize:
            total = flows[b].sum()
            if total > 0:
                flows[b] /= total
    return flows


# =========================================================================== Chefer et al. 2021

def chefer_relevance_matrix(attentions: Any, gradients: Any) -> np.ndarray:
    """Gradient-weighted attention relevance of Chefer, Gur & Wolf (2021), their rules 5 and 6.

    Starting from the identity (each token is relevant to itself only), every self-attention
    layer, first to last, updates the relevance matrix

        Ā_l = mean_heads( (∇A_l ⊙ A_l)^+ )          (rule 5)
        R  <- R + Ā_l · R                           (rule 6)

    where ``A_l`` are layer ``l``'s attention weights (after the softmax), ``∇A_l`` the gradient
    of the explained logit with respect to them, ``⊙`` the element-wise product and ``^+`` the
    positive part. This is what ``generate_relevance`` of their code computes (``avg_heads`` and
    ``apply_self_attention_rules``). Unlike rollout, rows are not renormalised (the paper
    normalises only in the bi-modal rules 8 and 9), and attention that lowers the logit is
    clipped away, so the map depends on the class explained.

    Parameters
    ----------
    attentions : list of arrays (batch, heads, n, n), first layer first
    gradients : list of arrays of the same shapes
        ``∂ logit / ∂ A_l``, e.g. from :func:`attention_gradients`.

    Returns
    -------
    ndarray of shape (batch, n, n)
        ``R[i, j]``: relevance of input token ``j`` for output token ``i``; the explanation of
        the classifier is row 0 ([CLS]).
    """
    maps = _check_maps(attentions)
    grads = _check_maps_like(gradients, maps)
    batch, _, n, _ = maps[0].shape
    relevance = np.broadcast_to(np.eye(n), (batch, n, n)).copy()
    for a, g in zip(maps, grads):
        cam = np.clip(g * a, 0.0, None).mean(axis=1)
        relevance = relevance + cam @ relevance
    return relevance


def _check_maps_like(gradients: Any, maps: list[np.ndarray]) -> list[np.ndarray]:
    """Gradients as a list of float arrays with the shapes of ``maps`` (any sign)."""
    if isinstance(gradients, np.ndarray):
        gradients = list(gradients) if gradients.ndim == 5 else [gradients]
    if not isinstance(gradients, (list, tuple)):
        raise TypeError(f"gradients must be a list of per-layer arrays, got {type(gradients).__name__}")
    if len(gradients) != len(maps):
        raise ValueError(f"gradients must have one array per layer ({len(maps)}), got {len(gradients)}")
    out = [as_float_array(g, f"gradients[{i}]", ndim=4) for i, g in enumerate(gradients)]
    for i, (g, a) in enumerate(zip(out, maps)):
        if g.shape != a.shape:
            raise ValueError(f"gradients[{i}] must have the shape of attentions[{i}] {a.shape}, got {g.shape}")
    return out


# =========================================================================== Kobayashi et al. 2020

def value_norm_matrix(weights: Any, transformed: Any, *, heads: str = "sum") -> np.ndarray:
    """Attention weighted by the norm of the transformed values (Kobayashi et al. 2020).

    The output of a multi-head attention layer at position ``i`` decomposes exactly into one
    vector per input position ``j`` and head ``h``,

        y_i = sum_j sum_h α^h_ij f^h(x_j) + b_O,    f^h(x) = (x W_V^h + b_V^h) W_O^h,

    (``W_O^h`` the rows of the output projection that read head ``h``). Kobayashi et al. measure
    how much ``j`` contributes to ``i`` by the length of its vector instead of the weight alone:
    ``||α^h_ij f^h(x_j)||`` per head and ``||sum_h α^h_ij f^h(x_j)||`` for the layer, the
    ``weighted_norm`` and ``summed_weighted_norm`` of their ``BertNormOutput``.

    Parameters
    ----------
    weights : array of shape (batch, heads, n, n)
        Attention weights ``α``.
    transformed : array of shape (batch, heads, n, d)
        ``f^h(x_j)`` for every head and position (:func:`transformed_values`).
    heads : {"sum", "each"}, default "sum"
        ``"sum"`` gives the layer's ``||sum_h α^h_ij f^h(x_j)||`` (the heads' vectors are added
        before the norm, as the layer adds them); ``"each"`` gives
        ``||α^h_ij f^h(x_j)|| = α^h_ij ||f^h(x_j)||`` per head.

    Returns
    -------
    ndarray of shape (batch, n, n) (``"sum"``) or (batch, heads, n, n) (``"each"``)
    """
    a = as_float_array(weights, "weights", ndim=4)
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"weights must be self-attention maps (batch, heads, n, n), got shape {a.shape}")
    if a.size and a.min() < 0:
        raise ValueError(f"weights must be non-negative attention weights, got {a.min():.3g}")
    f = as_float_array(transformed, "transformed", ndim=4)
    batch, n_heads, n, _ = a.shape
    if f.shape[:3] != (batch, n_heads, n):
        raise ValueError(f"transformed must have shape ({batch}, {n_heads}, {n}, d) to match weights, got {f.shape}")
    check_choice(heads, "heads", NORM_HEAD_MODES)
    if heads == "each":
        return a * np.linalg.norm(f, axis=-1)[:, :, None, :]
    summed = np.einsum("bhij,bhjd->bijd", a, f)
    return np.linalg.norm(summed, axis=-1)


# =========================================================================== model-side quantities

def _logits_and_maps(enc: _Encoder):
    """A function of one batch of inputs -> (logits, list of attention maps), one graph, so the
    logits are a function of the maps (the gradient with respect to the maps exists)."""
    if enc.is_text:
        tr = enc.model
        logits = logit_model(tr.head)
        net = keras.Model(tr.head.inputs, [logits.outputs[0], *tr.head_attention.outputs],
                          name="text_transformer_logit_attention")

        def call(b):
            outs = net([tr.embed(b, training=False), tf.constant((b != 0).astype("float32"))], training=False)
            return outs[0], list(outs[1:])
    else:
        vit = enc.model
        net = keras.Model(vit.model.inputs[0], [logit_model(vit.model).outputs[0], *vit.attention.outputs],
                          name="tiny_vit_logit_attention")

        def call(b):
            outs = net(tf.constant(b), training=False)
            return outs[0], list(outs[1:])
    return call


def _chosen(logits: tf.Tensor, t: np.ndarray | None) -> tf.Tensor:
    """The explained logit of each example: the only one (sigmoid) or the target's."""
    return logits[:, 0] if t is None else tf.gather(logits, t, axis=1, batch_dims=1)


def attention_gradients(model: TextTransformer | TinyViT, inputs: np.ndarray, target: Any = None, *,
                        batch_size: int = 256) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Attention maps and the gradient of the explained logit with respect to each of them.

    The gradient is taken with respect to the attention weights after the softmax, as the hooks
    of Chefer et al.'s code do: ``∂ logit / ∂ A_l[h, i, j]``, the total derivative (a change of
    layer ``l``'s weights also changes the inputs, and so the attention, of the layers above).

    Parameters
    ----------
    model : TextTransformer or TinyViT
        The text transformer of chapter 12 (:func:`xai_tutorial.transformer.build_text_transformer`)
        or the vision transformer of chapter 8 (:func:`xai_tutorial.vision.build_tiny_vit`).
    inputs : int array of shape (n, seq_len), or float array of shape (n, n_patches, patch_dim)
        Token ids (0 = padding) for the text transformer, patches for the ViT.
    target : None, int or int array of shape (n,)
        The class whose logit is explained; None only for a one-output (sigmoid) model.
    batch_size : int, default 256

    Returns
    -------
    (maps, gradients)
        Two lists of ``depth`` arrays of shape (n, heads, 1 + n_tokens, 1 + n_tokens), float64.
    """
    enc = _encoder(model, inputs)
    t = _check_model_target(target, len(enc.x), enc.n_classes)
    batch_size = check_int(batch_size, "batch_size", 1)
    call = _logits_and_maps(enc)
    maps: list[list[np.ndarray]] = [[] for _ in range(enc.depth)]
    grads: list[list[np.ndarray]] = [[] for _ in range(enc.depth)]
    for start in range(0, len(enc.x), batch_size):
        b = enc.x[start:start + batch_size]
        with tf.GradientTape() as tape:
            logits, layer_maps = call(b)
            chosen = _chosen(logits, None if t is None else t[start:start + batch_size])
        layer_grads = tape.gradient(chosen, layer_maps)
        for i, (a, g) in enumerate(zip(layer_maps, layer_grads)):
            maps[i].append(np.asarray(a, dtype=np.float64))
            grads[i].append(np.zeros(a.shape) if g is None else np.asarray(g, dtype=np.float64))
    return [np.concatenate(m) for m in maps], [np.concatenate(g) for g in grads]


def _check_model_target(target: Any, n: int, n_classes: int) -> np.ndarray | None:
    t = check_target(target, n)
    if t is None:
        if n_classes > 1:
            raise ValueError(f"the model has {n_classes} outputs: pass target (an int, or one int per "
                             "sequence, e.g. the predicted classes) to say which logit to explain")
        return None
    if t.size and t.max() >= n_classes:
        raise ValueError(f"target must be in [0, {n_classes - 1}] for a model with {n_classes} output(s), "
                         f"got {int(t.max())}")
    return t.astype(np.int32)


def _transformed_values(enc: _Encoder, layer: int) -> np.ndarray:
    x = enc.layer_inputs()[layer]
    mha = enc.attention_layers[layer]
    v = np.asarray(mha.value_dense(x.astype("float32")), dtype=np.float64)  # (n, 1 + n_tokens, heads, d_head)
    w_o = np.asarray(mha.output_dense.kernel, dtype=np.float64)  # (heads, d_head, dim)
    return np.einsum("bjhk,hkd->bhjd", v, w_o)


def transformed_values(model: TextTransformer | TinyViT, inputs: np.ndarray, *, layer: int = -1) -> np.ndarray:
    """The transformed value vectors ``f^h(x_j) = (x_j W_V^h + b_V^h) W_O^h`` of one attention layer.

    ``x_j`` is the layer's input (the layer-normed residual stream at position ``j``); the value
    projection is the layer's own ``value_dense`` and ``W_O^h`` the slice of its output
    projection that reads head ``h``. The output bias ``b_O`` is not part of any ``f^h`` (it is
    added once per position), as in Kobayashi et al.'s code.

    Parameters
    ----------
    model : TextTransformer or TinyViT
        The text transformer of chapter 12 (:func:`xai_tutorial.transformer.build_text_transformer`)
        or the vision transformer of chapter 8 (:func:`xai_tutorial.vision.build_tiny_vit`).
    inputs : int array of shape (n, seq_len), or float array of shape (n, n_patches, patch_dim)
        Token ids (0 = padding) for the text transformer, patches for the ViT.
    layer : int, default -1
        Which layer, in [-depth, depth - 1].

    Returns
    -------
    ndarray of shape (n, heads, 1 + n_tokens, dim), float64
    """
    enc = _encoder(model, inputs)
    return _transformed_values(enc, _check_layer(layer, enc.depth))


# =========================================================================== token scores

def _check_head(head: Any, n_heads: int, modes: tuple[str, ...] = HEAD_MODES) -> str | int:
    if isinstance(head, str):
        return check_choice(head, "head", modes)
    return check_int(head, "head", 0, n_heads - 1)


def raw_attention(model: TextTransformer | TinyViT, inputs: np.ndarray, *, layer: int = -1,
                  head: str | int = "mean") -> np.ndarray:
    """Raw attention: the weights [CLS] gives the input tokens in one layer (the last by default).

    ``score_t = mean_h A_layer[h, 0, 1 + t]`` (or one head's weight). This is the "raw attention"
    baseline of Abnar & Zuidema (2020) and of Chefer et al. (2021) (``generate_attn_last_layer``:
    last layer, heads averaged, row of [CLS]). The weight [CLS] gives itself is left out.

    Parameters
    ----------
    model : TextTransformer or TinyViT
        The text transformer of chapter 12 (:func:`xai_tutorial.transformer.build_text_transformer`)
        or the vision transformer of chapter 8 (:func:`xai_tutorial.vision.build_tiny_vit`).
    inputs : int array of shape (n, seq_len), or float array of shape (n, n_patches, patch_dim)
        Token ids (0 = padding) for the text transformer, patches for the ViT.
    layer : int, default -1
        Which layer, in [-depth, depth - 1].
    head : "mean", "each" or int, default "mean"
        Average the heads, return every head, or pick one.

    Returns
    -------
    ndarray of shape (n, n_tokens), or (n, heads, n_tokens) for ``head="each"``
        Non-negative; 0 on padding; each row (each head) sums to at most 1. ``n_tokens`` is
        ``seq_len`` for text and ``n_patches`` for images.
    """
    enc = _encoder(model, inputs)
    layer = _check_layer(layer, enc.depth)
    head = _check_head(head, enc.heads)
    a = enc.maps()[layer][:, :, 0, :]  # (n, heads, 1 + n_tokens)
    if head == "mean":
        a = a.mean(axis=1)
    elif head != "each":
        a = a[:, head]
    return enc.tokens(a)


def rollout(model: TextTransformer | TinyViT, inputs: np.ndarray, *, residual_weight: float = 0.5) -> np.ndarray:
    """Attention rollout of [CLS] (Abnar & Zuidema 2020), through :func:`xai_tutorial.attention.attention_rollout`.

    ``R = Ã_L ··· Ã_1`` with ``Ã_l = residual_weight * I + (1 - residual_weight) * mean_h A_l``,
    rows renormalised; the score of token ``t`` is ``R[0, 1 + t]``. With the default 0.5 this is
    their ``compute_joint_attention(add_residual=True)`` (``A + I``, then row normalisation).
    Chefer et al.'s rollout baseline adds ``I`` without renormalising; that rescales each
    layer's matrix by a constant (every row of ``A + I`` sums to 2), so the token ranking is the same.

    Parameters
    ----------
    model : TextTransformer or TinyViT
        The text transformer of chapter 12 (:func:`xai_tutorial.transformer.build_text_transformer`)
        or the vision transformer of chapter 8 (:func:`xai_tutorial.vision.build_tiny_vit`).
    inputs : int array of shape (n, seq_len), or float array of shape (n, n_patches, patch_dim)
        Token ids (0 = padding) for the text transformer, patches for the ViT.
    residual_weight : float, default 0.5

    Returns
    -------
    ndarray of shape (n, n_tokens)
        Non-negative, 0 on padding; with [CLS]'s own share, a row sums to 1.
    """
    enc = _encoder(model, inputs)
    r = _attention.attention_rollout(enc.maps(), residual_weight=residual_weight)
    return enc.tokens(r[:, 0, :])


def attention_flow(model: TextTransformer | TinyViT, inputs: np.ndarray, *, residual_weight: float = 0.5,
                   normalize: bool = False) -> np.ndarray:
    """Attention flow of [CLS] (Abnar & Zuidema 2020) by max-flow in each input's attention graph.

    See :func:`attention_flow_values`; padded tokens are left out of the graphs.

    Parameters
    ----------
    model : TextTransformer or TinyViT
        The text transformer of chapter 12 (:func:`xai_tutorial.transformer.build_text_transformer`)
        or the vision transformer of chapter 8 (:func:`xai_tutorial.vision.build_tiny_vit`).
    inputs : int array of shape (n, seq_len), or float array of shape (n, n_patches, patch_dim)
        Token ids (0 = padding) for the text transformer, patches for the ViT.
    residual_weight : float, default 0.5
    normalize : bool, default False

    Returns
    -------
    ndarray of shape (n, n_tokens)
        Flow from [CLS] at the last layer into each input token, in [0, 1]; 0 on padding.
    """
    enc = _encoder(model, inputs)
    valid = np.concatenate([np.ones((len(enc.x), 1), dtype=bool), enc.real], axis=1)
    flows = attention_flow_values(enc.maps(), output=0, residual_weight=residual_weight,
                                  normalize=normalize, valid=valid)
    return enc.tokens(flows)


def chefer_relevance(model: TextTransformer | TinyViT, inputs: np.ndarray, target: Any = None) -> np.ndarray:
    """Gradient-weighted attention relevance (Chefer, Gur & Wolf 2021) of [CLS] for the explained class.

    ``R`` of :func:`chefer_relevance_matrix` from the attention maps and the gradients of the
    target's logit (:func:`attention_gradients`); the score of token ``t`` is ``R[0, 1 + t]``
    (their ``R[0, 1:]``).

    Parameters
    ----------
    model : TextTransformer or TinyViT
        The text transformer of chapter 12 (:func:`xai_tutorial.transformer.build_text_transformer`)
        or the vision transformer of chapter 8 (:func:`xai_tutorial.vision.build_tiny_vit`).
    inputs : int array of shape (n, seq_len), or float array of shape (n, n_patches, patch_dim)
        Token ids (0 = padding) for the text transformer, patches for the ViT.
    target : None, int or int array of shape (n,)
        Class whose logit is explained (e.g. the predicted classes); None for a sigmoid model.

    Returns
    -------
    ndarray of shape (n, n_tokens)
        Non-negative, 0 on padding.
    """
    enc = _encoder(model, inputs)
    maps, grads = attention_gradients(model, enc.x, target)
    return enc.tokens(chefer_relevance_matrix(maps, grads)[:, 0, :])


def value_norms(model: TextTransformer | TinyViT, inputs: np.ndarray, *, layer: int = -1,
                head: str | int = "sum") -> np.ndarray:
    """Norm-weighted attention (Kobayashi et al. 2020) of [CLS] in one layer (the last by default).

    ``score_t = || sum_h α^h_{0, 1+t} f^h(x_{1+t}) ||`` (``head="sum"``), or
    ``α^h_{0, 1+t} ||f^h(x_{1+t})||`` per head (``"each"``, or one head by its index); see
    :func:`value_norm_matrix`. Kobayashi et al.
    analyse one layer at a time; like raw attention, this score says what [CLS] reads from each
    position in that layer, not where that position's content came from.

    Parameters
    ----------
    model : TextTransformer or TinyViT
        The text transformer of chapter 12 (:func:`xai_tutorial.transformer.build_text_transformer`)
        or the vision transformer of chapter 8 (:func:`xai_tutorial.vision.build_tiny_vit`).
    inputs : int array of shape (n, seq_len), or float array of shape (n, n_patches, patch_dim)
        Token ids (0 = padding) for the text transformer, patches for the ViT.
    layer : int, default -1
    head : "sum", "each" or int, default "sum"

    Returns
    -------
    ndarray of shape (n, n_tokens), or (n, heads, n_tokens) for ``head="each"``
        Non-negative, 0 on padding.
    """
    enc = _encoder(model, inputs)
    layer = _check_layer(layer, enc.depth)
    head = _check_head(head, enc.heads, NORM_HEAD_MODES)
    a = enc.maps()[layer]
    f = _transformed_values(enc, layer)
    if head == "sum":
        return enc.tokens(value_norm_matrix(a, f, heads="sum")[:, 0, :])
    each = value_norm_matrix(a, f, heads="each")[:, :, 0, :]
    return enc.tokens(each if head == "each" else each[:, head])


# =========================================================================== AttnLRP (Achtibat et al. 2024)

@dataclass(frozen=True)
class AttnLRPRelevance:
    """Where AttnLRP puts the explained logit: tokens, and what the rules absorb elsewhere.

    Attributes
    ----------
    tokens : ndarray of shape (n, n_tokens)
        Relevance of each input token (its embedding; for a ViT, its patch's pixels), 0 on
        padding. This is the explanation.
    positions : ndarray of shape (n, 1 + n_tokens)
        Relevance of the position embeddings ([CLS]'s first).
    cls : ndarray of shape (n,)
        Relevance of the learned [CLS] vector.
    biases : ndarray of shape (n,)
        Relevance absorbed by every bias and layer-norm offset (``b`` of each ``x W + b``, ``β``;
        for a ViT, the patch embedding's bias too).
    softmax : ndarray of shape (n,)
        Relevance the softmax rule does not pass on (the implicit bias of its Taylor expansion,
        Proposition 3.1): relevance at the softmax outputs minus relevance at its inputs, summed
        over the layers.
    logit : ndarray of shape (n,)
        The explained logit.

    Conservation: ``tokens.sum(1) + positions.sum(1) + cls + biases + softmax == logit``.
    """

    tokens: np.ndarray
    positions: np.ndarray
    cls: np.ndarray
    biases: np.ndarray
    softmax: np.ndarray
    logit: np.ndarray

    def conservation_gap(self) -> np.ndarray:
        """``logit`` minus the sum of every part, shape (n,): 0 up to rounding when the rules conserve."""
        total = self.tokens.sum(1) + self.positions.sum(1) + self.cls + self.biases + self.softmax
        return self.logit - total


def _uniform(x: tf.Tensor) -> tf.Tensor:
    """Forward ``x``, backward half the gradient: the uniform rule after a product of two inputs."""
    return 0.5 * x + tf.stop_gradient(0.5 * x)


def _lrp_layer_norm(x: tf.Tensor, layer) -> tf.Tensor:
    """LayerNorm with its standard deviation held constant in the backward pass (identity rule on 1/std)."""
    gamma = tf.cast(layer.gamma, x.dtype)
    beta = tf.cast(layer.beta, x.dtype)
    centred = x - tf.reduce_mean(x, axis=-1, keepdims=True)
    std = tf.sqrt(tf.reduce_mean(tf.square(centred), axis=-1, keepdims=True) + layer.epsilon)
    return centred / tf.stop_gradient(std) * gamma + beta


def _lrp_gelu(x: tf.Tensor) -> tf.Tensor:
    """Exact GELU in the forward pass; backward gradient ``gelu(x) / x``, the identity rule (relevance passes)."""
    safe = tf.where(tf.abs(x) > 1e-12, x, tf.ones_like(x))
    ratio = tf.where(tf.abs(x) > 1e-12, tf.nn.gelu(safe, approximate=False) / safe, 0.5 * tf.ones_like(x))
    return x * tf.stop_gradient(ratio)


def _lrp_forward(enc: _Encoder, emb: tf.Tensor, real: np.ndarray, record: list) -> tuple[tf.Tensor, tf.Tensor]:
    """The transformer's forward pass in float64 with AttnLRP's backward rules, from the token embeddings.

    ``emb`` (batch, n_tokens, dim) are the token embeddings, ``real`` (batch, n_tokens) bool the
    keys that may be attended (False on padding).

    Returns the logits and the first residual stream ``x_0 = [cls, e] + positions``. ``record``
    collects ``("bias", output, bias)`` for every affine map and layer-norm offset and
    ``("softmax", weights, scores)`` for every softmax, so that the relevance they absorb can be read.
    """
    f64 = tf.float64
    w = lambda v: tf.cast(tf.convert_to_tensor(v), f64)  # noqa: E731
    layer = enc.keras.get_layer
    cls_pos = layer("cls_and_position")
    batch, _, dim = emb.shape
    cls = tf.broadcast_to(w(cls_pos.cls_token), (batch, 1, dim))
    pos = w(cls_pos.position)
    x = x0 = tf.concat([cls, emb], axis=1) + pos
    keys = np.concatenate([np.ones((batch, 1), dtype=bool), real], axis=1)[:, None, None, :]
    for b, mha in enumerate(enc.attention_layers, start=1):
        h = _lrp_layer_norm(x, layer(f"block{b}_norm1"))
        record.append(("bias", h, w(layer(f"block{b}_norm1").beta)))
        proj = []
        for dense in (mha.query_dense, mha.key_dense, mha.value_dense):
            p = tf.einsum("btd,dnh->bnth", h, w(dense.kernel)) + w(dense.bias)[None, :, None, :]
            record.append(("bias", p, w(dense.bias)[None, :, None, :]))
            proj.append(p)
        q, k, v = proj
        scores = _uniform(tf.matmul(q, k, transpose_b=True)) / np.sqrt(float(q.shape[-1]))
        scores = tf.where(keys, scores, tf.constant(-1e9, f64))
        weights = tf.nn.softmax(scores, axis=-1)  # the softmax rule of Proposition 3.1 is its plain gradient
        record.append(("softmax", weights, scores))
        heads = _uniform(tf.matmul(weights, v))
        a = tf.einsum("bnth,nhd->btd", heads, w(mha.output_dense.kernel)) + w(mha.output_dense.bias)
        record.append(("bias", a, w(mha.output_dense.bias)))
        x = x + a
        h = _lrp_layer_norm(x, layer(f"block{b}_norm2"))
        record.append(("bias", h, w(layer(f"block{b}_norm2").beta)))
        mlp1, mlp2 = layer(f"block{b}_mlp1"), layer(f"block{b}_mlp2")
        u = h @ w(mlp1.kernel) + w(mlp1.bias)
        record.append(("bias", u, w(mlp1.bias)))
        m = _lrp_gelu(u) @ w(mlp2.kernel) + w(mlp2.bias)
        record.append(("bias", m, w(mlp2.bias)))
        x = x + m
    final = layer("final_norm")
    out = _lrp_layer_norm(x, final)
    record.append(("bias", out, w(final.beta)))
    classifier = layer("classifier")
    logits = out[:, 0] @ w(classifier.kernel) + w(classifier.bias)
    record.append(("bias", logits, w(classifier.bias)))
    return logits, x0


def attn_lrp(model: TextTransformer | TinyViT, inputs: np.ndarray, target: Any = None, *, parts: bool = False,
             batch_size: int = 256) -> np.ndarray | AttnLRPRelevance:
    """Layer-wise relevance propagation with the AttnLRP rules (Achtibat et al. 2024).

    The explained logit is the relevance at the output; each operation passes relevance to its
    inputs by a rule, and the relevance of an input token is what reaches its embedding. The
    rules are those of the paper, in the Gradient x Input form of its code (LXT's "efficient"
    rules: relevance at a tensor ``= tensor ⊙ modified gradient``):

    * linear maps and residual additions: the epsilon rule with epsilon -> 0 (LRP-0), which is the
      plain gradient: ``R_x = x ⊙ (W (R_y / y))``; biases keep their share ``b ⊙ (R_y / y)``;
    * the softmax: Proposition 3.1, the Taylor decomposition at ``x``,
      ``R_in,i = x_i (R_out,i - s_i sum_j R_out,j)``, which is again the plain gradient; it does
      not conserve (its implicit bias keeps the rest, reported as ``softmax``);
    * the two products of two inputs, ``Q K^T`` and ``A V``: the uniform rule (Proposition 3.3),
      half of the relevance to each factor, then the epsilon rule within each (the gradient
      halved);
    * layer norm: the identity rule on the division by the standard deviation (Proposition 3.4,
      the standard deviation held constant), the epsilon rule on the centring, and the identity
      rule on the scaling by ``γ``; ``β`` keeps its share;
    * GELU: the identity rule (relevance passes through unchanged: gradient ``gelu(x) / x``).

    The model is recomputed in float64 from its layers' weights with these backward rules (its
    forward values equal the model's); a token's relevance is ``sum_d e_d ∂*logit / ∂*e_d``
    over its embedding ``e``. For the ViT, whose token embeddings are an affine map of the
    patches, ``e = p E + b``, the epsilon rule passes the relevance on to the pixels: a patch's
    relevance is ``sum_k p_k ∂*logit / ∂*p_k``, and ``b`` keeps its share (in ``biases``).

    Parameters
    ----------
    model : TextTransformer or TinyViT
        The text transformer of chapter 12 or the vision transformer of chapter 8.
    inputs : int array of shape (n, seq_len), or float array of shape (n, n_patches, patch_dim)
        Token ids (0 = padding) for the text transformer, patches for the ViT.
    target : None, int or int array of shape (n,)
        The class whose logit is explained; None only for a one-output (sigmoid) model.
    parts : bool, default False
        Return an :class:`AttnLRPRelevance` with the relevance absorbed elsewhere (positions,
        [CLS], biases, softmax) as well, whose parts add up to the logit.
    batch_size : int, default 256

    Returns
    -------
    ndarray of shape (n, n_tokens), or AttnLRPRelevance
        Signed relevance of each token (0 on padding): positive tokens raise the logit.

    Notes
    -----
    Differences from the paper: the epsilon of the epsilon rule is 0 (as in LXT's efficient
    implementation, which uses the plain gradient); the paper's experiments use pretrained
    models whose biases and softmax absorb a small share, here the share absorbed is reported
    rather than assumed small.
    """
    enc = _encoder(model, inputs)
    t = _check_model_target(target, len(enc.x), enc.n_classes)
    parts = check_bool(parts, "parts")
    batch_size = check_int(batch_size, "batch_size", 1)
    out = {k: [] for k in ("tokens", "positions", "cls", "biases", "softmax", "logit")}
    cls_pos = enc.keras.get_layer("cls_and_position")
    pos = np.asarray(cls_pos.position, dtype=np.float64)[0]
    cls = np.asarray(cls_pos.cls_token, dtype=np.float64)[0, 0]
    for start in range(0, len(enc.x), batch_size):
        b = enc.x[start:start + batch_size]
        real = enc.real[start:start + batch_size]
        record: list = []
        with tf.GradientTape() as tape:
            if enc.is_text:
                leaf = emb = tf.cast(enc.model.embed(b, training=False), tf.float64)
            else:  # the patch embedding e = p E + b: LRP-0 passes relevance on to the pixels
                leaf = tf.constant(b, dtype=tf.float64)
                tape.watch(leaf)
                dense = enc.keras.get_layer("patch_embedding")
                bias = tf.cast(dense.bias, tf.float64)
                emb = leaf @ tf.cast(dense.kernel, tf.float64) + bias
                record.append(("bias", emb, bias))
            logits, x0 = _lrp_forward(enc, emb, real, record)
            chosen = _chosen(logits, None if t is None else t[start:start + batch_size])
        softmax_inputs = [r[2] for r in record if r[0] == "softmax"]
        wrt = [leaf, x0, *[r[1] for r in record], *softmax_inputs]
        grads = [np.zeros(x.shape) if g is None else g.numpy() for x, g in zip(wrt, tape.gradient(chosen, wrt))]
        g_leaf, g_x0 = grads[0], grads[1]
        g_rec, g_soft = grads[2:2 + len(record)], iter(grads[2 + len(record):])
        # x_0 = [cls, e] + positions: LRP-0 on the sum gives each addend its product with the gradient
        out["tokens"].append(np.where(real, (leaf.numpy() * g_leaf).sum(-1), 0.0))
        out["positions"].append((pos[None] * g_x0).sum(-1))
        out["cls"].append(g_x0[:, 0] @ cls)
        biases, softmax = np.zeros(len(b)), np.zeros(len(b))
        for (kind, tensor, other), g in zip(record, g_rec):
            if kind == "bias":
                biases += (np.broadcast_to(other.numpy(), tensor.shape) * g).reshape(len(b), -1).sum(1)
            else:  # relevance at the softmax output (tensor) minus relevance at its input (other)
                r_out = (tensor.numpy() * g).reshape(len(b), -1).sum(1)
                r_in = (other.numpy() * next(g_soft)).reshape(len(b), -1).sum(1)
                softmax += r_out - r_in
        out["biases"].append(biases)
        out["softmax"].append(softmax)
        out["logit"].append(chosen.numpy())
    res = {k: np.concatenate(v) for k, v in out.items()}
    if not parts:
        return res["tokens"]
    return AttnLRPRelevance(**res)
