"""The numbers the RUM chapter cites (rum_core.findings.rum_table), on small hand-built summaries and runs
whose expected values are computed by hand in the comments; the orchestration (tune_rows) through spies."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rum_core import experiments
from rum_core.findings import rum_table as frt


def _summary(rows: dict, n: int = 3) -> pd.DataFrame:
    """An experiments.rum_table-like summary: label → {metric: value}, ``<metric>_ci`` 0 unless given."""
    out = []
    for label, metrics in rows.items():
        method, _, variant = label.partition(" ")
        row = {"label": label, "variant": variant or label, "method": method, "n": n}
        for key in ("tow", "mia_gap", "forget", "rel_grad_evals", "rel_refine_grad_evals"):
            row[key] = metrics.get(key, 0.5)
            row[f"{key}_ci"] = metrics.get(f"{key}_ci", 0.0)
        out.append(row)
    return pd.DataFrame(out)


def _runs(tows: dict, **extra) -> pd.DataFrame:
    """Per-seed runs: label → [tow of seed 0, seed 1, …]."""
    rows = []
    for label, values in tows.items():
        method, _, variant = label.partition(" ")
        for seed, tow in enumerate(values):
            rows.append({"seed": seed, "label": label, "variant": variant or label, "method": method, "tow": tow,
                         "mia_gap": 0.1, "rel_grad_evals": 0.2, **{k: v[label][seed] for k, v in extra.items()}})
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------- forget_set_levels
def test_forget_set_levels_reads_each_levels_range():
    scores = np.array([0.0, 0.1, 0.4, 0.5, 0.9, 0.7])
    values, ranges = frt.forget_set_levels(scores, {"low": [0, 1], "medium": [2, 3], "high": [4, 5]})
    assert values == {"rum_mem_low_min": 0.0, "rum_mem_low_mean": pytest.approx(0.05), "rum_mem_low_max": 0.1,
                      "rum_mem_medium_min": 0.4, "rum_mem_medium_mean": pytest.approx(0.45), "rum_mem_medium_max": 0.5,
                      "rum_mem_high_min": 0.7, "rum_mem_high_mean": pytest.approx(0.8), "rum_mem_high_max": 0.9}
    assert list(ranges.index) == ["low", "medium", "high"] and ranges["size"].tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="high"):
        frt.forget_set_levels(scores, {"low": [0, 1], "medium": [2, 3]})


# -------------------------------------------------------------------------------------------- table_claims
METHODS = ["f", "s"]
MAIN_ROWS = ["retrain", "f vanilla", "f shuffle", "f rum_f", "s vanilla", "s shuffle", "s rum_f", "rum"]


def _table(rum_forget=0.63, **tows) -> pd.DataFrame:
    t = {"f vanilla": 0.8, "f shuffle": 0.75, "f rum_f": 0.85, "s vanilla": 0.9, "s shuffle": 0.9, "s rum_f": 0.7,
         "rum": 0.88, **tows}
    rows = {"retrain": {"tow": 1.0, "forget": 0.6}, **{k: {"tow": v} for k, v in t.items()}}
    rows["rum"].update(forget=rum_forget, tow_ci=0.04, mia_gap=0.19, rel_grad_evals=0.51, rel_refine_grad_evals=14.9)
    return _summary(rows)


def test_table_claims_counts_each_claim_the_right_way():
    """f: RUM^F 0.85 ≥ vanilla 0.8, vanilla 0.8 ≥ shuffle 0.75; s: RUM^F 0.7 < vanilla 0.9, vanilla 0.9 = shuffle
    0.9 (a tie holds). RUM 0.88 is below s vanilla and s shuffle: rank 3 of 7."""
    values, claims = frt.table_claims(_table(), MAIN_ROWS, METHODS)
    assert values == {
        "rum_n_seeds": 3, "rum_retrain_forget": pytest.approx(60.0), "rum_retrain_keeps": "still gets most",
        "rum_forget_acc": pytest.approx(63.0), "rum_forget_verdict": "under-forgets",
        "rum_tow": 0.88, "rum_tow_ci": 0.04, "rum_mia_gap": 0.19, "rum_cost": 0.51, "rum_refine_cost": 14.9,
        "rum_best_label": "s vanilla", "rum_best_tow": 0.9, "rum_best_vanilla": "s vanilla",
        "rum_best_vanilla_tow": 0.9, "rum_n_rumf_wins": 1, "rum_rumf_wins": "f", "rum_n_vanilla_wins": 2,
        "rum_n_methods": 2, "rum_rank": 3, "rum_n_rows": 7, "rum_beats_all_vanilla": "does not",
    }
    assert claims["RUM^F ≥ vanilla"].tolist() == [True, False]
    assert claims["vanilla ≥ shuffle"].tolist() == [True, True]
    assert all(type(values[k]) is int for k in ("rum_n_seeds", "rum_rank", "rum_n_rows", "rum_n_rumf_wins"))


def test_table_claims_verdicts_flip_at_their_thresholds():
    values, _ = frt.table_claims(_table(rum=0.95, rum_forget=0.57, **{"s rum_f": 0.93}), MAIN_ROWS, METHODS)
    assert values["rum_rank"] == 1 and values["rum_beats_all_vanilla"] == "does"
    assert values["rum_rumf_wins"] == "f, s" and values["rum_best_label"] == "rum"
    assert values["rum_forget_verdict"] == "over-forgets"  # 0.57 − 0.60 < −0.02
    assert frt.table_claims(_table(rum_forget=0.615), MAIN_ROWS, METHODS)[0]["rum_forget_verdict"] == \
        "matches retraining on the forget set"
    none = frt.table_claims(_table(**{"f rum_f": 0.7}), MAIN_ROWS, METHODS)[0]
    assert (none["rum_n_rumf_wins"], none["rum_rumf_wins"]) == (0, "none")
    low = _table()
    low.loc[low["label"] == "retrain", "forget"] = 0.4
    assert frt.table_claims(low, MAIN_ROWS, METHODS)[0]["rum_retrain_keeps"] == "gets only part"


def test_table_claims_refuses_missing_rows_and_unequal_seeds():
    table = _table()
    with pytest.raises(ValueError, match="s shuffle"):
        frt.table_claims(table[table["label"] != "s shuffle"], MAIN_ROWS, METHODS)
    table.loc[0, "n"] = 2
    with pytest.raises(ValueError, match="seeds"):
        frt.table_claims(table, MAIN_ROWS, METHODS)


# ---------------------------------------------------------------------------------------------- level_gaps
def _levels(rum_acc) -> pd.DataFrame:
    rows = {"retrain": [0.96, 0.52, 0.44], "rum": rum_acc, "x vanilla": [0.5, 0.5, 0.5]}
    frame = _summary({k: {} for k in rows})
    for i, lvl in enumerate(("low", "medium", "high")):
        frame[f"forget_{lvl}"] = [rows[k][i] for k in rows]
    return frame


def test_level_gaps_picks_the_largest_absolute_departure():
    """RUM minus retraining: −26, +3, +1 points: the worst level is low (largest |·|, though negative)."""
    values, levels = frt.level_gaps(_levels([0.70, 0.55, 0.45]), ["retrain", "rum", "x vanilla", "rum"])
    assert values == {"rum_worst_level": "low", "rum_worst_level_rum": pytest.approx(70.0),
                      "rum_worst_level_retrain": pytest.approx(96.0),
                      "rum_level_diffs": "-26.0 points on low, +3.0 points on medium, +1.0 points on high"}
    assert list(levels.index) == ["retrain", "rum", "x vanilla"]  # a repeated row is shown once
    assert list(levels.columns) == ["low (%)", "medium (%)", "high (%)"]
    assert frt.level_gaps(_levels([0.90, 0.68, 0.50]), ["retrain", "rum"])[0]["rum_worst_level"] == "medium"
    with pytest.raises(ValueError, match="retrain"):
        frt.level_gaps(_levels([0.9, 0.6, 0.5]), ["rum", "x vanilla"])


# ------------------------------------------------------------------------------------------------ ablation
def test_ablation_finds_the_methods_whose_high_only_runs_equal_vanilla_seed_by_seed():
    runs = _runs({"f vanilla": [0.5, 0.7], "f rum_f": [0.6, 0.6], "f high_only": [0.5, 0.7],
                  "salun vanilla": [0.8, 0.9], "salun rum_f": [0.85, 0.85], "salun high_only": [0.9, 0.8]})
    high_only = runs["label"].str.endswith("high_only")
    runs = pd.concat([runs[~high_only], runs[high_only].iloc[::-1]], ignore_index=True)  # compared by seed
    values, table = frt.ablation(experiments.rum_table(runs, ["tow"]), runs, ["f", "salun"])
    # salun's high-only runs are vanilla's with the seeds swapped: the same mean, but not the same runs
    assert values == {"rum_abl_same": "f", "rum_abl_salun": pytest.approx(0.85)}
    assert table["high subset only"].tolist() == pytest.approx([0.6, 0.85])
    assert table["cost high only / retrain"].tolist() == pytest.approx([0.2, 0.2])
    differ = runs.assign(tow=np.where(runs["label"] == "f high_only", runs["tow"] + 0.1, runs["tow"]))
    assert frt.ablation(experiments.rum_table(differ, ["tow"]), differ, ["f", "salun"])[0]["rum_abl_same"] == "none"
    # salun's high-only runs are vanilla's, listed in the other seed order: the same runs
    swapped = _runs({"f vanilla": [0.5, 0.7], "f rum_f": [0.6, 0.6], "f high_only": [0.5, 0.7],
                     "salun vanilla": [0.8, 0.9], "salun rum_f": [0.85, 0.85], "salun high_only": [0.8, 0.9]})
    flagged = swapped["label"].str.endswith("high_only")
    swapped = pd.concat([swapped[~flagged], swapped[flagged].iloc[::-1]], ignore_index=True)
    assert frt.ablation(experiments.rum_table(swapped, ["tow"]), swapped, ["f", "salun"])[0]["rum_abl_same"] == \
        "f, salun"


# ------------------------------------------------------------------------------------------ follow-up seeds
def test_follow_up_seeds_are_all_seeds_at_smoke_and_the_first_five_elsewhere():
    assert frt.follow_up_seeds(SimpleNamespace(name="smoke"), [0, 1]) == [0, 1]
    assert frt.follow_up_seeds(SimpleNamespace(name="small"), range(10)) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="seeds"):
        frt.follow_up_seeds(SimpleNamespace(name="small"), [0, 0])


# ----------------------------------------------------------------------------------------------- tune_rows
def test_tune_rows_tunes_the_table_rows_on_the_chosen_set_then_reruns_them_on_the_report_seeds(monkeypatch):
    calls = []
    scores = np.arange(9) / 8
    monkeypatch.setattr(frt.experiments, "rum_tuning_forget_set",
                        lambda p, s: calls.append(("which", s.tolist())) or "report")

    def rum_tune(p, cells, grid, *, tune_seeds, forget_set):
        calls.append(("tune", list(cells), grid, tune_seeds, forget_set))
        return {k: f"tuned {k}" for k in cells}, pd.DataFrame({"label": list(cells), "chosen": True})

    monkeypatch.setattr(frt.experiments, "rum_tune", rum_tune)
    monkeypatch.setattr(frt.experiments, "rum_forget_set", lambda p, s, which: np.array([0, 1, 2]))
    monkeypatch.setattr(frt.experiments, "rum_forget_groups",
                        lambda p, s, which: calls.append(("groups", which)) or {"low": [3], "medium": [4], "high": [8]})
    monkeypatch.setattr(frt.experiments, "rum_runs",
                        lambda p, cells, *, seeds: calls.append(("runs", cells, seeds)) or "tuned runs")
    cells = {"f vanilla": 1, "f high_only": 2, "rum": 3}
    tuning = frt.tune_rows(SimpleNamespace(name="small"), cells, scores, range(10))
    assert calls == [("which", scores.tolist()),
                     ("tune", ["f vanilla", "rum"], {"lr": [0.02, 0.1], "epochs": [3, 10]}, [100, 101], "report"),
                     ("groups", "tune"),
                     ("runs", {"f vanilla": "tuned f vanilla", "rum": "tuned rum"}, [0, 1, 2, 3, 4])]
    assert (tuning.forget_set, tuning.forget_idx.tolist(), tuning.tuned_runs) == ("report", [0, 1, 2], "tuned runs")
    assert tuning.candidate_ranges["max"].tolist() == [0.375, 0.5, 1.0]
    calls.clear()
    smoke = frt.tune_rows(SimpleNamespace(name="smoke"), cells, scores, [0, 1])
    assert calls[1][2:4] == ({"lr": [0.02, 0.1], "epochs": [2]}, [100]) and calls[-1][2] == [0, 1]
    assert smoke.report_seeds == [0, 1]


def test_tune_rows_refuses_bad_seeds_before_any_work(monkeypatch):
    monkeypatch.setattr(frt.experiments, "rum_tuning_forget_set", lambda *a: pytest.fail("worked before refusing"))
    with pytest.raises(ValueError, match="seeds"):
        frt.tune_rows(SimpleNamespace(name="smoke"), {"rum": 1}, np.zeros(9), [])
    with pytest.raises(ValueError, match="row to tune"):
        frt.tune_rows(SimpleNamespace(name="smoke"), {"f high_only": 1}, np.zeros(9), [0])


# ----------------------------------------------------------------------------------------- tuning_findings
def _tuning(tuned: dict, forget_set="tune") -> frt.Tuning:
    labels = [k for k in tuned if k != "retrain"]
    trials = pd.DataFrame([{"label": lab, "trial": i, "lr": lr, "epochs": 2, "tow": 0.5, "chosen": i == 1}
                           for lab in labels for i, lr in enumerate((0.02, 0.1))])
    ranges = pd.DataFrame({"level": ["low", "medium", "high"], "size": 2, "min": [0.0, 0.004, 0.171],
                           "mean": 0.0, "max": [0.0, 0.166, 0.312]}).set_index("level")
    return frt.Tuning(grid={"lr": [0.02, 0.1], "epochs": [2]}, tune_seeds=[100], report_seeds=[0, 1],
                      forget_set=forget_set, forget_idx=np.array([1, 2, 3, 10, 11]), candidate_ranges=ranges,
                      trials=trials, tuned_runs=_runs(tuned))


DEFAULTS = {"retrain": [1, 1, 1], "f vanilla": [0.5, 0.5, 0.0], "f rum_f": [0.4, 0.4, 0.0],
            "s vanilla": [0.9, 0.9, 0.0], "s rum_f": [0.7, 0.7, 0.0], "rum": [0.8, 0.8, 0.0],
            "f high_only": [0.1, 0.1, 0.1]}
TUNED = {"retrain": [1, 1], "f vanilla": [0.6, 0.6], "f rum_f": [0.6, 0.6], "s vanilla": [0.85, 0.85],
         "s rum_f": [0.8, 0.8], "rum": [0.87, 0.87]}


def test_tuning_findings_compares_tuned_and_default_rows_on_the_report_seeds():
    """Seed 2 of the default runs is not a report seed (its zeros must not count). Tuned: RUM 0.87 above the best
    vanilla s (0.85); RUM^F ≥ vanilla for f (0.6 = 0.6, a tie holds), not s; tuning raised f rum_f most
    (0.4 → 0.6), not the ablation row (absent from the tuned runs)."""
    level_ranges = pd.DataFrame({"min": [-0.3, 0.31, 0.45], "max": [0.0, 0.43, 0.93]}, index=["low", "medium", "high"])
    values, comparison = frt.tuning_findings(_tuning(TUNED), _runs(DEFAULTS), [0, 1, 2, 3, 4], level_ranges, ["f", "s"])
    assert values == {
        "rum_tune_set": "its own forget set, disjoint from the reported one", "rum_tune_overlap": 3,
        "rum_tune_forget_size": 5, "rum_tune_medium_range": "0.00–0.17", "rum_report_medium_range": "0.31–0.43",
        "rum_tune_high_range": "0.17–0.31", "rum_report_high_range": "0.45–0.93", "rum_n_grid": 2,
        "rum_n_tune_seeds": 1, "rum_n_report_seeds": 2, "rum_tuned_tow": pytest.approx(0.87),
        "rum_tuned_tow_ci": 0.0, "rum_tuned_best_vanilla": "s vanilla", "rum_tuned_best_vanilla_tow": pytest.approx(0.85),
        "rum_tuned_best_vanilla_ci": 0.0, "rum_tuned_verdict": "above", "rum_tuned_n_rumf": 1,
        "rum_tune_most": "f rum_f", "rum_tune_most_from": pytest.approx(0.4), "rum_tune_most_to": pytest.approx(0.6),
    }
    assert list(comparison.index) == ["retrain", "f vanilla", "f rum_f", "s vanilla", "s rum_f", "rum"]
    assert comparison.loc["rum", "ToW defaults"] == "0.800 ± 0.000"
    assert comparison.loc["rum", "chosen lr"] == 0.1 and np.isnan(comparison.loc["retrain", "chosen lr"])


def test_tuning_findings_verdict_and_the_reported_set_text():
    tuned = {**TUNED, "rum": [0.85, 0.85]}  # equal to the best vanilla: not above
    level_ranges = pd.DataFrame({"min": [0.0] * 3, "max": [1.0] * 3}, index=["low", "medium", "high"])
    values, _ = frt.tuning_findings(_tuning(tuned, "report"), _runs(DEFAULTS), [1], level_ranges, ["f", "s"])
    assert values["rum_tuned_verdict"] == "not above"
    assert values["rum_tune_set"].startswith("the reported forget set itself")
    assert values["rum_tune_overlap"] == 1
    with pytest.raises(TypeError, match="tuning"):
        frt.tuning_findings({}, _runs(DEFAULTS), [1], level_ranges)


# -------------------------------------------------------------------------------------- selection_findings
def _selection(oracle_tow, held_tow, held_steps=("a+b+c", "a+a+c")) -> pd.DataFrame:
    rows = []
    for seed in (0, 1):
        for crit, tows, steps in (("oracle", oracle_tow, ["a+b+c", "a+b+c"]), ("held_out", held_tow, held_steps)):
            rows.append({"seed": seed, "label": f"select {crit}", "variant": "select", "method": "select",
                         "criterion": crit, "steps": steps[seed], "tow": tows[seed], "mia_gap": 0.1,
                         "rel_search_grad_evals": [3.0, 4.0][seed], "rel_grad_evals": 0.5})
    return pd.DataFrame(rows)


def test_selection_findings_compares_the_selectors_on_their_own_seeds():
    """The authors' RUM on seeds 0 and 1 only: (0.9 + 0.7)/2 = 0.8 (with seed 2 it would be 0.567)."""
    runs = _runs({"rum": [0.9, 0.7, 0.1], "f vanilla": [0.2, 0.2, 0.2]})
    found = frt.selection_findings(_selection([0.8, 0.8], [0.7, 0.7]), runs)
    assert found.values == {"rum_sel_oracle": pytest.approx(0.8), "rum_sel_held_out": pytest.approx(0.7),
                            "rum_sel_authors": pytest.approx(0.8), "rum_sel_agree": 50.0, "rum_sel_search": 3.5,
                            "rum_sel_search_vs": "more", "rum_sel_verdict": "clearly different from"}
    assert found.steps.loc[1, "held_out"] == "a+a+c"
    assert list(found.summary["label"]) == ["rum", "select oracle", "select held_out"]
    # with spread: the held-out mean lies within the oracle's interval
    within = frt.selection_findings(_selection([0.6, 1.0], [0.7, 0.7], ("a+b+c", "a+b+c")), runs).values
    assert within["rum_sel_verdict"] == "within the seeds' 95% interval of"
    assert within["rum_sel_agree"] == 100.0
    never = frt.selection_findings(_selection([0.8, 0.8], [0.7, 0.7], ("c+b+a", "a+a+c")), runs).values
    assert never["rum_sel_agree"] == 0.0
    cheap = _selection([0.8, 0.8], [0.7, 0.7]).assign(rel_search_grad_evals=0.5)
    assert frt.selection_findings(cheap, runs).values["rum_sel_search_vs"] == "less"


def test_selection_findings_needs_both_criteria_and_the_rum_rows():
    sel = _selection([0.8, 0.8], [0.7, 0.7])
    with pytest.raises(ValueError, match="held_out"):
        frt.selection_findings(sel[sel["criterion"] == "oracle"], _runs({"rum": [0.9, 0.7]}))
    with pytest.raises(ValueError, match="seed"):
        frt.selection_findings(sel, _runs({"rum": [0.9]}))


# ------------------------------------------------------------------------------------------ proxy_findings
def _proxy_runs(mem_rum, conf_rum, loss_rum, mem_cost=15.0) -> dict:
    out = {}
    for by_, rum_tows, cost in (("memorization", mem_rum, mem_cost), ("confidence", conf_rum, 1.0),
                                ("cumulative_loss", loss_rum, 1.0)):
        tows = {"retrain": [1.0, 1.0], "salun rum_f": [0.5, 0.5], "rum": rum_tows}
        refine = {lab: [0.0 if lab == "retrain" else cost] * 2 for lab in tows}
        out[by_] = _runs(tows, rel_refine_grad_evals=refine)
    return out


def test_proxy_findings_reads_rum_refined_each_way_and_judges_the_best_proxy():
    values, table = frt.proxy_findings(_proxy_runs([0.88, 0.88], [0.87, 0.87], [0.82, 0.82]), "an estimate")
    assert values == {"rum_proxy_mem": pytest.approx(0.88), "rum_proxy_conf": pytest.approx(0.87),
                      "rum_proxy_loss": pytest.approx(0.82), "rum_mem_cost": "15 × a retraining run (an estimate)",
                      "rum_cost_proxy": 1.0, "rum_proxy_verdict": "a lower quality than", "rum_n_proxy_seeds": 2}
    assert table[["refined by", "row"]].values.tolist() == [
        ["memorization", "salun rum_f"], ["memorization", "rum"], ["confidence", "salun rum_f"],
        ["confidence", "rum"], ["cumulative_loss", "salun rum_f"], ["cumulative_loss", "rum"]]
    better = frt.proxy_findings(_proxy_runs([0.8, 0.8], [0.87, 0.87], [0.82, 0.82]), "x")[0]
    assert better["rum_proxy_verdict"] == "a higher quality than"
    # the estimate-refined RUM's seeds spread widely: the best proxy (0.87) is within its interval
    same = frt.proxy_findings(_proxy_runs([0.8, 0.96], [0.87, 0.87], [0.95, 0.95]), "x")[0]
    assert same["rum_proxy_verdict"] == "about the same quality as"
    published = frt.proxy_findings(_proxy_runs([0.8, 0.8], [0.7, 0.7], [0.7, 0.7], mem_cost=np.nan), "C-scores")[0]
    assert published["rum_mem_cost"].startswith("nothing here, because it was published (C-scores)")


def test_proxy_findings_needs_every_refinement_over_the_same_seeds():
    runs = _proxy_runs([0.88, 0.88], [0.87, 0.87], [0.82, 0.82])
    with pytest.raises(ValueError, match="cumulative_loss"):
        frt.proxy_findings({k: v for k, v in runs.items() if k != "cumulative_loss"}, "x")
    runs["confidence"] = runs["confidence"][runs["confidence"]["seed"] == 0]
    with pytest.raises(ValueError, match="same seeds"):
        frt.proxy_findings(runs, "x")
