"""Tests of the exercise checkers of chapter 10 (xai_tutorial.exercises.ch10): the deletion curve and
comprehensiveness of a toy model with known answers, and the two verdicts read off the chapter's tables.

Each checker accepts a right answer written differently from the book's solution (rounded to the
precision the exercise asks for, too), rejects the typical wrong answers with a hint that does not
print the expected value, and answers unusable input with "Not yet" instead of raising."""
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from xai_tutorial import perturbation
from xai_tutorial.exercises import ch10
from checker_asserts import rejected

RIGHT_CURVE = expit(np.array([1.0, -1.0, -1.0, -1.5, 0.0]))
COMP, SUFF = expit(1.0) - expit(-1.0), expit(1.0) - expit(2.0)


def hidden_numbers(values):
    """The expected values as a learner would see them printed (2 to 4 decimals)."""
    return [f"{v:.{d}f}" for v in np.atleast_1d(values) for d in (3, 4)]


# --------------------------------------------------------------------------- deletion curve

def test_deletion_curve_right_answers():
    # by hand, the way the exercise describes it: remove in score order, recompute the logit
    order = np.argsort(-ch10.TOY_SCORES)
    present = np.ones(4, bool)
    curve = [expit(ch10.TOY_WEIGHTS @ present)]
    for j in order:
        present[j] = False
        curve.append(expit(ch10.TOY_WEIGHTS[present].sum()))
    assert ch10.check_deletion_curve(curve)
    assert ch10.check_deletion_curve(np.round(RIGHT_CURVE, 3))         # three decimals are enough
    assert ch10.check_deletion_curve(RIGHT_CURVE[None])                # a (1, 5) row too
    np.testing.assert_allclose(curve, perturbation.deletion_curve(
        ch10.toy_predict, ch10.TOY_IDS, ch10.TOY_SCORES[None], steps=4)[0])


@pytest.mark.parametrize("curve, words", [
    (expit(np.array([1.0, -1.0, 0.5, 0.5, 0.0])), "|score|"),           # ranked by |score|
    (expit(np.array([1.0, 2.5, 2.0, 2.0, 0.0])), "lowest-scored token first"),
    (np.array([1.0, -1.0, -1.0, -1.5, 0.0]), "logits"),
    (1 - RIGHT_CURVE, "negative class"),
    (RIGHT_CURVE[::-1], "reversed"),
    (RIGHT_CURVE[:4], "5 values"),
    (np.round(RIGHT_CURVE, 1), "differ"),                               # too coarse
    (RIGHT_CURVE + 0.05, "too large"),
])
def test_deletion_curve_typical_mistakes(curve, words):
    rejected(ch10.check_deletion_curve(curve), words, *hidden_numbers(RIGHT_CURVE[1:4]))


@pytest.mark.parametrize("curve", [None, ..., "0.73", [[0.7, 0.2], [0.1]], sum, 0.5])
def test_deletion_curve_unusable_answers_say_not_yet(curve):
    fb = ch10.check_deletion_curve(curve)
    assert not fb and str(fb).startswith("Not yet")


# --------------------------------------------------------------------------- comprehensiveness

def test_comprehensiveness_right_answers():
    p = ch10.toy_predict
    full = p(ch10.TOY_IDS)[0]
    without = p(np.array([[0, 2, 3, 4]]))[0]
    only = p(np.array([[1, 0, 0, 0]]))[0]
    assert ch10.check_comprehensiveness(full - without, full - only)
    assert ch10.check_comprehensiveness(round(COMP, 3), round(SUFF, 3))   # three decimals
    assert ch10.check_comprehensiveness(np.float32(COMP), np.array([SUFF]))


@pytest.mark.parametrize("comp, suff, words", [
    (SUFF, COMP, "swapped"),
    (expit(-1.0), SUFF, "probability left"),
    (-COMP, SUFF, "wrong sign"),
    (2.0, SUFF, "logits"),
    (COMP, expit(2.0), "top token alone"),
    (COMP, -SUFF, "wrong sign"),
    (COMP, COMP, "keeps *only*"),
    (COMP, -1.0, "logits"),
    (COMP + 0.02, SUFF, "too large"),
    (COMP, SUFF - 0.02, "too small"),
])
def test_comprehensiveness_typical_mistakes(comp, suff, words):
    rejected(ch10.check_comprehensiveness(comp, suff), words, *hidden_numbers([COMP, SUFF]))


@pytest.mark.parametrize("comp, suff", [(None, SUFF), (COMP, None), ("0.46", SUFF), (COMP, [SUFF, SUFF]),
                                        (..., ...), (COMP, float("inf")), (True, SUFF)])
def test_comprehensiveness_unusable_answers_say_not_yet(comp, suff):
    fb = ch10.check_comprehensiveness(comp, suff)
    assert not fb and str(fb).startswith("Not yet")


# --------------------------------------------------------------------------- randomization

SANITY = pd.DataFrame({"+ output": [1.0, 0.8, 1.0, 0.995, 1.0],
                       "+ embedding": [0.1, 0.05, 1.0, 0.6, 1.0]},
                      index=["attention", "SHAP", "random", "gradient", "(model accuracy)"])


def test_randomization_right_answers():
    assert ch10.check_randomization({"attention", "random", "gradient"}, {"random", "gradient"}, SANITY)
    # a list or tuple, in any order, is fine too
    assert ch10.check_randomization(["gradient", "random", "attention"], ("gradient", "random"), SANITY)


@pytest.mark.parametrize("first, last, words", [
    ({"random", "gradient"}, {"random", "gradient"}, "1 method(s)"),               # forgot one
    ({"attention", "random", "gradient", "SHAP"}, {"random", "gradient"}, "['SHAP'] do(es) not reach"),
    ({"attention", "random"}, {"random", "gradient"}, "1 method(s)"),              # > instead of >=
    ({"attention", "random", "gradient"}, {"random"}, "'+ embedding'"),
    ({"attention", "random", "gradient"}, {"random", "gradient", "attention"}, "do(es) not reach"),
    ({"attention", "random", "gradient"}, set(), "2 method(s)"),
    ({"attention", "random", "lime"}, {"random"}, "not methods of the table"),
])
def test_randomization_typical_mistakes(first, last, words):
    fb = ch10.check_randomization(first, last, SANITY)
    # the message never lists the names that are missing
    missing = ({"attention", "random", "gradient"} - set(first)) | ({"random", "gradient"} - set(last))
    rejected(fb, words, *[f"'{m}'" for m in missing if words != "not methods of the table"])


@pytest.mark.parametrize("first, last", [(None, {"random"}), ("attention", {"random"}), (3, {"random"}),
                                         ({"attention"}, ...)])
def test_randomization_unusable_answers_say_not_yet(first, last):
    fb = ch10.check_randomization(first, last, SANITY)
    assert not fb and str(fb).startswith("Not yet")


# --------------------------------------------------------------------------- surrogate depth

TREES = pd.DataFrame({"depth": [1, 2, 3, 4, 5], "leaves": [2, 4, 7, 12, 19],
                      "fidelity (train)": [0.91, 0.955, 0.97, 0.99, 1.0],
                      "fidelity (test)": [0.90, 0.93, 0.96, 0.94, 0.97]})


def test_surrogate_depth_right_answers():
    assert ch10.check_surrogate_depth(min(d for d, f in zip(TREES["depth"], TREES["fidelity (test)"]) if f >= 0.95),
                                      TREES)
    assert ch10.check_surrogate_depth(np.int64(3), TREES)
    assert ch10.check_surrogate_depth(3.0, TREES)       # what .min() of a float column gives


@pytest.mark.parametrize("depth, words", [
    (5, "a smaller depth does too"),        # the largest depth that reaches the level
    (2, "training data only"),              # read off the training fidelity
    (7, "number of leaves"),
    (4, "below 0.95"),
    (9, "not in the table"),
])
def test_surrogate_depth_typical_mistakes(depth, words):
    rejected(ch10.check_surrogate_depth(depth, TREES), words, "depth 3", " 3 ")


@pytest.mark.parametrize("depth", [None, "3", 2.5, [3, 4], ..., True])
def test_surrogate_depth_unusable_answers_say_not_yet(depth):
    fb = ch10.check_surrogate_depth(depth, TREES)
    assert not fb and str(fb).startswith("Not yet")


def test_surrogate_depth_bad_context_raises():
    with pytest.raises(TypeError, match="trees"):
        ch10.check_surrogate_depth(3, TREES[["depth"]])
    with pytest.raises(ValueError, match="no tree"):
        ch10.check_surrogate_depth(3, TREES, level=0.999)


def test_toy_model():
    np.testing.assert_allclose(ch10.toy_predict(ch10.TOY_IDS), expit(1.0))


# --------------------------------------------------------------------------- the disagreement problem

def rank_agreement_loop(a, b, k):
    """Written differently from the reference: sorted lists of (|value|, -index) pairs, compared rank by rank."""
    order = lambda s: [j for _, j in sorted(((abs(v), -j) for j, v in enumerate(s)), reverse=True)]
    top_a, top_b = [-j for j in order(a)[:k]], [-j for j in order(b)[:k]]
    return sum(x == y for x, y in zip(top_a, top_b)) / k


def test_check_rank_agreement_accepts_the_definition():
    fb = ch10.check_rank_agreement(rank_agreement_loop)
    assert fb and "all 5 test cases" in fb.message


@pytest.mark.parametrize("fn, words", [
    (lambda a, b, k: len(set(np.argsort(-np.abs(a))[:k]) & set(np.argsort(-np.abs(b))[:k])) / k,
     "feature agreement"),
    (lambda a, b, k: float(np.mean(np.argsort(-a, kind="stable")[:k] == np.argsort(-b, kind="stable")[:k])),
     "signed value"),
    (lambda a, b, k: float(np.sum(np.argsort(-np.abs(a), kind="stable")[:k]
                                  == np.argsort(-np.abs(b), kind="stable")[:k])), "returned a count"),
    (lambda a, b, k: 0.0, "not the share"),
    (lambda a, b, k: None, "forget to `return`"),
    (lambda a, b: 1.0, "TypeError"),
])
def test_check_rank_agreement_names_each_mistake(fn, words):
    rejected(ch10.check_rank_agreement(fn), words)


def test_check_rank_agreement_divided_by_overlap():
    def by_overlap(a, b, k):
        ta, tb = np.argsort(-np.abs(a), kind="stable")[:k], np.argsort(-np.abs(b), kind="stable")[:k]
        shared = len(set(ta) & set(tb))
        return float(np.sum(ta == tb) / shared) if shared else 0.0
    rejected(ch10.check_rank_agreement(by_overlap), "number of shared features")
    rejected(ch10.check_rank_agreement("rank"), "function")
