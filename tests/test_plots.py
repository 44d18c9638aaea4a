"""The chapters' figures: each test checks what the figure shows, not merely that it draws."""

import numpy as np
import pandas as pd
import pytest

from rum_core import plots, stats
from rum_core.stats import mean_ci, summarize


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


def test_image_grid_draws_sequences_as_lines_not_strips():
    """MNIST-1D's examples are (1, L, 1): each must be drawn as its values against position (a 1×L image
    would hide the shape), titled, all on one range that holds every value shown (not clipped to [0, 1])."""
    seqs = np.random.default_rng(1).normal(size=(3, 1, 40, 1)) * 2
    fig = plots.image_grid(seqs, ["a", "b", "c"], ncols=2)
    shown = [ax for ax in fig.axes if ax.lines]
    assert not any(ax.images for ax in fig.axes)
    assert [ax.get_title() for ax in shown] == ["a", "b", "c"]
    np.testing.assert_allclose(shown[2].lines[0].get_ydata(), seqs[2, 0, :, 0])
    np.testing.assert_allclose(shown[2].lines[0].get_xdata(), np.arange(40))
    lows, highs = zip(*(ax.get_ylim() for ax in shown), strict=True)
    assert len(set(lows)) == len(set(highs)) == 1
    assert lows[0] < seqs.min() and highs[0] > seqs.max()


def _runs():
    """Per-seed runs: method a over 4 seeds, b over 3, c over one seed (no spread: a zero-length interval)."""
    rng = np.random.default_rng(0)
    methods = ["a"] * 4 + ["b"] * 3 + ["c"]
    return pd.DataFrame({"method": methods, "seed": [0, 1, 2, 3, 0, 1, 2, 0], "tow": rng.random(8),
                         "forget": rng.random(8), "level": ["low", "high"] * 4})


def _intervals(ax, axis: str) -> list[tuple[float, float]]:
    """(low, high) of every error bar seaborn drew (a line whose data holds NaN breaks between its caps);
    (NaN, NaN) where seaborn drew none (a group of one seed)."""
    out = []
    for line in ax.lines:
        v = np.asarray(line.get_xdata() if axis == "x" else line.get_ydata(), dtype=float)
        if np.isnan(v).all():
            out.append((np.nan, np.nan))
        elif np.isnan(v).any():
            out.append((float(np.nanmin(v)), float(np.nanmax(v))))
    return out


def _table_intervals(runs, by, metrics):
    s = summarize(runs, by, metrics)
    return [(row[m] - row[f"{m}_ci"], row[m] + row[f"{m}_ci"]) for m in metrics for _, row in s.iterrows()]


def test_t_errorbar_is_the_tables_interval_and_a_point_for_one_value():
    values = np.array([0.2, 0.4, 0.9])
    mean, half = mean_ci(values, 0.9)
    assert stats.t_errorbar(0.9)(values) == pytest.approx((mean - half, mean + half))
    assert half == pytest.approx(2.919986 * values.std(ddof=1) / np.sqrt(3), rel=1e-6)  # t_{0.95, 2}
    assert stats.t_errorbar()(np.array([0.3])) == (0.3, 0.3)
    with pytest.raises(ValueError, match="confidence"):
        stats.t_errorbar(1.0)


def test_grouped_bars_shows_the_tables_means_and_intervals_in_group_order():
    """Guards against seaborn's default bootstrap interval (or any interval not the tables' t-interval) and
    against groups reordered."""
    runs = _runs()
    fig = plots.grouped_bars(runs, group="method", metrics=["forget", "tow"], labels=["F", "T"])
    ax = fig.axes[0]
    heights = [p.get_height() for c in ax.containers for p in c]
    means = summarize(runs, "method", ["forget", "tow"])
    assert heights == pytest.approx([*means[["forget", "tow"]].to_numpy().ravel()])  # per group: forget, tow
    # seaborn draws one hue level (group) at a time: a's forget and tow bars first
    expected = [iv for g in range(3) for iv in _table_intervals(runs, "method", ["forget", "tow"])[g::3]]
    np.testing.assert_allclose(_intervals(ax, "y"), expected)
    assert np.isnan(_intervals(ax, "y")[-1]).all()  # c: one seed, no spread, no bar
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["F", "T"]


def test_interval_figures_refuse_a_metric_missing_for_some_seeds():
    """seaborn would silently drop a NaN seed: the figure's interval would differ from the table's."""
    runs = _runs()
    runs.loc[2, "tow"] = np.nan
    with pytest.raises(ValueError, match=r"runs\['tow'\] is NaN in 1 of 8 rows"):
        plots.grouped_bars(runs, group="method", metrics=["tow"])
    with pytest.raises(ValueError, match="order must list values"):
        plots.interval_dots(_runs(), "tow", order=["a", "z"])


def test_rum_bars_draws_each_label_in_order_with_its_interval_and_the_reference():
    runs = _runs().rename(columns={"method": "label"}).assign(mia_gap=lambda f: f["forget"])
    reference = pd.DataFrame({"label": ["c", "a"], "tow": [0.5, np.nan]})
    fig = plots.rum_bars(runs, order=["c", "a"], reference=reference)
    tow_ax, gap_ax = fig.axes
    assert [t.get_text() for t in tow_ax.get_yticklabels()] == ["c", "a"]  # b left out, c first (on top)
    assert tow_ax.get_ylim()[0] > tow_ax.get_ylim()[1]
    means = summarize(runs, "label", ["tow", "mia_gap"]).set_index("label")
    assert [p.get_width() for p in tow_ax.containers[0]] == pytest.approx(means.loc[["c", "a"], "tow"])
    assert [p.get_width() for p in gap_ax.containers[0]] == pytest.approx(means.loc[["c", "a"], "mia_gap"])
    a = means.loc["a"]
    assert _intervals(tow_ax, "x")[1] == pytest.approx((a["tow"] - a["tow_ci"], a["tow"] + a["tow_ci"]))
    (diamonds,) = [ln for ln in tow_ax.lines if ln.get_label() == "paper"]
    assert list(diamonds.get_xdata()) == [0.5] and list(diamonds.get_ydata()) == [0]  # only c has a value
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["this reproduction", "paper"]


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
    fig = plots.grouped_bars(_runs(), group="method", metrics="tow")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["tow"]


def test_sequences_by_class_draws_the_first_sequences_of_each_class():
    """Each class panel holds its first ``per_class`` sequences (in order, exact values); a class without
    sequences gets an empty titled panel; (N, 1, 1, L) is read like (N, L)."""
    x = np.arange(7 * 5, dtype=float).reshape(7, 1, 1, 5)
    y = np.array([0, 1, 0, 0, 1, 0, 1])
    fig = plots.sequences_by_class(x, y, class_names=["a", "b", "c"], per_class=2, ncols=2)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    np.testing.assert_array_equal(axes[0].lines[0].get_ydata(), x[0, 0, 0])
    np.testing.assert_array_equal(axes[0].lines[1].get_ydata(), x[2, 0, 0])
    assert [len(ax.lines) for ax in axes] == [2, 2, 0]


def test_sequences_by_class_refuses_bad_input():
    x = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"\(N, L\) or \(N, 1, 1, L\)"):
        plots.sequences_by_class(np.zeros((3, 2, 1, 5)), [0, 1, 0], class_names=["a", "b"])
    with pytest.raises(ValueError, match="labels must lie"):
        plots.sequences_by_class(x, [0, 1, 2], class_names=["a", "b"])
    with pytest.raises(ValueError, match="labels has 2 entries"):
        plots.sequences_by_class(x, [0, 1], class_names=["a", "b"])
    with pytest.raises(ValueError, match="NaN"):
        plots.sequences_by_class(np.full((3, 5), np.nan), [0, 1, 0], class_names=["a", "b"])
