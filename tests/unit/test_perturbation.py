"""Tests of xai_tutorial.perturbation: occlusion and the faithfulness curves and scores.

The faithfulness tests use a hand-made NumPy "model" whose logit is a sum of per-token weights,
so the perfect attribution is known (the weights themselves) and every value can be computed
by hand.
"""
import numpy as np
import pytest
from scipy.special import expit

from xai_tutorial import perturbation

# --------------------------------------------------------------------------- a known-answer model

from known_models import X
from known_models import (HAND_IDS, HAND_VALID, VOCAB_WEIGHTS, additive_model, linear_two_class, random_batch,
                          toward_prediction)


# --------------------------------------------------------------------------- deletion / insertion

def test_deletion_curve_by_hand():
    scores = VOCAB_WEIGHTS[HAND_IDS]  # order: 1 (2.0), 4 (1.0), 3 (0.5), 2 (-1.0)
    curve = perturbation.deletion_curve(additive_model, HAND_IDS, scores, HAND_VALID, steps=4)
    assert curve.shape == (1, 5)
    np.testing.assert_allclose(curve[0], expit([2.5, 0.5, -0.5, -1.0, 0.0]), atol=1e-12)


def test_insertion_curve_by_hand():
    scores = VOCAB_WEIGHTS[HAND_IDS]
    curve = perturbation.insertion_curve(additive_model, HAND_IDS, scores, HAND_VALID, steps=4)
    np.testing.assert_allclose(curve[0], expit([0.0, 2.0, 3.0, 3.5, 2.5]), atol=1e-12)


def test_curves_follow_the_predicted_class():
    ids = np.array([[8, 3, 0]])  # logit -1.5: predicted class 0
    scores = -VOCAB_WEIGHTS[ids]  # toward class 0: id 8 first
    curve = perturbation.deletion_curve(additive_model, ids, scores, ids != 0, steps=2)
    np.testing.assert_allclose(curve[0], 1 - expit([-1.5, 0.5, 0.0]), atol=1e-12)
    # an explicit target overrides the predicted class
    forced = perturbation.deletion_curve(additive_model, ids, scores, ids != 0, steps=2, target=1)
    np.testing.assert_allclose(forced[0], expit([-1.5, 0.5, 0.0]), atol=1e-12)


def test_curve_endpoints_and_padding_untouched():
    ids, valid = random_batch(50)
    scores = np.random.default_rng(1).normal(size=ids.shape)
    seen = []

    def spy(x):
        seen.append(np.array(x))
        return additive_model(x)

    d = perturbation.deletion_curve(spy, ids, scores, valid, steps=5)
    i = perturbation.insertion_curve(spy, ids, scores, valid, steps=5)
    assert len(seen) == 2  # one batched call per curve
    p = additive_model(ids)
    p_pred = np.where(p >= 0.5, p, 1 - p)
    np.testing.assert_allclose(d[:, 0], p_pred)
    np.testing.assert_allclose(i[:, -1], p_pred)
    empty = 0.5  # sigmoid(0): everything removed
    np.testing.assert_allclose(d[:, -1], empty)
    np.testing.assert_allclose(i[:, 0], empty)
    for batch in seen:  # padding positions never become real tokens
        copies = batch.reshape(-1, *ids.shape)
        assert np.all(copies[:, ~valid] == 0)


def test_deletion_removes_ceil_of_fraction():
    ids = np.array([[1, 3, 4, 7, 9, 0, 0]])  # 5 real tokens; 0.3 * 5 = 1.5 -> 2 tokens
    order = np.arange(7, 0, -1).astype(float)  # left to right
    seen = []

    def spy(x):
        seen.append(np.array(x))
        return additive_model(x)

    perturbation.deletion_curve(spy, ids, order[None], ids != 0, steps=10)
    removed = (seen[0].reshape(11, 7) == 0).sum(axis=1) - 2  # minus the 2 padding positions
    np.testing.assert_array_equal(removed, np.ceil(np.round(np.linspace(0, 1, 11) * 5, 9)))


def test_perfect_attribution_is_pointwise_optimal():
    """For an additive logit, removing the largest contributions first minimises every point."""
    ids, valid = random_batch(40, seed=2)
    perfect = toward_prediction(ids)
    best = perturbation.deletion_curve(additive_model, ids, perfect, valid, steps=8)
    best_ins = perturbation.insertion_curve(additive_model, ids, perfect, valid, steps=8)
    rng = np.random.default_rng(3)
    for _ in range(20):
        other = rng.normal(size=ids.shape)
        assert np.all(perturbation.deletion_curve(additive_model, ids, other, valid, steps=8) >= best - 1e-12)
        assert np.all(perturbation.insertion_curve(additive_model, ids, other, valid, steps=8) <= best_ins + 1e-12)


def test_perfect_reversed_random_ordering():
    ids, valid = random_batch(400, seed=4)
    perfect = toward_prediction(ids)
    rand = np.random.default_rng(5).uniform(size=ids.shape)
    results = {}
    for name, s in (("perfect", perfect), ("random", rand), ("reversed", -perfect)):
        results[name] = (
            perturbation.curve_auc(perturbation.deletion_curve(additive_model, ids, s, valid)).mean(),
            perturbation.curve_auc(perturbation.insertion_curve(additive_model, ids, s, valid)).mean(),
            perturbation.comprehensiveness(additive_model, ids, s, valid).mean(),
            perturbation.sufficiency(additive_model, ids, s, valid).mean(),
        )
    (dp, ip, cp, sp), (dr, ir, cr, sr), (dw, iw, cw, sw) = (results[k] for k in
                                                           ("perfect", "random", "reversed"))
    assert dp < dr - 0.05 and dr < dw - 0.05  # deletion: lower is better
    assert ip > ir + 0.05 and ir > iw + 0.05  # insertion: higher is better
    assert cp > cr + 0.05 and cr > cw + 0.05  # comprehensiveness: higher is better
    assert sp < sr - 0.05 and sr < sw - 0.05  # sufficiency: lower is better


def test_random_order_is_chance_on_a_linear_model():
    """With a linear score, a random order removes on average the fraction f of the logit:
    E[D(f)] = (1 - f) * s(x), so the expected deletion AUC is s(x) / 2."""
    rng = np.random.default_rng(6)
    ids = rng.integers(1, len(VOCAB_WEIGHTS), size=(4000, 10))
    s = VOCAB_WEIGHTS[ids].sum(axis=1)
    curve = perturbation.deletion_curve(linear_two_class, ids, rng.uniform(size=ids.shape), steps=10,
                                   target=1)
    auc = perturbation.curve_auc(curve)
    assert abs(auc.mean() - (s / 2).mean()) < 0.05 * np.abs(s).mean()
    np.testing.assert_allclose(curve.mean(0), np.linspace(1, 0, 11) * s.mean(),
                               atol=0.05 * np.abs(s).mean())


def test_multi_dimensional_positions_and_float_fill():
    """Positions may be vectors (patches); fill_value replaces the whole position."""
    x = np.arange(24, dtype=float).reshape(2, 3, 4)

    def f(z):
        return np.stack([np.zeros(len(z)), z.reshape(len(z), -1).sum(axis=1)], axis=1)

    scores = np.array([[3.0, 2.0, 1.0], [1.0, 3.0, 2.0]])
    curve = perturbation.deletion_curve(f, x, scores, steps=3, fill_value=-1.0, target=1)
    rows = x.sum(axis=2)  # (2, 3) position totals
    exp0 = [rows[0].sum(), rows[0, 1:].sum() - 4, rows[0, 2] - 8, -12]
    exp1 = [rows[1].sum(), rows[1, [0, 2]].sum() - 4, rows[1, 0] - 8, -12]
    np.testing.assert_allclose(curve, [exp0, exp1])


# --------------------------------------------------------------------------- curve_auc

def test_curve_auc_matches_trapezoid_rule():
    rng = np.random.default_rng(7)
    curves = rng.uniform(size=(5, 11))
    expected = np.trapezoid(curves, x=np.linspace(0, 1, 11), axis=1)
    np.testing.assert_allclose(perturbation.curve_auc(curves), expected)
    assert perturbation.curve_auc(np.full(7, 0.3)) == pytest.approx(0.3)
    assert perturbation.curve_auc(np.linspace(1, 0, 5)) == pytest.approx(0.5)
    assert isinstance(perturbation.curve_auc(np.ones(3)), float)


# --------------------------------------------------------------------------- ERASER

def test_comprehensiveness_and_sufficiency_by_hand():
    scores = VOCAB_WEIGHTS[HAND_IDS]
    comp = perturbation.comprehensiveness(additive_model, HAND_IDS, scores, HAND_VALID, fractions=[0.25, 0.5])
    suff = perturbation.sufficiency(additive_model, HAND_IDS, scores, HAND_VALID, fractions=[0.25, 0.5])
    p0 = expit(2.5)
    # remove id 1 -> logit 0.5; remove ids 1 and 4 -> -0.5
    assert comp[0] == pytest.approx(p0 - (expit(0.5) + expit(-0.5)) / 2)
    # keep id 1 -> logit 2; keep ids 1 and 4 -> 3
    assert suff[0] == pytest.approx(p0 - (expit(2.0) + expit(3.0)) / 2)


def test_eraser_default_fractions_round_up_to_one_token():
    """1% and 5% of 4 tokens are one token each (ceil), 10% and 20% too, 50% is two."""
    scores = VOCAB_WEIGHTS[HAND_IDS]
    comp = perturbation.comprehensiveness(additive_model, HAND_IDS, scores, HAND_VALID)
    p0 = expit(2.5)
    expected = np.mean([p0 - expit(0.5)] * 4 + [p0 - expit(-0.5)])
    assert comp[0] == pytest.approx(expected)
    assert perturbation.ERASER_FRACTIONS == (0.01, 0.05, 0.10, 0.20, 0.50)


def test_comprehensiveness_is_a_mean_of_deletion_points():
    ids = np.random.default_rng(8).integers(1, len(VOCAB_WEIGHTS), size=(60, 10))  # 10 real tokens
    valid = ids != 0
    s = np.random.default_rng(9).normal(size=ids.shape)
    curve = perturbation.deletion_curve(additive_model, ids, s, valid, steps=10)
    comp = perturbation.comprehensiveness(additive_model, ids, s, valid, fractions=[0.2, 0.5, 0.7])
    np.testing.assert_allclose(comp, (curve[:, [0]] - curve[:, [2, 5, 7]]).mean(axis=1), atol=1e-12)
    ins = perturbation.insertion_curve(additive_model, ids, s, valid, steps=10)
    suff = perturbation.sufficiency(additive_model, ids, s, valid, fractions=[0.3])
    np.testing.assert_allclose(suff, ins[:, -1] - ins[:, 3], atol=1e-12)


def test_one_token_comprehensiveness_equals_occlusion_of_the_top_token():
    """Cross-check with perturbation.occlusion: removing the single top token is occluding it."""
    from xai_tutorial import perturbation

    ids, valid = random_batch(50, seed=10)
    s = np.random.default_rng(11).normal(size=ids.shape)
    occ = perturbation.occlusion(additive_model, ids, valid=valid)  # drop in P(class 1)
    top = np.argmax(np.where(valid, s, -np.inf), axis=1)
    comp = perturbation.comprehensiveness(additive_model, ids, s, valid, fractions=[1e-6], target=1)
    np.testing.assert_allclose(comp, occ[np.arange(len(ids)), top], atol=1e-12)


def test_faithfulness_functions_make_one_call():
    calls = []

    def counting(x):
        calls.append(len(x))
        return additive_model(x)

    ids, valid = random_batch(20, seed=12)
    s = np.random.default_rng(13).normal(size=ids.shape)
    perturbation.comprehensiveness(counting, ids, s, valid)
    perturbation.sufficiency(counting, ids, s, valid)
    assert calls == [20 * 6, 20 * 6]


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("fn", [perturbation.deletion_curve, perturbation.insertion_curve,
                                perturbation.comprehensiveness, perturbation.sufficiency])
def test_faithfulness_errors(fn):
    s = VOCAB_WEIGHTS[HAND_IDS]
    with pytest.raises(TypeError, match="predict_fn must be callable"):
        fn("model", HAND_IDS, s, HAND_VALID)
    with pytest.raises(ValueError, match="scores must have shape"):
        fn(additive_model, HAND_IDS, s[:, :3], HAND_VALID)
    with pytest.raises(TypeError, match="valid must be a boolean array"):
        fn(additive_model, HAND_IDS, s, HAND_VALID.astype(int))
    with pytest.raises(ValueError, match="at least one real"):
        fn(additive_model, HAND_IDS, s, np.zeros_like(HAND_VALID))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, n_positions"):
        fn(additive_model, HAND_IDS[0], s[0], HAND_VALID[0])
    with pytest.raises(ValueError, match="scores must be finite"):
        fn(additive_model, HAND_IDS, np.full(s.shape, np.nan), HAND_VALID)
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        fn(lambda x: 3.0 * np.ones(len(x)), HAND_IDS, s, HAND_VALID)
    with pytest.raises(ValueError, match="predict_fn must return"):
        fn(lambda x: np.ones(1), HAND_IDS, s, HAND_VALID)
    with pytest.raises(ValueError, match="target must lie"):
        fn(additive_model, HAND_IDS, s, HAND_VALID, target=2)
    with pytest.raises(ValueError, match="target must be an int"):
        fn(additive_model, HAND_IDS, s, HAND_VALID, target=[0, 1])
    with pytest.raises(ValueError, match="fill_value"):
        fn(additive_model, HAND_IDS, s, HAND_VALID, fill_value=0.5)


def test_steps_and_fractions_errors():
    s = VOCAB_WEIGHTS[HAND_IDS]
    with pytest.raises(ValueError, match=r"steps must be in \[1, inf\]"):
        perturbation.deletion_curve(additive_model, HAND_IDS, s, HAND_VALID, steps=0)
    with pytest.raises(TypeError, match="steps must be an int"):
        perturbation.insertion_curve(additive_model, HAND_IDS, s, HAND_VALID, steps=2.5)
    for bad in ([], [0.0], [1.5], [-0.1, 0.5]):
        with pytest.raises(ValueError, match="fractions must be"):
            perturbation.comprehensiveness(additive_model, HAND_IDS, s, HAND_VALID, fractions=bad)
    with pytest.raises(ValueError, match="at least 2 points"):
        perturbation.curve_auc(np.ones(1))
    with pytest.raises(ValueError, match="curve must be 1-D or 2-D"):
        perturbation.curve_auc(np.ones((2, 2, 2)))


# --------------------------------------------------------------------------- rationale_auc

def test_binary_prediction_at_one_half_is_class_one():
    """Same convention as `p >= 0.5` in the chapters: at p = 0.5 the predicted class is 1."""
    ids = np.array([[4, 2]])  # weights 1 and -1: logit 0, p = 0.5
    curve = perturbation.deletion_curve(additive_model, ids, np.array([[1.0, -1.0]]), steps=2)
    np.testing.assert_allclose(curve[0], [0.5, expit(-1.0), 0.5])


# --------------------------------------------------------------------------- chapter 10 checkers
# (the exercise checkers of the chapter are thin layers over these metrics)

def test_bad_target_is_caught_before_the_model_is_called():
    calls = []

    def counting(x):
        calls.append(len(x))
        return additive_model(x)

    s = VOCAB_WEIGHTS[HAND_IDS]
    for bad in ([0, 1], 1.5, True, "1"):
        with pytest.raises((TypeError, ValueError), match="target must be an int"):
            perturbation.deletion_curve(counting, HAND_IDS, s, HAND_VALID, target=bad)
        with pytest.raises((TypeError, ValueError), match="target must be an int"):
            perturbation.sufficiency(counting, HAND_IDS, s, HAND_VALID, target=bad)
    assert calls == []
    np.testing.assert_allclose(
        perturbation.deletion_curve(additive_model, HAND_IDS, s, HAND_VALID, steps=4, target=np.array([0])),
        1 - perturbation.deletion_curve(additive_model, HAND_IDS, s, HAND_VALID, steps=4, target=1))


# --------------------------------------------------------------------------- occlusion

RNG = np.random.default_rng(3)
N_IN = X.shape[1]
T, D = 6, 3
X_SEQ = RNG.normal(size=(3, T, D))
MASK = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]], dtype="float32")


def test_occlusion_on_linear_model_is_weight_times_change():
    w = RNG.normal(size=N_IN)

    def predict(z):
        return z @ w + 0.5

    got = perturbation.occlusion(predict, X, fill_value=0.2)
    np.testing.assert_allclose(got, w * (X - 0.2), atol=1e-12)


def test_occlusion_of_vector_positions_and_valid_mask():
    w = RNG.normal(size=(T, D))

    def predict(z):
        return np.einsum("btd,td->b", z, w)[:, None]  # a (n, 1) output is squeezed

    valid = MASK.astype(bool)
    got = perturbation.occlusion(predict, X_SEQ, fill_value=-1.0, valid=valid)
    expected = np.einsum("btd,td->bt", X_SEQ + 1.0, w)
    np.testing.assert_allclose(got, np.where(valid, expected, 0.0), atol=1e-12)
    assert np.all(got[~valid] == 0) and np.all(got[valid] != 0)


def test_occlusion_of_token_ids_and_multi_output_target():
    table = RNG.normal(size=(10, 2))
    ids = np.array([[3, 5, 0], [9, 1, 2]])

    def predict(z):
        assert z.dtype.kind == "i"  # integer token ids keep their dtype
        return table[z].sum(axis=1)  # (n, 2)

    got = perturbation.occlusion(predict, ids, target=1)
    np.testing.assert_allclose(got, table[ids, 1] - table[0, 1])


def test_occlusion_errors():
    with pytest.raises(ValueError, match="2 outputs per input: pass target"):
        perturbation.occlusion(lambda z: np.zeros((len(z), 2)), X)
    with pytest.raises(TypeError, match=r"valid must be a boolean array"):
        perturbation.occlusion(lambda z: z.sum(1), X, valid=np.ones((4, 5), dtype=int))
    with pytest.raises(ValueError, match=r"valid must have shape \(4, 5\)"):
        perturbation.occlusion(lambda z: z.sum(1), X, valid=np.ones((4, 4), dtype=bool))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, n_positions"):
        perturbation.occlusion(lambda z: z.sum(1), X[0])


def test_occlusion_rejects_fractional_fill_for_token_ids():
    ids = np.array([[3, 4, 0]])
    with pytest.raises(ValueError, match="fill_value 0.5 cannot be stored"):
        perturbation.occlusion(lambda z: z.sum(axis=1).astype(float), ids, fill_value=0.5)

