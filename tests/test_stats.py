import math

import numpy as np
import pandas as pd
import pytest

from rum_core.stats import format_table, mean_ci, summarize


def test_mean_ci_hand_computed():
    """95% t-interval of [1, 2, 3]: s = 1, t_{0.975, 2} = 4.302653, half-width = 4.302653 / sqrt(3)."""
    mean, half = mean_ci([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert half == pytest.approx(4.302652729911275 / math.sqrt(3), rel=1e-9)


def test_mean_ci_uses_t_not_normal():
    """With 5 values the half-width uses t_{0.975,4} = 2.776, not 1.96."""
    x = np.array([0.1, 0.4, 0.2, 0.5, 0.3])
    _, half = mean_ci(x)
    assert half == pytest.approx(2.7764451051977987 * x.std(ddof=1) / math.sqrt(5), rel=1e-9)


def test_mean_ci_single_value_and_errors():
    assert math.isnan(mean_ci([0.5])[1])
    with pytest.raises(ValueError):
        mean_ci([])
    with pytest.raises(ValueError):
        mean_ci([1.0, float("nan")])


def test_summarize_groups_in_order():
    df = pd.DataFrame({"m": ["b", "a", "b", "a"], "v": [1.0, 2.0, 3.0, 4.0]})
    s = summarize(df, "m", ["v"])
    assert list(s["m"]) == ["b", "a"]
    assert list(s["v"]) == [2.0, 3.0]
    assert list(s["n"]) == [2, 2]
    with pytest.raises(ValueError, match="w"):
        summarize(df, "m", ["w"])


def test_format_table_shows_mean_and_half_width():
    df = pd.DataFrame({"m": ["a", "a", "b"], "v": [0.5, 0.7, 0.25]})
    t = format_table(summarize(df, "m", ["v"]), "m", ["v"], digits=2, names={"v": "value"})
    half = 12.706204736174698 * np.std([0.5, 0.7], ddof=1) / np.sqrt(2)
    assert t.loc["a", "value"] == f"0.60 ± {half:.2f}"
    assert t.loc["b", "value"] == "0.25"  # one seed: no interval


def test_summarize_keeps_an_unknown_metric_unknown_and_refuses_a_partly_missing_one():
    """Catches: unknown costs (published scores) summarized as numbers, or NaN silently dropped from a mean."""
    frame = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [np.nan, np.nan, 1.0, 3.0]})
    out = summarize(frame, "g", ["x"]).set_index("g")
    assert np.isnan(out.loc["a", "x"]) and np.isnan(out.loc["a", "x_ci"]) and out.loc["b", "x"] == 2.0
    assert format_table(out.reset_index(), "g", ["x"])["x"].tolist()[0] == "unknown"
    with pytest.raises(ValueError, match="NaN"):
        summarize(pd.DataFrame({"g": ["a", "a"], "x": [np.nan, 1.0]}), "g", ["x"])
