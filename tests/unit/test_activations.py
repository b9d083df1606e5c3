"""Unit tests of xai_tutorial.activations against Keras itself and closed forms."""
import numpy as np
import pytest

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import activations

import keras  # noqa: E402

RNG = np.random.default_rng(0)


def mlp():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="tanh", name="h1"),
                             keras.layers.Dense(3, activation="relu", name="h2"),
                             keras.layers.Dense(2, name="logits")])


MODEL = mlp()
X = RNG.normal(size=(7, 6))


def forward_np(x):
    (w1, b1), (w2, b2), (w3, b3) = (layer.get_weights() for layer in MODEL.layers)
    h1 = np.tanh(x @ w1 + b1)
    h2 = np.maximum(h1 @ w2 + b2, 0)
    return h1, h2, h2 @ w3 + b3


def test_layer_activations_match_a_manual_forward_pass():
    acts = activations.layer_activations(MODEL, X, ["h1", "h2", "logits"], batch_size=3)
    assert list(acts) == ["h1", "h2", "logits"]
    for got, expected in zip(acts.values(), forward_np(X)):
        assert got.shape == expected.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(acts["logits"], np.asarray(MODEL(X.astype("float32"))), atol=1e-6)


def test_layer_activations_default_to_all_layers_and_accept_one_name():
    assert list(activations.layer_activations(MODEL, X)) == ["h1", "h2", "logits"]
    one = activations.layer_activations(MODEL, X, "h2")
    assert list(one) == ["h2"] and one["h2"].shape == (7, 3)


def test_layer_activations_of_a_two_input_model():
    a, b = keras.Input((3,)), keras.Input((2,))
    joined = keras.layers.Concatenate(name="joined")([a, b])
    model = keras.Model([a, b], keras.layers.Dense(1, name="out")(joined))
    xa, xb = RNG.normal(size=(4, 3)), RNG.normal(size=(4, 2))
    acts = activations.layer_activations(model, [xa, xb], ["joined"])
    np.testing.assert_allclose(acts["joined"], np.concatenate([xa, xb], axis=1), atol=1e-6)


def test_weights_as_images_of_dense_and_conv_kernels():
    kernel = RNG.normal(size=(12, 5))
    imgs = activations.weights_as_images(kernel, (3, 4))
    assert imgs.shape == (5, 3, 4)
    np.testing.assert_array_equal(imgs[2].ravel(), kernel[:, 2])  # row-major, like Flatten
    conv = RNG.normal(size=(3, 3, 1, 8))
    np.testing.assert_array_equal(activations.weights_as_images(conv)[5], conv[:, :, 0, 5])


def test_top_activating_examples():
    a = np.array([[0.1, 5.0], [0.9, 1.0], [0.5, 3.0], [0.7, -1.0]])
    np.testing.assert_array_equal(activations.top_activating_examples(a, k=2), [[1, 3], [0, 2]])


def linear_model(w):
    model = keras.Sequential([keras.Input((len(w),)), keras.layers.Dense(1, use_bias=False, name="out")])
    model.layers[0].set_weights([w.reshape(-1, 1).astype("float32")])
    return model


def test_maximize_activation_reaches_the_closed_form_optimum():
    # maximise w.x - l2 ||x||^2: the optimum is x* = w / (2 l2); with bounds, its clipped value
    w = np.array([0.5, -1.0, 2.0, 0.1])
    model = linear_model(w)
    res = activations.maximize_activation(model, 0, np.zeros((1, 4)), steps=300, learning_rate=0.1, l2=0.5)
    np.testing.assert_allclose(res.inputs[0], w / 1.0, atol=1e-4)
    boxed = activations.maximize_activation(model, 0, np.zeros((1, 4)), steps=300, learning_rate=0.1,
                                            l2=0.5, bounds=(0.0, 1.0))
    np.testing.assert_allclose(boxed.inputs[0], np.clip(w, 0, 1), atol=1e-4)
    assert res.history.shape == (301, 1)
    np.testing.assert_allclose(res.history[-1, 0], w @ res.inputs[0], rtol=1e-4)
    assert np.all(np.diff(res.history[:, 0]) >= -1e-6)  # ascent on a concave objective


def test_maximize_activation_of_several_units_of_a_hidden_layer():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, name="pre"),
                              keras.layers.Activation("tanh", name="act"), keras.layers.Dense(2)])
    kernel = RNG.choice([-1.0, 1.0], size=(6, 4)) * RNG.uniform(0.2, 1.0, size=(6, 4))
    model.layers[0].set_weights([kernel.astype("float32"), np.zeros(4, "float32")])
    res = activations.maximize_activation(model, [0, 1, 2, 3], np.zeros((4, 6)), layer_name="pre",
                                          steps=20, learning_rate=0.5, bounds=(-1.0, 1.0))
    pre = activations.layer_activations(model, res.inputs, ["pre"])["pre"]
    np.testing.assert_allclose(res.history[-1], np.diag(pre), atol=1e-5)
    # a linear unit is maximised over the box [-1, 1]^6 by the signs of its weights
    np.testing.assert_allclose(res.inputs, np.sign(kernel.T), atol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match=r"no layer named 'nope'; its layers are \['h1', 'h2', 'logits'\]"):
        activations.layer_activations(MODEL, X, ["nope"])
    with pytest.raises(TypeError, match="layer_names must name layers by their str names"):
        activations.layer_activations(MODEL, X, [0])
    with pytest.raises(ValueError, match="model takes 1 input"):
        activations.layer_activations(MODEL, [X, X], ["h1"])
    with pytest.raises(ValueError, match="same batch size"):
        activations.layer_activations(MODEL, np.float64(1.0), ["h1"])
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="no symbolic inputs"):
        activations.layer_activations(unbuilt, X, ["dense"])
    with pytest.raises(ValueError, match="image_shape"):
        activations.weights_as_images(np.zeros((12, 2)))
    with pytest.raises(ValueError, match=r"not H \* W = 9"):
        activations.weights_as_images(np.zeros((12, 2)), (3, 3))
    with pytest.raises(ValueError, match="one input channel"):
        activations.weights_as_images(np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"k must be in \[1, 4\], got 5"):
        activations.top_activating_examples(np.zeros((4, 2)), k=5)
    with pytest.raises(ValueError, match=r"units must be in \[0, 1\], got values from 2 to 2"):
        activations.maximize_activation(MODEL, 2, np.zeros((1, 6)))
    with pytest.raises(ValueError, match="one entry per start input"):
        activations.maximize_activation(MODEL, [0, 1], np.zeros((3, 6)))
    with pytest.raises(ValueError, match="batch dimension"):
        activations.maximize_activation(MODEL, 0, np.zeros(6))
    with pytest.raises(ValueError, match="low < high"):
        activations.maximize_activation(MODEL, 0, np.zeros((1, 6)), bounds=(1.0, 0.0))
    with pytest.raises(ValueError, match=r"learning_rate must be in \[0, inf\)"):
        activations.maximize_activation(MODEL, 0, np.zeros((1, 6)), learning_rate=-0.1)
