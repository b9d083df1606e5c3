"""Shared test set-up: silence TensorFlow before anything imports it, and use a headless backend.

Below that, the data sets and small trained models that several test files need, each built once
per session with fixed seeds. Their arrays are read-only, so that a test that changes one in place
fails at once instead of changing what later tests see.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

import xai_tutorial  # noqa: E402,F401  (sets the TF log variables before any test imports TF)

import dataclasses  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bookpages import EDITIONS  # noqa: E402


# --------------------------------------------------------------------------- the built editions

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(params=list(EDITIONS))
def edition(request) -> str:
    """Each edition of the built book in turn ("en", "zh"), for the book and browser tests.

    A missing English book fails; a missing Chinese edition is skipped outside CI (`make book-zh`
    builds it) and fails under CI, where `make test` has built it.
    """
    if not (EDITIONS[request.param] / "index.html").exists():
        if request.param == "zh" and not IN_CI:
            pytest.skip("the Chinese edition is not built: run `make book-zh`")
        pytest.fail(f"the {request.param} edition is not built", pytrace=False)
    return request.param


def _read_only(obj):
    """Make every NumPy array field of a dataclass instance read-only; return the instance."""
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        if isinstance(value, np.ndarray):
            value.flags.writeable = False
    return obj


# --------------------------------------------------------------------------- tabular data

@pytest.fixture(scope="session")
def breast_cancer():
    """``data.load_tabular("breast_cancer")``: 426 training and 143 test patients, 30 features."""
    from xai_tutorial import data

    return _read_only(data.load_tabular("breast_cancer"))


@pytest.fixture(scope="session")
def diabetes():
    """``data.load_tabular("diabetes")``: a regression split with 10 features, among them ``bmi``."""
    from xai_tutorial import data

    return _read_only(data.load_tabular("diabetes"))


# --------------------------------------------------------------------------- text classifiers

#: The vocabulary size and sequence length of :func:`tiny_clf`.
TINY_VOCAB, TINY_SEQ_LEN = 12, 7


@pytest.fixture(scope="session")
def tiny_clf():
    """A tiny trained text classifier over ids 0-11, sequences of length 7 (0 = padding).

    Cue word 1 means positive and cue word 2 negative (400 sentences with one cue); the other 200
    sentences have no cue and a random label. Dense encoder, embed/hidden/attention size 8.
    """
    from xai_tutorial import models

    rng = np.random.default_rng(3)
    ids = rng.integers(3, TINY_VOCAB, size=(600, TINY_SEQ_LEN))
    y = rng.integers(0, 2, size=600)
    ids[np.arange(400), rng.integers(0, TINY_SEQ_LEN, size=400)] = np.where(y[:400] == 1, 1, 2)
    ids[:, 5:] *= rng.random((600, 2)) < 0.5  # some padding; the last 200 sentences have no cue
    clf = models.build_text_attention_classifier(TINY_VOCAB, TINY_SEQ_LEN, embed_dim=8, hidden_dim=8,
                                                 attention_units=8, seed=0)
    models.train_text_classifier(clf, ids, y, epochs=3, batch_size=32, learning_rate=1e-2, seed=0)
    return clf


#: The sequence length of :func:`planted_split`.
PLANTED_SEQ_LEN = 10


@pytest.fixture(scope="session")
def planted_split():
    """``(train, test)``: 600 planted-cue sentences of length 10 (seed 3), 20 % held out (seed 0)."""
    from xai_tutorial import data

    full = data.make_planted_text(600, seq_len=PLANTED_SEQ_LEN, min_len=4, seed=3)
    train, test = data.split_text(full, test_size=0.2, seed=0)
    return _read_only(train), _read_only(test)


@pytest.fixture(scope="session")
def planted_training(planted_split):
    """``(clf, history)``: a dense attention classifier (sizes 8) trained for 4 epochs on
    ``planted_split``'s training part, and the Keras History of that training."""
    from xai_tutorial import models

    train, _ = planted_split
    clf = models.build_text_attention_classifier(len(train.vocab), PLANTED_SEQ_LEN, embed_dim=8, hidden_dim=8,
                                                 attention_units=8, seed=0)
    history = models.train_text_classifier(clf, train.token_ids, train.labels, epochs=4, batch_size=32, seed=0)
    return clf, history


@pytest.fixture(scope="session")
def planted_clf(planted_training):
    """The trained classifier of ``planted_training``."""
    return planted_training[0]


# --------------------------------------------------------------------------- a known-answer Keras model

@pytest.fixture(scope="session")
def keras_mlp_model():
    """``known_models.keras_mlp()``: the tanh MLP with known weights as a Keras model (do not train it)."""
    from known_models import keras_mlp

    return keras_mlp()
