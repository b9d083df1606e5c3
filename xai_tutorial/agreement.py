"""Agreement of an attribution with a ground-truth rationale, and between two attributions.

Scores are per-token (or per-feature) attributions of shape (n_examples, n_positions); a
``valid`` mask of the same shape marks real positions (padding is left out of every measure).

* Plausibility (agreement with a ground truth): :func:`rationale_auc` pools every token of every
  example into one ROC-AUC; it mixes the scales of different sentences and sits at 1.0 for
  several methods on easy data. The per-example measures can tell such methods apart:
  :func:`per_example_auc`, :func:`rationale_mass` (share of the attribution on the rationale) and
  :func:`per_example_precision_at_k`, each of shape (n,); :func:`precision_at_k` is the mean of
  the last.
* Agreement between two attributions: :func:`rank_correlation`, and the four measures of the
  disagreement problem (Krishna et al., 2022), each per example, shape (n,), computed on the
  ``k`` positions of largest magnitude: :func:`feature_agreement` (share of the top-k that both
  attributions have), :func:`rank_agreement` (same position at the same rank),
  :func:`sign_agreement` (shared top-k positions with the same sign) and
  :func:`signed_rank_agreement` (same rank and same sign).

Faithfulness to the model (deletion, insertion, comprehensiveness, sufficiency) is measured by
perturbing the input: see :mod:`xai_tutorial.perturbation`.
"""
from __future__ import annotations

import numpy as np

from ._validation import as_bool_mask, as_float_array, check_bool, check_choice, check_int, check_same_shape

__all__ = ["rationale_auc", "per_example_auc", "rationale_mass", "precision_at_k",
           "per_example_precision_at_k", "rank_correlation", "feature_agreement", "rank_agreement",
           "sign_agreement", "signed_rank_agreement"]


def _check_scores(scores: np.ndarray, rationale: np.ndarray, valid: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores (n, seq_len), the boolean rationale of the same shape, and the valid mask."""
    s = as_float_array(scores, "scores", ndim=2, nonempty=True)
    if rationale is None or isinstance(rationale, (str, bytes, dict)):
        raise TypeError(f"rationale must be a bool array of shape {s.shape}, got {type(rationale).__name__}")
    r = np.asarray(rationale)
    if r.dtype != bool:
        raise TypeError(f"rationale must be a bool array, got dtype {r.dtype}")
    check_same_shape(s, r, "scores", "rationale")
    return s, r, as_bool_mask(valid, "valid", s.shape)


def rationale_auc(scores: np.ndarray, rationale: np.ndarray, valid: np.ndarray | None = None, *,
                  absolute: bool = True) -> float:
    """ROC-AUC of attributions as a detector of the ground-truth rationale tokens.

    All real positions of all examples are pooled: 1.0 means every rationale token scores above
    every other token, 0.5 is chance.

    Parameters
    ----------
    scores : array of shape (n, seq_len)
    rationale : bool array of shape (n, seq_len)
    valid : bool array of shape (n, seq_len), optional
        Real tokens; default all.
    absolute : bool, default True
        Rank by ``|score|`` (a negative attribution is still important).
    """
    from sklearn.metrics import roc_auc_score

    s, r, v = _check_scores(scores, rationale, valid)
    absolute = check_bool(absolute, "absolute")
    y = r[v]
    if y.all() or not y.any():
        raise ValueError("rationale must contain both rationale and non-rationale real tokens")
    x = np.abs(s[v]) if absolute else s[v]
    return float(roc_auc_score(y, x))


def per_example_auc(scores: np.ndarray, rationale: np.ndarray, valid: np.ndarray | None = None, *,
                    absolute: bool = True) -> np.ndarray:
    """ROC-AUC of each example's attributions as a detector of its own rationale tokens, shape (n,).

    Within one example: the probability that a random rationale token scores above a random other
    real token (ties count one half), the Mann-Whitney form of the AUC. An example whose real
    tokens are all rationale or all non-rationale gets NaN.

    Parameters
    ----------
    scores : array of shape (n, seq_len)
    rationale : bool array of shape (n, seq_len)
    valid : bool array of shape (n, seq_len), optional
        Real tokens; default all.
    absolute : bool, default True
        Rank by ``|score|``.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> per_example_auc(np.array([[3.0, 1.0, 2.0]]), np.array([[True, False, False]]))
    array([1.])
    """
    from scipy.stats import rankdata

    s, r, v = _check_scores(scores, rationale, valid)
    absolute = check_bool(absolute, "absolute")
    x = np.abs(s) if absolute else s
    ranks = rankdata(np.where(v, x, np.nan), axis=1, nan_policy="omit")  # average ranks for ties
    pos = (r & v).sum(axis=1)
    neg = (~r & v).sum(axis=1)
    rank_sum = np.where(r & v, ranks, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - pos * (pos + 1) / 2) / (pos * neg)
    return np.where((pos > 0) & (neg > 0), auc, np.nan)


def rationale_mass(scores: np.ndarray, rationale: np.ndarray, valid: np.ndarray | None = None, *,
                   absolute: bool = True) -> np.ndarray:
    """Share of each example's attribution mass that lies on its rationale tokens, shape (n,).

    ``sum_{t in rationale} |s_t| / sum_{t real} |s_t|`` (with ``absolute=False``, negative scores
    are clipped to 0 first). 1 means all credit goes to the rationale; a uniform attribution gets
    the rationale's share of the tokens. An example with no mass at all gets NaN.

    Examples
    --------
    >>> import numpy as np
    >>> rationale_mass(np.array([[3.0, -1.0, 0.0]]), np.array([[True, False, False]]))
    array([0.75])
    """
    s, r, v = _check_scores(scores, rationale, valid)
    absolute = check_bool(absolute, "absolute")
    m = np.where(v, np.abs(s) if absolute else np.clip(s, 0, None), 0.0)
    total = m.sum(axis=1)
    on = np.where(r, m, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, on / total, np.nan)


def per_example_precision_at_k(scores: np.ndarray, rationale: np.ndarray, valid: np.ndarray | None = None,
                               *, k: int | None = None, absolute: bool = True) -> np.ndarray:
    """Fraction of each example's top-k scored real tokens that are rationale tokens, shape (n,).

    ``k`` defaults to each example's own number of rationale tokens (the R-precision). An example
    with fewer than ``k`` real tokens uses all of them (padding is never retrieved), and rationale
    flags on padding are ignored. With the default ``k``, an example without a rationale token
    gets NaN.
    """
    s, r, v = _check_scores(scores, rationale, valid)
    absolute = check_bool(absolute, "absolute")
    if k is not None:
        k = check_int(k, "k", 1, s.shape[1])
    r = r & v
    s = np.abs(s) if absolute else s
    order = np.argsort(np.where(v, -s, np.inf), axis=1, kind="stable")  # best real token first
    ki = r.sum(axis=1) if k is None else np.minimum(k, v.sum(axis=1))
    hits = np.take_along_axis(r, order, axis=1).cumsum(axis=1)
    got = np.take_along_axis(hits, np.maximum(ki - 1, 0)[:, None], axis=1)[:, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ki > 0, got / ki, np.nan)


def precision_at_k(scores: np.ndarray, rationale: np.ndarray, valid: np.ndarray | None = None, *,
                   k: int | None = None, absolute: bool = True) -> float:
    """Mean over examples of :func:`per_example_precision_at_k` (examples with NaN are skipped)."""
    p = per_example_precision_at_k(scores, rationale, valid, k=k, absolute=absolute)
    if not np.isfinite(p).any():
        raise ValueError("no example has a rationale token among its real tokens")
    return float(np.nanmean(p))


def rank_correlation(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None = None, *,
                     method: str = "kendall", absolute: bool = False) -> np.ndarray:
    """Rank correlation between two attributions of each example, shape (n,).

    Parameters
    ----------
    a, b : arrays of shape (n, seq_len)
    valid : bool array of shape (n, seq_len), optional
        Only real positions are ranked.
    method : {"kendall", "spearman"}, default "kendall"
        Kendall's tau-b or Spearman's rho.
    absolute : bool, default False
        Compare magnitudes ``|a|`` and ``|b|``.

    Returns
    -------
    ndarray of shape (n,)
        NaN for an example with fewer than 2 real positions or a constant attribution.
    """
    from scipy.stats import kendalltau, spearmanr

    check_choice(method, "method", ("kendall", "spearman"))
    a_ = as_float_array(a, "a", ndim=2, nonempty=True)
    b_ = as_float_array(b, "b", ndim=2)
    check_same_shape(a_, b_, "a", "b")
    v = as_bool_mask(valid, "valid", a_.shape)
    if check_bool(absolute, "absolute"):
        a_, b_ = np.abs(a_), np.abs(b_)
    fn = kendalltau if method == "kendall" else spearmanr
    out = np.full(a_.shape[0], np.nan)
    for i in range(a_.shape[0]):
        x, y = a_[i, v[i]], b_[i, v[i]]
        if x.size >= 2 and np.ptp(x) > 0 and np.ptp(y) > 0:
            out[i] = fn(x, y)[0]
    return out


# --------------------------------------------------------------------------- the disagreement problem

def _top_k_pairs(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None, k: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked inputs and, per example, the top-k positions of a and of b by magnitude, best first.

    Returns ``(a, b, top_a, top_b, enough)``: ``top_a`` and ``top_b`` of shape (n, k) (ties keep
    the lower position first; padding is never chosen) and ``enough``, True where an example has
    at least ``k`` real positions.
    """
    a_ = as_float_array(a, "a", ndim=2, nonempty=True)
    b_ = as_float_array(b, "b", ndim=2)
    check_same_shape(a_, b_, "a", "b")
    v = as_bool_mask(valid, "valid", a_.shape)
    k = check_int(k, "k", 1, a_.shape[1])
    order = lambda s: np.argsort(np.where(v, -np.abs(s), np.inf), axis=1, kind="stable")[:, :k]
    return a_, b_, order(a_), order(b_), v.sum(axis=1) >= k


def _per_example(hits: np.ndarray, enough: np.ndarray, k: int) -> np.ndarray:
    return np.where(enough, hits / k, np.nan)


def feature_agreement(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None = None, *, k: int) -> np.ndarray:
    """Feature agreement: the share of the top-k positions (by |score|) that two attributions share.

    ``|top_k(a) ∩ top_k(b)| / k`` for each example (Krishna et al., 2022). 1 when both pick the
    same k positions, in any order.

    Parameters
    ----------
    a, b : arrays of shape (n, seq_len)
        Two attributions of the same examples.
    valid : bool array of shape (n, seq_len), optional
        Real positions; padding is never among the top k. Default all.
    k : int
        How many top positions are compared, in [1, seq_len].

    Returns
    -------
    ndarray of shape (n,)
        NaN for an example with fewer than ``k`` real positions.

    Examples
    --------
    >>> import numpy as np
    >>> feature_agreement(np.array([[3.0, -2, 1, 0]]), np.array([[3.5, 0, 4, 1]]), k=2)
    array([0.5])
    """
    _, _, ta, tb, enough = _top_k_pairs(a, b, valid, k)
    hits = (ta[:, :, None] == tb[:, None, :]).any(axis=2).sum(axis=1)
    return _per_example(hits, enough, k)


def rank_agreement(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None = None, *, k: int) -> np.ndarray:
    """Rank agreement: the share of the k top ranks at which two attributions put the same position.

    ``|{r <= k : top_k(a)[r] = top_k(b)[r]}| / k`` (Krishna et al., 2022): a position counts only
    if it is among both top k *and* at the same rank. Ties in magnitude keep the lower position
    first. Parameters and result as in :func:`feature_agreement`.

    Examples
    --------
    >>> import numpy as np
    >>> rank_agreement(np.array([[3.0, -2, 1, 0]]), np.array([[4.0, 0, 3, 1]]), k=2)
    array([0.5])
    """
    _, _, ta, tb, enough = _top_k_pairs(a, b, valid, k)
    return _per_example((ta == tb).sum(axis=1), enough, k)


def sign_agreement(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None = None, *, k: int) -> np.ndarray:
    """Sign agreement: the share of the top k that both attributions share *with the same sign*.

    ``|{s in top_k(a) ∩ top_k(b) : sign(a_s) = sign(b_s)}| / k`` (Krishna et al., 2022). An
    unsigned attribution (attention, a gradient norm) has the sign + (or 0) everywhere.
    Parameters and result as in :func:`feature_agreement`.

    Examples
    --------
    >>> import numpy as np
    >>> sign_agreement(np.array([[3.0, -2, 1, 0]]), np.array([[-4.0, -3, 0, 1]]), k=2)
    array([0.5])
    """
    a_, b_, ta, tb, enough = _top_k_pairs(a, b, valid, k)
    shared = (ta[:, :, None] == tb[:, None, :]).any(axis=2)        # (n, k): a's r-th top is in b's top k
    same_sign = np.sign(np.take_along_axis(a_, ta, axis=1)) == np.sign(np.take_along_axis(b_, ta, axis=1))
    return _per_example((shared & same_sign).sum(axis=1), enough, k)


def signed_rank_agreement(a: np.ndarray, b: np.ndarray, valid: np.ndarray | None = None, *,
                          k: int) -> np.ndarray:
    """Signed rank agreement: same position at the same rank *and* with the same sign, share of k.

    ``|{r <= k : top_k(a)[r] = top_k(b)[r], sign equal}| / k`` (Krishna et al., 2022), the
    strictest of the four measures. Parameters and result as in :func:`feature_agreement`.

    Examples
    --------
    >>> import numpy as np
    >>> signed_rank_agreement(np.array([[3.0, -2, 1, 0]]), np.array([[4.0, 3, 0, 1]]), k=2)
    array([0.5])
    """
    a_, b_, ta, tb, enough = _top_k_pairs(a, b, valid, k)
    same_sign = np.sign(np.take_along_axis(a_, ta, axis=1)) == np.sign(np.take_along_axis(b_, ta, axis=1))
    return _per_example(((ta == tb) & same_sign).sum(axis=1), enough, k)
