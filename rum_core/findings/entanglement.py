"""What the entanglement chapter (``book/04_entanglement.ipynb``) cites, and the per-seed frames it is computed from.

The chapter builds forget sets of low, medium and high entanglement (ES) in two ways (the paper's distance
groups, :func:`rum_core.partition.es_groups`, and the controlled sets, :func:`rum_core.partition.es_controlled`),
unlearns them with every method and asks whether ES makes unlearning harder. Two kinds of functions live here:

Frames and tables (what the chapter shows, and what the findings are computed from)
    :func:`es_runs`                   one row per (key, seed, level) from the chapter's :class:`~rum_core.partition.ESForgetSets`.
    :func:`set_table` / :func:`level_table` / :func:`seeds_with_increasing_es`   summaries as display tables.
    :func:`seed_overlap`              how much the same level's set overlaps across seeds (Jaccard).
    :func:`reference_runs`            the retrained model's runs with the ToW of doing nothing beside them.
    :func:`tow_trends`                per method: ToW on the least vs the most entangled set, and a verdict.
    :func:`tow_correlations`          per method: Spearman ρ of ToW with ES and with the retrained forget accuracy.

Findings (ordered ``dict`` name → value for :func:`rum_core.notebook.glue_all`; the names are the chapter's
``{glue:text}`` keys)
    :func:`toy_findings`, :func:`es_level_findings`, :func:`es_peak_findings`, :func:`tow_trend_findings`,
    :func:`little_to_forget_findings`, :func:`correlation_findings`, :func:`seed_overlap_findings`,
    :func:`robustness_findings`.

Every verdict the prose states ("ES increases from low to high", "ToW clearly falls for …") is computed here,
from the frames, so a test can check it on hand-built inputs.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..partition import PAPER_ES, PAPER_ES_GROUPS, ESForgetSets, jaccard
from ..stats import format_table
from ..validation import check_array, check_columns, check_frame, check_int, check_labels, check_numeric

__all__ = ["es_runs", "set_table", "level_table", "seeds_with_increasing_es", "seed_overlap", "reference_runs",
           "tow_trends", "tow_correlations", "toy_findings", "es_level_findings", "es_peak_findings",
           "tow_trend_findings", "little_to_forget_findings", "correlation_findings", "seed_overlap_findings",
           "robustness_findings", "VERDICTS", "PASSIVE_METHODS", "AGGRESSIVE_METHODS"]

#: The verdicts of :func:`tow_trends`, each with the short key the chapter's glue names use.
VERDICTS = {"falls": "fall", "rises": "rise", "no clear change": "flat"}
#: Methods that change the model little (their ToW follows the retrained model's forget accuracy).
PASSIVE_METHODS = ("identity", "finetune", "neggrad", "scrub")
#: Methods that actively destroy the forget set.
AGGRESSIVE_METHODS = ("neggrad_plus", "random_label", "salun")


# ------------------------------------------------------------------------------------------- helpers
def _mapping(name: str, value) -> None:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} is empty")


def _text_list(names) -> str:
    """Method names as prose: ``"a, b"``, or ``"none"``."""
    return ", ".join(names) or "none"


def _increasing(values) -> bool:
    return all(a < b for a, b in itertools.pairwise(values))


def _least_most(es_summary: pd.DataFrame, procedure) -> tuple[str, str]:
    """The levels of ``procedure`` with the smallest and the largest mean measured ES (first on ties)."""
    means = es_summary[es_summary["procedure"] == procedure].set_index("level")["es"]
    if means.empty:
        raise ValueError(f"es_summary has no rows for procedure {procedure!r}")
    return means.idxmin(), means.idxmax()


def _curves(name: str, curves) -> np.ndarray:
    """``curves`` as a finite (seeds, groups) float array; a single (groups,) curve is one seed."""
    arr = check_array(name, curves, 1 if check_numeric(name, curves).ndim == 1 else 2)
    return arr[None, :] if arr.ndim == 1 else arr


def _one_per_seed(runs: pd.DataFrame, by: str) -> pd.DataFrame:
    """One row per (``by``, seed) of a :func:`es_runs` frame (``monotone`` is repeated on every level's row)."""
    return runs.drop_duplicates([by, "seed"])


# ---------------------------------------------------------------------------------- frames and tables
def es_runs(sets: Mapping, by: str, *, labels=None, reference: Mapping | None = None) -> pd.DataFrame:
    """The forget sets of ``sets`` as a per-seed frame: one row per (key, level, seed), in the order given.

    Args:
        sets: key → seed → :class:`~rum_core.partition.ESForgetSets`, e.g. procedure → seed → sets, or
            embedding layer → seed → sets.
        by: the name of the key's column (``"procedure"``, ``"layer"``, ``"n_groups"``).
        labels: optional training labels: adds ``top_class_share``, the share of a set's most common class
            (a set that is mostly one class is a cluster, not a random sample).
        reference: optional seed → :class:`~rum_core.partition.ESForgetSets` to compare with: adds
            ``jaccard_vs_reference``, the Jaccard index of each set with the same level's set of the
            reference for the same seed (e.g. groups formed in the logits vs in the penultimate features).

    Returns:
        Columns ``by``, ``level``, ``seed``, ``es`` (measured ES), ``size``, ``detail`` (the group index or
        random share that made the set), ``monotone`` (whether that seed's ES increases along the levels:
        one value per (key, seed), repeated on each level's row), and the optional columns above.

    Raises:
        TypeError / ValueError: ``sets`` is not a non-empty nested mapping of ESForgetSets, ``labels`` not an
            integer array, or ``reference`` lacks a seed or a level.
    """
    _mapping("sets", sets)
    if not isinstance(by, str) or not by:
        raise TypeError(f"by must be a column name (a non-empty string), got {by!r}")
    if labels is not None:
        labels = check_labels("labels", labels)
    if reference is not None:
        _mapping("reference", reference)
    rows = []
    for key, by_seed in sets.items():
        _mapping(f"sets[{key!r}]", by_seed)
        for seed, found in by_seed.items():
            if not isinstance(found, ESForgetSets):
                raise TypeError(f"sets[{key!r}][{seed!r}] must be an ESForgetSets, got {type(found).__name__}")
            for level, idx in found.groups.items():
                row = {by: key, "level": level, "seed": seed, "es": found.es[level], "size": len(idx),
                       "detail": found.detail[level], "monotone": found.monotone}
                if labels is not None:
                    row["top_class_share"] = np.bincount(labels[idx]).max() / len(idx)
                if reference is not None:
                    other = reference.get(seed)
                    if not isinstance(other, ESForgetSets) or level not in other.groups:
                        raise ValueError(f"reference has no set {level!r} for seed {seed!r}")
                    row["jaccard_vs_reference"] = jaccard(idx, other.groups[level])
                rows.append(row)
    return pd.DataFrame(rows)


def set_table(summary: pd.DataFrame, metrics: Sequence[str], *, digits: int = 3,
              names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A ``(procedure, level)`` summary (:func:`rum_core.stats.summarize`) as a display table with one row per
    set, named ``"procedure · level"``, and ``"mean ± half-width"`` per metric (:func:`rum_core.stats.format_table`).
    """
    check_frame("summary", summary, ["procedure", "level"])
    labelled = summary.assign(set=summary["procedure"] + " · " + summary["level"])
    return format_table(labelled, "set", metrics, digits=digits, names=dict(names or {}))


def level_table(summary: pd.DataFrame, index: str, metrics: Sequence[str], *, digits: int = 3,
                names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A summary with a ``level`` column as a display table: one row per value of ``index``, one block of
    ``"mean ± half-width"`` columns per level (levels in their order of first appearance, e.g. low → high)."""
    check_frame("summary", summary, ["level", index])
    levels = list(dict.fromkeys(summary["level"]))
    return pd.concat({lv: format_table(summary[summary["level"] == lv], index, metrics, digits=digits,
                                       names=dict(names or {})) for lv in levels}, axis=1)


def seeds_with_increasing_es(runs: pd.DataFrame, by: str) -> pd.Series:
    """For each value of ``runs[by]`` (a :func:`es_runs` frame), ``"<m> of <n>"``: in how many of its ``n`` seeds
    the measured ES increases strictly along the levels. Indexed by the values of ``by`` (first appearance
    first), so it aligns with a :func:`level_table` of the same runs."""
    check_frame("runs", runs, [by, "seed", "monotone"])
    one = _one_per_seed(runs, by)
    grouped = one.groupby(by, sort=False)["monotone"]
    return pd.Series({key: f"{int(n_mono)} of {int(n)}"
                      for (key, n_mono), n in zip(grouped.sum().items(), grouped.size(), strict=True)}, name=by)


def seed_overlap(details: Mapping) -> pd.DataFrame:
    """How reproducible each forget set is across original models: the Jaccard index of the same level's set
    for every pair of seeds, summarized as ``mean``, ``min`` and ``max`` per (procedure, level).

    Args:
        details: procedure → seed → :class:`~rum_core.partition.ESForgetSets` (pairs of seeds in the
            mapping's order).

    Returns:
        A frame indexed by (procedure, level); empty (no rows, no columns) when there is a single seed.
    """
    _mapping("details", details)
    rows = []
    for proc, by_seed in details.items():
        _mapping(f"details[{proc!r}]", by_seed)
        for a, b in itertools.combinations(by_seed, 2):
            for level, idx in by_seed[a].groups.items():
                rows.append({"procedure": proc, "level": level, "jaccard": jaccard(idx, by_seed[b].groups[level])})
    pairs = pd.DataFrame(rows, columns=["procedure", "level", "jaccard"])
    if pairs.empty:
        return pd.DataFrame()
    return pairs.groupby(["procedure", "level"], sort=False)["jaccard"].agg(["mean", "min", "max"])


def reference_runs(grid: pd.DataFrame) -> pd.DataFrame:
    """The retrained model's rows of an unlearning ``grid`` (``procedure``, ``level``, ``seed``, ``method`` and
    metrics), each with ``identity_tow``: the ToW of doing nothing (method ``identity``) on the same set and
    seed. Together they say how much there is to forget: a retrained model that still classifies the forget
    set well makes even doing nothing score a high ToW."""
    keys = ["procedure", "level", "seed"]
    check_frame("grid", grid, [*keys, "method"], numeric=["tow"])
    ref = grid[grid["method"] == "retrain"]
    ident = grid[grid["method"] == "identity"][[*keys, "tow"]].rename(columns={"tow": "identity_tow"})
    if ref.empty or ident.empty:
        raise ValueError("grid needs the rows of method 'retrain' and of method 'identity'")
    return ref.merge(ident, on=keys)


def _trend(summary: pd.DataFrame, es_summary: pd.DataFrame, procedure, methods) -> pd.DataFrame:
    least, most = _least_most(es_summary, procedure)
    sub = summary[(summary["procedure"] == procedure) & (summary["method"] != "retrain")].set_index(["method", "level"])
    out = []
    for m in methods:
        try:
            lo, hi = sub.loc[(m, least)], sub.loc[(m, most)]
        except KeyError:
            raise ValueError(f"summary has no ToW of method {m!r} on {procedure!r} · {least!r} and · {most!r}") \
                from None
        if hi["tow"] + hi["tow_ci"] < lo["tow"] - lo["tow_ci"]:
            verdict = "falls"
        elif hi["tow"] - hi["tow_ci"] > lo["tow"] + lo["tow_ci"]:
            verdict = "rises"
        else:
            verdict = "no clear change"
        out.append({"method": m, f"ToW, least entangled ({least})": lo["tow"],
                    f"ToW, most entangled ({most})": hi["tow"], "change": hi["tow"] - lo["tow"], "verdict": verdict})
    return pd.DataFrame(out).set_index("method")


def tow_trends(summary: pd.DataFrame, es_summary: pd.DataFrame, methods: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Per procedure, per method: ToW on the least and the most entangled set, and a verdict.

    The sets are ordered by their **measured** mean ES (``es_summary``), not by their labels. The verdict is
    ``"falls"`` when the most entangled set's 95% interval of ToW lies entirely below the least entangled
    one's, ``"rises"`` when it lies entirely above, else ``"no clear change"`` (overlapping intervals, or
    an unknown half-width from a single seed).

    Args:
        summary: :func:`rum_core.stats.summarize` of the unlearning grid by (procedure, level, method), with
            ``tow`` and ``tow_ci``.
        es_summary: summary of the sets' measured ES by (procedure, level), with ``es``.
        methods: the methods to judge, in the table's order.

    Returns:
        procedure → table indexed by method with columns ``ToW, least entangled (<level>)``,
        ``ToW, most entangled (<level>)``, ``change`` (most − least) and ``verdict``.
    """
    check_frame("summary", summary, ["procedure", "level", "method"], numeric=["tow", "tow_ci"])
    check_frame("es_summary", es_summary, ["procedure", "level"], numeric=["es"])
    methods = check_columns("methods", methods)
    return {proc: _trend(summary, es_summary, proc, methods) for proc in dict.fromkeys(es_summary["procedure"])}


def tow_correlations(grid: pd.DataFrame, methods: Sequence[str]) -> pd.DataFrame:
    """Per method, the Spearman rank correlation over every (procedure, level, seed) run of its ToW with the
    set's measured ES (``ρ(ToW, ES)``) and with the retrained model's forget accuracy on that set and seed
    (``ρ(ToW, retrain forget acc.)``): which of the two orders the difficulty. A constant column (e.g. at a
    tiny profile) gives NaN, shown as such (scipy's warning about it is silenced)."""
    from scipy.stats import spearmanr

    keys = ["procedure", "level", "seed"]
    check_frame("grid", grid, [*keys, "method"], numeric=["tow", "es", "forget"])
    methods = check_columns("methods", methods)
    ref = grid[grid["method"] == "retrain"][[*keys, "forget"]].rename(columns={"forget": "retrain_forget"})
    if ref.empty:
        raise ValueError("grid has no rows of method 'retrain' (the reference)")
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a constant column gives NaN, shown as such
        for m in methods:
            runs_m = grid[grid["method"] == m].merge(ref, on=keys)
            if len(runs_m) < 2:
                raise ValueError(f"grid has {len(runs_m)} runs of method {m!r} with a retrain reference; "
                                 f"a correlation needs at least 2")
            rows.append({"method": m, "ρ(ToW, ES)": float(spearmanr(runs_m["tow"], runs_m["es"]).statistic),
                         "ρ(ToW, retrain forget acc.)": float(spearmanr(runs_m["tow"], runs_m["retrain_forget"]).statistic)})
    return pd.DataFrame(rows).set_index("method")


# -------------------------------------------------------------------------------------------- findings
def toy_findings(es: Mapping[str, float]) -> dict[str, float | str]:
    """The toy example's three forget sets, in the order outlying cluster, edge of one class, random examples.

    Returns:
        ``toy_es_cluster``, ``toy_es_edge``, ``toy_es_random``: their ES (floats), and ``toy_order``:
        ``"grows"`` when ES increases strictly in that order (as ES's definition predicts: a far compact
        cluster is the least entangled, a random set the most), else ``"does not grow"``.
    """
    _mapping("es", es)
    if len(es) != 3:
        raise ValueError(f"es must hold the ES of exactly 3 sets (cluster, edge, random), got {len(es)}")
    values = check_array("es values", list(es.values()), 1)
    out: dict[str, float | str] = {f"toy_es_{key}": float(v) for key, v in zip(("cluster", "edge", "random"), values,
                                                                              strict=True)}
    out["toy_order"] = "grows" if _increasing(values) else "does not grow"
    return out


def es_level_findings(es_runs: pd.DataFrame, es_summary: pd.DataFrame, *, es_size: int) -> dict[str, float | int | str]:
    """Do the labels low / medium / high deserve their names? The measured ES of each procedure's sets.

    Args:
        es_runs: :func:`es_runs` of procedure → seed → sets, with ``top_class_share`` (``labels`` given).
        es_summary: ``stats.summarize(es_runs, ["procedure", "level"], ["es", "top_class_share"])``.
        es_size: the size of the controlled sets (the profile's ``es_forget_size``).

    Returns (in this order):
        ``es_size``; ``paper_size``: the size of the paper procedure's first set (its groups are a
        ``1/15`` of the training set each, equal up to one example); ``n_seeds``; then for each procedure
        (``<p>`` = ``paper``, ``controlled``, in ``es_summary``'s order):

        * ``<p>_monotone``: ``"increases"`` when the mean ES increases strictly from level to level (levels
          in ``es_summary``'s order, low → high), else ``"does not increase"``; ``<p>_monotone_bullet``:
          the same verdict for a bullet point (``"give increasing"`` / ``"do not give increasing"``);
        * ``<p>_falls``: the steps where the mean ES does not increase, e.g. ``"high (14.5) ≤ medium (163.7)"``,
          or ``"none"``;
        * ``<p>_n_monotone_seeds``: in how many seeds the ES increases strictly along the levels;
        * for each level ``<lv>``: ``<p>_es_<lv>`` and ``<p>_es_<lv>_ci`` (mean ES and the half-width of its
          95% interval) and ``<p>_top_<lv>``, the mean share (in %) of the set's most common class;

        and ``paper_reported_<lv>``: the ES the paper reports on CIFAR-10 (:data:`rum_core.partition.PAPER_ES`).
    """
    check_frame("es_runs", es_runs, ["procedure", "level", "seed", "size", "monotone"])
    check_frame("es_summary", es_summary, ["procedure", "level"], numeric=["es", "es_ci", "top_class_share"])
    es_size = check_int("es_size", es_size, low=1)
    paper = es_runs[es_runs["procedure"] == "paper"]
    if paper.empty:
        raise ValueError("es_runs has no rows of procedure 'paper'")
    out: dict[str, float | int | str] = {"es_size": es_size, "paper_size": int(paper["size"].iloc[0]),
                                         "n_seeds": int(es_runs["seed"].nunique())}
    for proc in dict.fromkeys(es_summary["procedure"]):
        summ = es_summary[es_summary["procedure"] == proc].set_index("level")
        levels = list(summ.index)
        falls = [f"{b} ({summ.loc[b, 'es']:.1f}) ≤ {a} ({summ.loc[a, 'es']:.1f})"
                 for a, b in itertools.pairwise(levels) if not summ.loc[b, "es"] > summ.loc[a, "es"]]
        out[f"{proc}_monotone"] = "does not increase" if falls else "increases"
        out[f"{proc}_monotone_bullet"] = "do not give increasing" if falls else "give increasing"
        out[f"{proc}_falls"] = "; ".join(falls) or "none"
        per_seed = _one_per_seed(es_runs[es_runs["procedure"] == proc], "procedure")
        out[f"{proc}_n_monotone_seeds"] = int(per_seed["monotone"].sum())
        for lv in levels:
            out[f"{proc}_es_{lv}"] = float(summ.loc[lv, "es"])
            out[f"{proc}_es_{lv}_ci"] = float(summ.loc[lv, "es_ci"])
            out[f"{proc}_top_{lv}"] = float(100 * summ.loc[lv, "top_class_share"])
    for lv, value in PAPER_ES.items():
        out[f"paper_reported_{lv}"] = value
    return out


def es_peak_findings(curves) -> dict[str, int]:
    """``peak_group``: the 0-based distance group whose ES, averaged over seeds, is the largest (the first on a
    tie). ES rises with the distance to the centroid up to this group and falls beyond it.

    Args:
        curves: (seeds, groups) ES of every distance group (``ESForgetSets.group_es`` of each seed), or one
            seed's (groups,) curve.
    """
    values = _curves("curves", curves)
    return {"peak_group": int(np.argmax(values.mean(axis=0)))}


def tow_trend_findings(trends: Mapping[str, pd.DataFrame], es_summary: pd.DataFrame, *,
                       agreement_on: str = "controlled") -> dict[str, int | str]:
    """What the ToW trends say, per procedure, and whether they agree with the paper.

    Args:
        trends: :func:`tow_trends` (procedure → table with a ``verdict`` column, one row per method).
        es_summary: the sets' measured ES by (procedure, level), as given to :func:`tow_trends`.
        agreement_on: the procedure whose ES is under control, on which the agreement is judged.

    Returns (in this order), for each procedure ``<p>``: ``<p>_least`` and ``<p>_most`` (the levels of the
    least and the most entangled set by measured mean ES), then for each verdict key ``<v>`` of
    :data:`VERDICTS` (``fall``, ``rise``, ``flat``): ``<p>_n_<v>`` (number of methods) and ``<p>_<v>_list``
    (their names, or ``"none"``); then ``n_methods`` (the methods judged, the rows of a table) and
    ``agreement``, a phrase: the paper finds ToW falls as ES grows, so clear falls only agree, falls and rises
    agree in part, rises only disagree, and no clear change neither confirms nor contradicts.
    """
    _mapping("trends", trends)
    check_frame("es_summary", es_summary, ["procedure", "level"], numeric=["es"])
    if agreement_on not in trends:
        raise ValueError(f"agreement_on must be one of the procedures {list(trends)}, got {agreement_on!r}")
    out: dict[str, int | str] = {}
    for proc, table in trends.items():
        check_frame(f"trends[{proc!r}]", table, ["verdict"])
        out[f"{proc}_least"], out[f"{proc}_most"] = _least_most(es_summary, proc)
        for verdict, key in VERDICTS.items():
            names = list(table.index[table["verdict"] == verdict])
            out[f"{proc}_n_{key}"] = len(names)
            out[f"{proc}_{key}_list"] = _text_list(names)
    out["n_methods"] = len(trends[agreement_on])
    n_fall, n_rise = out[f"{agreement_on}_n_fall"], out[f"{agreement_on}_n_rise"]
    if n_fall and not n_rise:
        agreement = "agrees with the paper for the methods whose ToW changes clearly: it falls as ES grows"
    elif n_fall and n_rise:
        agreement = ("agrees with the paper only in part: ToW does not move the same way for every method, "
                     "falling for some and rising for others as ES grows")
    elif n_rise:
        agreement = "disagrees with the paper: where ToW changes clearly, it rises as ES grows"
    else:
        agreement = "neither confirms nor contradicts the paper: no method's ToW changes clearly with ES"
    out["agreement"] = agreement
    return out


def little_to_forget_findings(why_summary: pd.DataFrame) -> dict[str, float | str]:
    """How much there is to forget: the retrained model's forget accuracy and the ToW of doing nothing.

    Args:
        why_summary: ``stats.summarize(reference_runs(grid), ["procedure", "level"], ["es", "forget", "test",
            "identity_tow"])``: one row per set.

    Returns:
        ``retrain_forget_min`` / ``retrain_forget_max``: the smallest and largest mean forget accuracy (in %) of
        the retrained model over the sets; ``identity_tow_min``: the lowest mean ToW of doing nothing;
        ``idle_worst_set``: the set (``"procedure · level"``) where doing nothing scores lowest;
        ``ref_worst_set``: the set where the retrained model's forget accuracy is lowest.
    """
    check_frame("why_summary", why_summary, ["procedure", "level"], numeric=["forget", "identity_tow"])

    def name(i) -> str:
        return f"{why_summary.loc[i, 'procedure']} · {why_summary.loc[i, 'level']}"

    return {"retrain_forget_min": float(100 * why_summary["forget"].min()),
            "retrain_forget_max": float(100 * why_summary["forget"].max()),
            "identity_tow_min": float(why_summary["identity_tow"].min()),
            "idle_worst_set": name(why_summary["identity_tow"].idxmin()),
            "ref_worst_set": name(why_summary["forget"].idxmin())}


def correlation_findings(rho: pd.DataFrame, summary: pd.DataFrame) -> dict[str, float | int | str]:
    """What the correlations and the controlled sets' forget accuracies say about which methods struggle.

    Args:
        rho: :func:`tow_correlations` (indexed by method, columns ``ρ(ToW, ES)`` and ``ρ(ToW, retrain forget
            acc.)``); it must hold ``random_label``, ``salun`` and at least one of :data:`PASSIVE_METHODS`.
        summary: the unlearning grid summarized by (procedure, level, method), with ``forget`` and ``n``
            (runs per row); it must hold the controlled sets' ``low`` and ``high`` levels for ``retrain``.

    Returns (in this order):
        ``n_runs_rho``: the number of (procedure, level, seed) runs the correlations are over (the
        retrained reference's runs); ``rho_passive_es`` / ``rho_passive_acc``: the mean ρ of ToW with ES and
        with the retrained forget accuracy over the methods of :data:`PASSIVE_METHODS` in ``rho``;
        ``rho_closer``: ``"more closely than"`` when the latter is larger in magnitude (ToW follows the
        retrained forget accuracy more closely than ES), else ``"no more closely than"``;
        ``aggr_forget_low`` / ``aggr_forget_high``: the mean forget accuracy (%) left by the methods of
        :data:`AGGRESSIVE_METHODS` in ``summary`` on the controlled low and high sets;
        ``ref_forget_low`` / ``ref_forget_high``: the retrained model's (%) on the same sets;
        ``rho_rl_es`` / ``rho_salun_es``: ρ(ToW, ES) of ``random_label`` and ``salun``.
    """
    es_col, acc_col = "ρ(ToW, ES)", "ρ(ToW, retrain forget acc.)"
    check_frame("rho", rho, numeric=[es_col, acc_col])
    check_frame("summary", summary, ["procedure", "level", "method"], numeric=["forget", "n"])
    passive = [m for m in PASSIVE_METHODS if m in rho.index]
    absent = [m for m in ("random_label", "salun") if m not in rho.index]
    if not passive or absent:
        raise ValueError(f"rho must hold random_label, salun and one of {list(PASSIVE_METHODS)}; "
                         f"it has {list(rho.index)}")
    ctl = summary[summary["procedure"] == "controlled"].set_index(["method", "level"])["forget"]
    aggressive = [m for m in AGGRESSIVE_METHODS if m in set(ctl.index.get_level_values("method"))]
    needed = [("retrain", lv) for lv in ("low", "high")] + [(m, lv) for m in aggressive for lv in ("low", "high")]
    missing = [key for key in needed if key not in ctl.index]
    if missing:
        raise ValueError(f"summary lacks the controlled sets' forget accuracy of {missing}")
    passive_es, passive_acc = rho.loc[passive, es_col].mean(), rho.loc[passive, acc_col].mean()
    return {"n_runs_rho": int(summary.loc[summary["method"] == "retrain", "n"].sum()),
            "rho_passive_es": float(passive_es),
            "rho_passive_acc": float(passive_acc),
            "rho_closer": "more closely than" if abs(passive_acc) > abs(passive_es) else "no more closely than",
            "aggr_forget_low": float(100 * ctl.loc[[(m, "low") for m in aggressive]].mean()),
            "aggr_forget_high": float(100 * ctl.loc[[(m, "high") for m in aggressive]].mean()),
            "ref_forget_low": float(100 * ctl.loc[("retrain", "low")]),
            "ref_forget_high": float(100 * ctl.loc[("retrain", "high")]),
            "rho_rl_es": float(rho.loc["random_label", es_col]),
            "rho_salun_es": float(rho.loc["salun", es_col])}


def seed_overlap_findings(overlap: pd.DataFrame, n_seeds: int) -> dict[str, float | int]:
    """How much a level's forget set depends on the seed of the original model.

    Args:
        overlap: :func:`seed_overlap` (indexed by procedure and level, with the ``mean`` Jaccard index over
            pairs of seeds); ignored (and may be empty) with a single seed.
        n_seeds: the number of seeds.

    Returns:
        For each procedure ``<p>`` (with two seeds or more): ``<p>_seed_jaccard_min`` / ``<p>_seed_jaccard_max``,
        the smallest and largest mean Jaccard index over the levels; and ``n_seed_pairs``, n(n − 1)/2.
    """
    n_seeds = check_int("n_seeds", n_seeds, low=1)
    if not isinstance(overlap, pd.DataFrame):
        raise TypeError(f"overlap must be a pandas DataFrame, got {type(overlap).__name__}")
    out: dict[str, float | int] = {}
    if n_seeds > 1:
        check_frame("overlap", overlap, numeric=["mean"])
        if not isinstance(overlap.index, pd.MultiIndex) or overlap.index.nlevels != 2:
            raise ValueError("overlap must be indexed by (procedure, level), as seed_overlap returns it")
        for proc in dict.fromkeys(overlap.index.get_level_values(0)):
            out[f"{proc}_seed_jaccard_min"] = float(overlap.loc[proc, "mean"].min())
            out[f"{proc}_seed_jaccard_max"] = float(overlap.loc[proc, "mean"].max())
    out["n_seed_pairs"] = n_seeds * (n_seeds - 1) // 2
    return out


def robustness_findings(layer_runs: pd.DataFrame, layer_summary: pd.DataFrame, k_runs: pd.DataFrame,
                        k_curves: Mapping, *, paper_groups: int = PAPER_ES_GROUPS) -> dict[str, int | float | str]:
    """How much the paper's procedure depends on the embedding layer and on the number of groups.

    Args:
        layer_runs: :func:`es_runs` of layer → seed → :func:`rum_core.partition.es_groups`, with a
            ``reference`` (the penultimate features' groups) so it has ``jaccard_vs_reference``.
        layer_summary: ``stats.summarize(layer_runs, ["layer", "level"], ["es", "jaccard_vs_reference"])``.
        k_runs: :func:`es_runs` of number of groups → seed → ``es_groups`` with the scaled picks.
        k_curves: ``"<k> groups"`` → (seeds, k) ES of every group, nearest the centroid first.
        paper_groups: the paper's number of groups, left out of the group-count counts (the layer counts
            include it already).

    Returns (in this order):
        ``n_layer_mono`` / ``n_layer_sets``: (layer, seed) combinations whose picks have strictly increasing ES,
        and all of them; ``n_k_mono`` / ``n_k_sets``: the same over (group count ≠ ``paper_groups``, seed);
        ``far_es_by_k``: the mean ES of the farthest group per curve, e.g. ``"26.0 (6 groups), 18.7 (10 groups)"``;
        ``far_es_trend``: ``"falls"`` when it decreases strictly along the curves, else ``"does not fall
        steadily"``; ``robust_phrase``: ``"in <failures> of the <settings> (layer or group count, seed)
        settings tried"``; ``jac_logits_min`` / ``jac_logits_max`` and ``jac_input_min`` / ``jac_input_max``:
        the range over levels of the mean Jaccard index of the logits' / raw inputs' groups with the
        features' groups; ``high_is_least_all_layers``: ``"in every layer and for every seed"`` when the
        ``high`` pick has the smallest ES of the picks for every (layer, seed), else ``"not everywhere"``.
    """
    check_frame("layer_runs", layer_runs, ["layer", "level", "seed", "monotone"], numeric=["es"])
    check_frame("layer_summary", layer_summary, ["layer", "level"], numeric=["jaccard_vs_reference"])
    check_frame("k_runs", k_runs, ["n_groups", "seed", "monotone"])
    _mapping("k_curves", k_curves)
    paper_groups = check_int("paper_groups", paper_groups, low=2)
    far = {name: float(np.mean(_curves(f"k_curves[{name!r}]", curve)[:, -1]))
           for name, curve in k_curves.items()}
    per_layer = _one_per_seed(layer_runs, "layer")
    per_k = _one_per_seed(k_runs[k_runs["n_groups"] != paper_groups], "n_groups")
    n_layer_mono, n_layer_sets = int(per_layer["monotone"].sum()), len(per_layer)
    n_k_mono, n_k_sets = int(per_k["monotone"].sum()), len(per_k)
    n_fail = n_layer_sets - n_layer_mono + n_k_sets - n_k_mono
    jac = layer_summary.set_index(["layer", "level"])["jaccard_vs_reference"]
    missing = [layer for layer in ("logits", "input") if layer not in jac.index.get_level_values("layer")]
    if missing:
        raise ValueError(f"layer_summary has no rows for the layer(s) {missing}")
    least = layer_runs.loc[layer_runs.groupby(["layer", "seed"], sort=False)["es"].idxmin(), "level"]
    return {"n_layer_mono": n_layer_mono, "n_layer_sets": n_layer_sets, "n_k_mono": n_k_mono, "n_k_sets": n_k_sets,
            "far_es_by_k": ", ".join(f"{v:.1f} ({name})" for name, v in far.items()),
            "far_es_trend": "falls" if all(b < a for a, b in itertools.pairwise(far.values()))
            else "does not fall steadily",
            "robust_phrase": f"in {n_fail} of the {n_layer_sets + n_k_sets} (layer or group count, seed) settings tried",
            "jac_logits_min": float(jac.loc["logits"].min()), "jac_logits_max": float(jac.loc["logits"].max()),
            "jac_input_min": float(jac.loc["input"].min()), "jac_input_max": float(jac.loc["input"].max()),
            "high_is_least_all_layers": "in every layer and for every seed" if (least == "high").all()
            else "not everywhere"}
