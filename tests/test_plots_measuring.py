"""The figures of the measuring chapter: each test checks what the figure shows, not merely that it draws."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Polygon

from rum_core import plots
from rum_core.stats import summarize


def test_histogram_panels_one_panel_per_model_with_shared_bins_and_one_histogram_per_sample():
    """Guards against panels drawn with different bins (not comparable by eye) or samples dropped."""
    rng = np.random.default_rng(0)
    panels = {"original": {"forget": rng.normal(5, 1, 50), "test": rng.normal(3, 1, 40)},
              "retrained": {"forget": rng.normal(1, 1, 50), "test": rng.normal(3, 1, 40)},
              "unlearned": {"forget": rng.normal(-2, 1, 50), "test": rng.normal(2, 1, 40)}}
    fig = plots.histogram_panels(panels, bins=10, xlabel="φ")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == list(panels)
    lo = min(v.min() for s in panels.values() for v in s.values())
    hi = max(v.max() for s in panels.values() for v in s.values())
    for ax, samples in zip(axes, panels.values(), strict=True):
        polys = [p for p in ax.patches if isinstance(p, Polygon)]
        assert len(polys) == len(samples)  # one step histogram per sample
        xs = np.concatenate([p.get_xy()[:, 0] for p in polys])
        assert xs.min() == pytest.approx(lo) and xs.max() == pytest.approx(hi)  # shared range
        assert ax.get_xlabel() == "φ"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == [f"{name} (n={len(v)})" for name, v in samples.items()]
    assert axes[0].get_ylabel() == "density" and axes[1].get_ylabel() == ""
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[2])


def test_histogram_panels_respects_an_explicit_range_and_rejects_empty_input():
    fig = plots.histogram_panels({"m": {"s": np.array([0.2, 0.4, 0.6])}}, bins=4, range_=(0.0, 1.0))
    poly = [p for p in fig.axes[0].patches if isinstance(p, Polygon)][0]
    assert poly.get_xy()[:, 0].min() == 0.0 and poly.get_xy()[:, 0].max() == 1.0
    with pytest.raises(ValueError):
        plots.histogram_panels({})
    with pytest.raises(ValueError):
        plots.histogram_panels({"m": {"s": np.array([])}})


def _runs():
    """Per-seed runs of three methods, 3 seeds each."""
    rng = np.random.default_rng(1)
    return pd.DataFrame({"method": np.repeat(["a", "b", "c"], 3), "seed": np.tile([0, 1, 2], 3),
                         "mia": rng.random(9), "tow": rng.random(9)})


def test_interval_dots_puts_first_row_on_top_with_its_interval_and_the_target_band():
    """Guards against rows labelled in the wrong order, error bars that are not the tables' t-intervals, or a
    target band of the wrong width (the band is the retrained model's ± interval: what 'matching retrain'
    means)."""
    runs = _runs()
    fig = plots.interval_dots(runs, "mia", order=["b", "a", "c"], target=0.3, target_ci=0.04,
                              target_label="retrain", xlabel="MIA")
    ax = fig.axes[0]
    ticks = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # seaborn's categorical y axis runs downwards
    assert ticks["b"] < ticks["a"] < ticks["c"]  # so the first of ``order`` is on top
    summary = summarize(runs, "method", ["mia"]).set_index("method").loc[["b", "a", "c"]]
    dots = next(ln for ln in ax.lines if len(ln.get_xdata()) == 3)
    np.testing.assert_allclose(dots.get_xdata(), summary["mia"])
    bars = [ln.get_xdata() for ln in ax.lines if np.isnan(np.asarray(ln.get_xdata(), dtype=float)).any()]
    np.testing.assert_allclose([(np.nanmin(x), np.nanmax(x)) for x in bars],
                               np.c_[summary["mia"] - summary["mia_ci"], summary["mia"] + summary["mia_ci"]])
    assert len(ax.patches) == 1  # the band (a Rectangle or a Polygon, depending on matplotlib's version)
    band = ax.patches[0]
    xs = band.get_patch_transform().transform(band.get_path().vertices)[:, 0]
    assert xs.min() == pytest.approx(0.26) and xs.max() == pytest.approx(0.34)
    assert any(np.allclose(ln.get_xdata(), 0.3) for ln in ax.lines)  # the target line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["retrain"]
    assert ax.get_xlabel() == "MIA" and ax.get_xscale() == "linear"


def test_interval_dots_without_target_draws_no_band():
    fig = plots.interval_dots(_runs(), "tow")
    ax = fig.axes[0]
    assert not ax.patches
    assert ax.get_legend() is None and ax.get_xlabel() == "tow"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]  # first appearance
    with pytest.raises(ValueError):
        plots.interval_dots(_runs().iloc[:0], "tow")


def test_roc_curves_is_log_log_with_chance_line_for_low_fpr_reading():
    """The chapter reads TPR at low FPR off this figure: both axes must be logarithmic down to min_fpr."""
    fpr = np.array([0.0, 0.001, 0.01, 0.1, 1.0])
    tpr = np.array([0.0, 0.05, 0.1, 0.3, 1.0])
    fig = plots.roc_curves({"LiRA": (fpr, tpr)}, min_fpr=1e-3)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_xlim()[0] == pytest.approx(1e-3)
    labels = [ln.get_label() for ln in ax.lines]
    assert labels == ["chance", "LiRA"]
    np.testing.assert_allclose(ax.lines[1].get_ydata(), np.clip(tpr, 1e-3, 1))


def test_roc_panels_one_log_log_panel_per_title_with_its_curves():
    """Guards against curves drawn in the wrong panel or panels without the log–log axes that low-FPR reading
    needs (LiRA next to U-LiRA)."""
    fpr, tpr = np.array([0.0, 0.01, 0.1, 1.0]), np.array([0.0, 0.2, 0.5, 1.0])
    fig = plots.roc_panels({"left": {"A": (fpr, tpr), "B": (fpr, tpr ** 2)}, "right": {"C": (fpr, np.sqrt(tpr))}})
    left, right = fig.axes
    assert (left.get_title(), right.get_title()) == ("left", "right")
    assert [ln.get_label() for ln in left.lines] == ["chance", "A", "B"]
    assert [ln.get_label() for ln in right.lines] == ["chance", "C"]
    np.testing.assert_allclose(right.lines[1].get_ydata(), np.clip(np.sqrt(tpr), 1e-3, 1))
    assert all(ax.get_xscale() == ax.get_yscale() == "log" for ax in (left, right))
    assert fig.get_size_inches() == pytest.approx((9.5, 4.2))


def test_roc_panels_refuses_a_bad_curve_without_leaving_a_figure_open():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    with pytest.raises(ValueError):
        plots.roc_panels({"ok": {"A": (np.array([0.0, 1.0]), np.array([0.0, 1.0]))},
                          "bad": {"B": (np.array([0.0, 1.0]), np.array([0.0]))}})
    with pytest.raises(ValueError):
        plots.roc_panels({"empty": {}})
    assert plt.get_fignums() == before


def test_interval_dots_panels_share_the_rows_and_draw_each_metric_in_its_panel():
    """Guards against a panel drawing another panel's metric, rows in different orders across panels (the
    figure is read across), or the x labels swapped."""
    runs = _runs()
    fig = plots.interval_dots_panels(runs, {"tow": "ToW", "mia": "MIA"}, order=["c", "a", "b"])
    tow_ax, mia_ax = fig.axes
    assert (tow_ax.get_xlabel(), mia_ax.get_xlabel()) == ("ToW", "MIA")
    assert tow_ax.get_shared_y_axes().joined(tow_ax, mia_ax)
    means = summarize(runs, "method", ["tow", "mia"]).set_index("method").loc[["c", "a", "b"]]
    assert [t.get_text() for t in tow_ax.get_yticklabels()] == ["c", "a", "b"]  # the right panel shares them
    for ax, metric in ((tow_ax, "tow"), (mia_ax, "mia")):
        dots = next(ln for ln in ax.lines if len(ln.get_xdata()) == 3)
        np.testing.assert_allclose(dots.get_ydata(), [0, 1, 2])  # rows c, a, b in both panels
        np.testing.assert_allclose(dots.get_xdata(), means[metric])
    assert fig.get_size_inches() == pytest.approx((9.0, 0.8 + 0.35 * 3))
    with pytest.raises(ValueError, match="loss_auc"):
        plots.interval_dots_panels(runs, {"loss_auc": "loss"})
    with pytest.raises(ValueError):
        plots.interval_dots_panels(runs, {})
