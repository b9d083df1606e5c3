"""Gradient methods: which parts of one input drove one prediction, read from the gradient.

:func:`gradients` (saliency), :func:`gradient_x_input`, :func:`integrated_gradients`
(Sundararajan et al. 2017) and the check of its completeness axiom, :func:`completeness_gap`.

They take a differentiable ``fn`` (a Keras model, or any function of TensorFlow tensors) from a
float input of shape (batch, ...) to outputs of shape (batch,) or (batch, n_outputs), and a
``target`` that picks the output to explain, as defined in :mod:`xai_tutorial.forward` (use
:func:`xai_tutorial.forward.logit_model` to explain a logit rather than a probability). Extra
inputs that are not explained (a padding mask, say) go in ``aux``: arrays with the same batch
size, passed to ``fn([x, *aux])`` and tiled along with ``x`` where a method evaluates many
inputs per example.

Perturbation methods (occlusion) take a NumPy predict function instead: see
:mod:`xai_tutorial.perturbation`.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import inspect

import numpy as np

from ._validation import as_float_array, check_callable, check_choice, check_int
from .forward import check_target

import keras  # noqa: E402  (after the package __init__ has set the TF log variables)
import tensorflow as tf  # noqa: E402


# --------------------------------------------------------------------------- helpers

def _check_aux(aux: Sequence[np.ndarray] | None, batch: int) -> list[np.ndarray]:
    """``aux`` as a list of numeric arrays whose first axis is the batch."""
    if aux is None:
        return []
    if isinstance(aux, np.ndarray):
        aux = [aux]
    if not isinstance(aux, (list, tuple)):
        raise TypeError(f"aux must be an array or a list of arrays (extra inputs of fn), got {type(aux).__name__}")
    out = []
    for i, a in enumerate(aux):
        if a is None or isinstance(a, (str, bytes, dict)):
            raise TypeError(f"aux[{i}] must be an array, got {type(a).__name__}")
        a = np.asarray(a)
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
            raise TypeError(f"aux[{i}] must hold numbers, got dtype {a.dtype}")
        if a.ndim == 0 or a.shape[0] != batch:
            raise ValueError(f"aux[{i}] must have the batch size {batch} as its first dimension, "
                             f"got shape {a.shape}")
        out.append(a)
    return out


def _select(out: tf.Tensor, target: np.ndarray | None, batch: int) -> tf.Tensor:
    """Reduce model outputs of shape (batch,) or (batch, k) to (batch,) at ``target``."""
    if out.shape.rank not in (1, 2) or out.shape[0] != batch:
        raise ValueError(f"fn must return shape ({batch},) or ({batch}, n_outputs) for {batch} inputs, "
                         f"got {tuple(out.shape)}")
    n_out = 1 if out.shape.rank == 1 else out.shape[1]
    if target is not None and target.max() >= n_out:
        raise ValueError(f"target must be in [0, {n_out - 1}] for a function with {n_out} output(s), "
                         f"got {int(target.max())}")
    if out.shape.rank == 1:
        return out
    if n_out == 1:
        return out[:, 0]
    if target is None:
        raise ValueError(f"fn returns {n_out} outputs per example: pass target "
                         "(an int, or one int per example) to say which to explain")
    return tf.gather(out, tf.constant(target, dtype=tf.int32), axis=1, batch_dims=1)


def _targets(target: int | np.ndarray | None, batch: int) -> np.ndarray | None:
    return check_target(target, batch)


def _accepts_training(fn: Callable) -> bool:
    """Whether ``fn`` takes a ``training`` keyword (Keras models and layers do)."""
    if isinstance(fn, keras.layers.Layer):
        return True
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins and some C callables have no signature
        return False
    return any(p.name == "training" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def _call(fn: Callable, x: tf.Tensor, aux: list) -> tf.Tensor:
    check_callable(fn, "fn")
    inputs = [x, *aux] if aux else x
    out = fn(inputs, training=False) if _accepts_training(fn) else fn(inputs)
    if out is None or isinstance(out, (str, bytes, dict)):
        raise TypeError(f"fn must return a tensor of outputs, got {type(out).__name__}")
    try:
        return tf.convert_to_tensor(out)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"fn must return a tensor of numbers, got {type(out).__name__} ({exc})") from None


def _check_batched(x: np.ndarray, name: str = "x") -> None:
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"{name} must have a batch dimension, shape (batch, ...), got shape {x.shape}")


def _grad(fn: Callable, x: np.ndarray, aux: list, target: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the selected output w.r.t. ``x``, and the outputs, in one tape."""
    xt = tf.convert_to_tensor(x, dtype=tf.float32)
    aux_t = [tf.convert_to_tensor(a) for a in aux]
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = _select(_call(fn, xt, aux_t), target, x.shape[0])
    g = tape.gradient(out, xt)
    if g is None:
        raise ValueError("fn's output does not depend on x (the gradient is None): check that fn "
                         "uses its input and that x is the float input of the model")
    g, out = g.numpy().astype(np.float64), out.numpy().astype(np.float64)
    if not (np.all(np.isfinite(out)) and np.all(np.isfinite(g))):
        raise ValueError(f"fn returned NaN or infinite outputs or gradients for "
                         f"{int(np.sum(~np.isfinite(out)))} of {len(out)} inputs")
    return g, out


# --------------------------------------------------------------------------- gradients

def gradients(fn: Callable, x: np.ndarray, *, target: int | np.ndarray | None = None,
              aux: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Vanilla gradient (saliency) ``d f_target(x) / d x``.

    Parameters
    ----------
    fn : callable
        Differentiable map from a float tensor of shape (batch, ...) (and ``aux``) to outputs of
        shape (batch,) or (batch, n_outputs).
    x : array of shape (batch, ...)
        Inputs to explain.
    target : int or int array of shape (batch,), optional
        Output to explain; required when ``fn`` has more than one output.
    aux : list of arrays with first dimension batch, optional
        Further inputs of ``fn`` that are held fixed.

    Returns
    -------
    ndarray with the shape of ``x``
    """
    x = as_float_array(x, "x")
    _check_batched(x)
    aux = _check_aux(aux, x.shape[0])
    return _grad(fn, x, aux, _targets(target, x.shape[0]))[0]


def gradient_x_input(fn: Callable, x: np.ndarray, *, target: int | np.ndarray | None = None,
                     aux: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Gradient times input, ``x * d f_target(x) / d x`` (same arguments and shape as :func:`gradients`)."""
    x = as_float_array(x, "x")
    return x * gradients(fn, x, target=target, aux=aux)


def integrated_gradients(fn: Callable, x: np.ndarray, baseline: np.ndarray | float | None = None, *,
                         steps: int = 64, target: int | np.ndarray | None = None,
                         aux: Sequence[np.ndarray] | None = None, method: str = "trapezoid",
                         max_rows: int = 8192) -> np.ndarray:
    """Integrated gradients (Sundararajan et al. 2017), batched over examples and steps.

    ``IG_i(x) = (x_i - x'_i) * integral_0^1 d f(x' + a (x - x')) / d x_i da``, the integral
    approximated on ``steps`` intervals. All ``batch * (steps + 1)`` interpolated inputs go
    through the model in as few calls as ``max_rows`` allows, not one call per step.

    Parameters
    ----------
    fn : callable
        As in :func:`gradients`.
    x : array of shape (batch, ...)
        Inputs to explain.
    baseline : array of shape (batch, ...) or (...), or float, optional
        Reference input ``x'``; default all zeros.
    steps : int, default 64
        Number of intervals of the path, at least 1.
    target, aux :
        As in :func:`gradients`.
    method : {"trapezoid", "left", "right", "midpoint"}, default "trapezoid"
        Quadrature rule. The trapezoid rule converges much faster than left or right sums.
    max_rows : int, default 8192
        Most interpolated inputs per model call (bounds memory).

    Returns
    -------
    ndarray with the shape of ``x``
        Attributions. By completeness they sum (per example) to ``f(x) - f(x')`` up to the
        quadrature error; see :func:`completeness_gap`.
    """
    x = as_float_array(x, "x")
    _check_batched(x)
    batch = x.shape[0]
    base = _baseline(baseline, x)
    steps = check_int(steps, "steps", 1)
    check_choice(method, "method", ("trapezoid", "left", "right", "midpoint"))
    max_rows = check_int(max_rows, "max_rows", 1)
    aux = _check_aux(aux, batch)
    tgt = _targets(target, batch)
    if batch > max_rows:  # explain the examples in chunks so no call exceeds max_rows rows
        parts = []
        for i in range(0, batch, max_rows):
            sl = slice(i, i + max_rows)
            parts.append(integrated_gradients(
                fn, x[sl], base[sl], steps=steps, target=None if tgt is None else tgt[sl],
                aux=[a[sl] for a in aux], method=method, max_rows=max_rows))
        return np.concatenate(parts)

    if method == "trapezoid":
        alphas = np.linspace(0.0, 1.0, steps + 1)
        weights = np.full(steps + 1, 1.0 / steps)
        weights[[0, -1]] /= 2.0
    elif method == "left":
        alphas = np.arange(steps) / steps
        weights = np.full(steps, 1.0 / steps)
    elif method == "right":
        alphas = np.arange(1, steps + 1) / steps
        weights = np.full(steps, 1.0 / steps)
    else:
        alphas = (np.arange(steps) + 0.5) / steps
        weights = np.full(steps, 1.0 / steps)

    diff = x - base
    # rows ordered (alpha, example): row r is alpha r // batch for example r % batch
    n_alpha = len(alphas)
    avg_grad = np.zeros_like(x)
    per_call = max(1, max_rows // batch)
    for start in range(0, n_alpha, per_call):
        a = alphas[start:start + per_call]
        w = weights[start:start + per_call]
        shape = (len(a),) + (1,) * x.ndim
        path = (base[None] + a.reshape(shape) * diff[None]).reshape((-1,) + x.shape[1:])
        aux_rep = [np.tile(v, (len(a),) + (1,) * (v.ndim - 1)) for v in aux]
        tgt_rep = None if tgt is None else np.tile(tgt, len(a))
        g, _ = _grad(fn, path, aux_rep, tgt_rep)
        g = g.reshape((len(a),) + x.shape)
        avg_grad += np.tensordot(w, g, axes=1)
    return diff * avg_grad


def _baseline(baseline, x: np.ndarray) -> np.ndarray:
    if baseline is None:
        return np.zeros_like(x)
    if isinstance(baseline, (bool, np.bool_)):
        raise TypeError(f"baseline must be a number or an array of numbers, got {type(baseline).__name__}")
    if np.ndim(baseline) == 0:
        return np.full_like(x, float(as_float_array(baseline, "baseline")))
    b = as_float_array(baseline, "baseline")
    if b.shape == x.shape[1:]:
        return np.broadcast_to(b, x.shape).copy()
    if b.shape != x.shape:
        raise ValueError(f"baseline must have shape {x.shape} or {x.shape[1:]}, got {b.shape}")
    return b


def model_output(fn: Callable, x: np.ndarray, *, target: int | np.ndarray | None = None,
                 aux: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """The explained output ``f_target(x)`` of shape (batch,), as the gradient methods see it."""
    x = as_float_array(x, "x")
    _check_batched(x)
    aux = _check_aux(aux, x.shape[0])
    out = _select(_call(fn, tf.convert_to_tensor(x, tf.float32), [tf.convert_to_tensor(a) for a in aux]),
                  _targets(target, x.shape[0]), x.shape[0])
    out = out.numpy().astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"fn returned NaN or infinite outputs for {int(np.sum(~np.isfinite(out)))} of "
                         f"{len(out)} inputs")
    return out


def completeness_gap(fn: Callable, x: np.ndarray, attributions: np.ndarray,
                     baseline: np.ndarray | float | None = None, *,
                     target: int | np.ndarray | None = None,
                     aux: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Relative completeness error of attributions, per example, shape (batch,).

    ``|sum_i attr_i - (f(x) - f(x'))| / max(|f(x) - f(x')|, 1e-12)``; integrated gradients
    make it tend to 0 as the number of steps grows.
    """
    x = as_float_array(x, "x")
    attributions = as_float_array(attributions, "attributions")
    if attributions.shape != x.shape:
        raise ValueError(f"attributions must have the shape of x {x.shape}, got {attributions.shape}")
    base = _baseline(baseline, x)
    delta = model_output(fn, x, target=target, aux=aux) - model_output(fn, base, target=target, aux=aux)
    total = attributions.reshape(len(x), -1).sum(axis=1)
    return np.abs(total - delta) / np.maximum(np.abs(delta), 1e-12)
