"""The values the entanglement chapter cites: hand-built inputs, hand-computed values. Each test names the mistake
it guards against (a wrong argmin/argmax, a CI column swapped, a verdict threshold inverted, levels ordered by
their labels instead of their measured ES, a merge that pairs the wrong seeds …)."""

import numpy as np
import pandas as pd
import pytest

from rum_core.findings import entanglement as fe
from rum_core.partition import PAPER_ES, ESForgetSets
from rum_core.stats import summarize


def sets(groups: dict, es: dict, procedure: str = "paper", group_es=None) -> ESForgetSets:
    """A hand-built ESForgetSets: level → indices and level → ES (the fields the findings read)."""
    groups = {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}
    return ESForgetSets(procedure=procedure, groups=groups, es=dict(es), distance=np.zeros(1), order=np.zeros(1, int),
                        detail={k: i for i, k in enumerate(groups)},
                        group_es=None if group_es is None else np.asarray(group_es, float))


# ------------------------------------------------------------------------------------------- es_runs
def test_es_runs_one_row_per_key_seed_level_with_class_share_and_overlap_with_the_same_seed():
    """Guards against the reference compared with another seed's sets, the class share taken over the wrong
    examples, and monotone computed per level instead of per (key, seed)."""
    labels = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    details = {"paper": {0: sets({"low": [0, 1, 3], "high": [5, 6]}, {"low": 1.0, "high": 2.0}),
                         1: sets({"low": [0, 3, 5], "high": [1, 2]}, {"low": 3.0, "high": 2.0})}}
    runs = fe.es_runs(details, "procedure", labels=labels)
    assert list(runs[["procedure", "level", "seed"]].itertuples(index=False, name=None)) == [
        ("paper", "low", 0), ("paper", "high", 0), ("paper", "low", 1), ("paper", "high", 1)]
    assert runs["top_class_share"].tolist() == pytest.approx([2 / 3, 1.0, 1 / 3, 1.0])
    assert runs["monotone"].tolist() == [True, True, False, False]
    assert runs["size"].tolist() == [3, 2, 3, 2] and runs["es"].tolist() == [1.0, 2.0, 3.0, 2.0]

    layer = {"logits": {0: sets({"low": [0, 1], "high": [5, 6]}, {"low": 1, "high": 2}),
                        1: sets({"low": [0, 1], "high": [1, 2]}, {"low": 1, "high": 2})}}
    runs = fe.es_runs(layer, "layer", reference=details["paper"])
    # seed 0 low: {0,1} vs {0,1,3} → 2/3; seed 1 low: {0,1} vs {0,3,5} → 1/4; the high sets are identical
    assert runs["jaccard_vs_reference"].tolist() == pytest.approx([2 / 3, 1.0, 1 / 4, 1.0])


def test_es_runs_refuses_what_is_not_a_nested_mapping_of_sets():
    with pytest.raises(ValueError, match="sets"):
        fe.es_runs({}, "procedure")
    with pytest.raises(TypeError, match=r"sets\['paper'\]\[0\]"):
        fe.es_runs({"paper": {0: "x"}}, "procedure")
    with pytest.raises(ValueError, match="reference"):
        fe.es_runs({"logits": {1: sets({"low": [0]}, {"low": 1.0})}}, "layer",
                   reference={0: sets({"low": [0]}, {"low": 1.0})})


# ------------------------------------------------------------------------------------------- tables
def _es_summary():
    return pd.DataFrame({"procedure": ["paper"] * 3 + ["controlled"] * 3, "level": ["low", "medium", "high"] * 2,
                         "es": [5.0, 9.0, 2.0, 1.0, 4.0, 8.0], "es_ci": [0.5, 0.9, 0.2, 0.1, 0.4, 0.8],
                         "top_class_share": [0.5, 0.25, 0.75, 1.0, 0.5, 0.2],
                         "top_class_share_ci": [0.0] * 6, "n": [2] * 6})


def test_set_table_names_each_row_procedure_dot_level():
    table = fe.set_table(_es_summary(), ["es"], digits=1, names={"es": "ES"})
    assert list(table.index) == ["paper · low", "paper · medium", "paper · high", "controlled · low",
                                 "controlled · medium", "controlled · high"]
    assert table.loc["paper · high", "ES"] == "2.0 ± 0.2"


def test_level_table_has_one_block_per_level_in_order_of_appearance():
    """Guards against blocks sorted alphabetically (high, low, medium) instead of low → high."""
    table = fe.level_table(_es_summary(), "procedure", ["es"], digits=1, names={"es": "ES"})
    assert list(table.columns) == [("low", "ES"), ("medium", "ES"), ("high", "ES")]
    assert table.loc["controlled", ("high", "ES")] == "8.0 ± 0.8"
    assert table.loc["paper", ("medium", "ES")] == "9.0 ± 0.9"


def test_seeds_with_increasing_es_counts_seeds_not_rows():
    """Guards against counting the monotone flag once per level (3× too many)."""
    runs = pd.DataFrame({"layer": ["f"] * 6 + ["x"] * 6, "seed": [0, 0, 0, 1, 1, 1] * 2,
                         "level": ["low", "medium", "high"] * 4,
                         "monotone": [True] * 3 + [False] * 3 + [True] * 6})
    assert fe.seeds_with_increasing_es(runs, "layer").to_dict() == {"f": "1 of 2", "x": "2 of 2"}


def test_seed_overlap_summarizes_every_pair_of_seeds_per_level():
    details = {"paper": {0: sets({"low": [0, 1], "high": [4, 5]}, {"low": 1, "high": 2}),
                         1: sets({"low": [0, 2], "high": [4, 5]}, {"low": 1, "high": 2}),
                         2: sets({"low": [0, 1], "high": [6, 7]}, {"low": 1, "high": 2})}}
    overlap = fe.seed_overlap(details)
    # low: (0,1) 1/3, (0,2) 1, (1,2) 1/3; high: (0,1) 1, (0,2) 0, (1,2) 0
    assert overlap.loc[("paper", "low"), "mean"] == pytest.approx(5 / 9)
    assert overlap.loc[("paper", "low"), "min"] == pytest.approx(1 / 3)
    assert overlap.loc[("paper", "high"), "max"] == 1.0 and overlap.loc[("paper", "high"), "min"] == 0.0
    assert fe.seed_overlap({"paper": {0: details["paper"][0]}}).empty  # one seed: no pairs


def test_reference_runs_pairs_each_retrain_run_with_doing_nothing_on_the_same_set_and_seed():
    """Guards against a merge that pairs rows by position (seeds in a different order) or on the wrong keys."""
    grid = pd.DataFrame({"procedure": ["p"] * 4, "level": ["low"] * 4, "seed": [0, 1, 1, 0],
                         "method": ["retrain", "retrain", "identity", "identity"],
                         "tow": [1.0, 1.0, 0.7, 0.9], "forget": [0.95, 0.9, 1.0, 1.0]})
    why = fe.reference_runs(grid)
    assert why.set_index("seed")["identity_tow"].to_dict() == {0: 0.9, 1: 0.7}
    assert why["method"].eq("retrain").all() and why["forget"].tolist() == [0.95, 0.9]
    with pytest.raises(ValueError, match="identity"):
        fe.reference_runs(grid[grid["method"] == "retrain"])


# ------------------------------------------------------------------------------------------- trends
def _summary(rows):
    """(procedure, level, method, tow, tow_ci) rows as a summary frame."""
    return pd.DataFrame(rows, columns=["procedure", "level", "method", "tow", "tow_ci"])


def test_tow_trends_orders_sets_by_measured_es_and_judges_by_non_overlapping_intervals():
    """Guards against ordering by the labels (the paper's 'high' is the least entangled here), an inverted
    verdict, and a verdict that ignores the intervals (a lower mean with overlapping intervals is no clear
    change)."""
    es_summary = _es_summary()  # paper: least = high (2), most = medium (9)
    summary = _summary([
        ("paper", "high", "a", 0.9, 0.05), ("paper", "medium", "a", 0.7, 0.05),   # falls: 0.75 < 0.85
        ("paper", "high", "b", 0.5, 0.05), ("paper", "medium", "b", 0.8, 0.05),   # rises: 0.75 > 0.55
        ("paper", "high", "c", 0.9, 0.10), ("paper", "medium", "c", 0.8, 0.10),   # overlaps: 0.9 ≥ 0.8
        ("paper", "low", "a", 0.0, 0.0), ("paper", "low", "b", 1.0, 0.0), ("paper", "low", "c", 0.0, 0.0),
        ("paper", "high", "retrain", 1.0, 0.0), ("paper", "medium", "retrain", 1.0, 0.0),
        ("controlled", "low", "a", 0.9, np.nan), ("controlled", "high", "a", 0.1, np.nan),  # one seed: unknown
        ("controlled", "medium", "a", 0.5, np.nan),
    ])
    paper_es = es_summary[es_summary["procedure"] == "paper"]
    trends = fe.tow_trends(summary, paper_es, ["a", "b", "c"])["paper"]
    assert list(trends.columns) == ["ToW, least entangled (high)", "ToW, most entangled (medium)", "change",
                                    "verdict"]
    assert trends["verdict"].to_dict() == {"a": "falls", "b": "rises", "c": "no clear change"}
    assert trends.loc["a", "change"] == pytest.approx(-0.2)
    ctl = fe.tow_trends(summary, es_summary, ["a"])["controlled"]
    assert ctl.loc["a", "verdict"] == "no clear change"  # NaN half-width: no interval, no clear change
    assert list(ctl.columns)[:2] == ["ToW, least entangled (low)", "ToW, most entangled (high)"]


def test_tow_trends_touching_intervals_are_no_clear_change():
    """Guards against ≤ instead of <: intervals that touch overlap."""
    es_summary = _es_summary()[lambda d: d["procedure"] == "controlled"]
    summary = _summary([("controlled", "low", "a", 1.0, 0.25), ("controlled", "high", "a", 0.5, 0.25),
                        ("controlled", "medium", "a", 0.7, 0.25)])  # 1.0 − 0.25 = 0.5 + 0.25 exactly
    assert fe.tow_trends(summary, es_summary, ["a"])["controlled"].loc["a", "verdict"] == "no clear change"


def _trend_table(verdicts: dict):
    return pd.DataFrame({"verdict": list(verdicts.values())}, index=pd.Index(list(verdicts), name="method"))


@pytest.mark.parametrize(("controlled", "start"), [
    ({"a": "falls", "b": "no clear change"}, "agrees with the paper for the methods"),
    ({"a": "falls", "b": "rises"}, "agrees with the paper only in part"),
    ({"a": "rises", "b": "no clear change"}, "disagrees with the paper"),
    ({"a": "no clear change", "b": "no clear change"}, "neither confirms nor contradicts"),
])
def test_tow_trend_findings_agreement_follows_the_controlled_sets(controlled, start):
    """Guards against the agreement judged on the paper's groups (whose verdicts here are the opposite) or
    falls and rises swapped."""
    flipped = {"falls": "rises", "rises": "falls", "no clear change": "falls"}
    trends = {"paper": _trend_table({m: flipped[v] for m, v in controlled.items()}),
              "controlled": _trend_table(controlled)}
    found = fe.tow_trend_findings(trends, _es_summary())
    assert found["agreement"].startswith(start)


def test_tow_trend_findings_counts_and_lists_each_verdict_and_names_least_and_most():
    trends = {"paper": _trend_table({"a": "falls", "b": "rises", "c": "falls"}),
              "controlled": _trend_table({"a": "no clear change", "b": "no clear change", "c": "rises"})}
    found = fe.tow_trend_findings(trends, _es_summary())
    assert list(found)[:8] == ["paper_least", "paper_most", "paper_n_fall", "paper_fall_list", "paper_n_rise",
                               "paper_rise_list", "paper_n_flat", "paper_flat_list"]
    assert (found["paper_least"], found["paper_most"]) == ("high", "medium")  # by measured ES, not by label
    assert (found["controlled_least"], found["controlled_most"]) == ("low", "high")
    assert (found["paper_n_fall"], found["paper_fall_list"]) == (2, "a, c")
    assert (found["paper_n_flat"], found["paper_flat_list"]) == (0, "none")
    assert (found["controlled_n_flat"], found["controlled_flat_list"]) == (2, "a, b")
    assert found["controlled_rise_list"] == "c" and found["n_methods"] == 3
    assert found["agreement"].startswith("disagrees")
    with pytest.raises(ValueError, match="agreement_on"):
        fe.tow_trend_findings(trends, _es_summary(), agreement_on="random")


# --------------------------------------------------------------------------------- correlations
def _grid():
    """Two procedures × two levels × one seed: a ToW that rises with ES for 'up' and falls with the retrained
    model's forget accuracy for 'down'."""
    keys = [("p", "low", 0), ("p", "high", 0), ("c", "low", 0), ("c", "high", 0)]
    es = [1.0, 2.0, 3.0, 4.0]
    ref_forget = [0.9, 0.7, 0.8, 0.6]
    rows = []
    for (proc, lv, s), e, f in zip(keys, es, ref_forget, strict=True):
        rows.append({"procedure": proc, "level": lv, "seed": s, "method": "retrain", "es": e, "forget": f, "tow": 1.0})
        rows.append({"procedure": proc, "level": lv, "seed": s, "method": "up", "es": e, "forget": 0.5, "tow": e / 10})
        rows.append({"procedure": proc, "level": lv, "seed": s, "method": "down", "es": e, "forget": 0.5,
                     "tow": 1 - f})
    return pd.DataFrame(rows)


def test_tow_correlations_against_es_and_against_the_retrained_forget_accuracy():
    """Guards against correlating with the method's own forget accuracy instead of the retrained model's, or
    the two columns swapped."""
    rho = fe.tow_correlations(_grid(), ["up", "down"])
    assert list(rho.index) == ["up", "down"]
    assert rho.loc["up", "ρ(ToW, ES)"] == pytest.approx(1.0)
    assert rho.loc["down", "ρ(ToW, retrain forget acc.)"] == pytest.approx(-1.0)
    # ranks of 1 − f (0.1, 0.3, 0.2, 0.4): 1, 3, 2, 4 against ES's 1, 2, 3, 4: Σd² = 2, ρ = 1 − 6·2/(4·15)
    assert rho.loc["down", "ρ(ToW, ES)"] == pytest.approx(0.8)
    # ranks of f (0.9, 0.7, 0.8, 0.6): 4, 2, 3, 1 against 1, 2, 3, 4: Σd² = 18, ρ = 1 − 6·18/60
    assert rho.loc["up", "ρ(ToW, retrain forget acc.)"] == pytest.approx(-0.8)


def _corr_inputs():
    rho = pd.DataFrame({"ρ(ToW, ES)": [0.1, 0.3, -0.8, 0.5, 0.2],
                        "ρ(ToW, retrain forget acc.)": [0.4, 0.6, 0.9, 0.0, 0.0]},
                       index=pd.Index(["identity", "finetune", "influence", "random_label", "salun"], name="method"))
    rows = []
    for proc in ("controlled", "paper"):
        for lv, forget in (("low", {"retrain": 1.0, "random_label": 0.8, "salun": 0.6, "identity": 1.0}),
                           ("high", {"retrain": 0.9, "random_label": 0.95, "salun": 0.85, "identity": 1.0})):
            for m, f in forget.items():
                rows.append({"procedure": proc, "level": lv, "method": m,
                             "forget": f if proc == "controlled" else 0.0, "n": 3})
    return rho, pd.DataFrame(rows)


def test_correlation_findings_means_over_the_passive_methods_and_the_controlled_sets():
    """Guards against averaging over every method (influence is not passive), reading the paper's sets
    instead of the controlled ones, and the 'closer' verdict inverted."""
    rho, summary = _corr_inputs()
    found = fe.correlation_findings(rho, summary)
    assert found["n_runs_rho"] == 12  # 2 procedures × 2 levels × 3 runs of the retrained reference
    assert found["rho_passive_es"] == pytest.approx(0.2) and found["rho_passive_acc"] == pytest.approx(0.5)
    assert found["rho_closer"] == "more closely than"
    assert found["aggr_forget_low"] == pytest.approx(70.0) and found["aggr_forget_high"] == pytest.approx(90.0)
    assert found["ref_forget_low"] == pytest.approx(100.0) and found["ref_forget_high"] == pytest.approx(90.0)
    assert (found["rho_rl_es"], found["rho_salun_es"]) == (0.5, 0.2)
    rho.loc[["identity", "finetune"], "ρ(ToW, retrain forget acc.)"] = [-0.1, 0.2]  # |0.05| < |0.2|
    assert fe.correlation_findings(rho, summary)["rho_closer"] == "no more closely than"


def test_correlation_findings_refuses_a_rho_without_the_methods_it_cites():
    rho, summary = _corr_inputs()
    with pytest.raises(ValueError, match="salun"):
        fe.correlation_findings(rho.drop(index="salun"), summary)
    with pytest.raises(ValueError, match="retrain"):
        fe.correlation_findings(rho, summary[summary["method"] != "retrain"])


# -------------------------------------------------------------------------------------------- levels
def test_toy_findings_maps_by_position_and_says_whether_es_grows():
    """Guards against the toy sets' values glued under each other's names, or a non-strict 'grows'."""
    found = fe.toy_findings({"outlying cluster": 0.8, "edge": 3.7, "random": 412.0})
    assert found == {"toy_es_cluster": 0.8, "toy_es_edge": 3.7, "toy_es_random": 412.0, "toy_order": "grows"}
    assert fe.toy_findings({"a": 1.0, "b": 5.0, "c": 3.0})["toy_order"] == "does not grow"
    assert fe.toy_findings({"a": 1.0, "b": 1.0, "c": 3.0})["toy_order"] == "does not grow"
    with pytest.raises(ValueError, match="exactly 3"):
        fe.toy_findings({"a": 1.0, "b": 2.0})


def test_es_level_findings_reads_means_intervals_and_class_shares_per_level():
    """Guards against the CI column swapped for the mean, the class share left as a fraction, the falls
    reported for the wrong step, and monotone seeds counted once per level."""
    details = {"paper": {0: sets({"low": [0, 1, 2], "medium": [3, 4, 5], "high": [6, 7, 8]},
                                 {"low": 4.0, "medium": 10.0, "high": 2.0}),
                         1: sets({"low": [0, 1, 3], "medium": [2, 4, 5], "high": [6, 7, 9]},
                                 {"low": 6.0, "medium": 8.0, "high": 2.0})},
               "controlled": {0: sets({"low": [0, 1], "medium": [2, 3], "high": [4, 5]},
                                      {"low": 1.0, "medium": 2.0, "high": 6.0}, "controlled"),
                              1: sets({"low": [0, 1], "medium": [2, 3], "high": [4, 5]},
                                      {"low": 1.0, "medium": 3.0, "high": 2.0}, "controlled")}}
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 2])
    runs = fe.es_runs(details, "procedure", labels=labels)
    summary = summarize(runs, ["procedure", "level"], ["es", "top_class_share"])
    found = fe.es_level_findings(runs, summary, es_size=2)
    assert (found["es_size"], found["paper_size"], found["n_seeds"]) == (2, 3, 2)
    assert found["paper_es_low"] == pytest.approx(5.0) and found["paper_es_high"] == pytest.approx(2.0)
    # two seeds, values 4 and 6: half-width t(0.975, 1) · s / √2 = 12.706 · 1.414 / 1.414
    assert found["paper_es_low_ci"] == pytest.approx(12.7062, rel=1e-4)
    assert found["paper_es_high_ci"] == 0.0
    assert found["paper_monotone"] == "does not increase"
    assert found["paper_monotone_bullet"] == "do not give increasing"
    assert found["paper_falls"] == "high (2.0) ≤ medium (9.0)"
    assert found["paper_n_monotone_seeds"] == 0
    assert found["paper_top_low"] == pytest.approx(100 * (1 + 2 / 3) / 2)  # {0,1,2}: 3/3; {0,1,3}: 2/3
    assert found["controlled_monotone"] == "increases" and found["controlled_falls"] == "none"
    assert found["controlled_monotone_bullet"] == "give increasing"
    assert found["controlled_n_monotone_seeds"] == 1
    assert [found[f"paper_reported_{lv}"] for lv in ("low", "medium", "high")] == [PAPER_ES[lv] for lv in
                                                                                  ("low", "medium", "high")]
    assert isinstance(found["paper_n_monotone_seeds"], int) and isinstance(found["paper_es_low"], float)


def test_es_peak_findings_is_the_argmax_of_the_mean_over_seeds():
    """Guards against argmin, or the peak of one seed (seed 0 peaks at group 0, the mean at group 2)."""
    curves = np.array([[9.0, 1.0, 5.0, 0.0], [1.0, 4.0, 9.0, 1.0]])
    assert fe.es_peak_findings(curves) == {"peak_group": 2}
    assert fe.es_peak_findings(np.array([1.0, 3.0, 2.0])) == {"peak_group": 1}
    with pytest.raises(ValueError, match="curves"):
        fe.es_peak_findings(np.array([[1.0, np.nan]]))


def test_little_to_forget_findings_picks_the_lowest_sets():
    """Guards against idxmax for idxmin, and the two 'worst set' columns swapped."""
    why = pd.DataFrame({"procedure": ["paper", "paper", "controlled"], "level": ["low", "high", "low"],
                        "forget": [0.95, 0.99, 1.0], "identity_tow": [0.97, 0.99, 0.96]})
    assert fe.little_to_forget_findings(why) == {
        "retrain_forget_min": pytest.approx(95.0), "retrain_forget_max": 100.0, "identity_tow_min": 0.96,
        "idle_worst_set": "controlled · low", "ref_worst_set": "paper · low"}


def test_seed_overlap_findings_ranges_over_levels_and_counts_pairs():
    overlap = pd.DataFrame({"mean": [0.2, 0.5, 0.1, 0.3], "min": [0.0] * 4, "max": [1.0] * 4},
                           index=pd.MultiIndex.from_tuples([("paper", "low"), ("paper", "high"),
                                                            ("controlled", "low"), ("controlled", "high")],
                                                           names=["procedure", "level"]))
    assert fe.seed_overlap_findings(overlap, 3) == {
        "paper_seed_jaccard_min": 0.2, "paper_seed_jaccard_max": 0.5, "controlled_seed_jaccard_min": 0.1,
        "controlled_seed_jaccard_max": 0.3, "n_seed_pairs": 3}
    assert fe.seed_overlap_findings(pd.DataFrame(), 1) == {"n_seed_pairs": 0}
    with pytest.raises(ValueError, match="overlap"):
        fe.seed_overlap_findings(pd.DataFrame(), 2)


def _robust_inputs():
    layers = {layer: {s: sets({"low": [0], "medium": [1], "high": [2]}, es) for s, es in enumerate(per_seed)}
              for layer, per_seed in {"features": [{"low": 1, "medium": 2, "high": 3}, {"low": 5, "medium": 9, "high": 2}],
                                      "logits": [{"low": 4, "medium": 9, "high": 2}, {"low": 5, "medium": 9, "high": 1}],
                                      "input": [{"low": 4, "medium": 9, "high": 2}, {"low": 4, "medium": 9, "high": 2}]
                                      }.items()}
    reference = {0: sets({"low": [0], "medium": [1], "high": [2]}, {"low": 1, "medium": 2, "high": 3}),
                 1: sets({"low": [0], "medium": [1], "high": [2]}, {"low": 1, "medium": 2, "high": 3})}
    layer_runs = fe.es_runs(layers, "layer", reference=reference)
    layer_runs["jaccard_vs_reference"] = [1, 1, 1, 1, 1, 1, 0.2, 0.6, 0.4, 0.4, 0.6, 0.2, 0.05, 0.1, 0.0, 0.05, 0.1,
                                          0.0]
    layer_summary = summarize(layer_runs, ["layer", "level"], ["es", "jaccard_vs_reference"])
    ks = {k: {s: sets({"low": [0], "medium": [1], "high": [2]},
                      {"low": 1, "medium": 2, "high": 3} if mono else {"low": 3, "medium": 2, "high": 1})
              for s, mono in enumerate(flags)} for k, flags in {6: [True, False], 15: [True, True], 30: [False, False]}.items()}
    k_runs = fe.es_runs(ks, "n_groups")
    return layer_runs, layer_summary, k_runs


def test_robustness_findings_counts_settings_and_reads_the_farthest_group():
    """Guards against counting rows instead of (setting, seed) pairs, counting the paper's 15 groups twice,
    the farthest group read as the first column, and the Jaccard ranges read from the wrong layer."""
    layer_runs, layer_summary, k_runs = _robust_inputs()
    k_curves = {"6 groups": np.array([[1.0, 30.0], [2.0, 22.0]]), "15 groups": np.array([[40.0, 18.0], [0.0, 18.0]]),
                "30 groups": np.array([[1.0, 5.0], [1.0, 9.0]])}
    found = fe.robustness_findings(layer_runs, layer_summary, k_runs, k_curves)
    assert (found["n_layer_mono"], found["n_layer_sets"]) == (1, 6)
    assert (found["n_k_mono"], found["n_k_sets"]) == (1, 4)
    assert found["far_es_by_k"] == "26.0 (6 groups), 18.0 (15 groups), 7.0 (30 groups)"
    assert found["far_es_trend"] == "falls"
    assert found["robust_phrase"] == "in 8 of the 10 (layer or group count, seed) settings tried"
    assert (found["jac_logits_min"], found["jac_logits_max"]) == (pytest.approx(0.3), pytest.approx(0.6))
    assert (found["jac_input_min"], found["jac_input_max"]) == (pytest.approx(0.0), pytest.approx(0.1))
    assert found["high_is_least_all_layers"] == "not everywhere"  # features, seed 0: low is the least
    k_curves["30 groups"] = np.array([[1.0, 20.0], [1.0, 20.0]])
    assert fe.robustness_findings(layer_runs, layer_summary, k_runs, k_curves)["far_es_trend"] == \
        "does not fall steadily"


def test_robustness_findings_high_least_everywhere():
    layer_runs, layer_summary, k_runs = _robust_inputs()
    layer_runs = layer_runs.assign(es=np.where(layer_runs["level"] == "high", 0.5, layer_runs["es"]))
    found = fe.robustness_findings(layer_runs, layer_summary, k_runs, {"6 groups": np.ones((2, 6))})
    assert found["high_is_least_all_layers"] == "in every layer and for every seed"


@pytest.mark.parametrize("bad", [None, "x", pd.DataFrame()])
def test_findings_refuse_a_bad_frame_naming_the_argument(bad):
    with pytest.raises((TypeError, ValueError), match="why_summary"):
        fe.little_to_forget_findings(bad)
    with pytest.raises((TypeError, ValueError), match="es_runs"):
        fe.es_level_findings(bad, _es_summary(), es_size=3)
    with pytest.raises((TypeError, ValueError), match="rho"):
        fe.correlation_findings(bad, _corr_inputs()[1])


def test_es_level_findings_equal_means_do_not_increase():
    """Guards against ≥ for >: a level whose mean ES equals the previous one's does not increase it."""
    runs = pd.DataFrame({"procedure": ["paper"] * 3, "level": ["low", "medium", "high"], "seed": [0] * 3,
                         "size": [4] * 3, "monotone": [False] * 3})
    summary = pd.DataFrame({"procedure": ["paper"] * 3, "level": ["low", "medium", "high"], "es": [1.0, 1.0, 2.0],
                            "es_ci": [np.nan] * 3, "top_class_share": [0.5] * 3})
    found = fe.es_level_findings(runs, summary, es_size=4)
    assert found["paper_monotone"] == "does not increase"
    assert found["paper_falls"] == "medium (1.0) ≤ low (1.0)"
    assert np.isnan(found["paper_es_low_ci"])
