"""Agreement of an attribution with a ground-truth rationale, and between two attributions.

Scores are per-token (or per-feature) attributions of shape (n_examples, n_positions); a
``valid`` mask of the same shape marks real positions (padding is left out of every measure).

* Plausibility (agreement with a ground truth): :func:`rationale_auc`, :func:`precision_at_k`.
* Agreement between two attributions: :func:`rank_correlation`.

Faithfulness to the model (deletion, insertion, comprehensiveness, sufficiency) is measured by
perturbing the input: see :mod:`xai_tutorial.perturbation`.
"""
from __future__ import annotations

import numpy as np

from ._validation import as_bool_mask, as_float_array, check_choice, check_int

__all__ = ["rationale_auc", "precision_at_k", "rank_correlation"]


def _check_pair(scores: np.ndarray, truth: np.ndarray, valid: np.ndarray | None,
                name: str = "truth", scores_name: str = "scores") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = as_float_array(scores, scores_name, ndim=2)
    if truth is None or isinstance(truth, (str, bytes)):
        raise TypeError(f"{name} must be an array, got {type(truth).__name__}")
    t = np.asarray(truth)
    if t.shape != s.shape:
        raise ValueError(f"{scores_name} and {name} must have the same shape, got {s.shape} and {t.shape}")
    v = as_bool_mask(valid, "valid", s.shape)
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
    An example with fewer than ``k`` real tokens uses all of them (padding is never counted as a
    retrieved token), and rationale flags on padding are ignored. With the default ``k``,
    examples without any rationale token are skipped.
    """
    s, r, v = _check_pair(scores, rationale, valid, "rationale")
    if r.dtype != bool:
        raise TypeError(f"rationale must be a bool array, got dtype {r.dtype}")
    if k is not None:
        k = check_int(k, "k", 1, s.shape[1])
    r = r & v
    s = np.abs(s) if absolute else s
    s = np.where(v, s, -np.inf)
    out = []
    for i in range(s.shape[0]):
        ki = int(r[i].sum()) if k is None else min(k, int(v[i].sum()))
        if ki == 0:
            continue
        top = np.argsort(-s[i], kind="stable")[:ki]
        out.append(r[i, top].mean())
    if not out:
        raise ValueError("no example has a rationale token among its real tokens")
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
    a_, b_, v = _check_pair(a, b, valid, "b", scores_name="a")
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
