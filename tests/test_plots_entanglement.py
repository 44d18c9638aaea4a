"""The multi-panel figures of the entanglement chapter: each test checks what the figure shows, not merely that
it draws."""

import numpy as np
import pandas as pd
import pytest

from rum_core import plots


def _grid():
    """Per-seed ToW of two methods on three levels of two procedures, two seeds each."""
    rows = []
    for p, proc in enumerate(["paper", "controlled"]):
        for i, lv in enumerate(["low", "medium", "high"]):
            for m, method in enumerate(["a", "b"]):
                for s in (0, 1):
                    rows.append({"procedure": proc, "level": lv, "method": method, "seed": s,
                                 "tow": 0.1 * i + 0.3 * m + 0.2 * p + 0.01 * s})
    return pd.DataFrame(rows)


def _means(ax):
    """The y values of the lines seaborn drew through the means (one line per series, no NaN)."""
    return [np.asarray(line.get_ydata(), float) for line in ax.lines
            if len(line.get_ydata()) > 1 and not np.isnan(np.asarray(line.get_ydata(), float)).any()]


def test_metric_by_level_panels_one_panel_per_procedure_with_its_own_level_names():
    """Guards against every panel drawn from all the runs (not only its procedure's), the level names of
    another panel used, a lost title, or panels that do not share the y axis."""
    names = {"paper": {"low": "low\n(ES 5)", "medium": "medium\n(ES 9)", "high": "high\n(ES 2)"},
             "controlled": {"low": "low\n(ES 1)", "medium": "medium\n(ES 4)", "high": "high\n(ES 8)"}}
    fig = plots.metric_by_level_panels(_grid(), panel="procedure", level_names=names, panel_title="{} procedure",
                                       ylabel="ToW", xlabel="forget set (mean ES)")
    axes = fig.axes
    assert [ax.get_title() for ax in axes] == ["paper procedure", "controlled procedure"]
    for ax, proc in zip(axes, ["paper", "controlled"], strict=True):
        assert [t.get_text() for t in ax.get_xticklabels()] == list(names[proc].values())
        assert ax.get_xlabel() == "forget set (mean ES)"
    # method a's mean line: paper 0.005 + 0.1 i, controlled 0.205 + 0.1 i
    lines0, lines1 = _means(axes[0]), _means(axes[1])
    np.testing.assert_allclose(lines0[0], [0.005, 0.105, 0.205], atol=1e-9)
    np.testing.assert_allclose(lines1[0], [0.205, 0.305, 0.405], atol=1e-9)
    assert axes[0].get_shared_y_axes().joined(axes[0], axes[1])


def test_metric_by_level_panels_without_names_keeps_levels_and_refuses_a_missing_name():
    fig = plots.metric_by_level_panels(_grid(), panel="procedure")
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["low", "medium", "high"]
    assert [ax.get_title() for ax in fig.axes] == ["paper", "controlled"]
    with pytest.raises(ValueError, match="level_names\\['controlled'\\]"):
        plots.metric_by_level_panels(_grid(), panel="procedure",
                                     level_names={"paper": {"low": "l", "medium": "m", "high": "h"},
                                                  "controlled": {"low": "l"}})
    with pytest.raises(ValueError, match="runs"):
        plots.metric_by_level_panels(_grid().drop(columns="procedure"), panel="procedure")


def test_es_by_group_panels_draws_each_panels_curves_and_marks_picks_only_where_asked():
    """Guards against the picks drawn on every panel (the group counts' panel has no single set of picks) and
    curves swapped between panels."""
    layer = {"features": np.array([[1.0, 4.0, 2.0], [3.0, 6.0, 2.0]]), "logits": np.array([1.0, 2.0, 3.0])}
    counts = {"6 groups": np.arange(1.0, 7.0), "10 groups": np.arange(1.0, 11.0)}
    fig = plots.es_by_group_panels({"layer": layer, "count": counts}, picks={"layer": {"low": 0, "high": 2}},
                                   n_pick_groups=3)
    left, right = fig.axes
    assert (left.get_title(), right.get_title()) == ("layer", "count")
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["features", "logits"]
    assert [t.get_text() for t in right.get_legend().get_texts()] == ["6 groups", "10 groups"]
    np.testing.assert_allclose(left.lines[0].get_ydata(), [2.0, 5.0, 2.0])  # mean over seeds
    marks = [line for line in left.lines if line.get_linestyle() == ":"]
    assert sorted(float(m.get_xdata()[0]) for m in marks) == pytest.approx([0.5 / 3, 2.5 / 3])
    assert not [line for line in right.lines if line.get_linestyle() == ":"]
    assert [t.get_text() for t in left.texts] == ["low", "high"] and not right.texts


def test_es_by_group_panels_refuses_picks_for_a_panel_that_does_not_exist():
    with pytest.raises(ValueError, match="picks"):
        plots.es_by_group_panels({"layer": {"f": np.ones(3)}}, picks={"count": {"low": 0}})
    with pytest.raises(ValueError, match="panels"):
        plots.es_by_group_panels({})
