"""Builders for the chapter models, and the attention-pooling layer they share.

The text classifier is the corrected version of the article's model (section 4.1):

    token ids (batch, seq_len)
      -> Embedding                      (batch, seq_len, embed_dim)
      -> token encoder (Dense or Conv1D) (batch, seq_len, hidden_dim)   h_t
      -> AttentionPooling               context (batch, hidden_dim), weights (batch, seq_len)
      -> Dense(1, sigmoid)              P(label = 1)

with additive attention scores ``s_t = v^T tanh(W h_t + b)`` and weights
``a = softmax(s)`` taken over the time axis, padding masked out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import (CheckedTensorCall, as_int_array, check_choice, check_int, check_number, check_tensor,
                          check_tensor_mask)
from .forward import call_in_batches

import keras  # noqa: E402  (after the package __init__ has set the TF log variables)
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="xai_tutorial")
class AttentionPooling(CheckedTensorCall, keras.layers.Layer):
    """Additive attention pooling over time that returns its weights.

    ``s_t = v^T tanh(W h_t + b)``, ``a = softmax(s)`` over the time axis with padded positions
    set to weight 0, and ``context = sum_t a_t h_t``.

    Parameters
    ----------
    units : int, default 32
        Size of the scorer's hidden layer ``W``.
    seed : int, optional
        Seed of the initialisers of ``W`` and ``v``; the same seed gives the same initial layer.

    Call arguments
    --------------
    inputs : tensor of shape (batch, seq_len, features)
    mask : bool tensor of shape (batch, seq_len), optional
        True on real tokens. Padded positions get weight exactly 0.

    Returns
    -------
    (context, weights)
        ``context`` of shape (batch, features) and ``weights`` of shape (batch, seq_len),
        each row of ``weights`` summing to 1.
    """

    _tensor_args = ("inputs",)

    def __init__(self, units: int = 32, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int(units, "units", 1)
        self.seed = None if seed is None else check_int(seed, "seed", 0)

        def init(offset: int) -> keras.initializers.Initializer:
            return keras.initializers.GlorotUniform(seed=None if seed is None else seed + offset)

        self.score_dense = keras.layers.Dense(self.units, activation="tanh", name="W",
                                              kernel_initializer=init(0))
        self.score_vector = keras.layers.Dense(1, use_bias=False, name="v", kernel_initializer=init(1))

    def build(self, input_shape):
        self.score_dense.build(input_shape)
        self.score_vector.build(tuple(input_shape[:-1]) + (self.units,))
        super().build(input_shape)

    def call(self, inputs, mask=None):
        inputs = check_tensor(inputs, "inputs", 3)
        # a sequence of padding only is allowed: its weights are all 0 (the model of an empty text)
        check_tensor_mask(mask, "mask", tuple(inputs.shape[:-1]), meaning="True = real token",
                          rows_nonempty=False)
        scores = ops.squeeze(self.score_vector(self.score_dense(inputs)), axis=-1)  # (batch, seq_len)
        if mask is not None:
            mask = ops.cast(mask, "bool")
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)  # over time, not over a size-1 axis
        if mask is not None:
            weights = ops.where(mask, weights, ops.zeros_like(weights))
        context = ops.sum(weights[..., None] * inputs, axis=1)  # sum over time
        return context, weights

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "units": self.units, "seed": self.seed}


@dataclass(frozen=True)
class TextAttentionClassifier:
    """The text classifier and views of it that share its layers (and so its trained weights).

    Attributes
    ----------
    model : keras.Model
        token ids (batch, seq_len) -> P(label = 1) of shape (batch, 1). Train this one.
    attention : keras.Model
        token ids (batch, seq_len) -> attention weights (batch, seq_len).
    embed : keras.Model
        token ids (batch, seq_len) -> embeddings (batch, seq_len, embed_dim).
    head : keras.Model
        [embeddings (batch, seq_len, embed_dim), real-token mask (batch, seq_len) float]
        -> P(label = 1) of shape (batch, 1): the model from the embedding output on, for
        gradient methods, which cannot differentiate with respect to integer ids.
    """

    model: keras.Model
    attention: keras.Model
    embed: keras.Model
    head: keras.Model

    def predict_proba(self, token_ids: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """P(label = 1) for each sequence, shape (n,); calls the model directly (fast for small batches)."""
        ids = _check_ids(token_ids, self.model)
        return call_in_batches(lambda b: self.model(b, training=False), ids, batch_size)[:, 0]

    def attention_weights(self, token_ids: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Attention weights of shape (n, seq_len); each row sums to 1 over real tokens, 0 on padding."""
        ids = _check_ids(token_ids, self.model)
        return call_in_batches(lambda b: self.attention(b, training=False), ids, batch_size)


def _check_ids(token_ids: np.ndarray, model: keras.Model, name: str = "token_ids") -> np.ndarray:
    """Token ids (n, seq_len) for ``model``: integers in [0, vocab_size), as int32."""
    ids = as_int_array(token_ids, name, ndim=2)
    seq_len = model.inputs[0].shape[1]
    if ids.shape[1] != seq_len:
        raise ValueError(f"{name} must have shape (n, {seq_len}), got {ids.shape}")
    vocab_size = model.get_layer("embedding").input_dim
    return as_int_array(ids, name, low=0, high=vocab_size - 1).astype(np.int32)


def _check_clf(clf: TextAttentionClassifier, name: str = "clf") -> TextAttentionClassifier:
    """``clf`` after checking it is a :class:`TextAttentionClassifier`."""
    if not isinstance(clf, TextAttentionClassifier):
        raise TypeError(f"{name} must be a TextAttentionClassifier (models.build_text_attention_classifier), "
                        f"got {type(clf).__name__}")
    return clf


def build_text_attention_classifier(vocab_size: int, seq_len: int, *, embed_dim: int = 32,
                                    hidden_dim: int = 32, attention_units: int = 32,
                                    encoder: str = "dense", dropout: float = 0.0,
                                    seed: int = 0) -> TextAttentionClassifier:
    """Build (untrained, uncompiled) the corrected attention classifier of chapter 6.

    Parameters
    ----------
    vocab_size : int
        Number of token ids, id 0 being padding.
    seq_len : int
        Length of the padded input sequences.
    embed_dim, hidden_dim, attention_units : int, default 32
        Sizes of the embedding, the token encoder and the attention scorer.
    encoder : {"dense", "conv"}, default "dense"
        ``"dense"`` encodes each token on its own (attention sees words); ``"conv"`` mixes each
        token with its neighbours (kernel 3), so a position can carry context from others.
    dropout : float, default 0.0
        Dropout on the embeddings during training, in [0, 1).
    seed : int, default 0
        Seed of the weight initialisers: the same seed gives the same initial model.

    Returns
    -------
    TextAttentionClassifier
    """
    vocab_size = check_int(vocab_size, "vocab_size", 2)
    seq_len = check_int(seq_len, "seq_len", 1)
    embed_dim = check_int(embed_dim, "embed_dim", 1)
    hidden_dim = check_int(hidden_dim, "hidden_dim", 1)
    attention_units = check_int(attention_units, "attention_units", 1)
    check_choice(encoder, "encoder", ("dense", "conv"))
    dropout = check_number(dropout, "dropout", low=0, high=1, high_open=True)
    seed = check_int(seed, "seed", 0)
    init = keras.initializers.GlorotUniform

    embedding = keras.layers.Embedding(vocab_size, embed_dim, name="embedding",
                                       embeddings_initializer=keras.initializers.RandomUniform(
                                           -0.05, 0.05, seed=seed))
    drop = keras.layers.Dropout(dropout, seed=seed, name="dropout")
    if encoder == "dense":
        enc = keras.layers.Dense(hidden_dim, activation="tanh", name="encoder",
                                 kernel_initializer=init(seed=seed + 1))
    else:
        enc = keras.layers.Conv1D(hidden_dim, 3, padding="same", activation="tanh", name="encoder",
                                  kernel_initializer=init(seed=seed + 1))
    pool = AttentionPooling(attention_units, seed=seed + 3, name="attention_pool")
    out = keras.layers.Dense(1, activation="sigmoid", name="output",
                             kernel_initializer=init(seed=seed + 2))

    def from_embeddings(emb, mask):
        real = ops.cast(mask, emb.dtype)[..., None]
        # zero the padded positions before the encoder, so that a convolution reads nothing from
        # padding into the last real tokens (and the model is a function of the real tokens only)
        h = enc(drop(emb * real))
        context, weights = pool(h, mask=mask)
        return out(context), weights

    ids = keras.Input(shape=(seq_len,), dtype="int32", name="token_ids")
    mask = ops.not_equal(ids, 0)
    emb = embedding(ids)
    prob, weights = from_embeddings(emb, mask)
    model = keras.Model(ids, prob, name="text_attention_classifier")
    attention = keras.Model(ids, weights, name="attention_weights")
    embed = keras.Model(ids, emb, name="embed")

    emb_in = keras.Input(shape=(seq_len, embed_dim), name="embeddings")
    mask_in = keras.Input(shape=(seq_len,), name="real_token_mask")
    head_prob, _ = from_embeddings(emb_in, ops.greater(mask_in, 0.5))
    head = keras.Model([emb_in, mask_in], head_prob, name="head")
    return TextAttentionClassifier(model, attention, embed, head)


def train_text_classifier(clf: TextAttentionClassifier, train_ids: np.ndarray, train_labels: np.ndarray,
                          *, epochs: int = 10, batch_size: int = 64, learning_rate: float = 5e-3,
                          seed: int = 0, validation_split: float = 0.0) -> keras.callbacks.History:
    """Compile (Adam, binary cross-entropy) and fit the classifier; returns the Keras history.

    Parameters
    ----------
    clf : TextAttentionClassifier
    train_ids : int array of shape (n, seq_len)
    train_labels : array of shape (n,), values in {0, 1}
    epochs, batch_size : int
    learning_rate : float
    seed : int
        Seeds the shuffling between epochs.
    validation_split : float, default 0.0
        Fraction of the training data Keras keeps aside for validation, in [0, 1).
    """
    _check_clf(clf)
    ids = _check_ids(train_ids, clf.model, "train_ids")
    y = as_int_array(train_labels, "train_labels", ndim=1, low=0, high=1)
    if len(y) != len(ids):
        raise ValueError(f"train_labels must have {len(ids)} entries (one per sequence), got {len(y)}")
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    check_number(learning_rate, "learning_rate", low=0, low_open=True)
    check_number(validation_split, "validation_split", low=0, high=1, high_open=True)
    keras.utils.set_random_seed(check_int(seed, "seed", 0))
    clf.model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="binary_crossentropy",
                      metrics=["accuracy"])
    return clf.model.fit(ids, y.astype("float32"), epochs=epochs, batch_size=batch_size,
                         validation_split=validation_split, verbose=0, shuffle=True)
