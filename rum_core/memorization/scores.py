"""The one form of memorization scores that forget sets and RUM's refinement consume, whatever the source."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class MemorizationScores:
    """Per-example memorization as RUM and the memorization forget sets use it, whatever its source.

    Attributes:
        scores: (N,) memorization of each training example, higher = more memorized.
        p_out: (N,) accuracy on the example of models that did not train on it (what retraining is expected
            to get right); NaN where the source does not say.
        source: a human-readable description of where the scores come from.
        config: a JSON-friendly description that identifies the scores (used in cache keys).
        grad_evals: per-example gradient evaluations spent computing the scores here; NaN when they were
            not computed here (published scores).
    """

    scores: np.ndarray
    p_out: np.ndarray
    source: str
    config: dict
    grad_evals: float


