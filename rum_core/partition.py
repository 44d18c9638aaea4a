"""Forget sets: index arrays into ``bundle.train``.

This module holds every way the book chooses a forget set, from arrays (embeddings, scores): it knows
nothing of profiles or caches. Every function is deterministic for a given seed. The experiment layer
turns a profile into forget-set functions built on these (:func:`rum_core.experiments.es_forget_sets`,
:func:`rum_core.experiments.memorization_forget_sets`).

Random
    :func:`random_forget_set`  uniformly random, the paper's default.

Entanglement (ES, :func:`rum_core.metrics.entanglement_score`), from the original model's embeddings
    :func:`es_groups`        the paper's procedure: shells by distance to the centroid, pick groups 3/12/14.
    :func:`es_controlled`    compact cluster + growing random share: ES strictly increasing by construction.
    :func:`layer_embeddings` / :func:`scaled_es_picks` / :func:`jaccard`  for asking how the ES partitions move
                             with the embedding layer, the number of groups and the model's seed.
    :func:`set_entanglement` the ES of any index set of an embedding against the rest.

Memorization (:mod:`rum_core.memorization` scores or a proxy)
    :func:`memorization_groups`  the paper's low / medium / high groups: bottom n, n nearest the centre, top n.
    :func:`group_ranges`         each group's size and score range (what its label means).
    :func:`mix`                  a forget set drawing a given number of examples from each group.

Both ES procedures return an :class:`ESForgetSets` that carries the chosen sets *and their measured ES*
(midpoint center, retain = every other training example): the labels low / medium / high only mean
something if the measured ES is monotone in them, which :attr:`ESForgetSets.monotone` tells.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .metrics.entanglement import _embeddings, entanglement_score
from .validation import check_indices, check_int, check_number

__all__ = ["random_forget_set", "ESForgetSets", "es_groups", "es_controlled",
           "PAPER_ES_PICKS", "PAPER_ES_GROUPS", "PAPER_ES", "set_entanglement", "ES_LAYERS", "layer_embeddings", "scaled_es_picks",
           "jaccard", "MEMORIZATION_LEVELS", "memorization_groups", "group_ranges", "mix"]

#: The names of the memorization groups, from least to most memorized.
MEMORIZATION_LEVELS = ("low", "medium", "high")

#: The paper's number of distance-to-centroid groups (15 on CIFAR-10, so 3,000 examples each).
PAPER_ES_GROUPS = 15
#: The paper's picks, read as 0-based group indices (group 14 = the last = the farthest from the centroid).
PAPER_ES_PICKS = {"low": 3, "medium": 12, "high": 14}
#: The ES the paper reports for its low / medium / high groups on CIFAR-10 (Table 1 of Zhao et al. 2024,
#: as transcribed in the project's shared notes): published constants, for comparison only.
PAPER_ES = {"low": 309.94, "medium": 1076.99, "high": 1612.21}


def random_forget_set(n_train: int, *, size: int | None = None, fraction: float | None = None,
                      seed: int = 0) -> np.ndarray:
    """A uniformly random forget set of ``size`` examples (or ``fraction`` of ``n_train``), sorted.

    Raises:
        ValueError: unless exactly one of ``size`` / ``fraction`` is given and it selects between 1 and
            ``n_train - 1`` examples (someone must remain to retain).
    """
    if (size is None) == (fraction is None):
        raise ValueError("give exactly one of size= or fraction=")
    n_train = check_int("n_train", n_train, low=2)
    if fraction is not None:
        fraction = check_number("fraction", fraction, low=0, high=1, low_open=True, high_open=True)
        size = int(round(fraction * n_train))
    size = check_int("size", size)
    if not 1 <= size <= n_train - 1:
        raise ValueError(f"a forget set of {size} examples out of {n_train} leaves nothing to forget or retain")
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    return np.sort(rng.choice(n_train, size=size, replace=False)).astype(np.int64)


# ------------------------------------------------------------------------------------ entanglement
@dataclass(frozen=True)
class ESForgetSets:
    """Forget sets chosen by entanglement, with their measured ES.

    Attributes:
        procedure: ``"paper"`` (:func:`es_groups`) or ``"controlled"`` (:func:`es_controlled`).
        groups: label → sorted int64 indices of that forget set, in level order (low → high).
        es: label → ES of that set against every other example (midpoint center).
        distance: (n,) each example's distance to the reference point: the overall centroid for
            ``"paper"``, the anchor example for ``"controlled"``.
        order: (n,) all indices by increasing ``distance`` (ties broken by index).
        bounds: ``"paper"`` only: (n_groups + 1,) cut positions, group g = ``order[bounds[g]:bounds[g+1]]``.
        group_es: ``"paper"`` only: (n_groups,) ES of every group against the rest (for plotting).
        detail: label → the knob that made the set: the 0-based group index (``"paper"``) or the share
            of uniformly random examples actually used (``"controlled"``).
        anchor: ``"controlled"`` only: index of the example the compact cluster is built around.
    """

    procedure: str
    groups: dict[str, np.ndarray]
    es: dict[str, float]
    distance: np.ndarray
    order: np.ndarray
    detail: dict[str, float]
    bounds: np.ndarray | None = None
    group_es: np.ndarray | None = None
    anchor: int | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.groups)

    @property
    def monotone(self) -> bool:
        """Whether ES strictly increases along :attr:`labels` (the labels are only valid then)."""
        values = [self.es[k] for k in self.groups]
        return all(a < b for a, b in zip(values, values[1:], strict=False))

    def group(self, g: int) -> np.ndarray:
        """``"paper"`` only: the sorted indices of 0-based group ``g`` (any group, picked or not)."""
        if self.bounds is None:
            raise ValueError("group() needs the distance groups of es_groups (procedure 'paper')")
        n_groups = len(self.bounds) - 1
        if isinstance(g, bool) or not isinstance(g, (int, np.integer)) or not 0 <= g < n_groups:
            raise ValueError(f"g must be a group index in [0, {n_groups}), got {g!r}")
        return np.sort(self.order[self.bounds[g]:self.bounds[g + 1]])

    def summary(self):
        """A DataFrame: one row per label with its size, ES and knob (group or random share)."""
        import pandas as pd

        knob = "group" if self.procedure == "paper" else "random_share"
        return pd.DataFrame([{"level": k, "size": len(v), "es": self.es[k], knob: self.detail[k]}
                             for k, v in self.groups.items()])


def set_entanglement(emb: np.ndarray, idx: np.ndarray) -> float:
    """ES of the examples ``idx`` of an (N, d) embedding against all the others (midpoint centre).

    Raises:
        ValueError / TypeError: as :func:`rum_core.validation.check_indices` (negative, duplicated, out of
            range, non-integer indices), or an empty set.
    """
    mask = np.zeros(len(emb), dtype=bool)
    mask[check_indices("idx", idx, len(emb), allow_empty=False)] = True
    return entanglement_score(emb[~mask], emb[mask])


def _centroid_ranking(emb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dist = np.linalg.norm(emb - emb.mean(axis=0), axis=1)
    return dist, np.lexsort((np.arange(len(emb)), dist)).astype(np.int64)


def es_groups(embeddings, *, n_groups: int = PAPER_ES_GROUPS, picks: Mapping[str, int] | None = None
              ) -> ESForgetSets:
    """The paper's ES partition: shells by distance to the centroid; some shells become forget sets.

    Every example is ranked by its Euclidean distance to the centroid of all ``embeddings`` (ties: by
    index), and the ranking is cut into ``n_groups`` contiguous groups whose sizes differ by at most one
    (the larger ones first). The groups are disjoint and cover every example exactly once.

    The paper (15 groups on CIFAR-10) uses "group 3 = low ES, 12 = medium, 14 = high (farthest)". Since 14 is
    called the farthest, the numbers are read as **0-based** indices into groups 0..14 (14 = the last
    group): :data:`PAPER_ES_PICKS`. The labels are the paper's; whether the picked groups' ES really
    increases low → medium → high depends on the embedding (see :attr:`ESForgetSets.monotone`): shells far
    from the centroid are often dominated by one far-out cluster whose mean moves away from the rest, which
    makes them *less* entangled.

    Args:
        embeddings: (n, d) finite embeddings of the training set (the original model's, see
            :func:`rum_core.models.embed`).
        n_groups: number of groups, 2 ≤ n_groups ≤ n.
        picks: label → 0-based group index, in level order; distinct groups. Default
            :data:`PAPER_ES_PICKS`, which needs ``n_groups == 15``.

    Returns:
        :class:`ESForgetSets` with ``procedure="paper"``; ``group_es`` holds the ES of every group.

    Raises:
        TypeError / ValueError: naming the argument, for bad embeddings, ``n_groups`` or ``picks``.
    """
    emb = _embeddings("embeddings", embeddings)
    n = len(emb)
    n_groups = check_int("n_groups", n_groups, low=2)
    if n_groups > n:
        raise ValueError(f"n_groups = {n_groups} is more than the {n} examples in embeddings")
    if picks is None:
        if n_groups != PAPER_ES_GROUPS:
            raise ValueError(f"the paper's picks {PAPER_ES_PICKS} are defined for {PAPER_ES_GROUPS} groups; "
                             f"pass picks= for n_groups = {n_groups}")
        picks = PAPER_ES_PICKS
    if not isinstance(picks, Mapping) or not picks:
        raise TypeError(f"picks must be a non-empty mapping label → group index, got {picks!r}")
    chosen: dict[str, int] = {}
    for label, g in picks.items():
        if not isinstance(label, str) or not label:
            raise TypeError(f"picks labels must be non-empty strings, got {label!r}")
        if isinstance(g, bool) or not isinstance(g, (int, np.integer)):
            raise TypeError(f"picks[{label!r}] must be an integer group index, got {g!r}")
        if not 0 <= int(g) < n_groups:
            raise ValueError(f"picks[{label!r}] = {g} is not a group index in [0, {n_groups})")
        chosen[label] = int(g)
    if len(set(chosen.values())) != len(chosen):
        raise ValueError(f"picks must name distinct groups, got {chosen}")

    dist, order = _centroid_ranking(emb)
    sizes = np.full(n_groups, n // n_groups)
    sizes[: n % n_groups] += 1
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    members = [np.sort(order[bounds[g]:bounds[g + 1]]) for g in range(n_groups)]
    group_es = np.array([set_entanglement(emb, m) for m in members])
    return ESForgetSets(procedure="paper", groups={k: members[g] for k, g in chosen.items()},
                        es={k: float(group_es[g]) for k, g in chosen.items()}, distance=dist, order=order,
                        detail=dict(chosen), bounds=bounds, group_es=group_es)


def _levels_and_fractions(levels, fractions) -> tuple[tuple[str, ...], list[float]]:
    if isinstance(levels, str) or not isinstance(levels, Sequence) or not levels:
        raise TypeError(f"levels must be a non-empty sequence of labels, got {levels!r}")
    for label in levels:
        if not isinstance(label, str) or not label:
            raise TypeError(f"levels must hold non-empty strings, got {label!r}")
    if len(set(levels)) != len(levels):
        raise ValueError(f"levels must be distinct, got {list(levels)}")
    levels = tuple(levels)
    if fractions is None:
        values = np.linspace(0.0, 1.0, len(levels)).tolist() if len(levels) > 1 else [0.0]
    elif isinstance(fractions, Mapping):
        missing = [k for k in levels if k not in fractions]
        if missing or len(fractions) != len(levels):
            raise ValueError(f"fractions must have exactly the keys {list(levels)}, got {list(fractions)}")
        values = [fractions[k] for k in levels]
    elif isinstance(fractions, Sequence) and not isinstance(fractions, str):
        if len(fractions) != len(levels):
            raise ValueError(f"fractions has {len(fractions)} entries for {len(levels)} levels")
        values = list(fractions)
    else:
        raise TypeError(f"fractions must be None, a sequence or a mapping label → share, got {fractions!r}")
    out = []
    for label, v in zip(levels, values, strict=True):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"fractions[{label!r}] must be a number in [0, 1], got {v!r}")
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"fractions[{label!r}] = {v} is not in [0, 1]")
        out.append(float(v))
    if any(b < a for a, b in zip(out, out[1:], strict=False)):
        raise ValueError(f"fractions must not decrease from the first level to the last, got {out}")
    return levels, out


def es_controlled(embeddings, *, size: int, levels: Sequence[str] = ("low", "medium", "high"),
                  fractions: Sequence[float] | Mapping[str, float] | None = None, anchor="random",
                  far_quantile: float = 0.1, seed: int = 0) -> ESForgetSets:
    """Forget sets of ``size`` examples whose ES increases strictly from the first level to the last.

    Construction (all draws from ``np.random.default_rng(seed)``):

    1. an **anchor** example: uniformly random (``anchor="random"``), uniformly random among the
       ``far_quantile`` share of examples farthest from the centroid (``"far"``), or a given index;
    2. the **compact cluster**: every example ranked by distance to the anchor (ties: index), nearest first;
    3. a **random pool**: a uniformly random permutation of all examples.

    A level with random share f takes m = round(f·size) examples: its forget set is the ``size − m``
    nearest neighbours of the anchor plus the first m pool examples not among them. Share 0 is the compact
    cluster (a far, tight set: minimally entangled); share 1 is a uniformly random set (its mean
    coincides with the retain set's up to sampling noise: maximally entangled). ES grows with the share,
    but not necessarily strictly for every seed, so each level's ES is measured (midpoint center, against
    every other example) and, where a level's ES does not exceed the previous level's, its share is raised
    deterministically in steps of ⌈size/100⌉ examples until it does. If even a fully random set does not,
    :class:`ValueError` is raised.

    The levels' sets are **not disjoint**: they share cluster cores and pool examples (use different seeds
    or :func:`es_groups` for disjoint sets). They are deterministic for a seed and differ across seeds.

    Args:
        embeddings: (n, d) finite embeddings of the training set.
        size: examples per forget set, 1 ≤ size ≤ n − 1.
        levels: labels in increasing-ES order.
        fractions: random share of each level (sequence in level order, or mapping label → share), not
            decreasing; default evenly spaced from 0 to 1 (0 / 0.5 / 1 for three levels).
        anchor: ``"random"``, ``"far"`` or an example index.
        far_quantile: share of the farthest-from-centroid examples that ``anchor="far"`` draws from.
        seed: the seed of the anchor and pool draws.

    Returns:
        :class:`ESForgetSets` with ``procedure="controlled"``; ``detail`` holds the random share actually
        used per level, ``distance`` / ``order`` are relative to the anchor.

    Raises:
        TypeError / ValueError: naming the argument, for bad inputs; ValueError when strictly increasing ES
            cannot be reached.
    """
    emb = _embeddings("embeddings", embeddings)
    n = len(emb)
    if n < 2:
        raise ValueError(f"embeddings needs at least 2 examples to split into forget and retain, got {n}")
    size = check_int("size", size, low=1, high=n - 1)
    levels, shares = _levels_and_fractions(levels, fractions)
    if isinstance(far_quantile, bool) or not isinstance(far_quantile, (int, float, np.integer, np.floating)):
        raise TypeError(f"far_quantile must be a number in (0, 1], got {far_quantile!r}")
    if not 0.0 < float(far_quantile) <= 1.0:
        raise ValueError(f"far_quantile = {far_quantile} is not in (0, 1]")
    seed = check_int("seed", seed, low=0)
    rng = np.random.default_rng(seed)

    if isinstance(anchor, str):
        if anchor == "random":
            a = int(rng.integers(n))
        elif anchor == "far":
            _, by_centroid = _centroid_ranking(emb)
            k = max(1, math.ceil(float(far_quantile) * n))
            a = int(by_centroid[n - k:][rng.integers(k)])
        else:
            raise ValueError(f"anchor must be 'random', 'far' or an example index, got {anchor!r}")
    else:
        a = check_int("anchor", anchor, low=0, high=n - 1)
    pool = rng.permutation(n).astype(np.int64)
    dist = np.linalg.norm(emb - emb[a], axis=1)
    order = np.lexsort((np.arange(n), dist)).astype(np.int64)

    def forget_set(m: int) -> np.ndarray:
        core = order[: size - m]
        in_core = np.zeros(n, dtype=bool)
        in_core[core] = True
        extra = pool[~in_core[pool]][:m]
        return np.sort(np.concatenate([core, extra])).astype(np.int64)

    step = max(1, math.ceil(size / 100))
    groups: dict[str, np.ndarray] = {}
    es: dict[str, float] = {}
    used: dict[str, float] = {}
    prev_m, prev_es = 0, -math.inf
    for label, share in zip(levels, shares, strict=True):
        m = max(int(round(share * size)), prev_m)
        while True:
            idx = forget_set(m)
            value = set_entanglement(emb, idx)
            if value > prev_es:
                break
            if m == size:
                raise ValueError(
                    f"es_controlled: level {label!r} cannot get a higher ES than the previous level "
                    f"({prev_es:.4g}) even as a fully random set (ES {value:.4g}); try lower fractions "
                    f"for the earlier levels, fewer levels, another seed or a larger size")
            m = min(size, m + step)
        groups[label], es[label], used[label] = idx, float(value), m / size
        prev_m, prev_es = m, value
    return ESForgetSets(procedure="controlled", groups=groups, es=es, distance=dist, order=order,
                        detail=used, anchor=a)


#: The layers :func:`layer_embeddings` can read: penultimate features (the paper's φ), logits, raw inputs.
ES_LAYERS = ("features", "logits", "input")


def layer_embeddings(model, x, layer: str = "features", *, batch_size: int = 1024) -> np.ndarray:
    """The representation of ``x`` that ES is measured in, as a float64 (N, d) array (eval mode, no grad).

    ``"features"`` is the penultimate layer (:func:`rum_core.models.embed`, the paper's choice);
    ``"logits"`` the model's outputs; ``"input"`` the raw inputs flattened (no model involved, ``model`` may
    be ``None``). Used to ask how much the ES partitions depend on where the embedding is read.

    Raises:
        ValueError: an unknown ``layer``.
    """
    if layer not in ES_LAYERS:
        raise ValueError(f"layer must be one of {list(ES_LAYERS)}, got {layer!r}")
    import torch

    if layer == "input":
        return torch.as_tensor(x).reshape(len(x), -1).double().cpu().numpy()
    if layer == "features":
        from .models import embed

        return embed(model, x, batch_size=batch_size)
    from .training import predict_logits

    return predict_logits(model, x, batch_size=batch_size).double().numpy()


def scaled_es_picks(n_groups: int) -> dict[str, int]:
    """The paper's picks moved to ``n_groups`` groups at the same relative positions.

    The paper takes groups 3 and 12 of 15 (0-based) and the last one; with ``n_groups`` groups this is
    ``low = ⌊3·n_groups/15⌋``, ``medium = ⌊12·n_groups/15⌋``, ``high = n_groups − 1`` — exactly
    :data:`PAPER_ES_PICKS` for 15 groups.

    Raises:
        ValueError: fewer than 6 groups (the three picks would not be distinct).
    """
    n_groups = check_int("n_groups", n_groups, low=6)
    k = PAPER_ES_GROUPS
    return {"low": PAPER_ES_PICKS["low"] * n_groups // k, "medium": PAPER_ES_PICKS["medium"] * n_groups // k,
            "high": n_groups - 1}


def _index_set(name: str, idx) -> np.ndarray:
    """``idx`` as a sorted set of indices: repeats collapse (a set operation ignores them), everything else
    that :func:`~rum_core.validation.check_indices` refuses is refused."""
    arr = idx if isinstance(idx, (str, bytes)) else np.asarray(idx)
    if isinstance(arr, np.ndarray) and arr.ndim == 1 and np.issubdtype(arr.dtype, np.integer):
        arr = np.unique(arr)
    return check_indices(name, arr, np.iinfo(np.int64).max)


def jaccard(a, b) -> float:
    """|A ∩ B| / |A ∪ B| of two index sets (repeats ignored): 1 for the same set, 0 for disjoint sets.

    Raises:
        ValueError: both sets empty (the overlap is undefined).
    """
    a, b = _index_set("a", a), _index_set("b", b)
    union = len(np.union1d(a, b))
    if union == 0:
        raise ValueError("jaccard of two empty sets is undefined")
    return len(np.intersect1d(a, b, assume_unique=True)) / union


# ------------------------------------------------------------------------------------ memorization
def _scores_vector(scores) -> np.ndarray:
    s = np.asarray(scores.detach().cpu().numpy() if hasattr(scores, "detach") else scores)
    if s.ndim != 1 or not (np.issubdtype(s.dtype, np.floating) or np.issubdtype(s.dtype, np.integer)):
        raise ValueError(f"scores must be a 1-D numeric array, got dtype {s.dtype} and shape {s.shape}")
    s = s.astype(np.float64)
    if np.isinf(s).any():
        raise ValueError("scores contain infinite values")
    return s


def memorization_groups(scores, n: int, *, medium_center: float = 0.5, flip: bool = False,
                        nan_policy: str = "raise", exclude=None) -> dict[str, np.ndarray]:
    """The paper's low / medium / high memorization groups of ``n`` examples each (rank-based, not per class).

    Order the examples by (score, index) ascending. ``low`` = the first n, ``high`` = the last n,
    ``medium`` = among the remaining examples, the n whose score is closest to ``medium_center``, ties
    broken by (score, index). The groups are disjoint and deterministic (no shuffling anywhere).

    Args:
        scores: (N,) memorization scores (or a proxy).
        flip: the scores are high for LOW memorization (e.g. confidence, C-scores with ``medium_center``
            in their units): groups are then formed on −scores and −medium_center, so ``high`` still means
            high memorization.
        nan_policy: ``"raise"`` (default) rejects NaN scores; ``"omit"`` leaves NaN examples out of every
            group.
        exclude: indices left out of every group before ranking (e.g. a reported forget set, so that the
            same construction on the rest gives disjoint tuning groups with the same score ranges).

    Returns:
        ``{"low": idx, "medium": idx, "high": idx}``, each a sorted int64 array of n indices.

    Raises:
        ValueError: NaN scores under ``nan_policy="raise"``, or fewer than 3n usable examples.
    """
    s = _scores_vector(scores)
    n = check_int("n", n, low=1)
    if nan_policy not in ("raise", "omit"):
        raise ValueError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
    nan = np.isnan(s)
    if nan.any() and nan_policy == "raise":
        raise ValueError(f"{int(nan.sum())} scores are NaN (e.g. at {np.flatnonzero(nan)[:5].tolist()}); "
                         f"pass nan_policy='omit' to leave those examples out of every group")
    center = check_number("medium_center", medium_center)
    if flip:
        s, center = -s, -center
    usable = ~nan
    if exclude is not None:
        usable[check_indices("exclude", exclude, len(s))] = False
    valid = np.flatnonzero(usable)
    if len(valid) < 3 * n:
        raise ValueError(f"three disjoint groups of {n} need {3 * n} scored examples, got {len(valid)}")
    ranked = valid[np.lexsort((valid, s[valid]))]  # by score, then index
    low, high, rest = ranked[:n], ranked[-n:], ranked[n:-n]
    medium = rest[np.lexsort((rest, s[rest], np.abs(s[rest] - center)))[:n]]
    return {"low": np.sort(low), "medium": np.sort(medium), "high": np.sort(high)}


def group_ranges(scores, groups: Mapping[str, np.ndarray]):
    """A DataFrame, one row per group: its size and the ``min``, ``mean`` and ``max`` of ``scores`` over it.

    What a level label means is its score range: the chapters print it beside every memorization level.

    Raises:
        ValueError / TypeError: a bad index set (:func:`rum_core.validation.check_indices`, empty included),
            or NaN/inf scores inside a group (a range of NaN would read as a level without one).
    """
    import pandas as pd

    s = _scores_vector(scores)
    rows = []
    for level, idx in groups.items():
        v = s[check_indices(f"groups[{level!r}]", idx, len(s), allow_empty=False)]
        if not np.isfinite(v).all():
            raise ValueError(f"scores of group {level!r} hold {int((~np.isfinite(v)).sum())} NaN or infinite "
                             f"values")
        rows.append({"level": str(level), "size": int(len(v)), "min": float(v.min()), "mean": float(v.mean()),
                     "max": float(v.max())})
    return pd.DataFrame(rows)


def mix(groups: Mapping[str, np.ndarray], n_each, seed: int = 0) -> np.ndarray:
    """A forget set mixing the groups: ``n_each`` examples drawn at random (seeded) from each group.

    Args:
        groups: name → index array (e.g. from :func:`memorization_groups`); they must be disjoint.
        n_each: an int for every group, or a mapping name → count (groups not named contribute nothing).
        seed: seeds the draws (each group gets its own stream keyed by its name, so one group's draw does
            not depend on the other groups).

    Returns:
        The sorted int64 union of the draws.

    Raises:
        ValueError: overlapping groups, an unknown group name, or a count larger than its group.
    """
    if not isinstance(groups, Mapping) or not groups:
        raise TypeError("groups must be a non-empty mapping name → index array")
    arrays = {str(k): check_indices(f"groups[{k!r}]", v, np.iinfo(np.int64).max) for k, v in groups.items()}
    counts = dict(n_each) if isinstance(n_each, Mapping) else {k: n_each for k in arrays}
    unknown = set(counts) - set(arrays)
    if unknown:
        raise ValueError(f"n_each names unknown groups {sorted(unknown)}; groups are {sorted(arrays)}")
    seen = np.concatenate(list(arrays.values()))
    if len(np.unique(seen)) != len(seen):
        raise ValueError("groups overlap (or repeat an index); mix needs disjoint groups")
    parts = []
    for name in sorted(arrays):
        if name not in counts:
            continue
        c = check_int(f"n_each[{name!r}]", counts[name], low=0)
        members = np.sort(arrays[name])
        if c > len(members):
            raise ValueError(f"cannot draw {c} examples from group {name!r} of {len(members)}")
        rng = np.random.default_rng([check_int("seed", seed, low=0), *name.encode()])
        parts.append(members[rng.choice(len(members), size=c, replace=False)])
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


#END
