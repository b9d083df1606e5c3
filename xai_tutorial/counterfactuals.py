"""Counterfactual explanations: the smallest change to an input that flips the model's decision.

* Tabular data, after Wachter, Mittelstadt and Russell (2017): :func:`wachter_counterfactual` minimises

  .. math:: \\lambda\\,(f_t(x') - y')^2 + d(x, x'), \\qquad
     d(x, x') = \\sum_j \\frac{|x'_j - x_j|}{\\mathrm{MAD}_j}

  for a model whose output ``f_t`` (the probability of the target class ``t``) is differentiable,
  increasing ``lambda`` until the decision flips. ``MAD_j`` is the median absolute deviation of
  feature ``j`` in the reference data (:func:`median_absolute_deviation`); the weighted L1
  distance makes the counterfactual sparse. ``distance="l2"`` uses the squared Euclidean
  distance instead, whose counterfactual of a logistic regression is the orthogonal projection
  onto a level set of the model (:func:`linear_counterfactual` gives it in closed form).
  :func:`n_changed` counts the features that moved; :func:`plausibility` compares a
  counterfactual with the training data of its new class.
* Text: :func:`token_substitution_counterfactual` searches for the fewest token substitutions
  (one or two) that flip a text classifier, sending every candidate sentence through the
  model's predict function in batches.

The model is called only through a predict function (:mod:`xai_tutorial.forward`): the gradient
of the tabular objective is taken by central finite differences, all ``2 d`` shifted inputs in
one call, so any model with a smooth (or piecewise linear) output works, scikit-learn's
``predict_proba`` included.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from ._validation import (as_float_array, as_int_array, check_callable, check_choice, check_int,
                          check_number)
from .forward import explained_output, output_matrix

__all__ = ["median_absolute_deviation", "TabularCounterfactual", "wachter_counterfactual",
           "linear_counterfactual", "n_changed", "plausibility", "TokenSubstitution",
           "token_substitution_counterfactual", "DISTANCES", "SEARCHES", "SCALES"]

#: Distances :func:`wachter_counterfactual` can minimise.
DISTANCES: tuple[str, ...] = ("mad_l1", "l2")
#: Search strategies of :func:`token_substitution_counterfactual`.
SEARCHES: tuple[str, ...] = ("greedy", "exact")
#: Scales on which :func:`wachter_counterfactual` compares the prediction with the desired one.
SCALES: tuple[str, ...] = ("logit", "probability")


# --------------------------------------------------------------------------- tabular: helpers

def median_absolute_deviation(X: np.ndarray) -> np.ndarray:
    """Median absolute deviation of each feature, ``median_i |X_ij - median_k X_kj|``, shape (d,).

    A feature whose MAD is 0 (more than half of the rows share one value) gets its standard
    deviation instead, and a constant feature gets 1, so that every weight ``1 / MAD_j`` is finite.

    Parameters
    ----------
    X : array of shape (n, d)
        Reference data, e.g. the training set.

    Returns
    -------
    ndarray of shape (d,), positive

    Examples
    --------
    >>> median_absolute_deviation(np.array([[1.0, 0.0], [2.0, 0.0], [4.0, 0.0], [9.0, 4.0]]))
    array([1.5       , 1.73205081])
    """
    X = as_float_array(X, "X", ndim=2, nonempty=True)
    mad = np.median(np.abs(X - np.median(X, axis=0)), axis=0)
    std = X.std(axis=0)
    mad = np.where(mad > 0, mad, std)
    return np.where(mad > 0, mad, 1.0)


def n_changed(x: np.ndarray, x_cf: np.ndarray, *, tol: float = 1e-3) -> int:
    """Number of features in which ``x_cf`` differs from ``x`` by more than ``tol`` (sparsity).

    Examples
    --------
    >>> n_changed(np.zeros(3), np.array([0.0, 0.5, -1e-6]))
    1
    """
    a = as_float_array(x, "x", ndim=1, nonempty=True)
    b = as_float_array(x_cf, "x_cf", ndim=1)
    if a.shape != b.shape:
        raise ValueError(f"x and x_cf must have the same shape, got {a.shape} and {b.shape}")
    tol = check_number(tol, "tol", low=0)
    return int(np.sum(np.abs(b - a) > tol))


@dataclass(frozen=True)
class TabularCounterfactual:
    """The result of :func:`wachter_counterfactual`.

    Attributes
    ----------
    x, x_cf : ndarray of shape (d,)
        The input and its counterfactual.
    probability, original_probability : float
        ``f_t(x')`` and ``f_t(x)``, the model's probability of the target class.
    flipped : bool
        Whether the model's decision for ``x_cf`` is the target class.
    lam : float
        The value of lambda at which the search stopped.
    distance : float
        ``d(x, x')`` in the distance that was minimised.
    n_changed : int
        Features that moved by more than ``1e-3`` (see :func:`n_changed`).
    """

    x: np.ndarray
    x_cf: np.ndarray
    probability: float
    original_probability: float
    flipped: bool
    lam: float
    distance: float
    n_changed: int

    @property
    def delta(self) -> np.ndarray:
        """``x_cf - x``, shape (d,)."""
        return self.x_cf - self.x


def _decision_is(out: np.ndarray, target: int) -> np.ndarray:
    """Whether the model's decision (arg-max over the outputs, shape (n, k)) is ``target``."""
    return np.argmax(out, axis=1) == target


# --------------------------------------------------------------------------- tabular: Wachter et al.

def wachter_counterfactual(predict: Callable[[np.ndarray], Any], x: np.ndarray, X_reference: np.ndarray, *,
                           target: int, desired: float = 0.6, distance: str = "mad_l1",
                           scale: str = "logit",
                           lam: float | None = None, lam_factor: float = 2.0, max_rounds: int = 40,
                           n_iter: int = 1000, tol: float = 1e-6,
                           fd_step: float = 1e-5) -> TabularCounterfactual:
    """Counterfactual of a tabular input after Wachter et al. (2017).

    Minimises ``g(x') = lam * (f_t(x') - y')^2 + d(x, x')`` by accelerated proximal gradient
    descent (FISTA, with backtracking and restarts; the proximal step of the weighted L1 distance
    is a soft threshold, which sets features exactly back to their original value), for
    ``lam = lam_0, lam_0 * lam_factor, ...``, each round warm-started from the last, until the
    model's decision is ``target``.

    With ``scale="logit"`` (default) ``f_t`` is the log-odds of the target class and ``y'`` that of
    ``desired``; the paper compares the model's output itself (``scale="probability"``). On the
    logit scale the objective of a logistic regression is convex (a lasso), and the gradient does
    not vanish where the probability saturates near 0 or 1.

    Parameters
    ----------
    predict : callable
        Predict function, ``predict(X (n, d)) -> (n, k)`` class probabilities (k >= 2), e.g.
        scikit-learn's ``predict_proba`` or :func:`xai_tutorial.forward.predict_fn` of a softmax model.
    x : array of shape (d,)
        The input to explain, in the model's (standardized) features.
    X_reference : array of shape (n, d)
        Data that set the feature scales (the MAD of each feature); the training set.
    target : int
        The class the counterfactual should get.
    desired : float, default 0.6
        The target-class probability the prediction term pulls towards; in (0, 1). The
        search stops at the first lambda at which the decision flips, so the counterfactual lies
        just past the decision boundary, with ``f_t(x')`` between the boundary and ``desired``.
    distance : {"mad_l1", "l2"}, default "mad_l1"
        ``"mad_l1"``: ``sum_j |x'_j - x_j| / MAD_j``; ``"l2"``: ``||x' - x||^2``.
    scale : {"logit", "probability"}, default "logit"
        Scale of ``f_t`` and ``y'`` in the prediction term (see above).
    lam : float, optional
        First lambda. Default: the smallest lambda at which the gradient of the prediction term
        at ``x`` outweighs the distance term for some feature (below it, the MAD-L1 solution is
        ``x`` itself); for ``"l2"`` the same formula with unit weights.
    lam_factor : float, default 2.0
        Factor by which lambda grows each round (> 1).
    max_rounds : int, default 40
        Most values of lambda tried.
    n_iter : int, default 1000
        Most proximal-gradient steps per lambda.
    tol : float, default 1e-6
        A lambda's round ends when a step moves no feature by more than ``tol`` times the step
        size (the proximal-gradient optimality condition, to that precision), or when five steps
        in a row lower the objective by less than ``tol / 1000`` (relative).
    fd_step : float, default 1e-5
        Step of the central finite differences of the gradient.

    Returns
    -------
    TabularCounterfactual
        ``flipped`` is False if ``max_rounds`` values of lambda did not flip the decision.

    Examples
    --------
    >>> import numpy as np
    >>> w = np.array([2.0, 0.0])
    >>> f = lambda X: np.stack([1 - 1 / (1 + np.exp(-X @ w)), 1 / (1 + np.exp(-X @ w))], axis=1)
    >>> X_ref = np.random.default_rng(0).normal(size=(50, 2))
    >>> cf = wachter_counterfactual(f, np.array([-1.0, 0.5]), X_ref, target=1)
    >>> bool(cf.flipped), cf.n_changed, bool(0.5 < cf.probability <= 0.6)
    (True, 1, True)
    """
    check_callable(predict, "predict")
    xv = as_float_array(x, "x", ndim=1, nonempty=True)
    X_ref = as_float_array(X_reference, "X_reference", ndim=2, nonempty=True)
    if X_ref.shape[1] != xv.shape[0]:
        raise ValueError(f"X_reference must have {xv.shape[0]} features like x, got shape {X_ref.shape}")
    d = xv.shape[0]
    out0 = output_matrix(predict, xv[None], name="predict")
    k = out0.shape[1]
    if k < 2:
        raise ValueError(f"predict must return one probability per class (n, k >= 2), got {k} output(s)")
    if out0.min() < -1e-6 or out0.max() > 1 + 1e-6:
        raise ValueError(f"predict must return class probabilities in [0, 1], got values in "
                         f"[{out0.min():.3g}, {out0.max():.3g}]")
    target = check_int(target, "target", 0, k - 1)
    desired = check_number(desired, "desired", low=0, high=1, low_open=True, high_open=True)
    check_choice(distance, "distance", DISTANCES)
    check_choice(scale, "scale", SCALES)
    lam_factor = check_number(lam_factor, "lam_factor", low=1, low_open=True)
    max_rounds = check_int(max_rounds, "max_rounds", 1)
    n_iter = check_int(n_iter, "n_iter", 1)
    tol = check_number(tol, "tol", low=0, low_open=True)
    fd_step = check_number(fd_step, "fd_step", low=0, low_open=True)
    if lam is not None:
        lam = check_number(lam, "lam", low=0, low_open=True)

    weights = 1.0 / median_absolute_deviation(X_ref) if distance == "mad_l1" else np.ones(d)
    shifts = np.vstack([np.eye(d), -np.eye(d)]) * fd_step

    y_goal = float(np.log(desired) - np.log1p(-desired)) if scale == "logit" else desired

    def f_t(V: np.ndarray) -> np.ndarray:
        out = output_matrix(predict, xv + V, name="predict")
        p = out[:, target]
        if scale == "probability":
            return p
        # log-odds of the target against the other classes; the other columns, not 1 - p, keep
        # precision when p is within 1e-16 of 1
        rest = np.delete(out, target, axis=1).sum(axis=1)
        return np.log(np.maximum(p, 1e-300)) - np.log(np.maximum(rest, 1e-300))

    def loss_and_grad(v: np.ndarray) -> tuple[float, np.ndarray, float]:
        f = f_t(np.vstack([v[None], v + shifts]))
        grad_f = (f[1:d + 1] - f[d + 1:]) / (2 * fd_step)
        p = f[0] if scale == "probability" else 1 / (1 + np.exp(-f[0]))
        return (f[0] - y_goal) ** 2, 2 * (f[0] - y_goal) * grad_f, float(p)

    def dist(v: np.ndarray) -> float:
        return float(np.sum(weights * np.abs(v))) if distance == "mad_l1" else float(v @ v)

    def prox(u: np.ndarray, c: float) -> np.ndarray:  # argmin_v c * dist(v) + ||v - u||^2 / 2
        if distance == "mad_l1":
            return np.sign(u) * np.maximum(np.abs(u) - c * weights, 0.0)
        return u / (1.0 + 2.0 * c)

    v = np.zeros(d)
    _, g0, p_orig = loss_and_grad(v)
    if lam is None:
        lam = float(np.min(weights) / max(np.max(np.abs(g0)), 1e-12))
    step = 1.0
    flipped = bool(_decision_is(out0, target)[0])
    for _ in range(max_rounds):
        if flipped:
            break
        # minimise F(v) = h(v) + dist(v) / lam, h = (f_t - y')^2, by accelerated proximal gradient
        # (FISTA) with backtracking and a restart of the momentum whenever F goes up
        v_old, momentum = v.copy(), 1.0
        h_y, g_y, _ = loss_and_grad(v)
        F_v = h_y + dist(v) / lam
        y = v
        F_old, stalled = F_v, 0
        for _ in range(n_iter):
            step *= 1.2
            while True:
                v_new = prox(y - step * g_y, step / lam)
                diff = v_new - y
                h_new = float((f_t(v_new[None])[0] - y_goal) ** 2)
                if h_new <= h_y + g_y @ diff + diff @ diff / (2 * step) + 1e-15 or step < 1e-12:
                    break
                step *= 0.5
            F_new = h_new + dist(v_new) / lam
            if F_new > F_v and momentum > 1.0:  # restart from v without momentum
                momentum, y = 1.0, v
                h_y, g_y, _ = loss_and_grad(y)
                continue
            moved = float(np.max(np.abs(diff)))
            next_momentum = (1 + np.sqrt(1 + 4 * momentum ** 2)) / 2
            v_old, v = v, v_new
            y = v + (momentum - 1) / next_momentum * (v - v_old)
            momentum, F_v = next_momentum, F_new
            h_y, g_y, _ = loss_and_grad(y)
            stalled = stalled + 1 if F_old - F_new <= 1e-3 * tol * (1.0 + abs(F_new)) else 0
            F_old = F_new
            if moved < tol * step or stalled >= 5:  # the gradient mapping is ~0, or F stopped falling
                break
        flipped = bool(_decision_is(output_matrix(predict, (xv + v)[None], name="predict"), target)[0])
        if not flipped:
            lam *= lam_factor
    _, _, p_cf = loss_and_grad(v)
    x_cf = xv + v
    return TabularCounterfactual(x=xv, x_cf=x_cf, probability=p_cf, original_probability=p_orig,
                                 flipped=flipped, lam=float(lam), distance=dist(v),
                                 n_changed=n_changed(xv, x_cf))


def linear_counterfactual(w: np.ndarray, b: float, x: np.ndarray, *, level: float = 0.0) -> np.ndarray:
    """The closest point (in Euclidean distance) to ``x`` on the hyperplane ``w . x' + b = level``.

    ``x' = x + (level - w . x - b) / ||w||^2 * w``: for a logistic regression with weights ``w``
    and bias ``b``, ``level = 0`` is the decision boundary and ``level = logit(p)`` the set where
    the model says ``p``.

    Parameters
    ----------
    w : array of shape (d,), not all zero
    b : float
    x : array of shape (d,)
    level : float, default 0.0

    Returns
    -------
    ndarray of shape (d,)

    Examples
    --------
    >>> linear_counterfactual(np.array([1.0, 1.0]), 0.0, np.array([-1.0, -3.0]))
    array([ 1., -1.])
    """
    wv = as_float_array(w, "w", ndim=1, nonempty=True)
    xv = as_float_array(x, "x", ndim=1)
    if xv.shape != wv.shape:
        raise ValueError(f"x must have shape {wv.shape} like w, got {xv.shape}")
    b = check_number(b, "b")
    level = check_number(level, "level")
    norm2 = float(wv @ wv)
    if norm2 == 0:
        raise ValueError("w must not be all zero (a constant model has no decision boundary)")
    return xv + (level - float(wv @ xv) - b) / norm2 * wv


def plausibility(x_cf: np.ndarray, X_reference: np.ndarray, y_reference: np.ndarray, *, target: int,
                 n_neighbors: int = 20) -> dict[str, Any]:
    """How much a counterfactual looks like real data of its new class.

    Parameters
    ----------
    x_cf : array of shape (d,) or (m, d)
        One counterfactual, or m of them (all of class ``target``).
    X_reference : array of shape (n, d)
        Training data.
    y_reference : int array of shape (n,)
        Their labels.
    target : int
        The counterfactual's class; it must occur in ``y_reference``.
    n_neighbors : int, default 20
        Neighbours of the local outlier factor (at most the class size minus 1).

    Returns
    -------
    dict
        Floats for one counterfactual, arrays of shape (m,) for m (except the typical distance,
        a float). ``"nearest distance"``: Euclidean distance from ``x_cf`` to the nearest reference point of
        class ``target``; ``"typical nearest distance"``: the median, over the reference points of
        that class, of the distance to their nearest other point of the class (the scale to
        compare with); ``"share in range"``: the share of features inside the class's range
        [min, max]; ``"lof"``: scikit-learn's local outlier factor of ``x_cf`` against the class
        (about 1 for an inlier, well above 1 for an outlier).

    Examples
    --------
    >>> X = np.random.default_rng(0).normal(size=(60, 2)); y = np.arange(60) % 2
    >>> p = plausibility(np.array([8.0, 8.0]), X, y, target=1)
    >>> p["share in range"], bool(p["lof"] > 2)
    (0.0, True)
    """
    from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

    X = as_float_array(X_reference, "X_reference", ndim=2, nonempty=True)
    z = as_float_array(x_cf, "x_cf", ndim=(1, 2))
    single = z.ndim == 1
    z = np.atleast_2d(z)
    if z.shape[1] != X.shape[1]:
        raise ValueError(f"x_cf must have {X.shape[1]} features like X_reference, got {z.shape[1]}")
    y = as_int_array(y_reference, "y_reference", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y_reference must have one label per row of X_reference ({X.shape[0]}), got {y.shape[0]}")
    target = check_int(target, "target")
    Xc = X[y == target]
    if len(Xc) < 3:
        raise ValueError(f"target {target} must label at least 3 rows of y_reference, got {len(Xc)}")
    n_neighbors = check_int(n_neighbors, "n_neighbors", 1, len(Xc) - 1)
    nn = NearestNeighbors(n_neighbors=2).fit(Xc)
    nearest = nn.kneighbors(z, n_neighbors=1)[0][:, 0]
    typical = float(np.median(nn.kneighbors(Xc)[0][:, 1]))
    inside = np.mean((z >= Xc.min(axis=0)) & (z <= Xc.max(axis=0)), axis=1)
    lof = -LocalOutlierFactor(n_neighbors=n_neighbors, novelty=True).fit(Xc).score_samples(z)
    if single:
        return {"nearest distance": float(nearest[0]), "typical nearest distance": typical,
                "share in range": float(inside[0]), "lof": float(lof[0])}
    return {"nearest distance": nearest, "typical nearest distance": typical, "share in range": inside,
            "lof": lof}


# --------------------------------------------------------------------------- text: token substitution

@dataclass(frozen=True)
class TokenSubstitution:
    """The result of :func:`token_substitution_counterfactual`.

    Attributes
    ----------
    token_ids : ndarray of shape (seq_len,)
        The sentence with the substitutions made.
    positions : tuple of int
        Positions substituted, in increasing order (empty if none was needed or found).
    old_tokens, new_tokens : tuple of int
        The token ids that were there and the ones put there, one per position.
    probability, original_probability : float
        The explained output after and before the substitutions.
    flipped : bool
        Whether the decision (output above ``threshold``) changed. If False, the fields describe
        the best attempt: the substitutions that moved the output most towards the threshold.
    """

    token_ids: np.ndarray
    positions: tuple[int, ...]
    old_tokens: tuple[int, ...]
    new_tokens: tuple[int, ...]
    probability: float
    original_probability: float
    flipped: bool

    @property
    def size(self) -> int:
        """Number of substituted tokens."""
        return len(self.positions)


def _substitute(ids: np.ndarray, positions: np.ndarray, tokens: np.ndarray) -> np.ndarray:
    """Copies of ``ids`` (seq_len,) with ``ids[positions[i]] = tokens[i]``; positions (m, r), tokens (m, r)."""
    out = np.repeat(ids[None], len(positions), axis=0)
    rows = np.arange(len(positions))[:, None]
    out[rows, positions] = tokens
    return out


def token_substitution_counterfactual(predict: Callable[[np.ndarray], Any], token_ids: np.ndarray,
                                      candidates: np.ndarray, *, max_substitutions: int = 2,
                                      search: str = "greedy", target: int | None = None,
                                      threshold: float = 0.5, pad_id: int = 0,
                                      max_evaluations: int = 2_000_000) -> TokenSubstitution:
    """The fewest token substitutions (up to ``max_substitutions``) that flip a text model's decision.

    Every real token (not ``pad_id``) may be replaced by any of the ``candidates``. Sizes are
    tried in order 1, 2, ...: the first size at which some substitution flips the decision is
    the answer, and among the flips of that size the one that moves the output furthest past the
    threshold is returned (ties: the first position, then the first candidate).

    * ``search="exact"`` tries every set of ``r`` positions with every combination of
      candidates, ``C(L, r) * V^r`` sentences for ``L`` real tokens and ``V`` candidates.
    * ``search="greedy"`` (default) is exact for one substitution; for size ``r + 1`` it keeps the
      best size-``r`` substitution (the one that moved the output most towards the threshold) and
      tries every further single substitution at another position, ``(L - r) * V`` sentences. It
      can miss a pair that flips only together.

    Parameters
    ----------
    predict : callable
        Predict function, e.g. :func:`xai_tutorial.forward.predict_fn` of the text classifier.
    token_ids : int array of shape (seq_len,)
        One sentence.
    candidates : int array of shape (V,)
        Token ids that may be substituted in (e.g. the most frequent words of the vocabulary).
    max_substitutions : int, default 2
        Largest number of tokens substituted (1 to 3).
    search : {"greedy", "exact"}, default "greedy"
    target : None or int
        Output column, as in :func:`xai_tutorial.forward.explained_output`.
    threshold : float, default 0.5
        The decision is "output > threshold".
    pad_id : int, default 0
        Id of padding, which is never substituted.
    max_evaluations : int, default 2,000,000
        Refuse an exact search that would send more sentences than this through the model.

    Returns
    -------
    TokenSubstitution

    Examples
    --------
    >>> f = lambda X: 1 / (1 + np.exp(-(np.isin(X, [5]).sum(axis=1) - 0.5) * 4))   # "5" is positive
    >>> cf = token_substitution_counterfactual(f, np.array([2, 3, 4, 0]), np.array([5, 6]))
    >>> cf.positions, cf.new_tokens, cf.flipped
    ((0,), (5,), True)
    """
    check_callable(predict, "predict")
    ids = as_int_array(token_ids, "token_ids", ndim=1, low=0, nonempty=True)
    cand = as_int_array(candidates, "candidates", ndim=1, low=0, nonempty=True)  # order breaks ties
    if len(np.unique(cand)) != len(cand):
        raise ValueError(f"candidates must not repeat a token id, got {len(cand) - len(np.unique(cand))} repeat(s)")
    max_substitutions = check_int(max_substitutions, "max_substitutions", 1, 3)
    check_choice(search, "search", SEARCHES)
    threshold = check_number(threshold, "threshold")
    pad_id = check_int(pad_id, "pad_id", 0)
    max_evaluations = check_int(max_evaluations, "max_evaluations", 1)
    if np.any(cand == pad_id):
        raise ValueError(f"candidates must not contain the padding id {pad_id}")
    real = np.flatnonzero(ids != pad_id)
    if real.size == 0:
        raise ValueError("token_ids must contain at least one real (non-padding) token")

    p0 = float(explained_output(predict, ids[None], target, name="predict")[0])
    positive = p0 > threshold
    sign = -1.0 if positive else 1.0  # direction in which the output must move

    def evaluate(pos: np.ndarray, tok: np.ndarray, base: np.ndarray) -> np.ndarray:
        keep = ~np.any(base[pos] == tok, axis=1)  # a "substitution" by the same token changes nothing
        p = np.full(len(pos), np.nan)
        if keep.any():
            p[keep] = explained_output(predict, _substitute(base, pos[keep], tok[keep]), target, name="predict")
        return p

    def pick(pos: np.ndarray, tok: np.ndarray, p: np.ndarray) -> tuple[int, bool]:
        score = np.where(np.isnan(p), -np.inf, sign * (p - threshold))
        top = np.max(score)
        # the first (lowest position, then first candidate) of the maxima, up to round-off
        best = int(np.argmax(score >= top - 1e-12)) if np.isfinite(top) else 0
        return best, bool(np.isfinite(score[best]) and score[best] > 0)

    def result(pos: tuple[int, ...], tok: tuple[int, ...], p: float, flipped: bool) -> TokenSubstitution:
        order = np.argsort(pos)
        pos_s = tuple(int(pos[i]) for i in order)
        tok_s = tuple(int(tok[i]) for i in order)
        new = ids.copy()
        new[list(pos_s)] = tok_s
        return TokenSubstitution(new, pos_s, tuple(int(ids[i]) for i in pos_s), tok_s, float(p), p0, flipped)

    V = len(cand)
    best_attempt: tuple[tuple[int, ...], tuple[int, ...], float] | None = None
    fixed_pos: list[int] = []
    fixed_tok: list[int] = []
    base = ids
    for r in range(1, max_substitutions + 1):
        if search == "exact":
            sets = np.array(list(combinations(real.tolist(), r)), dtype=np.int64).reshape(-1, r)
            if len(sets) * V ** r > max_evaluations:
                raise ValueError(f"an exact search of {r} substitutions needs {len(sets) * V ** r} model "
                                 f"calls, more than max_evaluations={max_evaluations}; use search='greedy'")
            toks = np.array(np.meshgrid(*[cand] * r, indexing="ij")).reshape(r, -1).T  # (V^r, r)
            pos = np.repeat(sets, len(toks), axis=0)
            tok = np.tile(toks, (len(sets), 1))
            p = evaluate(pos, tok, ids)
            best, flipped = pick(pos, tok, p)
            attempt = (tuple(pos[best]), tuple(tok[best]), float(p[best]))
        else:
            free = np.setdiff1d(real, fixed_pos)
            if free.size == 0:
                break
            pos1 = np.repeat(free, V)[:, None]
            tok1 = np.tile(cand, free.size)[:, None]
            p = evaluate(pos1, tok1, base)
            best, flipped = pick(pos1, tok1, p)
            attempt = (tuple(fixed_pos) + (int(pos1[best, 0]),), tuple(fixed_tok) + (int(tok1[best, 0]),),
                       float(p[best]))
        if np.isnan(attempt[2]):
            break
        if flipped:
            return result(*attempt, flipped=True)
        if best_attempt is None or sign * (attempt[2] - best_attempt[2]) > 0:
            best_attempt = attempt
        if search == "greedy":
            fixed_pos, fixed_tok = list(attempt[0]), list(attempt[1])
            base = ids.copy()
            base[fixed_pos] = fixed_tok
    if best_attempt is None:
        return TokenSubstitution(ids.copy(), (), (), (), p0, p0, False)
    return result(*best_attempt, flipped=False)
