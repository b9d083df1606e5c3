"""Tests of xai_tutorial.counterfactuals against closed forms (logistic regression: the decision
boundary and the orthogonal projection onto it), a lasso argument (MAD-L1 of a linear model moves
one feature), scikit-learn (LOF, nearest neighbours) and brute force (token substitution)."""
from itertools import combinations, product

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import LocalOutlierFactor

from xai_tutorial import counterfactuals as cf


@pytest.fixture(scope="module")
def linear_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5)) * np.array([1.0, 2.0, 0.5, 1.0, 3.0])
    y = (X @ np.array([1.0, -0.5, 2.0, 0.3, 0.2]) + 0.3 * rng.normal(size=300) > 0).astype(int)
    model = LogisticRegression(C=10.0).fit(X, y)
    return X, y, model


def logit(p):
    return np.log(p) - np.log1p(-p)


def test_mad_matches_numpy_and_falls_back():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(101, 3))
    X[:, 2] = 0.0
    X[:60, 1] = 5.0  # more than half the rows equal: MAD 0, std instead
    mad = cf.median_absolute_deviation(X)
    assert mad[0] == pytest.approx(np.median(np.abs(X[:, 0] - np.median(X[:, 0]))))
    assert mad[1] == pytest.approx(X[:, 1].std())
    assert mad[2] == 1.0


def test_counterfactual_flips_just_past_the_boundary(linear_problem):
    X, y, model = linear_problem
    for i in range(4):
        x = X[i]
        target = 1 - int(model.predict(x[None])[0])
        res = cf.wachter_counterfactual(model.predict_proba, x, X, target=target, desired=0.6)
        assert res.flipped and model.predict(res.x_cf[None])[0] == target
        assert 0.5 < res.probability <= 0.6 + 1e-6
        assert res.probability == pytest.approx(model.predict_proba(res.x_cf[None])[0, target])
        assert res.original_probability == pytest.approx(model.predict_proba(x[None])[0, target])
        np.testing.assert_array_equal(res.x, x)


def test_l2_counterfactual_is_the_projection_onto_the_hyperplane(linear_problem):
    X, y, model = linear_problem
    w, b = model.coef_[0], float(model.intercept_[0])
    for i in range(8):
        x = X[i]
        target = 1 - int(model.predict(x[None])[0])
        res = cf.wachter_counterfactual(model.predict_proba, x, X, target=target, distance="l2", desired=0.51)
        # x' - x is parallel to w: x' is the closest point to x with the model's new probability
        level = logit(model.predict_proba(res.x_cf[None])[0, 1])
        np.testing.assert_allclose(res.x_cf, cf.linear_counterfactual(w, b, x, level=level), atol=1e-4)
        # and close to the projection onto the decision boundary itself (desired 0.51 ~ the boundary)
        boundary = cf.linear_counterfactual(w, b, x)
        assert np.linalg.norm(res.x_cf - boundary) < 0.05 * np.linalg.norm(boundary - x) + 1e-3
        assert res.distance == pytest.approx(np.sum((res.x_cf - x) ** 2))
        assert res.n_changed == 5


def test_mad_l1_counterfactual_of_a_linear_model_moves_one_feature(linear_problem):
    X, y, model = linear_problem
    w = model.coef_[0]
    mad = cf.median_absolute_deviation(X)
    best = int(np.argmax(np.abs(w) * mad))  # the cheapest feature per unit of logit
    for i in range(4, 8):
        x = X[i]
        target = 1 - int(model.predict(x[None])[0])
        res = cf.wachter_counterfactual(model.predict_proba, x, X, target=target)
        assert res.flipped and res.n_changed == 1
        assert np.flatnonzero(np.abs(res.delta) > 1e-3).tolist() == [best]
        assert res.distance == pytest.approx(abs(res.delta[best]) / mad[best])
        l2 = cf.wachter_counterfactual(model.predict_proba, x, X, target=target, distance="l2")
        assert l2.n_changed > res.n_changed  # sparser than L2


def test_probability_scale_also_flips(linear_problem):
    X, _, model = linear_problem
    x = X[0]
    target = 1 - int(model.predict(x[None])[0])
    res = cf.wachter_counterfactual(model.predict_proba, x, X, target=target, scale="probability")
    assert res.flipped and 0.5 < res.probability <= 0.6 + 1e-6


def test_already_in_target_class_returns_x(linear_problem):
    X, _, model = linear_problem
    x = X[0]
    res = cf.wachter_counterfactual(model.predict_proba, x, X, target=int(model.predict(x[None])[0]))
    assert res.flipped and res.n_changed == 0 and res.distance == 0.0


def test_linear_counterfactual_closed_form():
    w, x = np.array([3.0, 4.0]), np.array([0.0, 0.0])
    z = cf.linear_counterfactual(w, -5.0, x)
    np.testing.assert_allclose(z, [0.6, 0.8])
    assert w @ z - 5.0 == pytest.approx(0.0)
    assert w @ cf.linear_counterfactual(w, -5.0, x, level=2.0) - 5.0 == pytest.approx(2.0)


def test_n_changed_counts_beyond_tolerance():
    assert cf.n_changed(np.zeros(4), np.array([0.0, 0.01, -0.5, 1e-4])) == 2
    assert cf.n_changed(np.zeros(4), np.array([0.0, 0.01, -0.5, 1e-4]), tol=0.1) == 1


def test_plausibility_against_sklearn():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(80, 3))
    y = (np.arange(80) % 2).astype(int)
    z = np.array([0.1, -0.2, 0.3])
    p = cf.plausibility(z, X, y, target=1, n_neighbors=10)
    Xc = X[y == 1]
    assert p["nearest distance"] == pytest.approx(np.min(np.linalg.norm(Xc - z, axis=1)))
    d = np.linalg.norm(Xc[:, None] - Xc[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    assert p["typical nearest distance"] == pytest.approx(np.median(d.min(axis=1)))
    lof = LocalOutlierFactor(n_neighbors=10, novelty=True).fit(Xc)
    assert p["lof"] == pytest.approx(-lof.score_samples(z[None])[0])
    assert p["share in range"] == 1.0
    far = cf.plausibility(np.array([10.0, 0.0, 0.0]), X, y, target=1, n_neighbors=10)
    assert far["share in range"] == pytest.approx(2 / 3) and far["lof"] > 3 > p["lof"]
    both = cf.plausibility(np.stack([z, np.array([10.0, 0.0, 0.0])]), X, y, target=1, n_neighbors=10)
    for key in ("nearest distance", "share in range", "lof"):
        np.testing.assert_allclose(both[key], [p[key], far[key]])


def test_tabular_errors(linear_problem):
    X, _, model = linear_problem
    f = model.predict_proba
    with pytest.raises(TypeError, match="predict must be callable"):
        cf.wachter_counterfactual("model", X[0], X, target=1)
    with pytest.raises(ValueError, match="X_reference must have 5 features"):
        cf.wachter_counterfactual(f, X[0], X[:, :3], target=1)
    with pytest.raises(ValueError, match=r"target must be in \[0, 1\]"):
        cf.wachter_counterfactual(f, X[0], X, target=2)
    with pytest.raises(ValueError, match="one probability per class"):
        cf.wachter_counterfactual(lambda Z: Z[:, 0], X[0], X, target=0)
    # scores that are no probabilities ran silently (found by the bad-input sweep)
    with pytest.raises(ValueError, match=r"predict must return class probabilities in \[0, 1\]"):
        cf.wachter_counterfactual(lambda Z: f(Z) + 1.0, X[0], X, target=1)
    with pytest.raises(ValueError, match="desired must be in"):
        cf.wachter_counterfactual(f, X[0], X, target=1, desired=1.0)
    with pytest.raises(ValueError, match="distance must be one of"):
        cf.wachter_counterfactual(f, X[0], X, target=1, distance="l1")
    with pytest.raises(ValueError, match="scale must be one of"):
        cf.wachter_counterfactual(f, X[0], X, target=1, scale="log")
    with pytest.raises(ValueError, match="x must be finite"):
        cf.wachter_counterfactual(f, np.full(5, np.nan), X, target=1)
    with pytest.raises(ValueError, match="lam_factor must be in"):
        cf.wachter_counterfactual(f, X[0], X, target=1, lam_factor=1.0)
    with pytest.raises(ValueError, match="w must not be all zero"):
        cf.linear_counterfactual(np.zeros(2), 0.0, np.zeros(2))
    with pytest.raises(ValueError, match="x must have shape"):
        cf.linear_counterfactual(np.ones(2), 0.0, np.zeros(3))
    with pytest.raises(ValueError, match="x and x_cf must have the same shape"):
        cf.n_changed(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="at least 3 rows"):
        cf.plausibility(np.zeros(5), X, np.zeros(300, dtype=int), target=1)
    with pytest.raises(ValueError, match="one label per row"):
        cf.plausibility(np.zeros(5), X, np.zeros(3, dtype=int), target=0)
    with pytest.raises(TypeError, match="y_reference must hold integers"):
        cf.plausibility(np.zeros(5), X, np.full(300, 0.5), target=0)


# --------------------------------------------------------------------------- token substitution

VOCAB_WEIGHTS = np.array([0.0, 0.0, 0.1, -0.2, 0.3, 1.5, -1.2, 0.8, -0.9, 0.05])  # id -> effect


def tiny_model(X):
    """A bag-of-words logistic model over 10 token ids with an interaction of ids 7 and 8."""
    X = np.asarray(X)
    z = VOCAB_WEIGHTS[X].sum(axis=1) - 0.4 + 2.5 * ((X == 7).any(axis=1) & (X == 8).any(axis=1))
    return 1 / (1 + np.exp(-z))


def brute_force(ids, candidates, r):
    """Every substitution of exactly r real tokens: (score past 0.5, positions, tokens, p) of the best flip."""
    p0 = tiny_model(ids[None])[0]
    sign = -1 if p0 > 0.5 else 1
    best = None
    for pos in combinations(np.flatnonzero(ids != 0).tolist(), r):
        for tok in product(candidates.tolist(), repeat=r):
            if any(ids[q] == t for q, t in zip(pos, tok)):
                continue
            new = ids.copy()
            new[list(pos)] = tok
            p = tiny_model(new[None])[0]
            score = sign * (p - 0.5)
            if score > 0 and (best is None or score > best[0] + 1e-12):
                best = (score, pos, tok, p)
    return best


def test_one_substitution_matches_brute_force():
    rng = np.random.default_rng(0)
    candidates = np.arange(2, 10)
    checked = 0
    for _ in range(40):
        ids = np.zeros(7, dtype=int)
        n = int(rng.integers(3, 7))
        ids[:n] = rng.integers(2, 10, size=n)
        want = brute_force(ids, candidates, 1)
        for search in ("greedy", "exact"):
            got = cf.token_substitution_counterfactual(tiny_model, ids, candidates, max_substitutions=1,
                                                       search=search)
            if want is None:
                assert not got.flipped
                continue
            assert got.flipped and got.positions == want[1] and got.new_tokens == want[2]
            assert got.probability == pytest.approx(want[3])
            assert got.probability == pytest.approx(tiny_model(got.token_ids[None])[0])
            assert got.old_tokens == tuple(int(ids[q]) for q in got.positions)
            assert np.all(got.token_ids[n:] == 0)  # padding untouched
            checked += 1
    assert checked > 20


def test_exact_pairs_match_brute_force_and_greedy_is_a_valid_flip():
    # "2 2 2 2" is negative; no single substitution flips it, the pair (7, 8) does
    ids = np.array([3, 3, 3, 3, 0])
    candidates = np.array([2, 7, 8])
    assert brute_force(ids, candidates, 1) is None
    want = brute_force(ids, candidates, 2)
    exact = cf.token_substitution_counterfactual(tiny_model, ids, candidates, search="exact")
    assert exact.flipped and exact.size == 2
    assert exact.positions == want[1] and exact.new_tokens == want[2]
    assert exact.probability == pytest.approx(want[3])
    greedy = cf.token_substitution_counterfactual(tiny_model, ids, candidates, search="greedy")
    assert greedy.size == 2 and greedy.flipped
    assert greedy.probability == pytest.approx(tiny_model(greedy.token_ids[None])[0])
    assert greedy.probability <= exact.probability + 1e-12  # exact finds the strongest pair


def test_no_flip_returns_the_best_attempt():
    ids = np.array([5, 5, 5, 5, 5, 0])  # very positive; one weak substitution cannot flip it
    res = cf.token_substitution_counterfactual(tiny_model, ids, np.array([6]), max_substitutions=1)
    assert not res.flipped and res.size == 1 and res.new_tokens == (6,)
    assert res.probability < res.original_probability


def test_token_substitution_errors():
    ids = np.array([2, 3, 0])
    with pytest.raises(TypeError, match="predict must be callable"):
        cf.token_substitution_counterfactual(None, ids, np.array([4]))
    with pytest.raises(TypeError, match="token_ids must hold integers"):
        cf.token_substitution_counterfactual(tiny_model, np.array([2.5, 3.0]), np.array([4]))
    with pytest.raises(ValueError, match="token_ids must be 1-D"):
        cf.token_substitution_counterfactual(tiny_model, ids[None], np.array([4]))
    with pytest.raises(ValueError, match="padding id"):
        cf.token_substitution_counterfactual(tiny_model, ids, np.array([0, 4]))
    with pytest.raises(ValueError, match="must not repeat"):
        cf.token_substitution_counterfactual(tiny_model, ids, np.array([4, 4]))
    with pytest.raises(ValueError, match="at least one real"):
        cf.token_substitution_counterfactual(tiny_model, np.zeros(3, dtype=int), np.array([4]))
    with pytest.raises(ValueError, match="search must be one of"):
        cf.token_substitution_counterfactual(tiny_model, ids, np.array([4]), search="beam")
    with pytest.raises(ValueError, match=r"max_substitutions must be in \[1, 3\]"):
        cf.token_substitution_counterfactual(tiny_model, ids, np.array([4]), max_substitutions=4)
    with pytest.raises(ValueError, match="more than max_evaluations"):
        cf.token_substitution_counterfactual(tiny_model, np.array([2, 3, 3, 3]), np.arange(2, 10),
                                             search="exact", max_substitutions=2, max_evaluations=10)
