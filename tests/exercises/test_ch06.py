"""Checkers of chapter 6: a right answer passes, each usual mistake fails with a message that names
it, and wrong context arguments raise clear errors."""
import numpy as np
import pytest
import tensorflow as tf
from checker_asserts import rejected

from xai_tutorial import data, forward, models
from xai_tutorial.data import TextData
from xai_tutorial.exercises import ch06


# --------------------------------------------------------------------------- exercise 1

class Attention(tf.keras.layers.Layer):
    """The article's layer, as printed (softmax and sum over axis 2)."""

    def __init__(self, units):
        super().__init__()
        self.units = units
        self.W1 = tf.keras.layers.Dense(units, activation="relu")
        self.W2 = tf.keras.layers.Dense(units, activation="relu")
        self.W3 = tf.keras.layers.Dense(1)

    def scores(self, query, values):
        dot_product = tf.reduce_sum(tf.multiply(self.W1(query), self.W2(values)), axis=2, keepdims=True)
        return self.W3(dot_product)  # (batch, time, 1)

    def call(self, query, values):
        attention_prob = tf.nn.softmax(self.scores(query, values), axis=2)
        return tf.reduce_sum(attention_prob * values, axis=2)


class Fixed(Attention):
    def call(self, query, values):
        a = tf.nn.softmax(self.scores(query, values), axis=1)
        return tf.reduce_sum(a * values, axis=1), tf.squeeze(a, axis=-1)


class FixedKeepDims(Attention):  # weights of shape (batch, time, 1) are accepted too
    def call(self, query, values):
        a = tf.nn.softmax(self.scores(query, values), axis=1)
        return tf.reduce_sum(a * values, axis=1), a


class ReturnsNone(Attention):  # the notebook's starter cell
    def call(self, query, values):
        self.scores(query, values)
        return None


class SoftmaxOverSizeOneAxis(Attention):
    def call(self, query, values):
        a = tf.nn.softmax(self.scores(query, values), axis=2)
        return tf.reduce_sum(a * values, axis=1), tf.squeeze(a, axis=-1)


class SumsFeatures(Attention):
    def call(self, query, values):
        a = tf.nn.softmax(self.scores(query, values), axis=1)
        return tf.reduce_sum(a * values, axis=2), tf.squeeze(a, axis=-1)


class DoesNotSum(Attention):
    def call(self, query, values):
        a = tf.nn.softmax(self.scores(query, values), axis=1)
        return a * values, tf.squeeze(a, axis=-1)


class UniformWeights(Attention):
    def call(self, query, values):
        a = tf.ones_like(self.scores(query, values)) / values.shape[1]
        return tf.reduce_sum(a * values, axis=1), tf.squeeze(a, axis=-1)


class ContextOfQueries(Attention):  # right weights, but sums W2(values) instead of the values
    def call(self, query, values):
        a = tf.nn.softmax(self.scores(query, values), axis=1)
        return tf.reduce_sum(a * self.W2(values)[..., :4], axis=1), tf.squeeze(a, axis=-1)


class Raises(Attention):
    def call(self, query, values):
        raise ValueError("shapes do not match")


class FixedByEinsum(Attention):  # right, written differently: keras ops and an einsum
    def call(self, query, values):
        s = self.scores(query, values)[..., 0]                      # (batch, time)
        a = tf.exp(s - tf.reduce_max(s, axis=1, keepdims=True))
        a = a / tf.reduce_sum(a, axis=1, keepdims=True)
        return tf.einsum("bt,btf->bf", a, values), a


def test_fixed_attention_right_answers_pass():
    for cls in (Fixed, FixedKeepDims, FixedByEinsum):
        res = ch06.check_fixed_attention(cls)
        assert res, res.message
        assert "sum to 1" in res.message


@pytest.mark.parametrize("cls, words", [
    (ReturnsNone, "returned None: did it forget to `return`"),
    (SoftmaxOverSizeOneAxis, "every weight is 1.0"),
    (SumsFeatures, "sums over the feature axis"),
    (DoesNotSum, "did not sum them over time"),
    (UniformWeights, "keep the article's scores"),
    (ContextOfQueries, "the context vector"),
    (Raises, "raised ValueError: shapes do not match"),
])
def test_fixed_attention_typical_mistakes_are_named(cls, words):
    res = ch06.check_fixed_attention(cls)
    assert not res
    assert words in res.message


@pytest.mark.parametrize("answer", [None, "FixedAttention", 3, ..., Attention])
def test_fixed_attention_unusable_answers_say_not_yet(answer):
    res = ch06.check_fixed_attention(answer)
    assert not res and str(res).startswith("Not yet")


def test_fixed_attention_instance_instead_of_class():
    res = ch06.check_fixed_attention(Fixed(8))
    assert not res and "pass the layer class itself" in res.message


def test_fixed_attention_bad_context_raises():
    with pytest.raises(ValueError, match="units"):
        ch06.check_fixed_attention(Fixed, units=0)
    with pytest.raises(TypeError, match="W1, W2 and W3"):
        ch06.article_attention_reference(tf.keras.layers.Dense(3), np.zeros((1, 2, 3)), np.zeros((1, 2, 3)))


def test_article_attention_reference_matches_the_fixed_layer():
    x = np.random.default_rng(1).normal(size=(2, 6, 4)).astype(np.float32)
    layer = Fixed(5)
    context, weights = layer(x, x)
    ref_context, ref_weights = ch06.article_attention_reference(layer, x, x)
    np.testing.assert_allclose(ref_weights, np.asarray(weights), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ref_context, np.asarray(context), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ref_weights.sum(axis=1), 1.0, atol=1e-12)


# --------------------------------------------------------------------------- exercise 2

SEQ_LEN = 7
IDS = np.array([5, 3, 9, 2, 0, 0, 0])  # four real tokens, then padding


# tiny_clf, a trained dense classifier over ids 0-11 and sequences of length SEQ_LEN, comes from
# tests/conftest.py; the convolutional one is built here


@pytest.fixture(scope="module")
def conv_clf():
    return models.build_text_attention_classifier(12, SEQ_LEN, embed_dim=6, hidden_dim=5,
                                                  attention_units=4, encoder="conv", seed=3)


def by_hand(clf, ids, mask_padding=True):
    """The learner's computation with NumPy (the exercise's solution)."""
    (E,) = clf.model.get_layer("embedding").get_weights()
    W_e, b_e = clf.model.get_layer("encoder").get_weights()
    W, b, v = clf.model.get_layer("attention_pool").get_weights()
    w_o, b_o = clf.model.get_layer("output").get_weights()
    h = np.tanh(E[ids] @ W_e + b_e)
    s = (np.tanh(h @ W + b) @ v)[:, 0]
    if mask_padding:
        s = np.where(ids != 0, s, -np.inf)
    a = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
    c = a @ h
    return c, a, h, (c @ w_o + b_o)[0]


@pytest.mark.parametrize("which", ["tiny_clf", "conv_clf"])
def test_context_by_layers_matches_the_model(which, request):
    model = request.getfixturevalue(which)
    context, weights, prob = ch06.context_by_layers(model, IDS)
    np.testing.assert_allclose(prob, model.predict_proba(IDS[None])[0], rtol=1e-5)
    np.testing.assert_allclose(weights, model.attention_weights(IDS[None])[0], rtol=1e-5, atol=1e-7)
    hidden_dim = model.model.get_layer("output").get_weights()[0].shape[0]
    assert context.shape == (hidden_dim,) and np.all(weights[IDS == 0] == 0)


def test_context_by_layers_conv_reads_no_padding(conv_clf):
    # the same real tokens followed by a different amount of padding give the same context
    short = models.build_text_attention_classifier(12, 5, embed_dim=6, hidden_dim=5, attention_units=4,
                                                   encoder="conv", seed=3)
    short.model.set_weights(conv_clf.model.get_weights())
    long_context, _, _ = ch06.context_by_layers(conv_clf, IDS)
    short_context, _, _ = ch06.context_by_layers(short, IDS[:5])
    np.testing.assert_allclose(long_context, short_context, rtol=1e-5, atol=1e-7)


def test_context_by_hand_right_answer_written_differently(tiny_clf):
    # a loop over the real tokens only, instead of a masked softmax over all positions
    (E,) = tiny_clf.model.get_layer("embedding").get_weights()
    W_e, b_e = tiny_clf.model.get_layer("encoder").get_weights()
    W, b, v = tiny_clf.model.get_layer("attention_pool").get_weights()
    w_o, b_o = tiny_clf.model.get_layer("output").get_weights()
    real = [t for t in IDS if t != 0]
    h = [np.tanh(E[t] @ W_e + b_e) for t in real]
    e = np.array([np.exp(float(np.tanh(ht @ W + b) @ v[:, 0])) for ht in h])
    c = sum(w * ht for w, ht in zip(e / e.sum(), h))
    p = float(np.tanh((c @ w_o[:, 0] + b_o[0]) / 2) / 2 + 0.5)  # sigmoid written with tanh
    assert ch06.check_context_by_hand(c, tiny_clf, IDS, prob=p)


def test_context_by_hand_right_answer_passes(tiny_clf):
    c, _, _, logit = by_hand(tiny_clf, IDS)
    p = 1 / (1 + np.exp(-logit))
    res = ch06.check_context_by_hand(c, tiny_clf, IDS, prob=p)
    assert res and "matches the model's prediction" in res.message
    assert ch06.check_context_by_hand(c, tiny_clf, IDS)
    assert ch06.check_context_by_hand(c[None], tiny_clf, IDS)  # a (1, hidden) row is accepted


def test_context_by_hand_typical_mistakes_are_named(tiny_clf):
    c, a, h, logit = by_hand(tiny_clf, IDS)
    p = 1 / (1 + np.exp(-logit))
    cases = [
        (a, p, "that is the shape of the weights"),
        (a[:, None] * h, p, "did not sum over time"),
        (by_hand(tiny_clf, IDS, mask_padding=False)[0], p, "the padding positions got attention"),
        (None, p, "context is None"),
        ("context", p, "must be an array of numbers"),
        (c + 0.1, p, "the context vector"),
        (c, logit, "did you forget the sigmoid"),
        (c, 1 - p, "the other class"),
        (c, 1 / (1 + np.exp(-(logit - tiny_clf.model.get_layer("output").get_weights()[1][0]))), "bias b_o"),
        (c, p + 0.01, "too large"),
        (c, [p, p], "prob must be one number"),
        (c, None, "the context sum_t a_t h_t matches"),   # prob is optional: None checks the context only
    ]
    for context, prob, words in cases:
        res = ch06.check_context_by_hand(context, tiny_clf, IDS, prob=prob)
        if prob is None:
            assert res and words in res.message
            continue
        assert not res, words
        assert str(res).startswith("Not yet")
        assert words in res.message, (words, res.message)
        assert f"{p:.6g}" not in res.message and f"{p:.4f}" not in res.message  # the expected P is not shown


def test_context_by_hand_bad_context_raises(tiny_clf):
    c = by_hand(tiny_clf, IDS)[0]
    with pytest.raises(TypeError, match="TextAttentionClassifier"):
        ch06.check_context_by_hand(c, object(), IDS)
    with pytest.raises(ValueError, match=r"shape \(7,\)"):
        ch06.check_context_by_hand(c, tiny_clf, IDS[:5])
    with pytest.raises(ValueError, match="token_ids"):
        ch06.check_context_by_hand(c, tiny_clf, IDS[None])


# --------------------------------------------------------------------------- exercise 3

@pytest.fixture(scope="module")
def texts():
    vocab = ("<pad>", "<unk>", "good", "bad", "film", "plot")
    ids = np.zeros((4, 12), dtype=np.int32)
    ids[0, :3] = [2, 4, 5]        # short: 3 tokens, the largest weight of all
    ids[1, :10] = [4] * 9 + [2]   # 10 tokens, the answer
    ids[2, :12] = [5] * 11 + [3]  # 12 tokens, a smaller peak
    ids[3, :11] = [4] * 11        # 11 tokens, flat
    return TextData(ids, np.array([1, 1, 0, 0]), vocab)


@pytest.fixture(scope="module")
def weights(texts):
    w = np.where(texts.padding_mask, 1.0, 0.0)
    w[0, :3] = [0.9, 0.05, 0.05]
    w[1, :10] = [0.2 / 9] * 9 + [0.8]
    w[2, :12] = [0.5 / 11] * 11 + [0.5]
    w[3] /= w[3].sum()
    return w


def test_most_concentrated_right_answer(texts, weights):
    assert ch06.most_concentrated_index(weights, texts) == 1
    res = ch06.check_most_concentrated(1, weights, texts)
    assert res and "0.800" in res.message and "'good'" in res.message
    assert ch06.check_most_concentrated(np.int64(1), weights, texts)
    assert ch06.check_most_concentrated(np.array(1), weights, texts)  # what np.argmax returns
    # written differently: sort the eligible reviews by their peak
    eligible = [i for i in range(len(texts)) if texts.lengths[i] >= 10]
    assert ch06.check_most_concentrated(sorted(eligible, key=lambda i: -weights[i].max())[0], weights, texts)


def test_most_concentrated_typical_mistakes_are_named(texts, weights):
    res = ch06.check_most_concentrated(0, weights, texts)  # the plain arg-max, ignoring length
    assert not res and "only 3 real token(s)" in res.message
    res = ch06.check_most_concentrated(2, weights, texts)
    assert not res and "another example with at least 10 real tokens peaks higher" in res.message
    assert "example 1" not in res.message and "0.8" not in res.message
    res = ch06.check_most_concentrated(3, weights, texts)   # the flattest eligible map
    assert not res and "peaks higher" in res.message and "example 1" not in res.message
    res = ch06.check_most_concentrated(int(np.argmax(weights[1:])) , weights, texts)  # a flat index
    assert not res and "flat index" in res.message
    res = ch06.check_most_concentrated(1.0, weights, texts)
    assert not res and "one integer index" in res.message
    res = ch06.check_most_concentrated(None, weights, texts)
    assert not res and "one integer index" in res.message
    res = ch06.check_most_concentrated(True, weights, texts)
    assert not res and "one integer index" in res.message
    res = ch06.check_most_concentrated(np.array([1, 2]), weights, texts)
    assert not res and "one integer index" in res.message
    res = ch06.check_most_concentrated(7, weights, texts)
    assert not res and "use 0 to 3" in res.message


def test_most_concentrated_bad_context_raises(texts, weights):
    with pytest.raises(TypeError, match="TextData"):
        ch06.check_most_concentrated(1, weights, texts.token_ids)
    with pytest.raises(ValueError, match=r"shape \(4, 12\)"):
        ch06.check_most_concentrated(1, weights[:, :5], texts)
    with pytest.raises(ValueError, match="at least 13 real tokens"):
        ch06.check_most_concentrated(1, weights, texts, min_tokens=13)
    with pytest.raises(ValueError, match="min_tokens"):
        ch06.check_most_concentrated(1, weights, texts, min_tokens=0)


# --------------------------------------------------------------------------- exercise 4: flips by antonyms

PLANTED_ANTONYMS = {**dict(zip(data.POSITIVE_CUES[:4], data.NEGATIVE_CUES[:4])),
                    **dict(zip(data.NEGATIVE_CUES[:4], data.POSITIVE_CUES[:4]))}


def flips_by_hand(clf, texts, table):
    """Word by word, through the vocabulary strings: the reference written differently."""
    rows = []
    for i in range(len(texts)):
        words = [table.get(w, w) for w in texts.tokens(i)]
        ids = [texts.vocab.index(w) for w in words]
        rows.append(ids + [0] * (texts.seq_len - len(ids)))
    f = forward.predict_fn(clf)
    return int(np.sum((f(np.array(rows)) > 0.5) != (f(texts.token_ids) > 0.5)))


def test_antonym_ids_swaps_every_occurrence(planted_split):
    _, test = planted_split
    swapped = ch06.antonym_ids(test, PLANTED_ANTONYMS)
    for i in range(20):
        got = data.decode(swapped[i], test.vocab)
        assert got == [PLANTED_ANTONYMS.get(w, w) for w in test.tokens(i)]
    assert set(ch06.ANTONYMS["good"]) and ch06.ANTONYMS[ch06.ANTONYMS["good"]] == "good"


def test_check_antonym_flips(planted_clf, planted_split):
    _, test = planted_split
    expected = flips_by_hand(planted_clf, test, PLANTED_ANTONYMS)
    assert 0 < expected < len(test)
    assert expected == ch06.count_antonym_flips(planted_clf, test, PLANTED_ANTONYMS)
    fb = ch06.check_antonym_flips(float(expected), planted_clf, test, PLANTED_ANTONYMS)
    assert fb and f"{expected} of the {len(test)}" in fb.message
    hidden = str(expected)
    rejected(ch06.check_antonym_flips(len(test) - expected, planted_clf, test, PLANTED_ANTONYMS),
             "stay the same", hidden)
    rejected(ch06.check_antonym_flips(expected / len(test), planted_clf, test, PLANTED_ANTONYMS), "is a share")
    has_word = np.isin(test.token_ids, [test.vocab.index(w) for w in PLANTED_ANTONYMS]).any(axis=1)
    if has_word.sum() != expected:
        rejected(ch06.check_antonym_flips(int(has_word.sum()), planted_clf, test, PLANTED_ANTONYMS),
                 "contain a table word", hidden)
    rejected(ch06.check_antonym_flips(expected + 7, planted_clf, test, PLANTED_ANTONYMS), "too high", hidden)
    rejected(ch06.check_antonym_flips(2.5, planted_clf, test, PLANTED_ANTONYMS), "not a whole number")
    rejected(ch06.check_antonym_flips(None, planted_clf, test, PLANTED_ANTONYMS), "None")


def test_check_antonym_flips_recognises_one_class_and_first_occurrence(planted_clf, planted_split):
    _, test = planted_split
    table = dict(zip(data.POSITIVE_CUES, data.NEGATIVE_CUES))  # positive cues only
    f = forward.predict_fn(planted_clf)
    before = f(test.token_ids) > 0.5
    after = f(ch06.antonym_ids(test, table)) > 0.5
    expected = int(np.sum(before != after))
    first = test.token_ids.copy()
    lookup = {test.vocab.index(a): test.vocab.index(b) for a, b in table.items()}
    for row in first:
        j = next((j for j, t in enumerate(row) if int(t) in lookup), None)
        if j is not None:
            row[j] = lookup[int(row[j])]
    first_only = int(np.sum((f(first) > 0.5) != before))
    if first_only != expected:
        rejected(ch06.check_antonym_flips(first_only, planted_clf, test, table), "only the first")
    per_class = [int(np.sum((before != after) & (test.labels == c))) for c in (0, 1)]
    for c, n in enumerate(per_class):
        if n != expected and n != first_only:
            rejected(ch06.check_antonym_flips(n, planted_clf, test, table), f"labelled {c} only")
    assert ch06.check_antonym_flips(expected, planted_clf, test, table)


def test_check_antonym_flips_rejects_bad_context(planted_clf):
    with pytest.raises(TypeError, match="texts must be a TextData"):
        ch06.check_antonym_flips(3, planted_clf, np.zeros((2, 3)))
    with pytest.raises(TypeError, match="table must be a dict"):
        ch06.antonym_ids(TextData(np.ones((1, 2), dtype=int), np.zeros(1, dtype=int), ("<pad>", "<unk>")), ["a"])
