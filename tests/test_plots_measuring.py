"""The figures of the measuring chapter: each test checks what the figure shows, not merely that it draws."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Polygon

from rum_core import plots


def _summary():
    return pd.DataFrame({"method": ["a", "b", "c"], "mia": [0.2, 0.5, 0.3], "mia_ci": [0.05, np.nan, 0.1],
                         "tow": [0.9, 0.7, 0.8], "tow_ci": [0.01, 0.02, np.nan],
                         "tow_mia": [0.85, 0.6, 0.9], "tow_mia_ci": [0.02, 0.03, 0.01]})


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


def test_interval_dots_puts_first_row_on_top_with_its_interval_and_the_target_band():
    """Guards against rows labelled in the wrong order, missing error bars, or a target band of the wrong
    width (the band is the retrained model's ± interval: what 'matching retrain' means)."""
    s = _summary()
    fig = plots.interval_dots(s, "mia", target=0.3, target_ci=0.04, target_label="retrain", xlabel="MIA")
    ax = fig.axes[0]
    ticks = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert ticks["a"] > ticks["b"] > ticks["c"]  # first row on top
    (bars,) = ax.containers  # one errorbar call: the dots and their horizontal bars
    line, _, (hbars,) = bars
    np.testing.assert_allclose(line.get_xdata(), s["mia"])
    np.testing.assert_allclose(line.get_ydata(), [ticks[m] for m in s["method"]])
    # horizontal error bars: segments spanning mean ± ci (NaN interval → zero width)
    segs = hbars.get_segments()
    widths = sorted(round(abs(seg[1][0] - seg[0][0]), 6) for seg in segs)
    assert widths == [0.0, 0.1, 0.2]
    assert len(ax.patches) == 1  # the band (a Rectangle or a Polygon, depending on matplotlib's version)
    band = ax.patches[0]
    xs = band.get_patch_transform().transform(band.get_path().vertices)[:, 0]
    assert xs.min() == pytest.approx(0.26) and xs.max() == pytest.approx(0.34)
    assert any(np.allclose(ln.get_xdata(), 0.3) for ln in ax.lines)  # the target line
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["retrain"]
    assert ax.get_xlabel() == "MIA" and ax.get_xscale() == "linear"


def test_interval_dots_without_target_draws_no_band():
    fig = plots.interval_dots(_summary(), "tow")
    ax = fig.axes[0]
    assert not ax.patches
    assert ax.get_legend() is None and ax.get_xlabel() == "tow"
    with pytest.raises(ValueError):
        plots.interval_dots(_summary().iloc[:0], "tow")


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
