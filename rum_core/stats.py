"""Summaries over seeds: means with Student-t confidence intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from .validation import check_array, check_columns, check_frame, check_int, check_number

__all__ = ["mean_ci", "t_errorbar", "summarize", "format_table"]


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the two-sided Student-t interval: t_{(1+c)/2, n−1} · s / √n.

    With a single value the half-width is NaN (no spread can be estimated).
    """
    x = check_array("values", values, 1)
    confidence = check_number("confidence", confidence, low=0.0, high=1.0, low_open=True, high_open=True)
    if x.size == 1:
        return float(x[0]), float("nan")
    half = _st.t.ppf(0.5 + confidence / 2, df=x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean()), float(half)


def t_errorbar(confidence: float = 0.95):
    """The :func:`mean_ci` interval as a seaborn ``errorbar`` callable: values → (mean − h, mean + h).

    The figures of :mod:`rum_core.plots` pass it to seaborn, which groups the per-seed runs and calls it on
    each group, so a figure's bars are exactly the intervals of :func:`summarize` and :func:`format_table`
    (seaborn's own ``("ci", 95)`` is a bootstrap interval, which differs from the tables' Student-t one).
    A single value has no spread: its interval is the value itself (seaborn draws no bar for a group of
    one at all).
    """
    confidence = check_number("confidence", confidence, low=0.0, high=1.0, low_open=True, high_open=True)

    def interval(values) -> tuple[float, float]:
        mean, half = mean_ci(values, confidence)
        half = half if np.isfinite(half) else 0.0
        return mean - half, mean + half

    return interval


def summarize(frame: pd.DataFrame, by: str | Sequence[str], metrics: Sequence[str],
              confidence: float = 0.95) -> pd.DataFrame:
    """One row per group of ``by``: ``<metric>`` (mean), ``<metric>_ci`` (half-width) and ``n``.

    Groups keep the order in which they first appear in ``frame``. A metric that is NaN for EVERY row of a
    group is unknown there (e.g. the cost of published scores) and summarizes to NaN; one that is NaN for
    only some rows raises, as :func:`mean_ci` does.
    """
    by = check_columns("by", by)
    metrics = check_columns("metrics", metrics)
    check_frame("frame", frame, by, numeric=metrics)
    rows = []
    for key, group in frame.groupby(by, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        row = dict(zip(by, key, strict=True))
        for m in metrics:
            values = group[m].to_numpy(dtype=float)
            unknown = np.isnan(values).all()
            row[m], row[f"{m}_ci"] = (np.nan, np.nan) if unknown else mean_ci(values, confidence)
        row["n"] = len(group)
        rows.append(row)
    return pd.DataFrame(rows)


def format_table(summary: pd.DataFrame, index: str, metrics: Sequence[str], *, digits: int = 3,
                 names: dict[str, str] | None = None) -> pd.DataFrame:
    """``summary`` (from :func:`summarize`) as strings ``"mean ± half-width"``, one column per metric.

    A NaN half-width (a single seed) is shown as the mean alone, a NaN mean (unknown) as "unknown".
    """
    digits = check_int("digits", digits, low=0, high=12)
    metrics = check_columns("metrics", metrics)
    check_frame("summary", summary, [index], numeric=[*metrics, *(f"{m}_ci" for m in metrics)])
    names = names or {}
    out = pd.DataFrame(index=pd.Index(summary[index], name=index))
    for m in metrics:
        means, halves = summary[m].to_numpy(), summary[f"{m}_ci"].to_numpy()
        out[names.get(m, m)] = ["unknown" if np.isnan(mu) else f"{mu:.{digits}f}" if not np.isfinite(h)
                                else f"{mu:.{digits}f} ± {h:.{digits}f}" for mu, h in zip(means, halves, strict=True)]
    return out
