"""A small text transformer with a classification token, whose attention can be read and explained.

The model of chapter 12 (Keras 3, pre-norm, as the tiny ViT of :mod:`xai_tutorial.vision`):

    token ids (batch, seq_len), 0 = padding
      -> Embedding(vocab_size, dim)                token embeddings   (batch, seq_len, dim)      [embed]
      -> prepend [CLS], add a learned position embedding             (batch, 1 + seq_len, dim)
      -> depth x block:
             h = LayerNorm(x)                                         attention input            [attention_inputs]
             x = x + MultiHeadAttention(h, h), padding keys masked    map (batch, heads, 1+n, 1+n) [attention]
             x = x + Dense(dim)(gelu(Dense(mlp_dim)(LayerNorm(x))))
      -> LayerNorm, token 0 ([CLS])                                   (batch, dim)
      -> Dense(n_classes, softmax), or Dense(1, sigmoid) for n_classes=1

Token 0 of every sequence inside the model is [CLS]; token ``1 + t`` is input token ``t``. Padded
tokens (id 0) are masked out as *keys* in every attention layer, so no information flows from
them: the output is a function of the real tokens only, and every attention row puts weight
exactly 0 on padding. ``attention`` returns the softmax weights of every head, first layer
first; ``head`` is the model from the token embeddings (and a real-token mask) to the output,
for gradient methods, which cannot differentiate with respect to integer ids.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_int_array, check_choice, check_int, check_number, check_str
from .forward import call_in_batches
from .vision import ClassTokenAndPosition, _encoder_sizes, _initialise

import keras  # noqa: E402  (after the package __init__ has set the TF log variables)
from keras import ops  # noqa: E402

__all__ = ["TextTransformer", "build_text_transformer", "train_text_transformer", "reset_weights",
           "check_token_ids", "sincos_positions"]


@dataclass(frozen=True)
class TextTransformer:
    """The text transformer and views of it that share its layers (and so its trained weights).

    Attributes
    ----------
    model : keras.Model
        token ids (batch, seq_len) -> class probabilities (batch, n_classes), or P(label = 1) of
        shape (batch, 1) for ``n_classes=1``. Train this one.
    attention : keras.Model
        token ids -> list of ``depth`` attention maps, first layer first, each of shape
        (batch, heads, 1 + seq_len, 1 + seq_len): row ``i`` (query) holds the softmax weights token
        ``i`` gives to every token; token 0 is [CLS], columns of padded tokens are 0.
    embed : keras.Model
        token ids -> token embeddings (batch, seq_len, dim), before [CLS] and positions are added.
    head : keras.Model
        [token embeddings (batch, seq_len, dim), real-token mask (batch, seq_len) float, 1 = real]
        -> the output of ``model``: the model from the embedding output on.
    head_attention : keras.Model
        The same inputs as ``head`` -> its ``depth`` attention maps. ``head`` and ``head_attention``
        share one graph, so a model of both outputs can be built from their tensors.
    attention_inputs : keras.Model
        token ids -> list of ``depth`` inputs of the attention layers (the layer-normed residual
        stream, batch, 1 + seq_len, dim), the ``x_j`` that values are computed from.
    """

    model: keras.Model
    attention: keras.Model
    embed: keras.Model
    head: keras.Model
    head_attention: keras.Model
    attention_inputs: keras.Model

    @property
    def seq_len(self) -> int:
        """Length of the (padded) input sequences, without [CLS]."""
        return int(self.model.inputs[0].shape[1])

    @property
    def vocab_size(self) -> int:
        """Number of token ids."""
        return int(self.model.get_layer("embedding").input_dim)

    @property
    def dim(self) -> int:
        """Width of the token representations."""
        return int(self.model.get_layer("embedding").output_dim)

    @property
    def depth(self) -> int:
        """Number of transformer blocks."""
        return len(self.attention.outputs)

    @property
    def heads(self) -> int:
        """Attention heads per block."""
        return int(self.attention_layers[0].num_heads)

    @property
    def n_classes(self) -> int:
        """Number of outputs: 1 (sigmoid) or the number of classes (softmax)."""
        return int(self.model.outputs[0].shape[-1])

    @property
    def attention_layers(self) -> list:
        """The ``keras.layers.MultiHeadAttention`` layer of every block, first block first."""
        return [self.model.get_layer(f"block{b}_attention") for b in range(1, len(self.attention.outputs) + 1)]

    def predict_proba(self, token_ids: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities (n, n_classes), or P(label = 1) of shape (n,) for a sigmoid model."""
        ids = check_token_ids(token_ids, self)
        out = call_in_batches(lambda b: self.model(b, training=False), ids, batch_size)
        return out[:, 0] if out.shape[1] == 1 else out

    def predict(self, token_ids: np.ndarray) -> np.ndarray:
        """Predicted labels, shape (n,)."""
        p = self.predict_proba(token_ids)
        return (p > 0.5).astype(np.int64) if p.ndim == 1 else p.argmax(axis=1)

    def attention_maps(self, token_ids: np.ndarray, batch_size: int = 1024) -> list[np.ndarray]:
        """Per-layer attention maps, a list of ``depth`` arrays (n, heads, 1 + seq_len, 1 + seq_len)."""
        ids = check_token_ids(token_ids, self)
        out = call_in_batches(lambda b: self.attention(b, training=False), ids, batch_size)
        return out if isinstance(out, list) else [out]

    def layer_inputs(self, token_ids: np.ndarray, batch_size: int = 1024) -> list[np.ndarray]:
        """Inputs of every attention layer, a list of ``depth`` arrays (n, 1 + seq_len, dim)."""
        ids = check_token_ids(token_ids, self)
        out = call_in_batches(lambda b: self.attention_inputs(b, training=False), ids, batch_size)
        return out if isinstance(out, list) else [out]


def check_token_ids(token_ids: np.ndarray, tr: TextTransformer, name: str = "token_ids") -> np.ndarray:
    """Token ids (n, seq_len) for ``tr``: integers in [0, vocab_size), as int32.

    Raises
    ------
    TypeError
        If ``tr`` is not a :class:`TextTransformer` or the ids are not integers.
    ValueError
        If the shape is not (n, seq_len) or an id is out of range.
    """
    if not isinstance(tr, TextTransformer):
        raise TypeError(f"tr (the model) must be a TextTransformer (transformer.build_text_transformer), got "
                        f"{type(tr).__name__}")
    check_str(name, "name")
    ids = as_int_array(token_ids, name, ndim=2)
    if ids.shape[1] != tr.seq_len:
        raise ValueError(f"{name} must have shape (n, {tr.seq_len}), got {ids.shape}")
    return as_int_array(ids, name, low=0, high=tr.vocab_size - 1).astype(np.int32)


def sincos_positions(n: int, dim: int, *, max_period: float = 100.0) -> np.ndarray:
    """One-dimensional sine-cosine codes of positions ``0 .. n - 1`` (Vaswani et al. 2017).

    With ``q = dim // 2`` frequencies ``w_k = max_period ** (-k / q)``, position ``t`` gets
    ``[sin(t w), cos(t w)]`` (zero-padded to ``dim`` when ``dim`` is odd). The code of ``t + 1``
    is a fixed rotation of the code of ``t``, which makes "attend to the previous token" easy to learn.

    Returns
    -------
    ndarray of shape (n, dim)
    """
    n = check_int(n, "n", 1)
    dim = check_int(dim, "dim", 2)
    max_period = check_number(max_period, "max_period", low=1, low_open=True)
    q = dim // 2
    angles = np.arange(n)[:, None] * float(max_period) ** (-np.arange(q) / q)
    code = np.concatenate([np.sin(angles), np.cos(angles)], axis=1)
    return np.pad(code, ((0, 0), (0, dim - 2 * q)))


def build_text_transformer(vocab_size: int, seq_len: int, *, n_classes: int = 2, dim: int = 32,
                           depth: int = 2, heads: int = 2, mlp_dim: int | None = None,
                           position_init: str = "sincos", seed: int = 0) -> TextTransformer:
    """Build (untrained, uncompiled) a small pre-norm text transformer with a [CLS] token.

    Parameters
    ----------
    vocab_size : int
        Number of token ids, id 0 being padding; at least 2.
    seq_len : int
        Length of the padded input sequences; at least 1.
    n_classes : int, default 2
        Number of classes: a softmax over ``n_classes >= 2`` outputs, or ``1`` for one sigmoid
        output (P(label = 1)).
    dim : int, default 32
        Width of the token representations; must be divisible by ``heads``.
    depth : int, default 2
        Number of transformer blocks, at least 1.
    heads : int, default 2
        Attention heads per block, each of width ``dim // heads``.
    mlp_dim : int, optional
        Hidden width of each block's MLP; default ``2 * dim``.
    position_init : {"sincos", "random"}, default "sincos"
        Start of the learned position embedding: the sine-cosine code of each position
        (:func:`sincos_positions`; needs ``dim >= 2``), or small random values (std 0.02). Either
        way it is trained.
    seed : int, default 0
        Seed of the initial weights: the same seed gives the same initial model.

    Returns
    -------
    TextTransformer

    Raises
    ------
    ValueError
        If a size is out of range or ``dim`` is not divisible by ``heads``.
    """
    vocab_size = check_int(vocab_size, "vocab_size", 2)
    seq_len = check_int(seq_len, "seq_len", 1)
    n_classes = check_int(n_classes, "n_classes", 1)
    dim, depth, heads, mlp_dim = _encoder_sizes(dim, depth, heads, mlp_dim)
    check_choice(position_init, "position_init", ("sincos", "random"))
    if position_init == "sincos" and dim < 2:
        raise ValueError(f"position_init='sincos' needs dim >= 2, got dim={dim}; use position_init='random'")
    seed = check_int(seed, "seed", 0)
    zeros = "zeros"  # placeholders: _initialise draws the real initial values below

    embedding = keras.layers.Embedding(vocab_size, dim, embeddings_initializer=zeros, name="embedding")
    cls_pos = ClassTokenAndPosition(seq_len, dim, name="cls_and_position")
    blocks = []
    for b in range(1, depth + 1):
        blocks.append((
            keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{b}_norm1"),
            keras.layers.MultiHeadAttention(heads, dim // heads, kernel_initializer=zeros,
                                            name=f"block{b}_attention"),
            keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{b}_norm2"),
            keras.layers.Dense(mlp_dim, activation="gelu", kernel_initializer=zeros, name=f"block{b}_mlp1"),
            keras.layers.Dense(dim, kernel_initializer=zeros, name=f"block{b}_mlp2"),
        ))
    final_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")
    if n_classes == 1:
        out = keras.layers.Dense(1, activation="sigmoid", kernel_initializer=zeros, name="classifier")
    else:
        out = keras.layers.Dense(n_classes, activation="softmax", kernel_initializer=zeros, name="classifier")

    def from_embeddings(emb, real):
        """Output, attention maps and attention inputs from token embeddings and a bool real-token mask."""
        x = cls_pos(emb)
        # keys: [CLS] is always real; every query row gets the same key mask
        keys = ops.concatenate([ops.ones_like(real[:, :1]), real], axis=1)  # (batch, 1 + n)
        mask = ops.repeat(ops.expand_dims(keys, 1), 1 + seq_len, axis=1)  # (batch, 1 + n, 1 + n)
        maps, inputs = [], []
        for norm1, mha, norm2, mlp1, mlp2 in blocks:
            h = norm1(x)
            inputs.append(h)
            a, w = mha(h, h, attention_mask=mask, return_attention_scores=True)
            maps.append(w)
            x = x + a
            x = x + mlp2(mlp1(norm2(x)))
        cls = final_norm(x)[:, 0]
        return out(cls), maps, inputs

    ids = keras.Input(shape=(seq_len,), dtype="int32", name="token_ids")
    emb = embedding(ids)
    prob, maps, inputs = from_embeddings(emb, ops.not_equal(ids, 0))
    model = keras.Model(ids, prob, name="text_transformer")
    attention = keras.Model(ids, maps, name="text_transformer_attention")
    embed = keras.Model(ids, emb, name="text_transformer_embed")
    attention_inputs = keras.Model(ids, inputs, name="text_transformer_attention_inputs")

    emb_in = keras.Input(shape=(seq_len, dim), name="embeddings")
    mask_in = keras.Input(shape=(seq_len,), name="real_token_mask")
    head_prob, head_maps, _ = from_embeddings(emb_in, ops.greater(mask_in, 0.5))
    head = keras.Model([emb_in, mask_in], head_prob, name="text_transformer_head")
    head_attention = keras.Model([emb_in, mask_in], head_maps, name="text_transformer_head_attention")
    _initialise(model, seed, sincos_positions(seq_len, dim) if position_init == "sincos" else None)
    return TextTransformer(model, attention, embed, head, head_attention, attention_inputs)


def reset_weights(tr: TextTransformer, seed: int, *, position_init: str = "sincos") -> TextTransformer:
    """Give ``tr`` the initial weights of ``build_text_transformer(..., seed=seed)``, in place.

    The weights are exactly those a new model of the same sizes and ``seed`` would start from.
    Reusing one model over several training seeds skips the tracing of a new training step
    (several seconds on a laptop CPU, more than the training itself): :func:`train_text_transformer`
    keeps the compiled step of a model it has trained before.

    Parameters
    ----------
    tr : TextTransformer
    seed : int
        Seed of the new initial weights.
    position_init : {"sincos", "random"}, default "sincos"
        As in :func:`build_text_transformer`.

    Returns
    -------
    TextTransformer
        ``tr`` itself (its weights changed).
    """
    if not isinstance(tr, TextTransformer):
        raise TypeError(f"tr must be a TextTransformer (transformer.build_text_transformer), got {type(tr).__name__}")
    seed = check_int(seed, "seed", 0)
    check_choice(position_init, "position_init", ("sincos", "random"))
    if position_init == "sincos" and tr.dim < 2:
        raise ValueError(f"position_init='sincos' needs dim >= 2, got dim={tr.dim}; use position_init='random'")
    _initialise(tr.model, seed, sincos_positions(tr.seq_len, tr.dim) if position_init == "sincos" else None)
    return tr


def _fresh_adam(model: keras.Model, learning_rate: float, loss: str) -> bool:
    """Reset the optimizer of a model compiled as this module compiles; False if it must be compiled.

    A fresh ``Adam(learning_rate)`` has zero moments and zero iterations. When the model is
    already compiled with a default Adam (any learning rate), this loss and accuracy, setting the
    optimizer's state to that is the same as compiling anew, without tracing a new training step.
    """
    opt = getattr(model, "optimizer", None)
    if not (getattr(model, "compiled", False) and type(opt) is keras.optimizers.Adam and opt.built):
        return False
    config = model.get_compile_config()
    if config.get("loss") != loss or config.get("metrics") != ["accuracy"] or config.get("jit_compile"):
        return False
    ignore = ("name", "learning_rate")
    default = {k: v for k, v in keras.optimizers.Adam().get_config().items() if k not in ignore}
    if {k: v for k, v in opt.get_config().items() if k not in ignore} != default:
        return False
    for v in opt.variables:
        v.assign(ops.zeros(v.shape, v.dtype))
    opt.learning_rate = learning_rate
    return True


def train_text_transformer(tr: TextTransformer, token_ids: np.ndarray, labels: np.ndarray, *,
                           epochs: int = 6, batch_size: int = 64, learning_rate: float = 3e-3,
                           seed: int = 0, validation_split: float = 0.0) -> keras.callbacks.History:
    """Fit the transformer with a fresh Adam optimizer and cross-entropy; returns the Keras history.

    Every call starts a new optimizer (zero moments); the model's weights go on from where they
    are (call :func:`reset_weights` first to train another seed from scratch). A model trained by
    this function before keeps its compiled training step, so a second call traces nothing.

    Parameters
    ----------
    tr : TextTransformer
    token_ids : int array of shape (n, seq_len)
    labels : int array of shape (n,)
        Class labels in [0, n_classes) (in {0, 1} for a sigmoid model).
    epochs : int, default 6
        The defaults are the recipe of chapter 12: 6 epochs on 2,250 planted-negation sentences
        (75 % of ``negation_data.make_negation_text()``) reach test accuracies of 0.96 to 1.00
        over seeds 0-4, in about 6 s of CPU per seed once the training step is traced (about 11 s
        for the first, measured on a shared, loaded 2-core machine).
    batch_size : int, default 64
    learning_rate : float, default 3e-3
        Adam's learning rate, > 0.
    seed : int, default 0
        Seeds the shuffling between epochs (through Keras' global seed).
    validation_split : float, default 0.0
        Fraction of the training data Keras keeps aside for validation, in [0, 1).
    """
    ids = check_token_ids(token_ids, tr)
    n_classes = tr.n_classes
    y = as_int_array(labels, "labels", ndim=1, low=0, high=max(n_classes - 1, 1))
    if len(y) != len(ids):
        raise ValueError(f"labels must have {len(ids)} entries (one per sequence), got {len(y)}")
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    learning_rate = check_number(learning_rate, "learning_rate", low=0, low_open=True)
    validation_split = check_number(validation_split, "validation_split", low=0, high=1, high_open=True)
    keras.utils.set_random_seed(check_int(seed, "seed", 0))
    loss = "binary_crossentropy" if n_classes == 1 else "sparse_categorical_crossentropy"
    if not _fresh_adam(tr.model, learning_rate, loss):
        tr.model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])
        # variables made before the first call: the training step is traced once, not twice
        tr.model.optimizer.build(tr.model.trainable_variables)
    target = y.astype("float32") if n_classes == 1 else y
    return tr.model.fit(ids, target, epochs=epochs, batch_size=batch_size,
                        validation_split=validation_split, verbose=0, shuffle=True)
