"""Membership-inference metrics: hand-computed values, numerics, known-answer attacks, wiring, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import norm

from rum_core import data, training
from rum_core.metrics import (
    SVC_PARAMS,
    Evaluation,
    attack_summary,
    auc,
    confidences,
    evaluate,
    leave_one_out_lira,
    leave_one_out_ulira,
    lira_scores,
    logit_confidence,
    loss_mia_auc,
    membership_split,
    mia_efficacy,
    mia_gap,
    model_logits,
    roc_curve,
    split_accuracies,
    tow,
    tow_mia,
    tpr_at_fpr,
    true_label_confidence,
    true_label_loss,
    ulira_scores,
)

P3 = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3]])


# ------------------------------------------------------------------------------------ per-example features
def test_true_label_confidence_picks_the_label_column():
    """Guards against taking the max probability (the prediction) instead of the true label's probability."""
    np.testing.assert_allclose(true_label_confidence(P3, [0, 2]), [0.7, 0.3])
    np.testing.assert_allclose(true_label_confidence(P3, np.array([1, 1])), [0.2, 0.6])


def test_logit_confidence_hand_values():
    """Guards against log(p/(1-p)) with the wrong 'rest' (e.g. the max other class instead of their sum)."""
    got = logit_confidence(P3, [0, 2])
    np.testing.assert_allclose(got, [math.log(0.7 / 0.3), math.log(0.3 / 0.7)], rtol=1e-12)


def test_logit_confidence_is_exact_near_one_and_near_zero():
    """Guards against computing 1 - p_y (cancellation at p_y → 1) or log(max(p, eps)) with a coarse eps."""
    probs = np.array([[1 - 1e-12, 6e-13, 4e-13], [1e-300, 0.5, 0.5]])
    got = logit_confidence(probs, [0, 0])
    assert got[0] == pytest.approx(math.log(1e12) - 1e-12, abs=1e-9)  # naive 1 - p is off by ~9e-5
    assert got[1] == pytest.approx(math.log(1e-300), rel=1e-12)
    # A probability of exactly 0 or 1 saturates at ±log(tiny) instead of returning ±inf / NaN.
    sat = logit_confidence(np.array([[1.0, 0.0], [0.0, 1.0]]), [0, 0])
    assert np.isfinite(sat).all() and sat[0] == pytest.approx(708.396, abs=1e-3) and sat[1] == -sat[0]


def test_logit_confidence_from_logits_matches_and_does_not_saturate():
    """Guards against overflow in exp(logits) and against a from_logits path that disagrees with probs."""
    z = np.array([[2.0, 0.5, -1.0], [1000.0, 0.0, 0.0], [-800.0, 0.0, 3.0]])
    got = logit_confidence(z, [0, 0, 0], from_logits=True)
    assert got[1] == pytest.approx(1000 - math.log(2), rel=1e-14)
    assert got[2] == pytest.approx(-800 - math.log(1 + math.exp(3)), rel=1e-14)
    probs = torch.softmax(torch.tensor(z[:1]), dim=1).numpy()
    assert got[0] == pytest.approx(logit_confidence(probs, [0])[0], rel=1e-12)


def test_true_label_loss_is_cross_entropy_and_precise():
    """Guards against -log(p) losing relative precision for confident examples, and wrong sign/labels."""
    np.testing.assert_allclose(true_label_loss(P3, [0, 2]), [-math.log(0.7), -math.log(0.3)], rtol=1e-12)
    tiny = true_label_loss(np.array([[1 - 1e-12, 6e-13, 4e-13]]), [0])[0]
    assert tiny == pytest.approx(1e-12, rel=1e-9)
    z = torch.tensor([[3.0, -1.0, 0.5]], dtype=torch.float64)
    ce = torch.nn.functional.cross_entropy(z, torch.tensor([2])).item()
    assert true_label_loss(z, [2], from_logits=True)[0] == pytest.approx(ce, rel=1e-12)


def test_float32_softmax_rows_are_accepted():
    """Guards against a tolerance so tight that genuine float32 softmax output is rejected."""
    z = torch.randn(500, 100, generator=torch.Generator().manual_seed(0)) * 10
    probs = torch.softmax(z, dim=1).numpy()  # float32, rows off 1 by a few 1e-7
    assert true_label_confidence(probs, np.zeros(500, dtype=np.int64)).shape == (500,)


# ------------------------------------------------------------------------------------------------ SVC MIA
def test_svc_params_are_the_papers():
    """Guards against drifting from SalUn's attacker (C=3, gamma='auto', RBF)."""
    assert SVC_PARAMS == {"C": 3.0, "gamma": "auto", "kernel": "rbf"}


def test_mia_efficacy_counts_non_members_of_the_forget_set():
    """Guards against returning the member fraction (1 - efficacy) or scoring the wrong set."""
    rng = np.random.default_rng(0)
    retain = rng.uniform(0.97, 1.0, 300)  # members: confidence ~1
    test = rng.uniform(0.0, 0.6, 200)      # non-members: spread lower
    forget = np.r_[np.full(30, 0.99), np.full(10, 0.1)]
    assert mia_efficacy(retain, test, forget) == pytest.approx(10 / 40)
    # forget examples that look like training data are members; held-out-like ones are non-members
    assert mia_efficacy(retain, test, rng.uniform(0.97, 1.0, 100)) <= 0.05
    assert mia_efficacy(retain, test, rng.uniform(0.0, 0.6, 100)) >= 0.95


def test_mia_efficacy_is_deterministic_and_uses_all_retain_when_fewer():
    """Guards against unseeded sampling of members, and against sampling when |retain| ≤ |test|."""
    rng = np.random.default_rng(1)
    retain, test, forget = rng.beta(8, 1, 500), rng.beta(3, 2, 100), rng.beta(5, 1, 80)
    assert mia_efficacy(retain, test, forget, seed=3) == mia_efficacy(retain, test, forget, seed=3)
    small = retain[:60]  # fewer than |test|: every retain example is used, so the seed cannot matter
    values = {mia_efficacy(small, test, forget, seed=s) for s in range(4)}
    assert len(values) == 1
    with pytest.raises(TypeError, match="seed"):
        mia_efficacy(retain, test, forget, seed=1.5)


def test_mia_efficacy_attacker_is_balanced(monkeypatch):
    """The paper's attacker trains on |test| retain examples (members, distinct, drawn from the retain set)
    against the whole test set (non-members), and is then applied to the forget set.
    Catches the mutation "the SVC trains on ALL retain examples instead of |test| of them" (and sampling
    members with replacement, or from the wrong set)."""
    import sklearn.svm

    fits, predicts = [], []

    class SpySVC(sklearn.svm.SVC):
        def fit(self, X, y, sample_weight=None):
            fits.append((np.asarray(X).copy(), np.asarray(y).copy()))
            return super().fit(X, y, sample_weight)

        def predict(self, X):
            predicts.append(np.asarray(X).copy())
            return super().predict(X)

    # Catches the mutation: mia_efficacy's SVC trains on ALL retain examples instead of |test| of them.
    monkeypatch.setattr(sklearn.svm, "SVC", SpySVC)
    rng = np.random.default_rng(2)
    retain = rng.permutation(np.linspace(0.5, 1.0, 700))  # distinct values: each identifies its example
    test, forget = rng.uniform(0.0, 0.7, 90), rng.uniform(0.0, 1.0, 40)
    for seed in (0, 1):
        mia_efficacy(retain, test, forget, seed=seed)
    assert len(fits) == 2 and len(predicts) == 2
    members_seen = []
    for x, y in fits:
        assert x.shape == (180, 1) and set(np.unique(y)) == {0.0, 1.0}
        members, non_members = x[y == 1, 0], x[y == 0, 0]
        assert len(members) == len(non_members) == len(test)  # balanced: |test| members vs |test| non-members
        np.testing.assert_array_equal(np.sort(non_members), np.sort(test))
        assert np.isin(members, retain).all() and len(np.unique(members)) == len(members)
        members_seen.append(set(members.tolist()))
    assert members_seen[0] != members_seen[1]  # the seed chooses which retain examples are members
    for x in predicts:
        np.testing.assert_array_equal(x[:, 0], forget)
    # With |retain| ≤ |test| every retain example is a member (there is nothing to subsample).
    fits.clear()
    mia_efficacy(retain[:30], test, forget)
    np.testing.assert_array_equal(np.sort(fits[0][0][fits[0][1] == 1, 0]), np.sort(retain[:30]))


def test_mia_efficacy_balance_changes_the_answer():
    """A hand-built case where balance decides the verdict. Confidence 0.5 is held by 200 of 2000 retain
    examples and by all 100 test examples. Balanced, the attacker sees ~10 members vs 100 non-members at
    0.5 and calls a forget example at 0.5 a NON-member (efficacy 1); trained on all retain examples it would
    see 200 members vs 100 non-members there and call it a member (efficacy 0).
    Catches the mutation "the SVC trains on ALL retain examples instead of |test| of them"."""
    retain = np.random.default_rng(0).permutation(np.r_[np.full(200, 0.5), np.full(1800, 1.0)])
    test, forget = np.full(100, 0.5), np.full(50, 0.5)
    # Catches the mutation: mia_efficacy's SVC trains on ALL retain examples (efficacy would be 0.0).
    for seed in range(5):
        assert mia_efficacy(retain, test, forget, seed=seed) == 1.0


def test_mia_gap_and_tow_mia_hand_values():
    """Guards against a signed gap, against keeping the forget-accuracy factor, and against 1 - MIA."""
    assert mia_gap(0.3, 0.5) == pytest.approx(0.2)
    assert mia_gap(0.5, 0.3) == pytest.approx(0.2)
    u = {"forget": 0.9, "retain": 0.95, "test": 0.8}
    r = {"forget": 0.5, "retain": 0.9, "test": 0.85}
    assert tow_mia(u, r, 0.3, 0.5) == pytest.approx(0.8 * 0.95 * 0.95)
    assert tow_mia({"retain": 0.95, "test": 0.8}, {"retain": 0.9, "test": 0.85}, 0.3, 0.5) == \
        pytest.approx(0.722)  # the forget accuracy is not needed
    assert tow_mia(u, u, 0.42, 0.42) == 1.0


# --------------------------------------------------------------------------------------------- loss MIA
def test_loss_mia_auc_separates_and_is_chance_on_identical_distributions():
    """Guards against a reversed label convention (AUC < 0.5 when forget losses are lower) and unseeded CV."""
    rng = np.random.default_rng(0)
    low, high = rng.exponential(0.05, 400), rng.exponential(1.0, 300)
    assert loss_mia_auc(low, high) > 0.9
    same_a, same_b = rng.exponential(1.0, 300), rng.exponential(1.0, 300)
    assert abs(loss_mia_auc(same_a, same_b) - 0.5) < 0.1
    assert loss_mia_auc(low, high, seed=5) == loss_mia_auc(low, high, seed=5)
    assert 0.8 < loss_mia_auc(low, high, scoring="accuracy") <= 1.0


def test_loss_mia_auc_does_not_collapse_on_tiny_losses():
    """A generic solver stops at w = 0 when every loss is ~1e-6 and reports a silent 0.5; the exact
    solver keeps the (tiny) weight's sign, so separable losses are still detected, scaled or not."""
    rng = np.random.default_rng(0)
    forget, test = rng.uniform(0, 1e-6, 200), rng.uniform(1e-6, 2e-6, 200)
    assert loss_mia_auc(forget, test) > 0.95
    assert loss_mia_auc(forget, test, standardize=True) > 0.95


# -------------------------------------------------------------------------------------------------- ROC
def test_roc_auc_tpr_at_fpr_hand_values():
    """Guards against strict-vs-inclusive FPR mistakes, reversed score direction and ties double-counted."""
    scores, members = [4.0, 3.0, 2.0, 1.0], [True, False, True, False]
    fpr, tpr = roc_curve(scores, members)
    assert fpr[0] == 0 and tpr[0] == 0 and fpr[-1] == 1 and tpr[-1] == 1
    assert auc(scores, members) == pytest.approx(0.75)
    assert tpr_at_fpr(scores, members, 0.0) == 0.5
    assert tpr_at_fpr(scores, members, 0.49) == 0.5
    assert tpr_at_fpr(scores, members, 0.5) == 1.0
    np.testing.assert_array_equal(tpr_at_fpr(scores, np.array([1, 0, 1, 0]), [0.0, 0.5, 1.0]), [0.5, 1, 1])
    assert auc([1.0, 1.0, 1.0, 1.0], members) == 0.5  # all tied: chance, not 0 or 1
    # every threshold is a point of the curve (collinear ones too: sklearn's drop_intermediate would drop 2)
    fpr, tpr = roc_curve([4.0, 3.0, 2.0, 1.0], [True, True, False, False])
    np.testing.assert_array_equal(fpr, [0, 0, 0, 0.5, 1])
    np.testing.assert_array_equal(tpr, [0, 0.5, 1, 1, 1])
    # torch tensors (a model's outputs) are read like arrays, masks included
    assert auc(torch.tensor(scores), torch.tensor(members)) == pytest.approx(0.75)
    s_, m_ = membership_split(torch.tensor([[1.0, 2.0]]), torch.tensor([[True, False]]))
    np.testing.assert_array_equal(np.isnan(s_), [[False, True]])


# ------------------------------------------------------------------------------------------------- LiRA
def test_lira_hand_value_and_global_variance():
    """Guards against using variance for std, ddof mistakes, and a pooled variance that mixes example means."""
    # the examples' "out" variances differ (2 and 8), so a pooled variance (5) differs from both: catches a
    # global_variance flag that reaches one population only
    in_stats = np.array([[1.0, 5.0], [3.0, 5.0]])
    out_stats = np.array([[-1.0, 0.0], [1.0, 4.0]])
    # example 0: in N(2, 2), out N(0, 2) (ddof 1) → score at t=2 is 0 - (-(2²)/(2·2)) = 1
    got = lira_scores([2.0, 5.0], in_stats, out_stats)
    assert got[0] == pytest.approx(1.0, rel=1e-12)
    # pooled: in ssd = 2 + 0 over dof 2 → var 1; out ssd = 2 + 8 over dof 2 → var 5
    pooled = lira_scores([2.0, 5.0], in_stats, out_stats, global_variance=True)
    expect0 = norm.logpdf(2, 2, 1) - norm.logpdf(2, 0, math.sqrt(5))
    expect1 = norm.logpdf(5, 5, 1) - norm.logpdf(5, 2, math.sqrt(5))
    np.testing.assert_allclose(pooled, [expect0, expect1], rtol=1e-12)
    # the second example has identical "in" values: per-example σ is floored, not zero → finite
    assert np.isfinite(got[1])


def test_offline_lira_and_missing_shadow_values_by_hand():
    """Offline LiRA is log Φ((t − μ_out) / σ_out); NaN marks a shadow that did not see the example and must
    be left out of that example's mean and variance. Catches: multiplying by σ instead of dividing, and
    NaNs filled with 1 (or any value) in the mean or the squared deviations."""
    out_stats = np.array([[-1.0, np.nan], [1.0, 0.0], [3.0, 2.0]])  # ex 0: -1, 1, 3 → N(1, 4); ex 1: 0, 2 → N(1, 2)
    got = lira_scores([2.0, 4.0], None, out_stats)
    np.testing.assert_allclose(got, [norm.logcdf((2 - 1) / 2), norm.logcdf((4 - 1) / math.sqrt(2))], rtol=1e-12)
    in_stats = np.array([[np.nan, 5.0], [4.0, 7.0], [6.0, np.nan], [np.nan, 9.0]])  # ex 0: N(5, 2); ex 1: N(7, 4)
    got = lira_scores([2.0, 4.0], in_stats, out_stats)
    expect = [norm.logpdf(2, 5, math.sqrt(2)) - norm.logpdf(2, 1, 2),
              norm.logpdf(4, 7, 2) - norm.logpdf(4, 1, math.sqrt(2))]
    np.testing.assert_allclose(got, expect, rtol=1e-12)


def _gaussian_world(n=2000, k=64, seed=0):
    """Per example: out ~ N(μ_i, 1), in ~ N(μ_i + 2, 1), with μ_i spread widely across examples."""
    rng = np.random.default_rng(seed)
    mu = rng.normal(0, 3, n)
    in_mask = rng.random((k, n)) < 0.5
    stats = mu + 2.0 * in_mask + rng.standard_normal((k, n))
    is_member = rng.random(n) < 0.5
    target = mu + 2.0 * is_member + rng.standard_normal(n)
    return stats, in_mask, target, is_member


def test_lira_reaches_the_theoretical_auc_on_gaussians():
    """Guards against swapped in/out, a global threshold in disguise, or a wrong likelihood ratio.

    With d' = 2 the optimal test has AUC Φ(d'/√2) ≈ 0.921 and TPR(α) = 1 − Φ(z_{1−α} − 2); a single global
    threshold on the raw statistic is far worse because μ_i varies across examples.
    """
    stats, in_mask, target, is_member = _gaussian_world()
    in_s, out_s = membership_split(stats, in_mask)
    theory = norm.cdf(2 / math.sqrt(2))
    for global_variance in (False, True):
        scores = lira_scores(target, in_s, out_s, global_variance=global_variance)
        assert auc(scores, is_member) == pytest.approx(theory, abs=0.02)
        assert tpr_at_fpr(scores, is_member, 0.1) == pytest.approx(1 - norm.cdf(norm.ppf(0.9) - 2), abs=0.06)
        # theory 0.372 at 1 % FPR; with 1000 non-members the empirical value rests on ~10 false positives,
        # so only a loose band (still far above chance 0.01 and the raw statistic's ~0.04)
        assert 0.15 < tpr_at_fpr(scores, is_member, 0.01) < 0.55
    assert auc(target, is_member) < 0.75  # raw statistic, one threshold for all examples
    assert tpr_at_fpr(target, is_member, 0.01) < 0.1
    offline = lira_scores(target, None, out_s)  # one-sided test against "out" only
    assert auc(offline, is_member) == pytest.approx(theory, abs=0.02)


def test_ulira_is_lira_on_unlearned_vs_retrained_populations():
    """Guards against U-LiRA duplicating (and drifting from) the LiRA math or swapping its populations."""
    stats, in_mask, target, _ = _gaussian_world(n=200, k=16, seed=1)
    unl, ret = membership_split(stats, in_mask)
    np.testing.assert_array_equal(ulira_scores(target, unl, ret), lira_scores(target, unl, ret))
    np.testing.assert_array_equal(ulira_scores(target, unl, ret, global_variance=True),
                                  lira_scores(target, unl, ret, global_variance=True))


def test_attack_summary_hand_values():
    """AUC 3/4 (one of four member/non-member pairs misordered); at FPR 0 only the top score is accepted."""
    row = attack_summary([0.9, 0.8, 0.3, 0.1], [True, False, True, False], fprs=[0.0, 0.5])
    assert list(row) == ["AUC", "TPR @ 0% FPR", "TPR @ 50% FPR"]
    assert row["AUC"] == pytest.approx(0.75)
    assert row["TPR @ 0% FPR"] == pytest.approx(0.5)
    assert row["TPR @ 50% FPR"] == pytest.approx(1.0)
    assert list(attack_summary([0.9, 0.1], [True, False])) == ["AUC", "TPR @ 0.1% FPR", "TPR @ 1% FPR"]
    with pytest.raises(ValueError, match="fprs"):
        attack_summary([0.9, 0.1], [True, False], fprs=[[0.1]])


def test_leave_one_out_lira_matches_the_loop_by_hand():
    """Each chosen model is the target against exactly the other models; labels are its own in-mask row."""
    stats, in_mask, _, _ = _gaussian_world(n=50, k=16, seed=3)
    scores, member = leave_one_out_lira(stats, in_mask, targets=[5, 2])
    assert scores.shape == member.shape == (100,)
    for j, k in enumerate([5, 2]):
        others = np.arange(16) != k
        in_s, out_s = membership_split(stats[others], in_mask[others])
        np.testing.assert_allclose(scores[50 * j:50 * (j + 1)], lira_scores(stats[k], in_s, out_s))
        np.testing.assert_array_equal(member[50 * j:50 * (j + 1)], in_mask[k])
    offline, _ = leave_one_out_lira(stats, in_mask, targets=[5], offline=True)
    in_s, out_s = membership_split(stats[np.arange(16) != 5], in_mask[np.arange(16) != 5])
    np.testing.assert_allclose(offline, lira_scores(stats[5], None, out_s))
    everyone, labels = leave_one_out_lira(stats, in_mask, global_variance=True)
    assert everyone.shape == (800,) and labels.sum() == in_mask.sum()
    # global_variance reaches every target's attack (fails if leave_one_out_lira drops it)
    in_s, out_s = membership_split(stats[np.arange(16) != 7], in_mask[np.arange(16) != 7])
    np.testing.assert_allclose(everyone[350:400], lira_scores(stats[7], in_s, out_s, global_variance=True))
    assert not np.allclose(everyone[350:400], lira_scores(stats[7], in_s, out_s))


def test_leave_one_out_lira_separates_members_near_the_theoretical_auc():
    stats, in_mask, _, _ = _gaussian_world(n=1000, k=40, seed=4)
    scores, member = leave_one_out_lira(stats, in_mask, targets=range(5))
    assert auc(scores, member) == pytest.approx(norm.cdf(2 / math.sqrt(2)), abs=0.03)


def test_leave_one_out_lira_bad_input():
    stats, in_mask, _, _ = _gaussian_world(n=10, k=4)
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 4\)"):
        leave_one_out_lira(stats, in_mask, targets=[4])
    with pytest.raises(ValueError, match="repeated"):
        leave_one_out_lira(stats, in_mask, targets=[1, 1])
    with pytest.raises(TypeError, match="targets"):
        leave_one_out_lira(stats, in_mask, targets=[0.5])
    with pytest.raises(ValueError, match="at least 2 models"):
        leave_one_out_lira(stats[:1], in_mask[:1])


def test_leave_one_out_ulira_matches_the_loop_by_hand_and_labels_populations():
    rng = np.random.default_rng(5)
    unl, ret = rng.normal(1, 1, (4, 30)), rng.normal(0, 1, (5, 30))
    scores, unlearned = leave_one_out_ulira(unl, ret)
    assert scores.shape == (270,) and unlearned[:120].all() and not unlearned[120:].any()
    np.testing.assert_allclose(scores[30:60], ulira_scores(unl[1], unl[[0, 2, 3]], ret))
    np.testing.assert_allclose(scores[120 + 60:120 + 90], ulira_scores(ret[2], unl, ret[[0, 1, 3, 4]]))
    # global_variance reaches both populations' attacks (fails if leave_one_out_ulira drops it)
    pooled, _ = leave_one_out_ulira(unl, ret, global_variance=True)
    for sl, args in [(slice(30, 60), (unl[1], unl[[0, 2, 3]], ret)),
                     (slice(180, 210), (ret[2], unl, ret[[0, 1, 3, 4]]))]:
        np.testing.assert_allclose(pooled[sl], ulira_scores(*args, global_variance=True))
        assert not np.allclose(pooled[sl], ulira_scores(*args))


def test_ulira_passes_min_std_to_lira():
    """Fails if ulira_scores drops min_std: a floor far above the spread must change the scores."""
    rng = np.random.default_rng(8)
    unl, ret, target = rng.normal(1, 0.1, (6, 20)), rng.normal(0, 0.1, (6, 20)), rng.normal(0.5, 0.1, 20)
    floored = ulira_scores(target, unl, ret, min_std=5.0)
    np.testing.assert_allclose(floored, lira_scores(target, unl, ret, min_std=5.0))
    assert not np.allclose(floored, ulira_scores(target, unl, ret))


def test_leave_one_out_ulira_auc_tracks_how_different_the_populations_are():
    """Guards against swapped labels: shifted unlearned models are found; identical populations are not."""
    rng = np.random.default_rng(6)
    mu = rng.normal(0, 3, 200)  # per-example difficulty, shared by both populations
    ret = mu + rng.standard_normal((12, 200))
    assert auc(*leave_one_out_ulira(mu + 3 + rng.standard_normal((12, 200)), ret)) > 0.95
    assert auc(*leave_one_out_ulira(mu + rng.standard_normal((12, 200)), ret)) == pytest.approx(0.5, abs=0.06)
    with pytest.raises(ValueError, match="200 examples but retrained_stats has 199"):
        leave_one_out_ulira(ret, ret[:, :199])
    with pytest.raises(ValueError, match="unlearned_stats needs at least 2 models"):
        leave_one_out_ulira(ret[:1], ret)


def test_lira_needs_enough_shadows_per_example():
    """Guards against silently fitting a Gaussian to one value (σ = 0 or NaN) per example."""
    in_stats = np.array([[1.0, np.nan], [2.0, 4.0]])
    out_stats = np.array([[0.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"in_stats.*columns \[1\].*global_variance"):
        lira_scores([1.0, 1.0], in_stats, out_stats)
    assert np.isfinite(lira_scores([1.0, 1.0], in_stats, out_stats, global_variance=True)).all()


# ---------------------------------------------------------------------------------------- model-level
@pytest.fixture(scope="module")
def overfit():
    """A digits MLP trained hard on 120 examples: train confidences ~1, held-out ones spread lower."""
    bundle = data.load("digits")
    perm = np.random.default_rng(0).permutation(len(bundle.train))
    train_idx, held = perm[:120], perm[120:]
    cfg = training.TrainConfig(epochs=60, lr=0.05, batch_size=32)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny MLP: one thread is ~40× faster than two on a busy 2-core machine
    try:
        model, _ = training.train_model(bundle, "mlp", cfg, seed=0, train_idx=train_idx, use_cache=False,
                                        device="cpu", progress_bar=False)
        yield bundle, model, train_idx, held
    finally:
        torch.set_num_threads(threads)


def test_real_overfit_model_forget_set_looks_member(overfit):
    """Guards against the attack direction being wrong on real model outputs (not just constructed arrays)."""
    bundle, model, train_idx, held = overfit
    retain, forget = train_idx[:90], train_idx[90:]
    conf = lambda idx: confidences(model, bundle, idx)  # noqa: E731
    r, t = conf(retain), conf(held[:90])
    assert mia_efficacy(r, t, conf(forget)) <= 0.05           # training examples: called members
    assert mia_efficacy(r, t, conf(held[90:])) >= 0.1         # held-out examples: markedly more non-members
    losses = lambda idx: confidences(model, bundle, idx, kind="loss")  # noqa: E731
    assert loss_mia_auc(losses(train_idx), losses(held[:300])) > 0.6


def test_confidence_kinds_agree_with_the_pure_functions(overfit):
    """Guards against model helpers mixing up splits/indices or computing kinds differently from mia.py."""
    bundle, model, train_idx, _ = overfit
    idx = train_idx[:50]
    probs = training.predict_proba(model, bundle.train.x[idx])
    y = bundle.train.y[idx].numpy()
    np.testing.assert_allclose(confidences(model, bundle, idx), true_label_confidence(probs, y), rtol=1e-12)
    np.testing.assert_allclose(confidences(model, bundle, idx, kind="logit"), logit_confidence(probs, y),
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(confidences(model, bundle, idx, kind="loss"), true_label_loss(probs, y),
                               rtol=1e-9, atol=1e-12)
    z, labels = model_logits(model, bundle, split="test")
    assert z.shape == (len(bundle.test), bundle.num_classes) and labels.shape == (len(bundle.test),)


def test_evaluate_same_model_is_perfect_and_matches_the_parts(overfit):
    """Guards against evaluate() miswiring arguments: θᵘ = θʳ must give gap 0, ToW 1, ToW-MIA 1, and each
    field must equal the stand-alone metric on the same inputs."""
    bundle, model, train_idx, _ = overfit
    forget, retain = train_idx[90:], train_idx[:90]
    ev = evaluate(model, model, bundle, forget, retain, seed=0)
    assert isinstance(ev, Evaluation)
    assert ev.mia_gap == 0.0 and ev.tow == 1.0 and ev.tow_mia == 1.0
    assert ev.unlearned_mia == ev.retrained_mia and ev.unlearned_loss_auc == ev.retrained_loss_auc
    assert ev.unlearned_acc == pytest.approx(split_accuracies(model, bundle, forget, retain))
    conf = lambda idx, split="train": confidences(model, bundle, idx, split)  # noqa: E731
    assert ev.unlearned_mia == mia_efficacy(conf(retain), conf(None, "test"), conf(forget), seed=0)
    row = ev.as_dict()
    assert row["n_forget"] == 30 and row["n_retain"] == 90 and row["n_test"] == len(bundle.test)
    assert set(row) >= {"tow", "tow_mia", "mia_gap", "unlearned_mia", "retrained_mia", "unlearned_loss_auc"}


def test_evaluate_forwards_its_seed_to_both_attacks(overfit):
    """The attacks' member draws follow evaluate()'s seed, for both models alike: evaluate(seed=s) equals the
    reports computed with seed s, and the seed changes the member draw. Catches a seed dropped on the way
    (a mutant that survived `make mutation`: evaluate silently attacking with seed 0)."""
    from rum_core import models
    from rum_core.metrics import compare_reports, model_report

    bundle, model, train_idx, _ = overfit
    fresh = models.build("mlp", bundle, seed=1)
    forget, retain = train_idx[90:], train_idx[:90]
    for seed in (0, 5):
        ev = evaluate(model, fresh, bundle, forget, retain, seed=seed)
        parts = compare_reports(model_report(model, bundle, forget, retain, seed=seed),
                                model_report(fresh, bundle, forget, retain, seed=seed))
        assert ev == parts
    draws = {evaluate(model, fresh, bundle, forget, retain, seed=s).unlearned_loss_auc for s in range(4)}
    assert len(draws) > 1  # the seed matters, so forwarding it is observable


def test_evaluate_different_models(overfit):
    """Guards against evaluate() ignoring its second model: a fresh (untrained) model must score lower."""
    bundle, model, train_idx, _ = overfit
    from rum_core import models

    fresh = models.build("mlp", bundle, seed=1)
    ev = evaluate(model, fresh, bundle, train_idx[90:], train_idx[:90])
    assert ev.tow < 0.5 and ev.tow == pytest.approx(tow(ev.unlearned_acc, ev.retrained_acc))
    assert ev.tow_mia == pytest.approx(tow_mia(ev.unlearned_acc, ev.retrained_acc, ev.unlearned_mia,
                                               ev.retrained_mia))


# ------------------------------------------------------------------------------------------- bad input
GOOD_Y = np.array([0, 2])


@pytest.mark.parametrize("probs, labels, match", [
    (np.zeros((0, 3)), np.zeros(0, dtype=int), "probs is empty"),
    (np.array([[0.5, np.nan, 0.5], [0.1, 0.6, 0.3]]), GOOD_Y, "probs has NaN"),
    (np.array([[0.7, 0.2, 0.2], [0.1, 0.6, 0.3]]), GOOD_Y, "sum to 1"),
    (np.array([[1.1, -0.1, 0.0], [0.1, 0.6, 0.3]]), GOOD_Y, "negative"),
    (np.array([0.7, 0.2, 0.1]), np.array([0]), "probs must be 2-dimensional"),
    (np.ones((2, 1)), np.array([0, 0]), "at least 2 classes"),
    (P3, np.array([0, 3]), r"labels has values outside \[0, 3\)"),
    (P3, np.array([-1, 0]), "labels has values outside"),
    (P3, np.array([0]), "labels has length 1"),
    (P3, np.array([[0, 1]]), "labels must be 1-dimensional"),
])
def test_bad_probabilities_and_labels(probs, labels, match):
    """Guards against silently accepting malformed probabilities/labels (wrong answers instead of errors)."""
    for fn in (true_label_confidence, logit_confidence, true_label_loss):
        with pytest.raises(ValueError, match=match):
            fn(probs, labels)


@pytest.mark.parametrize("probs, labels, match", [
    ("not an array", GOOD_Y, "probs"),
    (None, GOOD_Y, "probs"),
    ({"a": 1}, GOOD_Y, "probs"),
    (np.array([["a", "b"], ["c", "d"]]), GOOD_Y, "probs"),
    (P3, np.array([0.0, 2.0]), "labels must be integer"),
    (P3, "01", "labels"),
])
def test_garbage_types_raise_type_error(probs, labels, match):
    """Guards against garbage inputs surfacing as obscure numpy errors or being coerced into numbers."""
    with pytest.raises(TypeError, match=match):
        true_label_confidence(probs, labels)


def test_bad_logits():
    """Guards against inf logits producing NaN confidences silently."""
    with pytest.raises(ValueError, match="logits has NaN or infinite"):
        logit_confidence(np.array([[np.inf, 0.0]]), [0], from_logits=True)


@pytest.mark.parametrize("kwargs, match", [
    ({"retain_conf": []}, "retain_conf is empty"),
    ({"test_conf": [0.5, np.nan]}, "test_conf has NaN"),
    ({"forget_conf": np.ones((2, 2))}, "forget_conf must be 1-dimensional"),
])
def test_mia_efficacy_bad_input(kwargs, match):
    """Guards against an SVC trained on empty/NaN/2-D features with a confusing sklearn message."""
    args = {"retain_conf": [0.9, 0.95], "test_conf": [0.2, 0.4], "forget_conf": [0.5]} | kwargs
    with pytest.raises(ValueError, match=match):
        mia_efficacy(**args)
    with pytest.raises(TypeError, match="retain_conf"):
        mia_efficacy("abc", [0.1], [0.1])


def test_mia_gap_and_tow_mia_bad_input():
    """Guards against MIA values outside [0, 1] (e.g. percentages) or missing accuracy keys going through."""
    with pytest.raises(ValueError, match="mia_unlearned"):
        mia_gap(1.5, 0.3)
    with pytest.raises(ValueError, match="mia_retrained"):
        mia_gap(0.5, float("nan"))
    with pytest.raises(TypeError, match="mia_unlearned"):
        mia_gap("x", 0.3)
    good = {"forget": 0.9, "retain": 0.9, "test": 0.9}
    with pytest.raises(ValueError, match="unlearned_acc is missing the key 'retain'"):
        tow_mia({"test": 0.9}, good, 0.1, 0.2)
    with pytest.raises(ValueError, match=r"retrained_acc\['test'\]"):
        tow_mia(good, {"retain": 0.9, "test": 90.0}, 0.1, 0.2)
    with pytest.raises(ValueError, match="mia_retrained"):
        tow_mia(good, good, 0.1, 20)


def test_loss_mia_auc_bad_input():
    """Guards against cross-validating folds that cannot contain both classes, and silent bad options."""
    ok = np.linspace(0, 1, 20)
    with pytest.raises(ValueError, match="forget_loss needs at least 10"):
        loss_mia_auc(ok[:5], ok)
    with pytest.raises(ValueError, match="test_loss has NaN"):
        loss_mia_auc(ok, np.r_[ok, np.nan])
    with pytest.raises(ValueError, match="n_splits"):
        loss_mia_auc(ok, ok, n_splits=1)
    with pytest.raises(ValueError, match="scoring"):
        loss_mia_auc(ok, ok, scoring="f1")


def test_roc_bad_input():
    """Guards against ROC curves over one class only, mismatched lengths, or non-boolean membership."""
    with pytest.raises(ValueError, match="different lengths"):
        roc_curve([1.0, 2.0], [True])
    with pytest.raises(ValueError, match="both members"):
        auc([1.0, 2.0], [True, True])
    with pytest.raises(ValueError, match="is_member must be boolean"):
        auc([1.0, 2.0], [0, 2])
    with pytest.raises(ValueError, match="scores is empty"):
        auc([], [])
    with pytest.raises(TypeError, match="is_member"):
        auc([1.0, 2.0], "10")
    with pytest.raises(ValueError, match="fpr must lie in"):
        tpr_at_fpr([1.0, 2.0], [True, False], 1.5)


def test_lira_bad_input():
    """Guards against NaN targets, infinite shadow values and misaligned shadow matrices being scored."""
    ins, outs = np.zeros((3, 2)) + [[0], [1], [2]], np.zeros((3, 2)) - [[0], [1], [2]]
    with pytest.raises(ValueError, match="target_stat has NaN"):
        lira_scores([np.nan, 0.0], ins, outs)
    with pytest.raises(ValueError, match="in_stats has infinite"):
        lira_scores([0.0, 0.0], np.where(ins > 1, np.inf, ins), outs)
    with pytest.raises(ValueError, match="out_stats has 3 columns"):
        lira_scores([0.0, 0.0], ins, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="in_stats must be 2-dimensional"):
        lira_scores([0.0, 0.0], [0.0, 1.0], outs)
    with pytest.raises(ValueError, match="min_std"):
        lira_scores([0.0, 0.0], ins, outs, min_std=0)
    with pytest.raises(TypeError, match="in_mask"):
        membership_split(ins, ins)
    with pytest.raises(ValueError, match="in_mask has shape"):
        membership_split(ins, np.ones((2, 2), dtype=bool))


def test_model_helpers_bad_input(overfit):
    """Guards against unknown kinds/splits or empty/out-of-range indices yielding silent garbage."""
    bundle, model, train_idx, _ = overfit
    with pytest.raises(ValueError, match="kind"):
        confidences(model, bundle, train_idx, kind="entropy")
    with pytest.raises(ValueError, match="split"):
        confidences(model, bundle, train_idx, split="val")
    with pytest.raises(ValueError, match="idx is empty"):
        confidences(model, bundle, [])
    with pytest.raises(ValueError, match="out of range"):
        confidences(model, bundle, [len(bundle.train)])
    with pytest.raises(TypeError, match="unlearned"):
        evaluate("model", model, bundle, train_idx[:5])
    with pytest.raises(TypeError, match="bundle"):
        evaluate(model, model, None, train_idx[:5])
    with pytest.raises(ValueError, match="forget_idx is empty"):
        evaluate(model, model, bundle, [])


def test_logistic_regression_1d_matches_scikit_learn():
    """The fast attacker must solve scikit-learn's default LogisticRegression objective, not another one."""
    from sklearn.linear_model import LogisticRegression

    from rum_core.metrics.mia import logistic_regression_1d

    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0.3, 1.0, 200), rng.normal(1.0, 0.5, 150)])
    y = np.concatenate([np.ones(200), np.zeros(150)]).astype(int)
    ref = LogisticRegression(tol=1e-10, max_iter=1000).fit(x.reshape(-1, 1), y)
    w, b = logistic_regression_1d(x, y)
    assert w == pytest.approx(ref.coef_[0, 0], abs=1e-5)
    assert b == pytest.approx(ref.intercept_[0], abs=1e-5)


def test_loss_mia_auc_equals_cross_validated_scikit_learn_pipeline():
    """Same splits, same attacker, same score as the kit's cross_val_score formulation."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedShuffleSplit, cross_val_score

    rng = np.random.default_rng(1)
    forget, test = rng.gamma(2.0, 0.2, 80), rng.gamma(2.0, 0.3, 80)
    x = np.concatenate([forget, test]).reshape(-1, 1)
    y = np.r_[np.ones(80), np.zeros(80)].astype(int)
    for scoring in ("roc_auc", "accuracy"):
        cv = StratifiedShuffleSplit(n_splits=10, random_state=3)
        expected = cross_val_score(LogisticRegression(tol=1e-10), x, y, cv=cv, scoring=scoring).mean()
        assert loss_mia_auc(forget, test, seed=3, scoring=scoring) == pytest.approx(expected, abs=1e-6)


def test_compare_reports_refuses_reports_of_different_splits():
    """Mixing a report of one forget set with a report of another would give a meaningless gap."""
    from rum_core import data, training
    from rum_core.metrics import compare_reports, model_report

    bundle = data.load("synthetic")
    model, _ = training.train_model(bundle, "mlp", training.TrainConfig(epochs=2, lr=0.05, batch_size=32),
                                    use_cache=False)
    a = model_report(model, bundle, np.arange(20), seed=0)
    assert compare_reports(a, a).mia_gap == 0.0
    with pytest.raises(ValueError, match="n_forget"):
        compare_reports(a, model_report(model, bundle, np.arange(30), seed=0))
    with pytest.raises(ValueError, match="seed"):
        compare_reports(a, model_report(model, bundle, np.arange(20), seed=1))


def test_compare_reports_refuses_different_sets_of_equal_sizes():
    """Sizes and seed are not enough: a report of another forget set of the same size, of another retain
    subset, or of other data is refused. (Catches compare_reports comparing only sizes and the seed.)"""
    from rum_core import data, training
    from rum_core.metrics import compare_reports, model_report, split_fingerprint

    bundle = data.load("synthetic")
    model, _ = training.train_model(bundle, "mlp", training.TrainConfig(epochs=2, lr=0.05, batch_size=32),
                                    use_cache=False)
    a = model_report(model, bundle, np.arange(20), seed=0)
    assert isinstance(a.split_fingerprint, str) and len(a.split_fingerprint) == 16
    # the same sets, given in another order (and the retain set given explicitly), are the same split
    same = model_report(model, bundle, np.arange(20)[::-1], np.arange(20, len(bundle.train)), seed=0)
    assert same.split_fingerprint == a.split_fingerprint
    assert compare_reports(a, same).n_forget == 20
    # Catches the mutation: compare_reports checks only the sizes and the seed (no split fingerprint).
    with pytest.raises(ValueError, match="different forget/retain sets"):  # forget 1..20 vs 0..19
        compare_reports(a, model_report(model, bundle, np.arange(1, 21), seed=0))
    retain = np.arange(20, 60)
    b = model_report(model, bundle, np.arange(20), retain, seed=0)
    with pytest.raises(ValueError, match="different forget/retain sets"):  # same forget, other retain
        compare_reports(b, model_report(model, bundle, np.arange(20), retain + 40, seed=0))
    other = data.load("synthetic", seed=5)
    assert (len(other.train), len(other.test)) == (len(bundle.train), len(bundle.test))
    with pytest.raises(ValueError, match="different forget/retain sets"):  # same indices into other data
        compare_reports(a, model_report(model, other, np.arange(20), seed=0))
    # the fingerprint: order-free, but which set is the forget set matters, and so does the test-set size
    f, r = np.array([3, 1, 2]), np.array([7, 5])
    assert split_fingerprint(f, r, 10) == split_fingerprint(np.sort(f), r[::-1], 10)
    assert split_fingerprint(f, r, 10) != split_fingerprint(r, f, 10)
    assert split_fingerprint(f, r, 10) != split_fingerprint(f, r, 11)
    assert split_fingerprint(np.array([1, 2]), np.array([3, 5, 7]), 10) != \
        split_fingerprint(np.array([1, 2, 3]), np.array([5, 7]), 10)
