"""What the memorization chapter (``book/05_memorization.ipynb``) cites, computed from its experiments.

Every function returns the chapter's ``{glue:text}`` names in order (a ``dict`` for
:func:`rum_core.notebook.glue_all`), with Python ``int``/``float``/``str`` values, and sometimes the small
table the chapter shows beside them:

* :func:`estimate_summary` — the estimate itself: design, fit of the models, shape of the tail, precision;
* :func:`ranking_stability` — how many models the ranking and the high group need;
* :func:`extreme_examples` / :func:`per_class_memorization` — the most and least memorized digits;
* :func:`difficulty_by_level` — the paper's second finding (more memorized forget set → lower ToW), checked
  method by method;
* :func:`group_entanglement` / :func:`entanglement_findings` — the ES of the memorization groups;
* :func:`proxy_comparison` — the one-run proxies against the estimate, and what they cost;
* :func:`tail_comparison` / :func:`book_time` — digits against MNIST-1D, and why digits is the default.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from .. import experiments, memorization, models, partition, profiles, unlearners
from ..memorization import MemorizationRuns
from ..partition import MEMORIZATION_LEVELS
from ..stats import summarize
from ..training import TrainConfig, predict
from ..validation import check_array, check_columns, check_frame, check_int, check_labels, check_seeds

__all__ = ["estimate_summary", "ranking_stability", "Extremes", "extreme_examples", "per_class_memorization",
           "difficulty_by_level", "group_entanglement", "entanglement_findings", "proxy_comparison",
           "STABILITY_MODEL_COUNTS", "PAPER_PROXY_RHO", "tail_comparison", "comparison_model_count", "book_time",
           "COMPARISON_MODELS", "COMPARISON_PROFILES", "MAX_SHARE_ZERO", "SHARE_ABOVE_HALF", "BOOK_BUDGET_MINUTES"]

#: The model counts :func:`ranking_stability` re-estimates from (those below K, and K itself).
STABILITY_MODEL_COUNTS = (10, 20, 50, 100, 200, 500)

#: The Spearman correlations between proxies and the estimate reported on CIFAR-10 (unverified).
PAPER_PROXY_RHO = (0.7, 0.9)


def _runs(runs) -> MemorizationRuns:
    if not isinstance(runs, MemorizationRuns):
        raise TypeError(f"runs must be a rum_core.memorization.MemorizationRuns (experiments.estimate_for_profile), "
                        f"got {type(runs).__name__}")
    return runs


def estimate_summary(runs: MemorizationRuns) -> dict[str, int | float | str]:
    """The numbers the chapter cites about the memorization estimate of ``runs`` (K models on subsets).

    Returns, in order:
        ``K`` (models), ``n_train`` (training examples scored), ``n_in`` / ``n_out`` (models that trained /
        did not train on the first example), ``balanced`` (``"every"`` when every example was in the same
        number of models, as a balanced design promises, else ``"not every"``), ``train_acc_in`` (% of
        their own training examples the models get right: memorization needs models that fit their data),
        ``test_acc_models`` (their mean test accuracy, %), ``est_seconds`` (training time when the runs were
        computed), ``n_zero`` / ``n_above_half`` (examples with an estimate of exactly 0 / above 0.5: the
        thin tail), ``q99`` (99th percentile of the estimates), ``se_mean`` / ``se_max`` (mean and largest
        standard error) and ``se_bound``: the worst-case standard error of the design,
        ½·√(1/(rK) + 1/((1−r)K)) with ``r`` the subset ratio of the runs (a proportion's variance is at most
        ¼, and each estimate is a difference of two independent proportions over rK and (1−r)K models).

    Raises:
        TypeError: ``runs`` is not a :class:`~rum_core.memorization.MemorizationRuns`.
        ValueError: its configuration does not record the subset ratio.
    """
    runs = _runs(runs)
    if "subset_ratio" not in runs.config:
        raise ValueError("runs.config lacks 'subset_ratio' (runs from memorization.estimate record it)")
    est, scores, k = runs.estimate, runs.estimate.scores, runs.n_models
    r = runs.config["subset_ratio"]
    return {
        "K": int(k),
        "n_train": len(scores),
        "n_in": int(est.n_in[0]),
        "n_out": int(est.n_out[0]),
        "balanced": "every" if (est.n_in == est.n_in[0]).all() else "not every",
        "train_acc_in": float(100 * runs.train_accuracy_in),
        "test_acc_models": float(100 * runs.test_accuracy.mean()),
        "est_seconds": float(runs.seconds),
        "n_zero": int((scores == 0).sum()),
        "n_above_half": int((scores > 0.5).sum()),
        "q99": float(np.quantile(scores, 0.99)),
        "se_mean": float(np.nanmean(est.stderr)),
        "se_max": float(np.nanmax(est.stderr)),
        "se_bound": float(0.5 * np.sqrt(1 / (r * k) + 1 / ((1 - r) * k))),
    }


def ranking_stability(runs: MemorizationRuns, n_group: int, model_counts: Iterable[int] = STABILITY_MODEL_COUNTS
                      ) -> tuple[dict[str, int | float], pd.DataFrame]:
    """How the estimate from the first ``k`` of the K models compares with the estimate from all K.

    For every ``k`` of ``model_counts`` below K, and K itself, the estimate is recomputed from the first k
    models (examples never left out among them get no estimate, counted in ``no estimate``) and compared
    with the full one: Spearman rank correlation, mean and largest absolute difference, mean standard error,
    and how many of the ``n_group`` most memorized examples (the full estimate's high group,
    :func:`rum_core.partition.memorization_groups`) its own high group already contains. The comparison
    includes the k models themselves, so it flatters large k a little.

    Returns:
        ``(values, table)``: ``table`` one row per k (index ``models``); ``values`` in order ``group_size``
        (``n_group``), ``k_settle`` (the smallest k below K from which the high-group count no longer changes
        up to the largest k below K: the groups the forget sets use have settled), ``k_settle_found`` and
        ``k_settle_rho`` (count and rank correlation there), ``k_ref`` (the largest k below K, or K when no
        count is below it), ``k_ref_rho``, ``k_ref_found`` and ``k_ref_maxdiff`` (the largest difference of
        its estimates from the full ones).

    Raises:
        TypeError / ValueError: ``runs`` is not memorization runs, ``n_group`` is not a positive integer of
            at most a third of the examples, or ``model_counts`` holds anything but positive integers.
    """
    runs = _runs(runs)
    scores = runs.estimate.scores
    n_group = check_int("n_group", n_group, low=1, high=len(scores) // 3)
    counts = [check_int(f"model_counts[{i}]", k, low=1) for i, k in enumerate(model_counts)]
    k_all = runs.n_models
    high_all = partition.memorization_groups(scores, n_group)["high"]
    found_col = f"high group found (of {n_group})"
    rows = []
    for k in sorted({k for k in counts if k < k_all} | {k_all}):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # examples never left out among the first k models
            sub = memorization.from_runs(runs.correct[:k], runs.included[:k])
        ok = ~np.isnan(sub.scores)
        high_k = partition.memorization_groups(sub.scores, n_group, nan_policy="omit")["high"]
        rows.append({"models": k, "no estimate": int((~ok).sum()),
                     "Spearman vs all": spearmanr(sub.scores[ok], scores[ok]).statistic,
                     "mean |diff|": float(np.abs(sub.scores - scores)[ok].mean()),
                     "max |diff|": float(np.abs(sub.scores - scores)[ok].max()),
                     "mean stderr": float(np.nanmean(sub.stderr)),
                     found_col: len(np.intersect1d(high_k, high_all))})
    table = pd.DataFrame(rows).set_index("models")
    below = [k for k in table.index if k < k_all] or [k_all]
    k_ref = below[-1]
    found = table[found_col]
    k_settle = next(k for i, k in enumerate(below) if (found.loc[below[i:]] == found.loc[k]).all())
    values = {
        "group_size": int(n_group),
        "k_settle": int(k_settle),
        "k_settle_found": int(found.loc[k_settle]),
        "k_settle_rho": float(table.loc[k_settle, "Spearman vs all"]),
        "k_ref": int(k_ref),
        "k_ref_rho": float(table.loc[k_ref, "Spearman vs all"]),
        "k_ref_found": int(found.loc[k_ref]),
        "k_ref_maxdiff": float(table.loc[k_ref, "max |diff|"]),
    }
    return values, table


@dataclass(frozen=True)
class Extremes:
    """The most and least memorized training examples (:func:`extreme_examples`).

    Attributes:
        top: the ``n`` most memorized, by decreasing score (ties: lower index first).
        least: ``n`` examples with the lowest scores: the last ``n`` of that order, lowest first.
        predictions: what a model retrained without ``top`` predicts for each of ``top``.
        values: ``n_top_wrong`` (how many of ``top`` that model gets wrong: memorized examples are
            classified correctly only by a model that saw them) and ``top_min_score`` (the lowest score in
            ``top``).
    """

    top: np.ndarray
    least: np.ndarray
    predictions: np.ndarray
    values: dict


def extreme_examples(profile, bundle, scores, n: int = 20, *, seed: int = 0) -> Extremes:
    """The ``n`` most and least memorized training examples, and what a model that never saw the most
    memorized ones predicts for them.

    Calls, in order: :func:`rum_core.experiments.original_model` (``seed``), then the profile's ``retrain``
    unlearner on ``bundle`` with the ``n`` most memorized examples as the forget set (``seed``): a model
    trained on every other example, whose predictions on them are :attr:`Extremes.predictions`.

    Args:
        profile: the :class:`rum_core.profiles.Profile` of the experiment.
        bundle: its data (:func:`rum_core.experiments.load_data`); ``scores`` score ``bundle.train``.
        scores: (N,) memorization estimates, finite.
        n: how many examples at each end.

    Raises:
        TypeError / ValueError: ``scores`` not a finite 1-D array of one score per training example, or
            ``n`` not an integer in [1, N]; raised before any model is trained.
    """
    scores = check_array("scores", scores, 1)
    if len(scores) != len(bundle.train):
        raise ValueError(f"scores has {len(scores)} values but bundle.train has {len(bundle.train)} examples")
    n = check_int("n", n, low=1, high=len(scores))
    order = np.lexsort((np.arange(len(scores)), -scores))  # by decreasing score, then index
    top, least = order[:n], order[::-1][:n].copy()
    original, _ = experiments.original_model(profile, seed)
    retrain = unlearners.make("retrain", **profile.method_hparams("retrain"))
    without_top = retrain(original, bundle, top, seed=seed).model
    predictions = predict(without_top, bundle.train.x[top])
    labels = bundle.train.y.numpy()
    values = {"n_top_wrong": int((predictions != labels[top]).sum()), "top_min_score": float(scores[top].min())}
    return Extremes(top=top, least=least, predictions=predictions, values=values)


def per_class_memorization(scores, labels, class_names: Sequence[str]) -> tuple[dict[str, int | str], pd.DataFrame]:
    """Memorization by class: how many examples, their mean estimate and how many score above 0.5.

    Returns:
        ``(values, table)``: ``table`` one row per class name (sorted), columns ``examples, mean,
        above_half``; ``values`` ``most_class`` (the class with the most examples above 0.5; the first in
        name order on a tie) and ``most_class_n`` (that count).

    Raises:
        TypeError / ValueError: ``scores`` not a finite 1-D array, ``labels`` not integer labels of the same
            length within ``[0, len(class_names))``.
    """
    scores = check_array("scores", scores, 1)
    labels = check_labels("labels", labels)
    if isinstance(class_names, str) or not isinstance(class_names, Sequence) or not class_names \
            or not all(isinstance(c, str) for c in class_names):
        raise TypeError(f"class_names must be a non-empty sequence of strings, got {class_names!r}")
    names = list(class_names)
    if len(labels) != len(scores):
        raise ValueError(f"labels has {len(labels)} values but scores has {len(scores)}")
    if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
        raise ValueError(f"labels must lie in [0, {len(names)}) (one per class name), got {labels.min()} … "
                         f"{labels.max()}")
    frame = pd.DataFrame({"label": [names[c] for c in labels], "memorization": scores})
    table = frame.groupby("label", sort=False).agg(
        examples=("memorization", "size"), mean=("memorization", "mean"),
        above_half=("memorization", lambda s: int((s > 0.5).sum()))).sort_index()
    return {"most_class": str(table["above_half"].idxmax()), "most_class_n": int(table["above_half"].max())}, table


def _names(ms: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    ms = list(ms)
    return ms[0] if len(ms) == 1 else ", ".join(ms[:-1]) + " and " + ms[-1]


def difficulty_by_level(summary: pd.DataFrame, methods: Sequence[str]) -> dict[str, int | float | str]:
    """The paper's second finding checked on this grid: the more memorized the forget set, the lower ToW.

    Args:
        summary: :func:`rum_core.stats.summarize` of the unlearning grid by ``["level", "method"]`` with
            metrics ``forget`` and ``tow``: one row per (method, level) for ``methods``, ``retrain`` and
            ``identity``, levels low / medium / high.
        methods: the unlearning methods of the grid (``retrain`` excluded). Every one but ``identity``
            (doing nothing, a reference) is *checked*.

    Returns, in order:
        ``original_forget_min`` (% of the least well classified level that the original model, ``identity``,
        gets right), ``n_checked``; ``n_monotone`` (checked methods whose mean ToW falls strictly low >
        medium > high); ``n_low_gt_high`` (those whose low-level interval lies wholly above the high-level
        one); ``n_med_high_overlap`` (those whose medium and high intervals overlap); ``step_low_med`` and
        ``step_med_high`` (the drops of the mean ToW over checked methods), ``step_compare`` (``"larger"``
        when the first drop is the larger); ``monotone_exceptions`` (a sentence naming how the non-monotone
        methods break the order, or ``"no method breaks it."``); per level ``tow_avg_<level>`` (mean ToW
        over checked methods), ``retrain_forget_<level>`` (% of the level the retrained model gets right,
        i.e. what unlearning must reach) and ``identity_tow_<level>`` (ToW of doing nothing);
        ``n_low_gt_high_mean`` (checked methods whose mean ToW is lower on high than on low) and
        ``finding_verdict``: ``"holds"`` when that is every checked method AND the mean over methods falls
        strictly low > medium > high, else ``"holds only in part"``.

    Raises:
        TypeError / ValueError: not such a summary, or a (method, level) row missing.
    """
    check_frame("summary", summary, ["level", "method"], numeric=["forget", "tow", "tow_ci"])
    methods = check_columns("methods", methods)
    levels = MEMORIZATION_LEVELS
    by = summary.set_index(["method", "level"])
    missing = [(m, lv) for m in dict.fromkeys([*methods, "retrain", "identity"]) for lv in levels
               if (m, lv) not in by.index]
    if missing:
        raise ValueError(f"summary lacks the (method, level) rows {missing[:5]}")
    checked = [m for m in methods if m != "identity"]
    if not checked:
        raise ValueError(f"methods must name at least one unlearning method besides identity, got {methods}")
    tow_of = {m: [float(by.loc[(m, lv), "tow"]) for lv in levels] for m in checked}
    ci_of = {m: [float(by.loc[(m, lv), "tow_ci"]) for lv in levels] for m in checked}
    monotone = [m for m in checked if tow_of[m][0] > tow_of[m][1] > tow_of[m][2]]
    low_gt_high = [m for m in checked if tow_of[m][0] - ci_of[m][0] > tow_of[m][2] + ci_of[m][2]]
    not_monotone = [m for m in checked if m not in monotone]
    level_mean = {lv: float(np.mean([tow_of[m][i] for m in checked])) for i, lv in enumerate(levels)}
    med_below_high = [m for m in not_monotone if tow_of[m][1] <= tow_of[m][2]]
    med_above_low = [m for m in not_monotone if tow_of[m][1] >= tow_of[m][0]]
    breaks = []
    if med_below_high:
        breaks.append(f"{_names(med_below_high)} {'scores' if len(med_below_high) == 1 else 'score'} no higher on "
                      f"the medium set than on the high one")
    if med_above_low:
        breaks.append(f"{_names(med_above_low)} {'scores' if len(med_above_low) == 1 else 'score'} at least as "
                      f"high on the medium set as on the low one")
    overlap = [m for m in checked if abs(tow_of[m][1] - tow_of[m][2]) <= ci_of[m][1] + ci_of[m][2]]
    low_gt_high_mean = [m for m in checked if tow_of[m][0] > tow_of[m][2]]
    values: dict[str, int | float | str] = {
        "original_forget_min": 100 * min(float(by.loc[("identity", lv), "forget"]) for lv in levels),
        "n_checked": len(checked),
        "n_monotone": len(monotone),
        "n_low_gt_high": len(low_gt_high),
        "n_med_high_overlap": len(overlap),
        "step_low_med": level_mean["low"] - level_mean["medium"],
        "step_med_high": level_mean["medium"] - level_mean["high"],
        "step_compare": "larger" if level_mean["low"] - level_mean["medium"] > level_mean["medium"] - level_mean["high"]
        else "smaller",
        "monotone_exceptions": ("; ".join(breaks) + ".") if breaks else "no method breaks it.",
    }
    for lv in levels:
        values[f"tow_avg_{lv}"] = level_mean[lv]
        values[f"retrain_forget_{lv}"] = 100 * float(by.loc[("retrain", lv), "forget"])
        values[f"identity_tow_{lv}"] = float(by.loc[("identity", lv), "tow"])
    values["n_low_gt_high_mean"] = len(low_gt_high_mean)
    holds = len(low_gt_high_mean) == len(checked) and level_mean["low"] > level_mean["medium"] > level_mean["high"]
    values["finding_verdict"] = "holds" if holds else "holds only in part"
    return values


def group_entanglement(profile, bundle, groups, *, seeds: Iterable[int]) -> pd.DataFrame:
    """ES (:func:`rum_core.partition.set_entanglement`) of each memorization group against the rest of the
    training set, in the embedding of each seed's original model, next to a random set of the same size.

    For every seed of ``seeds``, in order: the original model of that seed
    (:func:`rum_core.experiments.original_model`), its embedding of ``bundle.train``, and a random set of
    ``profile.memorization_group_size`` examples (:func:`rum_core.partition.random_forget_set`, that seed).

    Args:
        groups: level name → training indices (the memorization groups).

    Returns:
        One row per (seed, set): ``seed, set`` (the group names, then ``"random"``), ``es``.

    Raises:
        TypeError / ValueError: bad ``seeds`` or an empty ``groups`` (before any model is loaded).
    """
    seeds = check_seeds(seeds)
    if not isinstance(groups, Mapping) or not groups:
        raise (ValueError if isinstance(groups, Mapping) else TypeError)(
            f"groups must be a non-empty dict level → indices, got {groups!r}")
    rows = []
    for seed in seeds:
        emb = models.embed(experiments.original_model(profile, seed)[0], bundle.train.x)
        random_set = partition.random_forget_set(len(bundle.train), size=profile.memorization_group_size, seed=seed)
        for name, idx in {**groups, "random": random_set}.items():
            rows.append({"seed": seed, "set": name, "es": partition.set_entanglement(emb, idx)})
    return pd.DataFrame(rows)


def entanglement_findings(es_runs: pd.DataFrame) -> tuple[dict[str, float | str], pd.DataFrame]:
    """The ES of the memorization groups as the chapter cites it.

    Args:
        es_runs: :func:`group_entanglement`'s rows (``set`` ∈ low, medium, high, random; ``es``; one row per
            seed and set).

    Returns:
        ``(values, summary)``: ``summary`` = :func:`rum_core.stats.summarize` by ``set`` (mean ± 95%
        interval over seeds); ``values`` ``es_low``, ``es_medium``, ``es_high``, ``es_random`` (mean ES) and
        ``es_shape``: whether ES decreases or increases monotonically with memorization (low → medium →
        high), or is not monotone. Memorization and entanglement being distinct factors shows as a shape
        other than "increases" (more entangled = harder, per the entanglement finding).

    Raises:
        TypeError / ValueError: not such a frame, or a set missing.
    """
    check_frame("es_runs", es_runs, ["set"], numeric=["es"])
    es_summary = summarize(es_runs, "set", ["es"])
    es_mean = es_summary.set_index("set")["es"]
    missing = [s for s in [*MEMORIZATION_LEVELS, "random"] if s not in es_mean.index]
    if missing:
        raise ValueError(f"es_runs lacks the set(s) {missing}")
    values: dict[str, float | str] = {f"es_{name}": float(es_mean[name]) for name in [*MEMORIZATION_LEVELS, "random"]}
    es_order = [float(es_mean[lv]) for lv in MEMORIZATION_LEVELS]
    if es_order[0] > es_order[1] > es_order[2]:
        values["es_shape"] = "decreases monotonically as memorization increases"
    elif es_order[0] < es_order[1] < es_order[2]:
        values["es_shape"] = "increases monotonically as memorization increases"
    else:
        values["es_shape"] = "is not monotone in memorization"
    return values, es_summary


def proxy_comparison(runs: MemorizationRuns, proxies: pd.DataFrame, train: TrainConfig, n_group: int
                     ) -> tuple[dict[str, int | float | str], pd.DataFrame]:
    """The one-run memorization proxies against the estimate of ``runs``: agreement and cost.

    Args:
        runs: the memorization runs of the estimate (scores, gradient evaluations, training time).
        proxies: :func:`rum_core.memorization.proxies` of the same training set (one row per example, with
            ``attrs["seconds"]`` and ``attrs["holdout_seconds"]``); oriented here so that higher always
            means more memorized (:func:`rum_core.memorization.orient_proxies`).
        train: the recipe of the proxies' training run (``profile.train``): the learning-event proxies cost
            one run (N examples × its epochs), holdout retraining (cross-fitted) a model on each half plus a
            fine-tune on the other half (N × epochs + N × the holdout recipe's epochs).
        n_group: size of the high group (:func:`rum_core.partition.memorization_groups`).

    Returns:
        ``(values, table)``: ``table`` one row per proxy: Spearman correlation with the estimate (over all
        examples, and over those with an estimate above 0, where digits' ties at 0 do not blur it), how many
        of the estimate's high group the proxy's own high group finds, and gradient evaluations and wall time
        relative to the estimate; ``values`` in order ``best_proxy``/``best_rho`` and
        ``worst_proxy``/``worst_rho`` (by correlation), ``n_tail`` (examples with an estimate above 0),
        ``best_tail_proxy``/``best_tail_rho``, ``best_found_proxy``/``best_found``, ``proxy_grad_cost`` /
        ``holdout_grad_cost`` / ``proxy_time_cost`` / ``holdout_time_cost`` (% of the estimate's),
        ``rho_vs_paper`` (the best correlation ``"below"``, ``"within"`` or ``"above"``
        :data:`PAPER_PROXY_RHO`) and ``time_vs_grad`` (``"far less favourable than"`` when the time ratio is
        over 3× the gradient-evaluation ratio, else ``"about as favourable as"``).

    Raises:
        TypeError / ValueError: bad arguments, or ``proxies`` not one row per scored example.
    """
    runs = _runs(runs)
    check_frame("proxies", proxies, numeric=memorization.PROXIES)
    if not isinstance(train, TrainConfig):
        raise TypeError(f"train must be a rum_core.training.TrainConfig, got {type(train).__name__}")
    scores = runs.estimate.scores
    n_group = check_int("n_group", n_group, low=1, high=len(scores) // 3)
    n = len(scores)
    if len(proxies) != n:
        raise ValueError(f"proxies has {len(proxies)} rows but the estimate scores {n} examples")
    missing = [k for k in ("seconds", "holdout_seconds") if k not in proxies.attrs]
    if missing:
        raise ValueError(f"proxies.attrs lacks {missing} (memorization.proxies records them)")
    oriented = memorization.orient_proxies(proxies)
    high_all = partition.memorization_groups(scores, n_group)["high"]
    epochs, tune_epochs = train.epochs, memorization.default_holdout_train(train).epochs
    grad_evals = {"estimate": runs.to_scores().grad_evals, "one run": n * epochs,
                  "holdout": n * epochs + n * tune_epochs}
    found_col = f"high group found (of {n_group})"
    rows = []
    for name in memorization.PROXIES:
        values = oriented[name].to_numpy()
        ok = np.isfinite(values)
        proxy_high = partition.memorization_groups(values, n_group, nan_policy="omit")["high"]
        holdout = name == "holdout_kl"
        seconds = proxies.attrs["holdout_seconds" if holdout else "seconds"]
        tail = ok & (scores > 0)
        rows.append({"proxy": name, "Spearman with estimate": spearmanr(values[ok], scores[ok]).statistic,
                     "Spearman where estimate > 0": spearmanr(values[tail], scores[tail]).statistic,
                     found_col: len(np.intersect1d(proxy_high, high_all)),
                     "grad. evals / estimate": grad_evals["holdout" if holdout else "one run"] / grad_evals["estimate"],
                     "time / estimate": seconds / runs.seconds})
    table = pd.DataFrame(rows).set_index("proxy")
    rho, rho_tail, found = table["Spearman with estimate"], table["Spearman where estimate > 0"], table[found_col]
    return {
        "best_proxy": str(rho.idxmax()),
        "best_rho": float(rho.max()),
        "worst_proxy": str(rho.idxmin()),
        "worst_rho": float(rho.min()),
        "n_tail": int((scores > 0).sum()),
        "best_tail_proxy": str(rho_tail.idxmax()),
        "best_tail_rho": float(rho_tail.max()),
        "best_found_proxy": str(found.idxmax()),
        "best_found": int(found.max()),
        "proxy_grad_cost": float(100 * grad_evals["one run"] / grad_evals["estimate"]),
        "holdout_grad_cost": float(100 * grad_evals["holdout"] / grad_evals["estimate"]),
        "proxy_time_cost": float(100 * proxies.attrs["seconds"] / runs.seconds),
        "holdout_time_cost": float(100 * proxies.attrs["holdout_seconds"] / runs.seconds),
        "rho_vs_paper": "below" if rho.max() < PAPER_PROXY_RHO[0] else (
            "within" if rho.max() <= PAPER_PROXY_RHO[1] else "above"),
        "time_vs_grad": "far less favourable than"
        if proxies.attrs["seconds"] / runs.seconds > 3 * grad_evals["one run"] / grad_evals["estimate"]
        else "about as favourable as",
    }, table


# ------------------------------------------------------------------------------- which dataset is the default
#: How many models the side-by-side estimate of :func:`tail_comparison` trains per dataset, at most.
COMPARISON_MODELS = 100

#: The profile that stands for each dataset in :func:`tail_comparison` (unless the chapter's own profile
#: uses that dataset), and how the chapter names it.
COMPARISON_PROFILES = {"digits": "small", "mnist1d": "mnist1d"}
DATASET_NAMES = {"digits": "digits", "mnist1d": "MNIST-1D"}

#: What the issue that introduced MNIST-1D asked of a default where memorization is visible: at most this
#: share of estimates exactly 0, and a share above 0.5 within this range; and the whole book from a cold
#: cache within this many minutes on 2 CPU cores.
MAX_SHARE_ZERO = 0.5
SHARE_ABOVE_HALF = (0.03, 0.40)
BOOK_BUDGET_MINUTES = 10.0


def comparison_model_count(profile) -> int:
    """The number of models :func:`tail_comparison` trains per dataset: the profile's own count capped at
    :data:`COMPARISON_MODELS`, rounded down to a multiple of 10 (the balanced design at ratio 0.7 needs one),
    at least 10."""
    k = min(int(profile.memorization_model_count()), COMPARISON_MODELS)
    return max(10, k // 10 * 10)


def tail_comparison(profile, n_models: int) -> tuple[dict[str, int | float | str], pd.DataFrame]:
    """Digits against MNIST-1D: the memorization estimate of each from ``n_models`` models (each dataset with
    the profile in :data:`COMPARISON_PROFILES`, or ``profile`` itself where it uses that dataset), same K and
    design for both so that their shares are comparable (fewer models → more estimates exactly 0).

    Returns ``(values, table)``; the table has one row per dataset: model, training examples, models' test
    accuracy, share of estimates exactly 0, share above 0.5, share in the "medium" band 0.25–0.75 and the
    split-half Spearman correlation (:meth:`~rum_core.memorization.MemorizationRuns.split_half_spearman`).
    The values, in order: ``cmp_K``; per dataset key ``d`` (``digits``, ``mnist1d``) ``cmp_zero_d`` /
    ``cmp_above_d`` / ``cmp_medium_d`` (%), ``cmp_acc_d`` (%), ``cmp_rho_d``; ``cmp_tail_verdict``
    ("thicker" when MNIST-1D has both fewer estimates at 0 and more above 0.5 than digits, else "not
    thicker"), ``cmp_criteria`` ("meets" / "does not meet": MNIST-1D's shares against
    :data:`MAX_SHARE_ZERO` and :data:`SHARE_ABOVE_HALF`) and those thresholds in %: ``cmp_max_zero``,
    ``cmp_above_low``, ``cmp_above_high``.
    """
    n_models = check_int("n_models", n_models, low=2)
    values: dict[str, int | float | str] = {"cmp_K": n_models}
    rows, shares = [], {}
    for key, name in COMPARISON_PROFILES.items():
        p = profile if profile.dataset == key else profiles.get_profile(name)
        runs = experiments.estimate_for_profile(p, n_models)
        s = runs.scores
        shares[key] = (float(np.mean(s == 0)), float(np.mean(s > 0.5)))
        row = {"dataset": DATASET_NAMES[key], "model": f"{p.model} {p.model_kwargs}", "training examples": len(s),
               "test accuracy %": 100 * float(runs.test_accuracy.mean()), "exactly 0 %": 100 * shares[key][0],
               "above 0.5 %": 100 * shares[key][1],
               "0.25–0.75 %": 100 * float(np.mean((s >= 0.25) & (s <= 0.75))),
               "split-half Spearman": runs.split_half_spearman()}
        rows.append(row)
        values.update({f"cmp_zero_{key}": row["exactly 0 %"], f"cmp_above_{key}": row["above 0.5 %"],
                       f"cmp_medium_{key}": row["0.25–0.75 %"], f"cmp_acc_{key}": row["test accuracy %"],
                       f"cmp_rho_{key}": row["split-half Spearman"]})
    (zero_d, above_d), (zero_m, above_m) = shares["digits"], shares["mnist1d"]
    values["cmp_tail_verdict"] = "thicker" if zero_m < zero_d and above_m > above_d else "not thicker"
    low, high = SHARE_ABOVE_HALF
    values["cmp_criteria"] = "meets" if zero_m <= MAX_SHARE_ZERO and low <= above_m <= high else "does not meet"
    values.update(cmp_max_zero=100 * MAX_SHARE_ZERO, cmp_above_low=100 * low, cmp_above_high=100 * high)
    return values, pd.DataFrame(rows).set_index("dataset")


def book_time(profile_name: str = "mnist1d") -> dict[str, int | float | str]:
    """The recorded cold-cache time of the whole book at profile ``profile_name``: the measurement
    ``bench/book.py --profile NAME --record`` wrote to ``rum_core/findings/measured/book_NAME.json`` (the
    chapter cannot time the whole book from inside it). Returns ``book_minutes``, ``book_machine`` (e.g.
    "x86_64, 2 CPU cores"), ``book_date``, ``book_commit``, ``book_budget`` (:data:`BOOK_BUDGET_MINUTES`),
    ``book_verdict`` ("within" / "over" the budget) and ``book_default``: the dataset (and name) of the
    default profile, :data:`rum_core.profiles.DEFAULT_PROFILE`.

    Raises:
        ValueError: no record for that profile, or a record that is not a whole-book, cold-cache run.
    """
    if not isinstance(profile_name, str) or not profile_name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"profile_name must be a profile's name (letters, digits, '_', '-'), got {profile_name!r}")
    source = resources.files(__package__).joinpath("measured", f"book_{profile_name}.json")
    if not source.is_file():
        raise ValueError(f"no recorded book time for profile {profile_name!r} (bench/book.py --profile "
                         f"{profile_name} --record rum_core/findings/measured/book_{profile_name}.json)")
    record = json.loads(source.read_text())
    missing = {"total_s", "machine", "cpu_cores", "date", "commit", "whole_book", "cold_cache"} - set(record)
    if missing:
        raise ValueError(f"{source.name} lacks {sorted(missing)}: not a bench/book.py --record file")
    if not (record["whole_book"] and record["cold_cache"]):
        raise ValueError(f"{source.name} records part of the book or a warm cache, not the whole book from a "
                         f"cold cache")
    minutes = float(record["total_s"]) / 60
    default = profiles.get_profile(profiles.DEFAULT_PROFILE)
    return {"book_minutes": minutes, "book_machine": f"{record['machine']}, {record['cpu_cores']} CPU cores",
            "book_date": str(record["date"]), "book_commit": str(record["commit"]),  # "+": uncommitted changes on top
            "book_budget": BOOK_BUDGET_MINUTES, "book_verdict": "within" if minutes <= BOOK_BUDGET_MINUTES else "over",
            "book_default": f"{DATASET_NAMES.get(default.dataset, default.dataset)} (profile {default.name!r})"}
