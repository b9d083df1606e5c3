"""Tests of the small text transformer (xai_tutorial.transformer)."""
from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.special import erf

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import attention, data, forward, negation_data, transformer

import keras  # noqa: E402

VOCAB, SEQ_LEN = 12, 5


@pytest.fixture(scope="module")
def perturbed():
    """A tiny model whose every weight (biases, norms, [CLS], positions too) is random and non-trivial."""
    tr = transformer.build_text_transformer(VOCAB, SEQ_LEN, dim=8, depth=2, heads=2, mlp_dim=8, seed=1)
    rng = np.random.default_rng(0)
    for w in tr.model.weights:
        w.assign(rng.normal(0.0, 0.5, size=w.shape).astype("float32"))
    return tr


@pytest.fixture(scope="module")
def ids():
    """Four sequences, two of them padded (id 0 only after the last real token)."""
    return np.array([[3, 4, 5, 6, 7], [8, 9, 2, 0, 0], [1, 0, 0, 0, 0], [11, 10, 9, 8, 7]], dtype=np.int32)


# --------------------------------------------------------------------------- a NumPy forward pass

def _layer_norm(x, gamma, beta, eps=1e-6):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * gamma + beta


def _numpy_forward(tr: transformer.TextTransformer, ids: np.ndarray):
    """The transformer by hand, float64: returns (probabilities, maps, attention inputs)."""
    w = {p.path: np.asarray(p.numpy(), dtype=np.float64) for p in tr.model.weights}
    z = w["embedding/embeddings"][ids]
    cls = np.broadcast_to(w["cls_and_position/cls_token"], (len(ids), 1, z.shape[-1]))
    z = np.concatenate([cls, z], axis=1) + w["cls_and_position/position"]
    keys = np.concatenate([np.ones((len(ids), 1), dtype=bool), ids != 0], axis=1)
    mask = keys[:, None, None, :]  # (batch, heads, queries, keys)
    maps, inputs = [], []
    for b in range(1, tr.depth + 1):
        h = _layer_norm(z, w[f"block{b}_norm1/gamma"], w[f"block{b}_norm1/beta"])
        inputs.append(h)
        att = f"block{b}_attention/"
        q, k, v = (np.einsum("btd,dnh->bnth", h, w[att + f"{n}/kernel"]) + w[att + f"{n}/bias"][None, :, None]
                   for n in ("query", "key", "value"))
        out, a = attention.scaled_dot_product_attention(q, k, v, np.broadcast_to(mask, q.shape[:3] + (k.shape[2],)))
        maps.append(a)
        z = z + np.einsum("bnth,nhd->btd", out, w[att + "attention_output/kernel"]) + w[att + "attention_output/bias"]
        h = _layer_norm(z, w[f"block{b}_norm2/gamma"], w[f"block{b}_norm2/beta"])
        h = h @ w[f"block{b}_mlp1/kernel"] + w[f"block{b}_mlp1/bias"]
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))  # exact GELU, Keras' default
        z = z + h @ w[f"block{b}_mlp2/kernel"] + w[f"block{b}_mlp2/bias"]
    logits = _layer_norm(z, w["final_norm/gamma"], w["final_norm/beta"])[:, 0] @ w["classifier/kernel"] \
        + w["classifier/bias"]
    if logits.shape[1] == 1:
        return 1.0 / (1.0 + np.exp(-logits)), maps, inputs
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True), maps, inputs


# --------------------------------------------------------------------------- shapes, maps, views

def test_shapes_and_properties(perturbed, ids):
    tr = perturbed
    assert (tr.seq_len, tr.vocab_size, tr.dim, tr.depth, tr.heads, tr.n_classes) == (SEQ_LEN, VOCAB, 8, 2, 2, 2)
    p = tr.predict_proba(ids)
    assert p.shape == (4, 2)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    assert tr.predict(ids).shape == (4,)
    maps = tr.attention_maps(ids)
    assert len(maps) == 2 and all(m.shape == (4, 2, 1 + SEQ_LEN, 1 + SEQ_LEN) for m in maps)
    inputs = tr.layer_inputs(ids)
    assert len(inputs) == 2 and all(x.shape == (4, 1 + SEQ_LEN, 8) for x in inputs)
    assert [type(layer).__name__ for layer in tr.attention_layers] == ["MultiHeadAttention"] * 2


def test_maps_equal_softmax_of_queries_and_keys_from_the_layer_weights(perturbed, ids):
    """A_h = softmax(Q_h K_h^T / sqrt(d_head)) with Q, K from the MHA kernels, padding keys at weight 0."""
    maps = perturbed.attention_maps(ids)
    for b, (x, got) in enumerate(zip(perturbed.layer_inputs(ids), maps)):
        mha = perturbed.attention_layers[b]
        q = np.einsum("btd,dnh->bnth", x, mha.query_dense.kernel.numpy()) + mha.query_dense.bias.numpy()[None, :, None]
        k = np.einsum("btd,dnh->bnth", x, mha.key_dense.kernel.numpy()) + mha.key_dense.bias.numpy()[None, :, None]
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
        keys = np.concatenate([np.ones((len(ids), 1), bool), ids != 0], axis=1)[:, None, None, :]
        scores = np.where(keys, scores, -np.inf)
        want = np.exp(scores - scores.max(-1, keepdims=True))
        want /= want.sum(-1, keepdims=True)
        np.testing.assert_allclose(got, want, atol=1e-5)
    # padding columns are exactly 0, every row a distribution, and the maps far from uniform
    for m in maps:
        assert np.all(m[1, :, :, 4:] == 0.0) and np.all(m[2, :, :, 2:] == 0.0)
        np.testing.assert_allclose(m.sum(-1), 1.0, atol=1e-5)
    assert np.abs(maps[1][0] - 1.0 / 6).max() > 0.05


def test_outputs_match_a_numpy_forward_pass(perturbed, ids):
    proba, maps, inputs = _numpy_forward(perturbed, ids)
    np.testing.assert_allclose(perturbed.predict_proba(ids), proba, atol=1e-5)
    for got, want in zip(perturbed.attention_maps(ids), maps):
        np.testing.assert_allclose(got, want, atol=1e-5)
    for got, want in zip(perturbed.layer_inputs(ids), inputs):
        np.testing.assert_allclose(got, want, atol=1e-4)


def test_head_views_share_weights_and_ignore_padding(perturbed, ids):
    emb = np.asarray(perturbed.embed(ids))
    mask = (ids != 0).astype("float32")
    np.testing.assert_allclose(perturbed.head([emb, mask]).numpy(), perturbed.predict_proba(ids), atol=1e-6)
    for got, want in zip(perturbed.head_attention([emb, mask]), perturbed.attention_maps(ids)):
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-6)
    # whatever sits at padded positions does not change the output: keys there are masked
    noisy = emb + np.where(mask[..., None] > 0, 0.0, 10.0 * np.random.default_rng(1).normal(size=emb.shape))
    np.testing.assert_allclose(perturbed.head([noisy.astype("float32"), mask]).numpy(),
                               perturbed.predict_proba(ids), atol=1e-6)
    # the logit model of the head (the boundary of the gradient methods) reads the classifier's input
    logits = forward.logit_model(perturbed.head)([emb, mask]).numpy()
    p = perturbed.predict_proba(ids)
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), p, atol=1e-5)


def test_sigmoid_model_and_depth_one():
    tr = transformer.build_text_transformer(VOCAB, SEQ_LEN, n_classes=1, dim=4, depth=1, heads=1, seed=0)
    x = np.array([[2, 3, 0, 0, 0], [4, 4, 4, 4, 4]])
    p = tr.predict_proba(x)
    assert p.shape == (2,) and np.all((p > 0) & (p < 1))
    assert tr.predict(x).shape == (2,)
    maps = tr.attention_maps(x)
    assert isinstance(maps, list) and len(maps) == 1 and maps[0].shape == (2, 1, 6, 6)
    assert isinstance(tr.layer_inputs(x), list)
    assert forward.predict_fn(tr)(x).shape == (2,)


# --------------------------------------------------------------------------- initial weights

def test_same_seed_same_weights_and_qkv_differ():
    build = lambda seed, **kw: transformer.build_text_transformer(VOCAB, SEQ_LEN, dim=8, heads=2, seed=seed, **kw)
    a, b, c = build(3), build(3), build(4)
    for wa, wb in zip(a.model.weights, b.model.weights):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())
    assert any(not np.array_equal(wa.numpy(), wc.numpy()) for wa, wc in zip(a.model.weights, c.model.weights)
               if wa.path.endswith("kernel"))
    w = {p.path: p.numpy() for p in a.model.weights}
    q, k, v = (w[f"block1_attention/{n}/kernel"] for n in ("query", "key", "value"))
    assert not np.array_equal(q, k) and not np.array_equal(k, v)
    pos = w["cls_and_position/position"][0]
    np.testing.assert_allclose(pos[1:], transformer.sincos_positions(SEQ_LEN, 8), atol=1e-7)
    np.testing.assert_array_equal(pos[0], 0.0)
    r = build(3, position_init="random")
    assert 0 < np.abs(r.model.get_layer("cls_and_position").position.numpy()).max() < 0.1


def test_sincos_positions_closed_form():
    pe = transformer.sincos_positions(6, 4, max_period=100.0)
    t = np.arange(6)
    want = np.stack([np.sin(t), np.sin(t / 10.0), np.cos(t), np.cos(t / 10.0)], axis=1)
    np.testing.assert_allclose(pe, want, atol=1e-12)
    odd = transformer.sincos_positions(3, 5)
    assert odd.shape == (3, 5) and np.all(odd[:, -1] == 0.0)
    # the code of t + 1 is a fixed rotation of the code of t: equal norms, equal neighbour dot products
    dots = (pe[1:] * pe[:-1]).sum(1)
    np.testing.assert_allclose(dots, dots[0], atol=1e-12)


def test_reset_weights_equals_a_new_model():
    tr = transformer.build_text_transformer(VOCAB, SEQ_LEN, dim=8, heads=2, seed=0)
    fresh = transformer.build_text_transformer(VOCAB, SEQ_LEN, dim=8, heads=2, seed=5)
    assert transformer.reset_weights(tr, 5) is tr
    for w1, w2 in zip(tr.model.weights, fresh.model.weights):
        np.testing.assert_array_equal(w1.numpy(), w2.numpy())


# --------------------------------------------------------------------------- training

@pytest.fixture(scope="module")
def negation_training():
    """Chapter 12's recipe: the default transformer trained with the defaults on 75 % of the default data."""
    full = negation_data.make_negation_text()
    train, test = data.split_text(full, 0.25, seed=0)
    tr = transformer.build_text_transformer(len(full.vocab), full.seq_len, seed=0)
    start = time.process_time()
    history = transformer.train_text_transformer(tr, train.token_ids, train.labels, seed=0)
    cpu = time.process_time() - start
    return tr, history, train, test, cpu


def test_training_learns_negation(negation_training):
    tr, history, _, test, cpu = negation_training
    ok = tr.predict(test.token_ids) == test.labels
    assert ok.mean() > 0.97, ok.mean()
    # the negated sentences are learned too: a model blind to the negator would get them all wrong
    assert ok[test.negated].mean() > 0.95
    assert len(history.history["loss"]) == 6 and history.history["loss"][-1] < 0.1
    print(f"planted negation: test accuracy {ok.mean():.3f}, training CPU {cpu:.1f} s")


def test_retraining_after_reset_repeats_the_run(negation_training):
    """reset_weights + train keeps the compiled step and starts a fresh Adam: the same run twice.

    Runs after the fixture's training: had the optimizer kept its moments, the first rerun would
    start from the fixture's Adam state and the second from the first's, and they would differ.
    """
    tr, _, train, _, _ = negation_training
    step = tr.model.train_function
    x, y = train.token_ids[:256], train.labels[:256]
    runs = []
    for _ in range(2):
        transformer.reset_weights(tr, 7)
        h = transformer.train_text_transformer(tr, x, y, epochs=2, seed=7, learning_rate=1e-2)
        runs.append((h.history["loss"], [w.numpy().copy() for w in tr.model.weights]))
    assert tr.model.train_function is step  # the compiled step was kept
    np.testing.assert_allclose(runs[1][0], runs[0][0], rtol=1e-5)
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_allclose(a, b, atol=1e-5)
    # and the rerun really trained: the weights moved away from the seed-7 start
    start = transformer.build_text_transformer(tr.vocab_size, tr.seq_len, seed=7).model.weights
    assert max(np.abs(a - s.numpy()).max() for a, s in zip(runs[0][1], start)) > 1e-2


def test_train_sigmoid_model_and_recompile_after_another_compile():
    tr = transformer.build_text_transformer(VOCAB, SEQ_LEN, n_classes=1, dim=4, heads=1, depth=1, seed=0)
    x = np.random.default_rng(0).integers(1, VOCAB, size=(32, SEQ_LEN))
    y = (x[:, 0] > 6).astype(int)
    h = transformer.train_text_transformer(tr, x, y, epochs=1, batch_size=16)
    assert np.isfinite(h.history["loss"][0]) and tr.model.loss == "binary_crossentropy"
    # compiled by someone else with another optimizer: train_text_transformer compiles its own Adam again
    tr.model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    transformer.train_text_transformer(tr, x, y, epochs=1, batch_size=16, learning_rate=1e-3)
    assert type(tr.model.optimizer) is keras.optimizers.Adam
    assert float(tr.model.optimizer.learning_rate) == pytest.approx(1e-3)


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, exc, match", [
    ({"vocab_size": 1}, ValueError, "vocab_size"),
    ({"vocab_size": 2.5}, TypeError, "vocab_size"),
    ({"seq_len": 0}, ValueError, "seq_len"),
    ({"n_classes": 0}, ValueError, "n_classes"),
    ({"dim": 6, "heads": 4}, ValueError, "divisible"),
    ({"depth": 0}, ValueError, "depth"),
    ({"mlp_dim": "8"}, TypeError, "mlp_dim"),
    ({"position_init": "learned"}, ValueError, "position_init"),
    ({"position_init": 1}, TypeError, "position_init"),
    ({"dim": 1, "heads": 1}, ValueError, "position_init"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_build_rejects_bad_arguments(kwargs, exc, match):
    args = {"vocab_size": VOCAB, "seq_len": SEQ_LEN, "dim": 8, "heads": 2, **kwargs}
    with pytest.raises(exc, match=match):
        transformer.build_text_transformer(args.pop("vocab_size"), args.pop("seq_len"), **args)


def test_token_ids_are_checked(perturbed):
    with pytest.raises(ValueError, match=r"token_ids must have shape \(n, 5\)"):
        perturbed.predict_proba(np.zeros((2, 4), dtype=int))
    with pytest.raises(ValueError, match="token_ids must lie in"):
        perturbed.attention_maps(np.full((1, SEQ_LEN), VOCAB))
    with pytest.raises(TypeError, match="token_ids"):
        perturbed.layer_inputs(np.full((1, SEQ_LEN), 1.5))
    with pytest.raises(ValueError, match="token_ids must be 2-D"):
        perturbed.predict(np.ones(SEQ_LEN, dtype=int))
    with pytest.raises(TypeError, match="TextTransformer"):
        transformer.check_token_ids(np.ones((1, SEQ_LEN), dtype=int), "model")


def test_train_and_reset_reject_bad_input(perturbed):
    x = np.ones((4, SEQ_LEN), dtype=int)
    with pytest.raises(ValueError, match="labels must have 4 entries"):
        transformer.train_text_transformer(perturbed, x, [0, 1, 0])
    with pytest.raises(ValueError, match="labels must lie in"):
        transformer.train_text_transformer(perturbed, x, [0, 1, 2, 0])
    with pytest.raises(ValueError, match="learning_rate"):
        transformer.train_text_transformer(perturbed, x, [0, 1, 1, 0], learning_rate=0)
    with pytest.raises(TypeError, match="epochs"):
        transformer.train_text_transformer(perturbed, x, [0, 1, 1, 0], epochs=1.0)
    with pytest.raises(ValueError, match="validation_split"):
        transformer.train_text_transformer(perturbed, x, [0, 1, 1, 0], validation_split=1.0)
    with pytest.raises(TypeError, match="TextTransformer"):
        transformer.train_text_transformer(keras.Sequential(), x, [0, 1, 1, 0])
    with pytest.raises(TypeError, match="tr must be a TextTransformer"):
        transformer.reset_weights("model", 0)
    with pytest.raises(ValueError, match="seed"):
        transformer.reset_weights(perturbed, -2)
    with pytest.raises(ValueError, match="position_init"):
        transformer.reset_weights(perturbed, 0, position_init="zeros")
    with pytest.raises(ValueError, match="dim"):
        transformer.sincos_positions(3, 1)


def test_check_token_ids_names_the_model_and_checks_the_name(perturbed):
    """Errors the bad-input sweep found unclear: the model's argument is named, a bad ``name`` is refused."""
    ids = np.ones((1, SEQ_LEN), dtype=int)
    with pytest.raises(TypeError, match=r"tr \(the model\) must be a TextTransformer"):
        transformer.check_token_ids(ids, None)
    with pytest.raises(TypeError, match=r"tr \(the model\) must be a TextTransformer"):
        transformer.train_text_transformer("model", ids, [1])
    with pytest.raises(TypeError, match="name must be a str"):
        transformer.check_token_ids(ids, perturbed, name=3)
    assert transformer.check_token_ids(ids, perturbed, name="ids").dtype == np.int32
