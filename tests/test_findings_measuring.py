"""The values chapter 3 cites (rum_core.findings.measuring), on hand-built runs, summaries and attack tables
with hand-computed answers. Each test names the mistake it guards against."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from rum_core.findings import measuring

BOOK = Path(__file__).resolve().parents[1] / "book"


# ------------------------------------------------------------------------------------------- accuracy_alone
def _accuracy_summary(n=2):
    return pd.DataFrame({"method": ["finetune", "retrain", "identity"], "forget": [0.5, 0.875, 1.0],
                         "forget_ci": 0.1, "test": [0.75, 0.8125, 0.84375], "test_ci": 0.1,
                         "tow": [0.4, 1.0, 0.9375], "tow_ci": 0.1, "n": n})


def test_accuracy_alone_reads_retrain_and_identity_rows_and_columns():
    """Guards against swapping the retrain and identity rows, reading test for forget accuracy, or forgetting
    the percentage."""
    assert measuring.accuracy_alone(_accuracy_summary()) == {
        "n_seeds": 2, "id_forget_acc": 100.0, "re_forget_acc": 87.5, "re_test_acc": 81.25, "id_tow": 0.9375}


def test_accuracy_alone_refuses_a_summary_without_identity_or_with_mixed_seed_counts():
    with pytest.raises(ValueError, match="identity"):
        measuring.accuracy_alone(_accuracy_summary().iloc[:2])
    with pytest.raises(ValueError, match="seeds"):
        measuring.accuracy_alone(_accuracy_summary().assign(n=[2, 2, 1]))


# ----------------------------------------------------------------------------------------- mia_gap_extremes
def _runs():
    """Two seeds per method. By single seeds, x holds both the largest (0.5) and the smallest (0.0) gap of the
    candidates; by means (x 0.25, y 0.3, z 0.1) y is the loudest and z the quietest. identity (0.9) and retrain
    (0) are extreme too but are no candidates."""
    gaps = {"retrain": [0.0, 0.0], "x": [0.5, 0.0], "identity": [0.9, 0.9], "y": [0.3, 0.3], "z": [0.05, 0.15]}
    return pd.DataFrame([{"method": m, "seed": s, "mia_gap": g, "tow": 0.5}
                         for m, values in gaps.items() for s, g in enumerate(values)])


def test_mia_gap_extremes_are_argmax_and_argmin_of_the_mean_over_seeds_among_unlearners():
    """Guards against swapping loud and quiet (argmax/argmin), picking by a single seed instead of the mean,
    and letting retrain or identity be picked."""
    assert measuring.mia_gap_extremes(_runs()) == {"loud": "y", "quiet": "z"}


def test_mia_gap_extremes_needs_a_candidate_and_the_column():
    runs = _runs()
    with pytest.raises(ValueError, match="no method besides"):
        measuring.mia_gap_extremes(runs[runs["method"].isin(["retrain", "identity"])])
    with pytest.raises(ValueError, match="mia_gap"):
        measuring.mia_gap_extremes(runs.drop(columns="mia_gap"))


# ----------------------------------------------------------------------------------------- seed_confidences
def _phi():
    return {"original": {"forget": np.array([5.0, 7.0, 6.0]), "retain": np.array([9.0]), "test": np.array([4.0, 2.0])},
            "retrained": {"forget": np.array([1.0, 3.0, 2.0, 10.0]), "test": np.array([2.5])},
            "unlearned (x)": {"forget": np.array([-1.0]), "test": np.array([0.0, 1.0, -4.0])}}


MIA = {"original": 0.0625, "retrained": 0.125, "unlearned (x)": 0.5}


def test_seed_confidences_medians_per_model_in_order_and_saturation_strictly_above_099():
    """Guards against a mean instead of the median (forget of the retrained model: median 2.5, mean 4), the
    forget and test sets swapped, the models' prefixes out of order, and ≥ 0.99 counted as saturated."""
    p_y = np.array([0.995, 0.99, 0.5, 1.0])
    found = measuring.seed_confidences(_phi(), MIA, p_y)
    assert found == {"orig_phi_forget": 6.0, "orig_phi_test": 3.0, "orig_mia_seed": 0.0625,
                     "re_phi_forget": 2.5, "re_phi_test": 2.5, "re_mia_seed": 0.125,
                     "un_phi_forget": -1.0, "un_phi_test": 0.0, "un_mia_seed": 0.5,
                     "frac_saturated": 50.0}


@pytest.mark.parametrize("phi, mia, p_y, error, match", [
    ({k: v for k, v in _phi().items() if k != "original"}, {"retrained": 0.1, "unlearned (x)": 0.2},
     [0.5], ValueError, "three models"),
    (_phi(), {**MIA, "other": 0.1}, [0.5], ValueError, "mia must name"),
    (_phi(), {**MIA, "original": 1.5}, [0.5], ValueError, "mia"),
    ({**_phi(), "original": {"forget": np.ones(3)}}, MIA, [0.5], ValueError, "'test'"),
    ({**_phi(), "original": {"forget": np.array([np.nan]), "test": np.ones(2)}}, MIA, [0.5], ValueError, "NaN"),
    (_phi(), MIA, [0.5, 1.5], ValueError, "probabilities"),
    (_phi(), MIA, "high", TypeError, "true_label_confidence"),
    ([1, 2, 3], MIA, [0.5], TypeError, "phi"),
])
def test_seed_confidences_refuses_bad_input(phi, mia, p_y, error, match):
    with pytest.raises(error, match=match):
        measuring.seed_confidences(phi, mia, p_y)


# --------------------------------------------------------------------------------------------------- lira
def _row(auc, tpr1, tpr01):
    return {"AUC": auc, "TPR @ 0.1% FPR": tpr01, "TPR @ 1% FPR": tpr1}


def _lira_table(online_tpr1=0.25, global_tpr1=0.125):
    return {"LiRA (online)": _row(0.75, online_tpr1, 0.0625), "LiRA (offline)": _row(0.625, 0.1875, 0.03125),
            "global threshold": _row(0.5625, global_tpr1, 0.015625)}


MEMBER = np.array([True, False, False, True, False])


def test_lira_reads_each_attack_and_rate_into_its_own_name():
    """Guards against the 1% and 0.1% columns swapped, an attack read for another, missing percentages, and
    n_nonmembers counting members."""
    found = measuring.lira(_lira_table(online_tpr1=0.375), MEMBER, n_shadows=20, n_targets=10)
    assert {k: v for k, v in found.items() if k != "lira_verdict"} == {
        "n_shadows": 20, "n_targets": 10, "n_nonmembers": 3,
        "lira_on_auc": 0.75, "lira_on_tpr1": 37.5, "lira_on_tpr01": 6.25,
        "lira_off_auc": 0.625, "lira_off_tpr1": 18.75, "lira_off_tpr01": 3.125,
        "lira_glob_auc": 0.5625, "lira_glob_tpr1": 12.5, "lira_glob_tpr01": 1.5625}


def test_lira_verdict_credits_calibration_only_above_twice_the_global_tpr():
    """Guards against the verdict inverted and against ≥ instead of > at exactly twice (0.25 vs 0.125)."""
    credit = measuring.lira(_lira_table(0.375, 0.125), MEMBER, n_shadows=20, n_targets=10)["lira_verdict"]
    exactly = measuring.lira(_lira_table(0.25, 0.125), MEMBER, n_shadows=20, n_targets=10)["lira_verdict"]
    below = measuring.lira(_lira_table(0.125, 0.125), MEMBER, n_shadows=20, n_targets=10)["lira_verdict"]
    assert credit.startswith("Per-example calibration is what turns")
    assert exactly == below and below.startswith("Here per-example calibration gains little")


@pytest.mark.parametrize("table, member, kwargs, error, match", [
    ({k: v for k, v in _lira_table().items() if k != "LiRA (offline)"}, MEMBER, {}, ValueError, "LiRA \\(offline\\)"),
    ({**_lira_table(), "LiRA (online)": {"AUC": 0.7}}, MEMBER, {}, ValueError, "TPR @ 1% FPR"),
    ({**_lira_table(), "LiRA (online)": _row(1.5, 0.1, 0.1)}, MEMBER, {}, ValueError, "AUC"),
    (_lira_table(), np.ones(5, bool), {}, ValueError, "non-members"),
    (_lira_table(), MEMBER.astype(int), {}, TypeError, "boolean"),
    (_lira_table(), MEMBER, {"n_targets": 30}, ValueError, "n_targets"),
    (_lira_table(), MEMBER, {"n_shadows": 2.5}, TypeError, "n_shadows"),
    ([1], MEMBER, {}, TypeError, "table"),
])
def test_lira_refuses_bad_input(table, member, kwargs, error, match):
    with pytest.raises(error, match=match):
        measuring.lira(table, member, **{"n_shadows": 20, "n_targets": 10, **kwargs})


# -------------------------------------------------------------------------------------------------- ulira
def _ulira_table(q_auc, id_auc=0.625):
    return {"x": {"AUC": q_auc, "TPR @ 1% FPR": 0.25}, "identity": {"AUC": id_auc, "TPR @ 1% FPR": 0.0625}}


def test_ulira_reads_the_audited_method_and_identity_and_the_identity_gap_of_the_runs():
    """Guards against the two rows swapped, a missing percentage, and identity's gap taken from another method."""
    found = measuring.ulira(_ulira_table(0.5625), _runs(), method="x", n_models=4)
    assert found == {
        "n_ulira": 4, "ulira_q_auc": 0.5625, "ulira_q_tpr1": 25.0, "ulira_id_auc": 0.625, "ulira_id_tpr1": 6.25,
        "ulira_cmp": "less easily than", "identity_gap_early": pytest.approx(0.9),
        "ulira_verdict": "Here the per-example attack, too, finds x hard to tell apart from retraining."}


def test_ulira_comparison_and_verdict_thresholds():
    """Guards against the comparison inverted (an AUC above identity's is 'more easily') and the 0.6 verdict
    threshold inverted or made inclusive."""
    above = measuring.ulira(_ulira_table(0.6875), _runs(), method="x", n_models=4)
    at = measuring.ulira(_ulira_table(0.6), _runs(), method="x", n_models=4)
    assert above["ulira_cmp"] == "more easily than" and at["ulira_cmp"] == "less easily than"
    assert above["ulira_verdict"] == ("A small MIA gap therefore does not make x indistinguishable from "
                                      "retraining example by example.")
    assert at["ulira_verdict"].startswith("Here the per-example attack, too, finds x")


def test_ulira_refuses_bad_input():
    with pytest.raises(ValueError, match="not 'identity'"):
        measuring.ulira(_ulira_table(0.5), _runs(), method="identity", n_models=4)
    with pytest.raises(ValueError, match="no row for \\['y'\\]"):
        measuring.ulira(_ulira_table(0.5), _runs(), method="y", n_models=4)
    with pytest.raises(ValueError, match="no 'identity' rows"):
        measuring.ulira(_ulira_table(0.5), _runs().query("method != 'identity'"), method="x", n_models=4)
    with pytest.raises(TypeError, match="n_models"):
        measuring.ulira(_ulira_table(0.5), _runs(), method="x", n_models="4")


# ------------------------------------------------------------------------------------------ every_measure
#                     tow   tow_mia  mia     mia_gap  mia_gap_ci  loss_auc
MEASURE_ROWS = {"retrain": (1.0, 1.0, 0.25, 0.0, 0.0, 0.5),
                "b": (0.90, 0.70, 0.625, 0.375, 0.10, 0.4375),
                "identity": (0.95, 0.93, 0.0625, 0.1875, 0.03, 0.625),
                "a": (0.97, 0.90, 0.375, 0.125, 0.02, 0.5625),
                "c": (0.85, 0.80, 0.5, 0.25, 0.05, 0.25),
                "d": (0.80, 0.94, 0.125, 0.0625, 0.01, 0.5)}


def _measures(rows=MEASURE_ROWS):
    """A summarize()-like frame, not sorted by ToW-MIA. retrain's MIA interval is [0.125, 0.375]: a lies exactly
    on its top and d exactly on its bottom."""
    return pd.DataFrame([{"method": m, "tow": t, "tow_ci": 0.01, "tow_mia": tm, "tow_mia_ci": 0.01, "mia": mia,
                          "mia_ci": 0.125 if m == "retrain" else 0.02, "mia_gap": g, "mia_gap_ci": gci,
                          "loss_auc": la, "loss_auc_ci": 0.0625 if m == "retrain" else 0.01, "n": 2}
                         for m, (t, tm, mia, g, gci, la) in rows.items()])


def test_every_measure_hand_computed():
    """Guards against: the target's interval read from the wrong column or its bounds inclusive (a and d sit on
    them), over and under swapped, lists in table order (b before c) rather than ToW-MIA order, retrain
    counted among the methods, argmin for a best method or for the largest fall, and the loss attack's
    farthest method measured by signed rather than absolute distance (b lies 0.0625 *below*, c 0.25 below, identity 0.125 above).
    Spearman over (d, identity, a, c, b): ToW ranks 1 4 5 2 3, ToW-MIA ranks 5 4 3 2 1, Σd² = 24,
    ρ = 1 − 6·24 / (5·24) = −0.2."""
    found = measuring.every_measure(_measures(), quiet="d", loud="b")
    assert found == {
        "quiet_gap": 0.0625, "quiet_gap_ci": 0.01, "loud_gap": 0.375, "loud_gap_ci": 0.10, "loud_mia": 0.625,
        "target_mia": 0.25, "target_mia_ci": 0.125, "identity_gap": 0.1875,
        "over": "c, b", "n_over": 2, "under": "identity", "n_under": 1, "n_methods": 5,
        "rho": pytest.approx(-0.2), "rank_verdict": "do not rank the methods the same",
        "best_tow": "a", "best_tow_mia": "d", "best_same": "different methods",
        "drop_method": "b", "drop_tow": 0.90, "drop_tow_mia": 0.70,
        "drop_reason": "its accuracies are close to retraining's while its forget set stands out to the attacker",
        "retrain_loss_auc": 0.5, "retrain_loss_auc_ci": 0.0625, "loss_far": "c", "loss_far_auc": 0.25}
    assert list(found)[:3] == ["quiet_gap", "quiet_gap_ci", "loud_gap"]


def test_every_measure_agreeing_scores():
    """Identical rankings give ρ = 1 and the same best method; a largest fall of 0.03 is 'a small change'
    (guards against the 0.05 threshold inverted), and nothing outside the interval reads 'none'."""
    rows = {"retrain": (1.0, 1.0, 0.25, 0.0, 0.0, 0.5), "identity": (0.7, 0.69, 0.25, 0.0, 0.0, 0.5),
            "a": (0.9, 0.88, 0.3, 0.05, 0.01, 0.55), "b": (0.8, 0.77, 0.2, 0.05, 0.01, 0.5)}
    found = measuring.every_measure(_measures(rows), quiet="a", loud="b")
    assert found["rho"] == pytest.approx(1.0) and found["rank_verdict"] == "rank the methods identically"
    assert found["best_tow"] == found["best_tow_mia"] == "a" and found["best_same"] == "the same method"
    assert found["drop_method"] == "b" and found["drop_reason"] == "a small change: here the two scores mostly agree"
    assert (found["over"], found["n_over"], found["under"], found["n_under"]) == ("none", 0, "none", 0)


@pytest.mark.parametrize("summary, quiet, error, match", [
    (_measures(), "zz", ValueError, "zz"),
    (_measures(), "retrain", ValueError, "quiet"),
    (_measures(), 3, TypeError, "quiet"),
    (_measures().drop(columns="mia_ci"), "d", ValueError, "mia_ci"),
    (_measures().query("method != 'retrain'"), "d", ValueError, "retrain"),
    (_measures().assign(loss_auc=np.nan), "d", ValueError, "loss_auc"),
    (_measures().assign(mia="low"), "d", TypeError, "mia"),
])
def test_every_measure_refuses_bad_input(summary, quiet, error, match):
    with pytest.raises(error, match=match):
        measuring.every_measure(summary, quiet=quiet, loud="b")


# ------------------------------------------------------------------------------------------------ chapter
def test_the_findings_provide_every_value_the_chapter_cites():
    """Guards against a renamed key: every {glue:text} name of the chapter's prose comes from one of these
    functions (the chapter glues nothing else but figures)."""
    nb = json.loads((BOOK / "03_measuring.ipynb").read_text())
    prose = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    cited = set(re.findall(r"\{glue:text\}`([^`:]+)", prose))
    produced = {**measuring.accuracy_alone(_accuracy_summary()), **measuring.mia_gap_extremes(_runs()),
                **measuring.seed_confidences(_phi(), MIA, [0.5]),
                **measuring.lira(_lira_table(), MEMBER, n_shadows=20, n_targets=10),
                **measuring.ulira(_ulira_table(0.5), _runs(), method="x", n_models=4),
                **measuring.every_measure(_measures(), quiet="d", loud="b")}
    assert cited <= set(produced), sorted(cited - set(produced))
    assert all(type(v) in (int, float, str) for v in produced.values())  # reprs the prose can print
