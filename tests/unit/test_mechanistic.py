"""Tests of the probes, head ablation and activation patching (xai_tutorial.mechanistic).

References: the Keras model itself (the recomputed forward pass must equal it; ablating a head must
equal the model with that head's rows of the output projection zeroed, the gate of Michel et al.),
closed forms (patching every position restores the clean run exactly, patching none changes
nothing, ablating every head of a block leaves only its output bias), scikit-learn's own
LogisticRegression on standardised features, and hand-worked values.
"""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from scipy.special import erf

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import forward, transformer
from xai_tutorial import mechanistic as mech

VOCAB, SEQ_LEN = 12, 5


@pytest.fixture(scope="module")
def tr():
    """An untrained two-block model with random weights (every head does something)."""
    model = transformer.build_text_transformer(VOCAB, SEQ_LEN, dim=8, depth=2, heads=2, seed=3)
    for w in model.model.weights:  # make biases and layer-norm offsets non-zero as well
        if w.path.endswith(("bias", "beta")):
            w.assign(np.random.default_rng(len(w.path)).normal(0, 0.3, w.shape))
    return model


@pytest.fixture(scope="module")
def ids():
    rng = np.random.default_rng(0)
    x = rng.integers(2, VOCAB, size=(7, SEQ_LEN)).astype(np.int32)
    x[1, 3:] = 0
    x[4, 2:] = 0
    return x


def _corrupt(ids, seed=1):
    rng = np.random.default_rng(seed)
    out = ids.copy()
    real = ids != 0
    out[real] = rng.integers(2, VOCAB, size=int(real.sum()))
    return out


def _zeroed(tr, pairs):
    """The Keras model's logits with the output-projection rows of the given heads set to 0."""
    saved = []
    for layer, head in pairs:
        kernel = tr.attention_layers[layer].output_dense.kernel
        value = np.asarray(kernel).copy()
        saved.append((kernel, value.copy()))
        value[head] = 0
        kernel.assign(value)
    return saved


def test_trace_equals_the_keras_model(tr, ids):
    t = mech.trace(tr, ids)
    logits = forward.predict_fn(tr, output="logit")(ids)
    np.testing.assert_allclose(t.logits, logits, atol=1e-5)
    for a, b in zip(t.attention, tr.attention_maps(ids)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # the attention inputs of the model are the layer-normed residual stream of the trace
    for layer, h in enumerate(tr.layer_inputs(ids)):
        x = t.residual[layer]
        norm = tr.model.get_layer(f"block{layer + 1}_norm1")
        centred = x - x.mean(-1, keepdims=True)
        ln = centred / np.sqrt((centred ** 2).mean(-1, keepdims=True) + norm.epsilon) * np.asarray(norm.gamma) \
            + np.asarray(norm.beta)
        np.testing.assert_allclose(ln, h, atol=1e-5)
    assert len(t.residual) == tr.depth + 1 and len(t.heads) == tr.depth
    assert t.heads[0].shape == (len(ids), tr.heads, 1 + SEQ_LEN, tr.dim)


def test_heads_add_up_to_the_attention_output(tr, ids):
    t = mech.trace(tr, ids)
    mha = tr.attention_layers[0]
    h = tr.layer_inputs(ids)[0].astype("float32")
    mask = np.concatenate([np.ones((len(ids), 1), bool), ids != 0], axis=1)
    full = np.asarray(mha(h, h, attention_mask=np.repeat(mask[:, None], 1 + SEQ_LEN, axis=1)))
    np.testing.assert_allclose(t.heads[0].sum(axis=1) + np.asarray(mha.output_dense.bias), full, atol=1e-5)


def test_ablation_equals_zeroing_the_output_projection(tr, ids):
    logit_of = forward.predict_fn(tr, output="logit")
    for pairs in ([(0, 0)], [(1, 1)], [(0, 1), (1, 0)]):
        keep = np.ones((2, 2), bool)
        for layer, head in pairs:
            keep[layer, head] = False
        saved = _zeroed(tr, pairs)
        try:
            reference = logit_of(ids)
        finally:
            for kernel, value in reversed(saved):
                kernel.assign(value)
        np.testing.assert_allclose(mech.ablate_heads(tr, ids, keep), reference, atol=1e-5)


def test_ablating_nothing_and_everything(tr, ids):
    t = mech.trace(tr, ids)
    np.testing.assert_allclose(mech.ablate_heads(tr, ids, np.ones((2, 2), bool)), t.logits, atol=1e-6)
    # several masks at once give the same as one at a time
    masks = np.array([np.ones((2, 2), bool), [[False, True], [True, True]], [[True, True], [False, False]]])
    stacked = mech.ablate_heads(tr, ids, masks)
    assert stacked.shape == (3, len(ids), 2)
    for m, z in zip(masks, stacked):
        np.testing.assert_allclose(z, mech.ablate_heads(tr, ids, m), atol=1e-6)
    # every head of the last block ablated: the block's attention sublayer adds only its output bias,
    # so the result is x_1 + b_O followed by the block's MLP, recomputed here by hand
    keep = np.array([[True, True], [False, False]])
    x = t.residual[1] + np.asarray(tr.attention_layers[1].output_dense.bias)
    np.testing.assert_allclose(mech.ablate_heads(tr, ids, keep), _finish_last_block(tr, x), atol=1e-5)


def _ln(v, layer):
    c = v - v.mean(-1, keepdims=True)
    scale = np.asarray(layer.gamma) / np.sqrt((c ** 2).mean(-1, keepdims=True) + layer.epsilon)
    return c * scale + np.asarray(layer.beta)


def _finish_last_block(tr, x):
    """Logits from the residual stream after the attention sublayer of block 2, by hand in NumPy."""
    get = tr.model.get_layer
    u = _ln(x, get("block2_norm2")) @ np.asarray(get("block2_mlp1").kernel) + np.asarray(get("block2_mlp1").bias)
    gelu = 0.5 * u * (1 + erf(u / np.sqrt(2)))
    x = x + gelu @ np.asarray(get("block2_mlp2").kernel) + np.asarray(get("block2_mlp2").bias)
    return _ln(x, get("final_norm"))[:, 0] @ np.asarray(get("classifier").kernel) + np.asarray(get("classifier").bias)


def test_mean_ablation(tr, ids):
    keep = np.array([[True, False], [True, True]])
    # mean over a reference set made of one sentence repeated = that sentence's own head output:
    # mean-ablating then changes nothing on that sentence
    one = np.repeat(ids[:1], 3, axis=0)
    np.testing.assert_allclose(mech.ablate_heads(tr, ids[:1], keep, method="mean", reference_ids=one),
                               mech.trace(tr, ids[:1]).logits, atol=1e-5)
    zero = mech.ablate_heads(tr, ids, keep)
    mean = mech.ablate_heads(tr, ids, keep, method="mean")
    assert not np.allclose(zero, mean)
    with pytest.raises(ValueError, match="reference_ids"):
        mech.ablate_heads(tr, ids, keep, reference_ids=ids)


def test_patching_restores_exactly_and_nothing_changes_nothing(tr, ids):
    corrupted = _corrupt(ids)
    clean_logits = mech.trace(tr, ids).logits
    corrupt_logits = mech.trace(tr, corrupted).logits
    for layer in range(tr.depth + 1):
        np.testing.assert_allclose(mech.patch_residual(tr, ids, corrupted, layer), clean_logits, atol=1e-6)
        none = np.zeros(1 + SEQ_LEN, bool)
        np.testing.assert_allclose(mech.patch_residual(tr, ids, corrupted, layer, none), corrupt_logits, atol=1e-6)
    # after the last block only [CLS] is read: patching it there restores everything
    cls_only = np.eye(1 + SEQ_LEN, dtype=bool)[0]
    np.testing.assert_allclose(mech.patch_residual(tr, ids, corrupted, tr.depth, cls_only), clean_logits, atol=1e-6)
    # patching the inputs where clean and corrupted agree changes nothing
    same = np.concatenate([np.ones((len(ids), 1), bool), ids == corrupted], axis=1)
    np.testing.assert_allclose(mech.patch_residual(tr, ids, corrupted, 0, same), corrupt_logits, atol=1e-6)


def test_head_patching(tr, ids):
    corrupted = _corrupt(ids)
    clean_t, corrupt_t = mech.trace(tr, ids), mech.trace(tr, corrupted)
    b_o = np.asarray(tr.attention_layers[1].output_dense.bias)
    for head in range(2):
        # a head of the last block patched everywhere: the corrupted stream with that head's output swapped
        heads = corrupt_t.heads[1].copy()
        heads[:, head] = clean_t.heads[1][:, head]
        want = _finish_last_block(tr, corrupt_t.residual[1] + heads.sum(axis=1) + b_o)
        np.testing.assert_allclose(mech.patch_heads(tr, ids, corrupted, 1, head), want, atol=1e-5)
        none = mech.patch_heads(tr, ids, corrupted, 1, head, np.zeros(1 + SEQ_LEN, bool))
        np.testing.assert_allclose(none, corrupt_t.logits, atol=1e-6)
    # only [CLS]'s row of the last block reaches the classifier: patching the head there is enough
    cls_only = np.eye(1 + SEQ_LEN, dtype=bool)[0]
    np.testing.assert_allclose(mech.patch_heads(tr, ids, corrupted, 1, 0, cls_only),
                               mech.patch_heads(tr, ids, corrupted, 1, 0), atol=1e-6)


def test_patching_map(tr, ids):
    corrupted = _corrupt(ids)
    target = mech.trace(tr, ids).logits.argmax(axis=1)
    clean_d = mech.logit_difference(mech.trace(tr, ids).logits, target)
    corrupt_d = mech.logit_difference(mech.trace(tr, corrupted).logits, target)
    keep = np.abs(clean_d - corrupt_d) > 1e-3
    c, k, t = ids[keep], corrupted[keep], target[keep]
    m = mech.patching_map(tr, c, k, t)
    assert m.shape == (len(c), tr.depth + 1, 1 + SEQ_LEN)
    # padding is NaN, [CLS] at the inputs is the same in both runs: effect 0
    pad = np.concatenate([np.zeros((len(c), 1), bool), c == 0], axis=1)
    assert np.isnan(m.transpose(0, 2, 1)[pad]).all() and np.isfinite(m.transpose(0, 2, 1)[~pad]).all()
    np.testing.assert_allclose(m[:, 0, 0], 0, atol=1e-4)
    np.testing.assert_allclose(m[:, tr.depth, 0], 1, atol=1e-4)  # the last layer's [CLS] is all that is read
    np.testing.assert_allclose(m[:, tr.depth, 1:][~pad[:, 1:]], 0, atol=1e-4)
    # one entry against patch_residual directly
    pos = np.zeros(1 + SEQ_LEN, bool)
    pos[2] = True
    z = mech.patch_residual(tr, c, k, 1, pos)
    d_clean = mech.logit_difference(mech.trace(tr, c).logits, t)
    d_corrupt = mech.logit_difference(mech.trace(tr, k).logits, t)
    np.testing.assert_allclose(m[:, 1, 2], mech.normalised_effect(mech.logit_difference(z, t), d_corrupt, d_clean),
                               atol=1e-4)
    h = mech.head_patching_map(tr, c, k, t)
    assert h.shape == (len(c), tr.depth, tr.heads) and np.isfinite(h).all()
    z = mech.patch_heads(tr, c, k, 0, 1)
    np.testing.assert_allclose(h[:, 0, 1], mech.normalised_effect(mech.logit_difference(z, t), d_corrupt, d_clean),
                               atol=1e-4)


def test_logit_difference_and_normalised_effect():
    z = np.array([[1.0, 3.0, 0.0], [2.0, 0.5, 1.5]])
    np.testing.assert_allclose(mech.logit_difference(z, [1, 0]), [2.0, 0.5])
    np.testing.assert_allclose(mech.logit_difference(z[:, :2], 0), [-2.0, 1.5])
    np.testing.assert_allclose(mech.logit_difference(np.array([[0.7], [-0.2]]), [1, 0]), [0.7, 0.2])
    with pytest.raises(ValueError, match="target"):
        mech.logit_difference(z, 3)
    with pytest.raises(TypeError, match="target"):
        mech.logit_difference(z, None)
    np.testing.assert_allclose(mech.normalised_effect([-2.0, 4.0, 1.0, 7.0], -2.0, 4.0), [0, 1, 0.5, 1.5])
    np.testing.assert_allclose(mech.normalised_effect(np.zeros((2, 3)), np.array([[1.0], [-1.0]]),
                                                      np.array([[2.0], [1.0]])), [[-1] * 3, [0.5] * 3])
    with pytest.raises(ValueError, match="min_gap"):
        mech.normalised_effect(1.0, 2.0, 2.0)
    with pytest.raises(ValueError, match="broadcast"):
        mech.normalised_effect(np.zeros(3), np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="finite"):
        mech.normalised_effect(np.nan, 0.0, 1.0)


def test_probe_accuracy_matches_sklearn():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = (x[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    train = np.arange(200) < 140
    scaler = StandardScaler().fit(x[train])
    ref = LogisticRegression(C=0.5, max_iter=2000).fit(scaler.transform(x[train]), y[train])
    want = np.mean(ref.predict(scaler.transform(x[~train])) == y[~train])
    assert mech.probe_accuracy(x, y, train, C=0.5) == pytest.approx(want)
    assert 0.7 < want < 1.0
    # a feature without the information gives about chance
    assert mech.probe_accuracy(rng.normal(size=(200, 5)), y, train) < 0.7
    with pytest.raises(ValueError, match="train"):
        mech.probe_accuracy(x, y, np.ones(200, bool))
    with pytest.raises(ValueError, match="two classes"):
        mech.probe_accuracy(x, np.zeros(200, int), train)
    with pytest.raises(ValueError, match="labels"):
        mech.probe_accuracy(x, y[:10], train)
    with pytest.raises(TypeError, match="train"):
        mech.probe_accuracy(x, y, train.astype(int))


def test_control_task_labels():
    words = np.array([3, 8, 3, 5, 9, 8, 5, 5, 11, 3])
    y = mech.control_task_labels(words, seed=0)
    for w in np.unique(words):  # one label per type
        assert len(np.unique(y[words == w])) == 1
    per_type = {int(w): int(y[words == w][0]) for w in np.unique(words)}
    counts = np.bincount(list(per_type.values()), minlength=2)
    assert abs(counts[0] - counts[1]) <= 1  # the labels are dealt out evenly over the types
    assert np.array_equal(y, mech.control_task_labels(words, seed=0))
    assert any(not np.array_equal(y, mech.control_task_labels(words, seed=s)) for s in range(1, 6))
    three = mech.control_task_labels(np.arange(9), n_labels=3, seed=2)
    assert np.array_equal(np.bincount(three), [3, 3, 3])
    # a probe on one-hot word identity learns the control task perfectly: it memorises the types
    onehot = np.eye(12)[words]
    assert mech.probe_accuracy(np.tile(onehot, (5, 1)), np.tile(y, 5), np.arange(50) < 30, C=100.0) == 1.0
    with pytest.raises(ValueError, match="n_labels"):
        mech.control_task_labels(words, n_labels=1)
    with pytest.raises(TypeError, match="word_ids"):
        mech.control_task_labels(np.array([0.5, 1.0]))


def test_bad_inputs(tr, ids):
    with pytest.raises(TypeError, match="tr"):
        mech.trace("model", ids)
    with pytest.raises(ValueError, match="token_ids"):
        mech.trace(tr, ids[:, :3])
    with pytest.raises(TypeError, match="keep"):
        mech.ablate_heads(tr, ids, np.ones((2, 2)))
    with pytest.raises(ValueError, match="keep"):
        mech.ablate_heads(tr, ids, np.ones((3, 2), bool))
    with pytest.raises(ValueError, match="method"):
        mech.ablate_heads(tr, ids, np.ones((2, 2), bool), method="noise")
    corrupted = _corrupt(ids)
    with pytest.raises(ValueError, match="layer"):
        mech.patch_residual(tr, ids, corrupted, 3)
    with pytest.raises(ValueError, match="same shape"):
        mech.patch_residual(tr, ids, corrupted[:3], 1)
    shifted = corrupted.copy()
    shifted[0, -1] = 0
    with pytest.raises(ValueError, match="padding"):
        mech.patch_residual(tr, ids, shifted, 1)
    with pytest.raises(ValueError, match="positions"):
        mech.patch_residual(tr, ids, corrupted, 1, np.ones(SEQ_LEN, bool))
    with pytest.raises(TypeError, match="positions"):
        mech.patch_residual(tr, ids, corrupted, 1, np.ones(1 + SEQ_LEN))
    with pytest.raises(ValueError, match="head"):
        mech.patch_heads(tr, ids, corrupted, 0, 2)
    with pytest.raises(ValueError, match="layer"):
        mech.patch_heads(tr, ids, corrupted, 2, 0)
    with pytest.raises(TypeError, match="target"):
        mech.patching_map(tr, ids, corrupted, None)


def test_bad_inputs_found_by_the_sweep(tr, ids):
    """Bad calls the bad-input sweep found unclear: each raises an error that names the argument."""
    with pytest.raises(ValueError, match=r"clean_ids and corrupted_ids must give different logit differences"):
        mech.patching_map(tr, ids, ids, 1)
    with pytest.raises(ValueError, match=r"clean_ids and corrupted_ids .* row\(s\) \[0, 1, 2, 3, 4\]"):
        mech.head_patching_map(tr, ids, ids, 1)
    with pytest.raises(ValueError, match=r"target must be an int or have one entry per row of logits \(0\)"):
        mech.logit_difference(np.zeros((0, 2)), np.array([1, 0]))
    with pytest.raises(ValueError, match=r"logits must have at least one column"):
        mech.logit_difference(np.zeros((3, 0)), 1)
    with pytest.raises(TypeError, match="train must be a boolean array"):
        mech.probe_accuracy(np.zeros((4, 2)), np.array([0, 1, 0, 1]), None)
    # the checks leave valid calls as they were: one (sigmoid) output, and a target per row
    np.testing.assert_allclose(mech.logit_difference(np.array([[2.0], [-1.0]]), [1, 0]), [2.0, 1.0])
    z = np.array([[0.0, 3.0, 1.0], [2.0, 0.5, 1.5]])
    np.testing.assert_allclose(mech.logit_difference(z, [1, 2]), [2.0, -0.5])
