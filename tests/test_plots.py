"""The chapters' figures: each test checks what the figure shows, not merely that it draws."""

import numpy as np
import pandas as pd
import pytest

from rum_core import plots


def _summary():
    return pd.DataFrame({"method": ["a", "b"], "tow": [0.9, 0.5], "tow_ci": [0.01, np.nan],
                         "forget": [0.8, 0.6], "forget_ci": [0.02, 0.03],
                         "rel_grad_evals": [0.25, 0.0], "rel_grad_evals_ci": [0.0, 0.0]})


def test_image_grid_shows_each_image_with_its_title_and_hides_spare_cells():
    """Guards against dropping images or titles, and against empty cells drawn with axes."""
    images = np.random.default_rng(0).random((7, 8, 8, 1))
    fig = plots.image_grid(images, [f"t{i}" for i in range(7)], ncols=4)
    axes = fig.axes
    assert len(axes) == 8  # 2 rows × 4 columns
    shown = [ax for ax in axes if ax.images]
    assert [ax.get_title() for ax in shown] == [f"t{i}" for i in range(7)]
    np.testing.assert_allclose(shown[3].images[0].get_array(), images[3, ..., 0])
    with pytest.raises(ValueError, match="images is empty"):
        plots.image_grid(np.zeros((0, 8, 8, 1)))


def test_grouped_bars_heights_are_the_means_and_missing_intervals_draw_no_error():
    """Bars must show the summary's means in group order; a NaN interval must not become a NaN bar."""
    fig = plots.grouped_bars(_summary(), group="method", metrics=["forget", "tow"])
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.8, 0.9, 0.6, 0.5])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["forget", "tow"]


def test_tow_vs_cost_uses_a_log_cost_axis_and_clamps_zero_cost():
    """Zero cost (doing nothing) cannot sit on a log axis: it is drawn at 1e-4, not dropped."""
    fig = plots.tow_vs_cost(_summary())
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    points = [tuple(map(float, c.lines[0].get_xydata()[0])) for c in ax.containers]
    assert points == [(0.25, 0.9), (1e-4, 0.5)]
    assert [t.get_text() for t in ax.texts] == ["a", "b"]


def test_histograms_label_each_sample_with_its_size():
    fig = plots.histograms({"forget": np.linspace(0, 1, 10), "test": np.linspace(0, 1, 30)}, range_=(0, 1))
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["forget (n=10)", "test (n=30)"]
    assert fig.axes[0].get_ylabel() == "density"


def test_roc_curves_are_log_log_and_clip_zero_rates_to_the_axis():
    """Low-FPR behaviour is only visible on log axes; rates of 0 must be clipped, not vanish."""
    fpr, tpr = np.array([0.0, 0.01, 1.0]), np.array([0.0, 0.2, 1.0])
    fig = plots.roc_curves({"attack": (fpr, tpr)}, min_fpr=1e-3)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    attack = [line for line in ax.lines if line.get_label() == "attack"][0]
    np.testing.assert_allclose(attack.get_xdata(), [1e-3, 0.01, 1.0])
    np.testing.assert_allclose(attack.get_ydata(), [1e-3, 0.2, 1.0])


def test_roc_curves_draws_the_validated_arrays_not_the_raw_inputs():
    """A tensor that requires grad passes validation (it is detached there); drawing the raw tensor would fail."""
    torch = pytest.importorskip("torch")
    fpr = torch.tensor([0.0, 0.5, 1.0], requires_grad=True)
    fig = plots.roc_curves({"attack": (fpr, [0, 1, 1])})
    attack = [line for line in fig.axes[0].lines if line.get_label() == "attack"][0]
    np.testing.assert_allclose(attack.get_xdata(), [1e-3, 0.5, 1.0])
    np.testing.assert_allclose(attack.get_ydata(), [1e-3, 1.0, 1.0])


def test_figures_take_a_single_metric_name_as_one_column():
    summary = pd.DataFrame({"method": ["a", "b"], "tow": [0.5, 0.7], "tow_ci": [0.1, 0.1]})
    fig = plots.grouped_bars(summary, group="method", metrics="tow")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["tow"]
