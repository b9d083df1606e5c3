"""Tests of the tiny vision transformer (xai_tutorial.vision)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import erf

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import attention, data, vision

import keras  # noqa: E402

N_PATCHES, PATCH_DIM, N_CLASSES = 16, 4, 10


@pytest.fixture(scope="module")
def digits():
    return data.load_digits_patches(patch_size=2)


@pytest.fixture(scope="module")
def vit():
    return vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=16, depth=2, heads=2, seed=0)


@pytest.fixture(scope="module")
def perturbed_vit():
    """A model whose every weight (biases, norms, [CLS], positions too) is random and non-trivial."""
    v = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=16, depth=2, heads=2, seed=1)
    rng = np.random.default_rng(0)
    for w in v.model.weights:
        w.assign(rng.normal(0.0, 0.5, size=w.shape).astype("float32"))
    return v


# --------------------------------------------------------------------------- a NumPy forward pass

def _layer_norm(x, gamma, beta, eps=1e-6):
    mu = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * gamma + beta


def _numpy_forward(v: vision.TinyViT, x: np.ndarray):
    """The ViT by hand: returns (probabilities (n, k), list of maps (n, heads, 17, 17))."""
    w = {p.path: np.asarray(p.numpy(), dtype=np.float64) for p in v.model.weights}
    z = x @ w["patch_embedding/kernel"] + w["patch_embedding/bias"]
    cls = np.broadcast_to(w["cls_and_position/cls_token"], (len(x), 1, z.shape[-1]))
    z = np.concatenate([cls, z], axis=1) + w["cls_and_position/position"]
    maps = []
    for b in range(1, v.depth + 1):
        h = _layer_norm(z, w[f"block{b}_norm1/gamma"], w[f"block{b}_norm1/beta"])
        att = f"block{b}_attention/"
        q = np.einsum("btd,dnh->bnth", h, w[att + "query/kernel"]) + w[att + "query/bias"][None, :, None]
        k = np.einsum("btd,dnh->bnth", h, w[att + "key/kernel"]) + w[att + "key/bias"][None, :, None]
        val = np.einsum("btd,dnh->bnth", h, w[att + "value/kernel"]) + w[att + "value/bias"][None, :, None]
        out, weights = attention.scaled_dot_product_attention(q, k, val)  # the book's reference
        maps.append(weights)
        z = z + np.einsum("bnth,nhd->btd", out, w[att + "attention_output/kernel"]) \
            + w[att + "attention_output/bias"]
        h = _layer_norm(z, w[f"block{b}_norm2/gamma"], w[f"block{b}_norm2/beta"])
        h = h @ w[f"block{b}_mlp1/kernel"] + w[f"block{b}_mlp1/bias"]
        h = 0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))  # exact GELU, Keras' default
        z = z + h @ w[f"block{b}_mlp2/kernel"] + w[f"block{b}_mlp2/bias"]
    cls_out = _layer_norm(z, w["final_norm/gamma"], w["final_norm/beta"])[:, 0]
    logits = cls_out @ w["classifier/kernel"] + w["classifier/bias"]
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True), maps


# --------------------------------------------------------------------------- shapes and maps

def test_output_shapes(vit, digits):
    x = digits[1].patches[:5]
    proba = vit.predict_proba(x)
    assert proba.shape == (5, N_CLASSES)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    maps = vit.attention_maps(x)
    assert isinstance(maps, list) and len(maps) == 2
    for m in maps:
        assert m.shape == (5, 2, 1 + N_PATCHES, 1 + N_PATCHES)
    raw = vit.attention(x.astype("float32"), training=False)
    assert len(raw) == 2 and tuple(raw[0].shape) == (5, 2, 17, 17)
    assert vit.predict(x).shape == (5,)
    assert (vit.n_patches, vit.patch_dim, vit.depth) == (N_PATCHES, PATCH_DIM, 2)


def test_depth_one_still_gives_a_list(digits):
    v = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, 3, dim=8, depth=1, heads=2, seed=0)
    maps = v.attention_maps(digits[1].patches[:3])
    assert len(maps) == 1 and maps[0].shape == (3, 2, 17, 17)


def test_attention_rows_are_distributions(perturbed_vit, digits):
    for m in perturbed_vit.attention_maps(digits[1].patches[:8]):
        assert m.min() >= 0.0
        np.testing.assert_allclose(m.sum(axis=-1), 1.0, atol=1e-5)


def test_maps_and_outputs_match_a_numpy_forward_pass(perturbed_vit, digits):
    x = digits[1].patches[:6]
    proba, maps = _numpy_forward(perturbed_vit, x)
    for got, want in zip(perturbed_vit.attention_maps(x), maps):
        np.testing.assert_allclose(got, want, atol=1e-4)
    np.testing.assert_allclose(perturbed_vit.predict_proba(x), proba, atol=1e-4)
    # the maps are not trivially uniform, so the comparison above can fail
    assert np.abs(maps[1] - 1.0 / 17).max() > 0.05


def test_attention_view_shares_the_trained_weights(digits):
    v = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=8, depth=1, heads=2, seed=0)
    x = digits[1].patches[:4]
    before = v.attention_maps(x)[0]
    layer = v.model.get_layer("block1_attention")
    layer.weights[0].assign(layer.weights[0].numpy() * 3.0)  # query kernel
    after = v.attention_maps(x)[0]
    assert np.abs(after - before).max() > 1e-3


# --------------------------------------------------------------------------- seeds and training

def test_same_seed_same_initial_weights_and_qkv_differ():
    a = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=8, depth=1, heads=2, seed=3)
    b = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=8, depth=1, heads=2, seed=3)
    c = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=8, depth=1, heads=2, seed=4)
    for wa, wb in zip(a.model.weights, b.model.weights):
        np.testing.assert_array_equal(wa.numpy(), wb.numpy())
    kernels = lambda m: [w.numpy() for w in m.model.weights if w.path.endswith("kernel")]  # noqa: E731
    assert any(not np.array_equal(ka, kc) for ka, kc in zip(kernels(a), kernels(c)))
    w = {p.path: p.numpy() for p in a.model.weights}
    q, k, v = (w[f"block1_attention/{n}/kernel"] for n in ("query", "key", "value"))
    assert not np.array_equal(q, k) and not np.array_equal(k, v)
    r = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=8, depth=1, heads=2,
                              position_init="random", seed=3)
    pos = r.model.get_layer("cls_and_position").position.numpy()
    assert 0 < np.abs(pos).max() < 0.1  # small random values, not zeros


def test_sincos_position_embedding():
    pe = vision.sincos_position_embedding(4, 8)
    assert pe.shape == (16, 8)
    # closed form for patch 6 = (row 1, column 2), frequencies 10 ** (-k / 2), k = 0, 1
    f = 10.0 ** (-np.arange(2) / 2)
    np.testing.assert_allclose(pe[6], np.concatenate([np.sin(f), np.cos(f), np.sin(2 * f), np.cos(2 * f)]))
    dist = lambda i, j: np.linalg.norm(pe[i] - pe[j])  # noqa: E731
    assert dist(5, 6) < dist(5, 7) < dist(5, 15)  # neighbours get closer codes than far patches
    v = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=8, depth=1, heads=2, seed=0)
    pos = v.model.get_layer("cls_and_position").position.numpy()[0]
    np.testing.assert_allclose(pos[1:], vision.sincos_position_embedding(4, 8), atol=1e-6)
    np.testing.assert_array_equal(pos[0], 0.0)  # [CLS] has no place in the image
    with pytest.raises(ValueError, match="divisible by 4"):
        vision.sincos_position_embedding(4, 10)
    with pytest.raises(ValueError, match="square number of patches"):
        vision.build_tiny_vit(15, PATCH_DIM, N_CLASSES, dim=8, heads=2)


def test_short_training_beats_chance(digits):
    train, test = digits
    v = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=16, depth=1, heads=2, seed=0)
    history = vision.train_tiny_vit(v, train.patches, train.labels, epochs=4, batch_size=16,
                                    learning_rate=5e-3, seed=0)
    assert len(history.history["loss"]) == 4
    assert history.history["loss"][-1] < 0.8 * history.history["loss"][0]
    accuracy = (v.predict(test.patches) == test.labels).mean()
    assert accuracy > 0.4, accuracy  # chance is 0.1; the full recipe of chapter 8 reaches about 0.97


def test_save_and_load_round_trip(tmp_path, digits):
    v = vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=8, depth=1, heads=2, seed=0)
    path = tmp_path / "vit.keras"
    v.model.save(path)
    loaded = keras.models.load_model(path)
    x = digits[1].patches[:3].astype("float32")
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(v.model(x)), atol=1e-6)


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("kwargs, match", [
    ({"dim": 30, "heads": 4}, "divisible by heads"),
    ({"depth": 0}, "depth"),
    ({"heads": 0}, "heads"),
    ({"dropout": 1.0}, "dropout"),
    ({"position_init": "learned"}, "position_init"),
    ({"dim": 30, "heads": 2}, "divisible by 4"),
])
def test_build_rejects_bad_sizes(kwargs, match):
    with pytest.raises(ValueError, match=match):
        vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, **kwargs)


def test_build_rejects_bad_types_and_classes():
    with pytest.raises(TypeError, match="dim must be an int"):
        vision.build_tiny_vit(N_PATCHES, PATCH_DIM, N_CLASSES, dim=32.0)
    with pytest.raises(ValueError, match="n_classes"):
        vision.build_tiny_vit(N_PATCHES, PATCH_DIM, 1)


def test_wrong_patch_shape_is_rejected(vit, digits):
    train = digits[0]
    with pytest.raises(ValueError, match=r"patches must have shape \(batch, 16, 4\)"):
        vit.predict_proba(np.zeros((2, 16, 5)))
    with pytest.raises(ValueError, match=r"patches must have shape \(batch, 16, 4\)"):
        vit.attention_maps(train.images[:2])  # images, not patches
    with pytest.raises(ValueError, match="finite"):
        vit.predict_proba(np.full((1, 16, 4), np.nan))


def test_train_rejects_bad_input(vit, digits):
    train = digits[0]
    with pytest.raises(TypeError, match="TinyViT"):
        vision.train_tiny_vit(vit.model, train.patches, train.labels)
    with pytest.raises(ValueError, match="labels must have"):
        vision.train_tiny_vit(vit, train.patches, train.labels[:-1])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        vision.train_tiny_vit(vit, train.patches, train.labels + 1)
    with pytest.raises(ValueError, match="shape"):
        vision.train_tiny_vit(vit, train.patches[:, :8], train.labels)
    with pytest.raises(ValueError, match="label_smoothing"):
        vision.train_tiny_vit(vit, train.patches, train.labels, label_smoothing=1.0)
    with pytest.raises(ValueError, match="learning_rate"):
        vision.train_tiny_vit(vit, train.patches, train.labels, learning_rate=0)
