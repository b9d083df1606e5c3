"""Small models with known answers, shared by the unit tests.

* A tanh MLP (5 inputs, 3 outputs) as float64 NumPy, as a TensorFlow function and as a Keras
  model with the same weights, with its analytic gradient.
* An additive token "model": P(class 1) = sigmoid(sum of per-token weights), whose perfect
  attribution is known (the weights themselves).
"""
import numpy as np
from scipy.special import expit

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

# --------------------------------------------------------------------------- a tanh MLP

RNG = np.random.default_rng(0)
N_IN, N_HID, N_OUT = 5, 8, 3
W1 = RNG.normal(0, 0.8, (N_IN, N_HID))
B1 = RNG.normal(0, 0.3, N_HID)
W2 = RNG.normal(0, 0.8, (N_HID, N_OUT))
B2 = RNG.normal(0, 0.3, N_OUT)


def mlp_np(x):
    """Float64 NumPy twin of the tanh MLP: (n, 5) -> (n, 3)."""
    return np.tanh(x @ W1 + B1) @ W2 + B2


def mlp_grad_np(x, t):
    """Analytic gradient of output t of the NumPy MLP, shape (n, 5)."""
    h = np.tanh(x @ W1 + B1)
    return ((1 - h**2) * W2[:, t]) @ W1.T


def mlp_tf(x):
    """The same MLP as a plain TensorFlow function (float32)."""
    h = tf.tanh(x @ tf.constant(W1, tf.float32) + tf.constant(B1, tf.float32))
    return h @ tf.constant(W2, tf.float32) + tf.constant(B2, tf.float32)


def mlp_scalar_tf(x):
    return mlp_tf(x)[:, 1]


def central_differences(f, x, eps=1e-5):
    """Gradient of a scalar-per-row float64 function by central differences, shape of x."""
    g = np.zeros_like(x)
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = eps
        g[:, j] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def keras_mlp():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((N_IN,)), keras.layers.Dense(N_HID, activation="tanh"),
                              keras.layers.Dense(N_OUT)])
    model.layers[0].set_weights([W1.astype("float32"), B1.astype("float32")])
    model.layers[1].set_weights([W2.astype("float32"), B2.astype("float32")])
    return model


X = RNG.normal(0, 1.0, (4, N_IN))


# --------------------------------------------------------------------------- an additive token model

VOCAB_WEIGHTS = np.array([0.0, 2.0, -1.0, 0.5, 1.0, -0.25, 0.0, 1.5, -2.0, 0.75, -0.5])  # id 0 = pad


def additive_model(ids: np.ndarray) -> np.ndarray:
    """P(class 1) = sigmoid(sum of the weights of the tokens); padding adds nothing."""
    return expit(VOCAB_WEIGHTS[np.asarray(ids)].sum(axis=1))


def linear_two_class(ids: np.ndarray) -> np.ndarray:
    """Scores (n, 2): class 0 scores 0, class 1 scores the raw sum of weights (no sigmoid)."""
    s = VOCAB_WEIGHTS[np.asarray(ids)].sum(axis=1)
    return np.stack([np.zeros_like(s), s], axis=1)


HAND_IDS = np.array([[1, 2, 3, 4, 0, 0]])  # weights 2, -1, 0.5, 1: logit 2.5
HAND_VALID = HAND_IDS != 0


def random_batch(n=300, seq_len=12, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, len(VOCAB_WEIGHTS), size=(n, seq_len))
    lengths = rng.integers(4, seq_len + 1, size=n)
    ids[np.arange(seq_len)[None, :] >= lengths[:, None]] = 0
    return ids, ids != 0


def toward_prediction(ids):
    """The perfect attribution: each token's weight, signed toward the predicted class."""
    sign = np.where(additive_model(ids) >= 0.5, 1.0, -1.0)[:, None]
    return VOCAB_WEIGHTS[ids] * sign
