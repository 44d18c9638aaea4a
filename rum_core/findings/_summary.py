"""Checks shared by the findings of several chapters: a per-method summary or per-seed runs frame, read by
method name."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..validation import check_frame, check_int, check_number


def by_key(name: str, summary, key: str, numeric: Sequence[str], rows: Iterable[str] = ()) -> pd.DataFrame:
    """``summary`` (one row per value of ``summary[key]``, e.g. :func:`rum_core.stats.summarize` by method, or
    :func:`rum_core.experiments.rum_table` by label) checked and indexed by its ``key`` column, in its own row
    order.

    Raises:
        TypeError: not a DataFrame, or a ``numeric`` column holds something else.
        ValueError: empty, a column missing, a key listed twice (which row would be cited?), or one of the
            ``rows`` the chapter cites absent.
    """
    summary = check_frame(name, summary, [key], numeric=numeric)
    keys = summary[key]
    repeated = sorted(map(str, keys[keys.duplicated()].unique()))
    if repeated:
        raise ValueError(f"{name} must have one row per {key}, got {repeated} more than once")
    missing = [r for r in dict.fromkeys(rows) if not (keys == r).any()]
    if missing:
        raise ValueError(f"{name} has no row for {missing}; its {key}s are {keys.tolist()}")
    return summary.set_index(key)


def by_method(name: str, summary, numeric: Sequence[str], rows: Iterable[str] = ()) -> pd.DataFrame:
    """:func:`by_key` on the ``method`` column: a per-method summary checked and indexed by method."""
    return by_key(name, summary, "method", numeric, rows)


def n_seeds(name: str, summary: pd.DataFrame) -> int:
    """The number of seeds every row of ``summary`` averages (its ``n`` column): the "over n seeds" of the
    prose.

    Raises:
        TypeError: ``n`` does not hold integers.
        ValueError: ``n`` missing, below 1, or different from row to row (the prose could cite no single
            number).
    """
    check_frame(name, summary, numeric=["n"])
    counts = summary["n"].unique()
    if len(counts) != 1:
        raise ValueError(f"{name}['n'] must be the same number of seeds on every row, got {sorted(counts)}")
    return check_int(f"{name}['n']", counts[0], low=1)


def attack_rows(name: str, table, rows: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, float]]:
    """``table`` (attack name → :func:`rum_core.metrics.attack_summary` row) checked: the ``rows`` the chapter
    cites, each with the ``keys`` it cites as numbers in [0, 1] (an AUC or a true-positive rate).

    Raises:
        TypeError: not a mapping (of mappings), or a value that is not a number.
        ValueError: a row or key missing, a value outside [0, 1] or not finite.
    """
    if not isinstance(table, Mapping):
        raise TypeError(f"{name} must be a mapping attack → summary row, got {type(table).__name__}")
    missing = [r for r in rows if r not in table]
    if missing:
        raise ValueError(f"{name} has no row for {missing}; it has {list(table)}")
    checked = {}
    for r in rows:
        row = table[r]
        if not isinstance(row, Mapping):
            raise TypeError(f"{name}[{r!r}] must be a mapping measure → value, got {type(row).__name__}")
        absent = [k for k in keys if k not in row]
        if absent:
            raise ValueError(f"{name}[{r!r}] lacks {absent}; it has {list(row)}")
        checked[r] = {k: check_number(f"{name}[{r!r}][{k!r}]", row[k], low=0.0, high=1.0) for k in keys}
    return checked


def membership(name: str, is_member) -> np.ndarray:
    """``is_member`` as a 1-D boolean array holding both members (True) and non-members (False).

    Raises:
        TypeError: not an array of booleans.
        ValueError: not 1-D, or only members or only non-members (no attack can be scored on it).
    """
    if is_member is None or isinstance(is_member, (str, bytes, Mapping)):
        raise TypeError(f"{name} must be a boolean array, got {type(is_member).__name__}")
    arr = np.asarray(is_member)
    if arr.dtype != bool:
        raise TypeError(f"{name} must be a boolean array, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if arr.all() or not arr.any():
        raise ValueError(f"{name} must contain both members (True) and non-members (False)")
    return arr
