"""Tests of xai_tutorial.experiments: the tidy table over seeds, the intervals' coverage on
synthetic data with a known mean, paired comparisons, and bad input."""
import matplotlib
import numpy as np
import pytest
from scipy import stats

from xai_tutorial import experiments

matplotlib.use("Agg")


def noisy_run(true_means, sigma_seed=0.05, sigma_example=0.2, n=30):
    """An experiment whose per-seed effect and per-example noise are normal around known means."""
    def run(seed):
        rng = np.random.default_rng(seed)
        return {m: {"score": mu + rng.normal(0, sigma_seed) + rng.normal(0, sigma_example, n),
                    "constant": 1.0}
                for m, mu in true_means.items()}
    return run


def test_table_has_one_row_per_seed_method_metric_and_is_reproducible():
    run = noisy_run({"a": 0.8, "b": 0.6})
    t1 = experiments.run_over_seeds(run, [0, 1, 2, 3, 4])
    t2 = experiments.run_over_seeds(run, [0, 1, 2, 3, 4])
    assert len(t1) == 5 * 2 * 2
    assert list(t1.columns) == ["seed", "method", "metric", "value", "n", "scores"]
    assert t1.drop(columns="scores").equals(t2.drop(columns="scores"))
    row = t1[(t1.seed == 3) & (t1.method == "b") & (t1.metric == "score")].iloc[0]
    assert row["value"] == pytest.approx(np.mean(run(3)["b"]["score"]))
    assert row["n"] == 30


def test_nan_scores_are_left_out_and_datasets_add_a_column():
    def run(seed, dataset):
        return {"m": {"auc": np.array([0.5, np.nan, 1.0]) + (dataset == "real")}}
    t = experiments.run_over_seeds(run, [0, 1], datasets=["planted", "real"])
    assert list(t["dataset"]) == ["planted", "planted", "real", "real"]
    np.testing.assert_allclose(t["value"], [0.75, 0.75, 1.75, 1.75])
    assert (t["n"] == 2).all()
    s = experiments.summarize(t)
    assert list(s["dataset"]) == ["planted", "real"]


def test_t_interval_equals_scipy():
    x = np.array([0.71, 0.74, 0.69, 0.80, 0.77])
    m, lo, hi = experiments.t_interval(x)
    ref = stats.t.interval(0.95, df=4, loc=x.mean(), scale=stats.sem(x))
    assert m == pytest.approx(x.mean())
    assert (lo, hi) == pytest.approx(ref)
    assert experiments.t_interval([0.3]) == (0.3, 0.3, 0.3)


# the t interval is exact for normal seed means; the two-level bootstrap is a little conservative
@pytest.mark.parametrize("interval, n_seeds, lo, hi", [("t", 5, 0.92, 0.98), ("bootstrap", 30, 0.92, 0.995)])
def test_intervals_cover_the_known_mean_at_about_the_nominal_rate(interval, n_seeds, lo, hi):
    true = 0.7
    rng = np.random.default_rng(0)
    covered = []
    for rep in range(300):
        seed_effects = rng.normal(0, 0.05, n_seeds)
        scores = [true + e + rng.normal(0, 0.2, 30) for e in seed_effects]
        if interval == "t":
            _, a, b = experiments.t_interval([s.mean() for s in scores])
        else:
            _, a, b = experiments.bootstrap_interval(scores, n_boot=400, seed=rep)
        covered.append(a <= true <= b)
    assert lo <= np.mean(covered) <= hi


def test_summarize_and_compare_find_the_real_difference_only():
    run = noisy_run({"good": 0.80, "same_a": 0.60, "same_b": 0.60})
    table = experiments.run_over_seeds(run, range(6))
    summary = experiments.summarize(table)
    score = summary[summary.metric == "score"].set_index("method")
    assert score.loc["good", "low"] > score.loc["same_a", "high"]  # intervals apart
    assert (score["n_seeds"] == 6).all()
    assert experiments.compare(table, "score", "good", "same_a")["real"]
    same = experiments.compare(table, "score", "same_a", "same_b")
    assert not same["real"] and same["low"] < 0 < same["high"]
    boot = experiments.compare(table, "score", "good", "same_a", interval="bootstrap", n_boot=300)
    assert boot["real"] and boot["difference"] == pytest.approx(0.2, abs=0.08)
    b = experiments.summarize(table, interval="bootstrap", n_boot=300)
    assert b.shape == summary.shape
    assert experiments.summarize(table, interval="bootstrap", n_boot=300).equals(b)  # seeded


def test_plot_intervals_draws_one_row_per_method():
    table = experiments.run_over_seeds(noisy_run({"a": 0.8, "b": 0.6}), range(3))
    ax = experiments.plot_intervals(experiments.summarize(table), "score", title="a beats b")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    assert ax.get_title() == "a beats b"


def test_bad_input():
    run = noisy_run({"a": 0.8})
    with pytest.raises(TypeError, match="run must be callable"):
        experiments.run_over_seeds(None, [0])
    with pytest.raises(TypeError, match="seeds must be a sequence of ints"):
        experiments.run_over_seeds(run, 5)
    with pytest.raises(ValueError, match="seeds must hold at least one seed"):
        experiments.run_over_seeds(run, [])
    with pytest.raises(ValueError, match="seeds must be distinct"):
        experiments.run_over_seeds(run, [1, 1])
    with pytest.raises(TypeError, match=r"seeds\[1\] must be an int"):
        experiments.run_over_seeds(run, [1, 2.5])
    with pytest.raises(TypeError, match="run must return a non-empty"):
        experiments.run_over_seeds(lambda s: [1, 2], [0])
    with pytest.raises(ValueError, match="are infinite"):
        experiments.run_over_seeds(lambda s: {"a": {"m": np.inf}}, [0])
    with pytest.raises(TypeError, match="datasets must be a sequence of str"):
        experiments.run_over_seeds(run, [0], datasets="planted")
    table = experiments.run_over_seeds(run, [0, 1])
    with pytest.raises(TypeError, match="table must be the DataFrame"):
        experiments.summarize({"a": 1})
    with pytest.raises(ValueError, match="interval must be one of"):
        experiments.summarize(table, interval="normal")
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        experiments.summarize(table, level=95)
    with pytest.raises(ValueError, match="b must be a method of the table"):
        experiments.compare(table, "score", "a", "z")
    with pytest.raises(ValueError, match="metric 'auc' is not in the table"):
        experiments.compare(table, "auc", "a", "a")
    with pytest.raises(TypeError, match="seed_means must be an array of numbers"):
        experiments.t_interval(None)
    with pytest.raises(ValueError, match="at least one finite value"):
        experiments.t_interval([np.nan])
    with pytest.raises(TypeError, match="scores_per_seed must be a list"):
        experiments.bootstrap_interval(np.ones(3))
    with pytest.raises(ValueError, match=r"scores_per_seed\[0\] holds no finite score"):
        experiments.bootstrap_interval([np.array([np.nan])])
    with pytest.raises(ValueError, match="n_boot must be in"):
        experiments.bootstrap_interval([np.ones(3)], n_boot=1)


def test_bad_input_names_the_argument():
    """The errors the bad-input sweep found unclear: each names the argument and has the right kind."""
    run = noisy_run({"a": 0.8, "b": 0.6})
    with pytest.raises(TypeError, match="datasets must be a sequence of str"):
        experiments.run_over_seeds(run, [0], datasets=3)
    with pytest.raises(TypeError, match="datasets must be a sequence of str"):
        experiments.run_over_seeds(run, [0], datasets={"x": 1})
    with pytest.raises(ValueError, match="datasets must be distinct"):
        experiments.run_over_seeds(lambda s, d: run(s), [0], datasets=["x", "x"])
    with pytest.raises(TypeError, match=r"run must be callable as run\(seed, dataset\)"):
        experiments.run_over_seeds(run, [0], datasets=["x"])
    with pytest.raises(TypeError, match=r"run must be callable as run\(seed\)"):
        experiments.run_over_seeds(lambda s, d: run(s), [0])
    with pytest.raises(TypeError, match="run's scores of 'a', 'm' must hold numbers"):
        experiments.run_over_seeds(lambda s: {"a": {"m": "high"}}, [0])
    with pytest.raises(ValueError, match="run's scores of 'a', 'm' must be 1-D"):
        experiments.run_over_seeds(lambda s: {"a": {"m": np.ones((2, 2))}}, [0])
    with pytest.raises(ValueError, match="seed_means must not be infinite"):
        experiments.t_interval([1.0, np.inf])
    with pytest.raises(ValueError, match=r"scores_per_seed\[1\] must not be infinite"):
        experiments.bootstrap_interval([np.ones(3), np.array([1.0, -np.inf])])
    table = experiments.run_over_seeds(run, [0, 1])
    for kwargs, name in (({"metric": 3}, "metric"), ({"a": None}, "a"), ({"b": ["b"]}, "b"),
                         ({"dataset": 1}, "dataset")):
        args = {"metric": "score", "a": "a", "b": "b", **kwargs}
        with pytest.raises(TypeError, match=f"{name} must be a str"):
            experiments.compare(table, args.pop("metric"), args.pop("a"), args.pop("b"), **args)
    summary = experiments.summarize(table)
    with pytest.raises(TypeError, match="summary must be the DataFrame of summarize"):
        experiments.plot_intervals(None, "score")
    with pytest.raises(ValueError, match="summary has no rows"):
        experiments.plot_intervals(summary.iloc[:0], "score")
    with pytest.raises(TypeError, match="metric must be a str"):
        experiments.plot_intervals(summary, ["score"])
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        experiments.plot_intervals(summary, "score", ax="left")
    with pytest.raises(TypeError, match="title must be a str"):
        experiments.plot_intervals(summary, "score", title=3)
    with pytest.raises(TypeError, match="xlabel must be a str"):
        experiments.plot_intervals(summary, "score", xlabel=3)
    with pytest.raises(ValueError, match="dataset was given but the summary has no dataset column"):
        experiments.plot_intervals(summary, "score", dataset="x")
