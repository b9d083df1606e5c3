"""How good is an explanation? Agreement with ground truth and between methods.

Scores are per-token (or per-feature) attributions of shape (n_examples, n_positions); a
``valid`` mask of the same shape marks real positions (padding is left out of every metric).
"""
from __future__ import annotations

import numpy as np

from ._validation import as_float_array, check_choice, check_int


def _check_pair(scores: np.ndarray, truth: np.ndarray, valid: np.ndarray | None,
                name: str = "truth") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = as_float_array(scores, "scores", ndim=2)
    t = np.asarray(truth)
    if t.shape != s.shape:
        raise ValueError(f"scores and {name} must have the same shape, got {s.shape} and {t.shape}")
    if valid is None:
        v = np.ones(s.shape, dtype=bool)
    else:
        v = np.asarray(valid)
        if v.dtype != bool or v.shape != s.shape:
            raise ValueError(f"valid must be a bool array of shape {s.shape}, got {v.dtype} {v.shape}")
    return s, t, v


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

    s, r, v = _check_pair(scores, rationale, valid, "rationale")
    if r.dtype != bool:
        raise TypeError(f"rationale must be a bool array, got dtype {r.dtype}")
    y = r[v]
    if y.all() or not y.any():
        raise ValueError("rationale must contain both rationale and non-rationale real tokens")
    x = np.abs(s[v]) if absolute else s[v]
    return float(roc_auc_score(y, x))


def precision_at_k(scores: np.ndarray, rationale: np.ndarray, valid: np.ndarray | None = None, *,
                   k: int | None = None, absolute: bool = True) -> float:
    """Mean over examples of the fraction of the top-k scored real tokens that are rationale tokens.

    ``k`` defaults to each example's own number of rationale tokens (then it is the R-precision).
    """
    s, r, v = _check_pair(scores, rationale, valid, "rationale")
    if r.dtype != bool:
        raise TypeError(f"rationale must be a bool array, got dtype {r.dtype}")
    if k is not None:
        k = check_int(k, "k", 1, s.shape[1])
    s = np.abs(s) if absolute else s
    s = np.where(v, s, -np.inf)
    out = []
    for i in range(s.shape[0]):
        ki = int(r[i].sum()) if k is None else k
        if ki == 0:
            continue
        top = np.argsort(-s[i], kind="stable")[:ki]
        out.append(r[i, top].mean())
    if not out:
        raise ValueError("no example has a rationale token")
    return float(np.mean(out))


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
    a_, b_, v = _check_pair(a, b, valid, "b")
    b_ = as_float_array(b_, "b", ndim=2)
    if absolute:
        a_, b_ = np.abs(a_), np.abs(b_)
    fn = kendalltau if method == "kendall" else spearmanr
    out = np.full(a_.shape[0], np.nan)
    for i in range(a_.shape[0]):
        x, y = a_[i, v[i]], b_[i, v[i]]
        if x.size >= 2 and np.ptp(x) > 0 and np.ptp(y) > 0:
            out[i] = fn(x, y)[0]
    return out
