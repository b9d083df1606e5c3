"""Checkers for the exercises of chapter 10, *Evaluating explanations*.

Each checker computes the expected answer itself (with :mod:`xai_tutorial.metrics` where it can),
recognises the usual mistakes (ranking by absolute value, forgetting the sigmoid, following the
wrong class, swapping comprehensiveness and sufficiency) and says which one it found.

The toy model of the first two exercises reads the four tokens "great plot but dull" (ids 1-4,
id 0 is padding), adds one weight per token to a logit and returns ``sigmoid(logit)``.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from .. import perturbation
from .core import Feedback, NotYet, answer_array, answer_int, answer_number, check_array, checker, describe

__all__ = ["TOY_TOKENS", "TOY_IDS", "TOY_WEIGHTS", "TOY_BIAS", "TOY_SCORES", "toy_predict",
           "check_deletion_curve", "check_comprehensiveness", "check_randomization",
           "check_surrogate_depth"]

#: The tokens of the toy example.
TOY_TOKENS: tuple[str, ...] = ("great", "plot", "but", "dull")
#: Their ids, shape (1, 4): one example of four real tokens.
TOY_IDS = np.array([[1, 2, 3, 4]], dtype=np.int32)
#: The weight each token adds to the logit, shape (4,).
TOY_WEIGHTS = np.array([2.0, 0.5, 0.0, -1.5])
#: The bias of the logit.
TOY_BIAS = 0.0
#: The attribution to evaluate, shape (4,).
TOY_SCORES = np.array([0.9, 0.1, 0.3, -0.6])

_WEIGHT_OF_ID = np.concatenate([[0.0], TOY_WEIGHTS])  # id 0 = padding adds nothing


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def toy_predict(token_ids: np.ndarray) -> np.ndarray:
    """P(positive) of the toy model for token ids of shape (n, 4), shape (n,)."""
    ids = np.asarray(token_ids)
    if ids.ndim != 2 or ids.shape[1] != TOY_IDS.shape[1]:
        raise ValueError(f"token_ids must have shape (n, {TOY_IDS.shape[1]}), got {ids.shape}")
    return _sigmoid(TOY_BIAS + _WEIGHT_OF_ID[ids].sum(axis=1))


@checker
def check_deletion_curve(curve: Any) -> Feedback:
    """Check the deletion curve of exercise ex-10-deletion-by-hand: five probabilities."""
    c = answer_array(curve, "the curve", what="five probabilities")
    expected = perturbation.deletion_curve(toy_predict, TOY_IDS, TOY_SCORES[None], steps=4)[0]
    if c.shape != (5,):
        return Feedback(False, f"the curve has shape {c.shape}; it needs 5 values, one per fraction "
                               "0, 1/4, 1/2, 3/4, 1 (the first is the prediction on the full sentence)")
    if np.allclose(c, expected, atol=1e-3):
        return Feedback(True, "removing 'great' first flips the prediction; 'but' adds nothing; the "
                              "empty sentence sits at sigmoid(bias) = 0.5. Area under the curve: "
                              f"{perturbation.curve_auc(expected):.3f}.")
    by_abs = perturbation.deletion_curve(toy_predict, TOY_IDS, np.abs(TOY_SCORES)[None], steps=4)[0]
    if np.allclose(c, by_abs, atol=1e-3):
        return Feedback(False, "you ranked the tokens by |score|; the deletion curve removes what "
                               "supports the prediction first, so rank by the signed score "
                               "('dull', with -0.6, goes last)")
    logits = np.log(expected / (1 - expected))
    if np.allclose(c, logits, atol=1e-3):
        return Feedback(False, "these are the logits; apply the sigmoid to get probabilities")
    if np.allclose(c, 1 - expected, atol=1e-3):
        return Feedback(False, "these are probabilities of the negative class; follow the class "
                               "predicted on the full sentence (positive)")
    if np.allclose(c[::-1], expected, atol=1e-3):
        return Feedback(False, "the curve is reversed: it starts with nothing removed (fraction 0)")
    return check_array(c, expected, name="the curve", rtol=0, atol=1e-3)


@checker
def check_comprehensiveness(comp: Any, suff: Any) -> Feedback:
    """Check comprehensiveness and sufficiency of ``TOY_SCORES`` with a one-token budget."""
    c = answer_number(comp, "comp", what="one number")
    s = answer_number(suff, "suff", what="one number")
    args = (toy_predict, TOY_IDS, TOY_SCORES[None])
    exp_c = float(perturbation.comprehensiveness(*args, fractions=[0.25])[0])
    exp_s = float(perturbation.sufficiency(*args, fractions=[0.25])[0])
    if np.isclose(c, exp_s, atol=1e-3) and np.isclose(s, exp_c, atol=1e-3):
        return Feedback(False, "comp and suff are swapped: comprehensiveness removes the top token, "
                               "sufficiency keeps only it")
    p_full = float(toy_predict(TOY_IDS)[0])
    if np.isclose(c, p_full - exp_c, atol=1e-3):
        return Feedback(False, "comp looks like the probability left after removing the top token; "
                               "comprehensiveness is the drop: p(full) - p(without the top token)")
    if np.isclose(s, p_full - exp_s, atol=1e-3):
        return Feedback(False, "suff looks like the probability with the top token alone; "
                               "sufficiency is the drop: p(full) - p(top token only)")
    if not np.isclose(c, exp_c, atol=1e-3):
        return Feedback(False, f"comprehensiveness should be {exp_c:.3f}, got {c:.3f}: remove 'great' "
                               "(the top-scored token) and subtract the new probability from sigmoid(1)")
    if not np.isclose(s, exp_s, atol=1e-3):
        return Feedback(False, f"sufficiency should be {exp_s:.3f}, got {s:.3f}: keep only 'great' "
                               "(logit 2.0) and subtract its probability from sigmoid(1)")
    return Feedback(True, f"comprehensiveness {exp_c:.3f} (removing 'great' flips the prediction) and "
                          f"sufficiency {exp_s:.3f} (negative: 'great' alone is more convincing "
                          "than the whole sentence).")


def _as_name_set(answer: Any, name: str) -> set[str]:
    """The learner's method names as a set of str, or stop (:class:`NotYet`) saying why not."""
    if answer is None or answer is Ellipsis:
        raise NotYet(f"{name} is {describe(answer)}: give a set of method names")
    if isinstance(answer, str):
        raise NotYet(f"{name} is one string; give a set of names, e.g. {{'{answer}'}}")
    if not isinstance(answer, Iterable):
        raise NotYet(f"{name} must be a set of method names, got {describe(answer)}")
    return {str(a) for a in answer}


@checker
def check_randomization(unchanged_by_output: Any, unchanged_at_end: Any, sanity: Any, *,
                        same: float = 0.99, still: float = 0.5) -> Feedback:
    """Check the verdicts of exercise ex-10-randomization against the chapter's table.

    Parameters
    ----------
    unchanged_by_output, unchanged_at_end : set of str
        The learner's methods with rho >= ``same`` after the output layer alone was re-initialised,
        and with rho >= ``still`` once every layer was.
    sanity : pandas.DataFrame
        Methods as rows; the columns "+ output" and "+ embedding" hold the mean Spearman rho
        after those steps. A row named "(model accuracy)" is ignored.
    """
    first = _as_name_set(unchanged_by_output, "unchanged_by_output")
    last = _as_name_set(unchanged_at_end, "unchanged_at_end")
    try:
        after_output = sanity["+ output"]
        at_end = sanity["+ embedding"]
    except (KeyError, TypeError, IndexError):
        return Feedback(False, "pass the chapter's table `sanity` as the third argument (it needs the "
                               "columns '+ output' and '+ embedding')")
    methods = [m for m in after_output.index if not str(m).startswith("(")]
    exp_first = {m for m in methods if after_output[m] >= same}
    exp_last = {m for m in methods if at_end[m] >= still}
    for got, expected, what in ((first, exp_first, f"rho >= {same} after the output layer"),
                                (last, exp_last, f"rho >= {still} after every layer")):
        unknown = got - set(methods)
        if unknown:
            return Feedback(False, f"{sorted(unknown)} are not methods of the table; use the row names "
                                   f"{methods}")
        if got != expected:
            missing, extra = sorted(expected - got), sorted(got - expected)
            parts = []
            if missing:
                parts.append(f"missing {missing}")
            if extra:
                parts.append(f"{extra} should not be there")
            return Feedback(False, f"methods with {what}: " + "; ".join(parts))
    return Feedback(True, f"{sorted(exp_first)} do not react to the output layer, and "
                          f"{sorted(exp_last)} survive(s) full randomization: a map that does not "
                          "depend on the weights cannot explain the model.")


@checker
def check_surrogate_depth(depth: Any, trees: Any, *, level: float = 0.95) -> Feedback:
    """Check the smallest tree depth with held-out fidelity >= ``level`` in the chapter's ``trees`` table."""
    try:
        fid = np.asarray(trees["fidelity (test)"], dtype=float)
        depths = np.asarray(trees["depth"], dtype=int)
    except (KeyError, TypeError, ValueError, IndexError):
        return Feedback(False, "pass the chapter's table `trees` as the second argument (columns "
                               "'depth' and 'fidelity (test)')")
    ok = depths[fid >= level]
    if ok.size == 0:
        return Feedback(False, f"no tree in the table reaches a fidelity of {level}")
    expected = int(ok.min())
    depth = answer_int(depth, "the depth", what="an int")
    if depth == expected:
        return Feedback(True, f"depth {expected} is the simplest tree with held-out fidelity >= {level}.")
    if depth in depths and fid[depths == depth][0] >= level:
        return Feedback(False, f"depth {depth} reaches the level, but depth {expected} does too")
    if depth in depths:
        return Feedback(False, f"depth {depth} has a held-out fidelity of "
                               f"{fid[depths == depth][0]:.3f}, below {level}")
    return Feedback(False, f"depth {depth} is not in the table (depths {depths.min()}-{depths.max()})")
