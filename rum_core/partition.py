"""Forget sets: index arrays into ``bundle.train``.

This module will hold every way the book chooses a forget set (random sets here; entanglement- and
memorization-controlled sets later). Every function is deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["random_forget_set"]


def random_forget_set(n_train: int, *, size: int | None = None, fraction: float | None = None,
                      seed: int = 0) -> np.ndarray:
    """A uniformly random forget set of ``size`` examples (or ``fraction`` of ``n_train``), sorted.

    Raises:
        ValueError: unless exactly one of ``size`` / ``fraction`` is given and it selects between 1 and
            ``n_train - 1`` examples (someone must remain to retain).
    """
    if (size is None) == (fraction is None):
        raise ValueError("give exactly one of size= or fraction=")
    if fraction is not None:
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"fraction must be in (0, 1), got {fraction}")
        size = int(round(fraction * n_train))
    if not 1 <= int(size) <= n_train - 1:
        raise ValueError(f"a forget set of {size} examples out of {n_train} leaves nothing to forget or retain")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_train, size=int(size), replace=False)).astype(np.int64)
