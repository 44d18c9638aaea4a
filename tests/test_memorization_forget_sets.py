"""Memorization-controlled forget sets (``experiments.memorization_forget_sets``) and the chapter-5 plots."""

from dataclasses import replace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from rum_core import experiments, partition, plots, profiles  # noqa: E402
from rum_core.experiments import memorization_forget_sets  # noqa: E402
from rum_core.partition import MEMORIZATION_LEVELS  # noqa: E402


@pytest.fixture(scope="module")
def smoke():
    return profiles.get_profile("smoke")


@pytest.fixture(scope="module")
def scores(digits):
    """Scores shaped like the digits estimate: mostly exactly 0, a thin tail up to 1."""
    rng = np.random.default_rng(0)
    s = np.zeros(len(digits.train))
    tail = rng.choice(len(s), size=120, replace=False)
    s[tail] = rng.uniform(0.01, 1.0, size=tail.size)
    return s


def _all_levels(profile, **kwargs):
    return {lv: memorization_forget_sets(profile, lv, **kwargs) for lv in MEMORIZATION_LEVELS}


def test_sizes_disjoint_and_ordered_on_given_scores(smoke, digits, scores):
    """Each level is the profile's group size, the levels never share an example, and their mean score
    increases low → medium → high (guards against swapping levels or returning the wrong group)."""
    fns = _all_levels(smoke, scores=scores)
    sets = {lv: fn(digits, 0) for lv, fn in fns.items()}
    for idx in sets.values():
        assert idx.dtype == np.int64 and len(idx) == smoke.memorization_group_size
        assert np.all(np.diff(idx) > 0) and idx.min() >= 0 and idx.max() < len(digits.train)
    union = np.concatenate(list(sets.values()))
    assert len(np.unique(union)) == len(union)
    means = [scores[sets[lv]].mean() for lv in MEMORIZATION_LEVELS]
    assert means[0] < means[1] < means[2]
    expected = partition.memorization_groups(scores, smoke.memorization_group_size)
    for lv in MEMORIZATION_LEVELS:
        np.testing.assert_array_equal(sets[lv], expected[lv])


def test_same_sets_for_every_seed(smoke, digits, scores):
    """The scores are fixed, so the run's seed must not move the forget set (only the models vary)."""
    fn = memorization_forget_sets(smoke, "high", scores=scores)
    np.testing.assert_array_equal(fn(digits, 0), fn(digits, 3))
    groups = fn.details(digits, 1)
    assert set(groups) == set(MEMORIZATION_LEVELS)
    np.testing.assert_array_equal(groups["high"], fn(digits, 1))
    groups["high"][:] = -1  # the caller's copy; the function's groups are untouched
    assert fn(digits, 0).min() >= 0


def test_group_size_and_flip(smoke, digits, scores):
    """``n`` overrides the profile's group size; ``flip`` treats the scores as high = LOW memorization
    (a confidence proxy), so the high group of −scores equals the high group of scores."""
    assert len(memorization_forget_sets(smoke, "low", scores=scores, n=7)(digits, 0)) == 7
    flipped = memorization_forget_sets(smoke, "high", scores=-scores, flip=True)(digits, 0)
    np.testing.assert_array_equal(flipped, memorization_forget_sets(smoke, "high", scores=scores)(digits, 0))


def test_forget_name_distinct_per_level_and_parameters(smoke, scores):
    """The name is the cache key of the unlearning runs: different procedures must never share it, and
    the same procedure must always get the same one."""
    base = dict(scores=scores)
    names = {memorization_forget_sets(smoke, lv, **base).forget_name for lv in MEMORIZATION_LEVELS}
    assert len(names) == 3
    variants = [dict(scores=scores), dict(scores=scores, n=10), dict(scores=scores + 0.001),
                dict(scores=scores, medium_center=0.3), dict(scores=-scores, flip=True), dict(),
                dict(n_models=10), dict(estimate_seed=1)]
    names = [memorization_forget_sets(smoke, "high", **kw).forget_name for kw in variants]
    assert len(set(names)) == len(names), names
    assert all(name.startswith("mem-high") for name in names)
    assert memorization_forget_sets(smoke, "high", scores=scores.copy()).forget_name == names[0]
    assert memorization_forget_sets(smoke, "high").forget_name == names[5]


def test_validates_inputs(smoke, digits, scores):
    """Unknown levels name the valid ones; a profile without a memorization estimate needs scores; the
    scores must fit the training set."""
    with pytest.raises(ValueError, match="low.*medium.*high"):
        memorization_forget_sets(smoke, "extreme", scores=scores)
    paper = profiles.get_profile("paper")
    assert paper.memorization_models is None
    with pytest.raises(ValueError, match="memorization_models.*scores="):
        memorization_forget_sets(paper, "high")
    memorization_forget_sets(paper, "high", scores=scores)  # fine with published (or any) scores
    with pytest.raises(ValueError, match="n must be"):
        memorization_forget_sets(smoke, "high", scores=scores, n=0)
    with pytest.raises(ValueError, match="1-D"):
        memorization_forget_sets(smoke, "high", scores=np.zeros((3, 3)))
    with pytest.raises(ValueError, match="training set"):
        memorization_forget_sets(smoke, "high", scores=scores[:-1])(digits, 0)
    with pytest.raises(ValueError, match="need"):  # 3 groups of 600 do not fit 1,437 examples
        memorization_forget_sets(smoke, "high", scores=scores, n=600)(digits, 0)


def test_default_uses_the_profiles_estimate(smoke):
    """Without scores, the groups come from the profile's Feldman & Zhang estimate (memorization_models
    models), and the high group is more memorized than the medium one, which is more than the low one."""
    fns = _all_levels(smoke)
    estimate = experiments.estimate_for_profile(smoke, smoke.memorization_models).scores
    np.testing.assert_array_equal(fns["high"].scores(), estimate)
    expected = partition.memorization_groups(estimate, smoke.memorization_group_size)
    means = []
    for lv, fn in fns.items():
        idx = fn(experiments.load_data(smoke), 0)  # the profile's data: its training split after the carve
        np.testing.assert_array_equal(idx, expected[lv])
        means.append(estimate[idx].mean())
    assert means[0] < means[1] < means[2]


def test_unlearning_grid_keeps_levels_apart(smoke):
    """Run through ``unlearning_grid``: each level gets its own forget_set name (its own cache entry)."""
    tiny = replace(smoke, memorization_group_size=5)
    fns = _all_levels(tiny)
    grid = experiments.unlearning_grid(tiny, ["identity"], fns, seeds=[0])
    assert list(grid["level"].cat.categories) == list(MEMORIZATION_LEVELS)
    assert grid.groupby("level", observed=True)["forget_set"].first().tolist() == [
        fns[lv].forget_name for lv in MEMORIZATION_LEVELS]
    # a model that never saw them gets the unmemorized examples right at least as often as the memorized ones
    retrain = grid[grid["method"] == "retrain"].set_index("level")["forget"]
    assert retrain["low"] >= retrain["high"]


# ---------------------------------------------------------------------------------------------- plots
def test_scatter_panels_one_panel_per_series_with_spearman():
    """A panel per series, titled with its Spearman correlation against x (a proxy that ranks the examples
    exactly like x must read 1.00, a reversed one −1.00)."""
    x = np.arange(20.0)
    fig = plots.scatter_panels(x, {"same": x ** 2, "reversed": -x, "noisy": x + np.r_[np.nan, np.zeros(19)]},
                               xlabel="estimate", ncols=2)
    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles[0] == "same  (Spearman 1.00)" and titles[1] == "reversed  (Spearman -1.00)"
    assert len(titles) == 3 and "1.00" in titles[2]  # the NaN pair is dropped
    assert abs(spearmanr(x[1:], x[1:]).statistic - 1) < 1e-12
    plt.close(fig)
    with pytest.raises(ValueError, match="ys"):
        plots.scatter_panels(x, {})
    with pytest.raises(ValueError, match="values but x has"):
        plots.scatter_panels(x, {"short": x[:5]})
