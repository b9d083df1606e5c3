"""Checkers for the exercises of the chapter "Model explanations" (notebooks/05_model_explanations).

Each checker computes the expected answer itself and returns a :class:`~xai_tutorial.exercises.Feedback`
that says what is right or precisely what is wrong.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .core import Feedback, answer_number, check_array, check_function, checker

__all__ = ["ig_product_reference", "check_ig_product", "check_linear_attributions",
           "check_weighted_r2", "check_best_kernel_width"]


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
