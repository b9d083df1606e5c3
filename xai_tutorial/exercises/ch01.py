"""Checkers for the exercises of chapter 1, *Black boxes and why we explain them*.

Each checker computes the expected answer itself from the objects the notebook already has
(the fitted model, the data) and returns a :class:`~xai_tutorial.exercises.Feedback` that says
what is right or, for the usual mistakes, what exactly is wrong.

A wrong *answer* (the first argument) never raises: it gets a Feedback that explains the problem.
Wrong *context* arguments (a model that is not fitted, a patient with the wrong number of
features) raise ``TypeError`` or ``ValueError``, because they are a bug in the calling cell rather
than a wrong solution.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_float_array
from .core import Feedback, answer_array, answer_int, answer_number, check_array, checker

__all__ = ["logistic_contributions", "check_contributions", "stump_accuracy", "check_stump_accuracy",
           "mlp_parameter_count", "check_parameter_count"]


# --------------------------------------------------------------------------- helpers

def _linear_params(model: Any) -> tuple[np.ndarray, float]:
    """Coefficients (n_features,) and intercept of a fitted binary linear classifier."""
    coef = getattr(model, "coef_", None)
    intercept = getattr(model, "intercept_", None)
    if coef is None or intercept is None:
        raise TypeError("model must be a fitted binary linear classifier with coef_ and intercept_ "
                        f"(e.g. sklearn's LogisticRegression after .fit), got {type(model).__name__}")
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64).ravel()
    if coef.ndim != 2 or coef.shape[0] != 1 or intercept.size != 1:
        raise ValueError("model must be a binary classifier with coef_ of shape (1, n_features), "
                         f"got coef_ of shape {coef.shape}")
    return coef[0], float(intercept[0])


def _patient(x: Any, n_features: int) -> np.ndarray:
    """One patient's features as shape (n_features,); accepts (n_features,) or (1, n_features)."""
    arr = as_float_array(x, "x", ndim=(1, 2))
    if arr.ndim == 2:
        if arr.shape[0] != 1:
            raise ValueError(f"x must be one patient, shape ({n_features},) or (1, {n_features}), "
                             f"got shape {arr.shape}")
        arr = arr[0]
    if arr.shape[0] != n_features:
        raise ValueError(f"x must have {n_features} features (as many as the model), got {arr.shape[0]}")
    return arr


def _close(a: np.ndarray, b: np.ndarray, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# --------------------------------------------------------------------------- exercise 1

def logistic_contributions(model: Any, x: Any) -> np.ndarray:
    """Per-feature contributions ``w_j * x_j`` of a binary linear model to one patient's logit.

    Parameters
    ----------
    model : fitted binary linear classifier
        Anything with ``coef_`` of shape (1, n_features) and ``intercept_`` of shape (1,),
        e.g. :class:`sklearn.linear_model.LogisticRegression`.
    x : array of shape (n_features,) or (1, n_features)
        The patient's (standardized) features.

    Returns
    -------
    ndarray of shape (n_features,)
        ``contributions[j] = coef_[0, j] * x[j]``; they sum to the logit minus the intercept.
    """
    coef, _ = _linear_params(model)
    return coef * _patient(x, coef.shape[0])


@checker
def check_contributions(contributions: Any, model: Any, x: Any) -> Feedback:
    """Check one patient's per-feature contributions to a logistic model's logit.

    Parameters
    ----------
    contributions : array-like of shape (n_features,)
        The learner's answer.
    model : fitted binary linear classifier (``coef_`` of shape (1, n_features))
    x : array of shape (n_features,) or (1, n_features)
        The patient's standardized features.

    Raises
    ------
    TypeError, ValueError
        If ``model`` is not a fitted binary linear classifier or ``x`` does not match it.
    """
    coef, intercept = _linear_params(model)
    xv = _patient(x, coef.shape[0])
    expected = coef * xv
    name = "your contributions"
    a = answer_array(contributions, "contributions")
    if a.shape != expected.shape and a.size == expected.size:
        a = a.reshape(expected.shape)  # a (1, n) row is fine
    if a.shape != expected.shape:
        return Feedback(False, f"{name} have shape {a.shape}; expected one number per feature, "
                               f"shape {expected.shape}")
    if _close(a, expected):
        return Feedback(True, f"{name} match w_j * x_j for all {a.size} features; they sum to "
                              f"{a.sum():.4f} = logit - intercept.")
    if _close(a, coef):
        return Feedback(False, f"{name} equal the coefficients w_j alone; a contribution is the "
                               "coefficient times this patient's feature value, w_j * x_j")
    if _close(a, xv):
        return Feedback(False, f"{name} equal the patient's feature values x_j alone; multiply each "
                               "by its coefficient w_j (model.coef_[0])")
    if _close(a, -expected):
        return Feedback(False, f"{name} have the wrong sign: model.coef_ describes the log-odds of "
                               "class model.classes_[1], so use w_j * x_j without flipping the sign")
    if _close(a, np.abs(expected)):
        return Feedback(False, f"{name} are the absolute values |w_j * x_j|; keep the sign, it says "
                               "which class a feature pushes towards")
    if _close(a, expected + intercept / a.size):
        return Feedback(False, f"{name} spread the intercept over the features; keep the intercept "
                               "b separate, so that the contributions sum to logit - b")
    return check_array(a, expected, name=name)


# --------------------------------------------------------------------------- exercise 2

def _check_split(data: Any) -> None:
    names = ("X_train", "X_test", "y_train", "y_test")
    if not all(hasattr(data, n) for n in names):
        raise TypeError("data must be a TabularSplit from data.load_tabular (with X_train, X_test, "
                        f"y_train, y_test), got {type(data).__name__}")
    if getattr(data, "task", "classification") != "classification":
        raise ValueError(f"data must be a classification data set, got task {data.task!r}")


def stump_accuracy(data: Any, *, train: bool = False) -> float:
    """Accuracy of a depth-1 decision tree (``random_state=0``) fitted on ``data``'s training part.

    Parameters
    ----------
    data : TabularSplit
        A classification split from :func:`xai_tutorial.data.load_tabular`.
    train : bool, default False
        Score on the training part instead of the held-out test part.

    Returns
    -------
    float
        The fraction of correctly classified examples, in [0, 1].
    """
    from sklearn.tree import DecisionTreeClassifier

    _check_split(data)
    if not isinstance(train, bool):
        raise TypeError(f"train must be a bool, got {type(train).__name__}")
    stump = DecisionTreeClassifier(max_depth=1, random_state=0).fit(data.X_train, data.y_train)
    X, y = (data.X_train, data.y_train) if train else (data.X_test, data.y_test)
    return float(stump.score(X, y))


@checker
def check_stump_accuracy(accuracy: Any, data: Any, *, tol: float = 1e-3) -> Feedback:
    """Check the held-out accuracy of a depth-1 tree (a "decision stump").

    Parameters
    ----------
    accuracy : float
        The learner's answer, a fraction in [0, 1].
    data : TabularSplit
        The split the stump was fitted and scored on.
    tol : float, default 1e-3
        Allowed absolute difference (rounding to three decimals passes).

    Raises
    ------
    TypeError, ValueError
        If ``data`` is not a classification TabularSplit.
    """
    _check_split(data)
    expected = stump_accuracy(data)
    value = answer_number(accuracy, "the accuracy")
    if abs(value - expected) <= tol:
        return Feedback(True, f"a depth-1 tree classifies {value:.3f} of the held-out patients "
                              "correctly, from a single threshold on a single feature.")
    if 1.0 < value <= 100.0 and abs(value / 100.0 - expected) <= tol:
        return Feedback(False, f"{value:g} looks like a percentage; give the accuracy as a fraction "
                               f"in [0, 1] (divide by 100)")
    if abs(value - stump_accuracy(data, train=True)) <= tol:
        return Feedback(False, f"{value:.3f} is the accuracy on the training data; score the stump on "
                               "the held-out data (X_test, y_test)")
    if abs(value - (1.0 - expected)) <= tol:
        return Feedback(False, f"{value:.3f} is the error rate (the fraction misclassified); the "
                               "accuracy is 1 minus it")
    direction = "too high" if value > expected else "too low"
    return Feedback(False, f"{value:.3f} is {direction}: fit DecisionTreeClassifier(max_depth=1, "
                           "random_state=0) on (X_train, y_train) and score it on (X_test, y_test)")


# --------------------------------------------------------------------------- exercise 3

def _mlp_layers(mlp: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    coefs = getattr(mlp, "coefs_", None)
    intercepts = getattr(mlp, "intercepts_", None)
    if coefs is None or intercepts is None:
        raise TypeError("mlp must be a fitted scikit-learn MLPClassifier or MLPRegressor (with coefs_ "
                        f"and intercepts_), got {type(mlp).__name__}")
    return [np.asarray(w) for w in coefs], [np.asarray(b) for b in intercepts]


def mlp_parameter_count(mlp: Any) -> int:
    """Number of trainable numbers (weights and biases) of a fitted scikit-learn MLP.

    Parameters
    ----------
    mlp : fitted MLPClassifier or MLPRegressor

    Returns
    -------
    int
        ``sum(W.size + b.size)`` over the layers.
    """
    coefs, intercepts = _mlp_layers(mlp)
    return int(sum(w.size for w in coefs) + sum(b.size for b in intercepts))


@checker
def check_parameter_count(count: Any, mlp: Any) -> Feedback:
    """Check the number of parameters of a fitted scikit-learn MLP.

    Parameters
    ----------
    count : int
        The learner's answer.
    mlp : fitted MLPClassifier or MLPRegressor

    Raises
    ------
    TypeError
        If ``mlp`` is not a fitted scikit-learn MLP.
    """
    coefs, intercepts = _mlp_layers(mlp)
    expected = mlp_parameter_count(mlp)
    value = answer_int(count, "the count", whole_floats=True)
    n_weights = sum(w.size for w in coefs)
    n_biases = sum(b.size for b in intercepts)
    hidden = sum(b.size for b in intercepts[:-1])
    if value == expected:
        shapes = ", ".join(f"{w.shape[0]}x{w.shape[1]}+{b.size}" for w, b in zip(coefs, intercepts))
        return Feedback(True, f"the MLP has {expected:,} parameters ({shapes}).")
    if value == n_weights:
        return Feedback(False, f"{value:,} counts only the weight matrices; add the biases "
                               "(mlp.intercepts_), one per unit of each layer")
    if value == n_biases:
        return Feedback(False, f"{value:,} counts only the biases; add the entries of the weight "
                               "matrices (mlp.coefs_)")
    if value in (hidden, coefs[0].shape[0] + n_biases):  # hidden units, or all units with inputs
        return Feedback(False, f"{value:,} counts units, not parameters; every connection between two "
                               "layers has its own weight, plus one bias per unit")
    if value == len(coefs):
        return Feedback(False, f"{value} is the number of weight matrices; count their entries "
                               "(W.size) and the biases (b.size)")
    direction = "too many" if value > expected else "too few"
    return Feedback(False, f"{value:,} is {direction}: sum W.size + b.size over mlp.coefs_ and "
                           "mlp.intercepts_")
