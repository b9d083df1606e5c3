"""Tests of xai_tutorial.shapley: axioms, closed forms and agreement with shap's Exact explainer."""
from __future__ import annotations

from math import comb

import numpy as np
import pytest

from xai_tutorial import shapley


def _random_game(n_players: int, seed: int) -> np.ndarray:
    values = np.random.default_rng(seed).normal(size=2**n_players)
    values[0] = 0.0
    return values


def _nonlinear_model(X: np.ndarray) -> np.ndarray:
    """A model with interactions, so that Shapley values are not a linear read-off."""
    w = np.array([1.0, -2.0, 0.5, 1.5, -0.7])
    return np.tanh(X @ w) + X[:, 0] * X[:, 1] - 0.3 * X[:, 2] * X[:, 3] * X[:, 4]


# ----------------------------------------------------------------------------- games

def test_coalition_masks_hold_the_bits():
    masks = shapley.coalition_masks(3)
    assert masks.shape == (8, 3) and masks.dtype == bool
    np.testing.assert_array_equal(masks[5], [True, False, True])   # 5 = 0b101: players 0 and 2
    assert not masks[0].any() and masks[-1].all()


@pytest.mark.parametrize("d", [1, 2, 5, 9])
def test_shapley_weights_sum_to_one_over_coalitions(d):
    w = shapley.shapley_weights(d)
    assert sum(comb(d - 1, s) * w[s] for s in range(d)) == pytest.approx(1.0)


def test_glove_game():
    v = lambda S: float(0 in S and (1 in S or 2 in S))  # noqa: E731
    np.testing.assert_allclose(shapley.shapley_values_of_game(v, 3), [2 / 3, 1 / 6, 1 / 6])


def test_three_player_table_by_orderings():
    table = {(): 0, (0,): 10, (1,): 20, (2,): 30, (0, 1): 40, (0, 2): 50, (1, 2): 60, (0, 1, 2): 90}
    v = lambda S: table[tuple(sorted(S))]  # noqa: E731
    # average marginal contribution over the 3! orderings, computed by hand
    from itertools import permutations
    phi = np.zeros(3)
    for order in permutations(range(3)):
        members: list[int] = []
        for p in order:
            phi[p] += v(set(members) | {p}) - v(set(members))
            members.append(p)
    np.testing.assert_allclose(shapley.shapley_values_of_game(v, 3), phi / 6)
    np.testing.assert_allclose(phi / 6, [20, 30, 40])


@pytest.mark.parametrize("d", [2, 4, 7])
def test_efficiency(d):
    values = _random_game(d, seed=d)
    phi = shapley.shapley_from_coalition_values(values)
    assert phi.sum() == pytest.approx(values[-1] - values[0])


def test_symmetry():
    # players 1 and 3 are interchangeable: v depends on them only through their count
    def v(S):
        return 3.0 * (0 in S) + 2.0 * ((1 in S) + (3 in S)) ** 2 + 0.5 * (2 in S) * (1 in S or 3 in S)
    phi = shapley.shapley_values_of_game(v, 4)
    assert phi[1] == pytest.approx(phi[3])
    assert phi[0] != pytest.approx(phi[1])


def test_dummy():
    base = _random_game(3, seed=1)
    # add a fourth player that changes no coalition's value
    values = np.concatenate([base, base])
    phi = shapley.shapley_from_coalition_values(values)
    assert phi[3] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(phi[:3], shapley.shapley_from_coalition_values(base))


def test_linearity_and_multi_output():
    a, b = _random_game(5, seed=2), _random_game(5, seed=3)
    phi_a = shapley.shapley_from_coalition_values(a)
    phi_b = shapley.shapley_from_coalition_values(b)
    np.testing.assert_allclose(shapley.shapley_from_coalition_values(2 * a - 3 * b), 2 * phi_a - 3 * phi_b)
    stacked = shapley.shapley_from_coalition_values(np.stack([a, b], axis=1))
    assert stacked.shape == (5, 2)
    np.testing.assert_allclose(stacked, np.stack([phi_a, phi_b], axis=1))


# ----------------------------------------------------------------------------- models

def test_linear_model_closed_form():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=6), 0.3
    background = rng.normal(size=(25, 6))
    X = rng.normal(size=(4, 6))
    res = shapley.exact_shapley_values(lambda Z: Z @ w + b, X, background)
    np.testing.assert_allclose(res.values, w * (X - background.mean(axis=0)), atol=1e-12)
    assert res.base_value == pytest.approx(background.mean(axis=0) @ w + b)


def test_efficiency_for_a_model_and_single_row_input():
    rng = np.random.default_rng(1)
    background = rng.normal(size=(12, 5))
    X = rng.normal(size=(3, 5))
    res = shapley.exact_shapley_values(_nonlinear_model, X, background)
    assert res.values.shape == (3, 5)
    np.testing.assert_allclose(res.values.sum(axis=1), _nonlinear_model(X) - res.base_value, atol=1e-12)
    assert res.base_value == pytest.approx(_nonlinear_model(background).mean())
    one = shapley.exact_shapley_values(_nonlinear_model, X[0], background)
    np.testing.assert_allclose(one.values, res.values[:1])


def test_small_batches_give_the_same_values():
    rng = np.random.default_rng(2)
    background, x = rng.normal(size=(7, 5)), rng.normal(size=5)
    full = shapley.interventional_coalition_values(_nonlinear_model, x, background)
    small = shapley.interventional_coalition_values(_nonlinear_model, x, background, max_rows_per_call=10)
    np.testing.assert_allclose(small, full, atol=1e-14)


def test_equals_shap_exact_explainer():
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(3)
    background = rng.normal(size=(15, 5))
    X = rng.normal(size=(3, 5))
    ref = shap.explainers.Exact(_nonlinear_model, shap.maskers.Independent(background, max_samples=15))(
        X, silent=True)
    res = shapley.exact_shapley_values(_nonlinear_model, X, background)
    np.testing.assert_allclose(res.values, ref.values, rtol=0, atol=1e-10)
    np.testing.assert_allclose(res.base_value, ref.base_values, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- errors

def test_errors_on_bad_input():
    rng = np.random.default_rng(4)
    background, X = rng.normal(size=(10, 5)), rng.normal(size=(2, 5))
    with pytest.raises(ValueError, match="same number of features"):
        shapley.exact_shapley_values(_nonlinear_model, X[:, :4], background)
    with pytest.raises(ValueError, match="background must be 2-D"):
        shapley.exact_shapley_values(_nonlinear_model, X, background[0])
    X_nan = X.copy()
    X_nan[1, 2] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        shapley.exact_shapley_values(_nonlinear_model, X_nan, background)
    with pytest.raises(ValueError, match="too costly"):
        shapley.exact_shapley_values(_nonlinear_model, X, background, max_features=4)
    with pytest.raises(ValueError, match="too costly"):
        shapley.exact_shapley_values(lambda Z: Z.sum(axis=1), np.zeros((1, 17)), np.zeros((2, 17)))
    with pytest.raises(ValueError, match="one number per row"):
        shapley.exact_shapley_values(lambda Z: np.stack([Z[:, 0], Z[:, 1]], axis=1), X, background)
    with pytest.raises(TypeError, match="predict_fn must be callable"):
        shapley.exact_shapley_values(None, X, background)
    with pytest.raises(ValueError, match="2\\*\\*n_players"):
        shapley.shapley_from_coalition_values(np.zeros(6))
    with pytest.raises(ValueError, match="n_players must be in"):
        shapley.shapley_values_of_game(lambda S: 0.0, 0)
    with pytest.raises(TypeError, match="value_fn must be callable"):
        shapley.shapley_values_of_game({}, 3)
    with pytest.raises(ValueError, match="one number per coalition"):
        shapley.shapley_values_of_game(lambda S: [1.0, 2.0], 2)
