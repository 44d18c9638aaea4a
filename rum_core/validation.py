"""Validators for what enters the package from outside: integers, numbers, choices, seeds, index sets.

One function per kind of value, used at every public boundary, so the same bad input gets the same clear
error everywhere (a ValueError or TypeError that names the argument) instead of being coerced (``int(2.7)``
is 2, ``np.asarray([-1])`` indexes from the end, a duplicated index counts an example twice) or failing
deep inside torch. The lowest layer of the package: it imports numpy (and pandas for tables) only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["check_int", "check_number", "check_choice", "check_seeds", "check_indices", "check_labels",
           "check_columns", "check_numeric", "check_array", "check_frame"]


def check_int(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an ``int`` when it is an integer (Python or numpy, never a bool, a float such as 3.0,
    or a string) within ``[low, high]``.

    Raises:
        TypeError: not an integer.
        ValueError: outside the range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be {_range_text(low, high, False, False)}, got {value}")
    return value


def check_number(name: str, value, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite ``float`` when it is a real number (not a bool or a string) within the range
    (``low_open``/``high_open``: the bound itself is excluded).

    Raises:
        TypeError: not a real number.
        ValueError: NaN, infinite, or outside the range.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if (low is not None and (value < low or (low_open and value == low))) or \
            (high is not None and (value > high or (high_open and value == high))):
        raise ValueError(f"{name} must be {_range_text(low, high, low_open, high_open)}, got {value!r}")
    return value


def _range_text(low, high, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '≥'} {low}"
    return f"{'<' if high_open else '≤'} {high}"


def check_choice(name: str, value, choices: Sequence):
    """``value`` when it is one of ``choices``; a ValueError listing them otherwise."""
    if not any(value is c or (type(value) is type(c) and value == c) for c in choices):
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_seeds(seeds: Iterable, name: str = "seeds") -> list[int]:
    """The seeds as a list of distinct non-negative ints, in order.

    Duplicates are refused because every statistic over seeds treats them as independent runs (two
    copies of seed 0 give n = 2 and a half-width of 0); floats are refused rather than truncated.

    Raises:
        TypeError: not an iterable of integers.
        ValueError: empty, negative, or duplicated seeds.
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"{name} must be a sequence of integers, got {seeds!r}")
    out = [check_int(f"{name}[{i}]", s, low=0) for i, s in enumerate(seeds)]
    if not out:
        raise ValueError(f"{name} is empty")
    seen: set[int] = set()
    repeated = sorted({s for s in out if s in seen or seen.add(s)})
    if repeated:
        raise ValueError(f"{name} must be distinct (each seed is one independent run), got {repeated} "
                         f"more than once")
    return out


def check_indices(name: str, idx, n: int, *, allow_empty: bool = True) -> np.ndarray:
    """``idx`` as a 1-D int64 array of distinct positions in ``[0, n)``.

    Negative indices are refused (numpy would count them from the end), as are duplicates (an example
    counted twice), floats, booleans (a mask: use ``np.flatnonzero``) and anything that is not 1-D.

    Raises:
        TypeError: booleans, non-integer values.
        ValueError: not 1-D, empty (unless ``allow_empty``), out of range, duplicated.
    """
    if isinstance(idx, (str, bytes)):
        raise TypeError(f"{name} must be an array of integer indices, got a string")
    try:
        arr = np.asarray(idx)
    except ValueError as err:  # ragged nested lists
        raise ValueError(f"{name} must be a 1-D array of integer indices: {err}") from None
    if arr.dtype == bool:
        raise TypeError(f"{name} must be an array of integer indices, not a boolean mask "
                        f"(use np.flatnonzero(mask))")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of indices, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must contain integer indices, got dtype {arr.dtype}")
    if not arr.size and not allow_empty:
        raise ValueError(f"{name} is empty")
    arr = arr.astype(np.int64)
    bad = arr[(arr < 0) | (arr >= n)]
    if bad.size:
        raise ValueError(f"{name} has indices out of range [0, {n}): {bad[:5].tolist()}")
    uniq, counts = np.unique(arr, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"{name} has duplicated indices: {uniq[counts > 1][:5].tolist()}")
    return arr


def check_labels(name: str, labels) -> np.ndarray:
    """``labels`` as a 1-D int64 array (class labels, e.g. the official training labels of a score file).

    Raises:
        ValueError: not a 1-D array of integers.
    """
    arr = np.asarray(labels)
    if arr.ndim != 1 or (arr.size and not np.issubdtype(arr.dtype, np.integer)):  # [] is an empty labelling
        raise ValueError(f"{name} must be a 1-D integer array, got dtype {arr.dtype} and shape {arr.shape}")
    return arr.astype(np.int64)


def check_numeric(name: str, x) -> np.ndarray:
    """``x`` (a sequence, numpy array or torch tensor, on any device) as a numeric numpy array: integers or
    floats, never booleans, strings or objects.

    Raises:
        TypeError: None, a string, a mapping, or an array whose values are not numbers.
    """
    if x is None or isinstance(x, (str, bytes, Mapping)):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}")
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch tensor (possibly on a GPU / requiring grad)
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__} ({err})") from None
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"{name} must be an array of numbers, got dtype {arr.dtype} from {type(x).__name__}")
    return arr


def check_array(name: str, x, ndim: int, *, allow_nan: bool = False) -> np.ndarray:
    """``x`` as a non-empty float64 array of ``ndim`` dimensions without infinite values (nor NaN, unless
    ``allow_nan``: NaN marks a missing value where the caller documents it).

    Raises:
        TypeError: not numeric (see :func:`check_numeric`).
        ValueError: wrong number of dimensions, empty, NaN or infinite values (the first one's position).
    """
    arr = check_numeric(name, x)
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr) if not allow_nan else np.isinf(arr)
    if bad.any():
        what = "infinite values" if allow_nan else "NaN or infinite values"
        raise ValueError(f"{name} has {what} (first at flat index {int(np.flatnonzero(bad)[0])})")
    return arr


def check_columns(name: str, columns) -> list[str]:
    """``columns`` as a non-empty list of column names; a single string is one name.

    Raises:
        TypeError: not a string or a sequence of strings.
        ValueError: an empty sequence.
    """
    if isinstance(columns, str):
        return [columns]
    if not isinstance(columns, Sequence):
        raise TypeError(f"{name} must be a column name or a non-empty list of them, got {type(columns).__name__}")
    if not columns:
        raise ValueError(f"{name} must be a non-empty list of column names, got {columns!r}")
    bad = [c for c in columns if not isinstance(c, str)]
    if bad:
        raise TypeError(f"{name} must hold column names (strings), got {bad[0]!r}")
    return list(columns)


def check_frame(name: str, frame, columns: Iterable[str] = (), *, numeric: Iterable[str] = ()) -> pd.DataFrame:
    """``frame`` when it is a non-empty DataFrame with every one of ``columns`` and ``numeric`` (the latter
    holding numbers; NaN is allowed: it marks an unknown value in this package's tables).

    Raises:
        TypeError: not a DataFrame, or a ``numeric`` column that holds something else.
        ValueError: empty, or missing columns (all of them named, with the columns it has).
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    numeric = list(numeric)
    missing = [c for c in [*columns, *numeric] if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {missing}; it has {list(frame.columns)}")
    if frame.empty:
        raise ValueError(f"{name} has no rows")
    for c in numeric:
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
            raise TypeError(f"{name}[{c!r}] must hold numbers, got dtype {frame[c].dtype}")
    return frame
