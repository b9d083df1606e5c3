"""Checkers for the exercises of chapter 2, *Core concepts: attention and three kinds of explanation*.

Each checker computes the expected answer itself and returns a
:class:`~xai_tutorial.exercises.Feedback` that says what is right or, for the usual mistakes,
what exactly is wrong.

A wrong *answer* (the first argument) never raises: it gets a Feedback that explains the problem.
Wrong *context* arguments (data of the wrong shape, ``k`` out of range) raise ``TypeError`` or
``ValueError``, because they are a bug in the calling cell rather than a wrong solution.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .._validation import as_float_array, as_int_array, check_int
from ..attention import softmax
from .core import (Feedback, answer_array, answer_number, call, check_array, checker, describe,
                   function_name, require_callable)

__all__ = ["attend", "check_attend", "nearest_neighbours", "check_nearest_neighbours", "fidelity",
           "check_fidelity", "FAMILY_QUIZ", "FAMILIES", "check_families", "check_linear_counterfactual"]


# --------------------------------------------------------------------------- exercise 1

def _attention_inputs(query: Any, keys: Any, values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    q = as_float_array(query, "query", ndim=1)
    k = as_float_array(keys, "keys", ndim=2)
    v = as_float_array(values, "values", ndim=2)
    if k.shape[1] != q.shape[0]:
        raise ValueError(f"keys must have shape (n_keys, {q.shape[0]}) to match the query, got {k.shape}")
    if v.shape[0] != k.shape[0]:
        raise ValueError(f"values must have one row per key ({k.shape[0]}), got shape {v.shape}")
    return q, k, v


def attend(query: Any, keys: Any, values: Any) -> np.ndarray:
    """Scaled dot-product attention of one query: ``softmax(K q / sqrt(d)) V``.

    Parameters
    ----------
    query : array of shape (d,)
    keys : array of shape (n_keys, d)
    values : array of shape (n_keys, d_v)

    Returns
    -------
    ndarray of shape (d_v,)
        The attention-weighted average of the values.
    """
    q, k, v = _attention_inputs(query, keys, values)
    return softmax(k @ q / np.sqrt(q.shape[0])) @ v


def _attend_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(2)
    cases = []
    for d, n, d_v in ((4, 5, 3), (8, 3, 2), (2, 6, 4)):
        cases.append((rng.normal(size=d), rng.normal(size=(n, d)), rng.normal(size=(n, d_v))))
    q = np.array([40.0, -25.0, 30.0])  # large scores: a naive exp overflows
    k = np.array([[30.0, 10.0, 25.0], [-20.0, 35.0, 5.0], [28.0, -12.0, 27.0], [0.0, 0.0, 1.0]])
    cases.append((q, k, rng.normal(size=(4, 2))))
    return cases


@checker
def check_attend(fn: Any) -> Feedback:
    """Check a learner's ``fn(query, keys, values) -> output`` against ``softmax(K q / sqrt(d)) V``.

    ``fn`` is called on four fixed test cases (the last one with large scores, where a softmax
    without the max-subtraction trick overflows); the first failing case is diagnosed.
    """
    require_callable(fn, "a function attend(query, keys, values)")
    label = function_name(fn)
    cases = _attend_cases()
    for i, (q, k, v) in enumerate(cases, start=1):
        where = f" on test case {i} (query {q.shape}, keys {k.shape}, values {v.shape})"
        got = call(fn, q, k, v, name=label, case=where.strip())
        if isinstance(got, tuple) and len(got) == 2:
            return Feedback(False, f"{label} returned a pair; return only the weighted average of the "
                                   "values, shape (d_v,)")
        a = answer_array(got, f"the result of {label}")
        scores = k @ q / np.sqrt(q.shape[0])
        weights = softmax(scores)
        expected = weights @ v
        if a.shape == weights.shape and a.shape != expected.shape:
            return Feedback(False, f"{label} returned {a.shape[0]} numbers, one per key: those are the "
                                   f"weights; return their weighted average of the values, shape "
                                   f"{expected.shape}{where}")
        if a.shape != expected.shape:
            if a.shape == (q.shape[0],):
                return Feedback(False, f"{label} returned shape {a.shape}, the size of a key; average "
                                       f"the values, not the keys (expected shape {expected.shape}){where}")
            return Feedback(False, f"{label} returned shape {a.shape}, expected {expected.shape}{where}")
        if not np.all(np.isfinite(a)):
            return Feedback(False, f"{label} returned NaN or inf{where}: exp overflowed on large scores; "
                                   "subtract the largest score before exponentiating (softmax is "
                                   "unchanged by a constant shift)")
        if np.allclose(a, expected, rtol=1e-6, atol=1e-9):
            continue
        with np.errstate(over="ignore", invalid="ignore"):  # exp of the large scores of case 4
            candidates = (
                (softmax(k @ q) @ v, "these weights come from unscaled scores q·k; divide the scores by "
                                     "sqrt(d) before the softmax"),
                (v.mean(axis=0), "this is the plain mean of the values (uniform weights); weight each "
                                 "value by the softmax of its score"),
                (v[np.argmax(scores)], "this is the value of the single best-matching key (a hard max); "
                                       "use the softmax of the scores as soft weights"),
                (np.exp(scores) @ v, "the weights do not sum to 1; divide exp(scores) by their sum"),
            )
            for wrong, hint in candidates:
                if np.allclose(a, wrong, rtol=1e-6, atol=1e-9):
                    return Feedback(False, hint + where)
        res = check_array(a, expected, name=f"the result of {label}", rtol=1e-6, atol=1e-9)
        return Feedback(False, res.message + where)
    return Feedback(True, f"{label} agrees with softmax(K q / sqrt(d)) V on all {len(cases)} test "
                          "cases, including one with large scores.")


# --------------------------------------------------------------------------- exercise 2

def _neighbour_inputs(X_train: Any, x: Any, k: Any) -> tuple[np.ndarray, np.ndarray, int]:
    X = as_float_array(X_train, "X_train", ndim=2)
    xv = as_float_array(x, "x", ndim=1)
    if xv.shape[0] != X.shape[1]:
        raise ValueError(f"x must have {X.shape[1]} features like X_train, got {xv.shape[0]}")
    k = check_int(k, "k", 1, X.shape[0])
    return X, xv, k


def nearest_neighbours(X_train: Any, x: Any, k: int) -> np.ndarray:
    """Indices of the ``k`` rows of ``X_train`` closest to ``x`` in Euclidean distance, nearest first.

    Parameters
    ----------
    X_train : array of shape (n_train, n_features)
    x : array of shape (n_features,)
    k : int, in [1, n_train]

    Returns
    -------
    ndarray of shape (k,), int
        Row indices sorted by increasing distance (ties keep the lower index first).
    """
    X, xv, k = _neighbour_inputs(X_train, x, k)
    dist = np.linalg.norm(X - xv, axis=1)
    return np.argsort(dist, kind="stable")[:k]


@checker
def check_nearest_neighbours(indices: Any, X_train: Any, x: Any, k: int) -> Feedback:
    """Check the indices of the ``k`` nearest training examples to ``x``, nearest first.

    Ties in distance are accepted in any order.

    Raises
    ------
    TypeError, ValueError
        If ``X_train``, ``x`` or ``k`` are not a valid data set, point and count.
    """
    X, xv, k = _neighbour_inputs(X_train, x, k)
    dist = np.linalg.norm(X - xv, axis=1)
    expected = nearest_neighbours(X, xv, k)
    raw = answer_array(indices, "your indices", dtype=None, what="integer row indices")
    if np.issubdtype(raw.dtype, np.floating) and not np.all(raw == np.round(raw)):
        return Feedback(False, "these look like distances, not indices; np.argsort(distances) gives "
                               "the indices of the rows in order of distance")
    idx = raw.astype(np.int64).ravel()
    if idx.size != k:
        return Feedback(False, f"you returned {idx.size} indices, expected k = {k}")
    if idx.min() < 0 or idx.max() >= X.shape[0]:
        return Feedback(False, f"indices must lie in [0, {X.shape[0] - 1}], the rows of X_train; got "
                               f"values in [{idx.min()}, {idx.max()}]")
    if len(set(idx.tolist())) != k:
        return Feedback(False, "some indices appear twice; the k neighbours must be k different rows")
    tol = 1e-9 * max(1.0, float(dist.max()))
    if np.allclose(dist[idx], dist[expected], rtol=0, atol=tol):
        return Feedback(True, f"these are the {k} nearest training examples, nearest first "
                              f"(distances {dist[expected[0]]:.3f} to {dist[expected[-1]]:.3f}).")
    if np.allclose(np.sort(dist[idx]), dist[expected], rtol=0, atol=tol):
        return Feedback(False, "these are the right examples in the wrong order; sort them by "
                               "distance, nearest first")
    farthest = np.argsort(dist, kind="stable")[::-1][:k]
    if np.allclose(np.sort(dist[idx])[::-1], dist[farthest], rtol=0, atol=tol):
        return Feedback(False, "these are the farthest examples; np.argsort sorts ascending, so the "
                               "nearest come first: take the first k without reversing")
    manhattan = np.argsort(np.abs(X - xv).sum(axis=1), kind="stable")[:k]
    if set(idx.tolist()) == set(manhattan.tolist()):
        return Feedback(False, "these are the nearest by the L1 (Manhattan) distance; use the "
                               "Euclidean distance sqrt(sum((X_train - x)**2, axis=1))")
    right = len(set(idx.tolist()) & set(expected.tolist()))
    return Feedback(False, f"{right} of your {k} indices are among the {k} nearest. Compute the Euclidean "
                           "distance from x to every row of X_train (one distance per row, axis=1) and "
                           "take the indices of the k smallest")


# --------------------------------------------------------------------------- exercise 3

def _prediction_pair(surrogate_pred: Any, black_box_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    s = as_int_array(surrogate_pred, "surrogate_pred", ndim=1)
    b = as_int_array(black_box_pred, "black_box_pred", ndim=1)
    if s.shape != b.shape:
        raise ValueError("surrogate_pred and black_box_pred must have the same length, got "
                         f"{s.shape[0]} and {b.shape[0]}")
    if s.size == 0:
        raise ValueError("surrogate_pred and black_box_pred must not be empty")
    return s, b


def fidelity(surrogate_pred: Any, black_box_pred: Any) -> float:
    """Fraction of examples on which a surrogate predicts the same class as the black box.

    Parameters
    ----------
    surrogate_pred, black_box_pred : int arrays of shape (n,)
        Predicted class labels.

    Returns
    -------
    float in [0, 1]
    """
    s, b = _prediction_pair(surrogate_pred, black_box_pred)
    return float(np.mean(s == b))


@checker
def check_fidelity(answer: Any, surrogate_pred: Any, black_box_pred: Any, y_true: Any = None, *,
                   tol: float = 1e-3) -> Feedback:
    """Check a surrogate's fidelity: its agreement with the black box's predicted labels.

    Parameters
    ----------
    answer : float
        The learner's fidelity, a fraction in [0, 1].
    surrogate_pred, black_box_pred : int arrays of shape (n,)
        Labels predicted by the surrogate and by the black box on the same examples.
    y_true : int array of shape (n,), optional
        True labels; given, the checker recognises an accuracy reported as a fidelity.
    tol : float, default 1e-3
        Allowed absolute difference.

    Raises
    ------
    TypeError, ValueError
        If the prediction arrays are not integer label vectors of the same length.
    """
    s, b = _prediction_pair(surrogate_pred, black_box_pred)
    y = None
    if y_true is not None:
        y = as_int_array(y_true, "y_true", ndim=1)
        if y.shape != s.shape:
            raise ValueError(f"y_true must have {s.shape[0]} labels like the predictions, got {y.shape[0]}")
    expected = float(np.mean(s == b))
    value = answer_number(answer, "the fidelity")
    if abs(value - expected) <= tol:
        return Feedback(True, f"the surrogate agrees with the black box on {value:.3f} of the examples "
                              f"({int(np.sum(s == b))} of {s.size}).")
    if 1.0 < value <= 100.0 and abs(value / 100.0 - expected) <= tol:
        return Feedback(False, f"{value:g} looks like a percentage; give the fidelity as a fraction in "
                               f"[0, 1] (divide by 100)")
    if abs(value - (1.0 - expected)) <= tol and abs(expected - 0.5) > tol:
        return Feedback(False, f"{value:.3f} is the disagreement rate; fidelity is the fraction of "
                               "examples on which the two models agree")
    if y is not None:
        if abs(value - float(np.mean(s == y))) <= tol:
            return Feedback(False, f"{value:.3f} is the surrogate's accuracy against the true labels; "
                                   "fidelity compares the surrogate with the black box's predictions")
        if abs(value - float(np.mean(b == y))) <= tol:
            return Feedback(False, f"{value:.3f} is the black box's accuracy; fidelity compares the "
                                   "surrogate's predictions with the black box's predictions")
    direction = "too high" if value > expected else "too low"
    return Feedback(False, f"{value:.3f} is {direction}: fidelity is mean(surrogate_pred == "
                           "black_box_pred) on the same examples")


# --------------------------------------------------------------------------- exercise 4

FAMILIES: tuple[str, ...] = ("feature", "model", "example")

FAMILY_QUIZ: dict[str, tuple[str, str]] = {
    "permutation importance": (
        "feature", "it scores each input feature by how much shuffling it hurts the model"),
    "LASSO coefficients": (
        "feature", "the L1 penalty keeps a few features and zeroes the rest, so it ranks features"),
    "SHAP values": (
        "feature", "it splits one prediction among the input features"),
    "depth-2 surrogate tree of the MLP": (
        "model", "it replaces the model by a simpler model that mimics it"),
    "plotting a hidden layer's activations": (
        "model", "it looks inside the model's structure (deep visualization)"),
    "five nearest training patients": (
        "example", "it answers with cases from the data, not with features or parameters"),
    "class prototypes (medoids)": (
        "example", "it summarises each class by a representative case"),
    "counterfactual: the smallest change that flips the decision": (
        "example", "it answers with a new input, a 'what if' case"),
}
"""The methods of exercise 4, each mapped to (family, reason)."""


@checker
def check_families(answer: Any) -> Feedback:
    """Check a mapping from each method in :data:`FAMILY_QUIZ` to ``"feature"``, ``"model"`` or ``"example"``.

    Parameters
    ----------
    answer : dict
        ``{method name: family}`` for every key of :data:`FAMILY_QUIZ`.
    """
    if not isinstance(answer, Mapping):
        return Feedback(False, f"answer with a dict {{method: family}}, got {describe(answer)}")
    missing = [m for m in FAMILY_QUIZ if answer.get(m) is None or answer.get(m) is Ellipsis]
    extra = [m for m in answer if m not in FAMILY_QUIZ]
    if extra:
        return Feedback(False, f"unknown method name(s) {extra}; use the keys of ch02.FAMILY_QUIZ exactly")
    if missing:
        return Feedback(False, f"{len(missing)} method(s) have no family yet: {missing}")
    bad_values = {m: f for m, f in answer.items()
                  if not isinstance(f, str) or f.strip().lower() not in FAMILIES}
    if bad_values:
        return Feedback(False, f"families must be one of {FAMILIES}; got {bad_values}")
    wrong = [m for m, f in answer.items() if f.strip().lower() != FAMILY_QUIZ[m][0]]
    if not wrong:
        return Feedback(True, f"all {len(FAMILY_QUIZ)} methods are in the right family.")
    reasons = "; ".join(f"'{m}': {FAMILY_QUIZ[m][1]}" for m in wrong)
    return Feedback(False, f"{len(wrong)} of {len(FAMILY_QUIZ)} are in the wrong family. Ask what each "
                           f"explanation is made of: {reasons}")


# --------------------------------------------------------------------------- exercise 5

@checker
def check_linear_counterfactual(x_cf: Any, w: Any, b: Any, x: Any) -> Feedback:
    """Check the closest point to ``x`` on the decision boundary ``w . x' + b = 0`` of a linear model.

    The answer is compared with the orthogonal projection ``x + (-(w . x + b) / ||w||^2) w``
    (:func:`xai_tutorial.counterfactuals.linear_counterfactual`), to 1e-6 relative.

    Parameters
    ----------
    x_cf : array of shape (d,)
        The learner's counterfactual.
    w : array of shape (d,) or (1, d)
        The model's weights (``logreg.coef_`` works).
    b : float or array of shape (1,)
        The bias (``logreg.intercept_`` works).
    x : array of shape (d,)
        The input.

    Raises
    ------
    TypeError, ValueError
        If ``w``, ``b`` and ``x`` are not a weight vector, a number and a point of the same size.
    """
    from ..counterfactuals import linear_counterfactual

    wv = as_float_array(w, "w", ndim=(1, 2)).ravel()
    bv = as_float_array(b, "b", ndim=(0, 1)).ravel()
    if bv.size != 1:
        raise ValueError(f"b must be one number, got {bv.size}")
    xv = as_float_array(x, "x", ndim=1)
    if xv.shape != wv.shape:
        raise ValueError(f"x must have {wv.size} features like w, got {xv.shape[0]}")
    expected = linear_counterfactual(wv, float(bv[0]), xv)
    a = answer_array(x_cf, "your counterfactual", shape=expected.shape)
    scale = max(1.0, float(np.abs(expected).max()))
    if np.allclose(a, expected, rtol=1e-6, atol=1e-6 * scale):
        return Feedback(True, f"x_cf lies on the decision boundary (w . x_cf + b = 0) and is the "
                              f"closest such point to x: it moved {np.linalg.norm(a - xv):.3f} "
                              "standardized units along w.")
    z = float(wv @ xv + bv[0])
    norm = float(np.linalg.norm(wv))
    if np.allclose(a, xv, atol=1e-9):
        return Feedback(False, "x_cf equals x: move x along w until w . x_cf + b = 0")
    if np.allclose(a, xv + z / norm ** 2 * wv, rtol=1e-6, atol=1e-6 * scale):
        return Feedback(False, "x_cf moved the wrong way (away from the boundary): the step along w "
                               "must bring w . x + b to 0, so its sign is minus that of w . x + b")
    if np.allclose(a, xv - z / norm * wv, rtol=1e-6, atol=1e-6 * scale):
        return Feedback(False, "the step is too long or too short by a factor ||w||: divide "
                               "w . x + b by ||w||^2, not ||w||")
    if np.allclose(a, xv - z * wv, rtol=1e-6, atol=1e-6 * scale):
        return Feedback(False, "the step is not scaled: divide w . x + b by ||w||^2")
    if np.allclose(a, xv - (z - float(bv[0])) / norm ** 2 * wv, rtol=1e-6, atol=1e-6 * scale):
        return Feedback(False, "the bias b is missing: the boundary is w . x + b = 0, not w . x = 0")
    margin = float(wv @ a + bv[0])
    if abs(margin) <= 1e-6 * max(1.0, abs(z)):
        return Feedback(False, "x_cf is on the decision boundary but not the closest point to x; the "
                               "closest point is reached by moving straight along w")
    return Feedback(False, f"x_cf is not on the decision boundary: w . x_cf + b = {margin:.3g}, it should "
                           "be 0. Move x along w by the step that cancels w . x + b")
