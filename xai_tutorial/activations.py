"""Deep visualization: look inside a Keras model at what its layers compute.

- :func:`layer_activations` returns the outputs of named intermediate layers for some inputs.
- :func:`weights_as_images` reshapes first-layer weights into images (what each unit looks for).
- :func:`top_activating_examples` finds the inputs that excite each unit most.
- :func:`maximize_activation` synthesises an input that excites a unit (activation maximization,
  Erhan et al. 2009; Simonyan et al. 2014; Yosinski et al. 2015) by gradient ascent.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._validation import (as_float_array, as_int_array, check_bounds, check_int, check_keras_model, check_number,
                          check_sequence, check_str)

__all__ = ["layer_activations", "weights_as_images", "top_activating_examples",
           "maximize_activation", "ActivationMaximization"]


def _symbolic_layer_outputs(model, layer_names: Sequence[str], arg: str = "layer_names"):
    """The symbolic inputs of ``model`` and the outputs of the named layers (``arg``: the argument that named them)."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError("model has no symbolic inputs: build it with keras.Input (a Sequential model "
                         "starting with keras.Input, or a functional model)")
    available = [layer.name for layer in model.layers]
    outputs = []
    for name in layer_names:
        if not isinstance(name, str):
            raise TypeError(f"{arg} must name layers by their str names, got {type(name).__name__}")
        if name not in available:
            raise ValueError(f"{arg}: model has no layer named {name!r}; its layers are {available}")
        outputs.append(model.get_layer(name).output)
    return inputs, outputs


def layer_activations(model, x: np.ndarray | Sequence[np.ndarray], layer_names: Sequence[str] | None = None,
                      *, batch_size: int = 1024) -> dict[str, np.ndarray]:
    """Outputs of intermediate layers of a Keras model, by layer name.

    Parameters
    ----------
    model : keras.Model
        A functional model, or a Sequential model that starts with ``keras.Input``.
    x : array of shape (n, ...) or list of such arrays (one per model input)
        Inputs, as the model takes them.
    layer_names : sequence of str, optional
        Layers to read; default every layer except input layers, in model order.
    batch_size : int, default 1024
        Largest batch sent through the model at once.

    Returns
    -------
    dict mapping each layer name to an ndarray of shape (n, ...) (float64), in the order asked
    """
    import keras

    model = check_keras_model(model)
    batch_size = check_int(batch_size, "batch_size", 1)
    if layer_names is None:
        layer_names = [layer.name for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    elif isinstance(layer_names, str):
        layer_names = [layer_names]
    elif not isinstance(layer_names, (list, tuple)):
        raise TypeError(f"layer_names must be a layer name or a list of them, got {type(layer_names).__name__}")
    layer_names = list(dict.fromkeys(layer_names))
    if not layer_names:
        raise ValueError("layer_names must name at least one layer")
    inputs, outputs = _symbolic_layer_outputs(model, layer_names)
    extractor = keras.Model(inputs=inputs[0] if len(inputs) == 1 else inputs, outputs=outputs)

    xs = _check_model_inputs(x, inputs)
    n = xs[0].shape[0]
    chunks: list[list[np.ndarray]] = [[] for _ in layer_names]
    for start in range(0, n, batch_size):
        part = [a[start:start + batch_size] for a in xs]
        out = extractor(part if len(part) > 1 else part[0], training=False)
        out = out if isinstance(out, (list, tuple)) else [out]
        for store, o in zip(chunks, out):
            store.append(np.asarray(o, dtype=np.float64))
    return {name: np.concatenate(c) for name, c in zip(layer_names, chunks)}


def _check_model_inputs(x, inputs) -> list[np.ndarray]:
    """``x`` (one array, or a list with one array per model input) checked against the model's inputs."""
    parts = list(x) if isinstance(x, (list, tuple)) else [x]
    if len(parts) != len(inputs):
        raise ValueError(f"x: model takes {len(inputs)} input(s), got {len(parts)}")
    xs = []
    for i, (a, spec) in enumerate(zip(parts, inputs)):
        name = "x" if len(parts) == 1 else f"x[{i}]"
        if a is None or isinstance(a, (str, bytes, dict)):
            raise TypeError(f"{name} must be an array of inputs, got {type(a).__name__}")
        a = np.asarray(a)
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise TypeError(f"{name} must hold numbers, got dtype {a.dtype}")
        if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be finite, got {int(np.sum(~np.isfinite(a)))} NaN or infinite value(s)")
        want = tuple(spec.shape[1:])
        if a.ndim != 1 + len(want) or any(w is not None and g != w for g, w in zip(a.shape[1:], want)):
            shape = ", ".join("?" if w is None else str(w) for w in want)
            raise ValueError(f"{name} must have shape (n, {shape}) for this model (with the same batch size in "
                             f"every input), got {a.shape}")
        xs.append(a)
    if any(a.shape[0] != xs[0].shape[0] for a in xs):
        raise ValueError(f"x: every input must have the same batch size as its first dimension, got shapes "
                         f"{[a.shape for a in xs]}")
    return xs


def weights_as_images(kernel: np.ndarray, image_shape: tuple[int, int] | None = None) -> np.ndarray:
    """First-layer weights as one image per unit: the input pattern each unit responds to most.

    Parameters
    ----------
    kernel : array of shape (n_inputs, n_units) or (kh, kw, 1, n_filters)
        A Dense kernel on flattened images (``n_inputs = H * W``) or a Conv2D kernel on
        one-channel images.
    image_shape : (H, W), optional
        Shape of the input images; required for a Dense kernel.

    Returns
    -------
    ndarray of shape (n_units, H, W) or (n_filters, kh, kw)
    """
    k = as_float_array(kernel, "kernel", ndim=(2, 4))
    if k.ndim == 4:
        if k.shape[2] != 1:
            raise ValueError(f"a Conv2D kernel must have one input channel, got shape {k.shape}")
        return np.transpose(k[:, :, 0, :], (2, 0, 1))
    if image_shape is None:
        raise ValueError("image_shape (H, W) is required for a Dense kernel")
    h, w = (check_int(v, "image_shape", 1) for v in check_sequence(image_shape, "image_shape", 2))
    if h * w != k.shape[0]:
        raise ValueError(f"kernel has {k.shape[0]} inputs, which is not H * W = {h * w} for image_shape "
                         f"{(h, w)}")
    return k.T.reshape(k.shape[1], h, w)


def top_activating_examples(activations: np.ndarray, k: int = 5) -> np.ndarray:
    """Indices of the ``k`` inputs that activate each unit most, strongest first.

    Parameters
    ----------
    activations : array of shape (n_inputs, n_units)
    k : int, default 5
        Between 1 and n_inputs.

    Returns
    -------
    int ndarray of shape (n_units, k)
    """
    a = as_float_array(activations, "activations", ndim=2, nonempty=True)
    k = check_int(k, "k", 1, a.shape[0])
    return np.argsort(-a, axis=0, kind="stable")[:k].T


@dataclass(frozen=True)
class ActivationMaximization:
    """Result of :func:`maximize_activation`.

    Attributes
    ----------
    inputs : ndarray of shape (batch, ...)
        The synthesised inputs.
    history : ndarray of shape (steps + 1, batch)
        The maximised unit's activation before each step and after the last.
    """

    inputs: np.ndarray
    history: np.ndarray


def maximize_activation(model, units: int | Sequence[int] | np.ndarray, start: np.ndarray, *,
                        layer_name: str | None = None, steps: int = 200, learning_rate: float = 0.1,
                        l2: float = 0.0, bounds: tuple[float, float] | None = None) -> ActivationMaximization:
    """Synthesise inputs that maximise one unit each, by projected gradient ascent.

    Each step moves ``x`` along the gradient of ``a_unit(x) - l2 * ||x||**2`` and clips it to
    ``bounds``. For a layer with spatial axes, ``a_unit`` is the unit's (channel's) mean over them.

    Parameters
    ----------
    model : keras.Model
        A model with one input; built with ``keras.Input`` when ``layer_name`` is given.
    units : int or int array of shape (batch,)
        Unit (last-axis index) of the layer to maximise, one per starting input.
    start : array of shape (batch, ...)
        Starting inputs (e.g. zeros, or the mean image).
    layer_name : str, optional
        Layer whose unit is maximised; default the model output.
    steps : int, default 200
    learning_rate : float, default 0.1
    l2 : float, default 0.0
        Weight of the L2 penalty that keeps the input small (a simple natural-image prior).
    bounds : (low, high), optional
        Valid range of every input value (e.g. (0, 1) for pixels).

    Returns
    -------
    ActivationMaximization
    """
    import keras
    import tensorflow as tf

    model = check_keras_model(model)
    layer_name = check_str(layer_name, "layer_name", optional=True)
    x0 = as_float_array(start, "start")
    if x0.ndim < 2:
        raise ValueError(f"start must have a batch dimension, shape (batch, ...), got shape {x0.shape}")
    batch = x0.shape[0]
    u = as_int_array(np.broadcast_to(units, (batch,)) if np.ndim(units) == 0 else units, "units", ndim=1)
    if u.shape[0] != batch:
        raise ValueError(f"units must be an int or have one entry per start input ({batch}), got {u.shape[0]}")
    steps = check_int(steps, "steps", 1)
    learning_rate = check_number(learning_rate, "learning_rate", low=0)
    l2 = check_number(l2, "l2", low=0)
    if bounds is not None:
        lo, hi = check_bounds(bounds, "bounds")
        x0 = np.clip(x0, lo, hi)

    if len(getattr(model, "inputs", None) or [None]) != 1:
        raise ValueError(f"maximize_activation needs a model with one input, got {len(model.inputs)}")
    if layer_name is None:
        net = model
        n_units = model(x0[:1].astype(np.float32), training=False).shape[-1]
    else:
        inputs, outputs = _symbolic_layer_outputs(model, [layer_name], "layer_name")
        net = keras.Model(inputs=inputs[0] if len(inputs) == 1 else inputs, outputs=outputs[0])
        n_units = outputs[0].shape[-1]
    if u.min() < 0 or u.max() >= n_units:
        raise ValueError(f"units must be in [0, {n_units - 1}], got values from {u.min()} to {u.max()}")
    idx = tf.constant(u, dtype=tf.int32)

    def unit_values(x: tf.Variable) -> tf.Tensor:
        out = net(x, training=False)
        if out.shape.rank > 2:
            out = tf.reduce_mean(out, axis=list(range(1, out.shape.rank - 1)))
        return tf.gather(out, idx, axis=1, batch_dims=1)

    x = tf.Variable(x0.astype(np.float32))

    @tf.function
    def step() -> tf.Tensor:  # compiled once: eager Keras calls cost milliseconds per step
        with tf.GradientTape() as tape:
            a = unit_values(x)
            objective = tf.reduce_sum(a) - l2 * tf.reduce_sum(x * x)
        x.assign_add(learning_rate * tape.gradient(objective, x))
        if bounds is not None:
            x.assign(tf.clip_by_value(x, lo, hi))
        return a

    history = [step().numpy() for _ in range(steps)]
    history.append(unit_values(x).numpy())
    return ActivationMaximization(inputs=x.numpy().astype(np.float64),
                                  history=np.asarray(history, dtype=np.float64))
