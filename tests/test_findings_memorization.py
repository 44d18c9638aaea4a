"""The numbers the memorization chapter cites (rum_core.findings.memorization), on small hand-built runs,
summaries and frames whose expected values are computed by hand in the comments."""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from rum_core import memorization
from rum_core.findings import memorization as fm
from rum_core.memorization import MemorizationRuns
from rum_core.training import TrainConfig


def _runs(correct, included, *, test_correct=None, ratio=0.5, seconds=10.0, epochs=10) -> MemorizationRuns:
    correct, included = np.asarray(correct, bool), np.asarray(included, bool)
    k, n = included.shape
    test_correct = np.ones((k, 2), bool) if test_correct is None else np.asarray(test_correct, bool)
    zeros = np.zeros((k, n), np.float32)
    return MemorizationRuns(
        estimate=memorization.from_runs(correct, included), included=included, correct=correct, confidence=zeros,
        logit_confidence=zeros, test_correct=test_correct, test_confidence=np.zeros(test_correct.shape, np.float32),
        test_logit_confidence=np.zeros(test_correct.shape, np.float32), seeds=np.arange(k),
        config={"subset_ratio": ratio, "train": {"epochs": epochs}}, seconds=seconds)


def _pair_runs(contributions) -> MemorizationRuns:
    """Runs of 2·P models in complementary pairs over 6 examples: model 2j trains on {0, 1, 2}, model 2j+1 on
    {3, 4, 5}. ``contributions[i][j]`` is example i's score from pair j: +1 = right when in, wrong when out;
    −1 = wrong when in, right when out; 0 = right either way. The estimate from the first p pairs is then the
    mean of the first p contributions."""
    contributions = np.asarray(contributions)
    n, pairs = contributions.shape
    included = np.zeros((2 * pairs, n), bool)
    included[0::2, :3] = True
    included[1::2, 3:] = True
    correct = np.ones((2 * pairs, n), bool)
    for i in range(n):
        for j in range(pairs):
            in_model, out_model = (2 * j, 2 * j + 1) if i < 3 else (2 * j + 1, 2 * j)
            if contributions[i, j] == 1:
                correct[out_model, i] = False
            elif contributions[i, j] == -1:
                correct[in_model, i] = False
    return _runs(correct, included, ratio=0.5, seconds=50.0, epochs=10)


# ----------------------------------------------------------------------------------------- estimate_summary
def _estimate_runs():
    """8 models, 4 examples; model k trains on example k // 2 only (r = 1/4: each example in 2, out of 6).
    In-hits / out-hits: ex0 2/2, 6/6 → 0; ex1 2/2, 0/6 → 1; ex2 2/2, 3/6 → 0.5; ex3 1/2, 6/6 → −0.5."""
    included = np.repeat(np.eye(4, dtype=bool), 2, axis=0)
    correct = np.ones((8, 4), bool)
    out_rows = {i: [k for k in range(8) if k // 2 != i] for i in range(4)}
    correct[out_rows[1], 1] = False  # wrong on every model that did not train on it
    correct[out_rows[2][:3], 2] = False  # wrong on half of them
    correct[6, 3] = False  # wrong on one of its two training models (6 and 7)
    test_correct = np.array([[True, True]] * 4 + [[True, False]] * 4)  # test accuracies 1 (×4), 0.5 (×4)
    return _runs(correct, included, test_correct=test_correct, ratio=0.25, seconds=12.5)


def test_estimate_summary_counts_design_tail_and_precision_by_hand():
    values = fm.estimate_summary(_estimate_runs())
    assert list(values) == ["K", "n_train", "n_in", "n_out", "balanced", "train_acc_in", "test_acc_models",
                            "est_seconds", "n_zero", "n_above_half", "q99", "se_mean", "se_max", "se_bound"]
    se2 = np.sqrt(0.25 / 6)  # ex2: p_in 1, p_out 1/2 over 6 models
    se3 = np.sqrt(0.25 / 2)  # ex3: p_in 1/2 over 2 models, p_out 1
    assert values == {
        "K": 8, "n_train": 4, "n_in": 2, "n_out": 6, "balanced": "every",
        "train_acc_in": pytest.approx(87.5),  # 7 of the 8 (model, own example) pairs right
        "test_acc_models": pytest.approx(75.0),
        "est_seconds": 12.5,
        "n_zero": 1,
        "n_above_half": 1,  # 0.5 itself is not above 0.5
        "q99": pytest.approx(0.5 + 0.97 * 0.5),  # sorted (−0.5, 0, 0.5, 1), position 0.99 · 3
        "se_mean": pytest.approx((se2 + se3) / 4),
        "se_max": pytest.approx(se3),
        "se_bound": pytest.approx(0.5 * np.sqrt(1 / 2 + 1 / 6)),  # r K = 2, (1 − r) K = 6
    }
    assert all(type(values[k]) is int for k in ("K", "n_train", "n_in", "n_out", "n_zero", "n_above_half"))


def test_estimate_summary_says_when_the_design_is_not_balanced_and_refuses_other_objects():
    runs = _estimate_runs()
    included = runs.included.copy()
    included[0, 1] = True  # example 1 is now in 3 models, example 0 still in 2
    assert fm.estimate_summary(_runs(runs.correct, included, ratio=0.25))["balanced"] == "not every"
    with pytest.raises(TypeError, match="runs"):
        fm.estimate_summary(runs.estimate)
    with pytest.raises(ValueError, match="subset_ratio"):
        fm.estimate_summary(dataclasses.replace(runs, config={}))


# ---------------------------------------------------------------------------------------- ranking_stability
# Scores after p pairs (k = 2p models): ex0 1 1 1 1; ex1 1 0 1/3 1/2; ex3 0 1/2 0 0; others 0.
# The full (k = 8) high group of 2 is {0, 1}; the high groups of k = 2, 4, 6 find 2, 1 and 2 of it.
STABILITY = [[1, 1, 1, 1], [1, -1, 1, 1], [0, 0, 0, 0], [0, 1, -1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


def test_ranking_stability_settles_where_the_count_no_longer_changes():
    """Guards against settling at the first k whose count equals the last one (k = 2 here: found 2, then
    1, then 2 again) and against using K itself as the reference when counts below K exist."""
    values, table = fm.ranking_stability(_pair_runs(STABILITY), 2, model_counts=(2, 4, 6))
    assert list(table.index) == [2, 4, 6, 8]
    assert table["high group found (of 2)"].tolist() == [2, 1, 2, 2]
    assert table["no estimate"].tolist() == [0, 0, 0, 0]
    assert values == {"group_size": 2, "k_settle": 6, "k_settle_found": 2, "k_settle_rho": pytest.approx(1.0),
                      "k_ref": 6, "k_ref_rho": pytest.approx(1.0), "k_ref_found": 2,
                      "k_ref_maxdiff": pytest.approx(0.5 - 1 / 3)}  # ex1: 1/3 from 6 models, 1/2 from 8


def test_ranking_stability_settles_early_when_the_count_is_stable_and_uses_k_when_nothing_is_below():
    values, _ = fm.ranking_stability(_pair_runs(STABILITY), 2, model_counts=(6,))
    assert (values["k_settle"], values["k_ref"]) == (6, 6)
    values, table = fm.ranking_stability(_pair_runs(STABILITY), 2, model_counts=(10, 20))
    assert list(table.index) == [8] and (values["k_settle"], values["k_ref"]) == (8, 8)
    with pytest.raises(ValueError, match="n_group"):
        fm.ranking_stability(_pair_runs(STABILITY), 3)  # three groups of 3 need 9 examples
    with pytest.raises(TypeError, match="model_counts"):
        fm.ranking_stability(_pair_runs(STABILITY), 2, model_counts=(2.5,))


# ---------------------------------------------------------------------------------------- extreme_examples
def test_extreme_examples_retrains_without_the_top_and_breaks_ties_by_index(monkeypatch, synthetic):
    """The top is by decreasing score with the lower index first on a tie; the least memorized are the
    last n of that order; the retrained model is the profile's retrain on the top, of the same seed."""
    n = len(synthetic.train)
    scores = np.zeros(n)
    scores[[9, 5, 2]] = [0.9, 0.9, 0.8]
    scores[7] = -0.2
    labels = synthetic.train.y.numpy()
    calls = []
    monkeypatch.setattr(fm.experiments, "original_model", lambda p, seed: calls.append(("original", seed))
                        or ("θo", None))

    def make(name, **hp):
        calls.append(("make", name, hp))

        def retrain(original, bundle, forget, seed):
            calls.append(("retrain", original, forget.tolist(), seed))
            return SimpleNamespace(model="θr")
        return retrain

    monkeypatch.setattr(fm.unlearners, "make", make)
    wrong = labels[[5, 9, 2]].copy()
    wrong[1] = (wrong[1] + 1) % synthetic.num_classes  # the model without them gets example 9 wrong
    monkeypatch.setattr(fm, "predict", lambda model, x: calls.append(("predict", model, len(x))) or wrong)
    profile = SimpleNamespace(method_hparams=lambda name: {"epochs": 3, "for": name})
    ex = fm.extreme_examples(profile, synthetic, scores, n=3)
    assert ex.top.tolist() == [5, 9, 2]
    assert ex.least.tolist() == [7, n - 1, n - 2]
    assert calls == [("original", 0), ("make", "retrain", {"epochs": 3, "for": "retrain"}),
                     ("retrain", "θo", [5, 9, 2], 0), ("predict", "θr", 3)]
    assert ex.predictions.tolist() == wrong.tolist()
    assert ex.values == {"n_top_wrong": 1, "top_min_score": pytest.approx(0.8)}


def test_extreme_examples_refuses_bad_input_before_training(monkeypatch, synthetic):
    monkeypatch.setattr(fm.experiments, "original_model", lambda *a: pytest.fail("trained before refusing"))
    n = len(synthetic.train)
    with pytest.raises(ValueError, match="n must"):
        fm.extreme_examples(None, synthetic, np.zeros(n), n=n + 1)
    with pytest.raises(ValueError, match="scores"):
        fm.extreme_examples(None, synthetic, np.zeros(n - 1), n=3)
    with pytest.raises(ValueError, match="scores"):
        fm.extreme_examples(None, synthetic, np.full(n, np.nan), n=3)


# ----------------------------------------------------------------------------------- per_class_memorization
def test_per_class_memorization_counts_strictly_above_half_and_picks_the_largest_count():
    scores = [0.9, 0.6, 0.51, 0.1, 0.7, 0.5]
    values, table = fm.per_class_memorization(scores, [0, 0, 0, 1, 2, 2], ("zero", "one", "two"))
    assert values == {"most_class": "zero", "most_class_n": 3}
    assert list(table.index) == ["one", "two", "zero"]  # sorted by name
    assert table["examples"].tolist() == [1, 2, 3]
    assert table["above_half"].tolist() == [0, 1, 3]  # 0.5 is not above 0.5
    assert table["mean"].tolist() == pytest.approx([0.1, 0.6, (0.9 + 0.6 + 0.51) / 3])


def test_per_class_memorization_refuses_labels_outside_the_classes():
    with pytest.raises(ValueError, match="labels"):
        fm.per_class_memorization([0.1, 0.2], [0, 3], ("a", "b"))
    with pytest.raises(ValueError, match="labels"):
        fm.per_class_memorization([0.1, 0.2], [0], ("a", "b"))
    with pytest.raises(TypeError, match="class_names"):
        fm.per_class_memorization([0.1, 0.2], [0, 1], "ab")


# -------------------------------------------------------------------------------------- difficulty_by_level
def _level_summary(tows: dict, cis: dict, forgets: dict) -> pd.DataFrame:
    rows = []
    for m in tows:
        for i, lv in enumerate(("low", "medium", "high")):
            rows.append({"level": lv, "method": m, "forget": forgets.get(m, [0.9] * 3)[i], "forget_ci": 0.0,
                         "tow": tows[m][i], "tow_ci": cis.get(m, [0.0] * 3)[i], "n": 3})
    return pd.DataFrame(rows)


LEVEL_TOWS = {"retrain": [1.0, 1.0, 1.0], "a": [0.9, 0.7, 0.5], "b": [0.8, 0.6, 0.65], "identity": [0.95, 0.6, 0.4]}
LEVEL_CIS = {"a": [0.05, 0.05, 0.05], "b": [0.1, 0.1, 0.1]}
LEVEL_FORGETS = {"retrain": [0.96, 0.54, 0.44], "identity": [0.97, 0.93, 0.92]}


def test_difficulty_by_level_checks_the_finding_method_by_method():
    """a: 0.9 > 0.7 > 0.5, intervals of low and high apart, of medium and high apart; b: 0.8, 0.6, 0.65
    (medium below high), low and high intervals overlap, medium and high overlap. identity is a reference,
    not checked."""
    values = fm.difficulty_by_level(_level_summary(LEVEL_TOWS, LEVEL_CIS, LEVEL_FORGETS), ["a", "b", "identity"])
    assert values == {
        "original_forget_min": pytest.approx(92.0), "n_checked": 2, "n_monotone": 1, "n_low_gt_high": 1,
        "n_med_high_overlap": 1, "step_low_med": pytest.approx(0.85 - 0.65), "step_med_high": pytest.approx(0.65 - 0.575),
        "step_compare": "larger", "monotone_exceptions": "b scores no higher on the medium set than on the high one.",
        "tow_avg_low": pytest.approx(0.85), "retrain_forget_low": pytest.approx(96.0),
        "identity_tow_low": pytest.approx(0.95),
        "tow_avg_medium": pytest.approx(0.65), "retrain_forget_medium": pytest.approx(54.0),
        "identity_tow_medium": pytest.approx(0.6),
        "tow_avg_high": pytest.approx(0.575), "retrain_forget_high": pytest.approx(44.0),
        "identity_tow_high": pytest.approx(0.4),
        "n_low_gt_high_mean": 2, "finding_verdict": "holds",
    }
    assert list(values)[-2:] == ["n_low_gt_high_mean", "finding_verdict"]


def test_difficulty_by_level_verdict_holds_only_in_part_when_one_method_is_easier_on_high():
    tows = {**LEVEL_TOWS, "b": [0.6, 0.7, 0.8], "c": [0.5, 0.9, 0.4]}
    values = fm.difficulty_by_level(_level_summary(tows, LEVEL_CIS, LEVEL_FORGETS), ["a", "b", "c", "identity"])
    assert values["finding_verdict"] == "holds only in part"
    assert values["n_low_gt_high_mean"] == 2  # a and c
    assert values["step_compare"] == "smaller"  # means 2/3, 0.7667, 0.5667: the first "drop" is a rise
    assert values["monotone_exceptions"] == (
        "b scores no higher on the medium set than on the high one; "
        "b and c score at least as high on the medium set as on the low one.")


def test_difficulty_by_level_needs_every_row():
    summary = _level_summary(LEVEL_TOWS, LEVEL_CIS, LEVEL_FORGETS)
    with pytest.raises(ValueError, match="identity"):
        fm.difficulty_by_level(summary[summary["method"] != "identity"], ["a", "b"])
    with pytest.raises(ValueError, match="tow_ci"):
        fm.difficulty_by_level(summary.drop(columns="tow_ci"), ["a", "b"])


# --------------------------------------------------------------------------------------------- entanglement
def _es_runs(means: dict) -> pd.DataFrame:
    return pd.DataFrame([{"seed": s, "set": name, "es": m + (10 if s else -10)}
                         for s in (0, 1) for name, m in means.items()])


@pytest.mark.parametrize("means, shape", [
    ({"low": 210, "medium": 65, "high": 310, "random": 200}, "is not monotone in memorization"),
    ({"low": 300, "medium": 200, "high": 100, "random": 200}, "decreases monotonically as memorization increases"),
    ({"low": 100, "medium": 200, "high": 300, "random": 200}, "increases monotonically as memorization increases"),
])
def test_entanglement_findings_means_and_shape(means, shape):
    values, summary = fm.entanglement_findings(_es_runs(means))
    assert values == {**{f"es_{k}": pytest.approx(v) for k, v in means.items()}, "es_shape": shape}
    assert summary["n"].tolist() == [2] * 4


def test_entanglement_findings_needs_every_set():
    with pytest.raises(ValueError, match="random"):
        fm.entanglement_findings(_es_runs({"low": 1, "medium": 2, "high": 3}))


def test_group_entanglement_embeds_each_seeds_original_model_and_adds_a_seeded_random_set(monkeypatch, synthetic):
    n = len(synthetic.train)
    calls = []
    monkeypatch.setattr(fm.experiments, "original_model", lambda p, seed: (f"θ{seed}", None))
    monkeypatch.setattr(fm.models, "embed", lambda model, x: calls.append((model, len(x))) or model)
    sets = []
    monkeypatch.setattr(fm.partition, "set_entanglement",
                        lambda emb, idx: sets.append(np.asarray(idx).tolist()) or float(len(idx) + 100 * int(emb[1:])))
    profile = SimpleNamespace(memorization_group_size=4)
    groups = {"low": np.arange(3), "high": np.arange(3, 8)}
    frame = fm.group_entanglement(profile, synthetic, groups, seeds=range(2))
    assert calls == [("θ0", n), ("θ1", n)]
    # each seed's random set is that seed's (a different set per seed, the same set on a rerun)
    assert [sets[2], sets[5]] == [fm.partition.random_forget_set(n, size=4, seed=s).tolist() for s in (0, 1)]
    assert sets[2] != sets[5]
    assert frame[["seed", "set"]].values.tolist() == [[0, "low"], [0, "high"], [0, "random"],
                                                       [1, "low"], [1, "high"], [1, "random"]]
    assert frame["es"].tolist() == [3.0, 5.0, 4.0, 103.0, 105.0, 104.0]  # the random set has the group size


# ------------------------------------------------------------------------------------------ proxy_comparison
# Estimate (4 pairs, 8 models of 3 examples each, 10 epochs → 240 gradient evaluations):
# scores 1, 0.5, 0, 0.25, 0.75, −0.25; the high group of 2 is {0, 4}; 4 examples above 0.
PROXY_CONTRIB = [[1, 1, 1, 1], [1, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 1, 0], [-1, 0, 0, 0]]
ORIENTED = {  # higher = more memorized
    "confidence": [0.75, 0.5, 0, 0.25, 1, -0.25],  # the top two swapped: ρ = 1 − 6·2/210, tail ρ = 0.8, finds 2
    "max_confidence": [1, 0.5, 2, 0.25, 0.75, 3],  # right on the tail only: ρ = 1 − 6·50/210, tail ρ = 1, finds 0
    "neg_entropy": [0, 1, 2, 3, 4, 5],  # ρ = 1 − 6·56/210 = −0.6, finds 1
    "binary_accuracy": [-1, -0.5, 0, -0.25, -0.75, 0.25],  # reversed: ρ = −1, finds 0
    "cumulative_loss": [1, 0.5, 0, 0.75, 0.25, -0.25],  # ex3 and ex4 swapped: ρ = 1 − 6·8/210, finds 1
    "holdout_kl": [0, 1, 2, 3, 4, 5],
}


def _proxies(oriented: dict, seconds=20.0, holdout_seconds=40.0) -> pd.DataFrame:
    raw = pd.DataFrame({k: -np.asarray(v, float) if k in memorization.HIGH_MEANS_LOW_MEMORIZATION
                        else np.asarray(v, float) for k, v in oriented.items()})
    raw.attrs.update({"seconds": seconds, "holdout_seconds": holdout_seconds})
    return raw


def test_proxy_comparison_ranks_the_proxies_and_their_cost_by_hand():
    runs = _pair_runs(PROXY_CONTRIB)
    assert runs.estimate.scores.tolist() == [1, 0.5, 0, 0.25, 0.75, -0.25]
    values, table = fm.proxy_comparison(runs, _proxies(ORIENTED), TrainConfig(epochs=4, lr=0.1), 2)
    # one run: 6 examples × 4 epochs = 24; holdout: 24 + 6 × (4 // 3 = 1) = 30; the estimate 240
    assert values == {
        "best_proxy": "confidence", "best_rho": pytest.approx(1 - 12 / 210),
        "worst_proxy": "binary_accuracy", "worst_rho": pytest.approx(-1.0),
        "n_tail": 4, "best_tail_proxy": "max_confidence", "best_tail_rho": pytest.approx(1.0),
        "best_found_proxy": "confidence", "best_found": 2,
        "proxy_grad_cost": pytest.approx(10.0), "holdout_grad_cost": pytest.approx(12.5),
        "proxy_time_cost": pytest.approx(40.0), "holdout_time_cost": pytest.approx(80.0),
        "rho_vs_paper": "above",
        "time_vs_grad": "far less favourable than",  # 20/50 = 0.4 > 3 × 0.1
    }
    assert table["high group found (of 2)"].tolist() == [2, 0, 1, 0, 1, 1]
    assert table["Spearman with estimate"].tolist() == pytest.approx(
        [1 - 12 / 210, 1 - 300 / 210, -0.6, -1, 1 - 48 / 210, -0.6])
    assert table["time / estimate"].tolist() == pytest.approx([0.4] * 5 + [0.8])
    assert table["grad. evals / estimate"].tolist() == pytest.approx([0.1] * 5 + [0.125])


def test_proxy_comparison_verdicts_follow_the_thresholds():
    runs = _pair_runs(PROXY_CONTRIB)
    weaker = {**ORIENTED, "confidence": ORIENTED["neg_entropy"]}  # best is now cumulative_loss, ρ ≈ 0.771
    values, _ = fm.proxy_comparison(runs, _proxies(weaker, seconds=10.0), TrainConfig(epochs=4, lr=0.1), 2)
    assert (values["best_proxy"], values["rho_vs_paper"]) == ("cumulative_loss", "within")
    assert values["time_vs_grad"] == "about as favourable as"  # 10/50 = 0.2 ≤ 3 × 0.1
    worse = {k: ORIENTED["neg_entropy"] for k in ORIENTED}
    assert fm.proxy_comparison(runs, _proxies(worse), TrainConfig(epochs=4, lr=0.1), 2)[0]["rho_vs_paper"] == "below"


def test_proxy_comparison_refuses_a_frame_of_another_training_set():
    runs = _pair_runs(PROXY_CONTRIB)
    short = _proxies({k: v[:5] for k, v in ORIENTED.items()})
    with pytest.raises(ValueError, match="proxies"):
        fm.proxy_comparison(runs, short, TrainConfig(epochs=4, lr=0.1), 2)
    no_time = _proxies(ORIENTED)
    no_time.attrs.clear()
    with pytest.raises(ValueError, match="seconds"):
        fm.proxy_comparison(runs, no_time, TrainConfig(epochs=4, lr=0.1), 2)
    with pytest.raises(TypeError, match="train"):
        fm.proxy_comparison(runs, _proxies(ORIENTED), {"epochs": 4}, 2)


# ----------------------------------------------------------------------------- digits against MNIST-1D
_HALVES = np.array([[1, 1, 0, 0], [0, 0, 1, 1]] * 2, bool)  # every example in 2 of 4 models, 1 per half


def _scored_runs(scores_by_example) -> MemorizationRuns:
    """4 models over 4 examples (design :data:`_HALVES`: each example in 2 models, out of 2) whose estimate is
    ``scores_by_example`` (each 0, 0.5 or 1): always right when trained on it, and right in 2, 1 or 0 of the
    2 models that left it out."""
    correct = _HALVES.copy()
    for i, score in enumerate(scores_by_example):
        out = np.flatnonzero(~_HALVES[:, i])
        correct[out[:round(2 * (1 - score))], i] = True
    runs = _runs(correct, _HALVES)
    np.testing.assert_allclose(runs.scores, scores_by_example)
    return runs


def test_tail_comparison_shares_and_verdicts_by_hand(monkeypatch):
    """Digits: every estimate 0; MNIST-1D: half at 0, half at 1. Shares by hand; the tail is thicker; 50% above
    0.5 is outside 3-40%, so the criteria are not met. Also guards the profile each dataset is estimated with:
    the chapter's own where it uses that dataset, else the comparison profile."""
    from rum_core import experiments, profiles

    smoke = profiles.get_profile("smoke")
    seen = {}

    def fake(p, k):
        seen[p.dataset] = (p.name, k)
        return _scored_runs([0, 0, 0, 0] if p.dataset == "digits" else [1, 0, 1, 0])

    monkeypatch.setattr(experiments, "estimate_for_profile", fake)
    values, table = fm.tail_comparison(smoke, 20)
    assert seen == {"digits": ("smoke", 20), "mnist1d": ("mnist1d", 20)}
    assert values["cmp_zero_digits"] == 100 and values["cmp_above_digits"] == 0
    assert values["cmp_zero_mnist1d"] == 50 and values["cmp_above_mnist1d"] == 50
    assert values["cmp_tail_verdict"] == "thicker" and values["cmp_criteria"] == "does not meet"
    assert table.loc["MNIST-1D", "exactly 0 %"] == 50 and list(table.index) == ["digits", "MNIST-1D"]

    monkeypatch.setattr(experiments, "estimate_for_profile",
                        lambda p, k: _scored_runs([1, 0, 0, 0] if p.dataset == "mnist1d" else [0, 0, 0, 0]))
    values, _ = fm.tail_comparison(profiles.get_profile("mnist1d"), 10)
    assert values["cmp_above_mnist1d"] == 25 and values["cmp_zero_mnist1d"] == 75
    assert values["cmp_criteria"] == "does not meet"  # 75% exactly 0 is above the 50% allowed


@pytest.mark.parametrize("mnist1d, verdict, criteria", [
    ([0.5, 0.5, 0.5, 0.5], "not thicker", "does not meet"),  # fewer at 0 but none above 0.5 (digits: 25%)
    ([1, 0.5, 0.5, 0], "not thicker", "meets"),  # 25% at 0, 25% above 0.5: within both criteria
    ([1, 1, 0.5, 0], "thicker", "does not meet"),  # 50% above 0.5 is more than the 40% allowed
])
def test_tail_comparison_needs_both_fewer_zeros_and_more_above_half(monkeypatch, mnist1d, verdict, criteria):
    """"Thicker" needs both conditions (one alone is not enough); the criteria need both shares in range."""
    from rum_core import experiments, profiles

    scores = {"digits": [1, 0, 0, 0], "mnist1d": mnist1d}  # digits: 75% at 0, 25% above 0.5
    monkeypatch.setattr(experiments, "estimate_for_profile", lambda p, k: _scored_runs(scores[p.dataset]))
    values, _ = fm.tail_comparison(profiles.get_profile("smoke"), 10)
    assert (values["cmp_tail_verdict"], values["cmp_criteria"]) == (verdict, criteria)


def test_comparison_model_count_caps_and_rounds_to_the_balanced_design():
    from rum_core import profiles

    assert fm.comparison_model_count(profiles.get_profile("small")) == fm.COMPARISON_MODELS
    assert fm.comparison_model_count(profiles.get_profile("smoke")) == 20
    assert fm.comparison_model_count(profiles.get_profile("smoke", memorization_models=37)) == 30
    with pytest.raises(ValueError, match="memorization_models=None"):
        fm.comparison_model_count(profiles.get_profile("paper"))


def test_split_half_spearman_compares_the_two_halves_of_the_models():
    """Half A (models 0, 1) and half B (models 2, 3) each score every example once in and once out; identical
    halves correlate 1, reversed halves -1, constant halves give NaN (no ranking to compare)."""
    def runs(a, b):  # a, b: per-example (correct when in, correct when out) in each half
        correct = np.zeros((4, 4), bool)
        for half, pairs in ((0, a), (2, b)):
            for i, (when_in, when_out) in enumerate(pairs):
                correct[half + (0 if i < 2 else 1), i] = when_in
                correct[half + (1 if i < 2 else 0), i] = when_out
        return _runs(correct, _HALVES)

    ranked = [(1, 0), (1, 1), (0, 1), (1, 1)]  # estimates 1, 0, -1, 0
    assert runs(ranked, ranked).split_half_spearman() == pytest.approx(1.0)
    assert runs(ranked, [(0, 1), (1, 1), (1, 0), (1, 1)]).split_half_spearman() == pytest.approx(-1.0)
    assert np.isnan(runs([(1, 1)] * 4, ranked).split_half_spearman())


def test_book_time_reads_the_recorded_cold_book_and_judges_it_against_the_budget():
    values = fm.book_time("mnist1d")
    assert values["book_minutes"] > 0 and "CPU cores" in values["book_machine"]
    assert values["book_verdict"] == ("within" if values["book_minutes"] <= fm.BOOK_BUDGET_MINUTES else "over")
    assert "profile 'small'" in values["book_default"]
    with pytest.raises(ValueError, match="no recorded book time for profile 'nosuch'"):
        fm.book_time("nosuch")
    with pytest.raises(ValueError, match="profile's name"):
        fm.book_time("../../cli")
