"""Unit tests of xai_tutorial.attention_interventions.

References: closed forms of the Jensen-Shannon divergence and SciPy's ``jensenshannon``; the
classifier itself (its own attention must reproduce its own predictions); a float64 NumPy
re-computation of the model's output from its weights; the analytic gradient of that output with
respect to the attention weights."""
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import attention_interventions, models

SEQ_LEN = 10  # the sequence length of conftest's planted_split


# planted_split (600 planted sentences of length SEQ_LEN, split 80/20) and planted_clf (a dense
# classifier trained on it) are built once per session in tests/conftest.py

@pytest.fixture(scope="module")
def planted(planted_split):
    return planted_split


@pytest.fixture(scope="module")
def trained(planted_clf):
    return planted_clf


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


# --------------------------------------------------------------------------- gradient x embedding, attention fixed

def _attention_fixed_proba(clf, emb, ids, weights, output="probability"):
    """float64 NumPy reference of the classifier from its embeddings, the attention held at ``weights``.

    Dense encoder: h_t = tanh(e_t W + c); Conv1D (kernel 3, "same"): h_t = tanh(sum_j e_{t+j-1} W_j + c),
    with zero embeddings outside the sequence and on padding; then z = k . sum_t a_t h_t + b.
    """
    real = (ids != 0)[..., None]
    e = emb * real
    W, c = (w.astype(np.float64) for w in clf.model.get_layer("encoder").get_weights())
    if W.ndim == 2:
        pre = e @ W
    else:
        padded = np.pad(e, ((0, 0), (1, 1), (0, 0)))
        pre = sum(padded[:, j:j + ids.shape[1]] @ W[j] for j in range(W.shape[0]))
    h = np.tanh(pre + c)
    kernel, bias = (w.astype(np.float64) for w in clf.model.get_layer("output").get_weights())
    z = np.einsum("nt,nth->nh", weights, h) @ kernel[:, 0] + bias[0]
    return z if output == "logit" else 1 / (1 + np.exp(-z))


def test_gradient_x_embedding_closed_form_dense(planted, trained):
    """Dense encoder: with a fixed, dp/de_t = p (1 - p) a_t W (k * (1 - h_t^2)), so g_t is that dotted with e_t."""
    _, test = planted
    ids = test.token_ids[:30]
    emb = np.asarray(trained.embed(ids), dtype=np.float64) * (ids != 0)[..., None]
    a = trained.attention_weights(ids).astype(np.float64)
    W, c = (w.astype(np.float64) for w in trained.model.get_layer("encoder").get_weights())
    kernel, _ = trained.model.get_layer("output").get_weights()
    h = np.tanh(emb @ W + c)
    dz_de = a[..., None] * (((1 - h ** 2) * kernel[:, 0]) @ W.T)          # (n, seq_len, embed_dim)
    p = _attention_fixed_proba(trained, emb, ids, a)
    assert np.allclose(p, trained.predict_proba(ids), atol=1e-6)         # the reference is the model
    by_hand_logit = np.where(ids != 0, (dz_de * emb).sum(axis=-1), 0.0)
    got_logit = attention_interventions.gradient_x_embedding(trained, ids, output="logit")
    got = attention_interventions.gradient_x_embedding(trained, ids)
    assert got.shape == ids.shape and got.dtype == np.float64
    scale = np.abs(by_hand_logit).max()
    assert scale > 1e-3
    assert np.allclose(got_logit, by_hand_logit, atol=1e-5 * scale, rtol=1e-4)
    assert np.allclose(got, (p * (1 - p))[:, None] * by_hand_logit, atol=1e-5 * np.abs(got).max(), rtol=1e-4)
    assert np.all(got[ids == 0] == 0) and np.all(got_logit[ids == 0] == 0)


@pytest.mark.parametrize("output", ["probability", "logit"])
def test_gradient_x_embedding_finite_differences_conv(planted, untrained_conv, output):
    """Conv encoder: g_t is the derivative of the output, attention fixed, along e_t itself (central differences)."""
    _, test = planted
    ids = test.token_ids[:12]
    clf = untrained_conv
    emb = np.asarray(clf.embed(ids), dtype=np.float64)
    a = clf.attention_weights(ids).astype(np.float64)
    assert np.allclose(_attention_fixed_proba(clf, emb, ids, a), clf.predict_proba(ids), atol=1e-6)
    eps = 1e-5
    fd = np.zeros(ids.shape)
    for t in range(ids.shape[1]):
        up, down = emb.copy(), emb.copy()
        up[:, t] *= 1 + eps    # d/ds f(e with e_t -> s e_t) at s = 1  =  sum_k df/de_tk e_tk
        down[:, t] *= 1 - eps
        fd[:, t] = (_attention_fixed_proba(clf, up, ids, a, output)
                    - _attention_fixed_proba(clf, down, ids, a, output)) / (2 * eps)
    fd = np.where(ids != 0, fd, 0.0)
    got = attention_interventions.gradient_x_embedding(clf, ids, output=output)
    scale = np.abs(fd).max()
    assert scale > 0
    assert np.allclose(got, fd, atol=1e-4 * scale, rtol=1e-3)


def test_gradient_x_embedding_through_attention_matches_gradient_x_input(planted, trained, untrained_conv):
    """detach_attention=False is gradient x input of the head (the gradient flows through a), summed over e."""
    from xai_tutorial import gradient_attribution

    _, test = planted
    ids = test.token_ids[:25]
    for clf in (trained, untrained_conv):
        emb = np.asarray(clf.embed(ids))
        real = (ids != 0).astype("float32")
        reference = gradient_attribution.gradient_x_input(clf.head, emb, aux=[real]).sum(axis=-1)
        through = attention_interventions.gradient_x_embedding(clf, ids, detach_attention=False)
        scale = np.abs(reference).max()
        assert np.allclose(through, np.where(ids != 0, reference, 0.0), atol=1e-5 * scale, rtol=1e-4)
        fixed = attention_interventions.gradient_x_embedding(clf, ids)
        assert not np.allclose(fixed, through, atol=1e-3 * scale)  # holding the attention fixed changes the answer


def test_gradient_x_embedding_errors(planted, trained):
    _, test = planted
    ids = test.token_ids[:3]
    with pytest.raises(TypeError, match="clf"):
        attention_interventions.gradient_x_embedding(trained.model, ids)
    for bad in ("yes", 1, None):
        with pytest.raises(TypeError, match="detach_attention"):
            attention_interventions.gradient_x_embedding(trained, ids, detach_attention=bad)
    with pytest.raises(ValueError, match="output"):
        attention_interventions.gradient_x_embedding(trained, ids, output="margin")
    with pytest.raises(TypeError, match="output"):
        attention_interventions.gradient_x_embedding(trained, ids, output=1)
    with pytest.raises(ValueError, match="token_ids"):
        attention_interventions.gradient_x_embedding(trained, ids[:, :-1])
