"""Unit tests of xai_tutorial.surrogate against closed forms (linear and quadratic black boxes),
the kernel formula, and scikit-learn's weighted R^2."""
import numpy as np
import pytest
from sklearn.metrics import r2_score

from xai_tutorial import surrogate

RNG = np.random.default_rng(0)
P = 6
W = RNG.normal(size=P)
X0 = RNG.normal(size=P)


def linear(z):
    return z @ W + 1.5


def quadratic(z):
    return np.sum(z**2, axis=1)


def test_exponential_kernel_formula():
    d = np.array([[0.0, 1.0], [2.0, 3.0]])
    np.testing.assert_allclose(surrogate.exponential_kernel(d, 2.0), np.exp(-(d**2) / 4.0))
    assert surrogate.exponential_kernel(np.array([0.0]), 0.1)[0] == 1.0


def test_effective_sample_size():
    assert surrogate.effective_sample_size(np.ones(7)) == pytest.approx(7.0)
    assert surrogate.effective_sample_size(np.array([1.0, 0.0, 0.0])) == pytest.approx(1.0)
    w = RNG.uniform(size=20)
    assert surrogate.effective_sample_size(w) == pytest.approx(w.sum() ** 2 / (w**2).sum())


def test_samples_cover_distances_from_zero_outwards():
    z = surrogate.sample_perturbations(np.zeros(50), 4000, scale=2.0, seed=1)
    d = np.linalg.norm(z / 2.0, axis=1) / np.sqrt(50)  # radius factor r ~ U(0, 1), times ~1
    assert z.shape == (4000, 50)
    assert np.quantile(d, 0.1) < 0.15 and np.quantile(d, 0.9) > 0.8
    np.testing.assert_allclose(np.mean(d), 0.5, atol=0.03)


def test_per_feature_scale_spreads_features_accordingly():
    scale = np.array([0.1, 1.0, 10.0])
    z = surrogate.sample_perturbations(np.zeros(3), 20000, scale=scale, seed=0)
    ratio = z.std(axis=0) / scale
    np.testing.assert_allclose(ratio, ratio[0], rtol=0.05)


def test_linear_black_box_is_recovered_exactly():
    res = surrogate.local_surrogate(linear, X0, n_samples=200, kernel_width=2.0, scale=0.5, alpha=0.0)
    np.testing.assert_allclose(res.coef, W, atol=1e-10)
    assert res.intercept == pytest.approx(linear(X0[None])[0])
    assert res.fidelity_r2 == pytest.approx(1.0)
    assert res.fresh_r2 == pytest.approx(1.0)
    np.testing.assert_allclose(res.predict(res.samples), res.targets, atol=1e-10)


def test_narrow_kernel_recovers_the_gradient_of_a_smooth_function():
    # a quadratic is linear to first order: the local slope at x is 2x
    res = surrogate.local_surrogate(quadratic, X0, n_samples=2000, kernel_width=0.5, scale=0.1, alpha=1e-6)
    np.testing.assert_allclose(res.coef, 2 * X0, atol=0.02)
    assert res.fresh_r2 > 0.99


def test_wide_kernel_loses_fidelity_on_a_nonlinear_function():
    def bumpy(z):
        return np.sin(2 * z).sum(axis=1)

    narrow = surrogate.local_surrogate(bumpy, X0, kernel_width=0.25, scale=1.0, seed=3)
    wide = surrogate.local_surrogate(bumpy, X0, kernel_width=20.0, scale=1.0, seed=3)
    assert narrow.fresh_r2 > 0.9 > wide.fresh_r2
    assert wide.effective_samples > narrow.effective_samples


def test_result_fields_match_their_definitions():
    res = surrogate.local_surrogate(quadratic, X0, n_samples=300, kernel_width=1.5, scale=0.7, alpha=0.5,
                                    seed=4)
    d = np.linalg.norm((res.samples - X0) / 0.7, axis=1)
    np.testing.assert_allclose(res.weights, np.exp(-(d**2) / 1.5**2))
    np.testing.assert_allclose(res.targets, quadratic(res.samples))
    assert res.fidelity_r2 == pytest.approx(r2_score(res.targets, res.predict(res.samples),
                                                     sample_weight=res.weights))
    assert res.effective_samples == pytest.approx(surrogate.effective_sample_size(res.weights))
    assert res.kernel_width == 1.5


def test_default_kernel_width_is_limes():
    res = surrogate.local_surrogate(linear, X0, n_samples=10)
    assert res.kernel_width == pytest.approx(0.75 * np.sqrt(P))


def test_ridge_penalty_shrinks_coefficients():
    loose = surrogate.local_surrogate(linear, X0, n_samples=100, alpha=0.0)
    tight = surrogate.local_surrogate(linear, X0, n_samples=100, alpha=1e4)
    assert np.linalg.norm(tight.coef) < 0.1 * np.linalg.norm(loose.coef)


def test_seed_makes_runs_reproducible():
    a = surrogate.local_surrogate(quadratic, X0, n_samples=50, seed=7)
    b = surrogate.local_surrogate(quadratic, X0, n_samples=50, seed=7)
    c = surrogate.local_surrogate(quadratic, X0, n_samples=50, seed=8)
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.coef, b.coef)
    assert not np.allclose(a.samples, c.samples)


def test_multi_output_target():
    def two(z):
        return np.stack([linear(z), -2 * linear(z)], axis=1)

    res = surrogate.local_surrogate(two, X0, n_samples=100, alpha=0.0, target=1)
    np.testing.assert_allclose(res.coef, -2 * W, atol=1e-9)


def test_errors():
    with pytest.raises(ValueError, match="x must be 1-D"):
        surrogate.local_surrogate(linear, X0[None])
    with pytest.raises(ValueError, match=r"n_samples must be in \[2, inf\], got 1"):
        surrogate.local_surrogate(linear, X0, n_samples=1)
    with pytest.raises(ValueError, match=r"kernel_width must be in \(0, inf\)"):
        surrogate.local_surrogate(linear, X0, kernel_width=0.0)
    with pytest.raises(TypeError, match="kernel_width must be a number"):
        surrogate.local_surrogate(linear, X0, kernel_width="wide")
    with pytest.raises(ValueError, match=r"one entry per feature \(6\), got shape \(3,\)"):
        surrogate.local_surrogate(linear, X0, scale=np.ones(3))
    with pytest.raises(ValueError, match="scale must be positive"):
        surrogate.local_surrogate(linear, X0, scale=-1.0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, inf\)"):
        surrogate.local_surrogate(linear, X0, alpha=-1.0)
    with pytest.raises(ValueError, match="2 outputs per input: pass target"):
        surrogate.local_surrogate(lambda z: np.zeros((len(z), 2)), X0)
    with pytest.raises(ValueError, match=r"target must be in \[0, 1\] for a function with 2 output\(s\), got 5"):
        surrogate.local_surrogate(lambda z: np.zeros((len(z), 2)), X0, target=5)
    with pytest.raises(ValueError, match=r"predict_fn must return shape \(2000,\)"):
        surrogate.local_surrogate(lambda z: np.zeros(3), X0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        surrogate.local_surrogate(lambda z: np.full(len(z), np.nan), X0)
    with pytest.raises(TypeError, match="predict_fn must be callable"):
        surrogate.local_surrogate("model", X0)
    with pytest.raises(ValueError, match="every kernel weight underflows"):
        surrogate.local_surrogate(linear, X0, kernel_width=1e-300)
    with pytest.raises(ValueError, match="distances must be non-negative"):
        surrogate.exponential_kernel(np.array([-1.0]), 1.0)
    with pytest.raises(ValueError, match="weights must be non-negative"):
        surrogate.effective_sample_size(np.zeros(3))
    with pytest.raises(ValueError, match="z must have 6 features"):
        surrogate.local_surrogate(linear, X0, n_samples=10).predict(np.zeros((2, 3)))
