"""Unit tests of xai_tutorial.attention_interventions and the chapter-9 exercise checkers.

References: closed forms of the Jensen-Shannon divergence and SciPy's ``jensenshannon``; the
classifier itself (its own attention must reproduce its own predictions); a float64 NumPy
re-computation of the model's output from its weights; the analytic gradient of that output with
respect to the attention weights."""
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import attention_interventions, data, models
from xai_tutorial.exercises import ch09

SEQ_LEN = 10


@pytest.fixture(scope="module")
def planted():
    full = data.make_planted_text(600, seq_len=SEQ_LEN, min_len=4, seed=3)
    return data.split_text(full, test_size=0.2, seed=0)


@pytest.fixture(scope="module")
def trained(planted):
    train, _ = planted
    clf = models.build_text_attention_classifier(len(train.vocab), SEQ_LEN, embed_dim=8, hidden_dim=8,
                                                 attention_units=8, seed=0)
    models.train_text_classifier(clf, train.token_ids, train.labels, epochs=4, batch_size=32, seed=0)
    return clf


@pytest.fixture(scope="module")
def untrained_conv(planted):
    train, _ = planted
    return models.build_text_attention_classifier(len(train.vocab), SEQ_LEN, embed_dim=8, hidden_dim=8,
                                                  attention_units=8, encoder="conv", seed=1)


def numpy_proba(clf, ids, weights):
    """float64 reference: sigmoid(w^T sum_t a_t h_t + b) with h from the model's encoder."""
    h = attention_interventions.encoded_tokens(clf, ids).astype(np.float64)
    kernel, bias = clf.model.get_layer("output").get_weights()
    return 1 / (1 + np.exp(-(np.einsum("nt,nth->nh", weights, h) @ kernel[:, 0] + bias[0])))


# --------------------------------------------------------------------------- Jensen-Shannon

def test_jsd_closed_forms():
    p = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    q = np.array([[0.2, 0.3, 0.5], [0.0, 0.4, 0.6], [0.0, 0.0, 1.0]])
    out = attention_interventions.jensen_shannon(p, q)
    assert out.shape == (3,)
    assert out[0] == 0.0                                  # identical
    assert np.isclose(out[1], np.log(2)) and np.isclose(out[2], np.log(2))  # disjoint supports
    assert np.allclose(attention_interventions.jensen_shannon(p, q, base=2)[1:], 1.0)
    # a case by hand: p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4)
    by_hand = 0.5 * np.log(1 / 0.75) + 0.5 * (0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25))
    assert np.isclose(attention_interventions.jensen_shannon([1.0, 0.0], [0.5, 0.5]), by_hand, rtol=1e-12)
    assert isinstance(attention_interventions.jensen_shannon([1.0, 0.0], [0.5, 0.5]), float)


def test_jsd_symmetric_bounded_and_matches_scipy():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(7, 0.5), size=50)
    q = rng.dirichlet(np.full(7, 0.5), size=50)
    p[:10, :3] = 0.0                                      # zero entries are allowed
    p /= p.sum(axis=1, keepdims=True)
    ours = attention_interventions.jensen_shannon(p, q)
    assert np.allclose(ours, attention_interventions.jensen_shannon(q, p), atol=1e-15)
    assert np.all((ours >= 0) & (ours <= np.log(2) + 1e-12))
    assert np.allclose(ours, jensenshannon(p, q, axis=1) ** 2, atol=1e-12)
    assert np.allclose(attention_interventions.jensen_shannon(p, q, base=2), jensenshannon(p, q, axis=1, base=2) ** 2,
                       atol=1e-12)
    # rows are normalised, as in SciPy
    assert np.allclose(attention_interventions.jensen_shannon(3 * p, q), ours)


@pytest.mark.parametrize("p, q, match", [
    ([0.5, 0.5], [0.5, 0.2, 0.3], "same shape"),
    ([-0.1, 1.1], [0.5, 0.5], "non-negative"),
    ([0.0, 0.0], [0.5, 0.5], "positive sum"),
    (np.ones((2, 2, 2)), np.ones((2, 2, 2)), "1-D or 2-D"),
    ([np.nan, 1.0], [0.5, 0.5], "finite"),
])
def test_jsd_errors(p, q, match):
    with pytest.raises(ValueError, match=match):
        attention_interventions.jensen_shannon(p, q)


def test_jsd_bad_base_and_type():
    with pytest.raises(ValueError, match="base"):
        attention_interventions.jensen_shannon([0.5, 0.5], [0.5, 0.5], base=1)
    with pytest.raises(TypeError, match="array of numbers"):
        attention_interventions.jensen_shannon("abc", [0.5, 0.5])


# --------------------------------------------------------------------------- uniform attention

def test_uniform_attention():
    mask = np.array([[True, True, True, False], [True, False, False, False]])
    u = attention_interventions.uniform_attention(mask)
    assert np.allclose(u.sum(axis=1), 1.0)
    assert np.all(u[~mask] == 0)
    assert np.allclose(u[0, :3], 1 / 3) and u[1, 0] == 1.0
    with pytest.raises(TypeError, match="bool"):
        attention_interventions.uniform_attention(mask.astype(int))
    with pytest.raises(ValueError, match="row"):
        attention_interventions.uniform_attention(np.array([[True, False], [False, False]]))
    with pytest.raises(ValueError, match="2-D"):
        attention_interventions.uniform_attention(np.array([True, False]))


# --------------------------------------------------------------------------- attention in, prediction out

def test_predict_with_own_weights_equals_model(planted, trained, untrained_conv):
    _, test = planted
    for clf in (trained, untrained_conv):
        w = clf.attention_weights(test.token_ids)
        ours = attention_interventions.predict_with_attention(clf, test.token_ids, w)
        assert np.abs(ours - clf.predict_proba(test.token_ids)).max() < 1e-5


def test_predict_with_attention_matches_numpy_reference(planted, trained):
    _, test = planted
    ids = test.token_ids[:40]
    rng = np.random.default_rng(1)
    w = np.where(ids != 0, rng.random(ids.shape), 0.0)
    w /= w.sum(axis=1, keepdims=True)
    assert np.allclose(attention_interventions.predict_with_attention(trained, ids, w), numpy_proba(trained, ids, w),
                       atol=1e-6)


def test_encoded_tokens_dense_by_hand(planted, trained):
    _, test = planted
    ids = test.token_ids[:5]
    (E,) = trained.model.get_layer("embedding").get_weights()
    W, b = trained.model.get_layer("encoder").get_weights()
    by_hand = np.tanh((E[ids] * (ids != 0)[..., None]) @ W + b)
    h = attention_interventions.encoded_tokens(trained, ids)
    assert h.shape == (5, SEQ_LEN, 8)
    assert np.allclose(h, by_hand, atol=1e-5)


def test_predict_with_attention_errors(planted, trained):
    _, test = planted
    ids = test.token_ids[:4]
    good = trained.attention_weights(ids)
    with pytest.raises(ValueError, match="sum to 1"):
        attention_interventions.predict_with_attention(trained, ids, good * 0.5)
    pad = good.copy()
    pad[ids == 0] = 0.1
    with pytest.raises(ValueError, match="0 on padding"):
        attention_interventions.predict_with_attention(trained, ids, pad / pad.sum(axis=1, keepdims=True))
    neg = good.copy()
    neg[:, 0] = -0.2
    neg[:, 1] += 0.2
    with pytest.raises(ValueError, match="non-negative"):
        attention_interventions.predict_with_attention(trained, ids, neg)
    with pytest.raises(ValueError, match="shape"):
        attention_interventions.predict_with_attention(trained, ids, good[:, :-1])
    with pytest.raises(TypeError, match="TextAttentionClassifier"):
        attention_interventions.predict_with_attention(trained.model, ids, good)


def test_attention_gradient_closed_form(planted, trained):
    _, test = planted
    ids = test.token_ids[:30]
    w = trained.attention_weights(ids).astype(np.float64)
    g = attention_interventions.attention_gradient(trained, ids)
    # p = sigmoid(k . sum_t a_t h_t + b)  =>  dp/da_t = p (1 - p) k . h_t
    h = attention_interventions.encoded_tokens(trained, ids).astype(np.float64)
    kernel, _ = trained.model.get_layer("output").get_weights()
    p = numpy_proba(trained, ids, w)
    expected = np.where(ids != 0, (p * (1 - p))[:, None] * (h @ kernel[:, 0]), 0.0)
    assert np.allclose(g, expected, atol=1e-6, rtol=1e-4)


# --------------------------------------------------------------------------- adversarial attention

def test_adversarial_attention_keeps_prediction_and_moves_attention(planted, trained):
    _, test = planted
    ids = test.token_ids[:60]
    res = attention_interventions.adversarial_attention(trained, ids, max_delta=0.01, steps=120, lr=0.1, seed=0)
    assert res.weights.shape == ids.shape
    assert np.allclose(res.weights.sum(axis=1), 1.0) and np.all(res.weights[ids == 0] == 0)
    assert np.all(res.delta_p <= 0.01) and res.fraction_feasible == 1.0
    assert np.allclose(res.proba, attention_interventions.predict_with_attention(trained, ids, res.weights))
    assert np.allclose(res.base_proba, trained.predict_proba(ids))
    assert np.allclose(res.jsd, attention_interventions.jensen_shannon(res.weights, res.base_weights))
    assert np.mean(res.jsd > 0.01) > 0.5 and res.jsd.max() > 0.1
    # a tighter bound can only give the same or a smaller divergence on average, and stays within it
    tight = attention_interventions.adversarial_attention(trained, ids, max_delta=1e-4, steps=120, lr=0.1, seed=0)
    assert np.all(tight.delta_p <= 1e-4) and tight.jsd.mean() <= res.jsd.mean()
    # deterministic for a given seed
    again = attention_interventions.adversarial_attention(trained, ids, max_delta=0.01, steps=120, lr=0.1, seed=0)
    assert np.array_equal(again.weights, res.weights)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"max_delta": 0.0}, ValueError, "max_delta"),
    ({"max_delta": 1.5}, ValueError, "max_delta"),
    ({"steps": 0}, ValueError, "steps"),
    ({"lr": -1.0}, ValueError, "lr"),
    ({"penalty": 0}, ValueError, "penalty"),
    ({"init_scale": -1.0}, ValueError, "init_scale"),
    ({"seed": 1.5}, TypeError, "seed"),
])
def test_adversarial_attention_errors(planted, trained, kwargs, error, match):
    _, test = planted
    with pytest.raises(error, match=match):
        attention_interventions.adversarial_attention(trained, test.token_ids[:3], **kwargs)


def test_adversarial_attention_rejects_empty_rows(planted, trained):
    ids = np.zeros((2, SEQ_LEN), dtype=np.int32)
    ids[0, :3] = 5
    with pytest.raises(ValueError, match="real"):
        attention_interventions.adversarial_attention(trained, ids, steps=2)


# --------------------------------------------------------------------------- erasure

def test_erase_and_predict_matches_manual_erasure(planted, trained):
    _, test = planted
    ids = test.token_ids[:50]
    w = trained.attention_weights(ids).astype(np.float64)
    top = w.argmax(axis=1)
    manual = w.copy()
    manual[np.arange(len(ids)), top] = 0.0
    manual /= manual.sum(axis=1, keepdims=True)
    expected = numpy_proba(trained, ids, manual)
    assert np.allclose(attention_interventions.erase_and_predict(trained, ids, top), expected, atol=1e-6)
    as_mask = np.zeros(ids.shape, dtype=bool)
    as_mask[np.arange(len(ids)), top] = True
    assert np.allclose(attention_interventions.erase_and_predict(trained, ids, as_mask), expected, atol=1e-6)

    res = attention_interventions.erasure_flips(trained, ids, top)
    assert np.allclose(res.proba_before, trained.predict_proba(ids), atol=1e-6)
    assert np.array_equal(res.flipped, (res.proba_before > 0.5) != (expected > 0.5))
    assert np.isclose(res.flip_rate, res.flipped.mean())
    assert np.allclose(res.delta_p, np.abs(expected - res.proba_before), atol=1e-6)


def test_erasure_with_uniform_weights(planted, trained):
    """Erasing one token of uniform weights gives uniform weights over the others."""
    _, test = planted
    ids = test.token_ids[:20]
    real = ids != 0
    u = attention_interventions.uniform_attention(real)
    after = attention_interventions.erase_and_predict(trained, ids, np.zeros(len(ids), dtype=int), weights=u)
    rest = real.copy()
    rest[:, 0] = False
    assert np.allclose(after, numpy_proba(trained, ids, attention_interventions.uniform_attention(rest)), atol=1e-6)


def test_erasure_errors(planted, trained):
    _, test = planted
    ids = test.token_ids[:4]
    lengths = (ids != 0).sum(axis=1)
    with pytest.raises(ValueError, match="one entry per example"):
        attention_interventions.erase_and_predict(trained, ids, [0, 0])
    with pytest.raises(ValueError, match="lie in"):
        attention_interventions.erase_and_predict(trained, ids, [0, 0, 0, SEQ_LEN])
    short = int(np.argmin(lengths))
    assert lengths[short] < SEQ_LEN
    positions = np.zeros(4, dtype=int)
    positions[short] = SEQ_LEN - 1
    with pytest.raises(ValueError, match="padding"):
        attention_interventions.erase_and_predict(trained, ids, positions)
    with pytest.raises(ValueError, match="nothing is left"):
        attention_interventions.erasure_flips(trained, ids, ids != 0)
    with pytest.raises(ValueError, match="shape"):
        attention_interventions.erasure_flips(trained, ids, np.zeros((4, 3), dtype=bool))


# --------------------------------------------------------------------------- exercise checkers

def test_check_jsd_accepts_right_and_explains_mistakes():
    assert ch09.check_jsd(ch09.jsd_reference)

    def base2(p, q):
        return ch09.jsd_reference(p, q) / np.log(2)

    def doubled(p, q):
        return 2 * ch09.jsd_reference(p, q)

    def kl_pq(p, q):
        return float(np.sum(p * np.log(p / q)))

    def nan_on_zero(p, q):
        m = (p + q) / 2
        return 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))

    for fn, words in [(base2, "bits"), (doubled, "twice"), (kl_pq, "mixture"),
                      (lambda p, q: None, "returned None"), (nan_on_zero, "0 log 0")]:
        with np.errstate(all="ignore"):
            res = ch09.check_jsd(fn)
        assert not res and words in res.message, (words, res.message)
    assert not ch09.check_jsd(3)


def test_check_shortcut_rule():
    ids = np.array([[5, 7, 0], [9, 5, 0], [4, 4, 4]])
    labels = np.array([1, 0, 1])
    conditions = {"a": ids, "b": ids[::-1]}

    def rule(x):
        return (np.asarray(x) == 7).any(axis=1).astype(int)

    res = ch09.check_shortcut_rule(rule, conditions, labels, 7)
    assert res and "a: 0.67" in res.message
    res = ch09.check_shortcut_rule(lambda x: 1 - rule(x), conditions, labels, 7)
    assert not res and "inverted" in res.message
    res = ch09.check_shortcut_rule(lambda x: (np.asarray(x) == 7).any(), conditions, labels, 7)
    assert not res and "axis=1" in res.message
    res = ch09.check_shortcut_rule(lambda x: None, conditions, labels, 7)
    assert not res and "None" in res.message
    with pytest.raises(ValueError, match="rows"):
        ch09.check_shortcut_rule(rule, {"a": ids[:2]}, labels, 7)


def test_check_top2_erasure_flips(planted, trained):
    _, test = planted
    ids = test.token_ids[(test.token_ids != 0).sum(axis=1) >= 3][:80]
    expected = ch09.top2_erasure_flips(trained, ids)
    # independent computation through the package
    w = trained.attention_weights(ids)
    mask = np.zeros(ids.shape, dtype=bool)
    np.put_along_axis(mask, np.argsort(-w, axis=1)[:, :2], True, axis=1)
    assert expected == int(attention_interventions.erasure_flips(trained, ids, mask).flipped.sum())
    assert ch09.check_top2_erasure_flips(expected, trained, ids)
    assert ch09.check_top2_erasure_flips(np.int64(expected), trained, ids)
    res = ch09.check_top2_erasure_flips(expected + 1000, trained, ids)
    assert not res and f"expected {expected}" in res.message
    assert not ch09.check_top2_erasure_flips(None, trained, ids)
    assert not ch09.check_top2_erasure_flips(float(expected) + 0.5, trained, ids)
    with pytest.raises(TypeError, match="TextAttentionClassifier"):
        ch09.check_top2_erasure_flips(expected, trained.model, ids)
