"""Gradient methods: which parts of one input drove one prediction, read from the gradient.

:func:`gradients` (saliency), :func:`gradient_x_input`, :func:`integrated_gradients`
(Sundararajan et al. 2017) and the check of its completeness axiom, :func:`completeness_gap`;
:func:`smoothgrad` (Smilkov et al. 2017), the gradient averaged over noisy copies of the input;
baselines for integrated gradients, :func:`blurred_baseline` and :func:`uniform_baseline`, and
:func:`expected_gradients` (Erion et al. 2021), which averages over baselines drawn from data
(Sturmfels et al. 2020 compare them); and :func:`grad_cam` (Selvaraju et al. 2017), which reads a
class's evidence from the feature maps of a convolutional layer.

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

from ._validation import as_float_array, check_bool, check_bounds, check_callable, check_choice, check_int, check_number
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


# --------------------------------------------------------------------------- SmoothGrad

def _check_seed(seed) -> int:
    return check_int(seed, "seed", 0, 2**32 - 1)


def _grad_rows(fn: Callable, rows: np.ndarray, aux: list, tgt: np.ndarray | None, reps: int,
               max_rows: int) -> np.ndarray:
    """Gradients of ``rows`` ordered (repetition, example), fed to ``fn`` at most ``max_rows`` at a time.

    ``aux`` and ``tgt`` belong to one copy of the batch and are tiled ``reps`` times.
    """
    aux_rep = [np.tile(v, (reps,) + (1,) * (v.ndim - 1)) for v in aux]
    tgt_rep = None if tgt is None else np.tile(tgt, reps)
    out = np.empty(rows.shape, dtype=np.float64)
    for i in range(0, len(rows), max_rows):
        sl = slice(i, i + max_rows)
        out[sl] = _grad(fn, rows[sl], [a[sl] for a in aux_rep], None if tgt_rep is None else tgt_rep[sl])[0]
    return out


def smoothgrad(fn: Callable, x: np.ndarray, *, target: int | np.ndarray | None = None,
               noise_level: float = 0.15, n_samples: int = 50, seed: int = 0,
               value_range: tuple[float, float] | None = None,
               aux: Sequence[np.ndarray] | None = None, max_rows: int = 8192) -> np.ndarray:
    """SmoothGrad (Smilkov et al. 2017): the gradient averaged over noisy copies of the input.

    ``SG(x) = (1/n) sum_k d f_target(x + e_k) / d x`` with ``e_k ~ N(0, sigma^2 I)`` and
    ``sigma = noise_level * (x_max - x_min)``. It is a Monte-Carlo estimate of the gradient of
    the Gaussian-smoothed function ``E[f(x + e)]``; the paper's "noise level" is the fraction
    ``sigma / (x_max - x_min)``, with 10-20 % recommended. All ``batch * n_samples`` noisy
    inputs go through the model in calls of at most ``max_rows`` rows.

    Parameters
    ----------
    fn : callable
        As in :func:`gradients`.
    x : array of shape (batch, ...)
        Inputs to explain.
    target, aux :
        As in :func:`gradients`.
    noise_level : float, default 0.15
        Standard deviation of the noise as a fraction of the input range, >= 0; 0 gives
        :func:`gradients` exactly.
    n_samples : int, default 50
        Noisy copies per input, at least 1.
    seed : int, default 0
        Seed of the noise; the same seed gives the same result, whatever ``max_rows``.
    value_range : (low, high), optional
        Range of the input values (e.g. ``(0, 1)`` for images scaled to [0, 1]). Default: each
        example's own range ``x.max() - x.min()``, as in the paper.
    max_rows : int, default 8192
        Most noisy inputs per model call (bounds memory).

    Returns
    -------
    ndarray with the shape of ``x``

    Examples
    --------
    >>> import tensorflow as tf
    >>> f = lambda t: tf.reduce_sum(t ** 2, axis=1)  # gradient 2 x; Gaussian noise averages out
    >>> sg = smoothgrad(f, np.array([[1.0, -2.0]]), noise_level=0.2, n_samples=2000, seed=0)
    >>> np.round(sg, 1)
    array([[ 2., -4.]])
    """
    x = as_float_array(x, "x")
    _check_batched(x)
    batch = x.shape[0]
    noise_level = check_number(noise_level, "noise_level", low=0.0)
    n_samples = check_int(n_samples, "n_samples", 1)
    seed = _check_seed(seed)
    max_rows = check_int(max_rows, "max_rows", 1)
    aux = _check_aux(aux, batch)
    tgt = _targets(target, batch)
    if value_range is None:
        flat = x.reshape(batch, -1)
        span = flat.max(axis=1) - flat.min(axis=1)
    else:
        low, high = check_bounds(value_range, "value_range")
        span = np.full(batch, high - low)
    sigma = (noise_level * span).reshape((batch,) + (1,) * (x.ndim - 1))
    rng = np.random.default_rng(seed)
    per_call = max(1, max_rows // batch)
    total = np.zeros_like(x)
    for start in range(0, n_samples, per_call):
        k = min(per_call, n_samples - start)
        noisy = x[None] + sigma[None] * rng.standard_normal((k,) + x.shape)
        g = _grad_rows(fn, noisy.reshape((-1,) + x.shape[1:]), aux, tgt, k, max_rows)
        total += g.reshape((k,) + x.shape).sum(axis=0)
    return total / n_samples


# --------------------------------------------------------------------------- baselines and expected gradients

def blurred_baseline(x: np.ndarray, *, sigma: float = 1.0,
                     image_shape: tuple[int, ...] | None = None) -> np.ndarray:
    """Each input blurred with a Gaussian filter: the "blurred" baseline of integrated gradients.

    A blurred image keeps the coarse layout of the input and removes its fine detail, so the
    attributions explain the detail (Fong and Vedaldi 2017; Sturmfels et al. 2020). The filter
    is :func:`scipy.ndimage.gaussian_filter` over the two spatial axes only (mode ``"reflect"``);
    the batch axis and a trailing channel axis are not blurred.

    Parameters
    ----------
    x : array of shape (batch, height, width), (batch, height, width, channels) or (batch, n_pixels)
        Images; flat rows need ``image_shape``.
    sigma : float, default 1.0
        Standard deviation of the Gaussian in pixels, > 0.
    image_shape : tuple (height, width) or (height, width, channels), optional
        Shape of one image when ``x`` holds flat rows.

    Returns
    -------
    ndarray with the shape of ``x``

    Examples
    --------
    >>> b = blurred_baseline(np.ones((2, 4, 4)), sigma=1.0)  # a constant image stays constant
    >>> np.allclose(b, 1.0)
    True
    """
    from scipy.ndimage import gaussian_filter

    x = as_float_array(x, "x")
    _check_batched(x)
    sigma = check_number(sigma, "sigma", low=0.0, low_open=True)
    if image_shape is None:
        if x.ndim not in (3, 4):
            raise ValueError(f"x must have shape (batch, height, width[, channels]), or pass image_shape for "
                             f"flat rows, got shape {x.shape}")
        images = x
    else:
        if isinstance(image_shape, (str, bytes)) or not isinstance(image_shape, (tuple, list)):
            raise TypeError(f"image_shape must be a tuple (height, width[, channels]), got "
                            f"{type(image_shape).__name__}")
        shape = tuple(check_int(s, f"image_shape[{i}]", 1) for i, s in enumerate(image_shape))
        if len(shape) not in (2, 3):
            raise ValueError(f"image_shape must be (height, width) or (height, width, channels), got {shape}")
        if int(np.prod(shape)) != int(np.prod(x.shape[1:])):
            raise ValueError(f"image_shape {shape} must hold the {int(np.prod(x.shape[1:]))} values of one "
                             f"input of x (shape {x.shape})")
        images = x.reshape((x.shape[0],) + shape)
    sigmas = (0.0, sigma, sigma) + ((0.0,) if images.ndim == 4 else ())
    return gaussian_filter(images, sigma=sigmas).reshape(x.shape)


def uniform_baseline(x: np.ndarray, *, low: float = 0.0, high: float = 1.0, seed: int = 0) -> np.ndarray:
    """Uniform noise of the shape of ``x``, each value drawn from U(low, high): the "uniform" baseline.

    Parameters
    ----------
    x : array of shape (batch, ...)
        Inputs (only their shape is used).
    low, high : float, default 0 and 1
        Range of valid input values, ``low < high``.
    seed : int, default 0

    Returns
    -------
    ndarray with the shape of ``x``

    Examples
    --------
    >>> b = uniform_baseline(np.zeros((3, 5)), seed=1)
    >>> b.shape, bool(b.min() >= 0 and b.max() < 1)
    ((3, 5), True)
    """
    x = as_float_array(x, "x")
    _check_batched(x)
    low, high = check_number(low, "low"), check_number(high, "high")
    if not low < high:
        raise ValueError(f"low must be smaller than high, got low={low:g} and high={high:g}")
    return np.random.default_rng(_check_seed(seed)).uniform(low, high, size=x.shape)


def expected_gradients(fn: Callable, x: np.ndarray, references: np.ndarray, *,
                       target: int | np.ndarray | None = None, n_samples: int = 64, seed: int = 0,
                       aux: Sequence[np.ndarray] | None = None, max_rows: int = 8192) -> np.ndarray:
    """Expected gradients (Erion et al. 2021): integrated gradients averaged over a distribution of baselines.

    ``EG_i(x) = E_{x' ~ D, a ~ U(0,1)} [(x_i - x'_i) d f(x' + a (x - x')) / d x_i]``, estimated with
    ``n_samples`` draws per input, each with its own reference ``x'`` (drawn uniformly from
    ``references``, e.g. training data) and its own ``a``: one gradient per draw, not a full path
    per reference. In expectation the attributions sum to ``f(x) - E[f(x')]`` (completeness in
    expectation); with a single reference they are a Monte-Carlo estimate of
    :func:`integrated_gradients` with that baseline.

    Parameters
    ----------
    fn : callable
        As in :func:`gradients`.
    x : array of shape (batch, ...)
        Inputs to explain.
    references : array of shape (n_references, ...)
        Baselines to draw from; one reference has the shape of one input.
    target, aux :
        As in :func:`gradients`.
    n_samples : int, default 64
        Draws of (reference, a) per input, at least 1.
    seed : int, default 0
        Seed of the draws; the same seed gives the same result, whatever ``max_rows``.
    max_rows : int, default 8192
        Most interpolated inputs per model call.

    Returns
    -------
    ndarray with the shape of ``x``

    Examples
    --------
    >>> import tensorflow as tf
    >>> f = lambda t: tf.reduce_sum(3.0 * t, axis=1)  # linear: EG = 3 (x - mean of the drawn references)
    >>> eg = expected_gradients(f, np.ones((1, 2)), np.zeros((4, 2)), n_samples=8)
    >>> np.round(eg, 4)
    array([[3., 3.]])
    """
    x = as_float_array(x, "x")
    _check_batched(x)
    batch = x.shape[0]
    refs = as_float_array(references, "references")
    if refs.ndim != x.ndim or refs.shape[1:] != x.shape[1:] or refs.shape[0] == 0:
        raise ValueError(f"references must have shape (n_references, {', '.join(map(str, x.shape[1:]))}) "
                         f"with at least one reference, like x {x.shape}, got shape {refs.shape}")
    n_samples = check_int(n_samples, "n_samples", 1)
    seed = _check_seed(seed)
    max_rows = check_int(max_rows, "max_rows", 1)
    aux = _check_aux(aux, batch)
    tgt = _targets(target, batch)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, refs.shape[0], size=(n_samples, batch))
    alpha = rng.uniform(0.0, 1.0, size=(n_samples, batch)).reshape((n_samples, batch) + (1,) * (x.ndim - 1))
    per_call = max(1, max_rows // batch)
    total = np.zeros_like(x)
    for start in range(0, n_samples, per_call):
        sl = slice(start, start + per_call)
        base = refs[pick[sl]]                      # (k, batch, ...)
        diff = x[None] - base
        points = base + alpha[sl] * diff
        k = base.shape[0]
        g = _grad_rows(fn, points.reshape((-1,) + x.shape[1:]), aux, tgt, k, max_rows)
        total += (diff * g.reshape((k,) + x.shape)).sum(axis=0)
    return total / n_samples


# --------------------------------------------------------------------------- Grad-CAM

def grad_cam(model, x: np.ndarray, *, layer: str, target: int | np.ndarray | None = None,
             relu: bool = True, upsample: bool = True) -> np.ndarray:
    """Grad-CAM (Selvaraju et al. 2017): a class's evidence in the feature maps of a convolutional layer.

    With ``A_k`` the k-th feature map (h x w) of ``layer`` and ``y_c`` the explained output,
    ``alpha_k = (1 / hw) sum_ij d y_c / d A_k[i, j]`` (the spatial mean of the gradient) and
    ``L = ReLU(sum_k alpha_k A_k)``, bilinearly upsampled to the input's height and width.
    For a network whose head is global average pooling and one dense layer, ``L`` is the class
    activation map (CAM, Zhou et al. 2016) divided by ``hw``.

    Parameters
    ----------
    model : keras.Model
        A functional or built Sequential model on channels-last images; explain its logits
        (see :func:`xai_tutorial.forward.logit_model`).
    x : array of shape (batch, height, width, channels)
        Images.
    layer : str
        Name of a layer of ``model`` whose output has shape (batch, h, w, n_maps).
    target : int or int array of shape (batch,), optional
        Output to explain; required when the model has more than one output.
    relu : bool, default True
        Keep only the positive evidence (the paper's map); False returns the signed sum.
    upsample : bool, default True
        Resize the h x w map to the input's height x width (bilinear, ``tf.image.resize``).

    Returns
    -------
    ndarray of shape (batch, height, width), or (batch, h, w) without upsampling
    """
    from ._validation import check_keras_model

    km = check_keras_model(model)
    if not isinstance(layer, str):
        raise TypeError(f"layer must be the name (a str) of a convolutional layer of the model, got "
                        f"{type(layer).__name__}")
    names = [lay.name for lay in km.layers]
    if layer not in names:
        raise ValueError(f"layer must name a layer of model {km.name!r} ({names}), got {layer!r}")
    relu = check_bool(relu, "relu")
    upsample = check_bool(upsample, "upsample")
    x = as_float_array(x, "x")
    if x.ndim != 4 or x.shape[0] == 0:
        raise ValueError(f"x must have shape (batch, height, width, channels), got shape {x.shape}")
    feature_layer = km.get_layer(layer)
    if len(feature_layer.output.shape) != 4:
        raise ValueError(f"layer {layer!r} must output feature maps of shape (batch, h, w, n_maps), got "
                         f"{tuple(feature_layer.output.shape)}")
    if len(km.outputs) != 1:
        raise ValueError(f"model must have one output, got {len(km.outputs)}")
    tgt = _targets(target, x.shape[0])
    if len(km.inputs) != 1:
        raise ValueError(f"model must take one input (the images), got {len(km.inputs)}")
    expected = tuple(km.inputs[0].shape[1:])
    if any(e is not None and e != got for e, got in zip(expected, x.shape[1:])) or len(expected) != 3:
        raise ValueError(f"x must hold images of the model's input shape (batch, {', '.join(map(str, expected))}), "
                         f"got shape {x.shape}")
    split = keras.Model(km.inputs[0], [feature_layer.output, km.outputs[0]])
    xt = tf.convert_to_tensor(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        maps, out = split(xt, training=False)
        selected = _select(tf.convert_to_tensor(out), tgt, x.shape[0])
    grads = tape.gradient(selected, maps)
    if grads is None:
        raise ValueError(f"the output of model does not depend on layer {layer!r} (the gradient is None)")
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)      # alpha_k, (batch, 1, 1, n_maps)
    cam = tf.reduce_sum(weights * maps, axis=-1)                       # (batch, h, w)
    if relu:
        cam = tf.nn.relu(cam)
    if upsample:
        cam = tf.image.resize(cam[..., None], x.shape[1:3], method="bilinear")[..., 0]
    cam = cam.numpy().astype(np.float64)
    if not np.all(np.isfinite(cam)):
        raise ValueError("model returned NaN or infinite feature maps or gradients")
    return cam
