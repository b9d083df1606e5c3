"""Unit tests of xai_tutorial.gradient_attribution against references: finite differences, closed forms of
linear models, completeness, and an accurate quadrature of the integrated-gradients integral."""
import numpy as np
import pytest

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import gradient_attribution

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from known_models import (  # noqa: E402
    RNG, N_IN, N_OUT, X, central_differences, mlp_grad_np, mlp_np, mlp_scalar_tf, mlp_tf)



# --------------------------------------------------------------------------- gradients

@pytest.mark.parametrize("which", ["tf-function", "keras-model"])
def test_gradients_match_central_differences(which, request):
    fn = mlp_tf if which == "tf-function" else request.getfixturevalue("keras_mlp_model")
    for t in range(N_OUT):
        fd = central_differences(lambda z: mlp_np(z)[:, t], X)
        got = gradient_attribution.gradients(fn, X, target=t)
        assert got.shape == X.shape
        np.testing.assert_allclose(got, fd, atol=2e-5, rtol=1e-4)
        np.testing.assert_allclose(fd, mlp_grad_np(X, t), atol=1e-8)  # the reference itself is right


def test_gradients_of_single_output_function_need_no_target():
    got = gradient_attribution.gradients(mlp_scalar_tf, X)
    np.testing.assert_allclose(got, mlp_grad_np(X, 1), atol=2e-5)


def test_gradient_x_input_is_input_times_gradient():
    got = gradient_attribution.gradient_x_input(mlp_tf, X, target=2)
    np.testing.assert_allclose(got, X * mlp_grad_np(X, 2), atol=2e-5)


def test_target_array_selects_one_output_per_example():
    targets = np.array([0, 2, 1, 2])
    got = gradient_attribution.gradients(mlp_tf, X, target=targets)
    expected = np.stack([mlp_grad_np(X[i:i + 1], t)[0] for i, t in enumerate(targets)])
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_model_output_selects_target():
    np.testing.assert_allclose(gradient_attribution.model_output(mlp_tf, X, target=[0, 1, 2, 0]),
                               mlp_np(X)[np.arange(4), [0, 1, 2, 0]], atol=1e-5)


# --------------------------------------------------------------------------- integrated gradients

def ig_reference(x, baseline, t, n_nodes=64):
    """IG of the NumPy MLP by Gauss-Legendre quadrature of the analytic gradient (float64)."""
    nodes, weights = np.polynomial.legendre.leggauss(n_nodes)
    alphas, weights = (nodes + 1) / 2, weights / 2
    avg = sum(w * mlp_grad_np(baseline + a * (x - baseline), t) for a, w in zip(alphas, weights))
    return (x - baseline) * avg


def test_integrated_gradients_match_accurate_quadrature():
    baseline = RNG.normal(0, 0.5, X.shape)
    got = gradient_attribution.integrated_gradients(mlp_tf, X, baseline, steps=256, target=1)
    np.testing.assert_allclose(got, ig_reference(X, baseline, 1), atol=1e-4)


def test_trapezoid_completeness_beats_left_and_right_sums():
    gaps = {}
    for method in ("trapezoid", "midpoint", "left", "right"):
        attr = gradient_attribution.integrated_gradients(mlp_tf, X, steps=64, target=0, method=method)
        gaps[method] = gradient_attribution.completeness_gap(mlp_tf, X, attr, target=0)
    assert np.all(gaps["trapezoid"] < 1e-3), gaps["trapezoid"]
    assert np.all(gaps["midpoint"] < 1e-3), gaps["midpoint"]
    for riemann in ("left", "right"):
        assert np.all(gaps[riemann] > 5 * gaps["trapezoid"]), (riemann, gaps)
        assert np.max(gaps[riemann]) > 1e-3


def test_completeness_gap_matches_its_formula():
    attr = gradient_attribution.integrated_gradients(mlp_tf, X, steps=16, target=2)
    delta = mlp_np(X)[:, 2] - mlp_np(np.zeros_like(X))[:, 2]
    expected = np.abs(attr.sum(axis=1) - delta) / np.abs(delta)
    np.testing.assert_allclose(gradient_attribution.completeness_gap(mlp_tf, X, attr, target=2), expected,
                               rtol=1e-3, atol=1e-6)


W_LIN = RNG.normal(size=(N_IN, N_OUT))
B_LIN = RNG.normal(size=N_OUT)


def linear_tf(x):
    return x @ tf.constant(W_LIN, tf.float32) + tf.constant(B_LIN, tf.float32)


@pytest.mark.parametrize("method", ["trapezoid", "left", "right", "midpoint"])
@pytest.mark.parametrize("steps", [1, 7])
def test_ig_on_linear_model_is_weight_times_difference(method, steps):
    baseline = RNG.normal(size=N_IN)  # one baseline shared by every example
    got = gradient_attribution.integrated_gradients(linear_tf, X, baseline, steps=steps, target=1, method=method)
    np.testing.assert_allclose(got, W_LIN[:, 1] * (X - baseline), rtol=1e-5, atol=1e-5)


def test_ig_baselines_scalar_and_per_example():
    per_example = np.full_like(X, 0.3)
    a = gradient_attribution.integrated_gradients(linear_tf, X, 0.3, steps=4, target=0)
    b = gradient_attribution.integrated_gradients(linear_tf, X, per_example, steps=4, target=0)
    np.testing.assert_allclose(a, b)
    np.testing.assert_allclose(a, W_LIN[:, 0] * (X - 0.3), rtol=1e-5, atol=1e-5)


def test_ig_on_linear_model_equals_gradient_x_input_with_zero_baseline():
    ig = gradient_attribution.integrated_gradients(linear_tf, X, steps=3, target=2)
    gxi = gradient_attribution.gradient_x_input(linear_tf, X, target=2)
    np.testing.assert_allclose(ig, gxi, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- aux inputs and targets

T, D, K = 6, 3, 4
W_SEQ = RNG.normal(size=(D, K)).astype("float32")


def masked_keras_model():
    """Inputs x (batch, T, D) and mask (batch, T); output (batch, K) = sum_t mask_t * tanh(x_t W)."""
    x_in = keras.Input((T, D))
    m_in = keras.Input((T,))
    h = keras.layers.Dense(K, activation="tanh", use_bias=False)(x_in)
    out = keras.ops.sum(h * keras.ops.expand_dims(m_in, -1), axis=1)
    model = keras.Model([x_in, m_in], out)
    dense = next(layer for layer in model.layers if isinstance(layer, keras.layers.Dense))
    dense.set_weights([W_SEQ])
    return model


SEQ_MODEL = masked_keras_model()
X_SEQ = RNG.normal(size=(3, T, D))
MASK = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]], dtype="float32")


def seq_output_np(x, mask):
    return np.einsum("bt,btk->bk", mask, np.tanh(x @ W_SEQ.astype(np.float64)))


def seq_grad_np(x, mask, targets):
    h = np.tanh(x @ W_SEQ.astype(np.float64))  # (b, T, K)
    w = W_SEQ.astype(np.float64)[:, targets].T  # (b, D)
    return mask[:, :, None] * (1 - h[np.arange(len(x)), :, targets] ** 2)[:, :, None] * w[:, None, :]


def test_aux_mask_is_passed_and_target_selected():
    targets = np.array([0, 3, 2])
    got = gradient_attribution.gradients(SEQ_MODEL, X_SEQ, target=targets, aux=[MASK])
    np.testing.assert_allclose(got, seq_grad_np(X_SEQ, MASK, targets), atol=2e-5)
    assert np.all(got[MASK == 0] == 0)
    out = gradient_attribution.model_output(SEQ_MODEL, X_SEQ, target=targets, aux=[MASK])
    np.testing.assert_allclose(out, seq_output_np(X_SEQ, MASK)[np.arange(3), targets], atol=1e-5)


def test_ig_with_aux_and_targets_is_complete_and_independent_of_chunking():
    targets = np.array([1, 0, 3])
    full = gradient_attribution.integrated_gradients(SEQ_MODEL, X_SEQ, steps=64, target=targets, aux=[MASK])
    chunked = gradient_attribution.integrated_gradients(SEQ_MODEL, X_SEQ, steps=64, target=targets, aux=[MASK],
                                           max_rows=7)
    np.testing.assert_allclose(chunked, full, atol=1e-6)
    gap = gradient_attribution.completeness_gap(SEQ_MODEL, X_SEQ, full, target=targets, aux=[MASK])
    assert np.all(gap < 1e-3), gap
    # each example on its own gives the same attributions as the batch
    for i in range(3):
        one = gradient_attribution.integrated_gradients(SEQ_MODEL, X_SEQ[i:i + 1], steps=64, target=int(targets[i]),
                                           aux=[MASK[i:i + 1]])
        np.testing.assert_allclose(one[0], full[i], atol=1e-6)


# --------------------------------------------------------------------------- occlusion

def test_errors_on_bad_input():
    with pytest.raises(ValueError, match="batch dimension"):
        gradient_attribution.gradients(mlp_tf, X[0], target=0)
    with pytest.raises(ValueError, match="batch dimension"):
        gradient_attribution.integrated_gradients(mlp_tf, X[0], target=0)
    with pytest.raises(ValueError, match=r"baseline must have shape \(4, 5\) or \(5,\)"):
        gradient_attribution.integrated_gradients(mlp_tf, X, np.zeros(3), target=0)
    with pytest.raises(ValueError, match=r"steps must be in \[1, inf\], got 0"):
        gradient_attribution.integrated_gradients(mlp_tf, X, steps=0, target=0)
    with pytest.raises(ValueError, match="method must be one of"):
        gradient_attribution.integrated_gradients(mlp_tf, X, target=0, method="simpson")
    with pytest.raises(ValueError, match="3 outputs per example: pass target"):
        gradient_attribution.gradients(mlp_tf, X)
    with pytest.raises(ValueError, match="3 outputs per example: pass target"):
        gradient_attribution.integrated_gradients(mlp_tf, X)
    with pytest.raises(ValueError, match=r"target must be (non-negative|in \[0, inf\])"):
        gradient_attribution.gradients(mlp_tf, X, target=-1)
    with pytest.raises(ValueError, match=r"one entry per input \(4\), got shape \(2,\)"):
        gradient_attribution.gradients(mlp_tf, X, target=[0, 1])
    with pytest.raises(ValueError, match=r"aux\[0\] must have the batch size 3"):
        gradient_attribution.gradients(SEQ_MODEL, X_SEQ, target=0, aux=[MASK[:2]])
    with pytest.raises(ValueError, match="attributions must have the shape of x"):
        gradient_attribution.completeness_gap(mlp_tf, X, X[:, :2], target=0)
    with pytest.raises(ValueError, match="does not depend on x"):
        gradient_attribution.gradients(lambda z: tf.ones((tf.shape(z)[0],)), X)
    with pytest.raises(TypeError, match="must hold numbers"):
        gradient_attribution.gradients(mlp_tf, np.array([["a", "b"]]), target=0)


def test_plain_function_with_aux():
    def fn(inputs):
        x, m = inputs
        return tf.reduce_sum(tf.tanh(x) * m, axis=1)

    mask = np.ones_like(X, dtype="float32")
    np.testing.assert_allclose(gradient_attribution.gradients(fn, X, aux=[mask]), 1 - np.tanh(X) ** 2, atol=1e-5)


def test_target_out_of_range_is_a_value_error():
    with pytest.raises(ValueError, match="target"):
        gradient_attribution.gradients(mlp_tf, X, target=3)


def test_target_on_a_single_output_function_must_be_zero():
    def f(x):
        return tf.reduce_sum(x, axis=1)

    np.testing.assert_allclose(gradient_attribution.gradients(f, X, target=0), np.ones_like(X))
    with pytest.raises(ValueError, match=r"target must be in \[0, 0\]"):
        gradient_attribution.gradients(f, X, target=1)


def test_integrated_gradients_honours_max_rows():
    calls = []

    def f(x):
        calls.append(int(x.shape[0]))
        return tf.reduce_sum(tf.tanh(x), axis=1)

    full = gradient_attribution.integrated_gradients(f, X, steps=8)
    calls.clear()
    chunked = gradient_attribution.integrated_gradients(f, X, steps=8, max_rows=2)
    assert max(calls) <= 2
    np.testing.assert_allclose(chunked, full, rtol=1e-6, atol=1e-7)


def test_zero_dimensional_baseline_is_a_scalar():
    def f(x):
        return tf.reduce_sum(x ** 2, axis=1)

    a = gradient_attribution.integrated_gradients(f, X, baseline=np.array(0.5), steps=16)
    b = gradient_attribution.integrated_gradients(f, X, baseline=0.5, steps=16)
    np.testing.assert_allclose(a, b)


def test_model_output_and_completeness_need_a_batch_dimension():
    with pytest.raises(ValueError, match="batch dimension"):
        gradient_attribution.model_output(mlp_tf, X[0])
    with pytest.raises(ValueError, match="batch dimension"):
        gradient_attribution.completeness_gap(mlp_tf, X[0], X[0])




# --------------------------------------------------------------------------- SmoothGrad

def sum_sin_tf(x):
    return tf.reduce_sum(tf.sin(x), axis=1)


def test_smoothgrad_without_noise_is_the_gradient():
    got = gradient_attribution.smoothgrad(mlp_tf, X, target=1, noise_level=0.0, n_samples=3)
    np.testing.assert_allclose(got, gradient_attribution.gradients(mlp_tf, X, target=1), rtol=1e-6, atol=1e-7)


def test_smoothgrad_of_a_quadratic_is_the_gradient_at_x():
    # f(x) = x'Ax + b'x has the gradient (A + A')x + b, linear in x: Gaussian noise averages out exactly,
    # so the estimate differs from the gradient at x only by the Monte-Carlo error (A + A') mean(e)
    a = RNG.normal(size=(N_IN, N_IN))
    b = RNG.normal(size=N_IN)
    at, bt = tf.constant(a, tf.float32), tf.constant(b, tf.float32)

    def quadratic(x):
        return tf.reduce_sum((x @ at) * x, axis=1) + tf.linalg.matvec(x, bt)

    n, level = 4000, 0.2
    got = gradient_attribution.smoothgrad(quadratic, X, noise_level=level, n_samples=n, seed=3)
    exact = X @ (a + a.T) + b
    sigma = level * np.ptp(X, axis=1, keepdims=True)
    se = sigma * np.linalg.norm(a + a.T, axis=0) / np.sqrt(n)  # standard error of each coordinate
    assert np.all(np.abs(got - exact) < 5 * se + 1e-4), np.abs(got - exact) / se


def test_smoothgrad_matches_the_closed_form_of_smoothed_sines():
    # E[cos(x + e)] = cos(x) exp(-sigma^2 / 2) for e ~ N(0, sigma^2): the gradient of sum sin(x), smoothed
    n = 8000
    got = gradient_attribution.smoothgrad(sum_sin_tf, X, noise_level=0.5, n_samples=n, seed=0,
                                          value_range=(-1.0, 1.0))
    sigma = 0.5 * 2.0
    np.testing.assert_allclose(got, np.cos(X) * np.exp(-sigma**2 / 2), atol=5 / np.sqrt(n))
    # and it is not the plain gradient: smoothing shrinks it by exp(-1/2)
    assert np.max(np.abs(got - np.cos(X))) > 0.2


def test_smoothgrad_noise_scales_with_each_examples_range():
    # default: sigma = noise_level * (max - min) of each example, so a wider example is smoothed more
    x = np.array([[0.0, 1.0, 0.5], [0.0, 4.0, 0.5]])
    got = gradient_attribution.smoothgrad(sum_sin_tf, x, noise_level=0.25, n_samples=8000, seed=1)
    shrink = np.exp(-(0.25 * np.array([1.0, 4.0])) ** 2 / 2)[:, None]
    np.testing.assert_allclose(got, np.cos(x) * shrink, atol=0.06)


def test_smoothgrad_is_reproducible_and_independent_of_chunking():
    a = gradient_attribution.smoothgrad(mlp_tf, X, target=[0, 1, 2, 0], n_samples=9, seed=5)
    b = gradient_attribution.smoothgrad(mlp_tf, X, target=[0, 1, 2, 0], n_samples=9, seed=5, max_rows=3)
    c = gradient_attribution.smoothgrad(mlp_tf, X, target=[0, 1, 2, 0], n_samples=9, seed=6)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(a, c)


def test_smoothgrad_passes_aux_and_targets():
    targets = np.array([0, 3, 2])
    got = gradient_attribution.smoothgrad(SEQ_MODEL, X_SEQ, target=targets, aux=[MASK], noise_level=0.0,
                                          n_samples=2)
    np.testing.assert_allclose(got, seq_grad_np(X_SEQ, MASK, targets), atol=2e-5)


def test_smoothgrad_errors():
    with pytest.raises(ValueError, match=r"noise_level must be in \[0, inf\)"):
        gradient_attribution.smoothgrad(mlp_tf, X, target=0, noise_level=-0.1)
    with pytest.raises(TypeError, match="noise_level must be a number"):
        gradient_attribution.smoothgrad(mlp_tf, X, target=0, noise_level="high")
    with pytest.raises(ValueError, match=r"n_samples must be in \[1, inf\], got 0"):
        gradient_attribution.smoothgrad(mlp_tf, X, target=0, n_samples=0)
    with pytest.raises(TypeError, match="seed must be an int"):
        gradient_attribution.smoothgrad(mlp_tf, X, target=0, seed=0.5)
    with pytest.raises(ValueError, match="value_range must be"):
        gradient_attribution.smoothgrad(mlp_tf, X, target=0, value_range=(1.0, 0.0))
    with pytest.raises(ValueError, match="batch dimension"):
        gradient_attribution.smoothgrad(mlp_tf, X[0], target=0)


# --------------------------------------------------------------------------- baselines

def test_blurred_baseline_blurs_each_image_over_its_spatial_axes():
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(2)
    images = rng.uniform(size=(3, 8, 8))
    got = gradient_attribution.blurred_baseline(images, sigma=1.2)
    np.testing.assert_allclose(got, np.stack([gaussian_filter(im, 1.2) for im in images]))
    # flat rows with image_shape give the same, and channels are blurred separately
    flat = gradient_attribution.blurred_baseline(images.reshape(3, 64), sigma=1.2, image_shape=(8, 8))
    np.testing.assert_allclose(flat, got.reshape(3, 64))
    two = gradient_attribution.blurred_baseline(np.stack([images, 2 * images], axis=-1), sigma=1.2)
    np.testing.assert_allclose(two[..., 0], got)
    np.testing.assert_allclose(two[..., 1], 2 * got)


def test_blurred_baseline_of_a_point_is_a_normalised_gaussian():
    # an independent reference: a unit impulse far from the border becomes the sampled 2-D Gaussian,
    # whose values sum to 1 (up to the filter's truncation at 4 sigma)
    delta = np.zeros((1, 21, 21))
    delta[0, 10, 10] = 1.0
    got = gradient_attribution.blurred_baseline(delta, sigma=1.5)[0]
    r = np.arange(21) - 10
    g = np.exp(-r**2 / (2 * 1.5**2))
    g /= g[np.abs(r) <= 6].sum()  # scipy truncates at int(4 sigma + 0.5) = 6 pixels
    g[np.abs(r) > 6] = 0
    np.testing.assert_allclose(got, np.outer(g, g), atol=1e-12)
    assert got.sum() == pytest.approx(1.0)


def test_uniform_baseline_range_shape_and_seed():
    x = np.zeros((50, 64))
    a = gradient_attribution.uniform_baseline(x, seed=3)
    assert a.shape == x.shape and a.min() >= 0 and a.max() < 1
    assert abs(a.mean() - 0.5) < 0.02 and abs(a.var() - 1 / 12) < 0.01
    np.testing.assert_array_equal(a, gradient_attribution.uniform_baseline(x, seed=3))
    b = gradient_attribution.uniform_baseline(x, low=-2.0, high=2.0, seed=3)
    np.testing.assert_allclose(b, 4 * a - 2)


def test_baseline_errors():
    with pytest.raises(ValueError, match=r"sigma must be in \(0, inf\)"):
        gradient_attribution.blurred_baseline(np.zeros((1, 4, 4)), sigma=0.0)
    with pytest.raises(ValueError, match="pass image_shape for flat rows"):
        gradient_attribution.blurred_baseline(np.zeros((2, 16)))
    with pytest.raises(ValueError, match="must hold the 16 values"):
        gradient_attribution.blurred_baseline(np.zeros((2, 16)), image_shape=(3, 5))
    with pytest.raises(TypeError, match="image_shape must be a tuple"):
        gradient_attribution.blurred_baseline(np.zeros((2, 16)), image_shape="4x4")
    with pytest.raises(ValueError, match="low must be smaller than high"):
        gradient_attribution.uniform_baseline(np.zeros((2, 3)), low=1.0, high=1.0)
    with pytest.raises(TypeError, match="seed must be an int"):
        gradient_attribution.uniform_baseline(np.zeros((2, 3)), seed="zero")


# --------------------------------------------------------------------------- expected gradients

def test_expected_gradients_on_a_linear_model_is_complete_for_the_drawn_references():
    # linear: each draw contributes w (x - x'_j) exactly, whatever alpha; with one reference that is IG
    one = RNG.normal(size=(1, N_IN))
    got = gradient_attribution.expected_gradients(linear_tf, X, one, target=1, n_samples=5)
    np.testing.assert_allclose(got, W_LIN[:, 1] * (X - one), rtol=1e-5, atol=1e-5)
    refs = RNG.normal(size=(3, N_IN))
    got = gradient_attribution.expected_gradients(linear_tf, X, refs, target=1, n_samples=3000, seed=2)
    np.testing.assert_allclose(got, W_LIN[:, 1] * (X - refs.mean(axis=0)), atol=0.15)


def test_expected_gradients_with_one_reference_converge_to_integrated_gradients():
    baseline = RNG.normal(0, 0.5, (1, N_IN))
    n = 6000
    eg = gradient_attribution.expected_gradients(mlp_tf, X, baseline, target=2, n_samples=n, seed=0)
    ig = ig_reference(X, baseline, 2)
    # Monte-Carlo error over alpha only: a few standard errors of the per-draw attributions
    alphas = np.linspace(0, 1, 201)[:, None, None]
    draws = (X - baseline) * np.stack([mlp_grad_np(baseline + a * (X - baseline), 2) for a in alphas[:, 0, 0]])
    se = draws.std(axis=0) / np.sqrt(n)
    assert np.all(np.abs(eg - ig) < 5 * se + 1e-4), np.abs(eg - ig) / (se + 1e-12)


def test_expected_gradients_are_complete_in_expectation():
    refs = RNG.normal(0, 0.7, (40, N_IN))
    n = 8000
    eg = gradient_attribution.expected_gradients(mlp_tf, X, refs, target=0, n_samples=n, seed=4)
    expected_rise = mlp_np(X)[:, 0] - mlp_np(refs)[:, 0].mean()
    # the sum of one draw is (x - x') . grad f(x' + a (x - x')); its spread sets the tolerance
    rng = np.random.default_rng(9)
    j, a = rng.integers(0, 40, 20000), rng.uniform(size=20000)
    per_draw = np.stack([((X[b] - refs[j]) * mlp_grad_np(refs[j] + a[:, None] * (X[b] - refs[j]), 0)).sum(1)
                         for b in range(len(X))])
    se = per_draw.std(axis=1) / np.sqrt(n)
    assert np.all(np.abs(eg.sum(axis=1) - expected_rise) < 5 * se), (eg.sum(axis=1), expected_rise, se)


def test_expected_gradients_reproducible_and_independent_of_chunking():
    refs = RNG.normal(size=(6, N_IN))
    a = gradient_attribution.expected_gradients(mlp_tf, X, refs, target=1, n_samples=7, seed=1)
    b = gradient_attribution.expected_gradients(mlp_tf, X, refs, target=1, n_samples=7, seed=1, max_rows=5)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert not np.allclose(a, gradient_attribution.expected_gradients(mlp_tf, X, refs, target=1, n_samples=7,
                                                                      seed=2))


def test_expected_gradients_errors():
    with pytest.raises(ValueError, match=r"references must have shape \(n_references, 5\)"):
        gradient_attribution.expected_gradients(mlp_tf, X, np.zeros((3, 4)), target=0)
    with pytest.raises(ValueError, match=r"references must have shape"):
        gradient_attribution.expected_gradients(mlp_tf, X, np.zeros(5), target=0)
    with pytest.raises(ValueError, match="references must be finite"):
        gradient_attribution.expected_gradients(mlp_tf, X, np.full((2, 5), np.nan), target=0)
    with pytest.raises(ValueError, match=r"n_samples must be in \[1, inf\]"):
        gradient_attribution.expected_gradients(mlp_tf, X, np.zeros((2, 5)), target=0, n_samples=0)


# --------------------------------------------------------------------------- Grad-CAM

def _gap_cnn(pool: bool):
    """Conv -> (max-pool) -> conv "features" -> global average pool -> dense(3), random fixed weights."""
    keras.utils.set_random_seed(7)
    layers = [keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, padding="same", activation="tanh")]
    if pool:
        layers.append(keras.layers.MaxPooling2D(2))
    layers += [keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="features"),
               keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3, name="logits")]
    return keras.Sequential(layers)


IMAGES = np.random.default_rng(11).uniform(size=(3, 8, 8, 1))


@pytest.mark.parametrize("pool", [False, True])
def test_grad_cam_of_a_gap_network_is_cam_over_the_map_size(pool):
    # y_c = sum_k w_kc mean_ij A_k[i, j] + b_c, so d y_c / d A_k[i, j] = w_kc / hw and alpha_k = w_kc / hw:
    # Grad-CAM before its ReLU is CAM (Zhou et al. 2016), sum_k w_kc A_k, divided by hw
    model = _gap_cnn(pool)
    maps = np.asarray(keras.Model(model.inputs[0], model.get_layer("features").output)(IMAGES))
    w = model.get_layer("logits").get_weights()[0]  # (n_maps, n_classes)
    hw = maps.shape[1] * maps.shape[2]
    for c in range(3):
        cam = maps @ w[:, c]  # (batch, h, w)
        signed = gradient_attribution.grad_cam(model, IMAGES, layer="features", target=c, relu=False, upsample=False)
        np.testing.assert_allclose(signed, cam / hw, rtol=1e-4, atol=1e-6)
        positive = gradient_attribution.grad_cam(model, IMAGES, layer="features", target=c, upsample=False)
        np.testing.assert_allclose(positive, np.maximum(cam, 0) / hw, rtol=1e-4, atol=1e-6)


def _bilinear_np(image, size):
    """Bilinear resize with half-pixel centres, by separable np.interp (edges clamped): a reference."""
    def axis(n_in, n_out):
        return (np.arange(n_out) + 0.5) * n_in / n_out - 0.5

    rows = np.stack([np.interp(axis(image.shape[0], size[0]), np.arange(image.shape[0]), col) for col in image.T],
                    axis=1)
    return np.stack([np.interp(axis(image.shape[1], size[1]), np.arange(image.shape[1]), row) for row in rows])


def test_grad_cam_upsamples_bilinearly_to_the_input_size():
    model = _gap_cnn(pool=True)
    coarse = gradient_attribution.grad_cam(model, IMAGES, layer="features", target=[0, 1, 2], upsample=False)
    fine = gradient_attribution.grad_cam(model, IMAGES, layer="features", target=[0, 1, 2])
    assert coarse.shape == (3, 4, 4) and fine.shape == (3, 8, 8)
    for b in range(3):
        np.testing.assert_allclose(fine[b], _bilinear_np(coarse[b], (8, 8)), rtol=1e-5, atol=1e-7)


def test_grad_cam_errors():
    model = _gap_cnn(pool=True)
    with pytest.raises(TypeError, match="layer must be the name"):
        gradient_attribution.grad_cam(model, IMAGES, layer=model.get_layer("features"), target=0)
    with pytest.raises(ValueError, match="layer must name a layer of model"):
        gradient_attribution.grad_cam(model, IMAGES, layer="conv9", target=0)
    with pytest.raises(ValueError, match="must output feature maps"):
        gradient_attribution.grad_cam(model, IMAGES, layer="logits", target=0)
    with pytest.raises(ValueError, match=r"x must have shape \(batch, height, width, channels\)"):
        gradient_attribution.grad_cam(model, IMAGES[..., 0], layer="features", target=0)
    with pytest.raises(ValueError, match="3 outputs per example: pass target"):
        gradient_attribution.grad_cam(model, IMAGES, layer="features")
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        gradient_attribution.grad_cam(mlp_tf, IMAGES, layer="features", target=0)
    with pytest.raises(TypeError, match="relu must be a bool"):
        gradient_attribution.grad_cam(model, IMAGES, layer="features", target=0, relu=1)
