"""Global feature importance: permutation importance and the LASSO.

Two from-scratch implementations that chapter 4 checks against scikit-learn:

- :func:`permutation_importance` draws its row permutations exactly as
  :func:`sklearn.inspection.permutation_importance` does, so that both return the same numbers;
- :func:`lasso_coordinate_descent` minimises the objective of :class:`sklearn.linear_model.Lasso`
  by cyclic coordinate descent with soft-thresholding;
- :func:`lasso_entry_alphas` reads a regularisation path: the largest ``alpha`` at which each
  feature has a non-zero coefficient (the order in which features enter the model).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import as_float_array, as_random_state, check_callable, check_int, check_number

__all__ = [
    "PermutationImportance",
    "permutation_importance",
    "permutation_indices",
    "soft_threshold",
    "lasso_coordinate_descent",
    "lasso_entry_alphas",
]


@dataclass(frozen=True)
class PermutationImportance:
    """Result of :func:`permutation_importance` (the fields of scikit-learn's ``Bunch``).

    Attributes
    ----------
    importances : ndarray of shape (n_features, n_repeats)
        Baseline score minus the score with the feature's column shuffled, per repeat.
    importances_mean : ndarray of shape (n_features,)
        Mean over the repeats.
    importances_std : ndarray of shape (n_features,)
        Standard deviation over the repeats (``ddof=0``, as in scikit-learn).
    baseline_score : float
        Score on the unshuffled data.
    """

    importances: np.ndarray
    importances_mean: np.ndarray
    importances_std: np.ndarray
    baseline_score: float


def _predictions(predict_fn: Callable, X: np.ndarray) -> np.ndarray:
    """Predictions (labels, probabilities or values) with one entry per row; numbers must be finite."""
    out = predict_fn(X)
    if out is None or isinstance(out, (str, bytes, dict)):
        raise TypeError(f"predict_fn must return an array of predictions, got {type(out).__name__}")
    pred = np.asarray(out)
    if pred.ndim == 0 or pred.shape[0] != len(X):
        raise ValueError(f"predict_fn must return one prediction per row ({len(X)}), got shape {pred.shape}")
    if pred.dtype.kind in "fc" and not np.all(np.isfinite(pred)):
        raise ValueError(f"predict_fn returned {int(np.sum(~np.isfinite(pred)))} NaN or infinite prediction(s)")
    return pred


def _score(scoring: Callable, y: np.ndarray, pred: np.ndarray) -> float:
    value = scoring(y, pred)
    if value is None or isinstance(value, (str, bytes, bool)) or not isinstance(value, (int, float, np.number)) \
            or np.ndim(value) != 0:
        raise TypeError(f"scoring must return a number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"scoring returned {value}: the importances would not be numbers")
    return value


def permutation_indices(n_samples: int, n_repeats: int, seed: int) -> np.ndarray:
    """Row orders used by scikit-learn to shuffle one column ``n_repeats`` times.

    scikit-learn shuffles an index array in place with ``RandomState(seed).shuffle`` once per
    repeat and applies it to the column that the previous repeat already shuffled, so repeat
    ``r`` shows the column in the order ``idx_1[idx_2[...idx_r]]`` (a composition).

    Parameters
    ----------
    n_samples : int
        Number of rows.
    n_repeats : int
        Number of shuffles.
    seed : int
        Seed of the ``RandomState`` (the same for every column).

    Returns
    -------
    ndarray of shape (n_repeats, n_samples)
        Row ``r`` is the permutation of the rows after repeat ``r``.
    """
    n_samples = check_int(n_samples, "n_samples", 1)
    n_repeats = check_int(n_repeats, "n_repeats", 1)
    rng = np.random.RandomState(check_int(seed, "seed", 0, 2**32 - 1))
    shuffling_idx = np.arange(n_samples)
    order = np.arange(n_samples)
    orders = np.empty((n_repeats, n_samples), dtype=np.int64)
    for r in range(n_repeats):
        rng.shuffle(shuffling_idx)          # shuffled in place, again and again
        order = order[shuffling_idx]        # the column is re-shuffled, not the original
        orders[r] = order
    return orders


def permutation_importance(predict_fn: Callable[[np.ndarray], Any], X: Any, y: Any, *,
                           scoring: Callable[[np.ndarray, np.ndarray], float],
                           n_repeats: int = 5, seed: Any = None) -> PermutationImportance:
    """Permutation importance (Breiman 2001; Fisher et al. 2019): the drop in score per feature.

    For each feature ``j`` the column ``X[:, j]`` is shuffled ``n_repeats`` times, the model
    predicts on the shuffled data and ``scoring`` compares the predictions with ``y``. The
    importance is ``baseline_score - shuffled_score``. The shuffles are drawn exactly as in
    :func:`sklearn.inspection.permutation_importance` with ``random_state=seed``, so the two
    agree to rounding. The repeats of one feature are predicted in one batch.

    Parameters
    ----------
    predict_fn : callable
        Maps an array of shape ``(n_rows, n_features)`` to predictions whose first axis has
        length ``n_rows`` (labels, probabilities, regression outputs).
    X : array-like of shape (n_samples, n_features)
        Data on which to measure the importances (usually held-out data).
    y : array-like of shape (n_samples,)
        Targets.
    scoring : callable
        ``scoring(y_true, y_pred) -> float``, higher is better (e.g. ``accuracy_score``, or
        ``lambda y, p: -log_loss(y, p)`` with ``predict_fn=model.predict_proba``).
    n_repeats : int, default 5
        Number of shuffles per feature, at least 1.
    seed : None, int or numpy.random.RandomState, default None
        As in scikit-learn: one seed is drawn from it and reused for every column.

    Returns
    -------
    PermutationImportance
        ``importances`` of shape ``(n_features, n_repeats)``, their mean and standard deviation
        of shape ``(n_features,)`` and the baseline score.

    Raises
    ------
    TypeError
        If ``predict_fn`` or ``scoring`` is not callable, or an array holds non-numbers.
    ValueError
        If ``X`` is not 2-D, holds NaN, ``y`` does not have one entry per row, or
        ``n_repeats < 1``.
    """
    check_callable(predict_fn, "predict_fn")
    if not callable(scoring):
        raise TypeError(f"scoring must be callable as scoring(y_true, y_pred), got {type(scoring).__name__}")
    X = as_float_array(X, "X", ndim=2, nonempty=True)
    if y is None or isinstance(y, (str, bytes, dict)):
        raise TypeError(f"y must be an array of targets, got {type(y).__name__}")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise ValueError(f"y must be 1-D with one entry per row of X ({len(X)}), got shape {y.shape}")
    if y.dtype.kind in "fc" and not np.all(np.isfinite(y)):
        raise ValueError(f"y must be finite, got {int(np.sum(~np.isfinite(y)))} NaN or infinite value(s)")
    n_repeats = check_int(n_repeats, "n_repeats", 1)
    n_samples, n_features = X.shape

    # scikit-learn draws ONE seed and gives every column a fresh RandomState(seed).
    draw = int(as_random_state(seed, "seed").randint(np.iinfo(np.int32).max + 1))
    orders = permutation_indices(n_samples, n_repeats, draw)   # (n_repeats, n_samples)

    baseline = _score(scoring, y, _predictions(predict_fn, X))
    importances = np.empty((n_features, n_repeats))
    for j in range(n_features):
        X_perm = np.repeat(X[None], n_repeats, axis=0)           # (n_repeats, n_samples, n_features)
        X_perm[:, :, j] = X[orders, j]                           # shuffle column j in each copy
        pred = _predictions(predict_fn, X_perm.reshape(-1, n_features))
        pred = pred.reshape((n_repeats, n_samples) + pred.shape[1:])
        importances[j] = baseline - np.array([_score(scoring, y, p) for p in pred])
    return PermutationImportance(importances, importances.mean(axis=1), importances.std(axis=1), baseline)


def soft_threshold(z: Any, threshold: float) -> np.ndarray:
    """The proximal operator of the L1 norm: ``sign(z) * max(|z| - threshold, 0)``.

    Parameters
    ----------
    z : array-like of any shape
    threshold : float
        Non-negative.

    Returns
    -------
    ndarray of the shape of ``z``
    """
    z = as_float_array(z, "z")
    threshold = check_number(threshold, "threshold", low=0)
    return np.sign(z) * np.maximum(np.abs(z) - threshold, 0.0)


def lasso_coordinate_descent(X: Any, y: Any, alpha: float, *, max_iter: int = 10_000,
                             tol: float = 1e-10) -> tuple[np.ndarray, float]:
    """Fit the LASSO (Tibshirani 1996) by cyclic coordinate descent.

    Minimises scikit-learn's objective

    .. math:: \\frac{1}{2n}\\lVert y - Xw - b\\rVert_2^2 + \\alpha \\lVert w\\rVert_1

    with an unpenalised intercept ``b``: centre ``X`` and ``y``, then update one weight at a time,
    ``w_j <- S(x_j . r_j / n, alpha) / (x_j . x_j / n)``, where ``r_j`` is the residual without
    feature ``j`` and ``S`` is :func:`soft_threshold`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    alpha : float
        Strength of the L1 penalty, ``>= 0``.
    max_iter : int, default 10000
        Maximum number of sweeps over the features.
    tol : float, default 1e-10
        Stop when no weight moved by more than ``tol`` in a sweep.

    Returns
    -------
    coef : ndarray of shape (n_features,)
    intercept : float
    """
    X = as_float_array(X, "X", ndim=2, nonempty=True)
    y = as_float_array(y, "y", ndim=1)
    if len(y) != len(X):
        raise ValueError(f"y must have one entry per row of X ({len(X)}), got {len(y)}")
    alpha = check_number(alpha, "alpha", low=0)
    max_iter = check_int(max_iter, "max_iter", 1)
    tol = check_number(tol, "tol", low=0)
    n = len(X)
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    col_sq = (Xc**2).sum(axis=0) / n                      # x_j . x_j / n
    w = np.zeros(X.shape[1])
    resid = yc.copy()                                     # y - Xw with w = 0
    for _ in range(max_iter):
        max_step = 0.0
        for j in range(X.shape[1]):
            if col_sq[j] == 0.0:
                continue                                  # a constant column keeps weight 0
            rho = Xc[:, j] @ resid / n + col_sq[j] * w[j]  # x_j . r_j / n
            new = float(soft_threshold(rho, alpha)) / col_sq[j]
            if new != w[j]:
                resid -= Xc[:, j] * (new - w[j])
                max_step = max(max_step, abs(new - w[j]))
                w[j] = new
        if max_step <= tol:
            break
    return w, float(y_mean - x_mean @ w)


def lasso_entry_alphas(alphas: Any, coefs: Any) -> np.ndarray:
    """The largest ``alpha`` on a LASSO path at which each feature's coefficient is non-zero.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
        The path's penalties, as returned by :func:`sklearn.linear_model.lasso_path` (any order).
    coefs : array-like of shape (n_features, n_alphas)
        The coefficients along the path.

    Returns
    -------
    ndarray of shape (n_features,)
        Entry penalty of each feature; ``0.0`` for a feature that never enters. Sorting by it in
        decreasing order gives the order in which features enter as ``alpha`` decreases.
    """
    alphas = as_float_array(alphas, "alphas", ndim=1, nonempty=True)
    coefs = as_float_array(coefs, "coefs", ndim=2)
    if coefs.shape[1] != len(alphas):
        raise ValueError(f"coefs must have shape (n_features, {len(alphas)}), got {coefs.shape}")
    active = coefs != 0
    return np.where(active, alphas[None, :], 0.0).max(axis=1)
