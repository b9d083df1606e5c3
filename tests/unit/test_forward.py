"""Tests of xai_tutorial.forward, the model boundary: predict functions, targets and logits."""
import numpy as np
import pytest
from scipy.special import expit, softmax

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import forward

import keras  # noqa: E402

from known_models import X, mlp_np  # noqa: E402


def sigmoid_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="tanh"),
                             keras.layers.Dense(1, activation="sigmoid")])


def softmax_model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((5,)), keras.layers.Dense(3, activation="softmax")])


# --------------------------------------------------------------------------- predict_fn

def test_predict_fn_equals_model_outputs_in_any_batch_size(keras_mlp_model):
    model = keras_mlp_model
    expected = np.asarray(model(X.astype("float32"), training=False))
    np.testing.assert_allclose(forward.predict_fn(model)(X), expected, rtol=1e-6)
    np.testing.assert_allclose(forward.predict_fn(model, batch_size=3)(X), expected, rtol=1e-6)
    np.testing.assert_allclose(forward.predict_fn(model)(X), mlp_np(X), atol=1e-5)
    assert forward.predict_fn(model)(X).dtype == np.float64


def test_predict_fn_squeezes_single_output_and_casts_ids():
    keras.utils.set_random_seed(2)
    emb_model = keras.Sequential([keras.Input((4,), dtype="int32"), keras.layers.Embedding(12, 3),
                                  keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1)])
    ids = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])  # int64 in, cast to the model's int32
    got = forward.predict_fn(emb_model)(ids)
    assert got.shape == (2,)
    np.testing.assert_allclose(got, np.asarray(emb_model(ids.astype("int32")))[:, 0], rtol=1e-6)
    assert forward.predict_fn(emb_model)(ids[:0]).shape == (0,)


def test_predict_fn_reads_the_model_of_a_book_model(keras_mlp_model):
    class Holder:
        def __init__(self, model):
            self.model = model

    model = keras_mlp_model
    np.testing.assert_allclose(forward.predict_fn(Holder(model))(X), forward.predict_fn(model)(X))


def test_logit_of_sigmoid_and_softmax_models_matches_the_closed_form():
    m = sigmoid_model()
    p = forward.predict_fn(m)(X)
    z = forward.predict_fn(m, output="logit")(X)
    np.testing.assert_allclose(expit(z), p, rtol=1e-5)
    s = softmax_model()
    probs = forward.predict_fn(s)(X)
    logits = forward.predict_fn(s, output="logit")(X)
    np.testing.assert_allclose(softmax(logits, axis=1), probs, rtol=1e-5)
    kernel, bias = s.layers[-1].get_weights()
    np.testing.assert_allclose(logits, X @ kernel + bias, rtol=1e-5, atol=1e-6)


def test_logit_is_not_saturated_where_the_probability_is():
    m = sigmoid_model()
    kernel, bias = m.layers[-1].get_weights()
    m.layers[-1].set_weights([kernel * 0, bias * 0 + 30.0])  # logit 30: P rounds to 1 in float32
    assert np.all(forward.predict_fn(m)(X) == 1.0)
    np.testing.assert_allclose(forward.predict_fn(m, output="logit")(X), 30.0, rtol=1e-6)


def test_plain_functions_are_wrapped_with_the_same_checks():
    f = forward.predict_fn(lambda x: x[:, :1] * 2)
    np.testing.assert_allclose(f(X), 2 * X[:, 0])
    with pytest.raises(ValueError, match=r"returned 1 NaN or infinite value\(s\), for input\(s\) \[2\]"):
        forward.predict_fn(lambda x: np.where(np.arange(len(x)) == 2, np.nan, 0.0))(X)
    with pytest.raises(ValueError, match="output='logit' needs a Keras model"):
        forward.predict_fn(lambda x: x, output="logit")


def test_predict_fn_errors(keras_mlp_model):
    with pytest.raises(TypeError, match="model must be a keras.Model, a book model with a .model, or a predict"):
        forward.predict_fn(None)
    with pytest.raises(ValueError, match="output must be one of"):
        forward.predict_fn(keras_mlp_model, output="probabilities")
    with pytest.raises(ValueError, match=r"batch_size must be in \[1, inf\], got 0"):
        forward.predict_fn(keras_mlp_model, batch_size=0)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 5\) for this model, got \(4, 3\)"):
        forward.predict_fn(keras_mlp_model)(X[:, :3])
    with pytest.raises(TypeError, match="x must be an array of numbers"):
        forward.predict_fn(keras_mlp_model)(np.array([["a"] * 5]))
    with pytest.raises(ValueError, match="must end in a sigmoid or softmax"):
        forward.logit_model(keras_mlp_model)  # a linear last layer has no logit to read
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        forward.logit_model(lambda x: x)


def test_nan_weights_are_reported_where_they_appear():
    m = sigmoid_model()
    kernel, bias = m.layers[-1].get_weights()
    m.layers[-1].set_weights([kernel * np.nan, bias])
    with pytest.raises(ValueError, match="model 'sequential.*' returned 4 NaN"):
        forward.predict_fn(m)(X)


# --------------------------------------------------------------------------- targets

def test_explained_output_selects_a_column_per_input():
    f = lambda x: np.stack([x[:, 0], 10 * x[:, 0], 100 * x[:, 0]], axis=1)
    x = np.ones((3, 2))
    np.testing.assert_array_equal(forward.explained_output(f, x, 1), [10, 10, 10])
    np.testing.assert_array_equal(forward.explained_output(f, x, [0, 2, 1]), [1, 100, 10])
    np.testing.assert_array_equal(forward.explained_output(lambda x: x[:, :1], x), [1, 1, 1])
    np.testing.assert_array_equal(forward.explained_output(lambda x: x[:, 0], x, 0), [1, 1, 1])
    np.testing.assert_array_equal(forward.output_matrix(lambda x: x[:, 0], x), np.ones((3, 1)))


@pytest.mark.parametrize("target, error, message", [
    (1.5, TypeError, "target must be an int or an int array"),
    (True, TypeError, "target must be an int or an int array"),
    ("1", TypeError, "target must be an int or an int array"),
    (-1, ValueError, r"target must be in \[0, inf\], got -1"),
    ([0, 1], ValueError, r"target must be an int or have one entry per input \(3\), got shape \(2,\)"),
    ([0, -1, 0], ValueError, "target must be non-negative, got -1"),
    ([0.5, 1, 0], TypeError, "target must hold integers"),
    (3, ValueError, r"target must be in \[0, 2\] for a function with 3 output\(s\), got 3"),
])
def test_bad_targets(target, error, message):
    f = lambda x: np.zeros((len(x), 3))
    with pytest.raises(error, match=message):
        forward.explained_output(f, np.ones((3, 2)), target)


def test_bad_outputs():
    x = np.ones((3, 2))
    with pytest.raises(ValueError, match="3 outputs per input: pass target"):
        forward.explained_output(lambda x: np.zeros((len(x), 3)), x)
    with pytest.raises(ValueError,
                       match=r"must return shape \(3,\) or \(3, n_outputs\) for 3 inputs, got shape \(2,\)"):
        forward.explained_output(lambda x: np.zeros(2), x)
    with pytest.raises(TypeError, match="must return an array of outputs, got None"):
        forward.explained_output(lambda x: None, x)
    with pytest.raises(TypeError, match="must return numbers, got dtype <U1"):
        forward.explained_output(lambda x: np.array(["a"] * 3), x)
    with pytest.raises(TypeError, match="predict_fn must be callable"):
        forward.explained_output("model", x)


def test_call_in_batches_concatenates_arrays_and_lists():
    calls = []

    def call(b):
        calls.append(len(b))
        return [b * 2, b[:, :1]]

    out = forward.call_in_batches(call, np.arange(10.0).reshape(5, 2), 2)
    assert calls == [2, 2, 1]
    np.testing.assert_array_equal(out[0], np.arange(10.0).reshape(5, 2) * 2)
    assert out[1].shape == (5, 1)
    with pytest.raises(ValueError, match="batch_size must be in"):
        forward.call_in_batches(call, np.ones((2, 2)), 0)


def test_logit_of_the_book_models_whose_output_layer_is_shared():
    from xai_tutorial import models, vision

    clf = models.build_text_attention_classifier(20, 6, seed=0)
    ids = np.array([[3, 4, 5, 0, 0, 0], [7, 8, 9, 10, 11, 2]])
    p = forward.predict_fn(clf)(ids)
    z = forward.predict_fn(clf, output="logit")(ids)
    np.testing.assert_allclose(expit(z), p, rtol=1e-5)
    emb = np.asarray(clf.embed(ids))
    mask = (ids != 0).astype("float32")
    head_logit = forward.logit_model(clf.head)([emb, mask])  # the gradient methods' model of the logit
    np.testing.assert_allclose(np.asarray(head_logit)[:, 0], z, rtol=1e-5, atol=1e-6)
    vit = vision.build_tiny_vit(4, 3, 3, dim=8, depth=1, seed=0)
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    np.testing.assert_allclose(softmax(forward.predict_fn(vit, output="logit")(x), axis=1),
                               forward.predict_fn(vit)(x), rtol=1e-5)
