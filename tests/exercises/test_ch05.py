"""Tests of the exercise checkers of chapter 5, "Model explanations" (xai_tutorial.exercises.ch05).

For each checker: the notebook's solution passes, each typical wrong answer fails with a message
that says what is wrong, and malformed answers give a Feedback rather than a traceback. Everything
is NumPy or a tiny fixed model; nothing is trained and TensorFlow is not imported. No failure
message may print the expected answer: the checkers say where an answer is off and why.
"""
from __future__ import annotations


import numpy as np
import pytest
from sklearn.metrics import r2_score

from checker_asserts import not_yet, rejected
from xai_tutorial import surrogate
from xai_tutorial.exercises import Feedback, ch05
from xai_tutorial.surrogate import SurrogateResult

# --------------------------------------------------------------------------- ex-05-ig-product


def _ig_product(rule: str = "trapezoid", *, diff: str = "x - baseline", swap: bool = True, sign: float = 1.0):
    """A learner's ``ig_product(x, baseline, steps)`` for f(x) = x1 x2, right or with one mistake.

    rule : quadrature rule ("trapezoid", "midpoint", "left", "right", or "trapezoid-off-by-one":
        a trapezoid on ``steps`` points instead of ``steps + 1``).
    diff : what multiplies the averaged gradient ("x - baseline", "x", or "none").
    swap : False computes the gradient of x1 x2 as (x1, x2) instead of (x2, x1).
    """
    def ig_product(x, baseline, steps=16):
        x, b = np.asarray(x, dtype=float), np.asarray(baseline, dtype=float)
        if rule == "trapezoid":
            alphas = np.linspace(0, 1, steps + 1)
            weights = np.full(steps + 1, 1 / steps)
            weights[[0, -1]] /= 2
        elif rule == "trapezoid-off-by-one":  # np.trapezoid on linspace(0, 1, steps): one point too few
            alphas = np.linspace(0, 1, steps)
            path = b + alphas[:, None] * (x - b)
            return sign * (x - b) * np.trapezoid(path[:, ::-1], alphas, axis=0)
        elif rule == "midpoint":
            alphas = (np.arange(steps) + 0.5) / steps
            weights = np.full(steps, 1 / steps)
        elif rule == "left":
            alphas = np.arange(steps) / steps
            weights = np.full(steps, 1 / steps)
        else:  # "right"
            alphas = np.arange(1, steps + 1) / steps
            weights = np.full(steps, 1 / steps)
        path = b + alphas[:, None] * (x - b)
        grads = path[:, ::-1] if swap else path
        factor = {"x - baseline": x - b, "x": x, "none": 1.0}[diff]
        return sign * factor * (weights @ grads)
    return ig_product


def _numerical_ig(f, x, baseline, n=4001, h=1e-5):
    """IG by central finite differences and a fine trapezoid rule: an independent reference."""
    x, b = np.asarray(x, float), np.asarray(baseline, float)
    alphas = np.linspace(0, 1, n)
    path = b + alphas[:, None] * (x - b)
    eye = np.eye(len(x)) * h
    grads = np.stack([(f(path + e) - f(path - e)) / (2 * h) for e in eye], axis=1)
    return (x - b) * np.trapezoid(grads, alphas, axis=0)


def _product(z):
    return z[..., 0] * z[..., 1]


@pytest.mark.parametrize("x, baseline", [([3.0, 2.0], [0.0, 0.0]), ([1.0, -2.0], [0.5, 0.5]),
                                         ([-1.5, 4.0], [2.0, -1.0]), ([0.3, 0.7], [0.3, -0.2])])
def test_ig_product_reference_matches_numerical_integration_and_completeness(x, baseline):
    ref = ch05.ig_product_reference(np.array(x), np.array(baseline))
    assert ref.shape == (2,)
    np.testing.assert_allclose(ref, _numerical_ig(_product, x, baseline), rtol=1e-6, atol=1e-8)
    # completeness: the attributions sum to f(x) - f(x')
    assert ref.sum() == pytest.approx(_product(np.array(x)) - _product(np.array(baseline)))


def test_ig_product_reference_matches_hand_derived_value():
    # x = (3, 2), zero baseline: IG = (3 * 2 / 2, 2 * 3 / 2) = (3, 3)
    np.testing.assert_allclose(ch05.ig_product_reference(np.array([3.0, 2.0]), np.zeros(2)), [3.0, 3.0])


def test_ig_product_right_answer_passes():
    res = ch05.check_ig_product(_ig_product())
    assert isinstance(res, Feedback) and res
    assert "completeness" in res.message and "(x1 - x1')(x2 + x2')/2" in res.message
    # the midpoint rule is exact for this linear integrand too, so it is right as well
    assert ch05.check_ig_product(_ig_product("midpoint"))


def test_ig_product_closed_form_answer_passes():
    assert ch05.check_ig_product(lambda x, b, steps: ch05.ig_product_reference(x, b))


@pytest.mark.parametrize("wrong, case, got, hint", [
    # a left Riemann sum misses half a step of the linearly growing gradient: 3 * (2 * 15/32) = 2.8125
    (_ig_product("left"), 1, "holds 2.8125", "trapezoid weights"),
    (_ig_product("right"), 1, "holds 3.1875", "trapezoid weights"),
    # forgetting (x - baseline) leaves the average gradient (1, 1.5)
    (_ig_product(diff="none"), 1, "holds 1,", "average gradient alone"),
    # x instead of x - baseline is right for the zero baseline of case 1 and wrong on case 2
    (_ig_product(diff="x"), 2, "holds -0.75", "multiplied by x"),
    (_ig_product(sign=-1.0), 1, "holds -3", "sign is flipped"),
    # gradient of x1 x2 taken as (x1, x2) instead of (x2, x1)
    (_ig_product(swap=False), 1, "holds 4.5", "completeness"),
    # linspace(0, 1, steps) instead of steps + 1 points: only wrong for steps=1 (case 3)
    (_ig_product("trapezoid-off-by-one"), 3, "holds -0,", "steps + 1 points"),
])
def test_ig_product_typical_mistakes_fail_with_a_hint_but_not_the_answer(wrong, case, got, hint):
    res = ch05.check_ig_product(wrong)
    assert not res
    assert f"your integrated gradients on test case {case} differ" in res.message
    assert got in res.message and hint in res.message
    # neither the expected attributions nor the worked answer are printed
    x, b, _ = [(np.array([3.0, 2.0]), np.zeros(2), 16), (np.array([1.0, -2.0]), np.array([0.5, 0.5]), 4),
               (np.array([-1.5, 4.0]), np.array([2.0, -1.0]), 1)][case - 1]
    for value in ch05.ig_product_reference(x, b):
        assert f"expected {value:g}" not in res.message and f"{value:g}]" not in res.message
    assert "[3.0, 3.0]" not in res.message and "the answer is" not in res.message


@pytest.mark.parametrize("wrong, says", [
    (lambda x, b, steps: None, "returned None on test case 1: did it forget to `return`"),
    (lambda x, b, steps: _ig_product()(x, b, steps).sum(), "has shape (), expected (2,)"),
    (lambda x, b, steps: _ig_product()(x, b, steps)[None], "has shape (1, 2), expected (2,)"),
    (lambda x, b, steps: _ig_product()(x, b, steps)[:, None] * np.ones(2), "has shape (2, 2), expected (2,)"),
    (lambda x, b, steps: "3, 3", "must be an array of numbers"),
    (lambda x, b, steps: 1 / 0, "raised ZeroDivisionError"),
    (lambda x, b: _ig_product()(x, b), "raised TypeError"),
    (3.0, "expected a function, got the number 3.0"),
])
def test_ig_product_malformed_answers_fail_with_a_clear_message(wrong, says):
    res = ch05.check_ig_product(wrong)
    assert not res
    assert says in res.message


def test_ig_product_right_values_from_a_function_that_mutates_its_input_pass():
    def ig_in_place(x, baseline, steps=16):
        diff = x
        diff -= baseline  # modifies the caller's x
        alphas = np.linspace(0, 1, steps + 1)
        weights = np.full(steps + 1, 1 / steps)
        weights[[0, -1]] /= 2
        return diff * (weights @ (baseline + alphas[:, None] * diff)[:, ::-1])

    x, b = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    np.testing.assert_allclose(ig_in_place(x.copy(), b, 4), ch05.ig_product_reference(x, b))
    assert ch05.check_ig_product(ig_in_place)


# --------------------------------------------------------------------------- ex-05-linear-gxi

RNG = np.random.default_rng(0)
KERNEL = RNG.normal(size=(6, 3))        # (n_features, n_classes), like Dense.get_weights()[0]
BIAS = RNG.normal(size=3)
X = RNG.uniform(0.0, 1.0, size=(5, 6))  # five "images" with pixel values in [0, 1]
TARGET = np.array([0, 2, 1, 1, 0])


def _logits(z):
    return z @ KERNEL + BIAS


def _finite_difference_gradients(x, target, h=1e-4):
    """d logit_target / d x for every example, by central differences on the NumPy model."""
    rows = np.arange(len(x))
    grads = np.zeros_like(x)
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = h
        grads[:, j] = (_logits(x + e)[rows, target] - _logits(x - e)[rows, target]) / (2 * h)
    return grads


def _numerical_ig_linear(x, target, baseline, steps=8):
    alphas = np.linspace(0, 1, steps + 1)
    weights = np.full(steps + 1, 1 / steps)
    weights[[0, -1]] /= 2
    avg = sum(w * _finite_difference_gradients(baseline + a * (x - baseline), target)
              for a, w in zip(alphas, weights))
    return (x - baseline) * avg


@pytest.fixture(scope="module")
def linear_answers():
    gxi = X * _finite_difference_gradients(X, TARGET)
    ig = _numerical_ig_linear(X, TARGET, np.zeros_like(X))
    return gxi, ig


def _check_linear(gxi, ig, target=TARGET, kernel=KERNEL, x=X):
    return ch05.check_linear_attributions(gxi, ig, kernel=kernel, x=x, target=target)


def test_linear_attributions_right_answer_passes(linear_answers):
    gxi, ig = linear_answers
    res = _check_linear(gxi, ig)
    assert res and "IG of a linear model is gradient x input" in res.message
    # float32 answers (what Keras returns) pass within the checker's tolerance
    assert _check_linear(gxi.astype(np.float32), ig.astype(np.float32))


def test_linear_attributions_completeness_holds_for_the_right_answer(linear_answers):
    # IG with a black baseline sums to f(x) - f(0) for the explained logit
    _, ig = linear_answers
    rows = np.arange(len(X))
    gap = ig.sum(1) - (_logits(X)[rows, TARGET] - _logits(np.zeros_like(X))[rows, TARGET])
    np.testing.assert_allclose(gap, 0, atol=1e-6)


def test_linear_attributions_one_int_target_for_all_examples():
    gxi = X * _finite_difference_gradients(X, np.full(5, 2))
    assert _check_linear(gxi, gxi, target=2)
    assert not _check_linear(gxi, gxi, target=1)


@pytest.mark.parametrize("mistake, which, says", [
    # the plain gradient (saliency) without "x input"
    ("gradient only", "gradient x input", "30 of 30 value(s) of gradient x input differ"),
    # explaining class 0 for every example instead of each one's target: the three examples
    # whose target is not 0 differ (3 x 6 = 18 values)
    ("class 0 for all", "gradient x input", "18 of 30 value(s) of gradient x input differ"),
    ("sign error", "gradient x input", "30 of 30 value(s) of gradient x input differ"),
    # IG with the mean image instead of a black baseline
    ("mean baseline", "integrated gradients", "value(s) of integrated gradients differ"),
    # attributing the bias as well, spread over the features
    ("bias spread", "integrated gradients", "30 of 30 value(s) of integrated gradients differ"),
])
def test_linear_attributions_typical_mistakes_fail(linear_answers, mistake, which, says):
    gxi, ig = linear_answers
    if mistake == "gradient only":
        gxi = _finite_difference_gradients(X, TARGET)
    elif mistake == "class 0 for all":
        gxi = X * _finite_difference_gradients(X, np.zeros(5, dtype=int))
    elif mistake == "sign error":
        gxi = -gxi
    elif mistake == "mean baseline":
        ig = _numerical_ig_linear(X, TARGET, np.broadcast_to(X.mean(0), X.shape))
    else:
        ig = ig + BIAS[TARGET][:, None] / X.shape[1]
    res = _check_linear(gxi, ig)
    assert not res
    assert says in res.message and which in res.message
    assert "w_c * x for the explained class c" in res.message


@pytest.mark.parametrize("gxi_kind, ig_kind, says", [
    ("transposed", "right", "gradient x input has shape (6, 5), expected (5, 6) (transposed?)"),
    ("right", "transposed", "integrated gradients has shape (6, 5), expected (5, 6) (transposed?)"),
    ("summed", "right", "gradient x input has shape (5,), expected (5, 6)"),
    ("None", "right", "gradient x input is None"),
    ("right", "None", "integrated gradients is None"),
])
def test_linear_attributions_malformed_answers_fail(linear_answers, gxi_kind, ig_kind, says):
    gxi, ig = linear_answers
    make = {"right": lambda a: a, "transposed": lambda a: a.T, "summed": lambda a: a.sum(1),
            "None": lambda a: None}
    res = _check_linear(make[gxi_kind](gxi), make[ig_kind](ig))
    assert not res and says in res.message


@pytest.mark.parametrize("context, mentions", [
    (dict(kernel=KERNEL.T), "kernel"),                   # scikit-learn's coef_ layout (n_classes, n_features)
    (dict(kernel=KERNEL[:, 0]), "kernel"),               # one column only
    (dict(target=7), "target"),                          # beyond the 3 classes
    (dict(target=-1), "target"),                         # negative
    (dict(target=TARGET[:3]), "target"),                 # not one per example
    (dict(target=TARGET.astype(float)), "target"),       # float labels
    (dict(x=X[0]), "x"),                                 # a single example without its batch axis
])
def test_linear_attributions_bad_context_raises_a_clear_error(linear_answers, context, mentions):
    gxi, ig = linear_answers
    args = dict(kernel=KERNEL, x=X, target=TARGET) | context
    with pytest.raises((ValueError, TypeError), match=mentions):
        ch05.check_linear_attributions(gxi, ig, **args)


# --------------------------------------------------------------------------- ex-05-weighted-r2


def weighted_r2(y, y_hat, w):
    """The notebook's solution."""
    y, y_hat, w = (np.asarray(a, dtype=float) for a in (y, y_hat, w))
    y_bar = np.sum(w * y) / np.sum(w)
    return 1.0 - np.sum(w * (y - y_hat) ** 2) / np.sum(w * (y - y_bar) ** 2)


def test_weighted_r2_solution_matches_repeated_samples():
    # with integer weights, the weighted R^2 is the plain R^2 of the data with each sample repeated w times
    rng = np.random.default_rng(1)
    y, y_hat, w = rng.normal(size=12), rng.normal(size=12), rng.integers(1, 4, size=12)
    assert weighted_r2(y, y_hat, w) == pytest.approx(r2_score(np.repeat(y, w), np.repeat(y_hat, w)))


@pytest.mark.parametrize("right", [
    weighted_r2,
    lambda y, y_hat, w: weighted_r2(y, y_hat, np.asarray(w) / np.sum(w)),  # normalized weights: same R^2
    lambda y, y_hat, w: 1 - np.average((y - y_hat) ** 2, weights=w)
                        / np.average((y - np.average(y, weights=w)) ** 2, weights=w),
    lambda y, y_hat, w: float(r2_score(y, y_hat, sample_weight=w)),
])
def test_weighted_r2_right_answers_pass(right):
    res = ch05.check_weighted_r2(right)
    assert res and "r2_score(sample_weight=w) on all 4 cases" in res.message


@pytest.mark.parametrize("wrong, case", [
    # unweighted R^2: right on case 1 (all weights 1), wrong from case 2 on
    (lambda y, y_hat, w: r2_score(y, y_hat), 2),
    # weighted sums around the plain mean instead of the weighted mean
    (lambda y, y_hat, w: 1 - np.sum(w * (y - y_hat) ** 2) / np.sum(w * (y - y.mean()) ** 2), 2),
    # weights in the residual sum only
    (lambda y, y_hat, w: 1 - np.sum(w * (y - y_hat) ** 2) / np.sum((y - np.average(y, weights=w)) ** 2), 2),
    # weighted mean squared error over the unweighted variance
    (lambda y, y_hat, w: 1 - np.average((y - y_hat) ** 2, weights=w) / np.var(y), 2),
    (lambda y, y_hat, w: weighted_r2(y, y_hat, np.sqrt(w)), 2),
    (lambda y, y_hat, w: weighted_r2(y, y_hat, np.asarray(w) ** 2), 2),
    # arguments swapped: R^2 is not symmetric
    (lambda y, y_hat, w: weighted_r2(y_hat, y, w), 1),
    # the fraction of unexplained variance instead of R^2
    (lambda y, y_hat, w: 1 - weighted_r2(y, y_hat, w), 1),
    # squared Pearson correlation
    (lambda y, y_hat, w: np.corrcoef(y, y_hat)[0, 1] ** 2, 1),
    # absolute instead of squared residuals
    (lambda y, y_hat, w: 1 - np.sum(w * np.abs(y - y_hat)) / np.sum(w * np.abs(y - np.average(y, weights=w))), 1),
])
def test_weighted_r2_typical_mistakes_fail(wrong, case):
    res = ch05.check_weighted_r2(wrong)
    assert not res
    assert f"your weighted R^2 on test case {case} = " in res.message
    assert "expected " not in res.message
    # the message says which way the answer is off, never the reference value
    assert "too small" in res.message or "too large" in res.message
    assert "with the weighted mean y_bar = sum w y / sum w" in res.message


@pytest.mark.parametrize("wrong, says", [
    (lambda y, y_hat, w: None, "returned None on test case 1: did it forget to `return`"),
    (lambda y, y_hat, w: np.array([weighted_r2(y, y_hat, w)]), "has shape (1,), expected ()"),
    (lambda y, y_hat, w: np.ones_like(y), "has shape (30,), expected ()"),  # per-sample values
    # ndarray.mean has no weights argument (np.average has)
    (lambda y, y_hat, w: 1 - np.sum(w * (y - y_hat) ** 2) / np.sum(w * (y - y.mean(weights=w)) ** 2),
     "raised TypeError"),
    (lambda y, y_hat: 0.5, "raised TypeError"),
    ("weighted_r2", "expected a function"),
])
def test_weighted_r2_malformed_answers_fail(wrong, says):
    res = ch05.check_weighted_r2(wrong)
    assert not res and says in res.message


# --------------------------------------------------------------------------- ex-05-kernel-width


def _result(width: float, local: float, fresh: float, effective: float = 10.0) -> SurrogateResult:
    """A SurrogateResult with chosen fidelities (the checker reads only kernel_width and fresh_r2)."""
    return SurrogateResult(x=np.zeros(2), coef=np.zeros(2), intercept=0.0, fidelity_r2=local, fresh_r2=fresh,
                           kernel_width=float(width), effective_samples=effective, samples=np.zeros((3, 2)),
                           targets=np.zeros(3), weights=np.ones(3))


# the situation of the exercise: the narrowest kernel fits its few samples best but fails on fresh ones
FITS = {0.05: _result(0.05, local=1.000, fresh=-3.2, effective=2.0),
        0.5: _result(0.5, local=0.95, fresh=0.91, effective=60.0),
        6.0: _result(6.0, local=0.70, fresh=0.68, effective=990.0)}


def test_best_kernel_width_right_answer_passes():
    best = max(FITS, key=lambda w: FITS[w].fresh_r2)
    res = ch05.check_best_kernel_width(FITS, best)
    assert res
    assert "kernel width 0.5 gives the most faithful surrogate" in res.message
    assert "0.05: -3.200, 0.5: 0.910, 6: 0.680" in res.message
    assert ch05.check_best_kernel_width(FITS, np.float32(0.5))  # a NumPy number is fine
    assert ch05.check_best_kernel_width({1: _result(1, 0.9, 0.1), 2: _result(2, 0.8, 0.7)}, 2)  # int keys


@pytest.mark.parametrize("mistake, chosen, says", [
    ("highest local fidelity", max(FITS, key=lambda w: FITS[w].fidelity_r2), "highest local fidelity"),
    ("lowest fresh fidelity", min(FITS, key=lambda w: FITS[w].fresh_r2), "fresh_r2"),
    ("most effective samples", max(FITS, key=lambda w: FITS[w].effective_samples), "higher fresh fidelity"),
    ("index from np.argmax", int(np.argmax([r.fresh_r2 for r in FITS.values()])), "position in the dict"),
    ("the fidelity instead of the width", FITS[0.5].fresh_r2, "is a fidelity, not a width"),
    ("not a width at all", 0.3, "is not one of the kernel widths"),
])
def test_best_kernel_width_typical_mistakes_fail_without_naming_the_best_width(mistake, chosen, says):
    res = ch05.check_best_kernel_width(FITS, chosen)
    assert not res
    assert says in res.message, res.message
    # neither the best width nor the table of fresh fidelities is printed
    assert "0.5 gives" not in res.message and "at kernel width 0.5" not in res.message
    assert "fresh R^2 by width" not in res.message and "0.910" not in res.message


@pytest.mark.parametrize("results, says", [
    (list(FITS.values()), "results must be a dict with at least two kernel widths"),
    ({0.5: FITS[0.5]}, "results must be a dict with at least two kernel widths"),
    ({}, "results must be a dict"),
    (None, "results must be a dict"),
    ({w: r.fresh_r2 for w, r in FITS.items()}, "results[0.05] is a float, expected a SurrogateResult"),
    # every surrogate fitted with the same (default) width: the loop forgot kernel_width=width
    ({w: FITS[0.5] for w in FITS}, "results[0.05] was fitted with kernel_width=0.5, not 0.05: "
                                   "pass kernel_width=width"),
])
def test_best_kernel_width_malformed_results_fail(results, says):
    res = ch05.check_best_kernel_width(results, 0.5)
    assert not res and says in res.message


@pytest.fixture(scope="module")
def real_fits():
    """Real local surrogates of a smooth 16-feature function (about a second; no model is trained)."""
    w = np.random.default_rng(1).normal(size=16)

    def f(z):
        return np.tanh(z @ w / 4) + 0.2 * np.sin(3 * z[:, 0])

    x = np.full(16, 0.1)
    return {width: surrogate.local_surrogate(f, x, n_samples=100, kernel_width=width, scale=0.5, alpha=1e-3)
            for width in (0.05, 0.5, 6.0)}


def test_best_kernel_width_with_real_surrogates(real_fits):
    local_best = max(real_fits, key=lambda w: real_fits[w].fidelity_r2)
    fresh_best = max(real_fits, key=lambda w: real_fits[w].fresh_r2)
    # the premise of the exercise holds here: the narrow kernel overfits its few effective samples
    assert local_best == 0.05 and fresh_best == 0.5
    assert real_fits[0.05].effective_samples < 16
    assert ch05.check_best_kernel_width(real_fits, fresh_best)
    res = ch05.check_best_kernel_width(real_fits, local_best)
    assert not res and "highest local fidelity" in res.message and "0.5" not in res.message


@pytest.mark.parametrize("chosen", [
    FITS[0.5],                                          # max(fits.values(), key=...): the result, not the width
    (0.5, FITS[0.5]),                                   # max(fits.items(), key=...): a pair
    None,                                               # forgot to assign
    "0.5",                                              # a string
])
def test_best_kernel_width_non_number_gives_feedback(chosen):
    res = ch05.check_best_kernel_width(FITS, chosen)
    assert isinstance(res, Feedback) and not res and "best_width" in res.message


def test_best_kernel_width_ignores_nan_fresh_fidelity_whatever_the_order():
    nan_first = {0.01: _result(0.01, 1.0, float("nan")), 0.5: _result(0.5, 0.9, 0.9), 6.0: _result(6.0, 0.7, 0.6)}
    nan_later = {0.5: nan_first[0.5], 0.01: nan_first[0.01], 6.0: nan_first[6.0]}
    assert ch05.check_best_kernel_width(nan_later, 0.5)
    assert ch05.check_best_kernel_width(nan_first, 0.5)


# --------------------------------------------------------------------------- the classroom standard
# Each checker: a right answer written differently from the notebook's solution passes; typical
# wrong answers fail with a hint that does not print the expected answer; None and wrong types get
# "Not yet" and never raise.

def _not_yet(res):
    return isinstance(res, Feedback) and not res and str(res).startswith("Not yet")


def test_linear_attributions_standard(linear_answers):
    expected = X * KERNEL[:, TARGET].T
    # right, written differently: one example at a time with einsum on a one-hot class matrix
    one_hot = np.eye(3)[TARGET]
    right = np.einsum("nf,fc,nc->nf", X, KERNEL, one_hot)
    assert _check_linear(right, right.astype(np.float32))
    gxi, ig = linear_answers
    for wrong_gxi in (_finite_difference_gradients(X, TARGET), -gxi,
                      X * _finite_difference_gradients(X, np.zeros(5, dtype=int)), gxi + 0.01):
        res = _check_linear(wrong_gxi, ig)
        assert _not_yet(res) and "w_c * x" in res.message
        assert not any(f"{v:.6g}" in res.message for v in expected.ravel()), res.message
    for bad in (None, "gxi", 3.0, [[1, 2], [3]], lambda z: z):
        assert _not_yet(_check_linear(bad, ig)) and _not_yet(_check_linear(gxi, bad))


def test_every_ch05_checker_answers_none_and_wrong_types_with_not_yet():
    for bad in (None, "f", 2.0, np.zeros(2), ...):
        assert _not_yet(ch05.check_ig_product(bad))
        assert _not_yet(ch05.check_weighted_r2(bad))
        assert _not_yet(ch05.check_best_kernel_width(bad, 0.5))
        assert _not_yet(ch05.check_best_kernel_width(FITS, bad))
    assert _not_yet(ch05.check_best_kernel_width({}, None))  # the starter's placeholders


# --------------------------------------------------------------------------- ex-05-smoothgrad


def smoothgrad_np(grad_fn, x, sigma, n_samples=50, seed=0):
    """The notebook's solution."""
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=float)
    return np.mean([grad_fn(x + sigma * rng.standard_normal(x.shape)) for _ in range(n_samples)], axis=0)


def smoothgrad_vectorised(grad_fn, x, sigma, n_samples=50, seed=0):
    """Right, written differently: all noisy copies at once, the noise from rng.normal."""
    noise = np.random.default_rng(seed).normal(0.0, sigma, size=(n_samples,) + np.shape(x))
    return grad_fn(np.asarray(x)[None] + noise).mean(axis=0)


@pytest.mark.parametrize("right", [smoothgrad_np, smoothgrad_vectorised])
def test_smoothgrad_right_answers_pass(right):
    res = ch05.check_smoothgrad(right)
    assert res and "exp(-sigma^2 / 2)" in res.message


def _sum_not_mean(grad_fn, x, sigma, n_samples=50, seed=0):
    rng = np.random.default_rng(seed)
    return np.sum([grad_fn(x + sigma * rng.standard_normal(x.shape)) for _ in range(n_samples)], axis=0)


def _variance_as_std(grad_fn, x, sigma, n_samples=50, seed=0):
    return smoothgrad_np(grad_fn, x, sigma**2, n_samples, seed)


def _no_noise(grad_fn, x, sigma, n_samples=50, seed=0):
    return grad_fn(x)


def _global_rng(grad_fn, x, sigma, n_samples=50, seed=0):
    return np.mean([grad_fn(x + np.random.normal(0, sigma, x.shape)) for _ in range(n_samples)], axis=0)


def _fixed_seed(grad_fn, x, sigma, n_samples=50, seed=0):
    return smoothgrad_np(grad_fn, x, sigma, n_samples, seed=0)


def _biased_noise(grad_fn, x, sigma, n_samples=50, seed=0):
    rng = np.random.default_rng(seed)
    return np.mean([grad_fn(x + sigma * rng.uniform(size=x.shape)) for _ in range(n_samples)], axis=0)


@pytest.mark.parametrize("wrong, says", [
    (_sum_not_mean, "average the gradients (divide by n_samples), do not sum them"),
    (_variance_as_std, "the noise has standard deviation sigma^2"),
    (_no_noise, "no noise seems to reach grad_fn"),
    (_global_rng, "not from the global np.random"),
    (_fixed_seed, "so that the seed is used"),
    (_biased_noise, "compare with the closed form"),
    (lambda grad_fn, x, sigma, n_samples=50, seed=0: grad_fn(x).sum(), "has shape ()"),
])
def test_smoothgrad_typical_mistakes_fail(wrong, says):
    res = ch05.check_smoothgrad(wrong)
    assert rejected(res, says)


def test_smoothgrad_noise_with_a_nonzero_mean_fails():
    def shifted(grad_fn, x, sigma, n_samples=50, seed=0):  # noise N(sigma, sigma^2) instead of N(0, sigma^2)
        rng = np.random.default_rng(seed)
        return np.mean([grad_fn(x + sigma * (1 + rng.standard_normal(x.shape))) for _ in range(n_samples)], axis=0)

    assert not_yet(ch05.check_smoothgrad(shifted))


def test_smoothgrad_malformed_answers_give_feedback():
    for bad in (None, "smoothgrad", 3.0, np.zeros(5)):
        assert not_yet(ch05.check_smoothgrad(bad))
    assert rejected(ch05.check_smoothgrad(lambda grad_fn, x, sigma: x), "raised TypeError")
    assert rejected(ch05.check_smoothgrad(lambda *args: None), "did it forget to `return`")


# --------------------------------------------------------------------------- ex-05-grad-cam


def grad_cam_np(activations, gradients):
    """The notebook's solution."""
    alpha = gradients.mean(axis=(0, 1))
    return np.maximum(np.tensordot(activations, alpha, axes=([2], [0])), 0.0)


def grad_cam_einsum(activations, gradients):
    """Right, written differently: einsum and a clip."""
    h, w, _ = activations.shape
    return np.clip(np.einsum("ijk,k->ij", activations, gradients.sum(axis=(0, 1)) / (h * w)), 0, None)


def test_grad_cam_reference_is_cam_over_hw_for_a_gap_head():
    # closed form: with d y / d A_k[i, j] = w_k / hw everywhere, Grad-CAM = ReLU(sum_k w_k A_k) / hw
    rng = np.random.default_rng(3)
    a, w = np.maximum(rng.normal(size=(4, 4, 6)), 0), rng.normal(size=6)
    g = np.broadcast_to(w / 16, (4, 4, 6))
    np.testing.assert_allclose(ch05.grad_cam_reference(a, g), np.maximum(a @ w, 0) / 16)


@pytest.mark.parametrize("right", [grad_cam_np, grad_cam_einsum])
def test_grad_cam_right_answers_pass(right):
    assert ch05.check_grad_cam(right)


@pytest.mark.parametrize("wrong, says", [
    (lambda a, g: a @ g.mean(axis=(0, 1)), "ReLU of the sum"),
    (lambda a, g: np.maximum(a @ g.sum(axis=(0, 1)), 0), "spatial *mean* of the gradient"),
    (lambda a, g: np.maximum((a * g).sum(axis=-1), 0), "gradient times the activation at each position"),
    (lambda a, g: np.maximum(a @ np.abs(g).mean(axis=(0, 1)), 0), "not their absolute values"),
    (lambda a, g: np.maximum(a @ a.mean(axis=(0, 1)), 0), "Compute alpha_k = mean over the positions"),
    (lambda a, g: np.maximum(a.mean(axis=-1), 0), "Compute alpha_k"),
    (lambda a, g: np.maximum(a, 0) @ g.mean(axis=(0, 1))[:, None], "shape (h, w)"),
])
def test_grad_cam_typical_mistakes_fail(wrong, says):
    res = ch05.check_grad_cam(wrong)
    assert rejected(res, says)


def test_grad_cam_malformed_answers_give_feedback():
    for bad in (None, "grad_cam", 2.0, np.zeros((2, 2))):
        assert not_yet(ch05.check_grad_cam(bad))
    assert rejected(ch05.check_grad_cam(lambda a, g: None), "did it forget to `return`")


# --------------------------------------------------------------------------- ex-05-blurred-baseline

_RNG = np.random.default_rng(21)
_W1, _W2 = _RNG.normal(0, 0.3, (64, 12)), _RNG.normal(0, 0.5, (12, 4))


def _net(z):
    """A smooth NumPy network on 64 pixels with 4 logits, and its gradient (the test's reference)."""
    return np.tanh(np.asarray(z, float) @ _W1) @ _W2


def _net_grad(z, c):
    h = np.tanh(z @ _W1)
    return ((1 - h**2) * _W2[:, c]) @ _W1.T


def _ig(x, b, c, n=64):
    """IG by Gauss-Legendre quadrature of the analytic gradient: independent of the checker's differences."""
    nodes, weights = np.polynomial.legendre.leggauss(n)
    return (x - b) * sum(w / 2 * _net_grad(b + (t + 1) / 2 * (x - b), c) for t, w in zip(nodes, weights))


_X0 = np.clip(_RNG.uniform(-0.5, 1.0, 64), 0, None)  # a digit-like image: blank pixels and ink
_C0 = 2


def _check_blur(baseline, attributions, **kw):
    return ch05.check_blurred_baseline_ig(baseline, attributions, x=_X0, predict_fn=_net, target=_C0, **kw)


def test_blurred_baseline_right_answers_pass():
    from scipy.ndimage import gaussian_filter

    blurred = gaussian_filter(_X0.reshape(8, 8), sigma=1.0).ravel()
    res = _check_blur(blurred, _ig(_X0, blurred, _C0))
    assert res and "not to f(x) - f(black)" in res.message
    # written differently: the blurred image as (8, 8), the attributions as float32 (8, 8)
    assert _check_blur(blurred.reshape(8, 8), _ig(_X0, blurred, _C0).reshape(8, 8).astype(np.float32))


@pytest.mark.parametrize("mistake, says", [
    ("1-D blur of the flat row", "reshape to the 8 x 8 image"),
    ("black baseline", "this is the black baseline"),
    ("no blur", "not blurred"),
    ("sigma 2", "gaussian_filter(image, sigma=1)"),
    ("IG from black", "computed from the black baseline"),
    ("sign flipped", "the sign is flipped"),
    ("wrong class", "explain the target class"),
    ("right sum, wrong split", "distributed differently"),
])
def test_blurred_baseline_typical_mistakes_fail(mistake, says):
    from scipy.ndimage import gaussian_filter

    blurred = gaussian_filter(_X0.reshape(8, 8), sigma=1.0).ravel()
    right = _ig(_X0, blurred, _C0)
    baseline, attributions = blurred, right
    if mistake == "1-D blur of the flat row":
        baseline = gaussian_filter(_X0, sigma=1.0)
    elif mistake == "black baseline":
        baseline = np.zeros(64)
    elif mistake == "no blur":
        baseline = _X0.copy()
    elif mistake == "sigma 2":
        baseline = gaussian_filter(_X0.reshape(8, 8), sigma=2.0).ravel()
    elif mistake == "IG from black":
        attributions = _ig(_X0, np.zeros(64), _C0)
    elif mistake == "sign flipped":
        attributions = -right
    elif mistake == "wrong class":
        attributions = _ig(_X0, blurred, 0)
    else:
        attributions = np.full(64, right.sum() / 64)
    assert rejected(_check_blur(baseline, attributions), says)


def test_blurred_baseline_malformed_answers_give_feedback():
    from scipy.ndimage import gaussian_filter

    blurred = gaussian_filter(_X0.reshape(8, 8), sigma=1.0).ravel()
    assert not_yet(_check_blur(None, None))  # the starter
    assert rejected(_check_blur(blurred[:10], None), "baseline has shape (10,)")
    assert rejected(_check_blur(blurred, np.zeros(5)), "attributions has shape (5,)")
    assert not_yet(_check_blur("blurred", None))
    assert not_yet(_check_blur(blurred, None))


def test_blurred_baseline_bad_context_raises():
    with pytest.raises(ValueError, match="x must be one flat image of 64 pixels"):
        ch05.check_blurred_baseline_ig(np.zeros(64), np.zeros(64), x=np.zeros((8, 8)), predict_fn=_net, target=0)
    with pytest.raises(TypeError, match="predict_fn must be a predict function"):
        ch05.check_blurred_baseline_ig(np.zeros(64), np.zeros(64), x=_X0, predict_fn=None, target=0)
    with pytest.raises(TypeError, match="target must be an int"):
        ch05.check_blurred_baseline_ig(np.zeros(64), np.zeros(64), x=_X0, predict_fn=_net, target=1.0)
