"""Tests of the exercise checkers of chapter 12 (xai_tutorial.exercises.ch12): rollout, attention flow and
Chefer et al.'s relevance of a toy two-layer transformer, each worked by hand with the typical mistakes."""
import numpy as np
import pytest


def _aug(a, normalise=True):
    m = 0.5 * np.eye(3) + 0.5 * a
    return m / m.sum(axis=1, keepdims=True) if normalise else m


@pytest.fixture()
def ch12():
    from xai_tutorial.exercises import ch12

    return ch12


def _assert_no_expected(fb, expected):
    """A rejection never prints the expected values (0.5, the residual weight, appears in the formulas)."""
    for v in np.atleast_1d(expected):
        for text in {f"{v:.6g}", f"{v:.4f}", f"{v:.3f}"}:
            if text not in ("0", "1", "0.5", "0.5000", "0.500"):
                assert text not in fb.message, (text, fb.message)


def test_toy_maps_are_attention(ch12):
    for a in (ch12.TOY_A1, ch12.TOY_A2):
        np.testing.assert_allclose(a.sum(axis=1), 1.0)
        assert (a >= 0).all()
    assert [m.shape for m in ch12.toy_maps()] == [(1, 1, 3, 3)] * 2
    assert [g.shape for g in ch12.toy_gradients()] == [(1, 1, 3, 3)] * 2


def test_rollout_checker(ch12):
    a1, a2 = _aug(ch12.TOY_A1), _aug(ch12.TOY_A2)
    expected = (a2 @ a1)[0]
    # right, written differently: a list, through the unnormalised A + I divided by 4 per row pair
    right = ((ch12.TOY_A2 + np.eye(3)) / 2 @ ((ch12.TOY_A1 + np.eye(3)) / 2))[0].tolist()
    assert ch12.check_rollout_row(right)
    wrong_order = ch12.check_rollout_row((a1 @ a2)[0])
    assert not wrong_order and "wrong order" in wrong_order.message
    no_residual = ch12.check_rollout_row((ch12.TOY_A2 @ ch12.TOY_A1)[0])
    assert not no_residual and "residual" in no_residual.message
    not_normalised = ch12.check_rollout_row(((ch12.TOY_A2 + np.eye(3)) @ (ch12.TOY_A1 + np.eye(3)))[0])
    assert not not_normalised and "renormalised" in not_normalised.message
    last_only = ch12.check_rollout_row(a2[0])
    assert not last_only and "last layer alone" in last_only.message
    matrix = ch12.check_rollout_row(a2 @ a1)
    assert not matrix and "row 0" in matrix.message
    off = ch12.check_rollout_row(expected + np.array([0.0, 0.05, -0.05]))
    assert not off and "differ" in off.message
    for fb in (wrong_order, no_residual, not_normalised, last_only, off):
        _assert_no_expected(fb, expected)
    none = ch12.check_rollout_row(None)
    assert not none and str(none).startswith("Not yet")
    assert not ch12.check_rollout_row("0.5 0.3 0.2")


def test_flow_checker(ch12):
    a1, a2 = _aug(ch12.TOY_A1), _aug(ch12.TOY_A2)
    expected = np.array([sum(min(a2[0, k], a1[k, j]) for k in range(3)) for j in range(3)])
    assert ch12.check_flow_row(tuple(expected))  # right, as a tuple computed with plain loops
    as_rollout = ch12.check_flow_row((a2 @ a1)[0])
    assert not as_rollout and "min, not the product" in as_rollout.message
    as_max = ch12.check_flow_row(np.minimum(a2[0][:, None], a1).max(axis=0))
    assert not as_max and "sum over k" in as_max.message
    no_residual = ch12.check_flow_row(np.minimum(ch12.TOY_A2[0][:, None], ch12.TOY_A1).sum(axis=0))
    assert not no_residual and "residual" in no_residual.message
    swapped = ch12.check_flow_row(np.minimum(a2[:, 0][:, None], a1).sum(axis=0))
    assert not swapped and "wrong way round" in swapped.message
    two = ch12.check_flow_row(expected[1:])
    assert not two and "[CLS]" in two.message
    for fb in (as_rollout, as_max, no_residual, swapped):
        _assert_no_expected(fb, expected)
    assert not ch12.check_flow_row(None)


def _relevance(cams):
    r = np.eye(3)
    for c in cams:
        r = r + c @ r
    return r[0]


def test_chefer_checker(ch12):
    a, g = (ch12.TOY_A1, ch12.TOY_A2), (ch12.TOY_G1, ch12.TOY_G2)
    cams = [np.maximum(gi * ai, 0) for ai, gi in zip(a, g)]
    expected = _relevance(cams)
    # right, written differently: with np.where and in float32
    alt = np.eye(3, dtype=np.float32)
    for ai, gi in zip(a, g):
        alt = alt + np.where(gi * ai > 0, gi * ai, 0).astype(np.float32) @ alt
    assert ch12.check_chefer_row(alt[0])
    unclipped = ch12.check_chefer_row(_relevance([gi * ai for ai, gi in zip(a, g)]))
    assert not unclipped and "positive part" in unclipped.message
    absolute = ch12.check_chefer_row(_relevance([np.abs(gi * ai) for ai, gi in zip(a, g)]))
    assert not absolute and "absolute value" in absolute.message
    no_grad = ch12.check_chefer_row(_relevance(list(a)))
    assert not no_grad and "gradients are missing" in no_grad.message
    reversed_layers = ch12.check_chefer_row(_relevance(cams[::-1]))
    assert not reversed_layers and "wrong order" in reversed_layers.message
    no_identity = ch12.check_chefer_row(cams[0][0] + cams[1][0])
    assert not no_identity and "identity" in no_identity.message
    for fb in (unclipped, absolute, no_grad, reversed_layers, no_identity):
        _assert_no_expected(fb, expected)
    assert not ch12.check_chefer_row(None)
    assert not ch12.check_chefer_row(...)


def test_checkers_agree_with_the_package(ch12):
    from xai_tutorial import attention, transformer_attribution as ta

    rollout = attention.attention_rollout(ch12.toy_maps(), residual_weight=0.5)[0, 0]
    flow = ta.attention_flow_values(ch12.toy_maps(), output=0)[0]
    chefer = ta.chefer_relevance_matrix(ch12.toy_maps(), ch12.toy_gradients())[0, 0]
    assert ch12.check_rollout_row(rollout) and ch12.check_flow_row(flow) and ch12.check_chefer_row(chefer)
    assert (flow >= rollout - 1e-12).all()  # min(a, b) >= a b on [0, 1]
