"""Tests of the exercise checkers of chapter 10 (xai_tutorial.exercises.ch10): the deletion curve and
comprehensiveness of a toy model with known answers, and the two verdicts read off the chapter's tables."""
import numpy as np
from scipy.special import expit


# --------------------------------------------------------------------------- deletion / insertion

def test_ch10_deletion_curve_checker():
    from xai_tutorial.exercises import ch10

    right = expit(np.array([1.0, -1.0, -1.0, -1.5, 0.0]))
    assert ch10.check_deletion_curve(right)
    by_abs = expit(np.array([1.0, -1.0, 0.5, 0.5, 0.0]))  # |score| order: great, dull, but, plot
    fb = ch10.check_deletion_curve(by_abs)
    assert not fb and "|score|" in fb.message
    fb = ch10.check_deletion_curve(np.array([1.0, -1.0, -1.0, -1.5, 0.0]))
    assert not fb and "sigmoid" in fb.message
    assert not ch10.check_deletion_curve(1 - right)
    assert not ch10.check_deletion_curve(right[:4])
    assert not ch10.check_deletion_curve(None)


def test_ch10_comprehensiveness_checker():
    from xai_tutorial.exercises import ch10

    comp, suff = expit(1.0) - expit(-1.0), expit(1.0) - expit(2.0)
    assert ch10.check_comprehensiveness(comp, suff)
    fb = ch10.check_comprehensiveness(suff, comp)
    assert not fb and "swapped" in fb.message
    fb = ch10.check_comprehensiveness(expit(-1.0), suff)
    assert not fb and "drop" in fb.message
    assert not ch10.check_comprehensiveness(comp, 0.0)
    np.testing.assert_allclose(ch10.toy_predict(ch10.TOY_IDS), expit(1.0))


def test_ch10_randomization_and_surrogate_checkers():
    import pandas as pd

    from xai_tutorial.exercises import ch10

    sanity = pd.DataFrame({"+ output": [1.0, 0.8, 1.0, 1.0], "+ embedding": [0.1, 0.05, 1.0, 0.6]},
                          index=["attention", "SHAP", "random", "(model accuracy)"])
    assert ch10.check_randomization({"attention", "random"}, {"random"}, sanity)
    fb = ch10.check_randomization({"random"}, {"random"}, sanity)
    assert not fb and "missing ['attention']" in fb.message
    assert not ch10.check_randomization({"attention", "random"}, {"random", "SHAP"}, sanity)
    assert not ch10.check_randomization("attention", {"random"}, sanity)
    assert not ch10.check_randomization({"attention", "random", "lime"}, {"random"}, sanity)
    trees = pd.DataFrame({"depth": [1, 2, 3, 4], "fidelity (test)": [0.90, 0.96, 0.94, 0.97]})
    assert ch10.check_surrogate_depth(2, trees)
    assert not ch10.check_surrogate_depth(4, trees)
    assert not ch10.check_surrogate_depth(3, trees)
    assert not ch10.check_surrogate_depth(2.0, trees)


