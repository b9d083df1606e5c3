"""Unit tests of xai_tutorial.models: the attention-pooling layer and the text classifier.

Every formula is checked against a NumPy computation written out by hand; the views of the
classifier (``attention``, ``embed``, ``head``) are checked against the full model.
"""
import numpy as np
import pytest

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
import keras

from xai_tutorial import data, models


def numpy_attention_pooling(layer, x, mask=None):
    """AttentionPooling written out in NumPy from the layer's own parameters."""
    W, b = (np.asarray(w, dtype=np.float64) for w in layer.score_dense.get_weights())
    (v,) = (np.asarray(w, dtype=np.float64) for w in layer.score_vector.get_weights())
    s = (np.tanh(x @ W + b) @ v)[..., 0]  # (batch, seq_len)
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    e = np.exp(s - s.max(axis=1, keepdims=True))
    a = e / e.sum(axis=1, keepdims=True)
    return np.einsum("bt,btf->bf", a, x), a


@pytest.fixture(scope="module")
def planted():
    return data.make_planted_text(400, seq_len=12, min_len=4, seed=3)


@pytest.fixture(scope="module")
def clf(planted):
    keras.utils.set_random_seed(0)
    return models.build_text_attention_classifier(len(planted.vocab), planted.seq_len, embed_dim=8,
                                                  hidden_dim=8, attention_units=8, seed=0)


# --------------------------------------------------------------------------- AttentionPooling

def test_pooling_matches_numpy_by_hand_with_padding_mask():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 6, 5)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [1, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]], bool)
    layer = models.AttentionPooling(7)
    context, weights = (np.asarray(t, dtype=np.float64) for t in layer(x, mask=mask))
    ref_context, ref_weights = numpy_attention_pooling(layer, x.astype(np.float64), mask)
    np.testing.assert_allclose(weights, ref_weights, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(context, ref_context, rtol=1e-5, atol=1e-6)
    assert context.shape == (4, 5) and weights.shape == (4, 6)


def test_pooling_weights_sum_to_one_on_real_tokens_and_are_exactly_zero_on_padding():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 8, 4)).astype(np.float32) * 5
    lengths = np.array([8, 5, 2])
    mask = np.arange(8)[None, :] < lengths[:, None]
    _, weights = models.AttentionPooling(4)(x, mask=mask)
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(weights[~mask] == 0.0)
    assert np.all(weights[mask] > 0.0)


def test_pooling_without_mask_is_a_softmax_over_time_not_over_a_size_one_axis():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 5, 3)).astype(np.float32) * 3
    layer = models.AttentionPooling(6)
    context, weights = (np.asarray(t, dtype=np.float64) for t in layer(x))
    ref_context, ref_weights = numpy_attention_pooling(layer, x.astype(np.float64))
    np.testing.assert_allclose(weights, ref_weights, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(context, ref_context, rtol=1e-5, atol=1e-6)
    assert not np.allclose(weights, 1.0)  # the article's bug: every weight 1
    assert np.ptp(weights) > 1e-3


def test_pooling_of_an_all_padding_row_is_finite():
    x = np.ones((1, 4, 3), np.float32)
    context, weights = models.AttentionPooling(2)(x, mask=np.zeros((1, 4), bool))
    assert np.all(np.isfinite(np.asarray(context))) and np.all(np.asarray(weights) == 0.0)


def test_pooling_config_round_trip():
    layer = models.AttentionPooling(5, name="pool")
    clone = models.AttentionPooling.from_config(layer.get_config())
    assert clone.units == 5 and clone.name == "pool"


def test_pooling_rejects_bad_units():
    with pytest.raises(ValueError, match=r"units must be in \[1, inf\], got 0"):
        models.AttentionPooling(0)
    with pytest.raises(TypeError, match="units must be an int, got float"):
        models.AttentionPooling(2.5)


# --------------------------------------------------------------------------- the classifier's views

def test_classifier_weights_sum_to_one_over_real_tokens(clf, planted):
    w = clf.attention_weights(planted.token_ids)
    mask = planted.padding_mask
    assert w.shape == planted.token_ids.shape
    np.testing.assert_allclose(w.sum(axis=1), 1.0, atol=1e-6)
    assert np.all(w[~mask] == 0.0)


def test_classifier_context_is_the_weighted_sum_of_encodings(clf, planted):
    ids = planted.token_ids[:16]
    model = clf.model
    h = np.asarray(model.get_layer("encoder")(clf.embed(ids)), dtype=np.float64)
    pool = model.get_layer("attention_pool")
    ref_context, ref_weights = numpy_attention_pooling(pool, h, ids != 0)
    np.testing.assert_allclose(clf.attention_weights(ids), ref_weights, rtol=1e-5, atol=1e-7)
    w_o, b_o = (np.asarray(w, dtype=np.float64) for w in model.get_layer("output").get_weights())
    ref_prob = 1 / (1 + np.exp(-(ref_context @ w_o + b_o)[:, 0]))
    np.testing.assert_allclose(clf.predict_proba(ids), ref_prob, rtol=1e-5, atol=1e-6)


def test_attention_weights_method_equals_attention_submodel(clf, planted):
    ids = planted.token_ids[:50]
    np.testing.assert_array_equal(clf.attention_weights(ids), np.asarray(clf.attention(ids)))
    # other batch sizes change float rounding only
    np.testing.assert_allclose(clf.attention_weights(ids, batch_size=7), np.asarray(clf.attention(ids)),
                               rtol=1e-6, atol=1e-8)


def test_predict_proba_equals_model_output(clf, planted):
    ids = planted.token_ids[:50]
    np.testing.assert_allclose(clf.predict_proba(ids, batch_size=16), np.asarray(clf.model(ids))[:, 0],
                               rtol=1e-6, atol=1e-7)
    assert clf.predict_proba(ids[:0]).shape == (0,)


@pytest.mark.parametrize("encoder", ["dense", "conv"])
def test_head_on_embeddings_equals_the_model_on_ids(planted, encoder):
    keras.utils.set_random_seed(0)
    c = models.build_text_attention_classifier(len(planted.vocab), planted.seq_len, embed_dim=6,
                                               hidden_dim=5, encoder=encoder, seed=1)
    ids = planted.token_ids[:32]
    emb = np.asarray(c.embed(ids))
    mask = (ids != 0).astype("float32")
    np.testing.assert_allclose(np.asarray(c.head([emb, mask])), np.asarray(c.model(ids)), rtol=1e-5, atol=1e-6)


def test_conv_encoder_leaks_nothing_from_padding(planted):
    """Changing what sits in padded positions (after the embedding) must not change the output."""
    keras.utils.set_random_seed(0)
    c = models.build_text_attention_classifier(len(planted.vocab), planted.seq_len, embed_dim=6,
                                               hidden_dim=5, encoder="conv", seed=1)
    ids = planted.token_ids[:16]
    mask = (ids != 0).astype("float32")
    emb = np.asarray(c.embed(ids))
    noisy = emb + np.random.default_rng(0).normal(size=emb.shape).astype("float32") * (1 - mask)[..., None]
    np.testing.assert_allclose(np.asarray(c.head([noisy, mask])), np.asarray(c.head([emb, mask])),
                               rtol=1e-5, atol=1e-6)


def test_two_builds_with_the_same_seed_have_identical_initial_weights(planted):
    a = models.build_text_attention_classifier(len(planted.vocab), planted.seq_len, seed=5)
    b = models.build_text_attention_classifier(len(planted.vocab), planted.seq_len, seed=5)
    for va, wa, wb in zip(a.model.weights, a.model.get_weights(), b.model.get_weights()):
        np.testing.assert_array_equal(wa, wb, err_msg=va.path)


def test_the_seed_fixes_every_seeded_layer_and_the_global_seed_fixes_the_rest(planted):
    builds = []
    for _ in range(2):
        keras.utils.set_random_seed(11)
        builds.append(models.build_text_attention_classifier(len(planted.vocab), planted.seq_len, seed=5))
    for wa, wb in zip(builds[0].model.get_weights(), builds[1].model.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    other = models.build_text_attention_classifier(len(planted.vocab), planted.seq_len, seed=6)
    a_w = {v.path: w for v, w in zip(builds[0].model.weights, builds[0].model.get_weights())}
    o_w = {v.path: w for v, w in zip(other.model.weights, other.model.get_weights())}
    for name in ("embedding/embeddings", "encoder/kernel", "output/kernel"):
        assert not np.array_equal(a_w[name], o_w[name]), name


def test_save_and_reload_give_the_same_predictions(clf, planted, tmp_path):
    path = tmp_path / "clf.keras"
    clf.model.save(path)
    reloaded = keras.models.load_model(path)
    ids = planted.token_ids[:20]
    np.testing.assert_array_equal(np.asarray(reloaded(ids)), np.asarray(clf.model(ids)))


# --------------------------------------------------------------------------- training

def test_short_training_on_planted_text_reaches_high_accuracy(planted_training, planted_split):
    # conftest's planted_training: 4 epochs of train_text_classifier on 480 planted sentences
    c, history = planted_training
    _, test = planted_split
    assert set(history.history) == {"loss", "accuracy"} and len(history.history["loss"]) == 4
    assert history.history["loss"][-1] < history.history["loss"][0]
    accuracy = np.mean((c.predict_proba(test.token_ids) > 0.5) == test.labels)
    assert accuracy > 0.9, accuracy


# --------------------------------------------------------------------------- errors on bad input

def test_builder_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"encoder must be one of \('dense', 'conv'\), got 'lstm'"):
        models.build_text_attention_classifier(10, 5, encoder="lstm")
    with pytest.raises(ValueError, match=r"vocab_size must be in \[2, inf\], got 1"):
        models.build_text_attention_classifier(1, 5)
    with pytest.raises(ValueError, match=r"seq_len must be in \[1, inf\], got 0"):
        models.build_text_attention_classifier(10, 0)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1"):
        models.build_text_attention_classifier(10, 5, dropout=1.0)
    with pytest.raises(TypeError, match="seed must be an int, got str"):
        models.build_text_attention_classifier(10, 5, seed="0")


def test_ids_of_the_wrong_shape_or_range_are_rejected(clf, planted):
    ids = planted.token_ids
    with pytest.raises(ValueError, match=r"token_ids must have shape \(n, 12\), got \(400, 11\)"):
        clf.predict_proba(ids[:, :11])
    with pytest.raises(ValueError, match="token_ids must be 2-D, got a 1-D array"):
        clf.attention_weights(ids[0])
    too_big = ids.copy()
    too_big[0, 0] = len(planted.vocab)
    with pytest.raises(ValueError, match=rf"token_ids must lie in \[0, {len(planted.vocab) - 1}\]"):
        clf.predict_proba(too_big)
    negative = ids.copy()
    negative[0, 0] = -1
    with pytest.raises(ValueError, match="token_ids must lie in"):
        clf.attention_weights(negative)
    with pytest.raises(TypeError, match="token_ids must hold integers, got non-integer floats"):
        clf.predict_proba(ids + 0.5)


def test_training_rejects_bad_labels(clf, planted):
    ids = planted.token_ids[:10]
    with pytest.raises(ValueError, match=r"train_labels must lie in \[0, 1\], got values in \[0, 2\]"):
        models.train_text_classifier(clf, ids, np.array([0, 1, 2, 0, 1, 0, 1, 0, 1, 0]), epochs=1)
    with pytest.raises(ValueError, match="train_labels must have 10 entries"):
        models.train_text_classifier(clf, ids, np.zeros(9, int), epochs=1)
    with pytest.raises(TypeError, match="train_labels must hold integers"):
        models.train_text_classifier(clf, ids, np.full(10, 0.5), epochs=1)
    with pytest.raises(ValueError, match=r"learning_rate must be in \(0, inf\), got -0.1"):
        models.train_text_classifier(clf, ids, np.zeros(10, int), learning_rate=-0.1)
    with pytest.raises(ValueError, match=r"epochs must be in \[1, inf\], got 0"):
        models.train_text_classifier(clf, ids, np.zeros(10, int), epochs=0)
