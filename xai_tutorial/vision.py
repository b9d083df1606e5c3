"""A tiny vision transformer (Dosovitskiy et al. 2021) whose attention maps can be read out.

The model of chapter 8 classifies images given as sequences of flattened patches:

    patches (batch, n_patches, patch_dim)
      -> Dense(dim)                            patch embeddings        (batch, n_patches, dim)
      -> prepend [CLS], add position embedding                         (batch, 1 + n_patches, dim)
         (learned; initialised with 2-D sine-cosine codes of the patch's row and column)
      -> depth x pre-norm transformer block:
             x = x + MultiHeadAttention(LayerNorm(x))   attention map  (batch, heads, 1 + n, 1 + n)
             x = x + MLP(LayerNorm(x))
      -> LayerNorm, take the [CLS] token                               (batch, dim)
      -> Dense(n_classes, softmax)                                     (batch, n_classes)

Token 0 of every sequence is the [CLS] token; token ``1 + j`` is patch ``j`` (row-major, as
:func:`xai_tutorial.data.image_to_patches` orders them).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import (CheckedTensorCall, as_float_array, as_int_array, check_choice, check_int, check_number,
                          check_tensor)
from .forward import call_in_batches

import keras  # noqa: E402  (after the package __init__ has set the TF log variables)
from keras import ops  # noqa: E402


@keras.saving.register_keras_serializable(package="xai_tutorial")
class ClassTokenAndPosition(CheckedTensorCall, keras.layers.Layer):
    """Prepend a learned [CLS] token and add a learned position embedding.

    Call arguments
    --------------
    inputs : tensor of shape (batch, n_patches, dim)
        Patch embeddings.

    Returns
    -------
    tensor of shape (batch, 1 + n_patches, dim)
        ``[cls, e_1, ..., e_n] + position``; position ``0`` belongs to [CLS].
    """

    _tensor_args = ("inputs",)

    def __init__(self, n_patches: int, dim: int, **kwargs):
        super().__init__(**kwargs)
        self.n_patches = check_int(n_patches, "n_patches", 1)
        self.dim = check_int(dim, "dim", 1)

    def build(self, input_shape):
        self.cls_token = self.add_weight(shape=(1, 1, self.dim), initializer="zeros", name="cls_token")
        self.position = self.add_weight(shape=(1, 1 + self.n_patches, self.dim), initializer="zeros",
                                        name="position")
        super().build(input_shape)

    def call(self, inputs):
        inputs = check_tensor(inputs, "inputs", 3)
        want = (self.n_patches, self.dim)
        got = tuple(inputs.shape[1:])
        if len(got) != 2 or any(g is not None and g != w for g, w in zip(got, want)):
            raise ValueError(f"inputs must have shape (batch, n_patches, dim) = (batch, {self.n_patches}, "
                             f"{self.dim}), got {tuple(inputs.shape)}")
        batch = ops.shape(inputs)[0]
        cls = ops.broadcast_to(ops.cast(self.cls_token, inputs.dtype), (batch, 1, self.dim))
        return ops.concatenate([cls, inputs], axis=1) + ops.cast(self.position, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1 + self.n_patches, self.dim)

    def get_config(self):
        return {**super().get_config(), "n_patches": self.n_patches, "dim": self.dim}


@dataclass(frozen=True)
class TinyViT:
    """The tiny ViT and a view of it that shares its layers (and so its trained weights).

    Attributes
    ----------
    model : keras.Model
        patches (batch, n_patches, patch_dim) -> class probabilities (batch, n_classes). Train this one.
    attention : keras.Model
        patches (batch, n_patches, patch_dim) -> list of ``depth`` attention maps, first layer
        first, each of shape (batch, heads, 1 + n_patches, 1 + n_patches): row ``i`` (query) holds
        the softmax weights token ``i`` gives to every token; token 0 is [CLS].
    """

    model: keras.Model
    attention: keras.Model

    @property
    def n_patches(self) -> int:
        """Number of patches per image."""
        return int(self.model.inputs[0].shape[1])

    @property
    def patch_dim(self) -> int:
        """Number of values per patch."""
        return int(self.model.inputs[0].shape[2])

    @property
    def depth(self) -> int:
        """Number of transformer blocks."""
        return len(self.attention.outputs)

    def predict_proba(self, patches: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities of shape (n, n_classes); calls the model directly (fast for small batches)."""
        x = check_patches(patches, self.n_patches, self.patch_dim)
        return call_in_batches(lambda b: self.model(b, training=False), x, batch_size)

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """Predicted classes, shape (n,)."""
        return self.predict_proba(patches).argmax(axis=1)

    def attention_maps(self, patches: np.ndarray, batch_size: int = 1024) -> list[np.ndarray]:
        """Per-layer attention maps, a list of ``depth`` arrays of shape (n, heads, 1 + n_patches, 1 + n_patches)."""
        x = check_patches(patches, self.n_patches, self.patch_dim)
        out = call_in_batches(lambda b: self.attention(b, training=False), x, batch_size)
        return out if isinstance(out, list) else [out]


def check_patches(patches: np.ndarray, n_patches: int, patch_dim: int, name: str = "patches") -> np.ndarray:
    """Validate a batch of patch sequences; returns it as float32 of shape (n, n_patches, patch_dim).

    ``name`` is the argument's name in the messages.

    Raises
    ------
    ValueError
        If the array is not 3-D with the model's ``(n_patches, patch_dim)``, or not finite.
    """
    n_patches = check_int(n_patches, "n_patches", 1)
    patch_dim = check_int(patch_dim, "patch_dim", 1)
    x = as_float_array(patches, name)
    if x.ndim != 3 or x.shape[1:] != (n_patches, patch_dim):
        raise ValueError(f"{name} must have shape (batch, {n_patches}, {patch_dim}), got {x.shape}")
    return x.astype(np.float32)


def sincos_position_embedding(grid: int, dim: int, *, max_period: float = 10.0) -> np.ndarray:
    """Two-dimensional sine-cosine codes of the patches of a ``grid x grid`` image.

    Patch ``j`` sits at row ``r = j // grid`` and column ``c = j % grid``. With ``q = dim // 4``
    frequencies ``w_k = max_period ** (-k / q)``, its code is
    ``[sin(r w), cos(r w), sin(c w), cos(c w)]``, so neighbouring patches get similar codes.

    Parameters
    ----------
    grid : int
        Patches per side of the image.
    dim : int
        Length of a code; must be divisible by 4.
    max_period : float, default 10.0
        Sets the range of frequencies: ``w_k`` falls from 1 towards ``1 / max_period``.

    Returns
    -------
    ndarray of shape (grid * grid, dim)
    """
    grid = check_int(grid, "grid", 1)
    dim = check_int(dim, "dim", 4)
    if dim % 4:
        raise ValueError(f"dim must be divisible by 4 for a 2-D sine-cosine code, got {dim}")
    max_period = check_number(max_period, "max_period", low=1, low_open=True)
    q = dim // 4
    freqs = float(max_period) ** (-np.arange(q) / q)
    rows, cols = np.divmod(np.arange(grid * grid), grid)
    r, c = rows[:, None] * freqs, cols[:, None] * freqs
    return np.concatenate([np.sin(r), np.cos(r), np.sin(c), np.cos(c)], axis=1)


def _initialise(model: keras.Model, seed: int, position: np.ndarray | None = None) -> None:
    """Draw every weight of ``model`` from seeded Keras initializers, one seed per weight.

    Keras' ``MultiHeadAttention`` clones its initializer for the query, key and value
    projections; an int-seeded initializer would then give ``W_Q = W_K = W_V`` at the start.
    Seeding each weight on its own keeps the model deterministic without that symmetry and
    without touching any global random state. ``position``, of shape (n_patches, dim) (or
    (seq_len, dim) for :mod:`xai_tutorial.transformer`, which shares this function), if given, is
    the initial position embedding of the patches or tokens.
    """
    for i, w in enumerate(model.weights):
        name = w.path.split("/")[-1]
        if name in ("bias", "beta"):
            value = np.zeros(w.shape)
        elif name == "gamma":
            value = np.ones(w.shape)
        elif name == "position" and position is not None:  # [CLS] gets code 0
            value = np.concatenate([np.zeros((1, position.shape[1])), position])[None]
        elif name in ("cls_token", "position"):
            value = keras.initializers.TruncatedNormal(stddev=0.02, seed=seed * 1009 + i)(w.shape)
        elif name == "embeddings":
            # token embeddings (the text transformer): unit scale, like the sine-cosine position
            # codes, so that neither drowns the other at the start
            value = keras.initializers.RandomNormal(stddev=1.0, seed=seed * 1009 + i)(w.shape)
        elif name == "kernel":
            value = keras.initializers.GlorotUniform(seed=seed * 1009 + i)(w.shape)
        else:  # not a weight of ours (none today): keep what Keras made
            continue
        w.assign(ops.cast(value, w.dtype))


def _encoder_sizes(dim: int, depth: int, heads: int, mlp_dim: int | None) -> tuple[int, int, int, int]:
    """Check the sizes of a transformer encoder (this ViT's, or the text transformer's); ``mlp_dim`` None is 2 dim."""
    dim = check_int(dim, "dim", 1)
    depth = check_int(depth, "depth", 1)
    heads = check_int(heads, "heads", 1)
    if dim % heads:
        raise ValueError(f"dim must be divisible by heads (each head gets dim // heads features), "
                         f"got dim={dim} and heads={heads}")
    return dim, depth, heads, 2 * dim if mlp_dim is None else check_int(mlp_dim, "mlp_dim", 1)


def build_tiny_vit(n_patches: int, patch_dim: int, n_classes: int, *, dim: int = 32, depth: int = 2,
                   heads: int = 4, mlp_dim: int | None = None, dropout: float = 0.0,
                   position_init: str = "sincos", seed: int = 0) -> TinyViT:
    """Build (untrained, uncompiled) a tiny pre-norm vision transformer.

    Parameters
    ----------
    n_patches : int
        Patches per image (16 for 8x8 digits in 2x2 patches).
    patch_dim : int
        Values per patch (4 for 2x2 patches).
    n_classes : int
        Number of classes, at least 2.
    dim : int, default 32
        Width of the token embeddings; must be divisible by ``heads``.
    depth : int, default 2
        Number of transformer blocks, at least 1.
    heads : int, default 4
        Attention heads per block; each has ``key_dim = dim // heads``.
    mlp_dim : int, optional
        Hidden width of each block's MLP; default ``2 * dim``.
    dropout : float, default 0.0
        Dropout rate, in [0, 1), on the attention output and the MLP output of each block during
        training (the attention maps read out are never dropped).
    position_init : {"sincos", "random"}, default "sincos"
        Start of the learned position embedding: the 2-D sine-cosine code of each patch's row
        and column (:func:`sincos_position_embedding`; needs a square number of patches and
        ``dim`` divisible by 4), or small random values (std 0.02). Either way it is trained.
    seed : int, default 0
        Seed of the initial weights: the same seed gives the same initial model.

    Returns
    -------
    TinyViT

    Raises
    ------
    ValueError
        If a size is out of range or ``dim`` is not divisible by ``heads``.
    """
    n_patches = check_int(n_patches, "n_patches", 1)
    patch_dim = check_int(patch_dim, "patch_dim", 1)
    n_classes = check_int(n_classes, "n_classes", 2)
    dim, depth, heads, mlp_dim = _encoder_sizes(dim, depth, heads, mlp_dim)
    dropout = check_number(dropout, "dropout", low=0, high=1, high_open=True)
    check_choice(position_init, "position_init", ("sincos", "random"))
    position = None
    if position_init == "sincos":
        grid = int(round(np.sqrt(n_patches)))
        if grid * grid != n_patches or dim % 4:
            raise ValueError("position_init='sincos' needs a square number of patches and dim divisible "
                             f"by 4, got n_patches={n_patches} and dim={dim}; use position_init='random'")
        position = sincos_position_embedding(grid, dim)
    seed = check_int(seed, "seed", 0)
    zeros = "zeros"  # placeholders: _initialise draws the real initial values below

    inputs = keras.Input(shape=(n_patches, patch_dim), name="patches")
    x = keras.layers.Dense(dim, kernel_initializer=zeros, name="patch_embedding")(inputs)
    x = ClassTokenAndPosition(n_patches, dim, name="cls_and_position")(x)
    maps = []
    for b in range(1, depth + 1):
        h = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{b}_norm1")(x)
        mha = keras.layers.MultiHeadAttention(heads, dim // heads, kernel_initializer=zeros,
                                              name=f"block{b}_attention")
        h, w = mha(h, h, return_attention_scores=True)
        maps.append(w)
        h = keras.layers.Dropout(dropout, seed=seed + b, name=f"block{b}_dropout1")(h)
        x = keras.layers.Add(name=f"block{b}_residual1")([x, h])
        h = keras.layers.LayerNormalization(epsilon=1e-6, name=f"block{b}_norm2")(x)
        h = keras.layers.Dense(mlp_dim, activation="gelu", kernel_initializer=zeros,
                               name=f"block{b}_mlp1")(h)
        h = keras.layers.Dense(dim, kernel_initializer=zeros, name=f"block{b}_mlp2")(h)
        h = keras.layers.Dropout(dropout, seed=seed + 100 + b, name=f"block{b}_dropout2")(h)
        x = keras.layers.Add(name=f"block{b}_residual2")([x, h])
    x = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    cls = x[:, 0]
    probs = keras.layers.Dense(n_classes, activation="softmax", kernel_initializer=zeros,
                               name="classifier")(cls)
    model = keras.Model(inputs, probs, name="tiny_vit")
    attention = keras.Model(inputs, maps, name="tiny_vit_attention")
    _initialise(model, seed, position)
    return TinyViT(model, attention)


def train_tiny_vit(vit: TinyViT, patches: np.ndarray, labels: np.ndarray, *, epochs: int = 15,
                   batch_size: int = 32, learning_rate: float = 3e-3, weight_decay: float = 0.05,
                   label_smoothing: float = 0.1, seed: int = 0,
                   validation_split: float = 0.0) -> keras.callbacks.History:
    """Compile (AdamW, cross-entropy) and fit the model; returns the Keras history.

    The learning rate decays along a cosine from ``learning_rate`` to 0 over the run. The
    defaults are the recipe of chapter 8: 15 epochs on the 1,347 training digits reach about
    0.97 test accuracy.

    Parameters
    ----------
    vit : TinyViT
    patches : array of shape (n, n_patches, patch_dim)
    labels : int array of shape (n,), values in [0, n_classes)
    epochs : int, default 15
    batch_size : int, default 32
    learning_rate : float, default 3e-3
        Peak learning rate.
    weight_decay : float, default 0.05
        Decoupled weight decay of AdamW (0 gives plain Adam), at least 0.
    label_smoothing : float, default 0.1
        In [0, 1): the training targets are ``(1 - label_smoothing) * one_hot + label_smoothing / n_classes``,
        which keeps the model from becoming over-confident on a small training set.
    seed : int, default 0
        Seeds the shuffling between epochs (through Keras' global seed).
    validation_split : float, default 0.0
        Fraction of the training data Keras keeps aside for validation, in [0, 1).
    """
    if not isinstance(vit, TinyViT):
        raise TypeError(f"vit must be a TinyViT, got {type(vit).__name__}")
    x = check_patches(patches, vit.n_patches, vit.patch_dim)
    n_classes = int(vit.model.outputs[0].shape[-1])
    y = as_int_array(labels, "labels", ndim=1, low=0, high=n_classes - 1)
    if len(y) != len(x):
        raise ValueError(f"labels must have {len(x)} entries (one per image), got {len(y)}")
    epochs = check_int(epochs, "epochs", 1)
    batch_size = check_int(batch_size, "batch_size", 1)
    learning_rate = check_number(learning_rate, "learning_rate", low=0, low_open=True)
    validation_split = check_number(validation_split, "validation_split", low=0, high=1, high_open=True)
    weight_decay = check_number(weight_decay, "weight_decay", low=0)
    label_smoothing = check_number(label_smoothing, "label_smoothing", low=0, high=1, high_open=True)
    keras.utils.set_random_seed(check_int(seed, "seed", 0))
    n_train = int(round(len(x) * (1.0 - validation_split)))
    steps = epochs * max(1, -(-n_train // batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(float(learning_rate), steps)
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=float(weight_decay))
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=float(label_smoothing))
    vit.model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    targets = np.eye(n_classes, dtype="float32")[y]
    return vit.model.fit(x, targets, epochs=epochs, batch_size=batch_size,
                         validation_split=validation_split, verbose=0, shuffle=True)
