"""Experiments: seeds × forget sets × methods → one tidy DataFrame row per run, cached.

The building blocks every chapter shares:

* :func:`load_data` — the profile's dataset (memoized in the process),
* :func:`original_model` — the profile's original model θᵒ for a seed (cached on disk),
* :func:`unlearning_runs` — run methods against retrain on forget sets and score them,
* :func:`unlearning_grid` — the same for several kinds of forget set (e.g. ES or memorization levels).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from . import data, unlearners
from ._progress import progress
from .metrics import compare_reports, model_report
from .partition import random_forget_set
from .profiles import Profile
from .training import train_model

__all__ = ["load_data", "original_model", "unlearning_runs", "unlearning_grid", "ForgetSetFn",
           "random_forget_sets"]

# Everything a cached experiment result depends on: a change to any of these recomputes it.
_DEPENDS = ("data", "models", "training", "unlearners", "metrics", "partition", "experiments", "profiles")

ForgetSetFn = Callable[[data.DataBundle, int], np.ndarray]


@lru_cache(maxsize=8)
def _load(name: str, seed: int) -> data.DataBundle:
    return data.load(name, seed=seed)


def load_data(profile: Profile) -> data.DataBundle:
    """The profile's dataset (split seed 0, shared by every seed of an experiment), loaded once per process."""
    return _load(profile.dataset, 0)


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
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty")

    def compute() -> pd.DataFrame:
        bundle = load_data(profile)
        rows = []
        for seed in progress(seeds, desc="seeds", enabled=progress_bar):
            original, _ = original_model(profile, seed, progress_bar=progress_bar)
            forget = forget_sets(bundle, seed)
            reference = unlearners.make("retrain", **profile.method_hparams("retrain"))(
                original, bundle, forget, seed=seed, progress_bar=progress_bar)
            ref_report = model_report(reference.model, bundle, forget, seed=seed)
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
    from .cache import cached_frame

    config = {"profile": profile.as_dict(), "methods": specs, "seeds": seeds, "forget_sets": forget_name}
    return cached_frame("unlearning-runs", config, compute, depends=_DEPENDS)


def unlearning_grid(profile: Profile, methods: Sequence[str] | Mapping[str, Mapping],
                    forget_sets: Mapping[str, ForgetSetFn], *, seeds: Sequence[int],
                    progress_bar: bool | None = None, use_cache: bool = True) -> pd.DataFrame:
    """:func:`unlearning_runs` for each kind of forget set: levels × seeds × methods in one tidy frame.

    Args:
        forget_sets: level label (e.g. ``"low"``) → ``f(bundle, seed)``. When ``f`` has a ``forget_name``
            attribute (as :func:`rum_core.partition.es_forget_sets` gives) it names the cache entry and the
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
