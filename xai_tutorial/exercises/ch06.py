"""Checkers for the exercises of chapter 6, *The article's attention model*.

Each checker computes the expected answer itself from the objects the notebook already has (the
learner's layer class, the trained classifier, the test set) and returns a
:class:`~xai_tutorial.exercises.Feedback` that says what is right or, for the usual mistakes,
what exactly is wrong.

A wrong *answer* (the first argument) never raises: it gets a Feedback that explains the problem.
Wrong *context* arguments (a classifier of the wrong kind, weights of the wrong shape) raise
``TypeError`` or ``ValueError``, because they are a bug in the calling cell rather than a wrong
solution.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_float_array, as_int_array, check_int
from ..data import TextData
from .core import Feedback, answer_array, answer_int, answer_number, call, check_array, checker, describe, require

__all__ = ["article_attention_reference", "check_fixed_attention", "context_by_layers",
           "check_context_by_hand", "most_concentrated_index", "check_most_concentrated",
           "ANTONYMS", "antonym_ids", "count_antonym_flips", "check_antonym_flips"]


def _softmax(s: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(s - s.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --------------------------------------------------------------------------- exercise 1

def article_attention_reference(layer: Any, query: np.ndarray, values: np.ndarray
                                ) -> tuple[np.ndarray, np.ndarray]:
    """The corrected article attention, computed with the layer's own ``W1``, ``W2``, ``W3``.

    Scores as in the article, ``s_t = W3(sum_k W1(q)_tk * W2(v)_tk)``, then weights
    ``a = softmax(s)`` over the time axis and ``context = sum_t a_t v_t``.

    Parameters
    ----------
    layer : the article's ``Attention`` layer (or a subclass), with sub-layers ``W1``, ``W2``, ``W3``
    query, values : arrays of shape (batch, seq_len, features)

    Returns
    -------
    (context, weights)
        ``context`` of shape (batch, features) and ``weights`` of shape (batch, seq_len).
    """
    for name in ("W1", "W2", "W3"):
        if not callable(getattr(layer, name, None)):
            raise TypeError(f"layer must have the article's sub-layers W1, W2 and W3, got a "
                            f"{type(layer).__name__} without {name}")
    q = as_float_array(query, "query", ndim=3).astype(np.float32)
    v = as_float_array(values, "values", ndim=3).astype(np.float32)
    dot = np.sum(np.asarray(layer.W1(q)) * np.asarray(layer.W2(v)), axis=2, keepdims=True)
    scores = np.asarray(layer.W3(dot), dtype=np.float64)[..., 0]  # (batch, seq_len)
    weights = _softmax(scores, axis=1)
    return np.einsum("bt,btf->bf", weights, v.astype(np.float64)), weights


@checker
def check_fixed_attention(layer_cls: Any, *, units: int = 8, seed: int = 0) -> Feedback:
    """Check a corrected version of the article's ``Attention`` layer.

    The class is instantiated as ``layer_cls(units)`` and called as ``layer(x, x)`` on a random
    batch of shape (3, 5, 4). Its call must return ``(context, weights)`` with ``weights`` of shape
    (3, 5) (or (3, 5, 1)) summing to 1 over time and ``context`` of shape (3, 4) equal to
    ``sum_t a_t v_t``.

    Parameters
    ----------
    layer_cls : class
        The learner's layer class (a subclass of the article's ``Attention``).
    units : int, default 8
        Passed to the constructor.
    seed : int, default 0
        Seed of the random test batch.
    """
    units = check_int(units, "units", 1)
    if not isinstance(layer_cls, type):
        return Feedback(False, f"pass the layer class itself (e.g. FixedAttention), got {describe(layer_cls)}")
    x = np.random.default_rng(seed).normal(size=(3, 5, 4)).astype(np.float32)
    label = f"{layer_cls.__name__}({units})"
    layer = call(layer_cls, units, name=label)
    out = call(layer, x, x, name=f"calling {label}(x, x)")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        return Feedback(False, "call must return two things, (context_vector, attention_weights), "
                               f"got {describe(out)}")
    context = answer_array(out[0], "the context vector (the first thing call returns)")
    weights = answer_array(out[1], "the attention weights (the second thing call returns)")
    try:
        expected_context, expected_weights = article_attention_reference(layer, x, x)
    except (TypeError, ValueError) as exc:
        return Feedback(False, f"could not use the layer's sub-layers W1, W2 and W3: {exc}")
    if weights.shape == (3, 5, 1):
        weights = weights[..., 0]
    if weights.shape != (3, 5):
        return Feedback(False, f"the weights have shape {weights.shape}; expected one weight per "
                               "position, shape (batch, seq_len) = (3, 5)")
    if np.allclose(weights, 1.0):
        return Feedback(False, "every weight is 1.0: the softmax still runs over the last axis, "
                               "which has size 1; take it over the time axis (axis=1)")
    if not np.allclose(weights.sum(axis=1), 1.0, atol=1e-5):
        return Feedback(False, "the weights of an example must sum to 1 over time (axis=1), got sums "
                               f"{np.round(weights.sum(axis=1), 4).tolist()}")
    res = check_array(weights, expected_weights, name="the attention weights", rtol=1e-4, atol=1e-6)
    if not res:
        return res.with_hint("keep the article's scores W3(sum(W1(q) * W2(v))) and change only the "
                             "softmax axis")
    if context.shape == (3, 5):
        return Feedback(False, "the context has shape (3, 5): it sums over the feature axis (axis=2); "
                               "sum over time (axis=1) to get one vector of 4 features per example")
    if context.shape == (3, 5, 4):
        return Feedback(False, "the context has shape (3, 5, 4): you weighted the values but did "
                               "not sum them over time (axis=1)")
    require(check_array(context, expected_context, name="the context vector", rtol=1e-4, atol=1e-6))
    return Feedback(True, "the weights sum to 1 over the 5 positions and the context is "
                          "sum_t a_t v_t, of shape (batch, features).")


# --------------------------------------------------------------------------- exercise 2

def _check_classifier(clf: Any) -> None:
    for name in ("model", "embed", "attention"):
        if not hasattr(clf, name):
            raise TypeError("clf must be a TextAttentionClassifier from "
                            f"models.build_text_attention_classifier, got {type(clf).__name__}")


def context_by_layers(clf: Any, token_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Context vector, attention weights and P(positive) of one sequence, from the model's layers.

    Parameters
    ----------
    clf : TextAttentionClassifier
    token_ids : int array of shape (seq_len,)

    Returns
    -------
    (context, weights, prob)
        ``context`` of shape (hidden_dim,), ``weights`` of shape (seq_len,) and ``prob`` a float.
    """
    from keras import ops

    _check_classifier(clf)
    ids = as_int_array(token_ids, "token_ids", ndim=1)
    seq_len = clf.model.inputs[0].shape[1]
    if ids.shape[0] != seq_len:
        raise ValueError(f"token_ids must be one sequence of shape ({seq_len},), got {ids.shape}")
    batch = ids[None].astype(np.int32)
    mask = batch != 0
    emb = clf.embed(batch, training=False)
    # as in the model: padded embeddings are zeroed BEFORE the encoder, so that a convolutional
    # encoder reads nothing from padding (for a Dense encoder this changes only padded h_t,
    # whose attention weight is 0)
    h = clf.model.get_layer("encoder")(emb * ops.cast(mask, emb.dtype)[..., None])
    context, weights = clf.model.get_layer("attention_pool")(h, mask=mask)
    prob = float(np.asarray(clf.model.get_layer("output")(context))[0, 0])
    return np.asarray(context, dtype=np.float64)[0], np.asarray(weights, dtype=np.float64)[0], prob


@checker
def check_context_by_hand(context: Any, clf: Any, token_ids: np.ndarray, prob: Any = None) -> Feedback:
    """Check a context vector ``sum_t a_t h_t`` (and optionally P(positive)) computed by hand.

    Parameters
    ----------
    context : array of shape (hidden_dim,)
        The learner's context vector of the sequence.
    clf : TextAttentionClassifier
        The trained classifier whose weights were used.
    token_ids : int array of shape (seq_len,)
        The sequence.
    prob : float, optional
        The learner's P(positive) = sigmoid(w . context + b); checked if given.
    """
    expected, weights, expected_prob = context_by_layers(clf, token_ids)
    c = answer_array(context, "context")
    if c.ndim == 2 and c.shape[0] == 1:
        c = c[0]
    if c.shape == weights.shape and c.shape != expected.shape:
        return Feedback(False, f"context has shape {c.shape}, one number per position: that is the "
                               f"shape of the weights; the context has one number per hidden unit, "
                               f"shape {expected.shape}")
    if c.ndim == 2 and c.shape == (weights.shape[0], expected.shape[0]):
        return Feedback(False, f"context has shape {c.shape}: you weighted each h_t but did not sum "
                               "over time (axis 0)")
    if c.shape == expected.shape and not np.allclose(c, expected, rtol=1e-4, atol=1e-5):
        n_real = int(np.count_nonzero(np.asarray(token_ids)))
        if n_real < weights.shape[0]:
            # the same computation with padding not masked out
            ids = np.asarray(token_ids)
            emb = np.asarray(clf.embed(ids[None].astype(np.int32), training=False))
            h = np.asarray(clf.model.get_layer("encoder")(emb))[0].astype(np.float64)
            pool = clf.model.get_layer("attention_pool")
            s = np.asarray(pool.score_vector(pool.score_dense(h[None])))[0, :, 0]
            unmasked = _softmax(s, axis=0) @ h
            if np.allclose(c, unmasked, rtol=1e-4, atol=1e-5):
                return Feedback(False, f"the padding positions got attention: only the first {n_real} "
                                       "positions are real tokens; mask the others out before the "
                                       "softmax (or use the model's weights, which are 0 there)")
    require(check_array(c, expected, name="the context vector", rtol=1e-4, atol=1e-5))
    if prob is None:
        return Feedback(True, "the context sum_t a_t h_t matches the model's attention layer.")
    p = answer_number(prob, "prob", what="one number")
    if abs(p - expected_prob) > 1e-4:
        w_o, b_o = (np.asarray(t, dtype=np.float64) for t in clf.model.get_layer("output").get_weights())
        logit = float(expected @ w_o[:, 0] + b_o[0])
        if not 0.0 <= p <= 1.0 or abs(p - logit) <= 1e-4:
            hint = "it is not a probability: did you forget the sigmoid, 1 / (1 + exp(-logit))?"
        elif abs(p - (1.0 - expected_prob)) <= 1e-4:
            hint = "that is the probability of the other class; use sigmoid(w . c + b_o) itself"
        elif abs(p - 1.0 / (1.0 + np.exp(-(logit - b_o[0])))) <= 1e-4:
            hint = "the bias b_o of the output layer is missing from the logit"
        else:
            how = "too large" if p > expected_prob else "too small"
            hint = f"it is {how}: compute sigmoid(w . c + b_o) with the output layer's weights"
        return Feedback(False, f"the context is right, but P(positive) = {p:.6g} is not the model's "
                               f"prediction: {hint}")
    return Feedback(True, f"the context sum_t a_t h_t matches the attention layer, and "
                          f"sigmoid(w . c + b) = {p:.4g} matches the model's prediction.")


# --------------------------------------------------------------------------- exercise 3

def _check_weights(weights: Any, texts: TextData) -> np.ndarray:
    if not isinstance(texts, TextData):
        raise TypeError(f"texts must be a TextData, got {type(texts).__name__}")
    w = as_float_array(weights, "weights", ndim=2)
    if w.shape != texts.token_ids.shape:
        raise ValueError(f"weights must have shape {texts.token_ids.shape} (one row per example), got {w.shape}")
    return w


def most_concentrated_index(weights: np.ndarray, texts: TextData, min_tokens: int = 10) -> int:
    """Index of the example, among those with at least ``min_tokens`` real tokens, with the largest
    single attention weight (ties: the first).

    Parameters
    ----------
    weights : array of shape (n, seq_len)
    texts : TextData
    min_tokens : int, default 10
    """
    w = _check_weights(weights, texts)
    min_tokens = check_int(min_tokens, "min_tokens", 1)
    eligible = texts.lengths >= min_tokens
    if not eligible.any():
        raise ValueError(f"no example has at least {min_tokens} real tokens")
    peak = np.where(eligible, w.max(axis=1), -np.inf)
    return int(np.argmax(peak))


@checker
def check_most_concentrated(index: Any, weights: np.ndarray, texts: TextData,
                            min_tokens: int = 10) -> Feedback:
    """Check the index of the most concentrated attention map among examples with ``min_tokens``+ tokens.

    Parameters
    ----------
    index : int
        The learner's answer, a row of ``weights``.
    weights : array of shape (n, seq_len)
        Attention weights of the examples.
    texts : TextData
        The examples.
    min_tokens : int, default 10
        Only examples with at least this many real tokens compete.
    """
    expected = most_concentrated_index(weights, texts, min_tokens)
    w = np.asarray(weights, dtype=np.float64)
    index = answer_int(index, "the answer", what="one integer index (np.argmax returns one; convert it "
                                                 "with int(...))")
    if not 0 <= index < len(texts):
        if 0 <= index < w.size:
            return Feedback(False, f"index {index} is not an example (use 0 to {len(texts) - 1}): np.argmax "
                                   "over the whole 2-D array returns a flat index; take each review's "
                                   "largest weight first (max over axis=1), then the argmax over reviews")
        return Feedback(False, f"index {index} is not an example: use 0 to {len(texts) - 1}")
    n_tok = int(texts.lengths[index])
    if n_tok < min_tokens:
        return Feedback(False, f"example {index} has only {n_tok} real token(s), and a short text "
                               f"concentrates attention trivially; consider only examples with at "
                               f"least {min_tokens} tokens")
    if index != expected:
        return Feedback(False, f"example {index} peaks at a weight of {w[index].max():.4f}, but another "
                               f"example with at least {min_tokens} real tokens peaks higher: compare the "
                               "largest weight of every eligible review (max over axis=1)")
    top = int(np.argmax(w[index]))
    return Feedback(True, f"example {index}: {w[index, top]:.3f} of its attention goes to "
                          f"'{texts.vocab[texts.token_ids[index, top]]}'.")


# --------------------------------------------------------------------------- exercise 4

_PAIRS = (("good", "bad"), ("great", "awful"), ("best", "worst"), ("funny", "boring"), ("love", "hate"),
          ("beautiful", "ugly"), ("smart", "stupid"), ("brilliant", "terrible"), ("fresh", "stale"),
          ("entertaining", "tedious"))

#: The substitution table of exercise 4: ten pairs of opposite sentiment words, both directions.
ANTONYMS: dict[str, str] = {**dict(_PAIRS), **{b: a for a, b in _PAIRS}}


def antonym_ids(texts: TextData, table: dict[str, str] | None = None) -> np.ndarray:
    """Token ids of ``texts`` with every occurrence of a word in ``table`` replaced by its entry.

    Parameters
    ----------
    texts : TextData
    table : dict, optional
        ``{word: replacement}``; default :data:`ANTONYMS`. Words missing from the vocabulary are ignored.

    Returns
    -------
    ndarray of shape (n, seq_len), int
    """
    if not isinstance(texts, TextData):
        raise TypeError(f"texts must be a TextData, got {type(texts).__name__}")
    table = ANTONYMS if table is None else table
    if not isinstance(table, dict):
        raise TypeError(f"table must be a dict {{word: replacement}}, got {type(table).__name__}")
    index = {w: i for i, w in enumerate(texts.vocab)}
    lookup = np.arange(len(texts.vocab))
    for word, new in table.items():
        if word in index and new in index:
            lookup[index[word]] = index[new]
    return lookup[texts.token_ids]


_PREDICT_FNS: dict[int, tuple[Any, Any]] = {}


def _predict_fn(clf: Any) -> Any:
    """One :func:`xai_tutorial.forward.predict_fn` per model (each new one traces a new tf.function)."""
    from ..forward import predict_fn

    key = id(clf)
    if key not in _PREDICT_FNS or _PREDICT_FNS[key][0] is not clf:
        _PREDICT_FNS[key] = (clf, predict_fn(clf))
    return _PREDICT_FNS[key][1]


def count_antonym_flips(clf: Any, texts: TextData, table: dict[str, str] | None = None) -> int:
    """How many predictions (P > 0.5) of ``clf`` change when every table word is replaced by its antonym."""
    f = _predict_fn(clf)
    before = f(np.asarray(texts.token_ids)) > 0.5
    after = f(antonym_ids(texts, table)) > 0.5
    return int(np.sum(before != after))


@checker
def check_antonym_flips(n_flipped: Any, clf: Any, texts: TextData, table: dict[str, str] | None = None
                        ) -> Feedback:
    """Check the number of predictions that flip when every table word is replaced by its antonym.

    Parameters
    ----------
    n_flipped : int
        The learner's count.
    clf : TextAttentionClassifier or keras.Model
        The trained classifier.
    texts : TextData
        The sentences (the test reviews).
    table : dict, optional
        ``{word: replacement}``; default :data:`ANTONYMS`.
    """
    if not isinstance(texts, TextData):
        raise TypeError(f"texts must be a TextData, got {type(texts).__name__}")
    f = _predict_fn(clf)
    ids = np.asarray(texts.token_ids)
    before = f(ids) > 0.5
    table = ANTONYMS if table is None else table
    after = f(antonym_ids(texts, table)) > 0.5
    expected = int(np.sum(before != after))
    n = len(texts)
    value = answer_number(n_flipped, "your count", what="one whole number (a count of sentences)")
    if value != round(value):
        if 0 <= value <= 1 and abs(value * n - expected) < 0.5:
            return Feedback(False, f"{value:g} is a share; the exercise asks for the number of sentences "
                                   f"(multiply by {n})")
        return Feedback(False, f"{value:g} is not a whole number; count the sentences whose prediction changes")
    value = int(round(value))
    if value == expected:
        return Feedback(True, f"{value} of the {n} predictions flip when every table word is replaced by "
                              "its antonym.")
    if value == n - expected:
        return Feedback(False, f"{value} is the number of predictions that stay the same; count those that change")
    # only the first cue of each sentence replaced
    first = ids.copy()
    index = {w: i for i, w in enumerate(texts.vocab)}
    lookup = {index[a]: index[b] for a, b in table.items() if a in index and b in index}
    for row in first:
        for j, t in enumerate(row):
            if int(t) in lookup:
                row[j] = lookup[int(t)]
                break
    if value == int(np.sum((f(first) > 0.5) != before)) and value != expected:
        return Feedback(False, "this count replaces only the first table word of each sentence; replace "
                               "every occurrence")
    for label in (0, 1):
        in_class = int(np.sum((before != after) & (np.asarray(texts.labels) == label)))
        if value == in_class and in_class != expected:
            return Feedback(False, f"this is the count for the sentences labelled {label} only; count the "
                                   "flips over all sentences")
    wrong_after = int(np.sum(after != np.asarray(texts.labels).astype(bool)))
    if value == wrong_after and value != expected:
        return Feedback(False, "this counts the substituted sentences the model gets wrong against the true "
                               "labels; compare the prediction after the substitution with the prediction before")
    has_word = np.isin(ids, list(lookup)).any(axis=1)
    if value == int(has_word.sum()) and value != expected:
        return Feedback(False, "this is the number of sentences that contain a table word; count only those "
                               "whose prediction changes")
    return Feedback(False, f"{value} is {'too high' if value > expected else 'too low'}: replace every table "
                           "word by its antonym and count the sentences whose prediction (P > 0.5) changes")
