"""RUM, the Refined-Unlearning Meta-algorithm of Zhao et al. (2024): refinement + meta-unlearning.

1. **Refinement** (:func:`refine`): split a forget set S into ``k`` homogeneous subsets by a per-example
   score (a memorization estimate, a cheap proxy, or an entanglement-like score), ordered from the lowest
   to the highest score. :func:`random_split` is the paper's "shuffle" control: ``k`` seeded random subsets.
2. **Meta-unlearning** (:func:`meta_unlearn`): run one unlearner per subset, in the given order, each step
   starting from the previous step's model. The retain set of each step is a parameter
   (:data:`RETAIN_POLICIES`):

   ``"processed"`` (the authors' code)  step i retains D minus the subsets processed so far
                                        (S_1 ∪ … ∪ S_i); later subsets are still in the retain set.
   ``"forget"``                         every step retains D minus the whole forget set S.

The paper's table rows are named configurations (:class:`Variant`), built by :func:`vanilla`,
:func:`shuffle`, :func:`rum_f`, :func:`rum` and the ablation :func:`high_only`; :func:`run_variant` runs one
on a forget set. :func:`select_steps` picks each subset's method from candidates, either by ToW against a
retrained model (:func:`oracle_criterion`, needs the retrain) or without one (:func:`held_out_criterion`:
the target accuracy of a subset is its mean held-out accuracy ``p_out`` from the memorization models that
RUM's refinement needs anyway; retain and validation accuracy should stay at the original model's). Both
criteria read the validation split, never the test set the tables report.

:data:`PAPER_TABLE` holds the paper's published CIFAR numbers for comparison.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from . import unlearners
from .data import DataBundle, check_split
from .metrics.accuracy import accuracy, tow
from .partition import MEMORIZATION_LEVELS
from .validation import check_frame, check_indices, check_int

__all__ = ["LEVELS", "RETAIN_POLICIES", "PAPER_TABLE", "paper_table", "refine", "random_split", "retain_sets",
           "Step", "StepRecord", "MetaResult", "meta_unlearn", "Variant", "vanilla", "shuffle", "rum_f", "rum",
           "high_only", "AUTHORS_RUM", "split_for", "run_variant", "oracle_criterion", "held_out_criterion",
           "select_steps", "Selection", "hparam_grid", "paper_layout"]

#: Names of the subsets of a 3-way refinement, from the lowest to the highest score (the memorization levels).
LEVELS = MEMORIZATION_LEVELS
#: Retain-set policies of :func:`meta_unlearn` (see the module docstring).
RETAIN_POLICIES = ("processed", "forget")

# Zhao et al. (2024), "What makes unlearning hard and what to do about it", NeurIPS 2024, Table 1
# (arXiv 2406.01257; as transcribed in the project's shared notes seed-slides.md and paper-notes.md): ToW as
# mean ± 95% interval over the paper's seeds and the mean MIA gap, CIFAR-10 / ResNet-18 and CIFAR-100 /
# ResNet-50, forget sets of 3,000 examples (1,000 each of low / medium / high memorization).
PAPER_TABLE: dict[str, dict[tuple[str, str], dict[str, float]]] = {
    "cifar10": {
        ("retrain", "retrain"): {"tow": 1.000, "tow_ci": 0.000, "mia_gap": 0.000},
        ("finetune", "vanilla"): {"tow": 0.849, "tow_ci": 0.030, "mia_gap": 0.120},
        ("finetune", "shuffle"): {"tow": 0.712, "tow_ci": 0.040, "mia_gap": 0.098},
        ("finetune", "rum_f"): {"tow": 0.937, "tow_ci": 0.052, "mia_gap": 0.099},
        ("l1_sparse", "vanilla"): {"tow": 0.794, "tow_ci": 0.035, "mia_gap": 0.175},
        ("l1_sparse", "shuffle"): {"tow": 0.716, "tow_ci": 0.023, "mia_gap": 0.257},
        ("l1_sparse", "rum_f"): {"tow": 0.900, "tow_ci": 0.020, "mia_gap": 0.072},
        ("neggrad_plus", "vanilla"): {"tow": 0.802, "tow_ci": 0.028, "mia_gap": 0.230},
        ("neggrad_plus", "shuffle"): {"tow": 0.632, "tow_ci": 0.022, "mia_gap": 0.520},
        ("neggrad_plus", "rum_f"): {"tow": 0.879, "tow_ci": 0.068, "mia_gap": 0.134},
        ("salun", "vanilla"): {"tow": 0.731, "tow_ci": 0.070, "mia_gap": 0.374},
        ("salun", "shuffle"): {"tow": 0.727, "tow_ci": 0.030, "mia_gap": 0.234},
        ("salun", "rum_f"): {"tow": 0.887, "tow_ci": 0.069, "mia_gap": 0.031},
        ("rum", "rum"): {"tow": 0.965, "tow_ci": 0.014, "mia_gap": 0.034},
    },
    "cifar100": {
        ("retrain", "retrain"): {"tow": 1.000, "tow_ci": 0.000, "mia_gap": 0.000},
        ("finetune", "vanilla"): {"tow": 0.734, "tow_ci": 0.025, "mia_gap": 0.139},
        ("finetune", "shuffle"): {"tow": 0.589, "tow_ci": 0.036, "mia_gap": 0.345},
        ("finetune", "rum_f"): {"tow": 0.784, "tow_ci": 0.040, "mia_gap": 0.093},
        ("l1_sparse", "vanilla"): {"tow": 0.824, "tow_ci": 0.011, "mia_gap": 0.089},
        ("l1_sparse", "shuffle"): {"tow": 0.604, "tow_ci": 0.023, "mia_gap": 0.353},
        ("l1_sparse", "rum_f"): {"tow": 0.883, "tow_ci": 0.046, "mia_gap": 0.033},
        ("neggrad_plus", "vanilla"): {"tow": 0.861, "tow_ci": 0.069, "mia_gap": 0.159},
        ("neggrad_plus", "shuffle"): {"tow": 0.613, "tow_ci": 0.054, "mia_gap": 0.417},
        ("neggrad_plus", "rum_f"): {"tow": 0.921, "tow_ci": 0.034, "mia_gap": 0.059},
        ("salun", "vanilla"): {"tow": 0.545, "tow_ci": 0.061, "mia_gap": 0.372},
        ("salun", "shuffle"): {"tow": 0.538, "tow_ci": 0.019, "mia_gap": 0.237},
        ("salun", "rum_f"): {"tow": 0.614, "tow_ci": 0.037, "mia_gap": 0.181},
        ("rum", "rum"): {"tow": 0.921, "tow_ci": 0.034, "mia_gap": 0.059},
    },
}
"""The paper's Table 1: dataset → (method, variant) → ``{"tow", "tow_ci", "mia_gap"}`` (published constants).

Source: Zhao et al., NeurIPS 2024 (arXiv 2406.01257), Table 1, transcribed from the talk summary
``seed-slides.md`` of this project's shared notes. ``rum`` is the authors' RUM (nothing on low, Fine-tune on
medium, SalUn on high memorization)."""


def paper_table(dataset: str = "cifar10") -> pd.DataFrame:
    """:data:`PAPER_TABLE` for one dataset as a frame with columns ``label, method, variant, tow, tow_ci,
    mia_gap``; ``label`` is the row name used by :func:`rum_core.experiments.rum_cells` (``"finetune rum_f"``,
    ``"rum"``, ``"retrain"``)."""
    if dataset not in PAPER_TABLE:
        raise ValueError(f"dataset must be one of {sorted(PAPER_TABLE)}, got {dataset!r}")
    return pd.DataFrame([{"label": m if m == v else f"{m} {v}", "method": m, "variant": v, **vals}
                         for (m, v), vals in PAPER_TABLE[dataset].items()])


# ------------------------------------------------------------------------------------------- refinement
def _forget_array(forget_idx, name: str = "forget_idx") -> np.ndarray:
    """A non-empty forget set (:func:`rum_core.validation.check_indices`; its upper bound is checked where
    the training set's size is known)."""
    if forget_idx is None:
        raise TypeError(f"{name} must be an array of training indices, got None")
    return check_indices(name, forget_idx, np.iinfo(np.int64).max, allow_empty=False)


def _k(k, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the forget set's size {n}, got {k}")
    return int(k)


def refine(forget_idx, scores, k: int = 3) -> list[np.ndarray]:
    """Split ``forget_idx`` into ``k`` homogeneous subsets by ``scores``, ordered low → high.

    The forget examples are ranked by (score, index) ascending and cut into ``k`` consecutive blocks whose
    sizes differ by at most one (the first ``len % k`` blocks get the extra example). The blocks are
    disjoint, cover the forget set, and every score in block i is ≤ every score in block i + 1.

    Args:
        forget_idx: indices into the training set.
        scores: one score per TRAINING example (indexed by training index, so ``len(scores) > max(forget)``),
            e.g. memorization estimates, an oriented proxy (higher = more memorized) or ES-like values.
        k: number of subsets (default 3: low, medium, high).

    Returns:
        ``k`` sorted int64 index arrays, from the lowest-scored block to the highest.

    Raises:
        TypeError: non-integer indices or non-numeric scores.
        ValueError: an empty / repeating forget set, indices beyond ``scores``, NaN or infinite scores of
            forget examples, or ``k`` outside ``1..len(forget_idx)``.
    """
    f = _forget_array(forget_idx)
    s = np.asarray(scores.detach().cpu().numpy() if hasattr(scores, "detach") else scores)
    if s.ndim != 1 or not (np.issubdtype(s.dtype, np.floating) or np.issubdtype(s.dtype, np.integer)):
        raise TypeError(f"scores must be a 1-D numeric array (one per training example), got dtype {s.dtype} "
                        f"and shape {s.shape}")
    if f.max() >= len(s):
        raise ValueError(f"forget_idx has index {int(f.max())} but scores has only {len(s)} entries: pass one "
                         f"score per training example")
    k = _k(k, len(f))
    fs = s[f].astype(np.float64)
    if not np.isfinite(fs).all():
        bad = f[~np.isfinite(fs)]
        raise ValueError(f"scores of {bad.size} forget example(s) are NaN or infinite (e.g. {bad[:5].tolist()})")
    ranked = f[np.lexsort((f, fs))]
    return [np.sort(block) for block in np.array_split(ranked, k)]


def random_split(forget_idx, k: int = 3, *, seed: int = 0) -> list[np.ndarray]:
    """The paper's "shuffle" control: ``k`` random subsets of ``forget_idx`` (sizes differ by ≤ 1), seeded.

    The same ``seed`` always gives the same split; the split does not depend on the order of ``forget_idx``.
    """
    f = np.sort(_forget_array(forget_idx))
    k = _k(k, len(f))
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    perm = np.random.default_rng([int(seed), 0x5F0]).permutation(len(f))
    return [np.sort(block) for block in np.array_split(f[perm], k)]


def _check_subsets(subsets, n_train: int) -> list[np.ndarray]:
    if isinstance(subsets, np.ndarray) or not isinstance(subsets, Sequence) or not len(subsets):
        raise TypeError("subsets must be a non-empty sequence of index arrays (e.g. from refine)")
    out = [_forget_array(s, f"subsets[{i}]") for i, s in enumerate(subsets)]
    union = np.concatenate(out)
    if len(np.unique(union)) != len(union):
        raise ValueError("subsets overlap: each forget example must be in exactly one subset")
    if union.max() >= n_train:
        raise ValueError(f"subsets have index {int(union.max())} but the training set has {n_train} examples")
    return [np.sort(s) for s in out]


def retain_sets(n_train: int, subsets: Sequence[np.ndarray], policy: str = "processed") -> list[np.ndarray]:
    """The retain set of every step of :func:`meta_unlearn` under ``policy``.

    ``"processed"``: step i retains ``range(n_train)`` minus S_1 ∪ … ∪ S_i (the authors' code);
    ``"forget"``: every step retains ``range(n_train)`` minus the union of all subsets.
    """
    if policy not in RETAIN_POLICIES:
        raise ValueError(f"retain_policy must be one of {RETAIN_POLICIES}, got {policy!r}")
    n_train = check_int("n_train", n_train, low=1)
    subsets = _check_subsets(subsets, n_train)
    everything = np.arange(n_train)
    if policy == "forget":
        rest = np.setdiff1d(everything, np.concatenate(subsets))
        return [rest.copy() for _ in subsets]
    out, done = [], np.zeros(0, dtype=np.int64)
    for s in subsets:
        done = np.union1d(done, s)
        out.append(np.setdiff1d(everything, done))
    return out


# ---------------------------------------------------------------------------------------- meta-unlearning
@dataclass(frozen=True)
class Step:
    """One step of a meta-unlearning pipeline: a registry method and its hyperparameters."""

    method: str
    hparams: Mapping = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.method, str):
            raise TypeError(f"Step.method must be a registry name (str), got {type(self.method).__name__}")
        if not isinstance(self.hparams, Mapping):
            raise TypeError(f"Step.hparams must be a mapping, got {type(self.hparams).__name__}")
        if self.method == "retrain":
            raise ValueError("'retrain' is the reference, not a meta-unlearning step")
        unlearners.make(self.method, **self.hparams)  # validates name and hyperparameters
        object.__setattr__(self, "hparams", dict(self.hparams))

    def as_dict(self) -> dict:
        return {"method": self.method, **self.hparams}


def _as_step(step) -> Step:
    if isinstance(step, Step):
        return step
    if isinstance(step, str):
        return Step(step)
    if isinstance(step, Mapping):
        if "method" not in step:
            raise ValueError(f"a step mapping needs a 'method' key, got keys {sorted(step)}")
        return Step(step["method"], {k: v for k, v in step.items() if k != "method"})
    if isinstance(step, tuple) and len(step) == 2:
        return Step(step[0], step[1])
    raise TypeError(f"a step must be a Step, a method name, (name, hparams) or {{'method': name, ...}}, "
                    f"got {type(step).__name__}")


def _as_steps(steps) -> tuple[Step, ...]:
    """One step (any form :func:`_as_step` takes) or a sequence of them, as a tuple of :class:`Step`."""
    single = isinstance(steps, (Step, str, Mapping)) or (
        isinstance(steps, tuple) and len(steps) == 2 and isinstance(steps[0], str) and isinstance(steps[1], Mapping))
    return (_as_step(steps),) if single else tuple(_as_step(s) for s in steps)


@dataclass(frozen=True)
class StepRecord:
    """What one meta-unlearning step did and how the model looked afterwards.

    ``acc_subset`` is the accuracy on this step's subset, ``acc_forget / acc_retain / acc_test`` on the whole
    forget set, D minus the whole forget set, and the test set, all measured after the step.
    """

    step: int
    level: str
    subset: np.ndarray
    method: str
    hparams: dict
    seconds: float
    grad_evals: int
    n_retain: int
    acc_subset: float
    acc_forget: float
    acc_retain: float
    acc_test: float


@dataclass
class MetaResult:
    """The model after every step, the per-step records and the total cost."""

    model: object
    steps: list[StepRecord]
    retain_policy: str

    @property
    def seconds(self) -> float:
        return float(sum(r.seconds for r in self.steps))

    @property
    def grad_evals(self) -> int:
        return int(sum(r.grad_evals for r in self.steps))

    def records(self) -> pd.DataFrame:
        """One row per step (the subset as its size)."""
        return pd.DataFrame([{**{k: v for k, v in vars(r).items() if k != "subset"}, "n_subset": len(r.subset)}
                             for r in self.steps])


def _level_names(k: int) -> list[str]:
    return list(LEVELS) if k == 3 else [f"part{i + 1}" for i in range(k)]


def meta_unlearn(model, bundle: DataBundle, subsets: Sequence, steps, *, retain_policy: str = "processed",
                 seed: int = 0, levels: Sequence[str] | None = None, progress_bar: bool | None = None
                 ) -> MetaResult:
    """Unlearn ``subsets`` one after another, step i with ``steps[i]`` starting from step i − 1's model.

    Args:
        model: the original model θᵒ (never modified).
        subsets: the refined forget set, in processing order (e.g. :func:`refine`'s low → high).
        steps: one step per subset, or a single step for all; a step is a :class:`Step`, a method name,
            ``(name, hparams)`` or ``{"method": name, **hparams}``.
        retain_policy: ``"processed"`` or ``"forget"``, see :func:`retain_sets`.
        seed: passed unchanged to every step's unlearner (so a pipeline equals the same calls made by hand).
        levels: names of the subsets in the records (default low/medium/high for three subsets).

    Returns:
        A :class:`MetaResult` with the final model and one :class:`StepRecord` per step.

    Raises:
        TypeError / ValueError: for malformed subsets or steps, a step count that matches neither 1 nor the
            number of subsets, or an unknown retain policy.
    """
    if not isinstance(bundle, DataBundle):
        raise TypeError(f"bundle must be a rum_core.data.DataBundle, got {type(bundle).__name__}")
    n = len(bundle.train)
    subsets = _check_subsets(subsets, n)
    steps = list(_as_steps(steps))
    if len(steps) == 1:
        steps = steps * len(subsets)
    if len(steps) != len(subsets):
        raise ValueError(f"got {len(steps)} steps for {len(subsets)} subsets: give one step per subset or one "
                         f"for all")
    retains = retain_sets(n, subsets, retain_policy)
    names = list(levels) if levels is not None else _level_names(len(subsets))
    if len(names) != len(subsets):
        raise ValueError(f"levels names {len(names)} subsets but there are {len(subsets)}")
    record = _step_recorder(bundle, subsets)
    current, records = model, []
    for i, (subset, step, retain) in enumerate(zip(subsets, steps, retains, strict=True)):
        result = unlearners.make(step.method, **step.hparams)(current, bundle, subset, retain, seed=seed,
                                                              progress_bar=progress_bar)
        current = result.model  # an unlearner always returns a new model: ``model`` is never modified
        records.append(record(i, names[i], subset, step, result, retain))
    return MetaResult(model=current, steps=records, retain_policy=retain_policy)


def _step_recorder(bundle: DataBundle, subsets: Sequence[np.ndarray]):
    """``record(i, level, subset, step, result, retain) → StepRecord`` for a pipeline over ``subsets``."""
    forget_all = np.sort(np.concatenate(subsets))
    _, retain_all = check_split(len(bundle.train), forget_all)
    tr = bundle.train

    def record(i, level, subset, step, result, retain) -> StepRecord:
        m = result.model
        return StepRecord(
            step=i, level=level, subset=subset, method=step.method, hparams=dict(result.hparams),
            seconds=float(result.seconds), grad_evals=int(result.grad_evals), n_retain=int(len(retain)),
            acc_subset=accuracy(m, tr.x[subset], tr.y[subset]),
            acc_forget=accuracy(m, tr.x[forget_all], tr.y[forget_all]),
            acc_retain=accuracy(m, tr.x[retain_all], tr.y[retain_all]),
            acc_test=accuracy(m, bundle.test.x, bundle.test.y))

    return record


# ------------------------------------------------------------------------------------------------ variants
SPLITS = ("none", "shuffle", "score")


@dataclass(frozen=True)
class Variant:
    """A named meta-unlearning configuration (a row family of the paper's table).

    Attributes:
        name: ``vanilla``, ``shuffle``, ``rum_f``, ``rum``, ``high_only`` or your own label.
        split: ``"none"`` (the whole forget set in one step), ``"shuffle"`` (:func:`random_split`) or
            ``"score"`` (:func:`refine` by the scores given to :func:`run_variant`, low → high).
        steps: one :class:`Step` per subset, or one for all.
        k: number of subsets (ignored for ``"none"``).
        retain_policy: see :func:`retain_sets`.
    """

    name: str
    split: str
    steps: tuple
    k: int = 3
    retain_policy: str = "processed"

    def __post_init__(self):
        if self.split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {self.split!r}")
        if self.retain_policy not in RETAIN_POLICIES:
            raise ValueError(f"retain_policy must be one of {RETAIN_POLICIES}, got {self.retain_policy!r}")
        steps = _as_steps(self.steps)
        if not steps:
            raise ValueError(f"variant {self.name!r} has no steps")
        n_parts = 1 if self.split == "none" else check_int("k", self.k, low=1)
        if len(steps) not in (1, n_parts):
            raise ValueError(f"variant {self.name!r} has {len(steps)} steps for {n_parts} subsets")
        object.__setattr__(self, "steps", steps)

    @property
    def method(self) -> str:
        """The method of a single-method variant, ``"rum"``-style ``"a+b+c"`` otherwise."""
        names = [s.method for s in self.steps]
        return names[0] if len(set(names)) == 1 else "+".join(names)

    def with_hparams(self, **overrides) -> Variant:
        """The same variant with ``overrides`` applied to every non-identity step."""
        steps = tuple(s if s.method == "identity" else Step(s.method, {**s.hparams, **overrides})
                      for s in self.steps)
        return replace(self, steps=steps)

    def as_dict(self) -> dict:
        return {"name": self.name, "split": self.split, "k": self.k, "retain_policy": self.retain_policy,
                "steps": [s.as_dict() for s in self.steps]}


def vanilla(method: str, **hparams) -> Variant:
    """The method on the whole forget set in one go."""
    return Variant("vanilla", "none", (Step(method, hparams),))


def shuffle(method: str, k: int = 3, retain_policy: str = "processed", **hparams) -> Variant:
    """The method on ``k`` seeded random subsets in sequence (the paper's control for RUM^F)."""
    return Variant("shuffle", "shuffle", (Step(method, hparams),), k=k, retain_policy=retain_policy)


def rum_f(method: str, k: int = 3, retain_policy: str = "processed", **hparams) -> Variant:
    """RUM^F: the method on the ``k`` score-refined subsets, low → high."""
    return Variant("rum_f", "score", (Step(method, hparams),), k=k, retain_policy=retain_policy)


#: The authors' RUM: nothing on low, Fine-tune on medium, SalUn on high memorization.
AUTHORS_RUM = ("identity", "finetune", "salun")


def rum(steps=AUTHORS_RUM, retain_policy: str = "processed", name: str = "rum") -> Variant:
    """RUM: a (possibly different) method per refined subset, each step with its own hyperparameters."""
    steps = _as_steps(steps)
    return Variant(name, "score", steps, k=len(steps), retain_policy=retain_policy)


def high_only(method: str, retain_policy: str = "processed", **hparams) -> Variant:
    """Ablation: nothing on the low and medium subsets, the method on the high subset only."""
    return Variant("high_only", "score", (Step("identity"), Step("identity"), Step(method, hparams)),
                   retain_policy=retain_policy)


def split_for(variant: Variant, forget_idx, scores=None, *, seed: int = 0) -> list[np.ndarray]:
    """The subsets ``variant`` processes, in order."""
    if not isinstance(variant, Variant):
        raise TypeError(f"variant must be a rum_core.rum.Variant, got {type(variant).__name__}")
    if variant.split == "none":
        return [np.sort(_forget_array(forget_idx))]
    if variant.split == "shuffle":
        return random_split(forget_idx, variant.k, seed=seed)
    if scores is None:
        raise ValueError(f"variant {variant.name!r} refines by scores: pass scores=")
    return refine(forget_idx, scores, variant.k)


def run_variant(variant: Variant, model, bundle: DataBundle, forget_idx, scores=None, *, seed: int = 0,
                progress_bar: bool | None = None) -> MetaResult:
    """Run ``variant`` on ``forget_idx``: split (by ``scores`` or seeded at random), then meta-unlearn."""
    subsets = split_for(variant, forget_idx, scores, seed=seed)
    levels = ["all"] if variant.split == "none" else None
    return meta_unlearn(model, bundle, subsets, variant.steps, retain_policy=variant.retain_policy, seed=seed,
                        levels=levels, progress_bar=progress_bar)


# -------------------------------------------------------------------------------------------- selection
Criterion = Callable[[object, np.ndarray, np.ndarray], float]


def _subset_tow_criterion(bundle: DataBundle, forget_idx, reference, subset_target) -> Criterion:
    """ToW of a candidate on one subset: its accuracies on (subset, R, validation) against targets.

    R = D minus the whole forget set; the retain and validation targets are ``reference``'s accuracies, the
    subset target is ``subset_target(subset)``. The third factor is read on the bundle's VALIDATION split,
    never on the test set: the test set is what the tables report, so choosing on it would leak.

    Raises:
        ValueError: the bundle has no validation split.
    """
    _, retain = check_split(len(bundle.train), forget_idx)
    tr, val = bundle.train, bundle.validation()
    targets = {"retain": accuracy(reference, tr.x[retain], tr.y[retain]),
               "test": accuracy(reference, val.x, val.y)}

    def score(model, subset, _retain) -> float:
        return tow({"forget": accuracy(model, tr.x[subset], tr.y[subset]),
                    "retain": accuracy(model, tr.x[retain], tr.y[retain]),
                    "test": accuracy(model, val.x, val.y)},
                   {**targets, "forget": subset_target(subset)})

    return score


def oracle_criterion(reference, bundle: DataBundle, forget_idx) -> Criterion:
    """ToW on one subset against the retrained model ``reference`` (needs retraining: an oracle).

    The score of a candidate model after unlearning subset S_i is
    (1 − |a(S_i) − aʳ(S_i)|)(1 − |a(R) − aʳ(R)|)(1 − |a(val) − aʳ(val)|), R = D minus the whole forget set and
    val the bundle's validation split (never the reported test set).
    """
    tr = bundle.train
    score = _subset_tow_criterion(bundle, forget_idx, reference,
                                  lambda subset: accuracy(reference, tr.x[subset], tr.y[subset]))
    score.needs_retrain = True
    return score


def held_out_criterion(original, bundle: DataBundle, forget_idx, p_out) -> Criterion:
    """Predicted ToW on one subset WITHOUT a retrained model ("held-out accuracy matching").

    A retrained model never saw S, so its expected accuracy on an example is the example's held-out accuracy
    ``p_out`` = the fraction of the memorization models that did NOT train on it and still classify it
    correctly (:attr:`rum_core.memorization.MemorizationEstimate.p_out`; RUM needs these models anyway to
    refine). Retrain's retain and validation accuracy are predicted by the original model's. The score is
    (1 − |a(S_i) − mean p_out(S_i)|)(1 − |a(R) − aᵒ(R)|)(1 − |a(val) − aᵒ(val)|), val = the bundle's
    validation split, disjoint from the test set the tables report.
    """
    p = np.asarray(p_out, dtype=np.float64)
    if p.ndim != 1 or len(p) != len(bundle.train):
        raise ValueError(f"p_out must have one value per training example ({len(bundle.train)}), got shape {p.shape}")

    def mean_p_out(subset) -> float:
        known = p[subset][~np.isnan(p[subset])]
        if known.size == 0:
            raise ValueError("p_out is unknown (NaN) for every example of a subset: the held-out criterion needs "
                             "held-out accuracies (our memorization estimate or C-scores give them; Feldman & "
                             "Zhang's published files do not)")
        return float(known.mean())

    score = _subset_tow_criterion(bundle, forget_idx, original, mean_p_out)
    score.needs_retrain = False
    return score


@dataclass
class Selection:
    """The steps chosen by :func:`select_steps`, the final model and each candidate's score per subset."""

    steps: list[Step]
    result: MetaResult
    scores: pd.DataFrame


def select_steps(model, bundle: DataBundle, subsets: Sequence, candidates: Sequence, criterion: Criterion, *,
                 retain_policy: str = "processed", seed: int = 0, progress_bar: bool | None = None) -> Selection:
    """Greedy per-subset choice: for each subset in order, run every candidate from the current model, keep
    the one with the highest ``criterion(model_after, subset, retain)``, and continue from its model.

    Ties go to the earlier candidate. The cost of the search (every candidate run) is in ``scores``; the
    returned ``result`` records only the chosen steps.
    """
    cands = [_as_step(c) for c in candidates]
    if not cands:
        raise ValueError("candidates is empty")
    n = len(bundle.train)
    subsets = _check_subsets(subsets, n)
    retains = retain_sets(n, subsets, retain_policy)
    names = _level_names(len(subsets))
    record = _step_recorder(bundle, subsets)
    current, chosen, records, rows = model, [], [], []
    for i, (subset, retain) in enumerate(zip(subsets, retains, strict=True)):
        best = None
        for j, step in enumerate(cands):
            res = unlearners.make(step.method, **step.hparams)(current, bundle, subset, retain, seed=seed,
                                                               progress_bar=progress_bar)
            value = float(criterion(res.model, subset, retain))
            rows.append({"step": i, "level": names[i], "candidate": j, "method": step.method, "score": value,
                         "seconds": res.seconds, "grad_evals": res.grad_evals})
            if best is None or value > best[0]:
                best = (value, step, res)
        _, step, res = best
        chosen.append(step)
        records.append(record(i, names[i], subset, step, res, retain))
        current = res.model
    # the chosen runs are exactly what meta_unlearn(model, …, chosen, seed=seed) would run: keep them
    result = MetaResult(model=current, steps=records, retain_policy=retain_policy)
    return Selection(steps=chosen, result=result, scores=pd.DataFrame(rows))


def hparam_grid(grid: Mapping[str, Sequence]) -> list[dict]:
    """Every combination of a ``{name: values}`` grid, as a list of dicts (in ``itertools.product`` order).

    Raises:
        TypeError: ``grid`` is not a mapping, or a value is not a list of candidates (``{"lr": 0.1}``).
        ValueError: an empty grid, or a name with no candidate values (which would silently give no runs).
    """
    if not isinstance(grid, Mapping) or not grid:
        raise (ValueError if isinstance(grid, Mapping) else TypeError)(
            f"grid must be a non-empty mapping hyperparameter → candidate values, got {grid!r}")
    for name, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
            raise TypeError(f"grid[{name!r}] must be a list of candidate values, got {values!r}")
        if not len(values):
            raise ValueError(f"grid[{name!r}] has no candidate values")
    keys = list(grid)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(grid[k] for k in keys))]


def paper_layout(summary: pd.DataFrame, *, dataset: str | None = "cifar10", digits: int = 3,
                 cost: bool = True) -> pd.DataFrame:
    """A :func:`rum_core.experiments.rum_table` summary in the paper's layout: one row per label, columns
    ``ToW`` and ``MIA gap`` as "mean ± half-width", plus the paper's published numbers for ``dataset`` beside
    them (``None``: no paper columns; rows the paper lacks get "").

    With ``cost``, the cost relative to retraining in gradient evaluations: the unlearning's own
    (``unlearning cost / retrain``) and, where the summary has it, what the refinement scores cost
    (``refinement cost / retrain``: the memorization estimate or proxy that RUM's refinement needs, 0 for
    rows that refine nothing), so that RUM's unlearning cost is never read as its whole price."""
    from .stats import format_table

    check_frame("summary", summary, ["label"], numeric=["tow", "mia_gap"])
    costs = [c for c in ("rel_grad_evals", "rel_refine_grad_evals") if cost and c in summary.columns]
    table = format_table(summary, "label", ["tow", "mia_gap", *costs], digits=digits,
                         names={"tow": "ToW", "mia_gap": "MIA gap", "rel_grad_evals": "unlearning cost / retrain",
                                "rel_refine_grad_evals": "refinement cost / retrain"})
    if dataset is not None:
        paper = paper_table(dataset).set_index("label")
        name = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100"}[dataset]
        table[f"paper ToW ({name})"] = [f"{paper.loc[k, 'tow']:.{digits}f} ± {paper.loc[k, 'tow_ci']:.{digits}f}"
                                        if k in paper.index else "" for k in table.index]
        table[f"paper MIA gap ({name})"] = [f"{paper.loc[k, 'mia_gap']:.{digits}f}" if k in paper.index else ""
                                            for k in table.index]
    return table
