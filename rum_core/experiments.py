"""Experiments: seeds × forget sets × methods → one tidy DataFrame row per run, cached.

The building blocks every chapter shares:

* :func:`load_data` — the profile's dataset (memoized in the process),
* :func:`original_model` — the profile's original model θᵒ for a seed (cached on disk),
* :func:`unlearning_runs` — run methods against retrain on forget sets and score them,
* :func:`unlearning_grid` — the same for several kinds of forget set (e.g. ES or memorization levels).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache, partial

import numpy as np
import pandas as pd

from . import data, unlearners
from . import rum as _rum
from ._progress import progress
from .cache import cached_frame
from .memorization import PROXIES, MemorizationRuns, estimate, orient_proxies, proxies, published_memorization
from .metrics import accuracy, compare_reports, model_report
from .models import embed
from .partition import (
    MEMORIZATION_LEVELS,
    PAPER_ES_PICKS,
    ESForgetSets,
    _scores_vector,
    es_controlled,
    es_groups,
    group_ranges,
    memorization_groups,
    random_forget_set,
)
from .profiles import Profile
from .stats import summarize
from .training import train_model
from .validation import check_frame, check_int, check_seeds

__all__ = ["load_data", "original_model", "unlearning_runs", "unlearning_grid", "ForgetSetFn",
           "random_forget_sets", "RUM_METHODS", "RUM_VARIANTS", "memorization_scores", "RUM_FORGET_SETS",
           "rum_forget_groups", "rum_forget_set", "rum_tuning_forget_set",
           "rum_cells", "rum_runs", "rum_tune", "tune_unlearners", "TUNING_METRICS", "rum_table", "rum_selection",
           "estimate_for_profile", "es_forget_sets", "memorization_forget_sets"]

# Everything a cached experiment result depends on: a change to any of these recomputes it.
_DEPENDS = ("data", "models", "training", "unlearners", "metrics", "partition", "experiments", "profiles")

ForgetSetFn = Callable[[data.DataBundle, int], np.ndarray]


@lru_cache(maxsize=8)
def _load(name: str, seed: int, val_size: int, root: str | None = None) -> data.DataBundle:
    return data.load(name, seed=seed, val_size=val_size, root=root)


def load_data(profile: Profile) -> data.DataBundle:
    """The profile's dataset (split seed 0, shared by every seed of an experiment) with its validation split
    of ``profile.val_size`` examples, from ``profile.data_root`` (``None``: the cache directory), loaded once
    per process."""
    return _load(profile.dataset, 0, int(profile.val_size), profile.data_root)


def original_model(profile: Profile, seed: int = 0, *, device=None, progress_bar: bool | None = None):
    """The original model θᵒ of ``profile`` trained with ``seed`` on the whole training set (cached).

    Returns ``(model, fit_log)``.
    """
    return train_model(load_data(profile), profile.model, profile.train, seed=seed,
                       model_kwargs=profile.model_kwargs, device=device, progress_bar=progress_bar,
                       desc=f"original (seed {seed})")


def random_forget_sets(profile: Profile) -> ForgetSetFn:
    """Forget sets drawn uniformly at random, ``profile.forget_fraction`` of the training set, seeded."""
    return lambda bundle, seed: random_forget_set(len(bundle.train), fraction=profile.forget_fraction, seed=seed)


def unlearning_runs(profile: Profile, methods: Sequence[str] | Mapping[str, Mapping], *,
                    seeds: Sequence[int], forget_sets: ForgetSetFn | None = None, forget_name: str = "random",
                    progress_bar: bool | None = None, use_cache: bool = True) -> pd.DataFrame:
    """Unlearn a forget set with each method for each seed, and score it against retrain.

    Args:
        methods: registry names (run with :meth:`Profile.method_hparams`), or a mapping from a label to
            ``{"method": name, **hparams}`` for custom settings.
        seeds: one original model, forget set and retrained model per seed.
        forget_sets: ``f(bundle, seed) → forget indices``; default :func:`random_forget_sets`.
        forget_name: names the forget-set procedure in the cache key and in the ``forget_set`` column.

    Returns:
        One row per (seed, method) with columns ``seed, forget_set, method``; the unlearned model's accuracy
        on ``forget, retain, test``; ``tow``; the paper's MIA efficacy ``mia`` (and ``mia_retrain``),
        ``mia_gap``, ``tow_mia``; the loss-attack AUC ``loss_auc``; the cost ``seconds, grad_evals`` and
        ``rel_seconds, rel_grad_evals`` relative to that seed's retrain (see
        :func:`rum_core.metrics.evaluate`). The retrain reference itself appears as method ``retrain``
        (ToW = 1, MIA gap = 0).
    """
    specs = _method_specs(profile, methods)
    forget_sets = forget_sets or random_forget_sets(profile)
    seeds = check_seeds(seeds)

    def compute() -> pd.DataFrame:
        bundle = load_data(profile)
        rows = []
        for seed in progress(seeds, desc="seeds", enabled=progress_bar):
            original, forget, reference, ref_report = _reference(profile, bundle, seed, forget_sets, progress_bar)
            rows.append(_row(seed, forget_name, "retrain", reference, ref_report, ref_report))
            for label, spec in specs.items():
                hp = {k: v for k, v in spec.items() if k != "method"}
                result = unlearners.make(spec["method"], **hp)(original, bundle, forget, seed=seed,
                                                                progress_bar=progress_bar)
                report = model_report(result.model, bundle, forget, seed=seed)
                rows.append(_row(seed, forget_name, label, result, report, ref_report))
        return _with_relative_cost(pd.DataFrame(rows))

    if not use_cache:
        return compute()

    config = {"profile": profile.as_dict(), "methods": specs, "seeds": seeds, "forget_sets": forget_name}
    return cached_frame("unlearning-runs", config, compute, depends=_DEPENDS)


def unlearning_grid(profile: Profile, methods: Sequence[str] | Mapping[str, Mapping],
                    forget_sets: Mapping[str, ForgetSetFn], *, seeds: Sequence[int],
                    progress_bar: bool | None = None, use_cache: bool = True) -> pd.DataFrame:
    """:func:`unlearning_runs` for each kind of forget set: levels × seeds × methods in one tidy frame.

    Args:
        forget_sets: level label (e.g. ``"low"``) → ``f(bundle, seed)``. When ``f`` has a ``forget_name``
            attribute (as :func:`es_forget_sets` gives) it names the cache entry and the
            ``forget_set`` column; otherwise the label does, so the label must then identify the procedure.

    Returns:
        The rows of every :func:`unlearning_runs` call with an extra ``level`` column (the mapping's keys,
        as an ordered categorical in the mapping's order, so tables and figures keep low → high). Each level
        is cached on its own: an interrupted grid resumes at the first unfinished level.
    """
    if not forget_sets:
        raise ValueError("forget_sets is empty: pass a mapping level → f(bundle, seed)")
    frames = []
    for level, fn in progress(list(forget_sets.items()), desc="levels", enabled=progress_bar):
        runs = unlearning_runs(profile, methods, seeds=seeds, forget_sets=fn,
                               forget_name=getattr(fn, "forget_name", str(level)),
                               progress_bar=progress_bar, use_cache=use_cache)
        frames.append(runs.assign(level=str(level)))
    grid = pd.concat(frames, ignore_index=True)
    grid["level"] = pd.Categorical(grid["level"], categories=[str(k) for k in forget_sets], ordered=True)
    return grid


def _reference(profile: Profile, bundle, seed: int, forget_sets: ForgetSetFn, progress_bar):
    """What every run of ``seed`` is scored against: ``(original model, forget indices, retrained
    reference, the reference's report)``."""
    original, _ = original_model(profile, seed, progress_bar=progress_bar)
    forget = forget_sets(bundle, seed)
    reference = unlearners.make("retrain", **profile.method_hparams("retrain"))(
        original, bundle, forget, seed=seed, progress_bar=progress_bar)
    return original, forget, reference, model_report(reference.model, bundle, forget, seed=seed)


#: Metrics a tuning may maximise (higher is better for each).
TUNING_METRICS = ("tow", "tow_mia")


def _best_trial(what: str, means: pd.Series, diverged: pd.Series) -> tuple[int, list[float]]:
    """The tuning rule both tunings share: ``(index of the best trial, per-trial scores)`` from the trials'
    mean metric and whether each diverged on any seed. A diverged trial scores NaN (even where some seeds
    finished) and is never chosen; ties go to the earlier trial.

    Raises:
        ValueError: every trial of ``what`` diverged.
    """
    diverged = diverged.astype(bool).to_numpy()
    if diverged.all():
        raise ValueError(f"every configuration of {what!r} diverged on the tuning seeds: try smaller learning "
                         f"rates or fewer epochs")
    scores = np.where(diverged, np.nan, means.to_numpy(dtype=float))
    return int(np.argmax(np.where(diverged, -np.inf, scores))), [float(v) for v in scores]


def tune_unlearners(profile: Profile, grid: Mapping[str, Mapping[str, Sequence]], *, tune_seeds: Sequence[int],
                    metric: str = "tow", progress_bar: bool | None = None, use_cache: bool = True
                    ) -> tuple[dict[str, dict], pd.DataFrame]:
    """Choose each method's hyperparameters for ``profile`` under the equal-budget rule.

    The rule of the RUM chapter (:func:`rum_tune`): every method tries the same number of configurations,
    so none looks better merely for having been tuned harder. ``grid`` maps a method to its candidate values
    (``{"neggrad": {"lr": [0.003, 0.01, 0.03, 0.1]}, ...}``); every method's grid must have the same number
    of combinations. Each combination, applied on top of :meth:`Profile.method_hparams`, unlearns the random
    forget set (:func:`random_forget_sets`) of every seed in ``tune_seeds`` — seeds that should be disjoint
    from the ones a chapter reports, ``range(profile.seeds)`` — and is scored against that seed's retrained
    model. The best mean ``metric`` wins (ties: the earlier combination). A combination that diverges on any
    seed (the unlearner's :class:`FloatingPointError`: non-finite weights) is recorded as ``diverged`` and
    never chosen; if every combination of a method diverges, that is an error, not a silent default.

    This is how the ``mnist1d`` profile's unlearning hyperparameters were chosen (``bench/tune_unlearners.py``).

    Returns:
        ``(chosen, trials)``: method → its full chosen hyperparameters (the profile's, updated with the winning
        combination), and one row per (method, combination): ``method, trial``, the combination's values, the
        mean ``metric`` over ``tune_seeds`` (NaN when diverged), ``diverged`` and ``chosen``.

    Raises:
        ValueError: an unknown method or metric, ``retrain`` in ``grid``, grids of unequal size, seeds that
            overlap the reported ones, or a method whose every combination diverged.
    """
    if metric not in TUNING_METRICS:
        raise ValueError(f"metric must be one of {TUNING_METRICS} (higher is better), got {metric!r}")
    if not isinstance(grid, Mapping) or not grid:
        raise ValueError(f"grid must be a non-empty mapping method → {{hyperparameter: values}}, got {grid!r}")
    tune_seeds = check_seeds(tune_seeds)
    reported = sorted(set(tune_seeds) & set(range(profile.seeds)))
    if reported:
        raise ValueError(f"tune_seeds {reported} are among the reported seeds 0..{profile.seeds - 1}: tune on "
                         f"disjoint seeds (e.g. 100, 101)")
    combos = {str(m): _rum.hparam_grid(g) for m, g in grid.items()}
    sizes = {m: len(c) for m, c in combos.items()}
    if len(set(sizes.values())) > 1:
        raise ValueError(f"every method must try the same number of configurations (equal budget), got {sizes}")
    if "retrain" in combos:
        raise ValueError("'retrain' is the reference, not a method to tune")
    specs = {m: [{**profile.method_hparams(m), **c} for c in cs] for m, cs in combos.items()}
    for m, candidates in specs.items():  # unknown methods and hyperparameters fail before any training
        for hp in candidates:
            unlearners.make(m, **hp)

    def compute() -> pd.DataFrame:
        bundle, forget_sets, rows = load_data(profile), random_forget_sets(profile), []
        for seed in progress(tune_seeds, desc="tuning seeds", enabled=progress_bar):
            original, forget, _, ref_report = _reference(profile, bundle, seed, forget_sets, progress_bar)
            for m, candidates in specs.items():
                for i, hp in enumerate(candidates):
                    try:
                        result = unlearners.make(m, **hp)(original, bundle, forget, seed=seed, progress_bar=False)
                    except FloatingPointError:  # recorded: a diverging configuration is a losing one
                        rows.append({"seed": seed, "method": m, "trial": i, "diverged": True, metric: np.nan})
                        continue
                    ev = compare_reports(model_report(result.model, bundle, forget, seed=seed), ref_report)
                    rows.append({"seed": seed, "method": m, "trial": i, "diverged": False,
                                 metric: float(getattr(ev, metric))})
        return pd.DataFrame(rows)

    config = {"profile": profile.as_dict(), "specs": specs, "seeds": tune_seeds, "metric": metric}
    runs = cached_frame("unlearner-tuning", config, compute, depends=_DEPENDS) if use_cache else compute()
    rows, chosen = [], {}
    for m, candidates in specs.items():
        per_trial = runs[runs["method"] == m].groupby("trial")
        diverged = per_trial["diverged"].any()
        best, scores = _best_trial(m, per_trial[metric].mean(), diverged)
        chosen[m] = candidates[best]
        rows += [{"method": m, "trial": i, **combos[m][i], metric: scores[i], "diverged": bool(diverged[i]),
                  "chosen": i == best} for i in range(len(candidates))]
    return chosen, pd.DataFrame(rows)


def _method_specs(profile: Profile, methods) -> dict[str, dict]:
    if isinstance(methods, Mapping):
        specs = {}
        for label, spec in methods.items():
            if "method" not in spec:
                raise ValueError(f"method spec {label!r} needs a 'method' key naming the unlearner")
            specs[str(label)] = dict(spec)
    else:
        specs = {name: {"method": name, **profile.method_hparams(name)} for name in methods}
    if "retrain" in specs:
        raise ValueError("'retrain' is always run as the reference; do not list it among the methods")
    for spec in specs.values():  # validate names and hyperparameters before any training
        unlearners.make(spec["method"], **{k: v for k, v in spec.items() if k != "method"})
    return specs


def _with_relative_cost(runs: pd.DataFrame) -> pd.DataFrame:
    """Add each run's cost as a fraction of the retrain run of the same seed and forget set."""
    ref = runs[runs["method"] == "retrain"].set_index(["seed", "forget_set"])
    keys = pd.MultiIndex.from_frame(runs[["seed", "forget_set"]])
    for col in ("seconds", "grad_evals"):
        runs[f"rel_{col}"] = runs[col].to_numpy() / ref[col].reindex(keys).to_numpy()
    return runs


def _row(seed, forget_name, method, result, report, ref_report) -> dict:
    """One tidy row: the unlearned model's accuracies and every shadow-free metric against retrain."""
    ev = compare_reports(report, ref_report)
    return {"seed": seed, "forget_set": forget_name, "method": method, **ev.unlearned_acc, "tow": ev.tow,
            "mia": ev.unlearned_mia, "mia_retrain": ev.retrained_mia, "mia_gap": ev.mia_gap,
            "tow_mia": ev.tow_mia, "loss_auc": ev.unlearned_loss_auc,
            "seconds": result.seconds, "grad_evals": result.grad_evals}


# ------------------------------------------------------------------------------------------------ RUM grid
#: The methods of the paper's RUM table (Table 1), and its per-method variants.
RUM_METHODS = ("finetune", "l1_sparse", "neggrad_plus", "salun")
RUM_VARIANTS = ("vanilla", "shuffle", "rum_f")
_RUM_DEPENDS = (*_DEPENDS, "rum", "memorization")
#: Environment variable naming a published memorization file, for profiles that train no memorization models.
MEMORIZATION_SCORES_ENV = "RUM_MEMORIZATION_SCORES"
#: What published scores without an estimate for some examples become: ``refuse`` (default) or ``zero``
#: (:func:`rum_core.memorization.published_memorization`; ``rum reproduce --missing-scores``).
MISSING_SCORES_ENV = "RUM_MISSING_SCORES"


def memorization_scores(profile: Profile, *, progress_bar: bool | None = None):
    """The memorization scores of the RUM experiments, as :class:`rum_core.memorization.MemorizationScores`.

    With ``profile.memorization_models`` set (the CPU profiles), the Feldman & Zhang estimate from that many
    models (:func:`estimate_for_profile`, cached on disk). With ``None`` (the paper
    profile, where thousands of ResNets are out of reach), published scores from the file named by the
    environment variable ``RUM_MEMORIZATION_SCORES`` (:func:`rum_core.memorization.published_memorization`:
    C-scores or Feldman & Zhang's estimates, checked against the dataset's labels). Examples such a file
    gives no estimate for are refused unless ``RUM_MISSING_SCORES=zero`` reads them as not memorized.

    Raises:
        ValueError: the profile trains no models and ``RUM_MEMORIZATION_SCORES`` is not set; a file that is
            not published scores of this dataset, or lacks estimates under the ``refuse`` policy.
    """

    if profile.memorization_models is not None:
        return estimate_for_profile(profile, profile.memorization_model_count(),
                                    progress_bar=progress_bar).to_scores()
    path = os.environ.get(MEMORIZATION_SCORES_ENV)
    if not path:
        raise ValueError(
            f"profile {profile.name!r} trains no memorization models (memorization_models=None), so the RUM "
            f"experiments need published scores: download the C-scores of {profile.dataset} in the original "
            f"order (e.g. {profile.dataset}-cscores-orig-order.npz from "
            f"https://pluskid.github.io/structural-regularity/) and set {MEMORIZATION_SCORES_ENV}=<path>")
    missing = os.environ.get(MISSING_SCORES_ENV, "").strip() or "refuse"
    if missing not in ("refuse", "zero"):
        raise ValueError(f"{MISSING_SCORES_ENV} must be 'refuse' or 'zero', got {missing!r}")
    return published_memorization(path, load_data(profile), missing=missing)


# ------------------------------------------------------------------ profile-level scores and forget sets
def estimate_for_profile(profile, n_models: int, seed: int = 0, **kwargs) -> MemorizationRuns:
    """:func:`rum_core.memorization.estimate` on ``profile``'s dataset with its model and training recipe.

    Extra keyword arguments (``subset_ratio``, ``design``, ``device``, ``progress_bar``, …) go to
    :func:`rum_core.memorization.estimate`.
    """
    return estimate(load_data(profile), n_models=n_models, train=profile.train, model=profile.model,
                    model_kwargs=profile.model_kwargs, seed=seed, **kwargs)


_PROCEDURES = ("paper", "controlled")


def es_forget_sets(profile, level: str, procedure: str = "paper", **kwargs):
    """Forget sets by entanglement as a ``f(bundle, seed) → indices`` for ``unlearning_runs``.

    For each seed, embeds ``bundle.train`` with that seed's original model
    (:func:`rum_core.experiments.original_model`, the same model the unlearning runs start from) and
    returns the set labelled ``level`` by :func:`rum_core.partition.es_groups` (``procedure="paper"``) or
    :func:`rum_core.partition.es_controlled` (``procedure="controlled"``, ``seed`` = the run's seed, ``size`` defaulting to
    ``round(profile.forget_fraction · n_train)``). ``kwargs`` go to that function.

    The returned function has an attribute ``forget_name`` to pass as ``forget_name=`` (it is part of
    ``unlearning_runs``' cache key): ``"es-paper-low"``, or with the keyword arguments appended in sorted
    order, e.g. ``"es-controlled-low[size=48]"``, so different settings never share a cache entry.
    ``f.details(bundle, seed)`` returns the whole :class:`rum_core.partition.ESForgetSets` (measured ES of every level
    included).
    """
    if procedure not in _PROCEDURES:
        raise ValueError(f"procedure must be one of {list(_PROCEDURES)}, got {procedure!r}")
    if procedure == "paper":
        valid = list(kwargs.get("picks") or PAPER_ES_PICKS)
    else:
        if "seed" in kwargs:
            raise ValueError("es_forget_sets(procedure='controlled') uses each run's seed; do not pass seed=")
        valid = list(kwargs.get("levels", ("low", "medium", "high")))
    if level not in valid:
        raise ValueError(f"level must be one of {valid} for procedure {procedure!r}, got {level!r}")

    def details(bundle, seed: int) -> ESForgetSets:
        model, _ = original_model(profile, seed)
        emb = embed(model, bundle.train.x)
        if procedure == "paper":
            return es_groups(emb, **kwargs)
        kw = dict(kwargs)
        kw.setdefault("size", int(round(profile.forget_fraction * len(bundle.train))))
        return es_controlled(emb, seed=seed, **kw)

    def forget_sets(bundle, seed: int) -> np.ndarray:
        return details(bundle, seed).groups[level]

    forget_sets.details = details
    settings = ",".join(f"{k}={v!r}" for k, v in sorted(kwargs.items()))
    forget_sets.forget_name = f"es-{procedure}-{level}" + (f"[{settings}]" if settings else "")
    return forget_sets


def memorization_forget_sets(profile, level: str, *, scores=None, n: int | None = None,
                             medium_center: float = 0.5, flip: bool = False, n_models: int | None = None,
                             estimate_seed: int = 0):
    """Forget sets by memorization as a ``f(bundle, seed) → indices`` for ``unlearning_runs`` / ``unlearning_grid``.

    Returns the ``level`` group (``"low"``, ``"medium"`` or ``"high"``) of :func:`rum_core.partition.memorization_groups` with
    ``n`` examples per group (default ``profile.memorization_group_size``).

    The scores are fixed, as in the paper (which uses published scores): by default the profile's
    Feldman & Zhang estimate, :func:`estimate_for_profile` with ``n_models`` models
    (default ``profile.memorization_models``) and seed ``estimate_seed``, computed (or read from the cache) on
    the first call and kept; or ``scores`` given explicitly (e.g. ``1 − C-scores``, or a proxy with
    ``flip=True``). **The groups therefore do not depend on the run's seed**: every seed unlearns the same
    examples, and what the seeds vary is the original model, the retrained reference and the unlearners'
    randomness. (A memorization score is a property of the example under the training algorithm, not of
    one trained model, so redrawing it per seed would only add estimation noise.)

    The returned function has an attribute ``forget_name`` (part of ``unlearning_runs``' cache key):
    ``"mem-high[models=1000,n=25,seed=0]"`` for the estimate, ``"mem-high[n=25,scores=<hash>]"`` for given
    scores (a hash of their values), with ``medium_center`` / ``flip`` appended when not the defaults, so
    different procedures never share a cache entry. ``f.details(bundle, seed)`` returns all three groups
    (a dict level → indices) and ``f.scores()`` the scores they were formed from.

    Raises:
        ValueError: an unknown ``level`` (listing the valid ones); a profile without
            ``memorization_models`` (it relies on published scores) and no ``scores``; bad ``n``; scores
            whose length differs from the training set when called.
    """
    if level not in MEMORIZATION_LEVELS:
        raise ValueError(f"level must be one of {list(MEMORIZATION_LEVELS)}, got {level!r}")
    n = check_int("n", profile.memorization_group_size if n is None else n, low=1)
    if not isinstance(flip, (bool, np.bool_)):
        raise TypeError(f"flip must be a bool, got {flip!r}")
    center = float(medium_center)
    settings: dict[str, object] = {"n": n}
    if scores is not None:
        fixed = _scores_vector(scores)
        settings["scores"] = hashlib.sha256(np.ascontiguousarray(fixed).tobytes()).hexdigest()[:12]
    else:
        fixed = None
        models = profile.memorization_models if n_models is None else n_models
        if models is None:
            raise ValueError(f"profile {profile.name!r} has no memorization_models (it relies on published "
                             f"scores): pass scores=, e.g. 1 − C-scores from "
                             f"rum_core.memorization.load_cscores, or n_models=")
        settings["models"] = check_int("n_models", models, low=2)
        settings["seed"] = check_int("estimate_seed", estimate_seed, low=0)
    if center != 0.5:
        settings["center"] = center
    if flip:
        settings["flip"] = True
    state: dict[str, object] = {}

    def get_scores() -> np.ndarray:
        if "scores" not in state:
            if fixed is not None:
                state["scores"] = fixed
            else:
                state["scores"] = estimate_for_profile(profile, settings["models"], seed=settings["seed"]).scores
        return state["scores"]

    def details(bundle, seed: int = 0) -> dict[str, np.ndarray]:
        s = get_scores()
        if len(s) != len(bundle.train):
            raise ValueError(f"scores has {len(s)} entries but the training set has {len(bundle.train)} examples")
        if "groups" not in state:
            state["groups"] = memorization_groups(s, n, medium_center=center, flip=flip)
        return {k: v.copy() for k, v in state["groups"].items()}

    def forget_sets(bundle, seed: int) -> np.ndarray:
        return details(bundle, seed)[level]

    forget_sets.details = details
    forget_sets.scores = get_scores
    forget_sets.forget_name = f"mem-{level}[" + ",".join(f"{k}={v}" for k, v in sorted(settings.items())) + "]"
    return forget_sets


#: The two RUM forget sets: the one every table reports, and the tuning one, disjoint from it.
RUM_FORGET_SETS = ("report", "tune")


def rum_forget_groups(profile: Profile, scores, which: str = "report") -> dict[str, np.ndarray]:
    """The memorization levels of the RUM experiments' forget set, by the paper's construction.

    ``n = profile.memorization_group_size``; :func:`rum_core.partition.memorization_groups` gives low = the n
    least memorized examples, high = the n most memorized, medium = the n closest to 0.5 among the rest
    (disjoint, ties broken by score then index, no shuffling), so each level's scores lie where its name
    says. As in the paper, whose forget sets come from fixed (published) scores, every seed unlearns the
    same forget set; what the seeds vary is the original model, the retrained reference and the
    unlearners' randomness.

    ``which="tune"``: the same construction on the training set minus the reported forget set, i.e. the next
    n examples of each ranking. It is disjoint from the reported set and its levels cover nearly the same
    score ranges, so hyperparameters can be tuned without ever unlearning a reported example.

    Returns:
        ``{"low": idx, "medium": idx, "high": idx}``, sorted int64 index arrays.
    """

    if which not in RUM_FORGET_SETS:
        raise ValueError(f"which must be one of {RUM_FORGET_SETS}, got {which!r}")
    n = int(profile.memorization_group_size)
    groups = memorization_groups(scores, n)
    if which == "tune":
        groups = memorization_groups(scores, n, exclude=np.concatenate(list(groups.values())))
    return groups


def rum_tuning_forget_set(profile: Profile, scores) -> str:
    """Which forget set :func:`rum_tune` should unlearn: ``"tune"`` (disjoint from the reported one) when it is
    like the reported one, ``"report"`` otherwise.

    The disjoint tuning set is alike when the mean memorization of each of its levels is nearest to the
    mean of the SAME reported level (of all three). Where few examples are memorized (digits: about 50 above 0.28) the
    reported medium and high levels take them all, the tuning set's "high" is barely memorized, and
    hyperparameters tuned on it do not transfer; then the only honest choice left is to tune on the reported
    forget set itself and say so (the chapters print the overlap).
    """

    report = group_ranges(scores, rum_forget_groups(profile, scores))["mean"].to_numpy()
    tune = group_ranges(scores, rum_forget_groups(profile, scores, "tune"))["mean"].to_numpy()
    nearest = np.abs(tune[:, None] - report[None, :]).argmin(axis=1)
    return "tune" if bool((nearest == np.arange(len(report))).all()) else "report"


def rum_forget_set(profile: Profile, scores, which: str = "report") -> np.ndarray:
    """The heterogeneous forget set of the RUM experiments: the union of :func:`rum_forget_groups`
    (``n`` low + ``n`` medium + ``n`` high memorization examples), sorted."""
    return np.sort(np.concatenate(list(rum_forget_groups(profile, scores, which).values())))


def rum_cells(methods: Sequence[str] = RUM_METHODS, variants: Sequence[str] = RUM_VARIANTS, *,
              profile: Profile | None = None, include_rum: bool = True, ablation: bool = False,
              hparams: Mapping[str, Mapping] | None = None, rum_steps=None, retain_policy: str = "processed"
              ) -> dict[str, object]:
    """The rows of the RUM table as ``label → rum.Variant`` (label ``"<method> <variant>"``, and ``"rum"``).

    Args:
        methods: registry names; each gets every variant in ``variants``.
        variants: among ``vanilla, shuffle, rum_f`` (and ``high_only`` for the ablation).
        profile: supplies each method's hyperparameters at this scale (:meth:`Profile.method_hparams`);
            ``hparams`` (method → overrides) is applied on top.
        include_rum: add the authors' RUM (``rum_steps``, default identity / finetune / salun) as ``"rum"``.
        ablation: add ``"<method> high_only"`` rows (the method on the high subset only).
    """

    makers = {"vanilla": _rum.vanilla, "shuffle": _rum.shuffle, "rum_f": _rum.rum_f, "high_only": _rum.high_only}
    unknown = [v for v in variants if v not in makers]
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}; valid: {sorted(makers)}")
    hparams = dict(hparams or {})

    def hp(method: str) -> dict:
        base = profile.method_hparams(method) if profile is not None else {}
        return {**base, **hparams.get(method, {})}

    cells: dict[str, object] = {}
    for method in methods:
        for v in [*variants, *(["high_only"] if ablation and "high_only" not in variants else [])]:
            kw = {} if v == "vanilla" else {"retain_policy": retain_policy}
            cells[f"{method} {v}"] = makers[v](method, **kw, **hp(method))
    if include_rum:
        steps = rum_steps or _rum.AUTHORS_RUM
        steps = [_rum.Step(s, hp(s) if s != "identity" else {}) if isinstance(s, str) else s for s in steps]
        cells["rum"] = _rum.rum(steps, retain_policy=retain_policy)
    return cells


def _refine_scores(profile: Profile, bundle, refine_by: str, seed: int, mem) -> tuple[np.ndarray, float]:
    """Scores (higher = more memorized) used to refine the forget set, and what they cost in per-example
    gradient evaluations: the memorization estimate (``mem``) or a proxy of ``seed``'s training run
    (``refine_by`` already checked by :func:`rum_runs`)."""
    if refine_by == "memorization":
        return np.asarray(mem.scores, dtype=np.float64), float(mem.grad_evals)

    frame = proxies(bundle, train=profile.train, model=profile.model, model_kwargs=profile.model_kwargs,
                    seed=seed, holdout=None if refine_by == "holdout_kl" else False, progress_bar=False)
    return orient_proxies(frame)[refine_by].to_numpy(), float(frame.attrs["grad_evals"])


class _RumContexts:
    """Per seed, computed lazily and once: original model, RUM forget set, retrained reference and its report."""

    def __init__(self, profile: Profile, bundle, mem, progress_bar, which: str = "report"):
        self.profile, self.bundle, self.mem, self.progress_bar = profile, bundle, mem, progress_bar
        self.levels = rum_forget_groups(profile, mem.scores, which)
        self.forget = np.sort(np.concatenate(list(self.levels.values())))
        self.contexts: dict[int, dict] = {}

    def __call__(self, seed: int) -> dict:
        if seed not in self.contexts:
            original, forget, reference, report = _reference(
                self.profile, self.bundle, seed, lambda _bundle, _seed: self.forget, self.progress_bar)
            self.contexts[seed] = {"original": original, "forget": forget, "reference": reference,
                                   "report": report, "levels": self.levels, "scores": {}}
        return self.contexts[seed]


def _scores_row(result, report, ctx, bundle, refine_grad_evals: float = 0.0) -> dict:
    """Accuracies (also on each memorization level of the forget set), ToW, MIA (gap), ToW-MIA and cost
    (absolute and relative to the seed's retrain): the unlearning's own, the refinement scores' (0 for rows
    that refine nothing; NaN for published scores, whose cost is unknown) and their sum."""
    ev = compare_reports(report, ctx["report"])
    ref = ctx["reference"]
    x, y = bundle.train.x, bundle.train.y
    by_level = {f"forget_{level}": accuracy(result.model, x[idx], y[idx]) for level, idx in ctx["levels"].items()}
    return {**ev.unlearned_acc, **by_level, "tow": ev.tow, "mia": ev.unlearned_mia, "mia_retrain": ev.retrained_mia,
            "mia_gap": ev.mia_gap, "tow_mia": ev.tow_mia, "seconds": float(result.seconds),
            "grad_evals": int(result.grad_evals), "rel_seconds": float(result.seconds) / ref.seconds,
            "rel_grad_evals": result.grad_evals / ref.grad_evals,
            "refine_grad_evals": float(refine_grad_evals),
            "rel_refine_grad_evals": float(refine_grad_evals) / ref.grad_evals,
            "rel_total_grad_evals": (result.grad_evals + float(refine_grad_evals)) / ref.grad_evals}


def rum_runs(profile: Profile, cells: Mapping[str, object] | None = None, *, seeds: Sequence[int],
             refine_by: str = "memorization", forget_set: str = "report", on_diverge: str = "raise",
             progress_bar: bool | None = None, use_cache: bool = True) -> pd.DataFrame:
    """Run every RUM table cell (label → :class:`rum_core.rum.Variant`) for every seed, scored against retrain.

    For each seed: the original model of that seed (:func:`original_model`), the forget set
    :func:`rum_forget_set` (from the profile's memorization scores; ``forget_set="tune"`` for the tuning
    set, disjoint from the reported one), the retrained reference, then every cell; refinement uses
    ``refine_by`` (``"memorization"`` or a proxy name of :data:`rum_core.memorization.PROXIES`, computed from
    that seed's training run), shuffle splits use the seed. Every (seed, cell) is cached on its own, so an
    interrupted run resumes at the first unfinished cell and a larger ``seeds`` only computes the new ones.

    Returns:
        One row per (seed, cell) plus one ``retrain`` row per seed, columns ``seed, label, variant, method,
        refine_by, forget, retain, test, forget_low, forget_medium, forget_high`` (accuracy on each
        memorization level of the forget set, :func:`rum_forget_groups`) ``, tow, mia, mia_retrain, mia_gap,
        tow_mia, seconds, grad_evals, rel_seconds, rel_grad_evals`` (the unlearning's cost relative to that
        seed's retrain) ``, refine_grad_evals, rel_refine_grad_evals`` (what the refinement scores cost, for
        cells that refine by score: the memorization estimate or the proxy's training runs; 0 otherwise)
        ``, rel_total_grad_evals`` (both), ``steps`` (the methods run, ``+``-joined) and ``diverged``.

    A cell whose unlearning diverges (non-finite weights, :class:`FloatingPointError`) stops the run
    (``on_diverge="raise"``, the default) or, with ``on_diverge="record"`` (what :func:`rum_tune` uses: a
    diverging configuration is a losing one), gives a row with ``diverged=True`` and NaN scores.
    """

    cells = dict(rum_cells(profile=profile) if cells is None else cells)
    if not cells:
        raise ValueError("cells is empty")
    for label, v in cells.items():
        if not isinstance(v, _rum.Variant):
            raise TypeError(f"cell {label!r} must be a rum_core.rum.Variant, got {type(v).__name__}")
    seeds = check_seeds(seeds)
    if refine_by != "memorization":

        if refine_by not in PROXIES:
            raise ValueError(f"refine_by must be 'memorization' or a proxy in {PROXIES}, got {refine_by!r}")
    if forget_set not in RUM_FORGET_SETS:
        raise ValueError(f"forget_set must be one of {RUM_FORGET_SETS}, got {forget_set!r}")
    if on_diverge not in ("raise", "record"):
        raise ValueError(f"on_diverge must be 'raise' or 'record', got {on_diverge!r}")
    bundle = load_data(profile)
    mem = memorization_scores(profile, progress_bar=progress_bar)
    base_config = {"profile": profile.as_dict(), "forget": f"rum-paper-levels-{forget_set}",
                   "memorization": mem.config}
    context = _RumContexts(profile, bundle, mem, progress_bar, forget_set)

    def row(seed, label, variant, method, result, report, ctx, refine_cost=0.0) -> dict:
        return {"seed": seed, "label": label, "variant": variant, "method": method, "refine_by": refine_by,
                "forget_set": forget_set, **_scores_row(result, report, ctx, bundle, refine_cost)}

    def retrain_cell(seed):
        ctx = context(seed)
        r = row(seed, "retrain", "retrain", "retrain", ctx["reference"], ctx["report"], ctx)
        return pd.DataFrame([{**r, "steps": "retrain", "diverged": False}])

    def variant_cell(seed, label, variant):
        ctx = context(seed)
        scores, refine_cost = None, 0.0
        if variant.split == "score":
            if refine_by not in ctx["scores"]:
                ctx["scores"][refine_by] = _refine_scores(profile, bundle, refine_by, seed, mem)
            scores, refine_cost = ctx["scores"][refine_by]
        method = "rum" if variant.name == "rum" else variant.method
        try:
            result = _rum.run_variant(variant, ctx["original"], bundle, ctx["forget"], scores, seed=seed,
                                      progress_bar=False)
        except FloatingPointError:
            if on_diverge == "raise":
                raise
            return pd.DataFrame([{"seed": seed, "label": label, "variant": variant.name, "method": method,
                                  "refine_by": refine_by, "forget_set": forget_set, "tow": np.nan,
                                  "mia_gap": np.nan, "tow_mia": np.nan, "steps": "", "diverged": True}])
        report = model_report(result.model, bundle, ctx["forget"], seed=seed)
        r = row(seed, label, variant.name, method, result, report, ctx, refine_cost)
        return pd.DataFrame([{**r, "steps": "+".join(s.method for s in result.steps), "diverged": False}])

    frames = []
    jobs = [(s, None, None) for s in seeds] + [(s, lab, v) for s in seeds for lab, v in cells.items()]
    for seed, label, variant in progress(jobs, desc="RUM cells", enabled=progress_bar):
        if variant is None:
            config = {**base_config, "seed": seed, "cell": "retrain"}
            compute = partial(retrain_cell, seed)
        else:
            config = {**base_config, "seed": seed, "cell": variant.as_dict(), "refine_by": refine_by,
                      "on_diverge": on_diverge}
            compute = partial(variant_cell, seed, label, variant)
        if use_cache:
            frame = cached_frame("rum-cell", config, compute, depends=_RUM_DEPENDS)
            frame["label"] = label or "retrain"  # the label is presentation, not part of the key
        else:
            frame = compute()
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    order = ["retrain", *cells]
    out["label"] = pd.Categorical(out["label"], categories=order, ordered=True)
    return out.sort_values(["label", "seed"], kind="stable", ignore_index=True).assign(
        label=lambda f: f["label"].astype(str))


def rum_tune(profile: Profile, cells: Mapping[str, object], grid: Mapping[str, Sequence], *,
             tune_seeds: Sequence[int], metric: str = "tow", refine_by: str = "memorization",
             forget_set: str = "tune", progress_bar: bool | None = None, use_cache: bool = True
             ) -> tuple[dict, pd.DataFrame]:
    """Give every cell the same tuning budget: try every combination of ``grid`` on ``tune_seeds``.

    Each combination is applied to every non-identity step of a cell (:meth:`rum_core.rum.Variant.with_hparams`),
    so vanilla, shuffle, RUM^F and RUM all get exactly ``len(_rum.hparam_grid(grid))`` configurations. The best
    mean ``metric`` over ``tune_seeds`` wins (ties: the earlier combination). The trials unlearn the tuning
    forget set (``forget_set="tune"``: :func:`rum_forget_groups` with ``which="tune"``, disjoint from the
    reported one) or, where that set is unlike the reported one (:func:`rum_tuning_forget_set`), the reported
    set itself (``"report"``: then say so). Report the tuned cells on seeds disjoint from ``tune_seeds``.
    A combination that diverges on any tuning seed (non-finite weights) is recorded as ``diverged`` and never
    chosen; a row whose every combination diverges is an error.

    Returns:
        ``(tuned_cells, trials)``: label → the chosen Variant, and one row per (cell, combination) with the
        mean ``metric`` (NaN when diverged), ``diverged`` and the combination's values.
    """

    combos = _rum.hparam_grid(grid)
    if not combos:
        raise ValueError("grid is empty")
    trial_cells = {f"{label} #{i}": v.with_hparams(**combo)
                   for label, v in cells.items() for i, combo in enumerate(combos)}
    runs = rum_runs(profile, trial_cells, seeds=tune_seeds, refine_by=refine_by, forget_set=forget_set,
                    on_diverge="record", progress_bar=progress_bar, use_cache=use_cache)
    per_label = runs.groupby("label", sort=False)
    diverged, means = per_label["diverged"].any(), per_label[metric].mean()
    rows, tuned = [], {}
    for label, v in cells.items():
        trials = [f"{label} #{i}" for i in range(len(combos))]
        best, scores = _best_trial(label, means[trials], diverged[trials])
        tuned[label] = v.with_hparams(**combos[best])
        rows += [{"label": label, "trial": i, **combos[i], metric: scores[i], "diverged": bool(diverged[t]),
                  "chosen": i == best} for i, t in enumerate(trials)]
    return tuned, pd.DataFrame(rows)


def rum_table(runs: pd.DataFrame, metrics: Sequence[str] = ("tow", "mia_gap"), confidence: float = 0.95
              ) -> pd.DataFrame:
    """The paper's layout: one row per cell label (retrain first), ``<metric>`` mean and ``<metric>_ci``
    t-interval half-width over seeds, ``n`` seeds, plus the mean relative cost."""

    check_frame("runs", runs, ["label", "variant", "method"])
    costs = ("rel_grad_evals", "rel_refine_grad_evals", "rel_total_grad_evals", "rel_seconds")
    cols = list(metrics) + [c for c in costs if c not in metrics and c in runs.columns]
    summary = summarize(runs, ["label", "variant", "method"], cols, confidence=confidence)
    return summary


def rum_selection(profile: Profile, candidates: Sequence[str] = ("identity", *RUM_METHODS), *,
                  seeds: Sequence[int], criteria: Sequence[str] = ("oracle", "held_out"),
                  progress_bar: bool | None = None, use_cache: bool = True) -> pd.DataFrame:
    """RUM with each memorization subset's method SELECTED from ``candidates`` (greedy, low → high).

    Criteria (:func:`rum_core.rum.select_steps`): ``"oracle"`` = ToW on the subset against the retrained
    model (:func:`rum_core.rum.oracle_criterion`, needs retraining); ``"held_out"`` = the same ToW with
    retrain's accuracies predicted without retraining (:func:`rum_core.rum.held_out_criterion`: the subset's
    mean held-out accuracy ``p_out`` of the memorization models, the original model's retain and validation
    accuracy). Both score candidates on the validation split (``profile.val_size``), never on the test set
    the table reports. Candidates run with the profile's hyperparameters. Cached per (seed, criterion).

    Returns:
        One row per (seed, criterion): ``seed, label ("select <criterion>"), variant, method ("select"),
        criterion, steps`` (the chosen
        methods low → high, ``+``-joined), the metrics of :func:`rum_runs`, and ``search_grad_evals,
        rel_search_grad_evals``: the cost of running every candidate on every subset.
    """

    seeds = check_seeds(seeds)
    bad = [c for c in criteria if c not in ("oracle", "held_out")]
    if bad or not criteria:
        raise ValueError(f"criteria must be among ('oracle', 'held_out'), got {list(criteria)}")
    steps = [_rum.Step(c, profile.method_hparams(c) if c != "identity" else {}) for c in candidates]
    bundle = load_data(profile)
    mem = memorization_scores(profile, progress_bar=progress_bar)
    context = _RumContexts(profile, bundle, mem, progress_bar)

    def cell(seed: int, criterion: str) -> pd.DataFrame:
        ctx = context(seed)
        forget = ctx["forget"]
        if criterion == "oracle":
            crit = _rum.oracle_criterion(ctx["reference"].model, bundle, forget)
        else:
            crit = _rum.held_out_criterion(ctx["original"], bundle, forget, mem.p_out)
        subsets = _rum.refine(forget, mem.scores, 3)
        sel = _rum.select_steps(ctx["original"], bundle, subsets, steps, crit, seed=seed, progress_bar=False)
        report = model_report(sel.result.model, bundle, forget, seed=seed)
        search = int(sel.scores["grad_evals"].sum())
        return pd.DataFrame([{"seed": seed, "label": f"select {criterion}", "variant": "select",
                              "method": "select", "criterion": criterion,
                              "steps": "+".join(s.method for s in sel.steps),
                              **_scores_row(sel.result, report, ctx, bundle, mem.grad_evals),
                              "search_grad_evals": search,
                              "rel_search_grad_evals": search / ctx["reference"].grad_evals}])

    frames = []
    for seed, criterion in progress([(s, c) for s in seeds for c in criteria], desc="RUM selection",
                                    enabled=progress_bar):
        config = {"profile": profile.as_dict(), "forget": "rum-paper-levels-report", "memorization": mem.config,
                  "seed": seed,
                  "criterion": criterion, "candidates": [s.as_dict() for s in steps]}
        compute = partial(cell, seed, criterion)
        frames.append(cached_frame("rum-selection", config, compute, depends=_RUM_DEPENDS) if use_cache
                      else compute())
    return pd.concat(frames, ignore_index=True)
