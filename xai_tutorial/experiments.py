"""Experiments over seeds: run "train, explain, score" several times and summarise with intervals.

A finding about explanation methods ("integrated gradients finds the cue words better than
attention") is a finding about a *training procedure*, not about one trained model: another seed
gives another model, and the ranking can change. The helpers here make the repetition cheap and
the uncertainty visible.

* :func:`run_over_seeds` calls ``run(seed)`` (or ``run(seed, dataset)``) for every seed and
  collects what it returns, ``{method: {metric: per-example scores}}``, into a tidy table with one
  row per seed x method x metric (x data set).
* :func:`summarize` gives each method and metric a mean with a 95 % interval.
* :func:`compare` gives the paired difference of two methods on one metric, with its interval:
  a difference is *real* (at that level) when the interval excludes 0.
* :func:`plot_intervals` draws the estimates with their intervals.

Two kinds of interval are offered, and each function says which it uses:

``interval="t"`` (default)
    Student-t interval over the per-seed means (``n_seeds - 1`` degrees of freedom). Each seed's
    mean already averages its examples; the interval treats the seeds as the independent
    replications. It has the nominal coverage for few seeds (5 is enough) when the per-seed means
    are roughly normal, and it is what the book's tables use.
``interval="bootstrap"``
    Hierarchical percentile bootstrap: resample the seeds with replacement, then the examples
    within each drawn seed, and take the mean of the drawn seeds' means. It also captures the
    sampling of the evaluation examples. Resampling both levels counts the examples' noise twice
    (once through the spread of the seed means, once directly), so with many seeds it is somewhat
    conservative (about 98 % coverage for a nominal 95 % when the examples' noise is as large as
    the seeds'); with few seeds, like every percentile bootstrap, it is too narrow.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._validation import (as_float_array, check_axes, check_callable, check_choice, check_fraction, check_int,
                          check_str)

__all__ = ["run_over_seeds", "summarize", "compare", "t_interval", "bootstrap_interval",
           "plot_intervals", "INTERVALS"]

#: The interval methods of :func:`summarize` and :func:`compare`.
INTERVALS: tuple[str, ...] = ("t", "bootstrap")


# --------------------------------------------------------------------------- running

def _check_seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence | np.ndarray):
        raise TypeError(f"seeds must be a sequence of ints, got {type(seeds).__name__}")
    out = [check_int(s, f"seeds[{i}]", 0) for i, s in enumerate(seeds)]
    if not out:
        raise ValueError("seeds must hold at least one seed, got an empty sequence")
    if len(set(out)) != len(out):
        raise ValueError(f"seeds must be distinct, got {out}")
    return out


def _check_run_signature(run: Callable, with_dataset: bool) -> None:
    """TypeError unless ``run`` can be called as ``run(seed)`` (or ``run(seed, dataset)``)."""
    try:
        sig = inspect.signature(run)
    except (TypeError, ValueError):  # a builtin or C function without a signature: call it and see
        return
    args = (0, "dataset") if with_dataset else (0,)
    try:
        sig.bind(*args)
    except TypeError:
        call = "run(seed, dataset) (datasets was given)" if with_dataset else "run(seed)"
        raise TypeError(f"run must be callable as {call}, got a callable of signature {sig}") from None


def run_over_seeds(run: Callable[..., Mapping[str, Mapping[str, Any]]], seeds: Sequence[int], *,
                   datasets: Sequence[str] | None = None):
    """Run an experiment once per seed (and data set) and collect a tidy table.

    Parameters
    ----------
    run : callable
        ``run(seed)`` (or ``run(seed, dataset)`` when ``datasets`` is given) trains, explains and
        scores, and returns ``{method: {metric: scores}}``; ``scores`` is one number or an array
        of shape (n_examples,) of per-example scores (NaN marks an example the metric does not
        apply to; it is left out of the means).
    seeds : sequence of int
        Distinct non-negative seeds.
    datasets : sequence of str, optional
        Names passed to ``run`` as its second argument.

    Returns
    -------
    pandas.DataFrame
        One row per (dataset,) seed x method x metric, with columns ``dataset`` (if given),
        ``seed``, ``method``, ``metric``, ``value`` (the mean of the finite per-example scores),
        ``n`` (how many) and ``scores`` (the per-example array, for bootstrapping).

    Examples
    --------
    >>> import numpy as np
    >>> def run(seed):
    ...     rng = np.random.default_rng(seed)
    ...     return {"a": {"auc": rng.uniform(0.8, 1.0, 10)}, "b": {"auc": rng.uniform(0.4, 0.6, 10)}}
    >>> table = run_over_seeds(run, [0, 1, 2])
    >>> table.shape
    (6, 6)
    """
    import pandas as pd

    check_callable(run, "run")
    seeds = _check_seeds(seeds)
    if datasets is not None:
        if isinstance(datasets, (str, bytes)) or not isinstance(datasets, Sequence | np.ndarray) \
                or not all(isinstance(d, str) for d in datasets):
            raise TypeError(f"datasets must be a sequence of str, got {datasets!r}")
        if not len(datasets):
            raise ValueError("datasets must name at least one data set, got an empty sequence")
        if len(set(datasets)) != len(datasets):
            raise ValueError(f"datasets must be distinct, got {list(datasets)}")
    _check_run_signature(run, datasets is not None)
    rows = []
    for dataset in ([None] if datasets is None else list(datasets)):
        for seed in seeds:
            result = run(seed) if dataset is None else run(seed, dataset)
            if not isinstance(result, Mapping) or not result:
                raise TypeError(f"run must return a non-empty {{method: {{metric: scores}}}} mapping, got "
                                f"{type(result).__name__} for seed {seed}")
            for method, metrics in result.items():
                if not isinstance(metrics, Mapping) or not metrics:
                    raise TypeError(f"run must return {{metric: scores}} for method {method!r}, got "
                                    f"{type(metrics).__name__} for seed {seed}")
                for metric, scores in metrics.items():
                    s = as_float_array(np.atleast_1d(scores), f"run's scores of {method!r}, {metric!r}",
                                       ndim=1, allow_nan=True)
                    if np.isinf(s).any():
                        raise ValueError(f"run's scores of {method!r}, {metric!r} for seed {seed} are infinite")
                    finite = s[np.isfinite(s)]
                    row = {"seed": seed, "method": str(method), "metric": str(metric),
                           "value": float(finite.mean()) if finite.size else np.nan,
                           "n": int(finite.size), "scores": finite}
                    if dataset is not None:
                        row = {"dataset": dataset, **row}
                    rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- intervals

def t_interval(seed_means: Any, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval of per-seed values.

    Parameters
    ----------
    seed_means : array of shape (n_seeds,)
        One value per seed (NaN values are left out).
    level : float, default 0.95

    Returns
    -------
    (mean, low, high)
        ``low == high == mean`` when only one seed is finite.

    Examples
    --------
    >>> m, lo, hi = t_interval([1.0, 2.0, 3.0])
    >>> round(m, 6), round(hi - m, 4)
    (2.0, 2.4841)
    """
    from scipy import stats

    x = as_float_array(seed_means, "seed_means", ndim=1, allow_nan=True)
    if np.isinf(x).any():
        raise ValueError(f"seed_means must not be infinite (NaN marks a missing value), got "
                         f"{int(np.isinf(x).sum())} infinite value(s)")
    level = check_fraction(level, "level")
    x = x[np.isfinite(x)]
    if x.size == 0:
        raise ValueError("seed_means must hold at least one finite value")
    mean = float(x.mean())
    if x.size == 1:
        return mean, mean, mean
    half = float(stats.t.ppf(0.5 + level / 2, df=x.size - 1) * x.std(ddof=1) / np.sqrt(x.size))
    return mean, mean - half, mean + half


def bootstrap_interval(scores_per_seed: Sequence[Any], level: float = 0.95, *, n_boot: int = 2000,
                       seed: int = 0) -> tuple[float, float, float]:
    """Mean of per-seed means and its hierarchical percentile-bootstrap interval.

    Each bootstrap replicate draws ``n_seeds`` seeds with replacement and, within each drawn seed,
    its examples with replacement; its statistic is the mean of the drawn seeds' means.

    Parameters
    ----------
    scores_per_seed : sequence of arrays of shape (n_examples_s,)
        The per-example scores of each seed (NaN values are left out).
    level : float, default 0.95
    n_boot : int, default 2000
    seed : int, default 0
        Seed of the resampling.

    Returns
    -------
    (mean, low, high)
    """
    level = check_fraction(level, "level")
    n_boot = check_int(n_boot, "n_boot", 10)
    seed = check_int(seed, "seed", 0)
    if isinstance(scores_per_seed, (str, bytes, np.ndarray)) or not isinstance(scores_per_seed, Sequence):
        raise TypeError(f"scores_per_seed must be a list of 1-D arrays, got {type(scores_per_seed).__name__}")
    arrays = []
    for i, s in enumerate(scores_per_seed):
        a = as_float_array(s, f"scores_per_seed[{i}]", ndim=1, allow_nan=True)
        if np.isinf(a).any():
            raise ValueError(f"scores_per_seed[{i}] must not be infinite (NaN marks a missing score), got "
                             f"{int(np.isinf(a).sum())} infinite value(s)")
        a = a[np.isfinite(a)]
        if a.size == 0:
            raise ValueError(f"scores_per_seed[{i}] holds no finite score")
        arrays.append(a)
    if not arrays:
        raise ValueError("scores_per_seed must hold at least one seed's scores")
    rng = np.random.default_rng(seed)
    k = len(arrays)
    means = np.array([a.mean() for a in arrays])
    # draw the examples of every seed once per replicate (vectorised), then the seeds
    boot_means = np.empty((n_boot, k))
    for j, a in enumerate(arrays):
        idx = rng.integers(0, a.size, size=(n_boot, a.size))
        boot_means[:, j] = a[idx].mean(axis=1)
    pick = rng.integers(0, k, size=(n_boot, k))
    stat = np.take_along_axis(boot_means, pick, axis=1).mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(stat, [alpha, 1 - alpha])
    return float(means.mean()), float(low), float(high)


def _interval(group, interval: str, level: float, n_boot: int, seed: int) -> tuple[float, float, float]:
    if interval == "t":
        return t_interval(group["value"].to_numpy(dtype=float), level)
    return bootstrap_interval(list(group["scores"]), level, n_boot=n_boot, seed=seed)


def _check_table(table: Any, needed: tuple[str, ...], name: str = "table", source: str = "run_over_seeds") -> None:
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"{name} must be the DataFrame of {source}, got {type(table).__name__}")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ValueError(f"{name} must have the columns {list(needed)} of {source}; missing {missing}")
    if table.empty:
        raise ValueError(f"{name} has no rows")


def summarize(table: Any, *, interval: str = "t", level: float = 0.95, n_boot: int = 2000, seed: int = 0):
    """Mean and interval of every method and metric (and data set) over the seeds.

    Parameters
    ----------
    table : pandas.DataFrame
        The table of :func:`run_over_seeds`.
    interval : {"t", "bootstrap"}, default "t"
        Student-t over the per-seed means, or the hierarchical bootstrap over seeds and examples
        (see the module docstring).
    level : float, default 0.95
    n_boot : int, default 2000
        Bootstrap replicates (``interval="bootstrap"`` only).
    seed : int, default 0
        Seed of the bootstrap.

    Returns
    -------
    pandas.DataFrame
        One row per (dataset,) method x metric, in the order of first appearance, with columns
        ``mean``, ``low``, ``high`` and ``n_seeds``.
    """
    import pandas as pd

    _check_table(table, ("seed", "method", "metric", "value", "scores"))
    check_choice(interval, "interval", INTERVALS)
    level = check_fraction(level, "level")
    keys = (["dataset"] if "dataset" in table.columns else []) + ["method", "metric"]
    rows = []
    for key, group in table.groupby(keys, sort=False):
        group = group[np.isfinite(group["value"].to_numpy(dtype=float))]
        if group.empty:
            continue
        mean, low, high = _interval(group, interval, level, n_boot, seed)
        rows.append({**dict(zip(keys, key)), "mean": mean, "low": low, "high": high,
                     "n_seeds": int(group["seed"].nunique())})
    return pd.DataFrame(rows)


def compare(table: Any, metric: str, a: str, b: str, *, interval: str = "t", level: float = 0.95,
            n_boot: int = 2000, seed: int = 0, dataset: str | None = None) -> dict[str, Any]:
    """Paired difference ``a - b`` of two methods on one metric, over the seeds, with its interval.

    The pairs are the seeds (both methods explain the same model of a seed); with
    ``interval="bootstrap"`` the examples are paired too, so the two score arrays of a seed must
    have the same length.

    Returns
    -------
    dict
        ``difference``, ``low``, ``high``, ``n_seeds`` and ``real``: True when the interval
        excludes 0.
    """
    _check_table(table, ("seed", "method", "metric", "value", "scores"))
    check_str(metric, "metric")
    check_str(a, "a")
    check_str(b, "b")
    check_str(dataset, "dataset", optional=True)
    check_choice(interval, "interval", INTERVALS)
    sub = table[table["metric"] == metric]
    if dataset is not None:
        if "dataset" not in table.columns:
            raise ValueError("dataset was given but the table has no dataset column")
        sub = sub[sub["dataset"] == dataset]
    if sub.empty:
        raise ValueError(f"metric {metric!r} is not in the table (metrics: {sorted(table['metric'].unique())})")
    for name, m in (("a", a), ("b", b)):
        if m not in set(sub["method"]):
            raise ValueError(f"{name} must be a method of the table, got {m!r} (methods: "
                             f"{sorted(sub['method'].unique())})")
    if "dataset" in sub.columns and dataset is None and sub["dataset"].nunique() > 1:
        raise ValueError("the table holds several data sets: pass dataset")
    ta = sub[sub["method"] == a].set_index("seed")
    tb = sub[sub["method"] == b].set_index("seed")
    common = [s for s in ta.index if s in tb.index]
    if not common:
        raise ValueError(f"methods {a!r} and {b!r} share no seed")
    if interval == "t":
        diffs = ta.loc[common, "value"].to_numpy(float) - tb.loc[common, "value"].to_numpy(float)
        d, low, high = t_interval(diffs, level)
    else:
        pairs = []
        for s in common:
            sa, sb = ta.loc[s, "scores"], tb.loc[s, "scores"]
            if len(sa) != len(sb):
                raise ValueError(f"interval='bootstrap' pairs examples: seed {s} has {len(sa)} scores for "
                                 f"{a!r} and {len(sb)} for {b!r}")
            pairs.append(np.asarray(sa) - np.asarray(sb))
        d, low, high = bootstrap_interval(pairs, level, n_boot=n_boot, seed=seed)
    return {"difference": d, "low": low, "high": high, "n_seeds": len(common),
            "real": bool(low > 0 or high < 0)}


# --------------------------------------------------------------------------- plotting

def plot_intervals(summary: Any, metric: str, *, ax=None, title: str | None = None,
                   dataset: str | None = None, xlabel: str | None = None):
    """Horizontal plot of each method's mean with its interval for one metric.

    Parameters
    ----------
    summary : pandas.DataFrame
        The table of :func:`summarize`.
    metric : str
    ax : matplotlib Axes, optional
    title, xlabel : str, optional
    dataset : str, optional
        Which data set, when the summary holds several.

    Returns
    -------
    matplotlib Axes
    """
    import matplotlib.pyplot as plt

    _check_table(summary, ("method", "metric", "mean", "low", "high"), "summary", "summarize")
    check_str(metric, "metric")
    check_axes(ax)
    check_str(title, "title", optional=True)
    check_str(dataset, "dataset", optional=True)
    check_str(xlabel, "xlabel", optional=True)
    sub = summary[summary["metric"] == metric]
    if dataset is not None:
        if "dataset" not in summary.columns:
            raise ValueError("dataset was given but the summary has no dataset column")
        sub = sub[sub["dataset"] == dataset]
    if sub.empty:
        raise ValueError(f"metric {metric!r} is not in the summary (metrics: {sorted(summary['metric'].unique())})")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.45 * len(sub) + 1.2))
    y = np.arange(len(sub))[::-1]
    mean = sub["mean"].to_numpy(float)
    err = np.vstack([mean - sub["low"].to_numpy(float), sub["high"].to_numpy(float) - mean])
    ax.errorbar(mean, y, xerr=err, fmt="o", color="#1f4e79", ecolor="#6b8fb5", capsize=4)
    ax.set_yticks(y, list(sub["method"]))
    ax.set_xlabel(xlabel or f"{metric} (mean over seeds, 95 % interval)")
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    return ax
