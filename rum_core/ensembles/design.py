"""Which models train on which examples: the in/out design of an ensemble, and per-model seeds."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ..validation import check_int, check_number

DESIGNS = ("balanced", "random")


def _ratio_fraction(subset_ratio: float) -> Fraction:
    subset_ratio = check_number("subset_ratio", subset_ratio, low=0.0, high=1.0, low_open=True, high_open=True)
    return Fraction(subset_ratio).limit_denominator(100)


def inclusion_design(n: int, n_models: int, subset_ratio: float = 0.7, design: str = "balanced",
                     seed: int = 0) -> np.ndarray:
    """The (n_models, n) boolean mask "model k trains on example i", seeded.

    Designs:
        ``"balanced"`` — complementary folds. Write ``subset_ratio`` as a fraction a/b (b ≤ 100; 0.7 = 7/10,
        0.5 = 1/2). The models come in rounds of b; each round randomly partitions the examples into b
        folds of near-equal size (the larger folds spread evenly around the cycle), and model j of the
        round leaves out the b − a consecutive folds j, …, j + b − a − 1 (mod b). So every example is in
        exactly ``a·K/b`` models and out of the rest, every model trains on ⌊·⌋ or ⌈·⌉ of ``a·n/b``
        examples (at most two sizes), and rounds are independent, so which examples share a model is
        random. Needs ``n_models`` to be a multiple of b (and n ≥ b). For a/b = 1/2 this is the classic
        design of complementary random halves.
        ``"random"`` — each model an independent uniformly random subset of ``round(subset_ratio·n)``
        examples; the in/out counts per example vary (binomially).

    Rows are in a random order (seeded), so any prefix of models is not a structured slice of a round.

    With few models the random design can leave an example never in (or never out) of any subset; the
    estimator then warns and returns NaN for it. The balanced design never does.

    Raises:
        ValueError: for an unknown design, a ratio outside (0, 1), or a model count the balanced design
            cannot use.
    """
    n, n_models, seed = check_int("n", n), check_int("n_models", n_models), check_int("seed", seed, low=0)
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}, got {design!r}")
    if n < 2:
        raise ValueError(f"need at least 2 examples, got {n}")
    if n_models < 2:
        raise ValueError(f"need at least 2 models (some in, some out), got {n_models}")
    frac = _ratio_fraction(subset_ratio)
    rng = np.random.default_rng([int(seed), 0x1D5E])
    if design == "random":
        size = int(round(float(subset_ratio) * n))
        if not 1 <= size <= n - 1:
            raise ValueError(f"subset_ratio {subset_ratio} of {n} examples gives subsets of {size}")
        mask = np.zeros((n_models, n), dtype=bool)
        for k in range(n_models):
            mask[k, rng.permutation(n)[:size]] = True
        return mask
    a, b = frac.numerator, frac.denominator
    if n_models % b:
        raise ValueError(f"the balanced design with subset_ratio {subset_ratio} = {a}/{b} needs n_models to be "
                         f"a multiple of {b}, got {n_models} (use e.g. {b * max(1, round(n_models / b))}, or "
                         f"design='random')")
    if n < b:
        raise ValueError(f"the balanced design with {b} folds needs at least {b} examples, got {n}")
    q, s = divmod(n, b)
    big = np.array([((f + 1) * s) // b - (f * s) // b for f in range(b)])  # s ones, evenly spread
    bounds = np.concatenate([[0], np.cumsum(q + big)])
    rows = []
    for _ in range(n_models // b):
        order = rng.permutation(n)
        fold_of = np.empty(n, dtype=np.int64)
        for f in range(b):
            fold_of[order[bounds[f]:bounds[f + 1]]] = f
        for j in range(b):
            out = (fold_of - j) % b < (b - a)
            rows.append(~out)
    mask = np.stack(rows)
    return mask[rng.permutation(n_models)]


def model_seeds(seed: int, n_models: int) -> np.ndarray:
    """Per-model seeds (int64, < 2³¹) derived from ``seed``; model k's seed does not depend on ``n_models``."""
    seed, n_models = check_int("seed", seed, low=0), check_int("n_models", n_models, low=0)
    return np.array([int(np.random.SeedSequence([seed, k]).generate_state(1)[0] >> 1)
                     for k in range(n_models)], dtype=np.int64)
