"""Tests of xai_tutorial.text_shap against references: closed-form
Shapley values of additive models, a brute-force average over all orderings, shap's Exact
explainer, the efficiency and dummy axioms, and the Keras classifier itself."""
from __future__ import annotations

from itertools import permutations
from math import factorial

import numpy as np
import pytest

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import agreement, forward, text_shap

# shap's plotting module, imported with shap, uses matplotlib calls that matplotlib 3.11 marks as pending deprecation
pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

VOCAB = 12
SEQ_LEN = 7
RNG = np.random.default_rng(0)
WORD_WEIGHT = RNG.normal(0, 1, VOCAB)
WORD_WEIGHT[0] = 0.0                       # padding contributes nothing
SCORE = RNG.normal(0, 1.5, VOCAB)          # attention score of each word
VALUE = RNG.normal(0, 1.5, VOCAB)          # value of each word


def additive(ids: np.ndarray) -> np.ndarray:
    """f(x) = sum_t w[x_t]: the Shapley value of token t is w[x_t] exactly."""
    return WORD_WEIGHT[np.asarray(ids)].sum(axis=1)


def attention_pool(ids: np.ndarray) -> np.ndarray:
    """A NumPy twin of attention pooling: sigmoid(sum_t a_t v_t), softmax over the real tokens.

    Strongly non-additive (every token changes every weight); all padding gives sigmoid(0) = 0.5.
    """
    ids = np.asarray(ids)
    real = ids != 0
    s = np.where(real, SCORE[ids], -np.inf)
    e = np.where(real, np.exp(s - np.where(real, s, -1e9).max(axis=1, keepdims=True)), 0.0)
    a = e / np.maximum(e.sum(axis=1, keepdims=True), 1e-300)
    return 1.0 / (1.0 + np.exp(-(a * VALUE[ids]).sum(axis=1)))


def brute_force_shapley(f, x: np.ndarray) -> np.ndarray:
    """Average marginal contribution over all L! orderings of the real tokens (absent = 0)."""
    real = np.flatnonzero(x != 0)
    phi = np.zeros(len(x))
    for order in permutations(real):
        current = np.zeros_like(x)
        before = f(current[None])[0]
        for t in order:
            current[t] = x[t]
            after = f(current[None])[0]
            phi[t] += after - before
            before = after
    return phi / factorial(len(real))


def sentences(n: int, seed: int, min_len: int = 2, max_len: int = SEQ_LEN) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, size=(n, SEQ_LEN))
    lengths = rng.integers(min_len, max_len + 1, size=n)
    ids[np.arange(SEQ_LEN)[None, :] >= lengths[:, None]] = 0
    return ids


# tiny_clf, a small trained classifier over the same VOCAB and SEQ_LEN (cue word 1 -> positive,
# cue word 2 -> negative, no cue -> 50/50), comes from tests/conftest.py


# ----------------------------------------------------------------------------- masker

def test_padding_masker_replaces_absent_tokens_by_padding():
    m = text_shap.padding_masker(5)
    x = np.array([4, 7, 2, 0, 0], dtype=np.int32)
    out = m(np.array([True, False, True, False, True]), x)
    assert out.shape == (1, 5) and out.dtype == x.dtype
    np.testing.assert_array_equal(out[0], [4, 0, 2, 0, 0])
    np.testing.assert_array_equal(m(np.ones(5, bool), x)[0], x)
    np.testing.assert_array_equal(m(np.zeros(5, bool), x)[0], 0)
    np.testing.assert_array_equal(m.invariants(x), [[False, False, False, True, True]])
    assert m.shape == (1, 5)


def test_padding_masker_custom_pad_id_and_errors():
    m = text_shap.PaddingMasker(3, pad_id=9)
    np.testing.assert_array_equal(m(np.array([False, True, False]), np.array([1, 2, 3]))[0], [9, 2, 9])
    with pytest.raises(ValueError, match="shape"):
        m(np.ones(4, bool), np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="integer token ids"):
        m(np.ones(3, bool), np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"seq_len must be in \[1, inf\]"):
        text_shap.padding_masker(0)
    with pytest.raises(TypeError, match="pad_id must be an int"):
        text_shap.padding_masker(3, pad_id=0.5)


# ----------------------------------------------------------------------------- values

@pytest.mark.parametrize("algorithm", ["exact", "permutation"])
def test_additive_model_gets_its_weights(algorithm):
    ids = sentences(6, seed=1)
    values = text_shap.token_shap_values(additive, ids, algorithm=algorithm, max_evals=64)
    np.testing.assert_allclose(values, np.where(ids != 0, WORD_WEIGHT[ids], 0.0), atol=1e-12)


def test_exact_matches_brute_force_over_orderings():
    ids = sentences(4, seed=2, min_len=3, max_len=6)
    expl = text_shap.token_explanation(attention_pool, ids, algorithm="exact")
    for x, phi in zip(ids, expl.values):
        np.testing.assert_allclose(phi, brute_force_shapley(attention_pool, x), atol=1e-10)
    np.testing.assert_allclose(expl.base_values, 0.5)


def test_permutation_is_efficient_and_close_to_exact():
    ids = sentences(5, seed=4, min_len=4, max_len=SEQ_LEN)
    expl = text_shap.token_explanation(attention_pool, ids, max_evals=4000, seed=0)
    # efficiency: every sampled ordering telescopes to f(x) - f(all padding)
    np.testing.assert_allclose(expl.values.sum(axis=1), attention_pool(ids) - attention_pool(0 * ids),
                               atol=1e-12)
    np.testing.assert_allclose(expl.base_values, attention_pool(0 * ids))
    exact = text_shap.token_shap_values(attention_pool, ids, algorithm="exact")
    assert np.abs(expl.values - exact).max() < 0.02
    # and a few samples are visibly noisier than many (the estimate converges)
    rough = text_shap.token_shap_values(attention_pool, ids, max_evals=2 * SEQ_LEN + 1, seed=0)
    assert np.abs(rough - exact).max() > np.abs(expl.values - exact).max()


def test_padding_positions_get_exactly_zero():
    ids = sentences(8, seed=5)
    values = text_shap.token_shap_values(attention_pool, ids, max_evals=60, seed=1)
    assert np.all(values[ids == 0] == 0.0)
    assert np.all(values[ids != 0] != 0.0)


def test_seed_makes_values_reproducible_and_keeps_global_rng():
    ids = sentences(4, seed=6, min_len=5)
    np.random.seed(123)
    expected_next = np.random.random()
    np.random.seed(123)
    a = text_shap.token_shap_values(attention_pool, ids, max_evals=45, seed=7)
    assert np.random.random() == expected_next            # global state untouched
    b = text_shap.token_shap_values(attention_pool, ids, max_evals=45, seed=7)
    c = text_shap.token_shap_values(attention_pool, ids, max_evals=45, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_keras_classifier_efficiency_and_compiled_predict(tiny_clf):
    ids = sentences(10, seed=8)
    predict = forward.predict_fn(tiny_clf)
    np.testing.assert_allclose(predict(ids), tiny_clf.predict_proba(ids), atol=1e-6)
    assert predict(ids).shape == (10,) and predict(ids).dtype == np.float64
    expl = text_shap.token_explanation(tiny_clf, ids, max_evals=100, seed=0)
    empty = predict(np.zeros((1, SEQ_LEN), dtype=np.int32))[0]
    np.testing.assert_allclose(expl.base_values, empty, atol=1e-6)
    np.testing.assert_allclose(expl.values.sum(axis=1), predict(ids) - empty, atol=1e-6)
    assert np.all(expl.values[ids == 0] == 0.0)
    # the keras.Model itself works too, and exact enumeration agrees with shap's Exact on a short input
    short = sentences(2, seed=9, min_len=3, max_len=5)
    exact = text_shap.token_shap_values(tiny_clf.model, short, algorithm="exact")
    np.testing.assert_allclose(exact[0], brute_force_shapley(predict, short[0]), atol=1e-6)


def test_cue_words_get_the_largest_values(tiny_clf):
    ids = np.random.default_rng(10).integers(3, VOCAB, size=(30, SEQ_LEN))   # neutral words
    ids[:, 5:] = 0
    ids[:, 0] = np.where(np.arange(30) % 2 == 0, 1, 2)      # a cue at position 0
    values = text_shap.token_shap_values(tiny_clf, ids, max_evals=100, seed=0)
    assert agreement.rationale_auc(values, ids <= 2, ids != 0) > 0.9
    assert np.all(values[::2, 0] > 0) and np.all(values[1::2, 0] < 0)


def test_explanation_display_data_holds_tokens():
    ids = sentences(2, seed=11)
    vocab = tuple(f"w{i}" for i in range(VOCAB))
    expl = text_shap.token_explanation(additive, ids, vocab=vocab, max_evals=64)
    assert expl.display_data[0, 0] == vocab[ids[0, 0]]
    assert expl.values.shape == (2, SEQ_LEN) and expl.feature_names[3] == "position 3"


# ----------------------------------------------------------------------------- errors

@pytest.mark.parametrize("bad, exc, match", [
    (np.array([1, 2, 3]), ValueError, "must be 2-D"),
    (np.array([[1, -2, 3]]), ValueError, "non-negative"),
    (np.array([[1.5, 2.0]]), TypeError, "non-integer"),
    (np.zeros((0, 4), int), ValueError, "at least one sequence"),
    ("the movie", TypeError, "array of integers"),
])
def test_token_ids_are_checked(bad, exc, match):
    with pytest.raises(exc, match=match):
        text_shap.token_shap_values(additive, bad)


def test_other_arguments_are_checked(tiny_clf):
    ids = sentences(2, seed=12, min_len=SEQ_LEN)
    with pytest.raises(ValueError, match=r"max_evals must be at least 2 \* L \+ 1 = 15"):
        text_shap.token_shap_values(additive, ids, max_evals=14)
    with pytest.raises(ValueError, match="algorithm must be one of"):
        text_shap.token_shap_values(additive, ids, algorithm="kernel")
    with pytest.raises(TypeError, match="seed must be an int"):
        text_shap.token_shap_values(additive, ids, seed=1.0)
    with pytest.raises(TypeError, match="or a predict function"):
        text_shap.token_shap_values("model", ids)
    with pytest.raises(ValueError, match="2 outputs per input: pass target"):
        text_shap.token_shap_values(lambda x: np.zeros((len(x), 2)), ids)
    with pytest.raises(ValueError, match=r"shape \(n, 7\) for this model"):
        text_shap.token_shap_values(tiny_clf, np.ones((2, 5), int))
    with pytest.raises(ValueError, match="vocabulary of 3 words"):
        text_shap.token_explanation(additive, ids, vocab=("a", "b", "c"))
    long_ids = np.ones((1, 16), int)
    with pytest.raises(ValueError, match="at most 14 real tokens"):
        text_shap.token_shap_values(lambda x: np.zeros(len(x)), long_ids, algorithm="exact")
    with pytest.raises(TypeError, match="must be a keras.Model, a book model"):
        forward.predict_fn("additive")
    with pytest.raises(ValueError, match=r"shape \(n, 7\)"):
        forward.predict_fn(tiny_clf)(np.ones((2, 3), int))


# ----------------------------------------------------------------------------- by word

def test_word_importance_by_hand():
    ids = np.array([[1, 2, 1, 0], [2, 3, 0, 0]])
    values = np.array([[0.5, -1.0, -0.5, 0.0], [2.0, 0.1, 0.0, 0.0]])
    table = text_shap.word_importance(values, ids, ("<pad>", "a", "b", "c"))
    assert list(table.index) == ["b", "a", "c"]
    assert table.loc["b", "mean_abs"] == pytest.approx(1.5) and table.loc["b", "mean"] == pytest.approx(0.5)
    assert table.loc["a", "mean_abs"] == pytest.approx(0.5) and table.loc["a", "mean"] == pytest.approx(0.0)
    assert table.loc["a", "count"] == 2 and "<pad>" not in table.index


def test_word_explanation_regroups_values_by_word():
    ids = sentences(6, seed=13)
    values = RNG.normal(size=ids.shape) * (ids != 0)
    vocab = tuple(f"w{i}" for i in range(VOCAB))
    expl = text_shap.word_explanation(values, ids, vocab, base_values=np.zeros(6))
    np.testing.assert_allclose(expl.values.sum(axis=1), values.sum(axis=1))
    col = expl.feature_names.index(vocab[ids[0, 0]])
    np.testing.assert_allclose(expl.values[0, col], values[0][ids[0] == ids[0, 0]].sum())
    assert expl.data[0, col] == (ids[0] == ids[0, 0]).sum()
    assert "w0" not in expl.feature_names


def test_word_summaries_check_their_input():
    ids = np.array([[1, 2, 0]])
    with pytest.raises(ValueError, match="same shape"):
        text_shap.word_importance(np.zeros((1, 2)), ids, ("p", "a", "b"))
    with pytest.raises(ValueError, match="vocabulary of 2 words"):
        text_shap.word_importance(np.zeros((1, 3)), ids, ("p", "a"))
    with pytest.raises(TypeError, match="vocab must be a sequence of str"):
        text_shap.word_explanation(np.zeros((1, 3)), ids, "pab")
    with pytest.raises(ValueError, match=r"base_values must have shape \(1,\)"):
        text_shap.word_explanation(np.zeros((1, 3)), ids, ("p", "a", "b"), base_values=np.zeros(2))
