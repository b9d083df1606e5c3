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
from .core import (Feedback, NotYet, answer_array, answer_int, answer_number, call, check_array, checker, describe,
                   function_name, require_callable)

__all__ = ["TOY_TOKENS", "TOY_IDS", "TOY_WEIGHTS", "TOY_BIAS", "TOY_SCORES", "toy_predict",
           "check_deletion_curve", "check_comprehensiveness", "check_randomization",
           "check_surrogate_depth", "RANK_AGREEMENT_CASES", "check_rank_agreement"]

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
def check_deletion_curve(curve: Any, *, atol: float = 1e-3) -> Feedback:
    """Check the deletion curve of exercise ex-10-deletion-by-hand: five probabilities.

    Three decimals are enough (``atol`` 1e-3, so a value rounded to three decimals passes).
    Recognises ranking by ``|score|``, removing the lowest-scored tokens first, logits instead of
    probabilities, the negative class, and a reversed curve.
    """
    c = answer_array(curve, "my_curve", what="five probabilities")
    expected = perturbation.deletion_curve(toy_predict, TOY_IDS, TOY_SCORES[None], steps=4)[0]
    if c.size == 5 and c.shape != (5,):
        c = c.reshape(5)  # a (1, 5) row or a (5, 1) column holds the same five numbers
    if c.shape != (5,):
        return Feedback(False, f"my_curve has shape {c.shape}; it needs 5 values, one per fraction "
                               "0, 1/4, 1/2, 3/4, 1 (the first is the prediction on the full sentence)")

    def same(a: np.ndarray) -> bool:
        return bool(np.allclose(c, a, rtol=0, atol=atol))

    if same(expected):
        return Feedback(True, "removing 'great' first flips the prediction; 'but' adds nothing; the "
                              "empty sentence sits at sigmoid(bias) = 0.5. Area under the curve: "
                              f"{perturbation.curve_auc(expected):.3f}.")
    by_abs = perturbation.deletion_curve(toy_predict, TOY_IDS, np.abs(TOY_SCORES)[None], steps=4)[0]
    if same(by_abs):
        return Feedback(False, "you ranked the tokens by |score|; the deletion curve removes what "
                               "supports the prediction first, so rank by the signed score "
                               "('dull', with -0.6, goes last)")
    lowest_first = perturbation.deletion_curve(toy_predict, TOY_IDS, -TOY_SCORES[None], steps=4)[0]
    if same(lowest_first):
        return Feedback(False, "you removed the lowest-scored token first; deletion removes the tokens in "
                               "decreasing order of their scores (the highest first)")
    if same(np.log(expected / (1 - expected))):
        return Feedback(False, "these are the logits; apply the sigmoid to get probabilities")
    if same(1 - expected):
        return Feedback(False, "these are probabilities of the negative class; follow the class "
                               "predicted on the full sentence (positive)")
    if same(expected[::-1]):
        return Feedback(False, "the curve is reversed: it starts with nothing removed (fraction 0)")
    if np.any((c < 0) | (c > 1)):
        return Feedback(False, "a value of my_curve lies outside [0, 1]; the curve holds probabilities")
    return check_array(c, expected, name="my_curve", rtol=0, atol=atol).with_hint(
        "Remove the tokens one at a time in decreasing order of the scores and recompute "
        "sigmoid(sum of the remaining weights) after each removal.")


@checker
def check_comprehensiveness(comp: Any, suff: Any, *, atol: float = 1e-3) -> Feedback:
    """Check comprehensiveness and sufficiency of ``TOY_SCORES`` with a one-token budget.

    Three decimals are enough. Recognises swapped measures, the probability left instead of the
    drop, a reversed sign, logits instead of probabilities, and sufficiency computed with the
    top token removed.
    """
    c = answer_number(comp, "comp", what="one number")
    s = answer_number(suff, "suff", what="one number")
    args = (toy_predict, TOY_IDS, TOY_SCORES[None])
    exp_c = float(perturbation.comprehensiveness(*args, fractions=[0.25])[0])
    exp_s = float(perturbation.sufficiency(*args, fractions=[0.25])[0])
    p_full = float(toy_predict(TOY_IDS)[0])
    p_without = p_full - exp_c   # the top token removed
    p_only = p_full - exp_s      # the top token alone
    logit_full = float(np.log(p_full / (1 - p_full)))

    def near(a: float, b: float) -> bool:
        return abs(a - b) <= atol

    ok_c, ok_s = near(c, exp_c), near(s, exp_s)
    if ok_c and ok_s:
        return Feedback(True, f"comprehensiveness {exp_c:.3f} (removing 'great' flips the prediction) and "
                              f"sufficiency {exp_s:.3f} (negative: 'great' alone is more convincing "
                              "than the whole sentence).")
    if near(c, exp_s) and near(s, exp_c):
        return Feedback(False, "comp and suff are swapped: comprehensiveness removes the top token, "
                               "sufficiency keeps only it")
    if not ok_c:
        if near(c, p_without):
            return Feedback(False, "comp looks like the probability left after removing the top token; "
                                   "comprehensiveness is the drop: p(full) - p(without the top token)")
        if near(c, -exp_c):
            return Feedback(False, "comp has the wrong sign: subtract the new probability from the full "
                                   "sentence's, p(full) - p(without the top token)")
        if near(c, logit_full - float(np.log(p_without / (1 - p_without)))):
            return Feedback(False, "comp is a difference of logits; the measures compare probabilities "
                                   "(apply the sigmoid first)")
        if near(c, exp_s):
            return Feedback(False, "comp keeps only the top token; comprehensiveness *removes* it and "
                                   "measures the drop")
        return Feedback(False, f"comp = {c:.4g} is {'too large' if c > exp_c else 'too small'}: remove "
                               "'great' (the top-scored token), recompute p, and subtract it from "
                               "p(full) = sigmoid(1)")
    if near(s, p_only):
        return Feedback(False, "suff looks like the probability with the top token alone; "
                               "sufficiency is the drop: p(full) - p(top token only)")
    if near(s, -exp_s):
        return Feedback(False, "suff has the wrong sign: sufficiency is p(full) - p(top token only), "
                               "which is negative when the token alone is more convincing")
    if near(s, exp_c):
        return Feedback(False, "suff removes the top token; sufficiency keeps *only* it")
    if near(s, logit_full - float(np.log(p_only / (1 - p_only)))):
        return Feedback(False, "suff is a difference of logits; the measures compare probabilities "
                               "(apply the sigmoid first)")
    return Feedback(False, f"comp is right, but suff = {s:.4g} is {'too large' if s > exp_s else 'too small'}: "
                           "keep only 'great', recompute p, and subtract it from p(full) = sigmoid(1)")


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
    for got, expected, what, column, cmp in (
            (first, exp_first, f"rho >= {same} after the output layer", "+ output", same),
            (last, exp_last, f"rho >= {still} after every layer", "+ embedding", still)):
        unknown = got - set(methods)
        if unknown:
            return Feedback(False, f"{sorted(unknown)} are not methods of the table; use the row names "
                                   f"{methods}")
        if got != expected:
            missing, extra = expected - got, sorted(got - expected)
            parts = []
            if extra:
                parts.append(f"{extra} do(es) not reach rho >= {cmp} in the column '{column}'")
            if missing:
                parts.append(f"{len(missing)} method(s) with rho >= {cmp} in the column '{column}' "
                             "are missing")
            return Feedback(False, f"methods with {what}: " + "; ".join(parts)
                            + " (compare with >=, and read the mean correlations of `sanity`)")
    return Feedback(True, f"{sorted(exp_first)} do not react to the output layer, and "
                          f"{sorted(exp_last)} survive(s) full randomization: a map that does not "
                          "depend on the weights cannot explain the model.")


@checker
def check_surrogate_depth(depth: Any, trees: Any, *, level: float = 0.95) -> Feedback:
    """Check the smallest tree depth with held-out fidelity >= ``level`` in the chapter's ``trees`` table.

    Recognises a depth that reaches the level but is not the smallest, a depth read off the
    training fidelity, the number of leaves instead of the depth, and a depth below the level.
    """
    try:
        fid = np.asarray(trees["fidelity (test)"], dtype=float)
        depths = np.asarray(trees["depth"], dtype=int)
    except (KeyError, TypeError, ValueError, IndexError):
        raise TypeError("trees must be the chapter's table `trees`, with the columns 'depth' and "
                        f"'fidelity (test)', got {type(trees).__name__}") from None
    ok = depths[fid >= level]
    if ok.size == 0:
        raise ValueError(f"no tree in the table reaches a fidelity of {level}")
    expected = int(ok.min())
    depth = answer_int(depth, "depth", what="one int (a depth from the table's 'depth' column)",
                       whole_floats=True)
    if depth == expected:
        return Feedback(True, f"depth {expected} is the simplest tree with held-out fidelity >= {level}.")
    columns = getattr(trees, "columns", ())
    if "leaves" in columns:
        leaves = np.asarray(trees["leaves"], dtype=int)
        if depth == int(leaves[depths == expected][0]) and depth not in depths[fid >= level]:
            return Feedback(False, f"{depth} is a number of leaves; the question asks for the tree's "
                                   "depth (the column 'depth')")
    if "fidelity (train)" in columns:
        train = np.asarray(trees["fidelity (train)"], dtype=float)
        ok_train = depths[train >= level]
        if ok_train.size and depth == int(ok_train.min()) and not fid[depths == depth][0] >= level:
            return Feedback(False, f"depth {depth} reaches {level} on the training data only; use the "
                                   "held-out column 'fidelity (test)'")
    if depth in depths and fid[depths == depth][0] >= level:
        return Feedback(False, f"depth {depth} reaches the level, but a smaller depth does too: take the "
                               "*smallest* depth whose held-out fidelity is at least the level")
    if depth in depths:
        return Feedback(False, f"depth {depth} has a held-out fidelity of "
                               f"{fid[depths == depth][0]:.3f}, below {level}: look further down the table")
    return Feedback(False, f"depth {depth} is not in the table (depths {depths.min()}-{depths.max()})")


# --------------------------------------------------------------------------- the disagreement problem

def _rank_agreement_1d(a: np.ndarray, b: np.ndarray, k: int) -> float:
    from ..agreement import rank_agreement

    return float(rank_agreement(a[None], b[None], k=k)[0])


def _top(s: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-np.abs(s), kind="stable")[:k]


#: The test cases of :func:`check_rank_agreement`: (a, b, k), each a pair of attributions of one
#: example. The first is the worked example of the chapter.
RANK_AGREEMENT_CASES: tuple[tuple[np.ndarray, np.ndarray, int], ...] = (
    (np.array([0.9, -0.1, 0.5, -0.7, 0.2]), np.array([0.8, 0.0, -0.9, -0.6, 0.1]), 3),
    (np.array([0.9, -0.1, 0.5, -0.7, 0.2]), np.array([0.8, 0.0, -0.9, -0.6, 0.1]), 1),
    (np.array([1.0, 2.0, 3.0, 4.0]), np.array([4.0, 3.0, 2.0, 1.0]), 4),
    (np.array([-3.0, 2.0, 1.0, 0.5, 0.1, 0.0]), np.array([3.0, -1.0, 2.0, 0.4, 0.0, 0.2]), 2),
    (np.array([-3.0, 2.0, 1.0, 0.5, 0.1, 0.0]), np.array([3.0, -1.0, 2.0, 0.4, 0.0, 0.2]), 4),
)


@checker
def check_rank_agreement(fn: Any) -> Feedback:
    """Check a learner's ``rank_agreement(a, b, k)`` for two attributions ``a``, ``b`` of shape (d,).

    The reference is :func:`xai_tutorial.agreement.rank_agreement`: the share of the ranks 1..k
    at which the two top-k lists (by absolute value) hold the same feature. The usual mistakes
    are recognised: the set overlap (feature agreement), ranking by the signed value, dividing by
    the size of the overlap, or counting features of the same rank without requiring that they
    be the same feature.
    """
    require_callable(fn, "a function rank_agreement(a, b, k)")
    label = function_name(fn)
    got, expected = [], []
    for i, (a, b, k) in enumerate(RANK_AGREEMENT_CASES, start=1):
        where = f"on test case {i} (k = {k})"
        got.append(answer_number(call(fn, a, b, k, name=label, case=where), f"the result of {label} {where}"))
        expected.append(_rank_agreement_1d(a, b, k))
    wrong = [i for i, (g, e) in enumerate(zip(got, expected)) if abs(g - e) > 1e-9]
    if wrong:
        def hypothesis(rule):
            return all(abs(g - rule(a, b, k)) <= 1e-9 for g, (a, b, k) in zip(got, RANK_AGREEMENT_CASES))

        def shared(a, b, k):
            return len(set(_top(a, k).tolist()) & set(_top(b, k).tolist()))

        def same_rank(a, b, k):
            return int(np.sum(_top(a, k) == _top(b, k)))

        mistakes = (
            (lambda a, b, k: shared(a, b, k) / k,
             "returned the share of features the two top-k lists have in common: that is feature agreement; "
             "rank agreement also asks that a shared feature sit at the same rank in both lists"),
            (lambda a, b, k: float(np.mean(np.argsort(-a, kind="stable")[:k] == np.argsort(-b, kind="stable")[:k])),
             "ranks by the signed value; rank the features by magnitude, np.abs(a), so that a large negative "
             "attribution ranks high"),
            (lambda a, b, k: same_rank(a, b, k) / shared(a, b, k) if shared(a, b, k) else 0.0,
             "divides by the number of shared features; divide by k, the length of the lists"),
            (lambda a, b, k: float(same_rank(a, b, k)),
             "returned a count; divide it by k to get a share"),
        )
        for rule, hint in mistakes:
            if hypothesis(rule):
                return Feedback(False, f"{label} {hint}")
        i = wrong[0]
        k = RANK_AGREEMENT_CASES[i][2]
        return Feedback(False, f"{label} returned {got[i]:.3g} on test case {i + 1} (k = {k}), which is not "
                               "the share of ranks 1..k at which both top-k lists (sorted by |attribution|, "
                               "largest first) hold the same feature")
    return Feedback(True, f"{label} agrees with the definition of rank agreement on all "
                          f"{len(RANK_AGREEMENT_CASES)} test cases.")
