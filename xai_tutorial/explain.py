"""Attributions: which parts of one input drove one prediction.

Gradient methods take a differentiable ``fn`` (a Keras model or any function of TensorFlow
tensors) from a float input of shape (batch, ...) to outputs of shape (batch,) or
(batch, n_outputs); ``target`` picks the output to explain. Extra inputs that are not
explained (a padding mask, say) go in ``aux``: arrays with the same batch size, passed to
``fn([x, *aux])`` and tiled along with ``x`` where a method evaluates many inputs per example.

Perturbation methods (occlusion) take a NumPy ``predict_fn`` instead.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import inspect

import numpy as np

from ._validation import as_float_array, as_int_array, check_choice, check_int

import keras  # noqa: E402  (after the package __init__ has set the TF log variables)
import tensorflow as tf  # noqa: E402


# --------------------------------------------------------------------------- helpers

def _check_aux(aux: Sequence[np.ndarray] | None, batch: int) -> list[np.ndarray]:
    if aux is None:
        return []
    if isinstance(aux, np.ndarray):
        aux = [aux]
    out = []
    for i, a in enumerate(aux):
        a = np.asarray(a)
        if a.ndim == 0 or a.shape[0] != batch:
            raise ValueError(f"aux[{i}] must have the batch size {batch} as its first dimension, "
                             f"got shape {a.shape}")
        out.append(a)
    return out


def _select(out: tf.Tensor, target: np.ndarray | None) -> tf.Tensor:
    """Reduce model outputs of shape (batch,) or (batch, k) to (batch,) at ``target``."""
    if out.shape.rank not in (1, 2):
        raise ValueError(f"fn must return shape (batch,) or (batch, n_outputs), got {tuple(out.shape)}")
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
    if target is None:
        return None
    t = as_int_array(np.broadcast_to(np.asarray(target), (batch,)) if np.ndim(target) == 0 else target,
                     "target", ndim=1)
    if t.shape[0] != batch:
        raise ValueError(f"target must be an int or have one entry per example ({batch}), got {t.shape[0]}")
    if t.min() < 0:
        raise ValueError(f"target must be non-negative, got {t.min()}")
    return t


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
    inputs = [x, *aux] if aux else x
    out = fn(inputs, training=False) if _accepts_training(fn) else fn(inputs)
    return tf.convert_to_tensor(out)


def _check_batched(x: np.ndarray, name: str = "x") -> None:
    if x.ndim < 2:
        raise ValueError(f"{name} must have a batch dimension, shape (batch, ...), got shape {x.shape}")


def _grad(fn: Callable, x: np.ndarray, aux: list, target: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of the selected output w.r.t. ``x``, and the outputs, in one tape."""
    xt = tf.convert_to_tensor(x, dtype=tf.float32)
    aux_t = [tf.convert_to_tensor(a) for a in aux]
    with tf.GradientTape() as tape:
        tape.watch(xt)
        out = _select(_call(fn, xt, aux_t), target)
    g = tape.gradient(out, xt)
    if g is None:
        raise ValueError("fn's output does not depend on x (the gradient is None): check that fn "
                         "uses its input and that x is the float input of the model")
    return g.numpy().astype(np.float64), out.numpy().astype(np.float64)


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
                  _targets(target, x.shape[0]))
    return out.numpy().astype(np.float64)


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


# --------------------------------------------------------------------------- occlusion

def occlusion(predict_fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *,
              fill_value: float = 0.0, valid: np.ndarray | None = None,
              target: int | None = None) -> np.ndarray:
    """Occlusion (leave-one-out): the drop in the output when one position is replaced.

    Position ``j`` of each example is ``x[:, j, ...]`` (a token, a patch, a feature); its score
    is ``f(x) - f(x with position j set to fill_value)``. All occluded copies are predicted in one
    batch.

    Parameters
    ----------
    predict_fn : callable
        NumPy function from an array shaped like ``x`` to outputs of shape (n,) or (n, k).
    x : array of shape (batch, n_positions, ...)
        Inputs; integer arrays (token ids) keep their dtype.
    fill_value : float, default 0.0
        What an occluded position becomes (0 = padding id for token ids).
    valid : bool array of shape (batch, n_positions), optional
        Positions to occlude; others (padding) get score 0.
    target : int, optional
        Output column when ``predict_fn`` returns (n, k) with k > 1.

    Returns
    -------
    ndarray of shape (batch, n_positions)
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf" or arr.ndim < 2:
        raise ValueError(f"x must be a numeric array of shape (batch, n_positions, ...), got dtype "
                         f"{arr.dtype} and shape {arr.shape}")
    if arr.dtype.kind == "f":
        as_float_array(arr, "x")
    elif float(fill_value) != int(fill_value):
        raise ValueError(f"fill_value must be a whole number for integer x (token ids), got {fill_value}")
    batch, n_pos = arr.shape[:2]
    if valid is None:
        valid = np.ones((batch, n_pos), dtype=bool)
    valid = np.asarray(valid)
    if valid.shape != (batch, n_pos) or valid.dtype != bool:
        raise ValueError(f"valid must be a bool array of shape {(batch, n_pos)}, got "
                         f"{valid.dtype} {valid.shape}")

    def pick(out: np.ndarray) -> np.ndarray:
        out = np.asarray(out, dtype=np.float64)
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        elif out.ndim == 2:
            if target is None:
                raise ValueError(f"predict_fn returns {out.shape[1]} outputs: pass target")
            out = out[:, target]
        return out

    full = pick(predict_fn(arr))
    copies = np.repeat(arr[None], n_pos, axis=0)  # (n_pos, batch, n_pos, ...)
    idx = np.arange(n_pos)
    copies[idx, :, idx] = fill_value
    occluded = pick(predict_fn(copies.reshape((n_pos * batch,) + arr.shape[1:]))).reshape(n_pos, batch)
    return np.where(valid, (full[None, :] - occluded).T, 0.0)


# --------------------------------------------------------------------------- shap glue

def keras_predict_fn(model: Callable, *, output: int | None = None, batch_size: int = 4096,
                     dtype: str = "float32") -> Callable[[np.ndarray], np.ndarray]:
    """Wrap a Keras model as a fast NumPy predict function, e.g. for shap's explainers.

    Calls ``model(x, training=False)`` directly: ``model.predict`` costs a large fixed overhead
    per call, which dominates with the many small batches that shap sends.

    Parameters
    ----------
    model : keras.Model or callable
    output : int, optional
        Column of the output to return; by default a (n, 1) output is squeezed to (n,) and a
        (n, k) output is returned as is.
    batch_size : int, default 4096
        Largest batch sent to the model at once.
    dtype : str, default "float32"
        dtype the input is cast to ("int32" for token ids).

    Returns
    -------
    callable
        ``f(x: ndarray (n, ...)) -> ndarray (n,) or (n, k)``
    """
    batch_size = check_int(batch_size, "batch_size", 1)

    def predict(x: np.ndarray) -> np.ndarray:
        arr = np.asarray(x).astype(dtype)
        outs = [np.asarray(model(arr[i:i + batch_size], training=False))
                for i in range(0, max(len(arr), 1), batch_size)]
        out = np.concatenate(outs).astype(np.float64)
        if output is not None:
            return out[:, output]
        return out[:, 0] if out.ndim == 2 and out.shape[1] == 1 else out

    return predict
