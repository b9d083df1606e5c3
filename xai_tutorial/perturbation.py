"""Perturbation methods: change parts of the input and watch the model's output.

* :func:`occlusion` (leave-one-out): the drop in the output when one position is replaced.
* Faithfulness curves and scores of an attribution (does the model really depend on what the
  attribution calls important?): :func:`deletion_curve`, :func:`insertion_curve` and
  :func:`curve_auc` (Samek et al. 2017; Petsiuk et al. 2018), :func:`comprehensiveness` and
  :func:`sufficiency` (DeYoung et al. 2020).

Every function takes a predict function and a ``target`` as defined in :mod:`xai_tutorial.forward`,
and evaluates all perturbed copies of a batch in one call of the predict function.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._validation import as_bool_mask, as_float_array, check_callable, check_int
from .forward import check_target, explained_output, output_matrix

__all__ = ["occlusion", "deletion_curve", "insertion_curve", "curve_auc", "comprehensiveness",
           "sufficiency", "ERASER_FRACTIONS"]

#: The fractions of tokens of the ERASER benchmark's aggregate faithfulness scores.
ERASER_FRACTIONS: tuple[float, ...] = (0.01, 0.05, 0.10, 0.20, 0.50)


def _check_inputs(x) -> np.ndarray:
    """``x`` as a numeric array of shape (batch, n_positions, ...); integer ids keep their dtype."""
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"x must be a numeric array of shape (batch, n_positions, ...), got {type(x).__name__}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"x must hold numbers (token ids or features), got dtype {arr.dtype}")
    if arr.ndim < 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"x must have shape (batch, n_positions, ...) with at least one example and "
                         f"one position, e.g. token ids (batch, seq_len), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        as_float_array(arr, "x")
    return arr


def _fill(fill_value, arr: np.ndarray) -> np.ndarray:
    """``fill_value`` in ``arr``'s dtype; a value that the dtype cannot hold is an error."""
    if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float, np.integer, np.floating)):
        raise TypeError(f"fill_value must be a number, got {type(fill_value).__name__}")
    if not np.isfinite(fill_value):
        raise ValueError(f"fill_value must be finite, got {fill_value}")
    fill = np.asarray(fill_value, dtype=arr.dtype)
    if fill != fill_value:
        raise ValueError(f"fill_value {fill_value!r} cannot be stored in x's dtype {arr.dtype} "
                         "(token ids need a whole number)")
    return fill

def occlusion(predict_fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, *,
              fill_value: float = 0.0, valid: np.ndarray | None = None,
              target: int | np.ndarray | None = None) -> np.ndarray:
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
    target : int or int array of shape (batch,), optional
        Output column when ``predict_fn`` returns (n, k) with k > 1 (see :mod:`~xai_tutorial.forward`).

    Returns
    -------
    ndarray of shape (batch, n_positions)
    """
    check_callable(predict_fn, "predict_fn")
    arr = _check_inputs(x)
    fill = _fill(fill_value, arr)
    batch, n_pos = arr.shape[:2]
    valid = as_bool_mask(valid, "valid", (batch, n_pos))
    tgt = check_target(target, batch)

    full = explained_output(predict_fn, arr, tgt)
    copies = np.repeat(arr[None], n_pos, axis=0)  # (n_pos, batch, n_pos, ...)
    idx = np.arange(n_pos)
    copies[idx, :, idx] = fill
    occluded = explained_output(predict_fn, copies.reshape((n_pos * batch,) + arr.shape[1:]),
                                None if tgt is None else np.tile(tgt, n_pos)).reshape(n_pos, batch)
    return np.where(valid, (full[None, :] - occluded).T, 0.0)


# --------------------------------------------------------------------------- faithfulness

def _prepare_perturbation(predict_fn: Callable, x: np.ndarray, scores: np.ndarray,
                          valid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check the common inputs; return ``x``, the valid mask and each position's importance rank.

    ``rank[i, j]`` is 0 for the most important real position of example ``i``, 1 for the next,
    ...; padding positions get ranks after all real ones. Ties keep the left-to-right order.
    """
    check_callable(predict_fn, "predict_fn")
    arr = _check_inputs(x)
    s = as_float_array(scores, "scores", ndim=2)
    if s.shape != arr.shape[:2]:
        raise ValueError(f"scores must have shape (batch, n_positions) = {arr.shape[:2]}, got {s.shape}")
    v = as_bool_mask(valid, "valid", s.shape)
    empty = np.flatnonzero(~v.any(axis=1))
    if empty.size:
        raise ValueError(f"every example needs at least one real (valid) position; example(s) "
                         f"{empty[:5].tolist()} have none")
    key = np.where(v, -s, np.inf)  # ascending sort of -score = most important first
    order = np.argsort(key, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(s.shape[1])[None, :].repeat(s.shape[0], 0), axis=1)
    return arr, v, rank


def _n_positions(fractions: np.ndarray, n_valid: np.ndarray) -> np.ndarray:
    """How many positions a fraction covers: ``ceil(f * n)`` per example, shape (n_fractions, batch).

    Rounding up keeps at least one position for any ``f > 0`` (1% of a 15-token sentence is one
    token, not none); the inner ``round`` removes float noise such as ``0.3 * 10 = 3.0000000000000004``.
    """
    return np.ceil(np.round(fractions[:, None] * n_valid[None, :], 9)).astype(np.int64)


def _perturbed_copies(arr: np.ndarray, v: np.ndarray, rank: np.ndarray, counts: np.ndarray,
                      fill_value: float, keep: bool) -> np.ndarray:
    """Copies of ``arr`` of shape (n_fractions, batch, n_positions, ...).

    ``keep=False`` (deletion) replaces the ``counts`` top-ranked real positions by ``fill_value``;
    ``keep=True`` (insertion) keeps only them and replaces every other real position.
    """
    top = rank[None, :, :] < counts[:, :, None]  # (n_fractions, batch, n_positions)
    replace = (v[None] & ~top) if keep else top
    replace = replace.reshape(replace.shape + (1,) * (arr.ndim - 2))
    return np.where(replace, _fill(fill_value, arr), arr[None])


def _class_probabilities(predict_fn: Callable, stacked: np.ndarray, n_copies: int, batch: int,
                         full_index: int, target: int | np.ndarray | None) -> np.ndarray:
    """Predict all copies in one call; probability of the explained class, shape (batch, n_copies).

    ``stacked`` has shape (n_copies * batch, ...); copy ``full_index`` is the unperturbed input,
    whose predicted class is explained when ``target`` is None.
    """
    out = output_matrix(predict_fn, stacked)
    if out.shape[1] == 1:
        out = out[:, 0]
    binary = out.ndim == 1
    if binary:  # one probability per input: P(class 1) of a binary classifier
        if out.min() < 0 or out.max() > 1:
            raise ValueError("predict_fn returns one number per input, read as P(class 1) of a binary "
                             f"classifier, so it must lie in [0, 1]; got values in [{out.min():.3g}, "
                             f"{out.max():.3g}] (return probabilities, or (n, n_classes) scores)")
        out = np.stack([1.0 - out, out], axis=1)
    probs = out.reshape(n_copies, batch, out.shape[1])
    n_classes = probs.shape[2]
    if target is None and binary:
        t = (probs[full_index, :, 1] >= 0.5).astype(np.int64)  # class 1 from p = 0.5 on
    elif target is None:
        t = np.argmax(probs[full_index], axis=1)  # ties go to the lower class
    else:
        t = target
        if t.max() >= n_classes:
            raise ValueError(f"target must lie in [0, {n_classes - 1}] for {n_classes} classes, got "
                             f"values in [{t.min()}, {t.max()}]")
    return probs[:, np.arange(batch), t].T


def _curve(predict_fn, x, scores, valid, fill_value, steps, target, keep: bool) -> np.ndarray:
    arr, v, rank = _prepare_perturbation(predict_fn, x, scores, valid)
    steps = check_int(steps, "steps", 1)
    target = check_target(target, arr.shape[0])
    fractions = np.linspace(0.0, 1.0, steps + 1)
    counts = _n_positions(fractions, v.sum(axis=1))
    copies = _perturbed_copies(arr, v, rank, counts, fill_value, keep)
    batch = arr.shape[0]
    stacked = copies.reshape((-1,) + arr.shape[1:])
    full = steps if keep else 0  # the copy that equals x
    return _class_probabilities(predict_fn, stacked, steps + 1, batch, full, target)


def deletion_curve(predict_fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, scores: np.ndarray,
                   valid: np.ndarray | None = None, *, fill_value: float = 0, steps: int = 10,
                   target: int | np.ndarray | None = None) -> np.ndarray:
    """Probability of the explained class as real positions are removed, most important first.

    At fraction ``f`` the ``ceil(f * n)`` highest-scoring of an example's ``n`` real positions are
    replaced by ``fill_value`` (token id 0 = padding removes a token). A faithful attribution makes
    the probability fall fast: a low area under the curve (:func:`curve_auc`) is good
    (Samek et al. 2017; Petsiuk et al. 2018). All ``batch * (steps + 1)`` perturbed copies are
    predicted in one call of ``predict_fn``.

    Parameters
    ----------
    predict_fn : callable
        NumPy function from an array shaped like ``x`` with any batch size ``m`` to probabilities
        of shape (m,) (read as P(class 1) of a binary classifier) or (m, n_classes).
    x : array of shape (batch, n_positions, ...)
        Inputs, e.g. token ids (batch, seq_len) with 0 for padding; integer arrays keep their dtype.
    scores : array of shape (batch, n_positions)
        Attribution of each position to the explained class (larger = more important). Orient a
        signed attribution of P(class 1) towards the explained class before passing it.
    valid : bool array of shape (batch, n_positions), optional
        Real positions; padding is never removed. Default: all positions.
    fill_value : float, default 0
        What a removed position becomes.
    steps : int, default 10
        Number of equal steps from fraction 0 to 1; the curve has ``steps + 1`` points.
    target : int or int array of shape (batch,), optional
        Class to follow; default each example's predicted class on the unperturbed input
        (class 1 where P(class 1) >= 0.5 for a binary output, else the arg-max).

    Returns
    -------
    ndarray of shape (batch, steps + 1)
        Column ``j`` is the probability after removing the fraction ``j / steps`` of the real
        positions; column 0 is the prediction on ``x`` itself.
    """
    return _curve(predict_fn, x, scores, valid, fill_value, steps, target, keep=False)


def insertion_curve(predict_fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, scores: np.ndarray,
                    valid: np.ndarray | None = None, *, fill_value: float = 0, steps: int = 10,
                    target: int | np.ndarray | None = None) -> np.ndarray:
    """Probability of the explained class as real positions are put back, most important first.

    Starts from ``x`` with every real position replaced by ``fill_value`` and restores the
    ``ceil(f * n)`` highest-scoring ones at fraction ``f``. A faithful attribution makes the
    probability rise fast: a high area under the curve is good. Arguments as in
    :func:`deletion_curve`; the explained class is (by default) the one predicted on ``x``.

    Returns
    -------
    ndarray of shape (batch, steps + 1)
        Column ``j`` is the probability with the top ``j / steps`` of the real positions present;
        the last column is the prediction on ``x`` itself.
    """
    return _curve(predict_fn, x, scores, valid, fill_value, steps, target, keep=True)


def curve_auc(curve: np.ndarray) -> float | np.ndarray:
    """Normalised area under a deletion or insertion curve (trapezoid rule on [0, 1]).

    Parameters
    ----------
    curve : array of shape (n_points,) or (batch, n_points)
        Values at the equally spaced fractions ``0, 1/(n_points-1), ..., 1``; ``n_points >= 2``.

    Returns
    -------
    float, or ndarray of shape (batch,)
        The area divided by the width of the interval (1): a probability curve gives a number in
        [0, 1], and a constant curve ``c`` gives ``c``.
    """
    c = as_float_array(curve, "curve", ndim=(1, 2))
    if c.shape[-1] < 2:
        raise ValueError(f"curve needs at least 2 points along its last axis, got shape {c.shape}")
    area = (c.sum(axis=-1) - 0.5 * (c[..., 0] + c[..., -1])) / (c.shape[-1] - 1)
    return float(area) if c.ndim == 1 else area


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    f = as_float_array(fractions, "fractions", ndim=1)
    if f.size == 0 or f.min() <= 0 or f.max() > 1:
        raise ValueError(f"fractions must be a non-empty list of numbers in (0, 1], got {f.tolist()}")
    return f


def _aopc(predict_fn, x, scores, valid, fill_value, fractions, target, keep: bool) -> np.ndarray:
    arr, v, rank = _prepare_perturbation(predict_fn, x, scores, valid)
    f = _check_fractions(fractions)
    target = check_target(target, arr.shape[0])
    counts = np.concatenate([np.zeros((1, arr.shape[0]), dtype=np.int64),
                             _n_positions(f, v.sum(axis=1))])
    if keep:  # copy 0 must be x itself: keep every real position
        counts[0] = arr.shape[1]
    copies = _perturbed_copies(arr, v, rank, counts, fill_value, keep)
    stacked = copies.reshape((-1,) + arr.shape[1:])
    p = _class_probabilities(predict_fn, stacked, len(f) + 1, arr.shape[0], 0, target)
    return (p[:, :1] - p[:, 1:]).mean(axis=1)


def comprehensiveness(predict_fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, scores: np.ndarray,
                      valid: np.ndarray | None = None, *, fill_value: float = 0,
                      fractions: Sequence[float] = ERASER_FRACTIONS,
                      target: int | np.ndarray | None = None) -> np.ndarray:
    """Drop in the explained class's probability when the top-scored positions are removed.

    ``comp = mean_k [ p(x) - p(x without its top k%) ]`` over the fractions ``k``
    (DeYoung et al. 2020, averaged over bins as in the ERASER reference code). The top ``k%``
    of an example's ``n`` real positions is its ``ceil(k * n)`` highest-scoring ones. Higher is
    better: removing what the attribution calls important should hurt the prediction.

    Parameters
    ----------
    predict_fn, x, scores, valid, fill_value, target :
        As in :func:`deletion_curve`.
    fractions : sequence of float in (0, 1], default (0.01, 0.05, 0.1, 0.2, 0.5)
        The bins ``k``.

    Returns
    -------
    ndarray of shape (batch,)
        One score per example, in [-1, 1] for probabilities.
    """
    return _aopc(predict_fn, x, scores, valid, fill_value, fractions, target, keep=False)


def sufficiency(predict_fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray, scores: np.ndarray,
                valid: np.ndarray | None = None, *, fill_value: float = 0,
                fractions: Sequence[float] = ERASER_FRACTIONS,
                target: int | np.ndarray | None = None) -> np.ndarray:
    """Drop in the explained class's probability when only the top-scored positions are kept.

    ``suff = mean_k [ p(x) - p(only the top k% of x) ]`` (DeYoung et al. 2020): every other
    real position is replaced by ``fill_value``. Lower is better (it can be negative: the
    rationale alone may be more convincing than the whole input). Arguments and return value as
    in :func:`comprehensiveness`.
    """
    return _aopc(predict_fn, x, scores, valid, fill_value, fractions, target, keep=True)
