"""Local surrogates: a weighted linear model that imitates a black box near one input.

This is the idea of LIME (Ribeiro et al. 2016), written out for continuous inputs:

1. sample perturbations ``z`` around the input ``x``;
2. ask the black box ``f`` for its outputs ``f(z)``;
3. weight each sample by its closeness, ``pi(z) = exp(-d(x, z)**2 / sigma**2)``;
4. fit a ridge regression ``g(z) = b + w . (z - x)`` to ``f(z)`` with those weights.

The coefficients ``w`` are the explanation; the weighted R^2 of ``g`` is its *fidelity*, measured
on the samples it was fitted to and on fresh samples from the same neighbourhood.

Distances are measured in units of ``scale``: ``d(x, z) = ||(z - x) / scale||``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, as_generator, as_positive_vector, check_callable, check_int, check_number
from .forward import explained_output

__all__ = ["SurrogateResult", "exponential_kernel", "sample_perturbations", "local_surrogate",
           "effective_sample_size"]


@dataclass(frozen=True)
class SurrogateResult:
    """A fitted local surrogate ``g(z) = intercept + coef . (z - x)``.

    Attributes
    ----------
    x : ndarray of shape (n_features,)
        The explained input.
    coef : ndarray of shape (n_features,)
        Change of the surrogate's output per unit change of each feature: the explanation.
    intercept : float
        The surrogate's output at ``x`` (compare with ``f(x)``).
    fidelity_r2 : float
        Kernel-weighted R^2 of the surrogate on the samples it was fitted to.
    fresh_r2 : float
        Kernel-weighted R^2 on as many fresh samples from the same sampler (a held-out check).
    kernel_width : float
        sigma of the exponential kernel, in units of ``scale``.
    effective_samples : float
        Kish's effective sample size of the kernel weights, ``(sum w)**2 / sum w**2``.
    samples : ndarray of shape (n_samples, n_features)
        The perturbed inputs ``z`` the surrogate was fitted to.
    targets : ndarray of shape (n_samples,)
        The black box's outputs ``f(z)``.
    weights : ndarray of shape (n_samples,)
        The kernel weights ``pi(z)``.
    """

    x: np.ndarray
    coef: np.ndarray
    intercept: float
    fidelity_r2: float
    fresh_r2: float
    kernel_width: float
    effective_samples: float
    samples: np.ndarray
    targets: np.ndarray
    weights: np.ndarray

    def predict(self, z: np.ndarray) -> np.ndarray:
        """The surrogate's outputs for inputs ``z`` of shape (n, n_features); shape (n,)."""
        z = as_float_array(z, "z", ndim=2)
        if z.shape[1] != self.x.shape[0]:
            raise ValueError(f"z must have {self.x.shape[0]} features, got shape {z.shape}")
        return self.intercept + (z - self.x) @ self.coef


def exponential_kernel(distances: np.ndarray, kernel_width: float) -> np.ndarray:
    """Kernel weights ``exp(-d**2 / kernel_width**2)``, same shape as ``distances``.

    Parameters
    ----------
    distances : array of non-negative numbers, any shape
    kernel_width : float
        sigma > 0, in the units of the distances.
    """
    d = as_float_array(distances, "distances")
    if np.any(d < 0):
        raise ValueError(f"distances must be non-negative, got minimum {d.min():.3g}")
    width = check_number(kernel_width, "kernel_width", low=0, low_open=True)
    with np.errstate(over="ignore"):  # a huge d / width just gives weight 0
        return np.exp(-(d / width) ** 2)


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size ``(sum w)**2 / sum w**2`` of non-negative weights of shape (n,)."""
    w = as_float_array(weights, "weights", ndim=1)
    if np.any(w < 0) or not np.any(w > 0):
        raise ValueError("weights must be non-negative with at least one positive weight")
    return float(w.sum() ** 2 / np.sum(w**2))


def sample_perturbations(x: np.ndarray, n_samples: int, *, scale: float | np.ndarray = 1.0,
                         seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Perturbations ``z = x + r * scale * eps`` with ``eps ~ N(0, I)`` and ``r ~ U(0, 1)``.

    A single Gaussian puts nearly all its samples at the same distance (about
    ``sqrt(n_features)`` in units of ``scale``) when there are many features; drawing the radius
    factor ``r`` uniformly instead covers every distance from 0 to about that, so that the
    kernel width, not the sampler, decides how local the surrogate is.

    Parameters
    ----------
    x : array of shape (n_features,)
    n_samples : int
        At least 1.
    scale : float or array of shape (n_features,), default 1.0
        Spread of the perturbations per feature (e.g. the features' standard deviations).
    seed : int, numpy Generator or None, default 0

    Returns
    -------
    ndarray of shape (n_samples, n_features)
    """
    x = as_float_array(x, "x", ndim=1, nonempty=True)
    n_samples = check_int(n_samples, "n_samples", 1)
    scale = as_positive_vector(scale, "scale", x.shape[0])
    rng = as_generator(seed, "seed")
    eps = rng.standard_normal((n_samples, x.shape[0]))
    r = rng.uniform(0.0, 1.0, size=(n_samples, 1))
    return x + r * scale * eps


def local_surrogate(predict_fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *,
                    n_samples: int = 2000, kernel_width: float | None = None,
                    scale: float | np.ndarray = 1.0, alpha: float = 1.0,
                    target: int | None = None,
                    seed: int | None = 0) -> SurrogateResult:
    """Fit a kernel-weighted ridge regression to a black box around one input (LIME's idea).

    Parameters
    ----------
    predict_fn : callable
        NumPy function from inputs of shape (n, n_features) to outputs of shape (n,) or (n, k).
    x : array of shape (n_features,)
        The input to explain.
    n_samples : int, default 2000
        Perturbations to fit to (and as many fresh ones to measure fidelity on); at least 2.
    kernel_width : float, optional
        sigma of the kernel ``exp(-d**2 / sigma**2)``, in units of ``scale``; default
        ``0.75 * sqrt(n_features)``, the number LIME's tabular explainer uses by default. LIME's
        kernel is ``sqrt(exp(-d**2 / w**2)) = exp(-d**2 / (2 * w**2))``, so the same number gives
        a neighbourhood sqrt(2) times narrower here; ``kernel_width = sqrt(2) * w`` reproduces
        LIME's weights for LIME's width ``w``.
    scale : float or array of shape (n_features,), default 1.0
        Spread of the perturbations per feature, and the unit of distance.
    alpha : float, default 1.0
        Ridge penalty (LIME's default), >= 0. It acts on the perturbations standardized by their
        kernel-weighted standard deviation, so it means the same at every kernel width and scale;
        it matters when the effective sample size is small against the number of features.
    target : int, optional
        Output column when ``predict_fn`` returns (n, k) with k > 1.
    seed : int or None, default 0
        Seed of the sampler; the fresh samples use a second stream derived from it.

    Returns
    -------
    SurrogateResult
    """
    from sklearn.linear_model import Ridge
    from sklearn.metrics import r2_score

    check_callable(predict_fn, "predict_fn")
    x = as_float_array(x, "x", ndim=1, nonempty=True)
    p = x.shape[0]
    n_samples = check_int(n_samples, "n_samples", 2)
    scale = as_positive_vector(scale, "scale", p)
    width = 0.75 * np.sqrt(p) if kernel_width is None else check_number(kernel_width, "kernel_width", low=0,
                                                                          low_open=True)
    alpha = check_number(alpha, "alpha", low=0)
    if target is not None:
        target = check_int(target, "target", 0)

    fit_rng, fresh_rng = as_generator(seed, "seed").spawn(2)

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        z = sample_perturbations(x, n_samples, scale=scale, seed=rng)
        u = (z - x) / scale
        w = exponential_kernel(np.linalg.norm(u, axis=1), width)
        y = explained_output(predict_fn, z, target)
        return z, u, w, y

    z, u, w, y = draw(fit_rng)
    if not np.any(w > 0):
        raise ValueError(f"kernel_width={width:.3g} is so small that every kernel weight underflows to 0; "
                         "use a wider kernel or a smaller scale")
    # standardize each column by its kernel-weighted spread, so alpha means the same at every width
    spread = np.sqrt(np.average((u - np.average(u, axis=0, weights=w)) ** 2, axis=0, weights=w))
    spread = np.where(spread > 0, spread, 1.0)
    model = Ridge(alpha=alpha).fit(u / spread, y, sample_weight=w)
    coef = model.coef_ / spread / scale
    intercept = float(model.intercept_)

    def surrogate(z_: np.ndarray) -> np.ndarray:
        return intercept + (z_ - x) @ coef

    fidelity = float(r2_score(y, surrogate(z), sample_weight=w))
    z_new, _, w_new, y_new = draw(fresh_rng)
    fresh = float(r2_score(y_new, surrogate(z_new), sample_weight=w_new)) if np.any(w_new > 0) else np.nan

    return SurrogateResult(x=x, coef=coef, intercept=intercept, fidelity_r2=fidelity, fresh_r2=fresh,
                           kernel_width=float(width), effective_samples=effective_sample_size(w),
                           samples=z, targets=y, weights=w)


