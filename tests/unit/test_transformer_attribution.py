"""Tests of the transformer explanations (xai_tutorial.transformer_attribution).

References: hand-worked examples with the papers' formulas, closed forms and axioms (rows summing
to 1, max-flow = min-cut, flow of a two-layer graph in closed form, SciPy's max-flow on integer
graphs), a NumPy forward pass of the model with the attention maps as free variables (for the
gradients), and a NumPy recomputation of the transformed values from the layer's weights.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow
from scipy.special import erf

import xai_tutorial  # noqa: F401  (silences TensorFlow before it is imported)
from xai_tutorial import attention, transformer
from xai_tutorial import transformer_attribution as ta

VOCAB, SEQ_LEN = 12, 4

# --------------------------------------------------------------------------- the hand-worked example
# Two layers, three tokens, one head. With A + I and rows renormalised (0.5 (A + I), as the rows of A
# sum to 1):
#   Ã1 = [[.6, .3, .1], [0, .6, .4], [.2, .2, .6]]      Ã2[0] = 0.5 ([0, .8, .2] + [1, 0, 0]) = [.5, .4, .1]
# rollout row 0 = Ã2[0] Ã1 = .5 [.6 .3 .1] + .4 [0 .6 .4] + .1 [.2 .2 .6] = [.32, .41, .27]
# flow to j = sum_k min(Ã2[0, k], Ã1[k, j]):  j=0: .5 + 0 + .1 = .6;  j=1: .3 + .4 + .1 = .8;  j=2: .1 + .4 + .1 = .6
A1 = np.array([[0.2, 0.6, 0.2], [0.0, 0.2, 0.8], [0.4, 0.4, 0.2]])
A2 = np.array([[0.0, 0.8, 0.2], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
HAND_MAPS = [A1[None, None], A2[None, None]]  # (batch 1, heads 1, 3, 3)
HAND_ROLLOUT = np.array([0.32, 0.41, 0.27])
HAND_FLOW = np.array([0.6, 0.8, 0.6])


def _random_maps(rng, batch=3, heads=2, n=4, layers=2, sparse=False):
    out = []
    for _ in range(layers):
        a = rng.random((batch, heads, n, n)) ** 3
        if sparse:
            a = a * (rng.random(a.shape) < 0.5)
            a[..., 0] += 1e-3
        out.append(a / a.sum(-1, keepdims=True))
    return out


# --------------------------------------------------------------------------- max-flow

def test_max_flow_hand_example_and_doc():
    # s=0, t=3: paths 0-1-3 (1), 0-2-3 (1), 0-1-2-3 (1): value 3; the cut {0} -> {1, 2} has capacity 2 + 1
    c = np.zeros((4, 4))
    c[0, 1], c[0, 2], c[1, 2], c[1, 3], c[2, 3] = 2, 1, 1, 1, 2
    assert ta.max_flow_value(c, 0, 3) == pytest.approx(3.0)
    assert ta.max_flow_value(c, 3, 0) == 0.0  # no edge leaves the sink side
    # a flow that needs a reverse (residual) edge: the greedy path 0-1-2-3 must be undone in part
    d = np.zeros((4, 4))
    d[0, 1], d[0, 2], d[1, 2], d[1, 3], d[2, 3] = 1, 1, 1, 1, 1
    assert ta.max_flow_value(d, 0, 3) == pytest.approx(2.0)


def _min_cut(c, s, t):
    """Brute force: the smallest capacity of the edges from S to its complement, over all S with s, not t."""
    others = [v for v in range(len(c)) if v not in (s, t)]
    best = np.inf
    for k in range(len(others) + 1):
        for extra in itertools.combinations(others, k):
            side = np.zeros(len(c), bool)
            side[[s, *extra]] = True
            best = min(best, c[np.ix_(side, ~side)].sum())
    return best


def test_max_flow_equals_scipy_and_the_min_cut_on_random_graphs():
    rng = np.random.default_rng(0)
    for _ in range(25):
        m = int(rng.integers(3, 8))
        cap = rng.integers(0, 6, size=(m, m)) * (rng.random((m, m)) < 0.6)
        np.fill_diagonal(cap, 0)
        s, t = rng.choice(m, 2, replace=False)
        want = maximum_flow(csr_matrix(cap.astype(np.int32)), int(s), int(t)).flow_value
        got = ta.max_flow_value(cap, int(s), int(t))
        assert got == pytest.approx(want)
        assert got == pytest.approx(_min_cut(cap, s, t))
        # float capacities: max-flow = min-cut still
        fcap = cap * rng.random((m, m))
        assert ta.max_flow_value(fcap, int(s), int(t)) == pytest.approx(_min_cut(fcap, s, t), abs=1e-12)


def test_max_flow_rejects_bad_input():
    with pytest.raises(ValueError, match="capacity must be square"):
        ta.max_flow_value(np.ones((2, 3)), 0, 1)
    with pytest.raises(ValueError, match="capacity must be non-negative"):
        ta.max_flow_value(-np.ones((2, 2)), 0, 1)
    with pytest.raises(ValueError, match="source and sink must differ"):
        ta.max_flow_value(np.ones((2, 2)), 1, 1)
    with pytest.raises(ValueError, match="sink"):
        ta.max_flow_value(np.ones((2, 2)), 0, 2)
    with pytest.raises(TypeError, match="source"):
        ta.max_flow_value(np.ones((2, 2)), 0.0, 1)
    with pytest.raises(TypeError, match="capacity"):
        ta.max_flow_value("graph", 0, 1)
    # a negative tol counted exhausted edges as open, and the search never ended (found by the bad-input sweep)
    with pytest.raises(ValueError, match=r"tol must be in \[0, inf\)"):
        ta.max_flow_value(np.ones((2, 2)), 0, 1, tol=-1.0)
    with pytest.raises(TypeError, match="tol must be a number"):
        ta.max_flow_value(np.ones((2, 2)), 0, 1, tol="small")


# --------------------------------------------------------------------------- attention graph and flow

def test_attention_graph_structure():
    g = ta.attention_graph(HAND_MAPS)
    assert g.shape == (1, 9, 9)
    np.testing.assert_allclose(g[0, 3:6, 0:3], 0.5 * (A1 + np.eye(3)))
    np.testing.assert_allclose(g[0, 6:9, 3:6], 0.5 * (A2 + np.eye(3)))
    mask = np.zeros((9, 9), bool)
    mask[3:6, 0:3] = mask[6:9, 3:6] = True
    assert np.all(g[0][~mask] == 0)  # edges only go one layer down
    # heads averaged; residual_weight=0 keeps the attention itself
    maps = _random_maps(np.random.default_rng(1))
    g0 = ta.attention_graph(maps, residual_weight=0.0)
    np.testing.assert_allclose(g0[:, 4:8, 0:4], maps[0].mean(1))


def test_attention_flow_hand_example():
    np.testing.assert_allclose(ta.attention_flow_values(HAND_MAPS)[0], HAND_FLOW, atol=1e-12)
    np.testing.assert_allclose(ta.attention_flow_values(HAND_MAPS, normalize=True)[0], HAND_FLOW / 2.0, atol=1e-12)
    # rollout of the same graph, by the package's rollout
    np.testing.assert_allclose(attention.attention_rollout(HAND_MAPS)[0, 0], HAND_ROLLOUT, atol=1e-12)


def test_attention_flow_closed_forms_and_bounds():
    rng = np.random.default_rng(2)
    maps = _random_maps(rng, batch=4, heads=2, n=5, sparse=True)
    g = ta.attention_graph(maps)
    a1, a2 = g[:, 5:10, 0:5], g[:, 10:15, 5:10]
    # two layers: the paths output -> k -> j share no edge, so the flow is sum_k min(Ã2[0, k], Ã1[k, j])
    want = np.minimum(a2[:, 0, :, None], a1).sum(axis=1)
    np.testing.assert_allclose(ta.attention_flow_values(maps), want, atol=1e-12)
    # ... which is the max-flow of the graph, by the search (the function uses the closed form)
    search = np.array([[ta.max_flow_value(g[b], 10, j) for j in range(5)] for b in range(4)])
    np.testing.assert_allclose(search, want, atol=1e-12)
    # one layer: the capacity of the single edge
    np.testing.assert_allclose(ta.attention_flow_values(maps[:1], output=2), g[:, 7, 0:5], atol=1e-12)
    g1 = ta.attention_graph(maps[:1])
    np.testing.assert_allclose([[ta.max_flow_value(g1[b], 7, j) for j in range(5)] for b in range(4)],
                               g[:, 7, 0:5], atol=1e-12)
    # three layers: bounded by the two cuts around the output and the input node, at least every path's bottleneck
    n = 3
    three = _random_maps(rng, batch=3, heads=2, n=n, layers=3, sparse=True)
    f = ta.attention_flow_values(three, output=1)
    g3 = ta.attention_graph(three)
    src = 3 * n + 1
    for b in range(3):
        for j in range(n):
            cap = g3[b]
            assert f[b, j] <= cap[src].sum() + 1e-12  # all that leaves the output node
            assert f[b, j] <= cap[:, j].sum() + 1e-12  # all that enters the input node
            assert f[b, j] == pytest.approx(_min_cut(cap, src, j), abs=1e-12)
            best_path = max(min(cap[src, 2 * n + k], cap[2 * n + k, n + m], cap[n + m, j])
                            for k in range(n) for m in range(n))
            assert f[b, j] >= best_path - 1e-12
    assert np.all((f >= 0) & (f <= 1 + 1e-12))


def test_attention_flow_skipping_padding_changes_nothing():
    rng = np.random.default_rng(3)
    maps = _random_maps(rng, batch=2, heads=2, n=5)
    valid = np.array([[True, True, True, False, False], [True] * 5])
    for a in maps:  # padding keys get weight 0, as in the model
        a *= valid[:, None, None, :]
        a /= a.sum(-1, keepdims=True)
    full = ta.attention_flow_values(maps)
    pruned = ta.attention_flow_values(maps, valid=valid)
    np.testing.assert_allclose(pruned, full, atol=1e-12)
    assert np.all(pruned[0, 3:] == 0)


def test_attention_flow_rejects_bad_input():
    with pytest.raises(TypeError, match="attentions must be a list"):
        ta.attention_flow_values("maps")
    with pytest.raises(ValueError, match="at least one layer"):
        ta.attention_flow_values([])
    with pytest.raises(ValueError, match=r"same shape.*\(layer 1\)"):
        ta.attention_flow_values([np.ones((1, 1, 3, 3)) / 3, np.ones((1, 1, 2, 2)) / 2])
    with pytest.raises(ValueError, match="non-negative"):
        ta.attention_flow_values([-np.ones((1, 1, 2, 2))])
    with pytest.raises(ValueError, match="square"):
        ta.attention_flow_values([np.ones((1, 1, 2, 3))])
    with pytest.raises(ValueError, match="output"):
        ta.attention_flow_values(HAND_MAPS, output=3)
    with pytest.raises(ValueError, match="residual_weight"):
        ta.attention_flow_values(HAND_MAPS, residual_weight=1.5)
    with pytest.raises(TypeError, match="normalize"):
        ta.attention_flow_values(HAND_MAPS, normalize="yes")
    with pytest.raises(TypeError, match="valid"):
        ta.attention_flow_values(HAND_MAPS, valid=np.ones((1, 3)))
    with pytest.raises(ValueError, match="valid must have shape"):
        ta.attention_flow_values(HAND_MAPS, valid=np.ones((1, 4), bool))
    with pytest.raises(ValueError, match="valid must be True at the output"):
        ta.attention_flow_values(HAND_MAPS, valid=np.array([[False, True, True]]))
    with pytest.raises(ValueError, match="cannot be renormalised"):
        ta.attention_graph([np.zeros((1, 1, 2, 2))], residual_weight=0.0)


# --------------------------------------------------------------------------- Chefer et al.

def test_chefer_with_unit_gradients_is_rollout_times_two_per_layer():
    """∇A = 1 makes Ā = A, and R = (I + A_2)(I + A_1) = 2^L x rollout with 0.5 (A + I)."""
    ones = [np.ones_like(a) for a in HAND_MAPS]
    r = ta.chefer_relevance_matrix(HAND_MAPS, ones)
    np.testing.assert_allclose(r[0, 0], 4.0 * HAND_ROLLOUT, atol=1e-12)  # [1.28, 1.64, 1.08]
    maps = _random_maps(np.random.default_rng(4), layers=3)
    r = ta.chefer_relevance_matrix(maps, [np.full_like(a, 1.0) for a in maps])
    np.testing.assert_allclose(r, 8.0 * attention.attention_rollout(maps), atol=1e-12)


def test_chefer_clips_negative_evidence_per_head():
    # one layer, two heads, two tokens: head 0 has gradient +2, head 1 gradient -1 everywhere
    a = np.array([[[[0.5, 0.5], [0.2, 0.8]], [[0.9, 0.1], [0.3, 0.7]]]])
    g = np.stack([np.full((2, 2), 2.0), np.full((2, 2), -1.0)])[None]
    r = ta.chefer_relevance_matrix([a], [g])
    # R = I + mean_h (g ⊙ a)^+ = I + 0.5 * 2 * a[head 0] (head 1 is clipped to 0)
    np.testing.assert_allclose(r[0], np.eye(2) + a[0, 0], atol=1e-12)
    # all evidence negative: nothing is added to the identity
    np.testing.assert_allclose(ta.chefer_relevance_matrix([a], [-np.abs(g)])[0], np.eye(2))


def test_chefer_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match="one array per layer"):
        ta.chefer_relevance_matrix(HAND_MAPS, [np.ones((1, 1, 3, 3))])
    with pytest.raises(ValueError, match=r"gradients\[0\] must have the shape"):
        ta.chefer_relevance_matrix(HAND_MAPS, [np.ones((1, 2, 3, 3))] * 2)
    with pytest.raises(TypeError, match="gradients must be a list"):
        ta.chefer_relevance_matrix(HAND_MAPS, "grads")
    with pytest.raises(ValueError, match="finite"):
        ta.chefer_relevance_matrix(HAND_MAPS, [np.full((1, 1, 3, 3), np.nan)] * 2)


# --------------------------------------------------------------------------- Kobayashi et al.

def test_value_norm_matrix_hand_example():
    # one head, two tokens: f(x_0) = (3, 4) (norm 5), f(x_1) = (0, 1)
    a = np.array([[[[0.25, 0.75], [1.0, 0.0]]]])
    f = np.array([[[[3.0, 4.0], [0.0, 1.0]]]])
    np.testing.assert_allclose(ta.value_norm_matrix(a, f)[0], [[1.25, 0.75], [5.0, 0.0]])
    np.testing.assert_allclose(ta.value_norm_matrix(a, f, heads="each")[0, 0], [[1.25, 0.75], [5.0, 0.0]])
    # two heads whose vectors cancel: each head has norm α ||v||, their sum has norm 0
    a2 = np.concatenate([a, a], axis=1)
    f2 = np.concatenate([f, -f], axis=1)
    np.testing.assert_allclose(ta.value_norm_matrix(a2, f2), 0.0, atol=1e-12)
    np.testing.assert_allclose(ta.value_norm_matrix(a2, f2, heads="each")[0, 1], [[1.25, 0.75], [5.0, 0.0]])


def test_value_norm_matrix_rejects_bad_input():
    a = np.full((1, 1, 2, 2), 0.5)
    with pytest.raises(ValueError, match="transformed must have shape"):
        ta.value_norm_matrix(a, np.ones((1, 2, 2, 3)))
    with pytest.raises(ValueError, match="heads must be one of"):
        ta.value_norm_matrix(a, np.ones((1, 1, 2, 3)), heads="mean")
    with pytest.raises(ValueError, match="weights must be non-negative"):
        ta.value_norm_matrix(-a, np.ones((1, 1, 2, 3)))
    with pytest.raises(ValueError, match="weights must be 4-D"):
        ta.value_norm_matrix(a[0], np.ones((1, 1, 2, 3)))


# --------------------------------------------------------------------------- a tiny model and its NumPy twin

@pytest.fixture(scope="module")
def tiny():
    """A tiny softmax transformer whose every weight is random and non-trivial."""
    tr = transformer.build_text_transformer(VOCAB, SEQ_LEN, dim=8, depth=2, heads=2, mlp_dim=8, seed=2)
    rng = np.random.default_rng(5)
    for w in tr.model.weights:
        w.assign(rng.normal(0.0, 0.5, size=w.shape).astype("float32"))
    return tr


@pytest.fixture(scope="module")
def ids():
    return np.array([[3, 4, 5, 6], [7, 8, 0, 0], [11, 2, 9, 0]], dtype=np.int32)


def _layer_norm(x, gamma, beta, eps=1e-6):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * gamma + beta


def _weights(tr):
    return {p.path: np.asarray(p.numpy(), dtype=np.float64) for p in tr.model.weights}


def _numpy_logits(tr, ids, maps=None):
    """Logits of the transformer in float64; ``maps`` ({layer: weights}), if given, replace those layers' softmax."""
    w = _weights(tr)
    keys = np.concatenate([np.ones((len(ids), 1), bool), ids != 0], axis=1)[:, None, None, :]
    logits, own, _ = _numpy_encoder(w, w["embedding/embeddings"][ids], keys, tr.depth, maps)
    return logits, own


def _numpy_vit_logits(vit, patches, maps=None):
    """The same for the tiny ViT: token embeddings are the patch embedding ``p E + b``; no padding.

    Returns the logits, the attention maps and the inputs of the attention layers."""
    w = _weights(vit)
    z = patches.astype(np.float64) @ w["patch_embedding/kernel"] + w["patch_embedding/bias"]
    keys = np.ones((len(patches), 1, 1, 1 + patches.shape[1]), bool)
    return _numpy_encoder(w, z, keys, vit.depth, maps)


def _numpy_encoder(w, z, keys, depth, maps=None):
    """Pre-norm encoder from token embeddings ``z`` (n, t, dim): logits, attention maps, attention inputs."""
    z = np.concatenate([np.broadcast_to(w["cls_and_position/cls_token"], (len(z), 1, z.shape[-1])), z], 1)
    z = z + w["cls_and_position/position"]
    own, inputs = [], []
    for b in range(1, depth + 1):
        h = _layer_norm(z, w[f"block{b}_norm1/gamma"], w[f"block{b}_norm1/beta"])
        inputs.append(h)
        att = f"block{b}_attention/"
        q, k, v = (np.einsum("btd,dnh->bnth", h, w[att + f"{n}/kernel"]) + w[att + f"{n}/bias"][None, :, None]
                   for n in ("query", "key", "value"))
        s = np.where(keys, q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]), -np.inf)
        a = np.exp(s - s.max(-1, keepdims=True))
        a = a / a.sum(-1, keepdims=True)
        own.append(a)
        if maps is not None and b - 1 in maps:
            a = maps[b - 1]
        z = z + np.einsum("bnth,nhd->btd", a @ v, w[att + "attention_output/kernel"]) + w[att + "attention_output/bias"]
        h = _layer_norm(z, w[f"block{b}_norm2/gamma"], w[f"block{b}_norm2/beta"])
        h = h @ w[f"block{b}_mlp1/kernel"] + w[f"block{b}_mlp1/bias"]
        z = z + (0.5 * h * (1.0 + erf(h / np.sqrt(2.0)))) @ w[f"block{b}_mlp2/kernel"] + w[f"block{b}_mlp2/bias"]
    logits = _layer_norm(z, w["final_norm/gamma"], w["final_norm/beta"])[:, 0] @ w["classifier/kernel"] \
        + w["classifier/bias"]
    return logits, own, inputs


def _assert_gradients_match_finite_differences(grads, own, logits_with, target):
    """Each layer's gradient against central differences of ``logits_with({layer: maps})`` (the NumPy model)."""
    eps = 1e-5
    for layer in range(len(own)):
        fd = np.zeros_like(own[layer])
        for idx in np.ndindex(own[layer].shape[1:]):
            plus, minus = own[layer].copy(), own[layer].copy()
            plus[(slice(None), *idx)] += eps
            minus[(slice(None), *idx)] -= eps
            fd[(slice(None), *idx)] = (logits_with({layer: plus}) - logits_with({layer: minus}))[
                np.arange(len(target)), target] / (2 * eps)
        scale = np.abs(fd).max()
        assert scale > 0.1  # the gradients are not trivially 0
        np.testing.assert_allclose(grads[layer], fd, atol=1e-3 * scale)


def test_attention_gradients_equal_finite_differences(tiny, ids):
    """∂ logit_c / ∂ A_l[h, i, j], every entry, against central differences of the NumPy model.

    The derivative is the total one, as backpropagation (and Chefer et al.'s hooks) give it: a change
    of layer 1's weights also changes the attention of the layers above, which are recomputed.
    """
    target = np.array([1, 0, 1])
    maps, grads = ta.attention_gradients(tiny, ids, target)
    _, own = _numpy_logits(tiny, ids)
    for got, want in zip(maps, own):
        np.testing.assert_allclose(got, want, atol=1e-5)
    _assert_gradients_match_finite_differences(grads, own, lambda m: _numpy_logits(tiny, ids, m)[0], target)


def test_chefer_relevance_equals_numpy_reimplementation(tiny, ids):
    target = np.array([0, 1, 1])
    maps, grads = ta.attention_gradients(tiny, ids, target)
    r = np.eye(1 + SEQ_LEN)[None].repeat(3, 0)
    for a, g in zip(maps, grads):
        r = r + np.maximum(g * a, 0).mean(1) @ r
    want = np.where(ids == 0, 0.0, r[:, 0, 1:])
    got = ta.chefer_relevance(tiny, ids, target)
    np.testing.assert_allclose(got, want, atol=1e-10)
    assert got.shape == (3, SEQ_LEN) and np.all(got >= 0) and np.all(got[1, 2:] == 0)
    # the explanation depends on the class explained
    assert np.abs(ta.chefer_relevance(tiny, ids, 0) - ta.chefer_relevance(tiny, ids, 1)).max() > 1e-3


def test_transformed_values_equal_numpy_and_decompose_the_layer_output(tiny, ids):
    w = _weights(tiny)
    for layer in (0, 1):
        x = tiny.layer_inputs(ids)[layer]
        att = f"block{layer + 1}_attention/"
        v = np.einsum("btd,dnh->bnth", x, w[att + "value/kernel"]) + w[att + "value/bias"][None, :, None]
        want = np.einsum("bnth,nhd->bntd", v, w[att + "attention_output/kernel"])
        f = ta.transformed_values(tiny, ids, layer=layer)
        np.testing.assert_allclose(f, want, atol=1e-4)
        # exactness of the decomposition: y_i = sum_j sum_h α^h_ij f^h(x_j) + b_O
        a = tiny.attention_maps(ids)[layer]
        keys = np.concatenate([np.ones((3, 1), bool), ids != 0], axis=1)
        mask = np.repeat(keys[:, None, :], 1 + SEQ_LEN, axis=1)
        y = np.asarray(tiny.attention_layers[layer](x.astype("float32"), x.astype("float32"), attention_mask=mask))
        np.testing.assert_allclose(np.einsum("bhij,bhjd->bid", a, f) + w[att + "attention_output/bias"], y,
                                   atol=1e-4)


def test_value_norms_equal_numpy(tiny, ids):
    a = tiny.attention_maps(ids)[1]
    f = ta.transformed_values(tiny, ids, layer=1)
    summed = np.linalg.norm(np.einsum("bhj,bhjd->bjd", a[:, :, 0, :], f), axis=-1)
    np.testing.assert_allclose(ta.value_norms(tiny, ids), np.where(ids == 0, 0, summed[:, 1:]), atol=1e-10)
    each = a[:, :, 0, :] * np.linalg.norm(f, axis=-1)
    got = ta.value_norms(tiny, ids, head="each")
    assert got.shape == (3, 2, SEQ_LEN)
    np.testing.assert_allclose(got, np.where(ids[:, None] == 0, 0, each[..., 1:]), atol=1e-10)
    np.testing.assert_allclose(ta.value_norms(tiny, ids, head=1), got[:, 1], atol=1e-12)
    # layer 0 is another layer: another answer
    assert np.abs(ta.value_norms(tiny, ids, layer=0) - ta.value_norms(tiny, ids)).max() > 1e-3


def test_raw_attention_rollout_and_flow_of_the_model(tiny, ids):
    maps = tiny.attention_maps(ids)
    pad = ids == 0
    raw = ta.raw_attention(tiny, ids)
    np.testing.assert_allclose(raw, np.where(pad, 0, maps[1][:, :, 0, 1:].mean(1)), atol=1e-12)
    np.testing.assert_allclose(ta.raw_attention(tiny, ids, layer=0, head=1), np.where(pad, 0, maps[0][:, 1, 0, 1:]))
    assert ta.raw_attention(tiny, ids, head="each").shape == (3, 2, SEQ_LEN)
    assert np.all(raw.sum(1) <= 1 + 1e-9)
    # rollout from scratch: product of 0.5 (mean_h A + I), rows sum to 1
    prod = np.eye(1 + SEQ_LEN)
    for a in maps:
        prod = 0.5 * (a.mean(1) + np.eye(1 + SEQ_LEN)) @ prod
    roll = ta.rollout(tiny, ids)
    np.testing.assert_allclose(roll, np.where(pad, 0, prod[:, 0, 1:]), atol=1e-12)
    np.testing.assert_allclose(roll.sum(1) + prod[:, 0, 0], 1.0, atol=1e-12)
    # flow: closed form of two layers, and the pruned graphs give the full graphs' answer
    g = ta.attention_graph(maps)
    n = 1 + SEQ_LEN
    closed = np.minimum(g[:, 2 * n, n:2 * n][:, :, None], g[:, n:2 * n, 0:n]).sum(1)
    flow = ta.attention_flow(tiny, ids)
    np.testing.assert_allclose(flow, np.where(pad, 0, closed[:, 1:]), atol=1e-9)
    np.testing.assert_allclose(flow, ta.attention_flow_values(maps)[:, 1:] * ~pad, atol=1e-9)
    assert np.all((flow >= 0) & (flow <= 1 + 1e-12))
    norm = ta.attention_flow(tiny, ids, normalize=True)
    full = ta.attention_flow_values(maps, normalize=True)
    np.testing.assert_allclose(norm, full[:, 1:] * ~pad, atol=1e-9)


def test_sigmoid_model_explains_its_one_logit():
    tr = transformer.build_text_transformer(VOCAB, SEQ_LEN, n_classes=1, dim=4, heads=2, seed=0)
    x = np.array([[3, 4, 5, 0]])
    r = ta.chefer_relevance(tr, x)
    assert r.shape == (1, SEQ_LEN) and r[0, 3] == 0
    maps, grads = ta.attention_gradients(tr, x, 0)
    assert len(grads) == 2 and grads[0].shape == (1, 2, 5, 5)


def test_model_functions_reject_bad_input(tiny, ids):
    with pytest.raises(TypeError, match="model must be a TextTransformer .* or a TinyViT"):
        ta.rollout("model", ids)
    with pytest.raises(ValueError, match=r"inputs must have shape \(n, 4\)"):
        ta.raw_attention(tiny, ids[:, :3])
    with pytest.raises(TypeError, match="inputs"):
        ta.attention_flow(tiny, ids + 0.5)
    with pytest.raises(ValueError, match="layer"):
        ta.raw_attention(tiny, ids, layer=2)
    with pytest.raises(TypeError, match="layer"):
        ta.value_norms(tiny, ids, layer=1.0)
    with pytest.raises(ValueError, match="head"):
        ta.raw_attention(tiny, ids, head=2)
    with pytest.raises(ValueError, match="head must be one of"):
        ta.value_norms(tiny, ids, head="mean")  # value vectors are summed over heads, not averaged
    with pytest.raises(TypeError, match="head"):
        ta.raw_attention(tiny, ids, head=0.5)
    with pytest.raises(ValueError, match="residual_weight"):
        ta.rollout(tiny, ids, residual_weight=-0.1)
    with pytest.raises(ValueError, match="pass target"):
        ta.chefer_relevance(tiny, ids)
    with pytest.raises(ValueError, match="target must be in"):
        ta.chefer_relevance(tiny, ids, 2)
    with pytest.raises(ValueError, match="target"):
        ta.attention_gradients(tiny, ids, [0, 1])
    with pytest.raises(TypeError, match="target"):
        ta.attention_gradients(tiny, ids, "first")
    with pytest.raises(TypeError, match="batch_size"):
        ta.attention_gradients(tiny, ids, 0, batch_size=None)


# --------------------------------------------------------------------------- AttnLRP

def test_attn_lrp_forward_equals_the_model_and_conserves_the_logit(tiny, ids):
    from xai_tutorial import forward

    target = np.array([1, 0, 1])
    r = ta.attn_lrp(tiny, ids, target, parts=True)
    logits = forward.predict_fn(tiny, output="logit")(ids)[np.arange(3), target]
    np.testing.assert_allclose(r.logit, logits, atol=1e-5)  # the rules change the backward pass only
    assert r.tokens.shape == (3, SEQ_LEN) and r.positions.shape == (3, 1 + SEQ_LEN)
    assert np.all(r.tokens[ids == 0] == 0)
    # conservation: every share of the logit is accounted for, to rounding in float64
    np.testing.assert_allclose(r.conservation_gap(), 0.0, atol=1e-10)
    np.testing.assert_allclose(r.tokens.sum(1) + r.positions.sum(1) + r.cls + r.biases + r.softmax, r.logit,
                               atol=1e-10)
    assert np.abs(r.softmax).max() > 1e-3 and np.abs(r.biases).max() > 1e-3  # not trivially 0 here
    np.testing.assert_allclose(ta.attn_lrp(tiny, ids, target), r.tokens, atol=1e-12)
    # batches give the same answer
    np.testing.assert_allclose(ta.attn_lrp(tiny, ids, target, batch_size=2), r.tokens, atol=1e-12)


def test_attn_lrp_conservation_fails_with_the_plain_gradient_rules(tiny, ids, monkeypatch):
    """The check has power: the plain gradient through A V and Q K^T (no uniform rule) doubles relevance."""
    monkeypatch.setattr(ta, "_uniform", lambda x: x)
    assert np.abs(ta.attn_lrp(tiny, ids, 0, parts=True).conservation_gap()).max() > 1e-3


def test_attn_lrp_conservation_fails_with_the_plain_gradient_of_gelu(tiny, ids, monkeypatch):
    import tensorflow as tf

    monkeypatch.setattr(ta, "_lrp_gelu", lambda x: tf.nn.gelu(x, approximate=False))
    assert np.abs(ta.attn_lrp(tiny, ids, 0, parts=True).conservation_gap()).max() > 1e-3


def test_attn_lrp_rules_one_by_one():
    import tensorflow as tf

    from xai_tutorial import transformer as tmod

    rng = np.random.default_rng(6)
    x = tf.constant(rng.normal(size=(2, 5)))
    g = rng.normal(size=(2, 5))
    # softmax: the plain gradient x input is Proposition 3.1, R_in = x (R_out - s sum R_out) with R_out = s g
    with tf.GradientTape() as tape:
        tape.watch(x)
        s = tf.nn.softmax(x)
        y = tf.reduce_sum(s * g)
    r_in = x.numpy() * tape.gradient(y, x).numpy()
    r_out = s.numpy() * g
    np.testing.assert_allclose(r_in, x.numpy() * (r_out - s.numpy() * r_out.sum(-1, keepdims=True)), atol=1e-12)
    # uniform rule on a product: the two factors share the relevance, half and half, and conserve it
    a, b = tf.constant(rng.normal(size=5)), tf.constant(rng.normal(size=5))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        y = ta._uniform(a * b)
    ra, rb = (a * tape.gradient(y, a)).numpy(), (b * tape.gradient(y, b)).numpy()
    np.testing.assert_allclose(ra, 0.5 * (a * b).numpy(), atol=1e-12)
    np.testing.assert_allclose(ra + rb, y.numpy(), atol=1e-12)
    # layer norm with the std held constant: all relevance but β's reaches the input; GELU: identity rule
    tr = tmod.build_text_transformer(VOCAB, SEQ_LEN, dim=5, heads=1, seed=0)
    ln = tr.model.get_layer("block1_norm1")
    ln.beta.assign(rng.normal(size=5).astype("float32"))
    ln.gamma.assign(rng.normal(size=5).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ta._lrp_layer_norm(x, ln)
        out = tf.reduce_sum(y * g)
        u = ta._lrp_gelu(x)
        out_u = tf.reduce_sum(u * g)
    np.testing.assert_allclose(y.numpy(), np.asarray(ln(tf.cast(x, "float32"))), atol=1e-5)
    beta = ln.beta.numpy().astype(np.float64)
    np.testing.assert_allclose((x * tape.gradient(out, x)).numpy().sum(), ((y.numpy() - beta) * g).sum(), atol=1e-10)
    np.testing.assert_allclose(u.numpy(), 0.5 * x.numpy() * (1 + erf(x.numpy() / np.sqrt(2))), atol=1e-8)
    np.testing.assert_allclose((x * tape.gradient(out_u, x)).numpy(), u.numpy() * g, atol=1e-12)


def test_attn_lrp_sigmoid_model_and_bad_input(tiny, ids):
    tr = transformer.build_text_transformer(VOCAB, SEQ_LEN, n_classes=1, dim=4, heads=2, seed=0)
    r = ta.attn_lrp(tr, np.array([[3, 4, 0, 0]]), parts=True)
    np.testing.assert_allclose(r.conservation_gap(), 0.0, atol=1e-10)
    with pytest.raises(ValueError, match="pass target"):
        ta.attn_lrp(tiny, ids)
    with pytest.raises(TypeError, match="parts"):
        ta.attn_lrp(tiny, ids, 0, parts=1)
    with pytest.raises(TypeError, match="model must be a TextTransformer"):
        ta.attn_lrp(None, ids, 0)
    with pytest.raises(ValueError, match="batch_size"):
        ta.attn_lrp(tiny, ids, 0, batch_size=0)


# =========================================================================== the same methods on the tiny ViT

@pytest.fixture(scope="module")
def tiny_vit():
    """A tiny ViT (4 patches of 3 values, 3 classes) whose every weight is random and non-trivial."""
    from xai_tutorial import vision

    vit = vision.build_tiny_vit(4, 3, 3, dim=8, depth=2, heads=2, mlp_dim=8, position_init="random", seed=3)
    rng = np.random.default_rng(8)
    for w in vit.model.weights:
        w.assign(rng.normal(0.0, 0.5, size=w.shape).astype("float32"))
    return vit


@pytest.fixture(scope="module")
def patches():
    return np.random.default_rng(9).uniform(-1.0, 1.0, size=(3, 4, 3)).astype(np.float32)


def test_vit_attention_gradients_equal_finite_differences(tiny_vit, patches):
    target = np.array([2, 0, 1])
    maps, grads = ta.attention_gradients(tiny_vit, patches, target)
    _, own, _ = _numpy_vit_logits(tiny_vit, patches)
    for got, want in zip(maps, own):
        np.testing.assert_allclose(got, want, atol=1e-5)
    _assert_gradients_match_finite_differences(grads, own, lambda m: _numpy_vit_logits(tiny_vit, patches, m)[0],
                                               target)
    # Chefer et al.'s rules on those gradients
    r = np.eye(5)[None].repeat(3, 0)
    for a, g in zip(maps, grads):
        r = r + np.maximum(g * a, 0).mean(1) @ r
    np.testing.assert_allclose(ta.chefer_relevance(tiny_vit, patches, target), r[:, 0, 1:], atol=1e-10)


def test_vit_attention_methods_equal_the_numpy_functions(tiny_vit, patches):
    from xai_tutorial import attention

    maps = tiny_vit.attention_maps(patches)
    np.testing.assert_allclose(ta.raw_attention(tiny_vit, patches), maps[-1][:, :, 0, 1:].mean(1), atol=1e-12)
    np.testing.assert_allclose(ta.raw_attention(tiny_vit, patches, layer=0, head=1), maps[0][:, 1, 0, 1:], atol=1e-12)
    np.testing.assert_allclose(ta.rollout(tiny_vit, patches), attention.attention_rollout(maps)[:, 0, 1:], atol=1e-12)
    np.testing.assert_allclose(ta.attention_flow(tiny_vit, patches),
                               ta.attention_flow_values(maps, output=0)[:, 1:], atol=1e-12)


def test_vit_value_norms_equal_numpy(tiny_vit, patches):
    w = _weights(tiny_vit)
    _, own, inputs = _numpy_vit_logits(tiny_vit, patches)
    for layer in (0, 1):
        att = f"block{layer + 1}_attention/"
        v = np.einsum("btd,dnh->bnth", inputs[layer], w[att + "value/kernel"]) + w[att + "value/bias"][None, :, None]
        f = np.einsum("bnth,nhd->bntd", v, w[att + "attention_output/kernel"])       # (n, heads, 5, dim)
        np.testing.assert_allclose(ta.transformed_values(tiny_vit, patches, layer=layer), f, atol=1e-5)
        want = np.linalg.norm(np.einsum("bnj,bnjd->bjd", own[layer][:, :, 0, :], f), axis=-1)[:, 1:]
        np.testing.assert_allclose(ta.value_norms(tiny_vit, patches, layer=layer), want, atol=1e-4)


def test_vit_attn_lrp_conserves_the_logit_and_reaches_the_pixels(tiny_vit, patches):
    from xai_tutorial import forward

    target = np.array([2, 0, 1])
    r = ta.attn_lrp(tiny_vit, patches, target, parts=True)
    logits = forward.predict_fn(tiny_vit, output="logit")(patches)[np.arange(3), target]
    np.testing.assert_allclose(r.logit, logits, atol=1e-5)
    assert r.tokens.shape == (3, 4) and r.positions.shape == (3, 5)
    np.testing.assert_allclose(r.conservation_gap(), 0.0, atol=1e-10)
    assert np.abs(r.biases).max() > 1e-3 and np.abs(r.tokens).max() > 1e-3
    # an all-zero patch has no pixel relevance: its embedding is the bias alone
    blank = patches.copy()
    blank[:, 1] = 0.0
    r0 = ta.attn_lrp(tiny_vit, blank, target, parts=True)
    assert np.all(r0.tokens[:, 1] == 0) and np.abs(r0.conservation_gap()).max() < 1e-10
    np.testing.assert_allclose(ta.attn_lrp(tiny_vit, patches, target, batch_size=2), r.tokens, atol=1e-12)


def test_vit_methods_reject_bad_input(tiny_vit, patches):
    with pytest.raises(ValueError, match=r"inputs must have shape \(batch, 4, 3\)"):
        ta.rollout(tiny_vit, patches[:, :3])
    with pytest.raises(ValueError, match="pass target"):
        ta.chefer_relevance(tiny_vit, patches)
    with pytest.raises(ValueError, match="target must be in"):
        ta.attn_lrp(tiny_vit, patches, 3)
