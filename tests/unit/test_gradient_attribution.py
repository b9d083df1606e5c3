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


