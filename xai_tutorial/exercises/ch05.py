"""Checkers for the exercises of the chapter "Model explanations" (notebooks/05_model_explanations).

Each checker computes the expected answer itself and returns a :class:`~xai_tutorial.exercises.Feedback`
that says what is right or precisely what is wrong.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .core import (Feedback, NotYet, answer_array, answer_number, call, check_array, check_function, checker,
                   require_callable)

__all__ = ["ig_product_reference", "check_ig_product", "check_linear_attributions",
           "check_weighted_r2", "check_best_kernel_width", "check_smoothgrad", "grad_cam_reference",
           "check_grad_cam", "check_blurred_baseline_ig"]


def ig_product_reference(x: np.ndarray, baseline: np.ndarray, steps: int = 16) -> np.ndarray:
    """Closed-form integrated gradients of ``f(x) = x[0] * x[1]``, shape (2,).

    Along the path ``x' + a (x - x')`` the gradient is ``(x_2'(a), x_1'(a))``, linear in ``a``, so
    ``IG_1 = (x1 - x1') (x2 + x2') / 2`` and ``IG_2 = (x2 - x2') (x1 + x1') / 2`` (any ``steps``:
    the trapezoid rule is exact for a linear integrand).
    """
    x = np.asarray(x, dtype=np.float64)
    b = np.asarray(baseline, dtype=np.float64)
    return np.array([(x[0] - b[0]) * (x[1] + b[1]) / 2, (x[1] - b[1]) * (x[0] + b[0]) / 2])


def _ig_product_hint(fn: Callable, cases: list) -> str:
    """Where a wrong ig_product goes wrong: sign, completeness, the gradient, the quadrature rule."""
    for x, b, steps in cases:
        try:
            with np.errstate(all="ignore"):
                got = np.asarray(fn(x.copy(), b.copy(), steps), dtype=np.float64)
        except Exception:  # check_function already named the exception
            return "Check the test case named above by hand."
        if got.shape != (2,) or not np.all(np.isfinite(got)):
            return "Return one attribution per input, shape (2,)."
        expected = ig_product_reference(x, b)
        if np.allclose(got, expected):
            continue
        gap = x[0] * x[1] - b[0] * b[1]
        if np.allclose(got, -expected):
            return "The sign is flipped: IG multiplies the averaged gradient by (x - baseline), not (baseline - x)."
        if np.all(x != b):
            avg_grad = expected / (x - b)
            if np.allclose(got, avg_grad):
                return "This looks like the average gradient alone: multiply it by (x - baseline)."
            if np.allclose(got, x * avg_grad) and np.any(b != 0):
                return "The averaged gradient was multiplied by x; multiply it by (x - baseline)."
        if np.allclose(got.sum(), gap):
            return ("The attributions sum to f(x) - f(x') but are split wrongly between the two inputs: "
                    "check each input's partial derivative of x1 x2 along the path, and its factor (x - x').")
        return ("The attributions do not sum to f(x) - f(x') (completeness): check the path "
                "x' + alpha (x - x') with alpha from 0 to 1 (steps + 1 points), the trapezoid weights "
                "(half weight at both ends) and the factor (x - x').")
    return "Compare with the closed form you derived by hand."


@checker
def check_ig_product(fn: Callable[[np.ndarray, np.ndarray, int], np.ndarray]) -> Feedback:
    """Check ``fn(x, baseline, steps)``: integrated gradients of ``f(x) = x1 * x2``, shape (2,)."""
    cases = [(np.array([3.0, 2.0]), np.zeros(2), 16),
             (np.array([1.0, -2.0]), np.array([0.5, 0.5]), 4),
             (np.array([-1.5, 4.0]), np.array([2.0, -1.0]), 1)]
    result = check_function(fn, ig_product_reference, cases, name="your integrated gradients")
    if not result:
        return result.with_hint(_ig_product_hint(fn, cases))
    return Feedback(True, "your integrated gradients match the closed form (x1 - x1')(x2 + x2')/2 and "
                          "(x2 - x2')(x1 + x1')/2, and they sum to x1 x2 - x1' x2' (completeness).")


@checker
def check_linear_attributions(gradient_x_input: np.ndarray, integrated: np.ndarray, *, kernel: np.ndarray,
                              x: np.ndarray, target: np.ndarray | int) -> Feedback:
    """Check gradient x input and IG (black baseline) of a linear model ``x @ kernel + bias``.

    Both must equal ``x * kernel[:, target]`` per example, shape (n, n_features).
    """
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n_examples, n_features), got shape {x.shape}")
    if kernel.ndim != 2 or kernel.shape[0] != x.shape[1]:
        hint = (" (transposed? scikit-learn's coef_ is (n_classes, n_features): pass coef_.T)"
                if kernel.ndim == 2 and kernel.shape[1] == x.shape[1] else "")
        raise ValueError(f"kernel must have shape (n_features, n_classes) = ({x.shape[1]}, n_classes), like "
                         f"Dense.get_weights()[0], got shape {kernel.shape}{hint}")
    t = np.asarray(target)
    if t.dtype == bool or not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"target must be an int or an int array of shape ({len(x)},), got dtype {t.dtype}")
    if t.ndim > 1 or (t.ndim == 1 and t.shape[0] != len(x)):
        raise ValueError(f"target must be an int or have one entry per example ({len(x)}), got shape {t.shape}")
    if t.min() < 0 or t.max() >= kernel.shape[1]:
        raise ValueError(f"target must be in [0, {kernel.shape[1] - 1}] for a kernel with {kernel.shape[1]} "
                         f"classes, got values from {t.min()} to {t.max()}")
    t = np.broadcast_to(t, (len(x),))
    expected = x * kernel[:, t].T
    for name, answer in (("gradient x input", gradient_x_input), ("integrated gradients", integrated)):
        res = check_array(answer, expected, name=name, rtol=1e-4, atol=1e-5)
        if not res:
            return res.with_hint("For a linear model both should be w_c * x for the explained class c (the "
                                 "column of the kernel for each example's target).")
    return Feedback(True, "gradient x input and integrated gradients both equal w_c * x, as the linear model "
                          "demands: with a black baseline, IG of a linear model is gradient x input.")


def _weighted_r2_reference(y: np.ndarray, y_hat: np.ndarray, w: np.ndarray) -> float:
    from sklearn.metrics import r2_score

    return float(r2_score(y, y_hat, sample_weight=w))


@checker
def check_weighted_r2(fn: Callable[[np.ndarray, np.ndarray, np.ndarray], float]) -> Feedback:
    """Check ``fn(y, y_hat, weights)`` against scikit-learn's ``r2_score(..., sample_weight=weights)``."""
    rng = np.random.default_rng(5)
    y = rng.normal(size=30)
    y_hat = y + rng.normal(0, 0.5, size=30)
    cases = [(y, y_hat, np.ones(30)),
             (y, y_hat, rng.uniform(size=30)),
             (y, y_hat, np.r_[np.zeros(10), rng.uniform(1, 3, size=20)]),
             (y, np.full(30, y.mean()), rng.uniform(size=30))]
    result = check_function(fn, _weighted_r2_reference, cases, name="your weighted R^2", rtol=1e-6)
    if not result:
        return result.with_hint("Weighted R^2 = 1 - sum w (y - y_hat)^2 / sum w (y - y_bar)^2 with the "
                                "weighted mean y_bar = sum w y / sum w.")
    return Feedback(True, "your weighted R^2 agrees with scikit-learn's r2_score(sample_weight=w) on all 4 cases.")


@checker
def check_best_kernel_width(results: Mapping[float, object], best_width: float) -> Feedback:
    """Check that ``best_width`` is the kernel width whose surrogate has the highest fresh fidelity.

    ``results`` maps kernel widths to :class:`~xai_tutorial.surrogate.SurrogateResult` objects.
    """
    from ..surrogate import SurrogateResult

    if not isinstance(results, Mapping) or len(results) < 2:
        return Feedback(False, "results must be a dict with at least two kernel widths as keys and their "
                               "SurrogateResult as values")
    for width, res in results.items():
        if isinstance(width, (bool, np.bool_)) or not isinstance(width, (int, float, np.integer, np.floating)):
            return Feedback(False, f"the keys of results must be kernel widths (numbers), got {width!r}")
        if not isinstance(res, SurrogateResult):
            return Feedback(False, f"results[{width!r}] is a {type(res).__name__}, expected a SurrogateResult "
                                   "from surrogate.local_surrogate")
        if not np.isclose(res.kernel_width, float(width)):
            return Feedback(False, f"results[{width!r}] was fitted with kernel_width={res.kernel_width:g}, "
                                   f"not {width!r}: pass kernel_width=width")
    widths = f"one of the kernel widths {sorted(float(w) for w in results)}"
    if isinstance(best_width, (SurrogateResult, tuple)):
        return Feedback(False, f"best_width must be {widths}, got a {type(best_width).__name__}: take the key "
                               "of the best entry, e.g. max(results, key=lambda w: results[w].fresh_r2)")
    chosen = answer_number(best_width, "best_width", what=widths)
    fresh = {float(w): float(r.fresh_r2) for w, r in results.items()}
    local = {float(w): float(r.fidelity_r2) for w, r in results.items()}
    finite = {w: r for w, r in fresh.items() if np.isfinite(r)}
    if not finite:
        return Feedback(False, "no surrogate has a finite fresh R^2: every kernel is too narrow for its samples")
    best = max(finite, key=finite.get)
    if np.isclose(chosen, best):
        table = ", ".join(f"{w:g}: {r:.3f}" for w, r in sorted(fresh.items()))
        return Feedback(True, f"kernel width {best:g} gives the most faithful surrogate on fresh samples "
                              f"(fresh R^2 by width: {table}).")
    keys = [w for w in fresh if np.isclose(chosen, w)]
    if not keys:
        if isinstance(best_width, (int, np.integer)) and 0 <= chosen < len(results):
            return Feedback(False, f"best_width={best_width!r} looks like a position in the dict (np.argmax?); "
                                   f"set it to the width itself, {widths}")
        if any(np.isclose(chosen, r) for r in list(fresh.values()) + list(local.values())):
            return Feedback(False, f"best_width={best_width!r} is a fidelity, not a width: set best_width to the "
                                   f"key of the best entry, {widths}")
        return Feedback(False, f"best_width={best_width!r} is not {widths}")
    width = keys[0]
    local_best = max((w for w in local if np.isfinite(local[w])), key=local.get, default=None)
    if local_best is not None and np.isclose(width, local_best):
        return Feedback(False, f"kernel width {width:g} has the highest local fidelity (fidelity_r2), measured "
                               "on the samples the surrogate was fitted to; choose by the fresh fidelity "
                               "(fresh_r2) instead")
    if not np.isfinite(fresh[width]) or fresh[width] == min(finite.values()):
        return Feedback(False, f"kernel width {width:g} has the lowest fresh fidelity; you want the highest "
                               "(max, not min)")
    return Feedback(False, f"another kernel width has a higher fresh fidelity (fresh_r2) than {width:g}; "
                           "compare the fresh_r2 of every entry of results")


# --------------------------------------------------------------------------- ex-05-smoothgrad


def _cos(x: np.ndarray) -> np.ndarray:
    """The gradient of f(x) = sum_i sin(x_i)."""
    return np.cos(x)


def _quadratic_gradient(x: np.ndarray) -> np.ndarray:
    """The gradient of f(x) = sum_i (x_i^2 + x_i): linear in x."""
    return 2.0 * x + 1.0


@checker
def check_smoothgrad(fn: Callable[..., np.ndarray]) -> Feedback:
    """Check ``fn(grad_fn, x, sigma, n_samples, seed)``: SmoothGrad in NumPy for a gradient function.

    The mean of ``grad_fn(x + e)`` over ``n_samples`` draws ``e ~ N(0, sigma^2 I)`` from
    ``np.random.default_rng(seed)``, shape of ``x``. Checked against closed forms: for
    ``grad_fn = cos`` (f = sum sin) the expectation is ``cos(x) exp(-sigma^2 / 2)``; for a linear
    gradient it is the gradient at ``x``; ``sigma = 0`` gives the gradient; a seed fixes the result.
    """
    require_callable(fn, "a function smoothgrad_np(grad_fn, x, sigma, n_samples, seed)")
    name = "your smoothgrad_np"
    x = np.array([0.0, 0.7, -1.2, 2.0, 3.1])

    def run(grad_fn, sigma, n, seed, case):
        got = call(fn, grad_fn, x.copy(), sigma, n, seed, name=name, case=case)
        return answer_array(got, f"the result of {name} {case}", shape=x.shape)

    exact = run(_cos, 0.0, 3, 0, "with sigma = 0")
    if not np.allclose(exact, np.cos(x), atol=1e-9):
        if np.allclose(exact, 3 * np.cos(x), atol=1e-9):
            return Feedback(False, "with sigma = 0 the result is n_samples times the gradient: average the "
                                   "gradients (divide by n_samples), do not sum them")
        return Feedback(False, "with sigma = 0 every noisy copy is x itself, so the result must be grad_fn(x); "
                               "yours differs: evaluate grad_fn at x + noise and average")
    n, sigma = 20000, 0.8
    smooth = run(_cos, sigma, n, 1, f"with sigma = {sigma} and {n} samples")
    shrink = np.exp(-sigma**2 / 2)
    tol = 0.03
    if not np.allclose(smooth, np.cos(x) * shrink, atol=tol):
        hint = "compare with the closed form E[cos(x + e)] = cos(x) exp(-sigma^2 / 2)"
        if np.allclose(smooth, np.cos(x), atol=tol / 3):
            hint = ("the result equals the gradient at x: no noise seems to reach grad_fn; evaluate it at "
                    "x + e with e drawn from N(0, sigma^2) for each sample")
        elif np.allclose(smooth, np.cos(x) * np.exp(-sigma**4 / 2), atol=tol):
            hint = ("the noise has standard deviation sigma^2: sigma is the standard deviation "
                    "(rng.normal(0, sigma, ...) or sigma * rng.standard_normal(...))")
        elif np.allclose(smooth, n * np.cos(x) * shrink, rtol=0.05, atol=n * tol):
            hint = "the result is n_samples times too large: average the gradients, do not sum them"
        return Feedback(False, f"with grad_fn = np.cos (f = sum sin x), sigma = {sigma} and {n} samples your "
                               f"SmoothGrad is off by up to {np.max(np.abs(smooth - np.cos(x) * shrink)):.3f} "
                               f"(Monte-Carlo error allows {tol}): {hint}")
    linear = run(_quadratic_gradient, 0.5, n, 2, f"with a linear gradient 2x + 1 and {n} samples")
    if not np.allclose(linear, 2 * x + 1, atol=tol):
        return Feedback(False, "for f = sum (x^2 + x) the gradient 2x + 1 is linear, so the noise averages out "
                               "and SmoothGrad equals the gradient at x; yours does not: check that the noise has "
                               "mean 0")
    again = run(_cos, sigma, 50, 7, "with seed 7")
    twice = run(_cos, sigma, 50, 7, "with seed 7, called again")
    other = run(_cos, sigma, 50, 8, "with seed 8")
    if not np.array_equal(again, twice):
        return Feedback(False, "two calls with the same seed give different results: draw the noise from "
                               "rng = np.random.default_rng(seed), not from the global np.random")
    if np.array_equal(again, other):
        return Feedback(False, "seeds 7 and 8 give the same result: draw the noise from "
                               "np.random.default_rng(seed), so that the seed is used")
    return Feedback(True, "your SmoothGrad gives the gradient for sigma = 0, shrinks the gradient of sum sin x by "
                          "exp(-sigma^2 / 2) as the closed form says, leaves a linear gradient unchanged, and "
                          "its seed fixes the result.")


# --------------------------------------------------------------------------- ex-05-grad-cam


def grad_cam_reference(activations: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """Grad-CAM map ``ReLU(sum_k alpha_k A_k)`` with ``alpha_k`` the spatial mean of ``gradients``, shape (h, w).

    ``activations`` and ``gradients`` have shape (h, w, n_maps) (channels last, one image).
    """
    a = np.asarray(activations, dtype=np.float64)
    g = np.asarray(gradients, dtype=np.float64)
    alpha = g.mean(axis=(0, 1))
    return np.maximum(a @ alpha, 0.0)


def _grad_cam_hint(fn: Callable, cases: list) -> str:
    for a, g in cases:
        try:
            with np.errstate(all="ignore"):
                got = np.asarray(fn(a.copy(), g.copy()), dtype=np.float64)
        except Exception:  # check_function already named the exception
            return "Check the test case named above."
        if got.shape != a.shape[:2]:
            return "Return one value per position, shape (h, w): sum over the maps (the last axis)."
        expected = grad_cam_reference(a, g)
        if np.allclose(got, expected):
            continue
        hw = a.shape[0] * a.shape[1]
        signed = a @ g.mean(axis=(0, 1))
        if np.allclose(got, signed):
            return "The map has negative values: Grad-CAM keeps only the positive evidence, ReLU of the sum."
        if np.allclose(got, hw * expected):
            return ("The map is h * w times too large: alpha_k is the spatial *mean* of the gradient, not its "
                    "sum.")
        if np.allclose(got, np.maximum((a * g).sum(axis=-1), 0)):
            return ("This is the gradient times the activation at each position; Grad-CAM first averages "
                    "the gradient of each map over all positions (one weight alpha_k per map).")
        if np.allclose(got, np.maximum(a @ np.abs(g).mean(axis=(0, 1)), 0)):
            return "The weights should keep their sign: average the gradients, not their absolute values."
        return ("Compute alpha_k = mean over the positions (i, j) of gradients[i, j, k], then "
                "ReLU(sum_k alpha_k activations[:, :, k]).")
    return "Compare with the formula of the chapter."


@checker
def check_grad_cam(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Feedback:
    """Check ``fn(activations, gradients)``: the Grad-CAM map of one image, shape (h, w)."""
    rng = np.random.default_rng(12)
    cases = [(np.maximum(rng.normal(size=(4, 4, 6)), 0), rng.normal(size=(4, 4, 6))),
             (np.maximum(rng.normal(size=(3, 5, 2)), 0), rng.normal(0.5, 1.0, size=(3, 5, 2))),
             (np.maximum(rng.normal(size=(2, 2, 8)), 0), rng.normal(-0.2, 1.0, size=(2, 2, 8)))]
    result = check_function(fn, grad_cam_reference, cases, name="your Grad-CAM")
    if not result:
        return result.with_hint(_grad_cam_hint(fn, cases))
    return Feedback(True, "your Grad-CAM weights each feature map by its spatially averaged gradient and keeps "
                          "the positive part of the weighted sum, on all 3 test cases.")


# --------------------------------------------------------------------------- ex-05-blurred-baseline


def _central_ig(predict: Callable, x: np.ndarray, baseline: np.ndarray, target: int, steps: int = 32,
                h: float = 1e-2) -> np.ndarray:
    """IG of output ``target`` of a NumPy predict function by central differences and the trapezoid rule."""
    d = x.size
    alphas = np.linspace(0.0, 1.0, steps + 1)
    weights = np.full(steps + 1, 1.0 / steps)
    weights[[0, -1]] /= 2
    path = baseline[None] + alphas[:, None] * (x - baseline)[None]          # (steps + 1, d)
    bumps = h * np.eye(d)
    plus = (path[:, None, :] + bumps[None]).reshape(-1, d)
    minus = (path[:, None, :] - bumps[None]).reshape(-1, d)
    out = np.asarray(predict(np.concatenate([plus, minus])), dtype=np.float64)
    out = out[:, target] if out.ndim == 2 else out
    grads = ((out[:len(plus)] - out[len(plus):]) / (2 * h)).reshape(steps + 1, d)
    return (x - baseline) * (weights @ grads)


@checker
def check_blurred_baseline_ig(baseline: np.ndarray, attributions: np.ndarray, *, x: np.ndarray,
                              predict_fn: Callable[[np.ndarray], np.ndarray], target: int,
                              sigma: float = 1.0, image_shape: tuple[int, int] = (8, 8)) -> Feedback:
    """Check a blurred baseline of the image ``x`` and the integrated gradients from it.

    ``baseline`` must be ``x`` (a flat row) blurred as an image of ``image_shape`` with
    ``scipy.ndimage.gaussian_filter(..., sigma)``; ``attributions`` (shape of ``x``) must be
    integrated gradients of output ``target`` of ``predict_fn`` from that baseline, checked against
    central differences along the path and by completeness.
    """
    from scipy.ndimage import gaussian_filter

    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or x.size != int(np.prod(image_shape)):
        raise ValueError(f"x must be one flat image of {int(np.prod(image_shape))} pixels, got shape {x.shape}")
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be a predict function, got {type(predict_fn).__name__}")
    if isinstance(target, (bool, np.bool_)) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"target must be an int (the explained class), got {type(target).__name__}")
    expected = gaussian_filter(x.reshape(image_shape), sigma).ravel()
    b = answer_array(baseline, "baseline")
    if b.size != x.size:
        raise NotYet(f"baseline has shape {b.shape}, expected {x.shape} or {tuple(image_shape)}")
    b = b.ravel()
    if not np.allclose(b, expected, atol=1e-6):
        if np.allclose(b, gaussian_filter(x, sigma), atol=1e-6):
            why = ("this blurs the row of 64 pixels as a 1-D signal, mixing the end of one image row with the "
                   "start of the next: reshape to the 8 x 8 image, blur, then flatten")
        elif np.allclose(b, 0):
            why = "this is the black baseline: blur the digit itself"
        elif np.allclose(b, x):
            why = "this is the digit itself, not blurred"
        else:
            why = (f"blur the 8 x 8 image with scipy.ndimage.gaussian_filter(image, sigma={sigma:g}) and "
                   "flatten it")
        return Feedback(False, f"baseline is not the blurred digit: {why}")
    a = answer_array(attributions, "attributions")
    if a.size != x.size:
        raise NotYet(f"attributions has shape {a.shape}, expected {x.shape}")
    a = a.reshape(x.shape)
    out = lambda z: np.asarray(predict_fn(z), dtype=np.float64)  # noqa: E731
    f_x, f_b, f_0 = (out(v[None])[0] for v in (x, expected, np.zeros_like(x)))
    pick = (lambda v: v[target]) if np.ndim(f_x) == 1 else (lambda v: v)
    rise, rise_black = float(pick(f_x) - pick(f_b)), float(pick(f_x) - pick(f_0))
    total = float(a.sum())
    if not np.isclose(total, rise, rtol=0.01, atol=1e-3):
        if np.isclose(total, rise_black, rtol=0.01, atol=1e-3):
            return Feedback(False, "the attributions sum to f(x) - f(black image): they were computed from the "
                                   "black baseline; pass baseline=... to integrated_gradients")
        if np.isclose(total, -rise, rtol=0.01, atol=1e-3):
            return Feedback(False, "the attributions sum to f(baseline) - f(x): the sign is flipped")
        return Feedback(False, f"the attributions sum to {total:.4g}, which is not f(x) - f(baseline) "
                               "(completeness): explain the target class, from the blurred baseline, with "
                               "enough steps")
    reference = _central_ig(predict_fn, x, expected, int(target))
    if not np.allclose(a, reference, atol=0.02 * np.max(np.abs(reference)) + 1e-3):
        return Feedback(False, "the attributions sum correctly but are distributed differently from integrated "
                               "gradients along the straight path from the blurred baseline to x")
    return Feedback(True, f"the baseline is the digit blurred as an image (sigma = {sigma:g}), and the "
                          f"attributions are integrated gradients from it: they sum to f(x) - f(baseline) = "
                          f"{rise:.3f}, not to f(x) - f(black) = {rise_black:.3f}.")
