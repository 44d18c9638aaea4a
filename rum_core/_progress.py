"""Progress bars that render in notebooks and terminals, and can be switched off.

Library code shows progress only through :func:`progress`. Bars are on by default; pass
``enabled=False`` to a call, or set ``RUM_PROGRESS=0`` in the environment to silence them everywhere
(the test suite and the book build do this so logs and rendered pages stay clean).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress_enabled(enabled: bool | None = None) -> bool:
    """Resolve a per-call ``enabled`` flag against the ``RUM_PROGRESS`` environment default."""
    if enabled is not None:
        return bool(enabled)
    return os.environ.get("RUM_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}


def progress(iterable: Iterable[T], *, desc: str | None = None, total: int | None = None,
             enabled: bool | None = None, leave: bool = False) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar when progress is enabled, else return it unchanged."""
    if not progress_enabled(enabled):
        return iter(iterable)
    return iter(tqdm(iterable, desc=desc, total=total, leave=leave, dynamic_ncols=True))
