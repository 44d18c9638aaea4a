"""What the RUM chapter (``book/06_rum.ipynb``) cites, computed from its experiments.

Every function returns the chapter's ``{glue:text}`` names in order (a ``dict`` for
:func:`rum_core.notebook.glue_all`) with Python ``int``/``float``/``str`` values, and where the chapter shows
a table beside them, that table too (a ``(values, table)`` pair, or a small dataclass):

* :func:`forget_set_levels`, :func:`refinement_check` — the forget set's memorization levels, and what the
  original and retrained models get right on each refined subset;
* :func:`table_claims` — the paper's claims checked on the RUM table (RUM's rank, RUM^F ≥ vanilla,
  vanilla ≥ shuffle, …);
* :func:`level_gaps` — where RUM departs from retraining, level by level;
* :func:`ablation` — the high-memorization subset alone;
* :func:`follow_up_seeds`, :func:`tune_rows`, :func:`tuning_findings` — every row tuned with the same budget;
* :func:`selection_findings` — the per-subset methods chosen with and without a retrained model;
* :func:`proxy_findings` — refining by a one-run proxy instead of the memorization estimate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import experiments, partition, rum, unlearners
from ..memorization import MemorizationScores
from ..metrics import accuracy
from ..stats import format_table
from ..validation import check_array, check_columns, check_frame, check_indices, check_seeds
from ._summary import by_key

__all__ = ["forget_set_levels", "refinement_check", "table_claims", "level_gaps", "ablation", "follow_up_seeds",
           "Tuning", "tune_rows", "tuning_findings", "SelectionFindings", "selection_findings", "proxy_findings",
           "FORGET_TOLERANCE", "FOLLOW_UP_SEEDS", "TUNING_GRIDS", "TUNING_SEEDS", "PROXY_REFINEMENTS"]

#: How far (as a fraction of the forget set) RUM's forget accuracy may lie from retraining's and still
#: "match" it; beyond it RUM under-forgets (higher) or over-forgets (lower).
FORGET_TOLERANCE = 0.02

#: How many of the table's seeds the follow-up studies (tuning, selection, proxies) report on, beyond smoke.
FOLLOW_UP_SEEDS = 5

#: The tuning grid (learning rates × epochs) every row gets, at the smoke profile and at every other one.
TUNING_GRIDS = {"smoke": {"lr": [0.02, 0.1], "epochs": [2]}, "default": {"lr": [0.02, 0.1], "epochs": [3, 10]}}

#: The tuning seeds, disjoint from every reported seed.
TUNING_SEEDS = {"smoke": [100], "default": [100, 101]}

#: The refinements :func:`proxy_findings` compares: the estimate and two one-run proxies.
PROXY_REFINEMENTS = ("memorization", "confidence", "cumulative_loss")


def _by_label(name: str, summary, rows: Sequence[str], numeric: Sequence[str]) -> pd.DataFrame:
    """``summary`` (an :func:`rum_core.experiments.rum_table`) indexed by label, with every one of ``rows``."""
    return by_key(name, summary, "label", numeric, rows)


def _variant_table(by: pd.DataFrame, methods: Sequence[str], columns: Mapping[str, str]) -> pd.DataFrame:
    """One row per method, one column per ``columns`` item (column name → variant): the mean ToW of the
    row ``"<method> <variant>"`` of ``by`` (a :func:`_by_label` frame)."""
    table = {"method": list(methods)}
    for column, variant in columns.items():
        table[column] = [float(by.loc[f"{m} {variant}", "tow"]) for m in methods]
    return pd.DataFrame(table)


def forget_set_levels(scores, forget_groups: Mapping[str, np.ndarray]) -> tuple[dict[str, float], pd.DataFrame]:
    """The memorization range of each level of the RUM forget set: what "low", "medium", "high" mean here.

    Args:
        scores: (N,) memorization scores.
        forget_groups: level → training indices (:func:`rum_core.experiments.rum_forget_groups`).

    Returns:
        ``(values, ranges)``: ``ranges`` = :func:`rum_core.partition.group_ranges` indexed by level (size,
        min, mean, max); ``values`` ``rum_mem_<level>_<stat>`` for every level low / medium / high and stat
        min / mean / max, in that order.

    Raises:
        TypeError / ValueError: bad scores or index sets (as :func:`rum_core.partition.group_ranges`), or a
            level missing.
    """
    if not isinstance(forget_groups, Mapping):
        raise TypeError(f"forget_groups must be a mapping level → indices, got {type(forget_groups).__name__}")
    missing = [lvl for lvl in rum.LEVELS if lvl not in forget_groups]
    if missing:
        raise ValueError(f"forget_groups lacks the level(s) {missing}")
    ranges = partition.group_ranges(scores, forget_groups).set_index("level")
    values = {f"rum_mem_{lvl}_{stat}": float(ranges.loc[lvl, stat])
              for lvl in rum.LEVELS for stat in ("min", "mean", "max")}
    return values, ranges


def refinement_check(profile, bundle, mem: MemorizationScores, forget_set, subsets: Sequence, *,
                     seed: int = 0) -> pd.DataFrame:
    """What refinement splits the forget set into, and what the original and retrained models get right there.

    Calls, in order: :func:`rum_core.experiments.original_model` (``seed``) and the profile's ``retrain``
    unlearner on ``forget_set`` (``seed``).

    Args:
        mem: the memorization scores (``scores`` and the held-out accuracy ``p_out``).
        forget_set: the RUM forget set; ``subsets`` its refinement (:func:`rum_core.rum.refine`), low → high.

    Returns:
        One row per subset: ``subset, size, mean memorization, mean held-out accuracy p_out`` (what retraining
        is expected to get right, from the memorization models), ``original acc., retrained acc.``

    Raises:
        TypeError / ValueError: ``mem`` not memorization scores, bad index sets, or not one subset per level
            (before any model is loaded).
    """
    if not isinstance(mem, MemorizationScores):
        raise TypeError(f"mem must be rum_core.memorization.MemorizationScores, got {type(mem).__name__}")
    n = len(bundle.train)
    forget_set = check_indices("forget_set", forget_set, n, allow_empty=False)
    if isinstance(subsets, (str, bytes)) or not isinstance(subsets, Sequence) or len(subsets) != len(rum.LEVELS):
        raise ValueError(f"subsets must be {len(rum.LEVELS)} index sets (low → high), got {subsets!r}")
    subsets = [check_indices(f"subsets[{i}]", s, n, allow_empty=False) for i, s in enumerate(subsets)]
    original, _ = experiments.original_model(profile, seed)
    reference = unlearners.make("retrain", **profile.method_hparams("retrain"))(original, bundle, forget_set, seed=seed)
    tr = bundle.train
    return pd.DataFrame({
        "subset": rum.LEVELS, "size": [len(s) for s in subsets],
        "mean memorization": [mem.scores[s].mean() for s in subsets],
        "mean held-out accuracy p_out": [np.nanmean(mem.p_out[s]) for s in subsets],
        "original acc.": [accuracy(original, tr.x[s], tr.y[s]) for s in subsets],
        "retrained acc.": [accuracy(reference.model, tr.x[s], tr.y[s]) for s in subsets],
    })


_TABLE_METRICS = ("tow", "tow_ci", "mia_gap", "forget", "rel_grad_evals", "rel_refine_grad_evals", "n")


def table_claims(summary: pd.DataFrame, main_rows: Sequence[str], methods: Sequence[str] = experiments.RUM_METHODS
                 ) -> tuple[dict[str, int | float | str], pd.DataFrame]:
    """The paper's claims checked on the RUM table.

    Args:
        summary: :func:`rum_core.experiments.rum_table` of the runs, with metrics ``tow``, ``mia_gap`` and
            ``forget`` (and the cost columns): one row per label, ``n`` seeds each.
        main_rows: the rows of the table (``retrain`` first; every row but ``retrain`` competes).
        methods: the unlearning methods F, each with ``"<F> vanilla"``, ``"<F> shuffle"``, ``"<F> rum_f"``.

    Returns:
        ``(values, claims)``: ``claims`` one row per method with its ToW as vanilla, shuffle and RUM^F and
        whether ``RUM^F ≥ vanilla`` and ``vanilla ≥ shuffle`` (mean ToW; ties count as holding); ``values``,
        in order: ``rum_n_seeds``; ``rum_retrain_forget`` (% of the forget set retraining gets right) and
        ``rum_retrain_keeps`` ("still gets most" at ≥ 50%, else "gets only part"); ``rum_forget_acc`` (RUM's)
        and ``rum_forget_verdict`` (RUM "under-forgets" / "over-forgets" when its forget accuracy lies more
        than :data:`FORGET_TOLERANCE` above / below retraining's, else "matches retraining on the forget
        set"); RUM's ``rum_tow``, ``rum_tow_ci``, ``rum_mia_gap``, ``rum_cost`` (unlearning, relative to
        retraining) and ``rum_refine_cost`` (its memorization scores, same unit); ``rum_best_label`` /
        ``rum_best_tow`` (the best competing row) and ``rum_best_vanilla`` / ``rum_best_vanilla_tow``;
        ``rum_n_rumf_wins`` and ``rum_rumf_wins`` (the methods, or "none") for RUM^F ≥ vanilla;
        ``rum_n_vanilla_wins`` for vanilla ≥ shuffle; ``rum_n_methods``; ``rum_rank`` (1 + the competing
        rows with a strictly higher mean ToW than RUM); ``rum_n_rows``; ``rum_beats_all_vanilla`` ("does"
        when RUM's mean ToW is strictly above every vanilla method's, else "does not").

    Raises:
        TypeError / ValueError: not such a summary, a row missing, or rows over different numbers of seeds.
    """
    main_rows = check_columns("main_rows", main_rows)
    methods = check_columns("methods", methods)
    rows_no_ref = [lab for lab in main_rows if lab != "retrain"]
    needed = ["retrain", "rum", *main_rows, *(f"{m} {v}" for m in methods for v in ("vanilla", "shuffle", "rum_f"))]
    by = _by_label("summary", summary, needed, _TABLE_METRICS)
    n_seeds = by.loc[list(dict.fromkeys(needed)), "n"]
    if n_seeds.nunique() != 1:
        raise ValueError(f"the rows of summary summarize different numbers of seeds: {n_seeds.to_dict()}")

    def tow(label: str) -> float:
        return float(by.loc[label, "tow"])

    claims = _variant_table(by, methods, {"vanilla": "vanilla", "shuffle": "shuffle", "RUM^F": "rum_f"})
    claims["RUM^F ≥ vanilla"] = claims["RUM^F"] >= claims["vanilla"]
    claims["vanilla ≥ shuffle"] = claims["vanilla"] >= claims["shuffle"]
    best_label = max(rows_no_ref, key=tow)
    best_vanilla = max((f"{m} vanilla" for m in methods), key=tow)
    forget_diff = float(by.loc["rum", "forget"] - by.loc["retrain", "forget"])
    values = {
        "rum_n_seeds": int(n_seeds.iloc[0]),
        "rum_retrain_forget": float(100 * by.loc["retrain", "forget"]),
        "rum_retrain_keeps": "still gets most" if by.loc["retrain", "forget"] >= 0.5 else "gets only part",
        "rum_forget_acc": float(100 * by.loc["rum", "forget"]),
        "rum_forget_verdict": "under-forgets" if forget_diff > FORGET_TOLERANCE else (
            "over-forgets" if forget_diff < -FORGET_TOLERANCE else "matches retraining on the forget set"),
        "rum_tow": tow("rum"),
        "rum_tow_ci": float(by.loc["rum", "tow_ci"]),
        "rum_mia_gap": float(by.loc["rum", "mia_gap"]),
        "rum_cost": float(by.loc["rum", "rel_grad_evals"]),
        "rum_refine_cost": float(by.loc["rum", "rel_refine_grad_evals"]),
        "rum_best_label": best_label,
        "rum_best_tow": tow(best_label),
        "rum_best_vanilla": best_vanilla,
        "rum_best_vanilla_tow": tow(best_vanilla),
        "rum_n_rumf_wins": int(claims["RUM^F ≥ vanilla"].sum()),
        "rum_rumf_wins": ", ".join(claims.loc[claims["RUM^F ≥ vanilla"], "method"]) or "none",
        "rum_n_vanilla_wins": int(claims["vanilla ≥ shuffle"].sum()),
        "rum_n_methods": len(methods),
        "rum_rank": int(1 + sum(tow(lab) > tow("rum") for lab in rows_no_ref)),
        "rum_n_rows": len(rows_no_ref),
        "rum_beats_all_vanilla": "does" if all(tow("rum") > tow(f"{m} vanilla") for m in methods) else "does not",
    }
    return values, claims


def level_gaps(summary: pd.DataFrame, rows: Sequence[str]) -> tuple[dict[str, float | str], pd.DataFrame]:
    """Forget accuracy level by level (the memorization level each forget example was drawn from), and where
    RUM departs most from retraining.

    Args:
        summary: :func:`rum_core.experiments.rum_table` with metrics ``forget_low``, ``forget_medium``,
            ``forget_high``.
        rows: the labels to show (must include ``retrain`` and ``rum``; repeats are shown once).

    Returns:
        ``(values, levels)``: ``levels`` one row per label, the mean accuracy (%) on each level;
        ``values`` ``rum_worst_level`` (the level where |RUM − retraining| is largest; the first on a tie),
        ``rum_worst_level_rum`` and ``rum_worst_level_retrain`` (their accuracies there, %) and
        ``rum_level_diffs`` (RUM minus retraining on every level, in points, as text).

    Raises:
        TypeError / ValueError: not such a summary, or a row missing.
    """
    rows = check_columns("rows", rows)
    level_cols = [f"forget_{lvl}" for lvl in rum.LEVELS]
    by = _by_label("summary", summary, ["retrain", "rum", *rows], level_cols)
    if not {"retrain", "rum"} <= set(rows):
        raise ValueError(f"rows must include 'retrain' and 'rum', got {rows}")
    levels = by.loc[list(dict.fromkeys(rows)), level_cols] * 100
    levels.columns = [f"{lvl} (%)" for lvl in rum.LEVELS]
    rum_minus_retrain = levels.loc["rum"] - levels.loc["retrain"]  # per level, in points
    worst_level = str(rum_minus_retrain.abs().idxmax()).split(" ")[0]
    values = {
        "rum_worst_level": worst_level,
        "rum_worst_level_rum": float(levels.loc["rum", f"{worst_level} (%)"]),
        "rum_worst_level_retrain": float(levels.loc["retrain", f"{worst_level} (%)"]),
        "rum_level_diffs": ", ".join(f"{d:+.1f} points on {col.split(' ')[0]}" for col, d in rum_minus_retrain.items()),
    }
    return values, levels


def ablation(summary: pd.DataFrame, runs: pd.DataFrame, methods: Sequence[str] = experiments.RUM_METHODS
             ) -> tuple[dict[str, float | str], pd.DataFrame]:
    """The ablation: each method on the high-memorization subset only (``"<F> high_only"``), doing nothing on
    the other two.

    Args:
        summary: :func:`rum_core.experiments.rum_table` of ``runs`` (``tow``, ``rel_grad_evals``).
        runs: the per-seed runs (:func:`rum_core.experiments.rum_runs` with ``ablation=True`` cells).
        methods: the methods F.

    Returns:
        ``(values, table)``: ``table`` one row per method, ToW as vanilla, RUM^F and high-subset-only, and
        the cost of the latter relative to retraining; ``values`` ``rum_abl_same`` (the methods whose
        high-only runs equal their vanilla runs seed by seed, to ``np.allclose``: methods that never look at
        the forget set compute the same thing either way; "none" if there is none) and ``rum_abl_salun``
        (high-subset-only ToW of SalUn, the method RUM applies to the high subset).

    Raises:
        TypeError / ValueError: bad frames, a row missing, or high-only and vanilla runs over different seeds.
    """
    methods = check_columns("methods", methods)
    labels = [f"{m} {v}" for m in methods for v in ("vanilla", "rum_f", "high_only")]
    by = _by_label("summary", summary, labels, ["tow", "rel_grad_evals"])
    check_frame("runs", runs, ["label", "seed"], numeric=["tow"])
    if rum.AUTHORS_RUM[-1] not in methods:
        raise ValueError(f"methods must include {rum.AUTHORS_RUM[-1]!r} (RUM's method on the high subset)")

    table = _variant_table(by, methods, {"vanilla": "vanilla", "RUM^F": "rum_f", "high subset only": "high_only"})
    table["cost high only / retrain"] = [float(by.loc[f"{m} high_only", "rel_grad_evals"]) for m in methods]
    same = []
    for m in methods:
        high = runs.loc[runs["label"] == f"{m} high_only"].set_index("seed")["tow"]
        vanilla = runs.loc[runs["label"] == f"{m} vanilla"].set_index("seed")["tow"]
        if high.empty or sorted(high.index) != sorted(vanilla.index):
            raise ValueError(f"runs must hold {m!r} high_only and vanilla runs over the same seeds, got "
                             f"{sorted(high.index)} and {sorted(vanilla.index)}")
        if np.allclose(high.to_numpy(), vanilla.reindex(high.index).to_numpy()):
            same.append(m)
    values = {"rum_abl_same": ", ".join(same) or "none",
              "rum_abl_salun": float(table.set_index("method").loc[rum.AUTHORS_RUM[-1], "high subset only"])}
    return values, table


def _scale(profile) -> str:
    return "smoke" if profile.name == "smoke" else "default"


def follow_up_seeds(profile, seeds) -> list[int]:
    """The seeds the follow-up studies (tuned rows, selection, proxies) report on: all of the table's
    ``seeds`` at the smoke profile, else the first :data:`FOLLOW_UP_SEEDS` of them (each study reruns rows,
    so it reports on fewer seeds than the table).

    Raises:
        TypeError / ValueError: bad ``seeds`` (:func:`rum_core.validation.check_seeds`).
    """
    seeds = check_seeds(seeds)
    return seeds if _scale(profile) == "smoke" else seeds[:FOLLOW_UP_SEEDS]


@dataclass(frozen=True)
class Tuning:
    """What :func:`tune_rows` did.

    Attributes:
        grid: the hyperparameter grid every row tried; ``tune_seeds`` the seeds it was tried on;
            ``report_seeds`` the seeds the tuned rows were rerun on (disjoint from ``tune_seeds``).
        forget_set: which forget set the trials unlearned, ``"tune"`` (disjoint from the reported one) or
            ``"report"`` (:func:`rum_core.experiments.rum_tuning_forget_set`); ``forget_idx`` its indices.
        candidate_ranges: the memorization ranges (:func:`rum_core.partition.group_ranges`, indexed by level) of
            the disjoint candidate set, whether or not it was used.
        trials: :func:`rum_core.experiments.rum_tune`'s trials (one row per row label and combination).
        tuned_runs: :func:`rum_core.experiments.rum_runs` of the tuned rows on ``report_seeds``.
    """

    grid: dict
    tune_seeds: list
    report_seeds: list
    forget_set: str
    forget_idx: np.ndarray
    candidate_ranges: pd.DataFrame
    trials: pd.DataFrame
    tuned_runs: pd.DataFrame


def tune_rows(profile, cells: Mapping[str, object], scores, seeds) -> Tuning:
    """Give every row of the RUM table (the ``cells`` but the ablation's ``high_only`` ones) the same tuning
    budget, then rerun the tuned rows on the report seeds.

    The grid and tuning seeds are :data:`TUNING_GRIDS` and :data:`TUNING_SEEDS` for the profile's scale; the
    report seeds are :func:`follow_up_seeds` of the table's ``seeds``. Calls, in order:
    :func:`rum_core.experiments.rum_tuning_forget_set`, :func:`rum_core.experiments.rum_tune` (on that forget
    set), :func:`rum_core.experiments.rum_runs` of the tuned rows.

    Raises:
        TypeError / ValueError: bad ``seeds``, or no row to tune (before any work).
    """
    report_seeds = follow_up_seeds(profile, seeds)
    if not isinstance(cells, Mapping):
        raise TypeError(f"cells must be a mapping label → rum.Variant, got {type(cells).__name__}")
    table_cells = {k: v for k, v in cells.items() if not k.endswith("high_only")}
    if not table_cells:
        raise ValueError("cells holds no row to tune (only high_only rows, or none)")
    scores = check_array("scores", scores, 1)
    grid = {key: list(v) for key, v in TUNING_GRIDS[_scale(profile)].items()}
    tune_seeds = list(TUNING_SEEDS[_scale(profile)])
    which = experiments.rum_tuning_forget_set(profile, scores)
    tuned_cells, trials = experiments.rum_tune(profile, table_cells, grid, tune_seeds=tune_seeds, forget_set=which)
    forget_idx = experiments.rum_forget_set(profile, scores, which)
    candidate = experiments.rum_forget_groups(profile, scores, "tune")
    candidate_ranges = partition.group_ranges(scores, candidate).set_index("level")
    tuned_runs = experiments.rum_runs(profile, tuned_cells, seeds=report_seeds)
    return Tuning(grid=grid, tune_seeds=tune_seeds, report_seeds=report_seeds, forget_set=which,
                  forget_idx=forget_idx, candidate_ranges=candidate_ranges, trials=trials, tuned_runs=tuned_runs)


def _range_text(ranges: pd.DataFrame, level: str) -> str:
    return f"{ranges.loc[level, 'min']:.2f}–{ranges.loc[level, 'max']:.2f}"


def tuning_findings(tuning: Tuning, runs: pd.DataFrame, forget_set, level_ranges: pd.DataFrame,
                    methods: Sequence[str] = experiments.RUM_METHODS
                    ) -> tuple[dict[str, int | float | str], pd.DataFrame]:
    """Default against tuned rows, on the same report seeds.

    Args:
        tuning: :func:`tune_rows`' result.
        runs: the table's runs with default hyperparameters (only ``tuning.report_seeds`` are compared).
        forget_set: the reported forget set's indices; ``level_ranges`` its ranges by level
            (:func:`forget_set_levels`).
        methods: the methods F (``"<F> vanilla"``, ``"<F> rum_f"`` rows).

    Returns:
        ``(values, comparison)``: ``comparison`` one row per table row (retrain first): ToW with the defaults
        and tuned, the tuned MIA gap (mean ± 95% interval) and the chosen hyperparameters; ``values``, in
        order: ``rum_tune_set`` (which forget set the trials unlearned, as text), ``rum_tune_overlap`` (its
        examples in the reported set) and ``rum_tune_forget_size``; ``rum_tune_<level>_range`` and
        ``rum_report_<level>_range`` for medium and high (min–max memorization of the disjoint candidate's
        and the reported set's level); ``rum_n_grid`` (configurations per row), ``rum_n_tune_seeds``,
        ``rum_n_report_seeds``; tuned RUM's ``rum_tuned_tow`` / ``rum_tuned_tow_ci``; the best tuned vanilla
        method ``rum_tuned_best_vanilla`` with its ``_tow`` / ``_ci``; ``rum_tuned_verdict`` ("above" when
        tuned RUM's mean ToW is strictly above it, else "not above"); ``rum_tuned_n_rumf`` (methods with
        tuned RUM^F ≥ tuned vanilla); ``rum_tune_most`` (the row whose mean ToW tuning raised most) with
        ``rum_tune_most_from`` / ``rum_tune_most_to``.

    Raises:
        TypeError / ValueError: ``tuning`` not a :class:`Tuning`, bad frames or indices, a row missing.
    """
    if not isinstance(tuning, Tuning):
        raise TypeError(f"tuning must be the Tuning that tune_rows returns, got {type(tuning).__name__}")
    check_frame("runs", runs, ["label", "variant", "method", "seed"], numeric=["tow", "mia_gap"])
    check_frame("level_ranges", level_ranges, numeric=["min", "max"])
    forget_set = check_indices("forget_set", forget_set, np.iinfo(np.int64).max, allow_empty=False)
    methods = check_columns("methods", methods)
    trials = check_frame("tuning.trials", tuning.trials, ["label", "chosen", *tuning.grid])
    table_rows = list(dict.fromkeys(trials["label"]))
    main_rows = ["retrain", *table_rows]
    default_runs = runs[runs["seed"].isin(tuning.report_seeds)]
    tuned_summary = experiments.rum_table(tuning.tuned_runs).set_index("label")
    default_summary = experiments.rum_table(default_runs).set_index("label")
    needed = [*main_rows, "rum", *(f"{m} {v}" for m in methods for v in ("vanilla", "rum_f"))]
    _by_label("the tuned runs' table", tuned_summary.reset_index(), needed, ["tow"])
    _by_label("the default runs' table", default_summary.reset_index(), needed, ["tow"])
    chosen = trials[trials["chosen"]].set_index("label")
    comparison = pd.DataFrame({
        "ToW defaults": format_table(default_summary.reset_index(), "label", ["tow"])["tow"],
        "ToW tuned": format_table(tuned_summary.reset_index(), "label", ["tow"])["tow"],
        "MIA gap tuned": format_table(tuned_summary.reset_index(), "label", ["mia_gap"])["mia_gap"],
        **{f"chosen {key}": chosen[key] for key in tuning.grid},
    }).loc[main_rows]
    t_tow = tuned_summary["tow"]
    best = max((f"{m} vanilla" for m in methods), key=lambda lab: t_tow[lab])
    change = (tuned_summary["tow"] - default_summary["tow"]).drop("retrain")
    values: dict[str, int | float | str] = {
        "rum_tune_set": "its own forget set, disjoint from the reported one" if tuning.forget_set == "tune" else
        "the reported forget set itself, because the disjoint candidate set is unlike it",
        "rum_tune_overlap": int(np.intersect1d(tuning.forget_idx, forget_set).size),
        "rum_tune_forget_size": len(tuning.forget_idx),
    }
    for lvl in ("medium", "high"):
        values[f"rum_tune_{lvl}_range"] = _range_text(tuning.candidate_ranges, lvl)
        values[f"rum_report_{lvl}_range"] = _range_text(level_ranges, lvl)
    values.update({
        "rum_n_grid": len(trials) // len(table_rows),
        "rum_n_tune_seeds": len(tuning.tune_seeds),
        "rum_n_report_seeds": len(tuning.report_seeds),
        "rum_tuned_tow": float(t_tow["rum"]),
        "rum_tuned_tow_ci": float(tuned_summary.loc["rum", "tow_ci"]),
        "rum_tuned_best_vanilla": best,
        "rum_tuned_best_vanilla_tow": float(t_tow[best]),
        "rum_tuned_best_vanilla_ci": float(tuned_summary.loc[best, "tow_ci"]),
        "rum_tuned_verdict": "above" if t_tow["rum"] > t_tow[best] else "not above",
        "rum_tuned_n_rumf": int(sum(t_tow[f"{m} rum_f"] >= t_tow[f"{m} vanilla"] for m in methods)),
        "rum_tune_most": str(change.idxmax()),
        "rum_tune_most_from": float(default_summary.loc[change.idxmax(), "tow"]),
        "rum_tune_most_to": float(tuned_summary.loc[change.idxmax(), "tow"]),
    })
    return values, comparison


@dataclass(frozen=True)
class SelectionFindings:
    """What :func:`selection_findings` returns.

    Attributes:
        values: the cited numbers (see :func:`selection_findings`).
        summary: :func:`rum_core.experiments.rum_table` of the authors' RUM and both selectors, same seeds.
        steps: the methods each selector chose, one row per seed, one column per criterion.
    """

    values: dict
    summary: pd.DataFrame
    steps: pd.DataFrame


def selection_findings(sel: pd.DataFrame, runs: pd.DataFrame) -> SelectionFindings:
    """RUM with its per-subset methods selected (oracle vs held-out criterion) against the authors' choice.

    Args:
        sel: :func:`rum_core.experiments.rum_selection` (both criteria, every seed).
        runs: the table's runs (the authors' ``rum`` rows on ``sel``'s seeds are compared).

    Returns:
        :class:`SelectionFindings` with ``values``, in order: ``rum_sel_oracle``, ``rum_sel_held_out``,
        ``rum_sel_authors`` (mean ToW); ``rum_sel_agree`` (% of seeds where both criteria chose the same
        methods); ``rum_sel_search`` (the search's gradient evaluations relative to retraining, mean over
        seeds) and ``rum_sel_search_vs`` ("more" or "less" than retraining); ``rum_sel_verdict``: the held-out
        selector's mean ToW is "within the seeds' 95% interval of" the oracle's when the two means differ by at
        most the larger of their interval half-widths, else "clearly different from".

    Raises:
        TypeError / ValueError: bad frames, or a criterion or seed missing.
    """
    check_frame("sel", sel, ["seed", "label", "variant", "method", "criterion", "steps"],
                numeric=["tow", "rel_search_grad_evals"])
    check_frame("runs", runs, ["label", "variant", "method", "seed"], numeric=["tow"])
    missing = [c for c in ("oracle", "held_out") if c not in set(sel["criterion"])]
    if missing:
        raise ValueError(f"sel lacks the criterion(s) {missing}")
    rum_rows = runs[(runs["label"] == "rum") & runs["seed"].isin(sel["seed"].unique())]
    if set(rum_rows["seed"]) != set(sel["seed"]):
        raise ValueError(f"runs lacks the 'rum' rows of seed(s) {sorted(set(sel['seed']) - set(rum_rows['seed']))}")
    summary = experiments.rum_table(pd.concat([rum_rows, sel], ignore_index=True))
    steps = sel.pivot(index="seed", columns="criterion", values="steps")
    agree = float((steps["oracle"] == steps["held_out"]).mean())
    s_by = summary.set_index("label")
    search_cost = float(sel["rel_search_grad_evals"].mean())
    gap = float(s_by.loc["select oracle", "tow"] - s_by.loc["select held_out", "tow"])
    half = float(max(s_by.loc["select oracle", "tow_ci"], s_by.loc["select held_out", "tow_ci"]))
    values = {
        "rum_sel_oracle": float(s_by.loc["select oracle", "tow"]),
        "rum_sel_held_out": float(s_by.loc["select held_out", "tow"]),
        "rum_sel_authors": float(s_by.loc["rum", "tow"]),
        "rum_sel_agree": 100 * agree,
        "rum_sel_search": search_cost,
        "rum_sel_search_vs": "more" if search_cost > 1 else "less",
        "rum_sel_verdict": "within the seeds' 95% interval of" if abs(gap) <= half else "clearly different from",
    }
    return SelectionFindings(values=values, summary=summary, steps=steps)


def proxy_findings(proxy_runs: Mapping[str, pd.DataFrame], mem_source: str
                   ) -> tuple[dict[str, int | float | str], pd.DataFrame]:
    """The same rows refined by the memorization estimate and by one-run proxies.

    Args:
        proxy_runs: refinement (every one of :data:`PROXY_REFINEMENTS`) → :func:`rum_core.experiments.rum_runs`
            of the same rows (including ``rum``) and seeds, refined that way.
        mem_source: where the memorization scores come from (``MemorizationScores.source``).

    Returns:
        ``(values, table)``: ``table`` one row per (refinement, row): ToW ± 95% interval, MIA gap, and the
        refinement's cost relative to retraining; ``values`` ``rum_proxy_mem``, ``rum_proxy_conf``,
        ``rum_proxy_loss`` (RUM's mean ToW refined by the estimate, the confidence and the cumulative loss);
        ``rum_mem_cost`` (the estimate's cost as text; published scores cost nothing here);
        ``rum_cost_proxy`` (the confidence proxy's cost); ``rum_proxy_verdict``: RUM refined by the best
        proxy is "about the same quality as" refined by the estimate when the two mean ToWs differ by at most
        the estimate-refined RUM's interval half-width, else "a lower quality than" / "a higher quality than";
        ``rum_n_proxy_seeds``.

    Raises:
        TypeError / ValueError: not such a mapping, bad frames, a refinement or row missing, different seeds.
    """
    if not isinstance(proxy_runs, Mapping) or not proxy_runs:
        raise (ValueError if isinstance(proxy_runs, Mapping) else TypeError)(
            f"proxy_runs must be a non-empty mapping refinement → runs, got {proxy_runs!r}")
    if not isinstance(mem_source, str):
        raise TypeError(f"mem_source must be a string, got {type(mem_source).__name__}")
    missing = [by_ for by_ in PROXY_REFINEMENTS if by_ not in proxy_runs]
    if missing:
        raise ValueError(f"proxy_runs lacks the refinement(s) {missing}")
    seeds = {}
    for by_, r in proxy_runs.items():
        check_frame(f"proxy_runs[{by_!r}]", r, ["label", "variant", "method", "seed"],
                    numeric=["tow", "mia_gap", "rel_refine_grad_evals"])
        if not (r["label"] == "rum").any():
            raise ValueError(f"proxy_runs[{by_!r}] has no 'rum' row")
        seeds[by_] = sorted(set(r["seed"]))
    if len({tuple(s) for s in seeds.values()}) != 1:
        raise ValueError(f"proxy_runs must cover the same seeds, got {seeds}")
    refine_cost = {by_: float(r.loc[r["label"] == "rum", "rel_refine_grad_evals"].mean()) for by_, r in proxy_runs.items()}
    rows = []
    for by_, r in proxy_runs.items():
        s = experiments.rum_table(r).set_index("label")
        for lab in [lab for lab in dict.fromkeys(r["label"]) if lab != "retrain"]:
            rows.append({"refined by": by_, "row": lab, "ToW": s.loc[lab, "tow"], "± (95%)": s.loc[lab, "tow_ci"],
                         "MIA gap": s.loc[lab, "mia_gap"], "refinement cost / retrain": refine_cost[by_]})
    table = pd.DataFrame(rows)
    pt = table.set_index(["refined by", "row"])["ToW"]
    mem_cost = refine_cost["memorization"]
    gap = float(pt[("memorization", "rum")] - max(pt[(by_, "rum")] for by_ in proxy_runs if by_ != "memorization"))
    half = float(table.set_index(["refined by", "row"]).loc[("memorization", "rum"), "± (95%)"])
    values = {
        "rum_proxy_mem": float(pt[("memorization", "rum")]),
        "rum_proxy_conf": float(pt[("confidence", "rum")]),
        "rum_proxy_loss": float(pt[("cumulative_loss", "rum")]),
        "rum_mem_cost": f"{mem_cost:.0f} × a retraining run ({mem_source})" if np.isfinite(mem_cost) else
        f"nothing here, because it was published ({mem_source}), but computing it takes thousands of models",
        "rum_cost_proxy": float(refine_cost["confidence"]),
        "rum_proxy_verdict": "about the same quality as" if abs(gap) <= half else
        ("a lower quality than" if gap > 0 else "a higher quality than"),
        "rum_n_proxy_seeds": len(seeds["memorization"]),
    }
    return values, table
