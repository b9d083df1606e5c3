"""An induction head in a small attention-only transformer (Olsson et al. 2022).

An *induction head* completes a repeated pattern: at a token ``A`` it attends to the token that
followed an earlier ``A`` and copies it, ``[... A B ... A] -> B``. Olsson et al. find it as a pair
of heads in two layers: a *previous-token head* in layer 1 writes "my previous token was A" into
each position, and the induction head in layer 2 matches its query (the current token ``A``)
against those keys, so that it attends to the position *after* the earlier ``A``.

* :func:`make_repeated_sequences` writes sequences that repeat a random block of distinct tokens,
  with a random period, so that only looking up the earlier occurrence of the current token
  predicts the next one (a fixed offset would not).
* :func:`build_induction_transformer` builds a two-layer attention-only transformer in Keras
  (token and fixed sine-cosine position embeddings, causal multi-head attention with residual
  connections, no MLPs and no layer norm, a linear unembedding), and
  :func:`train_induction_transformer` trains it as a language model on the next token.
* :func:`next_token_loss` gives the loss of every position, optionally with heads ablated
  (their output projection temporarily set to 0, the gate of Michel et al. 2019).
* :func:`previous_token_scores` and :func:`prefix_matching_scores` score every head by its
  attention pattern, as Olsson et al. do.

Reference: C. Olsson, N. Elhage, N. Nanda, N. Joseph et al., "In-context learning and induction
heads", Transformer Circuits Thread, 2022.
"""
from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

import numpy as np

from ._validation import as_float_array, as_int_array, check_int, check_number
from .forward import call_in_batches, predict_fn
from .transformer import sincos_positions

import keras  # noqa: E402  (after the package __init__ has set the TF log variables)
from keras import ops  # noqa: E402

__all__ = ["InductionTransformer", "make_repeated_sequences", "build_induction_transformer",
           "train_induction_transformer", "next_token_loss", "previous_token_scores",
           "prefix_matching_scores"]


def make_repeated_sequences(n: int, seq_len: int = 16, vocab_size: int = 16, *, min_period: int = 3,
                            max_period: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Sequences that repeat a block of distinct random tokens: ``x_t = block[t mod period]``.

    Each sequence draws a period ``T`` in [min_period, max_period] and ``T`` distinct tokens, and
    repeats them to length ``seq_len``. The first ``T`` tokens are unpredictable (except that they
    are distinct); from position ``T`` on, every token is the one that followed the previous
    occurrence of the token before it, which an induction head can copy.

    Parameters
    ----------
    n : int
        Number of sequences, at least 1.
    seq_len : int, default 16
        Length of each sequence, at least 4.
    vocab_size : int, default 16
        Number of token types; at least ``max_period``.
    min_period, max_period : int
        Range of the period; default ``max_period = seq_len // 2``, so every block repeats at least
        once. ``2 <= min_period <= max_period <= seq_len - 1``.
    seed : int, default 0

    Returns
    -------
    (tokens, periods)
        ``tokens`` of shape (n, seq_len), int32; ``periods`` of shape (n,), int64.

    Examples
    --------
    >>> x, p = make_repeated_sequences(2, seq_len=8, vocab_size=10, seed=0)
    >>> bool(all((x[i, p[i]:] == x[i, :8 - p[i]]).all() for i in range(2)))
    True
    """
    n = check_int(n, "n", 1)
    seq_len = check_int(seq_len, "seq_len", 4)
    max_period = seq_len // 2 if max_period is None else max_period
    max_period = check_int(max_period, "max_period", 2, seq_len - 1)
    min_period = check_int(min_period, "min_period", 2, max_period)
    vocab_size = check_int(vocab_size, "vocab_size", max_period)
    seed = check_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    periods = rng.integers(min_period, max_period + 1, size=n)
    blocks = np.argsort(rng.random((n, vocab_size)), axis=1)
    index = np.arange(seq_len)[None, :] % periods[:, None]
    return np.take_along_axis(blocks, index, axis=1).astype(np.int32), periods.astype(np.int64)


@dataclass(frozen=True)
class InductionTransformer:
    """A two-layer attention-only transformer and views of it that share its weights.

    Attributes
    ----------
    model : keras.Model
        tokens (batch, context) -> next-token probabilities (batch, context, vocab_size). Train this.
    next_token : keras.Model
        tokens (batch, context + 1) -> probability of each true next token (batch, context):
        entry ``i`` is ``p(x_{i+1} | x_0 .. x_i)``.
    attention : keras.Model
        tokens (batch, context) -> list of the attention maps of every layer, each
        (batch, heads, context, context), causal (row ``i`` is 0 right of ``i``).
    """

    model: keras.Model
    next_token: keras.Model
    attention: keras.Model

    @property
    def context(self) -> int:
        """Number of tokens the model reads."""
        return int(self.model.inputs[0].shape[1])

    @property
    def vocab_size(self) -> int:
        return int(self.model.outputs[0].shape[-1])

    @property
    def attention_layers(self) -> list:
        """The ``MultiHeadAttention`` layers, first layer first."""
        return [self.model.get_layer(f"attention{b}") for b in range(1, len(self.attention.outputs) + 1)]

    @property
    def heads(self) -> int:
        return int(self.attention_layers[0].num_heads)

    @cached_property
    def next_token_fn(self):
        """``forward.predict_fn(self.next_token)``, made once (its compiled call reads the current weights)."""
        return predict_fn(self.next_token)

    def attention_maps(self, tokens: np.ndarray, batch_size: int = 1024) -> list[np.ndarray]:
        """Attention maps of every layer for ``tokens`` of shape (n, context) (or (n, context + 1): the
        last token is dropped), each (n, heads, context, context)."""
        ids = _check_tokens(tokens, self, allow_target=True)[:, :self.context]
        out = call_in_batches(lambda b: self.attention(b, training=False), ids, batch_size)
        return out if isinstance(out, list) else [out]


def _check_net(net: Any) -> InductionTransformer:
    if not isinstance(net, InductionTransformer):
        raise TypeError(f"net must be an InductionTransformer (induction.build_induction_transformer), got "
                        f"{type(net).__name__}")
    return net


def _check_tokens(tokens: Any, net: InductionTransformer, *, allow_target: bool = False,
                  name: str = "tokens", nonempty: bool = False) -> np.ndarray:
    ids = as_int_array(tokens, name, ndim=2, low=0, high=net.vocab_size - 1, nonempty=nonempty)
    widths = (net.context, net.context + 1) if allow_target else (net.context + 1,)
    if ids.shape[1] not in widths:
        want = " or ".join(f"(n, {w})" for w in widths)
        raise ValueError(f"{name} must have shape {want}, got {ids.shape}")
    return ids.astype(np.int32)


def build_induction_transformer(vocab_size: int, context: int, *, dim: int = 32, heads: int = 2,
                                depth: int = 2, max_period: float = 100.0,
                                seed: int = 0) -> InductionTransformer:
    """Build (untrained) an attention-only causal transformer, the setting of Olsson et al.'s small models.

    ``x_0 = E[tokens] + P`` (``P`` the fixed sine-cosine code of the positions,
    :func:`~xai_tutorial.transformer.sincos_positions`, which makes "attend to the previous
    token" easy to learn), then ``depth`` times ``x <- x + MHA(x, x)`` with a causal mask, then
    ``softmax(x W_U + b_U)``: no MLPs, no layer norm, so the heads are the only computation.

    Parameters
    ----------
    vocab_size : int
        Number of token types, at least 2.
    context : int
        Number of tokens read, at least 2.
    dim : int, default 32
        Width of the residual stream; divisible by ``heads``.
    heads : int, default 2
        Heads per layer, each of width ``dim // heads``.
    depth : int, default 2
        Number of attention layers, at least 1.
    max_period : float, default 100.0
        Longest period of the position code.
    seed : int, default 0
        Seed of the initial weights.

    Returns
    -------
    InductionTransformer
    """
    vocab_size = check_int(vocab_size, "vocab_size", 2)
    context = check_int(context, "context", 2)
    dim = check_int(dim, "dim", 2)
    heads = check_int(heads, "heads", 1, dim)
    if dim % heads:
        raise ValueError(f"dim must be divisible by heads, got dim={dim} and heads={heads}")
    depth = check_int(depth, "depth", 1)
    max_period = check_number(max_period, "max_period", low=1, low_open=True)
    seed = check_int(seed, "seed", 0)

    def init(i: int):
        return keras.initializers.GlorotUniform(seed=seed * 1009 + i)

    tokens = keras.Input(shape=(context,), dtype="int32", name="tokens")
    embed = keras.layers.Embedding(vocab_size, dim, embeddings_initializer=keras.initializers.RandomNormal(
        stddev=1.0, seed=seed * 1009), name="embedding")
    x = embed(tokens) + ops.convert_to_tensor(sincos_positions(context, dim, max_period=max_period)[None],
                                              dtype="float32")
    maps = []
    for b in range(1, depth + 1):
        mha = keras.layers.MultiHeadAttention(heads, dim // heads, name=f"attention{b}")
        a, w = mha(x, x, use_causal_mask=True, return_attention_scores=True)
        maps.append(w)
        x = x + a
    probs = keras.layers.Dense(vocab_size, activation="softmax", kernel_initializer=init(999),
                               name="unembed")(x)
    model = keras.Model(tokens, probs, name="induction_transformer")
    # seed every kernel on its own (Keras clones one initializer for Q, K and V)
    for i, v in enumerate(model.weights):
        if v.path.endswith("kernel") and not v.path.startswith("unembed"):
            v.assign(init(i)(v.shape))
    full = keras.Input(shape=(context + 1,), dtype="int32", name="tokens_and_next")
    p = model(full[:, :context])
    nxt = ops.take_along_axis(p, ops.expand_dims(full[:, 1:], -1), axis=-1)[..., 0]
    next_token = keras.Model(full, nxt, name="induction_next_token")
    attention = keras.Model(tokens, maps, name="induction_attention")
    return InductionTransformer(model, next_token, attention)


def train_induction_transformer(net: InductionTransformer, tokens: np.ndarray, *, epochs: int = 5,
                                batch_size: int = 128, learning_rate: float = 1e-2,
                                seed: int = 0) -> keras.callbacks.History:
    """Train the next-token prediction of every position with Adam and cross-entropy.

    Parameters
    ----------
    net : InductionTransformer
    tokens : int array of shape (n, context + 1)
        Input ``tokens[:, :-1]``, targets ``tokens[:, 1:]``.
    epochs : int, default 5
    batch_size : int, default 128
    learning_rate : float, default 1e-2
    seed : int, default 0
        Seeds the shuffling (Keras' global seed).
    """
    _check_net(net)
    ids = _check_tokens(tokens, net, nonempty=True)
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    learning_rate = check_number(learning_rate, "learning_rate", low=0, low_open=True)
    keras.utils.set_random_seed(check_int(seed, "seed", 0))
    net.model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy")
    return net.model.fit(ids[:, :-1], ids[:, 1:], epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)


def _check_heads(ablate: Any, net: InductionTransformer) -> list[tuple[int, int]]:
    if ablate is None:
        return []
    if isinstance(ablate, (str, bytes)) or not isinstance(ablate, Sequence):
        raise TypeError(f"ablate must be a sequence of (layer, head) pairs, got {type(ablate).__name__}")
    depth, heads = len(net.attention_layers), net.heads
    out = []
    for i, pair in enumerate(ablate):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f"ablate[{i}] must be a (layer, head) pair, got {pair!r}")
        out.append((check_int(pair[0], f"ablate[{i}][0] (layer)", 0, depth - 1),
                    check_int(pair[1], f"ablate[{i}][1] (head)", 0, heads - 1)))
    return out


@contextmanager
def _heads_zeroed(net: InductionTransformer, pairs: list[tuple[int, int]]) -> Iterator[None]:
    """Set the output-projection rows of the given heads to 0 (a gate of 0), and restore them after."""
    saved = []
    try:
        for layer, head in pairs:
            kernel = net.attention_layers[layer].output_dense.kernel  # (heads, key_dim, dim)
            value = np.asarray(kernel)
            saved.append((kernel, value.copy()))
            value = value.copy()
            value[head] = 0.0
            kernel.assign(value)
        yield
    finally:
        for kernel, value in reversed(saved):
            kernel.assign(value)


def next_token_loss(net: InductionTransformer, tokens: np.ndarray, *,
                    ablate: Sequence[tuple[int, int]] | None = None) -> np.ndarray:
    """Cross-entropy ``-log p(x_{i+1} | x_0 .. x_i)`` of every position, optionally with heads ablated.

    Parameters
    ----------
    net : InductionTransformer
    tokens : int array of shape (n, context + 1)
    ablate : sequence of (layer, head) pairs, optional
        Heads whose output is set to 0 (their rows of the attention layer's output projection
        zeroed for the call; the output bias stays). Layers count from 0.

    Returns
    -------
    ndarray of shape (n, context)
        Natural-log loss per position; ``log(vocab_size)`` is uniform guessing.
    """
    _check_net(net)
    ids = _check_tokens(tokens, net)
    pairs = _check_heads(ablate, net)
    with _heads_zeroed(net, pairs):
        p = net.next_token_fn(ids)
    return -np.log(np.clip(p, 1e-12, None))


def _check_attention(attention: Any) -> np.ndarray:
    a = as_float_array(attention, "attention", ndim=(2, 3, 4), nonempty=True)
    if a.shape[-1] != a.shape[-2]:
        raise ValueError(f"attention must be square in its last two axes (query, key), got shape {a.shape}")
    if a.min() < 0:
        raise ValueError(f"attention must hold non-negative weights, got {a.min():.3g}")
    while a.ndim < 4:  # (L, L) -> (1, 1, L, L); (heads, L, L) -> (1, heads, L, L)
        a = a[None]
    return a


def previous_token_scores(attention: np.ndarray) -> np.ndarray:
    """Previous-token score of each head: the mean attention from position ``i`` to ``i - 1``, over ``i >= 1``.

    Parameters
    ----------
    attention : array of shape (n, heads, L, L), (heads, L, L) or (L, L)
        Causal attention maps, row = query.

    Returns
    -------
    ndarray of shape (heads,)
        In [0, 1]; 1 for a head that always looks at the previous token.

    Examples
    --------
    >>> previous_token_scores(np.eye(3, k=-1) + np.eye(3) * [1, 0, 0])
    array([1.])
    """
    a = _check_attention(attention)
    L = a.shape[-1]
    if L < 2:
        raise ValueError(f"attention must cover at least 2 positions, got {L}")
    return a[:, :, np.arange(1, L), np.arange(L - 1)].mean(axis=(0, 2))


def prefix_matching_scores(attention: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Prefix-matching score of each head (Olsson et al. 2022).

    At a query position ``i`` whose token occurred before, the score is the attention ``i`` puts
    on the positions ``j <= i`` that *follow* an earlier occurrence of token ``i``
    (``tokens[j - 1] == tokens[i]``, ``j - 1 < i``); the head's score is its mean over all such
    queries. An induction head scores near 1.

    Parameters
    ----------
    attention : array of shape (n, heads, L, L), (heads, L, L) or (L, L)
        Causal attention maps of the tokens, row = query.
    tokens : int array of shape (n, L), or (L,) for one sequence
        The tokens the model read (the ``L`` positions of the maps).

    Returns
    -------
    ndarray of shape (heads,)

    Examples
    --------
    >>> toks = np.array([4, 7, 4])           # at the second 4, the induction target is position 1
    >>> a = np.array([[1, 0, 0], [0.5, 0.5, 0], [0.1, 0.8, 0.1]])
    >>> prefix_matching_scores(a, toks)
    array([0.8])
    """
    a = _check_attention(attention)
    ids = as_int_array(tokens, "tokens", ndim=(1, 2))
    if ids.ndim == 1:
        ids = ids[None]
    n, heads, L, _ = a.shape
    if ids.shape != (n, L):
        raise ValueError(f"tokens must have shape ({n}, {L}) to match attention {a.shape}, got {ids.shape}")
    # target[b, i, j]: j >= 1, j - 1 < i, tokens[j - 1] == tokens[i]
    target = np.zeros((n, L, L), dtype=bool)
    target[:, :, 1:] = ids[:, :, None] == ids[:, None, :-1]
    target &= np.tril(np.ones((L, L), dtype=bool))[None]  # j <= i, so j - 1 < i
    queries = target.any(axis=-1)  # token i occurred before
    if not queries.any():
        raise ValueError("tokens must repeat a token somewhere (no query has an earlier occurrence of its token)")
    mass = (a * target[:, None]).sum(axis=-1)  # (n, heads, L)
    return mass.transpose(1, 0, 2)[:, queries].mean(axis=1)
