"""Tests for rum_core.rum (refinement + meta-unlearning) and the RUM grid of rum_core.experiments."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from rum_core import data, experiments, models, partition, profiles, rum, unlearners
from rum_core.metrics import accuracy
from rum_core.stats import mean_ci


@pytest.fixture(scope="module")
def smoke():
    return profiles.get_profile("smoke")


@pytest.fixture(scope="module")
def synthetic_val():
    """The synthetic task with a validation split (what the selection criteria score on)."""
    return data.load("synthetic", seed=0, val_size=40)


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


# ------------------------------------------------------------------------------------------- refinement
def test_refine_sizes_disjoint_cover_and_order():
    """Guards against blocks of unequal size, overlapping or missing examples, and a high → low order."""
    rng = np.random.default_rng(0)
    scores = rng.normal(size=200)
    forget = rng.choice(200, size=50, replace=False)
    parts = rum.refine(forget, scores, k=3)
    assert [len(p) for p in parts] == [17, 17, 16]  # sizes differ by at most one
    union = np.concatenate(parts)
    assert len(np.unique(union)) == len(union) == 50  # disjoint
    np.testing.assert_array_equal(np.sort(union), np.sort(forget))  # covering
    for lo, hi in zip(parts, parts[1:], strict=False):  # every score of block i ≤ every score of block i+1
        assert scores[lo].max() <= scores[hi].min()
    assert all((np.diff(p) > 0).all() for p in parts)  # sorted index arrays


def test_refine_ties_are_broken_by_index():
    """Guards against a non-deterministic order of tied scores (the authors' scripts shuffled before sorting)."""
    scores = np.zeros(12)
    parts = rum.refine(np.arange(12)[::-1], scores, k=3)
    assert [p.tolist() for p in parts] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]


@pytest.mark.parametrize("bad, exc, match", [
    (dict(forget_idx=[0, 0, 1]), ValueError, "duplicated"),
    (dict(forget_idx=[]), ValueError, "empty"),
    (dict(forget_idx=[0.5, 1.0]), TypeError, "integer"),
    (dict(forget_idx=[0, 99]), ValueError, "one score per training example"),
    (dict(k=0), ValueError, "k must be"),
    (dict(k=2.0), TypeError, "k must be an int"),
    (dict(scores=np.array([np.nan] * 10)), ValueError, "NaN"),
    (dict(scores=np.array(["a"] * 10)), TypeError, "numeric"),
])
def test_refine_bad_inputs_name_the_problem(bad, exc, match):
    """Guards against silent nonsense (NaN ranks, repeated examples) instead of an error naming the argument."""
    args = {"forget_idx": [0, 1, 2, 3], "scores": np.arange(10.0), "k": 3, **bad}
    with pytest.raises(exc, match=match):
        rum.refine(args["forget_idx"], args["scores"], args["k"])


def test_shuffle_split_is_seeded_random():
    """Guards against a 'shuffle' that is not random (e.g. sorted blocks) or not reproducible from its seed."""
    forget = np.arange(100, 160)
    a = rum.random_split(forget, 3, seed=4)
    b = rum.random_split(forget[::-1], 3, seed=4)  # input order does not matter
    c = rum.random_split(forget, 3, seed=5)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))
    assert [len(p) for p in a] == [20, 20, 20]
    np.testing.assert_array_equal(np.sort(np.concatenate(a)), forget)
    assert not np.array_equal(a[0], forget[:20])  # not the contiguous blocks a sort would give
    shuffle = rum.shuffle("finetune")
    parts = rum.split_for(shuffle, forget, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(parts, a, strict=True))


# ------------------------------------------------------------------------------------------ retain sets
def test_retain_policies_give_documented_sets():
    """Guards against swapping the policies, or 'processed' dropping future subsets from the retain set."""
    subsets = [np.array([0, 1]), np.array([5]), np.array([7, 8])]
    processed = rum.retain_sets(10, subsets, "processed")
    assert [r.tolist() for r in processed] == [[2, 3, 4, 5, 6, 7, 8, 9], [2, 3, 4, 6, 7, 8, 9], [2, 3, 4, 6, 9]]
    whole = rum.retain_sets(10, subsets, "forget")
    assert all(r.tolist() == [2, 3, 4, 6, 9] for r in whole)
    with pytest.raises(ValueError, match="retain_policy"):
        rum.retain_sets(10, subsets, "future")
    with pytest.raises(ValueError, match="overlap"):
        rum.retain_sets(10, [np.array([0, 1]), np.array([1])])


def test_meta_unlearn_passes_the_policy_retain_sets(synthetic, fitted_mlp, monkeypatch):
    """Guards against meta_unlearn ignoring its retain policy when it calls each step's unlearner."""
    seen = []
    original_call = unlearners.Unlearner.__call__

    def spy(self, model, bundle, forget_idx, retain_idx=None, **kw):
        seen.append((np.asarray(forget_idx).tolist(), np.asarray(retain_idx).tolist()))
        return original_call(self, model, bundle, forget_idx, retain_idx, **kw)

    monkeypatch.setattr(unlearners.Unlearner, "__call__", spy)
    n = len(synthetic.train)
    subsets = [np.arange(0, 5), np.arange(5, 10), np.arange(10, 15)]
    for policy in rum.RETAIN_POLICIES:
        seen.clear()
        rum.meta_unlearn(fitted_mlp, synthetic, subsets, "identity", retain_policy=policy)
        expected = rum.retain_sets(n, subsets, policy)
        assert [s[0] for s in seen] == [s.tolist() for s in subsets]
        assert [s[1] for s in seen] == [r.tolist() for r in expected]


# ------------------------------------------------------------------------------------- meta-unlearning
def test_rum_f_equals_three_calls_by_hand(synthetic, fitted_mlp):
    """Guards against a pipeline that restarts every step from θᵒ, reorders subsets, or changes seeds:
    RUM^F must give bit-identical weights to calling the method three times in sequence by hand."""
    rng = np.random.default_rng(1)
    scores = rng.random(len(synthetic.train))
    forget = np.arange(30)
    variant = rum.rum_f("finetune", epochs=2, lr=0.05, batch_size=32)
    result = rum.run_variant(variant, fitted_mlp, synthetic, forget, scores, seed=3)

    parts = rum.refine(forget, scores, 3)
    method = unlearners.make("finetune", epochs=2, lr=0.05, batch_size=32)
    model, done = fitted_mlp, np.zeros(0, dtype=np.int64)
    for part in parts:
        done = np.union1d(done, part)
        model = method(model, synthetic, part, np.setdiff1d(np.arange(len(synthetic.train)), done), seed=3).model
    assert _same_weights(result.model, model)
    assert not _same_weights(result.model, fitted_mlp)  # something happened, and the input is untouched
    recs = result.records()
    assert recs["level"].tolist() == ["low", "medium", "high"] and (recs["method"] == "finetune").all()
    assert result.grad_evals == recs["grad_evals"].sum() > 0
    assert recs[["acc_subset", "acc_forget", "acc_retain", "acc_test"]].apply(lambda c: c.between(0, 1)).all().all()


def test_meta_unlearn_does_not_mutate_input(synthetic, fitted_mlp):
    """Guards against a step editing the caller's model in place."""
    before = {k: v.clone() for k, v in fitted_mlp.state_dict().items()}
    rum.meta_unlearn(fitted_mlp, synthetic, [np.arange(5), np.arange(5, 9)], ("neggrad", {"epochs": 1}))
    assert all(torch.equal(before[k], v) for k, v in fitted_mlp.state_dict().items())


def test_authors_rum_and_variants():
    """Guards against the named configurations drifting from the paper's definitions."""
    r = rum.rum()
    assert [s.method for s in r.steps] == ["identity", "finetune", "salun"] and r.split == "score"
    assert rum.vanilla("salun").split == "none" and rum.shuffle("salun").split == "shuffle"
    assert rum.rum_f("salun", lr=0.2).steps[0].hparams == {"lr": 0.2}
    ho = rum.high_only("salun")
    assert [s.method for s in ho.steps] == ["identity", "identity", "salun"] and ho.name == "high_only"
    # the ablation keeps its method's hyperparameters and the chosen retain policy (fails if either is dropped)
    ho = rum.high_only("salun", retain_policy="forget", lr=0.2)
    assert ho.steps[2].hparams == {"lr": 0.2} and ho.retain_policy == "forget"
    assert rum.shuffle("salun", retain_policy="forget").retain_policy == "forget"
    assert rum.rum_f("salun", retain_policy="forget").retain_policy == "forget"
    # RUM refines into as many subsets as it has steps, under the chosen policy
    two = rum.rum(("finetune", "salun"), retain_policy="forget")
    assert two.k == 2 and two.retain_policy == "forget"
    assert rum.rum_f("salun", k=4).k == 4 and rum.shuffle("salun", k=2).k == 2
    assert rum.rum_f("salun").as_dict() == {"name": "rum_f", "split": "score", "k": 3, "retain_policy": "processed",
                                            "steps": [{"method": "salun"}]}
    tuned = r.with_hparams(lr=0.3)
    assert tuned.steps[0].hparams == {} and all(s.hparams["lr"] == 0.3 for s in tuned.steps[1:])


@pytest.mark.parametrize("make_bad, exc, match", [
    (lambda: rum.Step("retrain"), ValueError, "reference"),
    (lambda: rum.Step("finetune", {"nope": 1}), ValueError, "unknown hyperparameter"),
    (lambda: rum.Step(3), TypeError, "registry name"),
    (lambda: rum.Variant("x", "sorted", ("finetune",)), ValueError, "split must be"),
    (lambda: rum.Variant("x", "score", ("finetune", "salun")), ValueError, "2 steps for 3 subsets"),
    (lambda: rum.rum_f("finetune", retain_policy="all"), ValueError, "retain_policy"),
])
def test_bad_configurations_raise(make_bad, exc, match):
    """Guards against configurations that would fail (or silently misbehave) only mid-experiment."""
    with pytest.raises(exc, match=match):
        make_bad()


def test_meta_unlearn_bad_inputs(synthetic, fitted_mlp):
    """Guards against mismatched steps/subsets or a missing score vector being accepted."""
    with pytest.raises(ValueError, match="2 steps for 3 subsets"):
        rum.meta_unlearn(fitted_mlp, synthetic, [np.arange(2), np.arange(2, 4), np.arange(4, 6)],
                         ["identity", "identity"])
    with pytest.raises(TypeError, match="bundle"):
        rum.meta_unlearn(fitted_mlp, "data", [np.arange(2)], "identity")
    with pytest.raises(ValueError, match="pass scores"):
        rum.run_variant(rum.rum_f("finetune"), fitted_mlp, synthetic, np.arange(6))


def test_selection_oracle_and_held_out(synthetic, synthetic_val, fitted_mlp):
    """Guards against the selector ignoring its criterion: with a criterion that rewards low forget-subset
    confidence, the forgetting method must win over doing nothing; ties go to the earlier candidate."""
    subsets = [np.arange(0, 6), np.arange(6, 12)]
    cands = ["identity", ("neggrad", {"epochs": 3, "lr": 0.5})]
    tr = synthetic.train

    def low_forget_acc(model, subset, _retain):  # minus the mean true-label confidence on the subset
        with torch.no_grad():
            p = torch.softmax(model(tr.x[subset]), dim=1)
        return -float(p[torch.arange(len(subset)), tr.y[subset]].mean())

    sel = rum.select_steps(fitted_mlp, synthetic, subsets, cands, low_forget_acc)
    assert [s.method for s in sel.steps] == ["neggrad", "neggrad"]
    # the result is the chosen pipeline, exactly as meta_unlearn runs it
    again = rum.meta_unlearn(fitted_mlp, synthetic, subsets, sel.steps)
    assert _same_weights(sel.result.model, again.model)
    pd.testing.assert_frame_equal(sel.result.records().drop(columns="seconds"), again.records().drop(columns="seconds"))
    assert len(sel.scores) == 4 and set(sel.scores["method"]) == {"identity", "neggrad"}
    sel = rum.select_steps(fitted_mlp, synthetic, subsets, cands, lambda *a: 0.0)
    assert [s.method for s in sel.steps] == ["identity", "identity"]
    # the two library criteria run and return ToW-like values in [0, 1]
    forget = np.arange(12)
    oracle = rum.oracle_criterion(fitted_mlp, synthetic_val, forget)
    assert oracle(fitted_mlp, subsets[0], None) == pytest.approx(1.0)  # a model vs itself
    held = rum.held_out_criterion(fitted_mlp, synthetic_val, forget, np.full(len(synthetic_val.train), 0.5))
    assert 0.0 <= held(fitted_mlp, subsets[0], None) <= 1.0
    with pytest.raises(ValueError, match="p_out"):
        rum.held_out_criterion(fitted_mlp, synthetic_val, forget, np.zeros(3))
    with pytest.raises(ValueError, match="validation split"):  # never falls back to the reported test set
        rum.oracle_criterion(fitted_mlp, synthetic, forget)


def test_select_steps_runs_every_candidate_with_the_policy_retain_set_and_seed(synthetic, fitted_mlp, monkeypatch):
    """A spy on every unlearner call and every criterion call. Catches: the selector ignoring its retain
    policy (or passing no retain set, so step 2 would retain step 1's forgotten subset), dropping the seed,
    scoring with another retain set than the one unlearned with, and a result that forgets its policy."""
    calls, judged = [], []
    original_call = unlearners.Unlearner.__call__

    def spy(self, model, bundle, forget_idx, retain_idx=None, **kw):
        calls.append((self.name, np.asarray(forget_idx).tolist(), np.asarray(retain_idx).tolist(), kw["seed"]))
        return original_call(self, model, bundle, forget_idx, retain_idx, **kw)

    def criterion(model, subset, retain):
        judged.append((np.asarray(subset).tolist(), np.asarray(retain).tolist()))
        return float(len(judged) % 2)  # the second candidate of each step wins

    monkeypatch.setattr(unlearners.Unlearner, "__call__", spy)
    n = len(synthetic.train)
    subsets = [np.arange(0, 5), np.arange(5, 10)]
    cands = ["identity", ("finetune", {"epochs": 1, "lr": 0.01, "batch_size": 64})]
    for policy in rum.RETAIN_POLICIES:
        calls.clear()
        judged.clear()
        sel = rum.select_steps(fitted_mlp, synthetic, subsets, cands, criterion, retain_policy=policy, seed=7)
        retains = [r.tolist() for r in rum.retain_sets(n, subsets, policy)]
        expected = [(m, subsets[i].tolist(), retains[i], 7) for i in range(2) for m in ("identity", "finetune")]
        assert calls == expected
        assert judged == [(c[1], c[2]) for c in calls]
        assert [s.method for s in sel.steps] == ["identity", "identity"]  # scores 1, 0 then 1, 0
        assert sel.result.retain_policy == policy
        assert sel.scores[["step", "level", "candidate", "method", "score"]].values.tolist() == [
            [0, "part1", 0, "identity", 1.0], [0, "part1", 1, "finetune", 0.0],
            [1, "part2", 0, "identity", 1.0], [1, "part2", 1, "finetune", 0.0]]
        assert {"seconds", "grad_evals"} <= set(sel.scores.columns)
        assert sel.scores["grad_evals"].tolist() == [0, len(retains[0]), 0, len(retains[1])]  # 1 epoch on R_i


def test_criteria_say_whether_they_need_a_retrained_model(synthetic_val, fitted_mlp):
    """The experiment layer trains a retrained reference only for a criterion that needs one: the oracle
    does, the held-out criterion must not (its point is to select without retraining)."""
    forget = np.arange(12)
    assert rum.oracle_criterion(fitted_mlp, synthetic_val, forget).needs_retrain is True
    held = rum.held_out_criterion(fitted_mlp, synthetic_val, forget, np.full(len(synthetic_val.train), 0.5))
    assert held.needs_retrain is False


def _criterion_case(bundle, model_seeds, subsets):
    """Two untrained MLPs (accuracies differ from subset to subset and from split to split), the forget set
    made of ``subsets`` and the retain set of the rest."""
    first, second = (models.build("mlp", bundle, seed=s, hidden=(8,)) for s in model_seeds)
    forget = np.concatenate(subsets)
    return first, second, forget, np.setdiff1d(np.arange(len(bundle.train)), forget)


def test_held_out_criterion_is_hand_computable(synthetic_val):
    """The held-out score of a candidate is (1 − |a(S_i) − mean p_out(S_i)|)(1 − |a(R) − aᵒ(R)|)(1 − |a(val) − aᵒ(val)|).
    Catches: ignoring p_out (target 1.0 for every subset); scoring the whole forget set instead of the subset;
    reading the test set instead of the validation split."""
    b = synthetic_val
    tr, val = b.train, b.val
    subsets = [np.arange(0, 20), np.arange(20, 40)]
    original, candidate, forget, retain = _criterion_case(b, (3, 4), subsets)
    acc = accuracy
    p_out = np.full(len(tr), 0.9)
    p_out[subsets[0]], p_out[subsets[1]] = 0.2, 0.7
    crit = rum.held_out_criterion(original, b, forget, p_out)
    for subset, target in zip(subsets, (0.2, 0.7), strict=True):
        a_sub = acc(candidate, tr.x[subset], tr.y[subset])
        expected = ((1 - abs(a_sub - target))
                    * (1 - abs(acc(candidate, tr.x[retain], tr.y[retain]) - acc(original, tr.x[retain], tr.y[retain])))
                    * (1 - abs(acc(candidate, val.x, val.y) - acc(original, val.x, val.y))))
        assert crit(candidate, subset, None) == pytest.approx(expected, abs=1e-12)
    # the subset's own accuracy matters, not the whole forget set's: the two differ here
    assert acc(candidate, tr.x[subsets[0]], tr.y[subsets[0]]) != acc(candidate, tr.x[forget], tr.y[forget])
    # the original model against itself: only the subset factor is left, and it is 1 − |a − p_out|
    a0 = acc(original, tr.x[subsets[0]], tr.y[subsets[0]])
    assert crit(original, subsets[0], None) == pytest.approx(1 - abs(a0 - 0.2))
    # the validation split, not the test set: here the two would give different third factors
    assert (abs(acc(candidate, b.test.x, b.test.y) - acc(original, b.test.x, b.test.y))
            != abs(acc(candidate, val.x, val.y) - acc(original, val.x, val.y)))


def test_oracle_criterion_targets_the_retrained_model_on_the_subset(synthetic_val):
    """Catches: the oracle's targets taken from the wrong model, or from the whole forget set."""
    b = synthetic_val
    tr, val = b.train, b.val
    subsets = [np.arange(0, 10), np.arange(10, 40)]
    reference, candidate, forget, retain = _criterion_case(b, (5, 6), subsets)
    crit = rum.oracle_criterion(reference, b, forget)
    for subset in subsets:
        expected = 1.0
        for x, y in ((tr.x[subset], tr.y[subset]), (tr.x[retain], tr.y[retain]), (val.x, val.y)):
            expected *= 1 - abs(accuracy(candidate, x, y) - accuracy(reference, x, y))
        assert crit(candidate, subset, None) == pytest.approx(expected, abs=1e-12)
    assert crit(candidate, subsets[0], None) != pytest.approx(crit(candidate, subsets[1], None))


def test_paper_table_is_the_published_one():
    """Guards against typos in the published constants (spot checks against Table 1 of the paper)."""
    t = rum.paper_table("cifar10").set_index(["method", "variant"])
    assert t.loc[("rum", "rum"), "tow"] == 0.965 and t.loc[("salun", "rum_f"), "mia_gap"] == 0.031
    assert rum.PAPER_TABLE["cifar100"][("neggrad_plus", "rum_f")]["tow"] == 0.921
    with pytest.raises(ValueError, match="dataset"):
        rum.paper_table("mnist")


def test_paper_layout_formats_ours_beside_the_papers():
    """Hand-written expected cells: "mean ± half-width" for ours, the paper's Table 1 beside them, "" for a row
    the paper lacks, both cost columns named, and none of them when ``cost=False`` or no paper is asked."""
    summary = pd.DataFrame({"label": ["rum", "finetune vanilla", "identity"],
                            "tow": [0.91234, 0.5, 0.25], "tow_ci": [0.01, 0.02, np.nan],
                            "mia_gap": [0.1, 0.2, np.nan], "mia_gap_ci": [0.05, 0.0, np.nan],
                            "rel_grad_evals": [0.5, 0.25, 0.0], "rel_grad_evals_ci": [0.0, 0.0, 0.0],
                            "rel_refine_grad_evals": [739.0, 0.0, 0.0], "rel_refine_grad_evals_ci": [0.0, 0.0, 0.0]})
    table = rum.paper_layout(summary, dataset="cifar100", digits=2)
    assert list(table.columns) == ["ToW", "MIA gap", "unlearning cost / retrain", "refinement cost / retrain",
                                   "paper ToW (CIFAR-100)", "paper MIA gap (CIFAR-100)"]
    assert table.loc["rum"].tolist() == ["0.91 ± 0.01", "0.10 ± 0.05", "0.50 ± 0.00", "739.00 ± 0.00",
                                         "0.92 ± 0.03", "0.06"]
    assert table.loc["finetune vanilla", "paper ToW (CIFAR-100)"] == "0.73 ± 0.03"
    assert table.loc["identity"].tolist()[:2] == ["0.25", "unknown"] and table.loc["identity"].tolist()[-2:] == ["", ""]
    assert list(rum.paper_layout(summary, dataset=None, cost=False).columns) == ["ToW", "MIA gap"]
    with pytest.raises(ValueError, match="dataset"):
        rum.paper_layout(summary, dataset="mnist")


# ------------------------------------------------------------------------------------------- RUM grid
def test_rum_grid_rows_and_intervals(smoke):
    """Guards against a wrong table: the intervals must be hand-computed Student-t intervals over seeds, the
    retrain rows must score perfectly, and the cells named as asked."""
    cells = experiments.rum_cells(["finetune"], ["vanilla", "rum_f"], profile=smoke)
    runs = experiments.rum_runs(smoke, cells, seeds=[0, 1, 2])
    assert runs["label"].drop_duplicates().tolist() == ["retrain", "finetune vanilla", "finetune rum_f", "rum"]
    assert len(runs) == 12
    ref = runs[runs["label"] == "retrain"]
    np.testing.assert_array_equal(ref["tow"], 1.0)
    np.testing.assert_array_equal(ref["rel_grad_evals"], 1.0)
    assert runs.loc[runs["label"] == "rum", "steps"].eq("identity+finetune+salun").all()
    table = experiments.rum_table(runs).set_index("label")
    for label, group in runs.groupby("label"):
        x = group["tow"].to_numpy()
        half = stats.t.ppf(0.975, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
        assert table.loc[label, "tow"] == pytest.approx(x.mean())
        assert table.loc[label, "tow_ci"] == pytest.approx(half, nan_ok=True)
        assert (table.loc[label, "tow"], table.loc[label, "tow_ci"]) == pytest.approx(mean_ci(x), nan_ok=True)
    # the forget set is the paper's three memorization levels, n each, the same for every seed
    mem = experiments.memorization_scores(smoke)
    forget = experiments.rum_forget_set(smoke, mem.scores)
    n = smoke.memorization_group_size
    assert len(forget) == 3 * n
    levels = experiments.rum_forget_groups(smoke, mem.scores)
    assert list(levels) == ["low", "medium", "high"] and all(len(v) == n for v in levels.values())
    np.testing.assert_array_equal(np.sort(np.concatenate(list(levels.values()))), forget)
    s = mem.scores
    assert s[levels["low"]].max() <= s[levels["medium"]].min() and s[levels["medium"]].max() <= s[levels["high"]].min()
    # cost: refining rows carry the memorization estimate's cost beside their own; the others carry none
    refining = runs["variant"].isin(["rum_f", "rum"])
    np.testing.assert_allclose(runs.loc[refining, "refine_grad_evals"], mem.grad_evals)
    assert (runs.loc[~refining, "refine_grad_evals"] == 0).all()
    np.testing.assert_allclose(runs["rel_total_grad_evals"], runs["rel_grad_evals"] + runs["rel_refine_grad_evals"])
    assert (table.loc["rum", "rel_refine_grad_evals"] > 1).all()  # the estimate costs more than one retrain
    # equal-sized levels: forget accuracy is the mean of the three level accuracies, for every row
    by_level = runs[["forget_low", "forget_medium", "forget_high"]].mean(axis=1)
    np.testing.assert_allclose(by_level, runs["forget"], atol=1e-12)
    seed0 = runs[runs["seed"] == 0].set_index("label")
    assert seed0.loc["retrain", "forget_high"] < seed0.loc["retrain", "forget_low"]  # high = memorized


def test_rum_grid_resumes_after_interruption(smoke, monkeypatch):
    """Guards against an interrupted grid losing finished cells: after a crash in the third cell, a rerun
    must reuse the first cells and compute only the missing ones."""
    cells = experiments.rum_cells(["l1_sparse"], ["vanilla", "shuffle"], profile=smoke, include_rum=False)
    calls = []
    real = rum.run_variant

    def flaky(variant, *a, **k):
        calls.append(variant.name)
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated interruption")
        return real(variant, *a, **k)

    monkeypatch.setattr(rum, "run_variant", flaky)
    with pytest.raises(KeyboardInterrupt):
        experiments.rum_runs(smoke, cells, seeds=[5])
    assert calls == ["vanilla", "shuffle"]

    def must_not_rerun(variant, *a, **k):
        if variant.name == "vanilla":
            pytest.fail("a finished cell was recomputed")
        return real(variant, *a, **k)

    monkeypatch.setattr(rum, "run_variant", must_not_rerun)
    first = experiments.rum_runs(smoke, cells, seeds=[5])
    assert first["label"].tolist() == ["retrain", "l1_sparse vanilla", "l1_sparse shuffle"]
    monkeypatch.setattr(rum, "run_variant", lambda *a, **k: pytest.fail("recomputed"))
    monkeypatch.setattr(experiments, "original_model", lambda *a, **k: pytest.fail("recomputed"))
    again = experiments.rum_runs(smoke, cells, seeds=[5])
    pd.testing.assert_frame_equal(first, again)


def test_rum_tune_gives_every_cell_the_same_budget(smoke):
    """Guards against an unfair comparison: every cell must try exactly the same number of configurations,
    and the chosen one must be the best on the tuning seeds."""
    cells = experiments.rum_cells(["finetune"], ["vanilla"], profile=smoke)
    tuned, trials = experiments.rum_tune(smoke, cells, {"lr": [0.01, 0.05]}, tune_seeds=[7])
    assert trials.groupby("label").size().tolist() == [2, 2]
    for label, group in trials.groupby("label"):
        best = group.loc[group["tow"].idxmax()]
        assert best["chosen"]
        steps = [s for s in tuned[label].steps if s.method != "identity"]
        assert all(s.hparams["lr"] == best["lr"] for s in steps)


def test_rum_grid_bad_inputs(smoke):
    """Guards against typos in variant names or refinement scores running (and caching) a wrong grid."""
    with pytest.raises(ValueError, match="unknown variant"):
        experiments.rum_cells(["finetune"], ["vanila"])
    with pytest.raises(ValueError, match="refine_by"):
        experiments.rum_runs(smoke, seeds=[0], refine_by="entropy")
    with pytest.raises(ValueError, match="seeds is empty"):
        experiments.rum_runs(smoke, seeds=[])
    with pytest.raises(TypeError, match="Variant"):
        experiments.rum_runs(smoke, {"x": "finetune"}, seeds=[0])


def test_rum_selection_rows(smoke):
    """Guards against the selectors reporting a recipe they did not run: the chosen steps name one candidate
    per subset, the search cost covers every candidate on every subset, and the oracle needs no p_out."""
    sel = experiments.rum_selection(smoke, ("identity", "finetune"), seeds=[0])
    assert sel["label"].tolist() == ["select oracle", "select held_out"]
    for steps in sel["steps"]:
        parts = steps.split("+")
        assert len(parts) == 3 and set(parts) <= {"identity", "finetune"}
    assert (sel["search_grad_evals"] >= sel["grad_evals"]).all()
    assert sel["tow"].between(0, 1).all()
    with pytest.raises(ValueError, match="criteria"):
        experiments.rum_selection(smoke, seeds=[0], criteria=["magic"])


def test_memorization_scores_from_our_estimate_count_its_cost(smoke):
    mem = experiments.memorization_scores(smoke)
    runs = experiments.estimate_for_profile(smoke, smoke.memorization_models)
    np.testing.assert_array_equal(mem.scores, runs.estimate.scores)
    np.testing.assert_array_equal(mem.p_out, runs.estimate.p_out)
    assert mem.grad_evals == runs.included.sum() * smoke.train.epochs
    assert f"{smoke.memorization_models} models" in mem.source


def test_profile_without_memorization_models_uses_published_scores(smoke, tmp_path, monkeypatch):
    """The paper-profile route on digits: no models are trained; forget sets and refinement follow the
    published file (here 1 − C-scores made from the smoke estimate, reversed so that levels swap)."""
    published = dataclasses.replace(smoke, name="published", memorization_models=None)
    monkeypatch.delenv(experiments.MEMORIZATION_SCORES_ENV, raising=False)
    with pytest.raises(ValueError, match="RUM_MEMORIZATION_SCORES=<path>"):
        experiments.memorization_scores(published)
    ours = experiments.memorization_scores(smoke).scores
    # our estimate written as C-scores (clipped to [0, 1], as C-scores are): the published levels swap
    cscores = np.clip(np.nan_to_num(ours, nan=0.5), 0.0, 1.0)
    path = tmp_path / "digits-cscores.npz"
    bundle = experiments.load_data(smoke)
    source_scores = np.full(len(bundle.source_labels()), 0.5)
    source_scores[bundle.source_positions()] = cscores
    np.savez(path, labels=bundle.source_labels(), scores=source_scores)
    monkeypatch.setenv(experiments.MEMORIZATION_SCORES_ENV, str(path))
    got = experiments.memorization_scores(published)
    np.testing.assert_allclose(got.scores, 1 - cscores)
    levels = experiments.rum_forget_groups(published, got.scores)
    assert got.scores[levels["high"]].min() >= got.scores[levels["low"]].max()
    ours_levels = experiments.rum_forget_groups(smoke, ours)
    assert np.nanmean(ours[levels["high"]]) < np.nanmean(ours[ours_levels["high"]])
    cells = experiments.rum_cells(["finetune"], ["rum_f"], profile=published, include_rum=False)
    runs = experiments.rum_runs(published, cells, seeds=[0])
    assert runs["label"].tolist() == ["retrain", "finetune rum_f"]
    assert runs["forget"].notna().all()
    with pytest.raises(ValueError, match="p_out is unknown"):
        fz = tmp_path / "fz.npz"
        np.savez(fz, tr_mem=1 - source_scores, tr_labels=bundle.source_labels())
        monkeypatch.setenv(experiments.MEMORIZATION_SCORES_ENV, str(fz))
        experiments.rum_selection(published, seeds=[0], criteria=["held_out"])


def test_rum_forget_groups_are_the_papers_construction_and_tuning_is_disjoint(smoke):
    """Hand-computed on 12 evenly spread scores with n = 2: low = the 2 lowest, high = the 2 highest, medium =
    the 2 closest to 0.5; the tuning set is the same construction on the rest. Catches: levels drawn from
    wider pools (a "medium" with scores far from 0.5), and tuning sets that overlap the reported one."""
    p = dataclasses.replace(smoke, memorization_group_size=2)
    scores = np.arange(12) / 11
    report = experiments.rum_forget_groups(p, scores)
    assert {k: v.tolist() for k, v in report.items()} == {"low": [0, 1], "medium": [5, 6], "high": [10, 11]}
    tune = experiments.rum_forget_groups(p, scores, "tune")
    assert {k: v.tolist() for k, v in tune.items()} == {"low": [2, 3], "medium": [4, 7], "high": [8, 9]}
    np.testing.assert_array_equal(experiments.rum_forget_set(p, scores), [0, 1, 5, 6, 10, 11])
    with pytest.raises(ValueError, match="which"):
        experiments.rum_forget_groups(p, scores, "test")
    # on the real estimate: medium is the n nearest 0.5 (every other non-extreme example is farther away)
    s = experiments.memorization_scores(smoke).scores
    groups = experiments.rum_forget_groups(smoke, s)
    n = smoke.memorization_group_size
    order = np.lexsort((np.arange(len(s)), s))
    middle = np.setdiff1d(order[n:-n], groups["medium"])
    assert np.abs(s[groups["medium"]] - 0.5).max() <= np.abs(s[middle] - 0.5).min()
    # the choice of tuning set: disjoint where its levels are like the reported ones, else the reported one
    assert experiments.rum_tuning_forget_set(dataclasses.replace(smoke, memorization_group_size=2),
                                             np.linspace(0, 1, 400)) == "tune"
    assert experiments.rum_tuning_forget_set(p, scores) == "tune"  # evenly spread: the next ones are alike
    few_memorized = np.r_[np.zeros(20), [0.3, 0.4, 0.6, 0.9, 0.95, 1.0]]  # digits-like: the tuning "high" is
    assert experiments.rum_tuning_forget_set(p, few_memorized) == "report"  # {0.3, 0.9}, nearest "medium"
    tuned = experiments.rum_forget_set(smoke, s, "tune")
    assert np.intersect1d(tuned, experiments.rum_forget_set(smoke, s)).size == 0
    ranges = partition.group_ranges(s, groups).set_index("level")
    assert ranges.loc["medium", "min"] < 0.5 < ranges.loc["medium", "max"] or ranges.loc["medium", "max"] < 0.5


def test_rum_tune_unlearns_the_tuning_forget_set(smoke, monkeypatch):
    """Catches: tuning trials that unlearn (some of) the reported forget set."""
    seen = []
    real = rum.run_variant

    def spy(variant, model, bundle, forget_idx, *a, **k):
        seen.append(np.asarray(forget_idx))
        return real(variant, model, bundle, forget_idx, *a, **k)

    monkeypatch.setattr(rum, "run_variant", spy)
    cells = experiments.rum_cells(["finetune"], ["vanilla"], profile=smoke, include_rum=False)
    experiments.rum_tune(smoke, cells, {"lr": [0.02]}, tune_seeds=[11], use_cache=False)
    reported = experiments.rum_forget_set(smoke, experiments.memorization_scores(smoke).scores)
    assert seen and all(np.intersect1d(f, reported).size == 0 for f in seen)


def test_rum_selection_held_out_never_touches_the_retrained_model(smoke, monkeypatch):
    """A spy on the retrained model: the held-out selector must be built from the ORIGINAL model and never run
    the retrained one; the oracle must be built from the retrained one. Catches: held_out_criterion(reference)
    and oracle_criterion(original) in experiments.rum_selection."""
    seen, built = {}, {}
    real_call = experiments._RumContexts.__call__

    def call(self, seed):
        ctx = real_call(self, seed)
        if "reference_calls" not in ctx:  # hook after the reference's own report was computed
            ctx["reference_calls"] = calls = []
            ctx["reference"].model.register_forward_hook(lambda *a: calls.append(1))
        seen["ctx"] = ctx
        return ctx

    monkeypatch.setattr(experiments._RumContexts, "__call__", call)
    def spy_on(name):
        real = getattr(rum, name)

        def spy(model, *a, **k):
            built[name] = model
            return real(model, *a, **k)
        monkeypatch.setattr(rum, name, spy)

    spy_on("oracle_criterion")
    spy_on("held_out_criterion")
    experiments.rum_selection(smoke, ("identity", "finetune"), seeds=[3], criteria=["held_out"], use_cache=False)
    ctx = seen["ctx"]
    assert built["held_out_criterion"] is ctx["original"]
    assert ctx["reference_calls"] == []
    experiments.rum_selection(smoke, ("identity", "finetune"), seeds=[3], criteria=["oracle"], use_cache=False)
    ctx = seen["ctx"]
    assert built["oracle_criterion"] is ctx["reference"].model and ctx["reference_calls"]


@pytest.mark.parametrize("proxy", ["confidence", "cumulative_loss"])
def test_proxy_refinement_is_oriented(smoke, proxy):
    """The proxy-refined "high" subset must hold the most memorized examples, whichever way the raw proxy
    points (confidence is HIGH for low memorization, cumulative loss the other way round). Catches: refining
    by the raw proxy columns without orient_proxies."""
    mem = experiments.memorization_scores(smoke)
    bundle = experiments.load_data(smoke)
    forget = experiments.rum_forget_set(smoke, mem.scores)
    scores, cost = experiments._refine_scores(smoke, bundle, proxy, 0, mem)
    low, _, high = rum.refine(forget, scores, 3)
    assert mem.scores[high].mean() > mem.scores[low].mean() + 0.2
    assert cost == smoke.train.epochs * len(bundle.train)  # one training run, no holdout


def test_rum_tune_records_a_diverging_configuration_and_never_chooses_it(smoke, monkeypatch):
    """Catches: one diverging learning rate in the grid crashing the whole tuning (the book's grid has rates
    that diverge for some models), a NaN mean winning the argmax, or a configuration that diverged on one
    seed scored by the seeds it finished."""
    real = rum.run_variant
    bad_seeds = {13}

    def run(variant, *a, seed=0, **k):
        if seed in bad_seeds and any(s.hparams.get("lr") == 0.5 for s in variant.steps):
            raise FloatingPointError("diverged (test)")
        return real(variant, *a, seed=seed, **k)

    monkeypatch.setattr(rum, "run_variant", run)
    cells = experiments.rum_cells(["finetune"], ["vanilla"], profile=smoke, include_rum=False)
    tuned, trials = experiments.rum_tune(smoke, cells, {"lr": [0.5, 0.02]}, tune_seeds=[12, 13], use_cache=False)
    bad = trials[trials["lr"] == 0.5].iloc[0]
    assert bad["diverged"] and np.isnan(bad["tow"]) and not bad["chosen"]
    assert all(s.hparams["lr"] == 0.02 for s in tuned["finetune vanilla"].steps)
    bad_seeds.add(12)
    with pytest.raises(ValueError, match="every configuration"):
        experiments.rum_tune(smoke, cells, {"lr": [0.5]}, tune_seeds=[12], use_cache=False)
    with pytest.raises(FloatingPointError):  # outside tuning a divergence still stops the run
        experiments.rum_runs(smoke, experiments.rum_cells(["finetune"], ["vanilla"], profile=smoke,
                                                          include_rum=False, hparams={"finetune": {"lr": 0.5}}),
                             seeds=[12], use_cache=False)
