"""Exact Shapley values by enumerating every coalition.

A cooperative game gives each coalition ``S`` of the ``d`` players a value ``v(S)``. The Shapley
value of player ``i`` (Shapley 1953) is its marginal contribution averaged with weights over all
coalitions that do not contain it:

.. math:: \\phi_i = \\sum_{S \\subseteq N \\setminus \\{i\\}}
          \\frac{|S|!\\,(d-|S|-1)!}{d!}\\,\\bigl(v(S \\cup \\{i\\}) - v(S)\\bigr).

Coalitions are stored as integers: bit ``j`` of ``k`` says whether player ``j`` is in coalition
``k``, so a game is an array ``values`` of shape ``(2**d,)`` with ``values[k] = v(k)``.

To explain a prediction ``f(x)`` the players are the features and the value of a coalition is the
*interventional* expectation used by ``shap.maskers.Independent``: features in ``S`` keep their
values from ``x``, the others are taken from each row of a background data set, and the
predictions are averaged over the background rows (Strumbelj & Kononenko 2014; Lundberg & Lee 2017).
The cost is ``2**d * n_background`` model evaluations per explained row, hence a limit on ``d``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import factorial
from typing import Any

import numpy as np

from ._validation import as_float_array, check_callable, check_int
from .forward import explained_output

__all__ = [
    "MAX_EXACT_FEATURES",
    "ShapleyValues",
    "coalition_masks",
    "shapley_weights",
    "shapley_from_coalition_values",
    "shapley_values_of_game",
    "interventional_coalition_values",
    "exact_shapley_values",
]

#: Default limit on the number of players/features for exact enumeration (2**16 coalitions).
MAX_EXACT_FEATURES = 16


@dataclass(frozen=True)
class ShapleyValues:
    """Result of :func:`exact_shapley_values`.

    Attributes
    ----------
    values : ndarray of shape (n_explained, n_features)
        Shapley value of each feature for each explained row.
    base_value : float
        ``v(empty set)``: the mean prediction over the background rows. By efficiency,
        ``values.sum(axis=1) == f(X) - base_value``.
    """

    values: np.ndarray
    base_value: float


def coalition_masks(n_players: int) -> np.ndarray:
    """All ``2**n_players`` coalitions as boolean rows; row ``k`` holds the bits of ``k``.

    Parameters
    ----------
    n_players : int
        Number of players, between 1 and :data:`MAX_EXACT_FEATURES`.

    Returns
    -------
    ndarray of shape (2**n_players, n_players), dtype bool
        ``masks[k, j]`` is True when player ``j`` belongs to coalition ``k``.
    """
    n_players = check_int(n_players, "n_players", 1, MAX_EXACT_FEATURES)
    k = np.arange(2**n_players)[:, None]
    return ((k >> np.arange(n_players)) & 1).astype(bool)


def shapley_weights(n_players: int) -> np.ndarray:
    """Weight ``s! (d - s - 1)! / d!`` of a coalition of size ``s`` without player ``i``.

    Parameters
    ----------
    n_players : int
        Number of players ``d``.

    Returns
    -------
    ndarray of shape (n_players,)
        Entry ``s`` is the weight for coalitions of size ``s = 0, ..., d - 1``.
    """
    d = check_int(n_players, "n_players", 1, MAX_EXACT_FEATURES)
    return np.array([factorial(s) * factorial(d - s - 1) / factorial(d) for s in range(d)])


def shapley_from_coalition_values(values: Any) -> np.ndarray:
    """Shapley values of a game given by the value of every coalition.

    Parameters
    ----------
    values : array-like of shape (2**n_players,) or (2**n_players, n_outputs)
        ``values[k]`` is the value of the coalition whose members are the set bits of ``k``
        (``values[0]`` is the empty coalition, ``values[-1]`` the grand coalition).

    Returns
    -------
    ndarray of shape (n_players,) or (n_players, n_outputs)
        ``phi[i]``; they sum to ``values[-1] - values[0]`` (efficiency).
    """
    values = as_float_array(values, "values", ndim=(1, 2))
    n_players = int(round(np.log2(len(values)))) if len(values) > 1 else 0
    if len(values) < 2 or 2**n_players != len(values):
        raise ValueError(f"values must have 2**n_players >= 2 rows (one per coalition), got {len(values)}")
    masks = coalition_masks(n_players)
    size = masks.sum(axis=1)                       # |S| of every coalition
    weight = shapley_weights(n_players)            # weight[s] for |S| = s < n_players
    k = np.arange(len(values))
    phi = np.empty((n_players,) + values.shape[1:])
    for i in range(n_players):
        without = k[~masks[:, i]]                  # coalitions S that do not contain i
        with_i = without | (1 << i)                # S with i added
        marginal = values[with_i] - values[without]
        phi[i] = np.tensordot(weight[size[without]], marginal, axes=1)
    return phi


def shapley_values_of_game(value_fn: Callable[[frozenset[int]], float], n_players: int) -> np.ndarray:
    """Shapley values of a set-function game ``v(S)`` by enumerating all coalitions.

    Parameters
    ----------
    value_fn : callable
        ``value_fn(frozenset_of_player_indices) -> float``; it is called once per coalition,
        including the empty one.
    n_players : int
        Number of players, between 1 and :data:`MAX_EXACT_FEATURES`.

    Returns
    -------
    ndarray of shape (n_players,)

    Examples
    --------
    A glove game: player 0 has a left glove, players 1 and 2 a right glove; a pair is worth 1.

    >>> v = lambda S: float(0 in S and (1 in S or 2 in S))
    >>> shapley_values_of_game(v, 3).round(4)
    array([0.6667, 0.1667, 0.1667])
    """
    if not callable(value_fn):
        raise TypeError(f"value_fn must be callable, got {type(value_fn).__name__}")
    masks = coalition_masks(n_players)
    values = []
    for row in masks:
        coalition = frozenset(int(j) for j in np.flatnonzero(row))
        v = value_fn(coalition)
        arr = None if v is None or isinstance(v, (str, bytes, dict)) else np.asarray(v)
        if arr is None or arr.dtype.kind not in "biuf":
            raise TypeError(f"value_fn must return a number, got {type(v).__name__} for coalition {set(coalition)}")
        if arr.ndim != 0:
            raise ValueError(f"value_fn must return one number per coalition, got shape {np.shape(v)}")
        if not np.isfinite(v):
            raise ValueError(f"value_fn returned {float(v)} for coalition {set(coalition)}: values must be finite")
        values.append(float(v))
    return shapley_from_coalition_values(np.array(values))


def _check_predict_output(out: Any, n_rows: int) -> np.ndarray:
    """One finite number per row, shape (n_rows,) (a (n_rows, 1) output is squeezed)."""
    try:
        return explained_output(lambda _: out, np.empty(n_rows), name="predict_fn")
    except ValueError as exc:
        raise ValueError(f"{exc}; predict_fn must return one number per row, e.g. "
                         "lambda X: model.predict_proba(X)[:, 1]") from None


def interventional_coalition_values(predict_fn: Callable[[np.ndarray], Any], x: Any, background: Any, *,
                                    max_features: int = MAX_EXACT_FEATURES,
                                    max_rows_per_call: int = 2**16) -> np.ndarray:
    """``v(S) = mean_b f(x_S, b_{not S})`` for every coalition ``S`` of the features of ``x``.

    Parameters
    ----------
    predict_fn : callable
        Maps ``(n_rows, n_features)`` to ``(n_rows,)``: one number per row.
    x : array-like of shape (n_features,)
        The row to explain.
    background : array-like of shape (n_background, n_features)
        Rows that supply the values of the absent features.
    max_features : int, default MAX_EXACT_FEATURES
        Refuse inputs with more features (the cost doubles with each feature).
    max_rows_per_call : int, default 65536
        Largest batch passed to ``predict_fn`` (bounds the memory).

    Returns
    -------
    ndarray of shape (2**n_features,)
        Indexed by coalition, as in :func:`shapley_from_coalition_values`.
    """
    check_callable(predict_fn, "predict_fn")
    x = as_float_array(x, "x", ndim=1)
    background = as_float_array(background, "background", ndim=2)
    d = x.shape[0]
    if background.shape[1] != d:
        raise ValueError(f"background must have {d} columns like x, got shape {background.shape}")
    if len(background) == 0:
        raise ValueError("background must have at least one row")
    max_features = check_int(max_features, "max_features", 1, MAX_EXACT_FEATURES)
    if d > max_features:
        raise ValueError(f"exact enumeration of 2**{d} coalitions is too costly: got {d} features, "
                         f"at most max_features={max_features} allowed; use a sampling explainer")
    max_rows_per_call = check_int(max_rows_per_call, "max_rows_per_call", 1)
    masks = coalition_masks(d)                                    # (2**d, d)
    m = len(background)
    per_call = max(1, max_rows_per_call // m)                     # coalitions per predict call
    values = np.empty(len(masks))
    for start in range(0, len(masks), per_call):
        chunk = masks[start:start + per_call]
        # present features from x, absent ones from each background row: (chunk, m, d)
        hybrid = np.where(chunk[:, None, :], x[None, None, :], background[None, :, :])
        out = _check_predict_output(predict_fn(hybrid.reshape(-1, d)), len(chunk) * m)
        values[start:start + len(chunk)] = out.reshape(len(chunk), m).mean(axis=1)
    return values


def exact_shapley_values(predict_fn: Callable[[np.ndarray], Any], X: Any, background: Any, *,
                         max_features: int = MAX_EXACT_FEATURES) -> ShapleyValues:
    """Exact interventional Shapley values of ``predict_fn`` for each row of ``X``.

    Equal to ``shap.explainers.Exact(predict_fn, shap.maskers.Independent(background,
    max_samples=len(background)))(X)``.

    Parameters
    ----------
    predict_fn : callable
        Maps ``(n_rows, n_features)`` to ``(n_rows,)``, e.g. ``lambda X: model.predict_proba(X)[:, 1]``.
    X : array-like of shape (n_explained, n_features) or (n_features,)
        Rows to explain.
    background : array-like of shape (n_background, n_features)
        Background rows; ``base_value`` is the mean prediction over them.
    max_features : int, default MAX_EXACT_FEATURES
        Refuse inputs with more features.

    Returns
    -------
    ShapleyValues
        ``values`` of shape ``(n_explained, n_features)`` and ``base_value``.

    Raises
    ------
    TypeError
        If ``predict_fn`` is not callable or an array holds non-numbers.
    ValueError
        On NaN, mismatched numbers of features, more than ``max_features`` features, or a
        ``predict_fn`` that does not return one number per row.
    """
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    X = as_float_array(X, "X", ndim=(1, 2))
    X = X[None, :] if X.ndim == 1 else X
    background = as_float_array(background, "background", ndim=2)
    if X.shape[1] != background.shape[1]:
        raise ValueError(f"X and background must have the same number of features, "
                         f"got {X.shape[1]} and {background.shape[1]}")
    rows = [interventional_coalition_values(predict_fn, x, background, max_features=max_features) for x in X]
    base_value = float(rows[0][0]) if rows else float(
        _check_predict_output(predict_fn(background), len(background)).mean())
    values = np.array([shapley_from_coalition_values(v) for v in rows]).reshape(len(X), X.shape[1])
    return ShapleyValues(values, base_value)
