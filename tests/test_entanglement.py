"""Entanglement score (ES) and the ES-based forget-set procedures."""

import numpy as np
import pytest

from rum_core.experiments import es_forget_sets
from rum_core.metrics import entanglement_of, entanglement_score
from rum_core.partition import PAPER_ES_PICKS, es_controlled, es_groups


def _direct_es(r, s, center):
    """ES straight from the paper's definition, for comparison."""
    mu_r, mu_s = r.mean(0), s.mean(0)
    mu = (mu_r + mu_s) / 2 if center == "midpoint" else np.concatenate([r, s]).mean(0)
    spread = np.mean(np.sum((r - mu_r) ** 2, 1)) + np.mean(np.sum((s - mu_s) ** 2, 1))
    return spread / (0.5 * (np.sum((mu_r - mu) ** 2) + np.sum((mu_s - mu) ** 2)))


def _two_clouds(seed=0, n_r=200, n_s=30, d=5):
    rng = np.random.default_rng(seed)
    r = rng.normal(size=(n_r, d))
    s = rng.normal(size=(n_s, d)) * 0.7 + np.linspace(0.5, 1.5, d)
    return r, s


# ------------------------------------------------------------------------------------ the score
def test_es_hand_computed_equal_sizes():
    """Guards against a wrong formula (e.g. a missing factor ½ or 4, or variance per coordinate)."""
    # R = {(0,0), (2,0)}: μ_R = (1,0), σ²_R = mean(1, 1) = 1.
    # S = {(0,4), (0,6)}: μ_S = (0,5), σ²_S = 1.
    # μ = midpoint (½, 5/2); ‖μ_R − μ‖² = ‖μ_S − μ‖² = ¼·‖(1,−5)‖² = 26/4, so the denominator is 26/4
    # and ES = (1 + 1) / (26/4) = 8/26 = 4/13. With equal sizes the global center is the same point.
    r = np.array([[0.0, 0.0], [2.0, 0.0]])
    s = np.array([[0.0, 4.0], [0.0, 6.0]])
    assert entanglement_score(r, s) == pytest.approx(4 / 13, rel=1e-12)
    assert entanglement_score(r, s, center="global") == pytest.approx(4 / 13, rel=1e-12)


def test_es_hand_computed_unequal_sizes():
    """Guards against the global center being the midpoint (or an unweighted mean of the two means)."""
    # R = {(0,0), (2,0)}: μ_R = (1,0), σ²_R = 1.   S = {(0,4)}: μ_S = (0,4), σ²_S = 0.
    # midpoint: denominator ‖μ_R − μ_S‖²/4 = 17/4, ES = 1/(17/4) = 4/17.
    # global: μ = ((0,0)+(2,0)+(0,4))/3 = (2/3, 4/3); ‖μ_R − μ‖² = ‖(1/3, −4/3)‖² = 17/9,
    # ‖μ_S − μ‖² = ‖(−2/3, 8/3)‖² = 68/9; denominator ½·85/9 = 85/18, ES = 18/85.
    r = np.array([[0.0, 0.0], [2.0, 0.0]])
    s = np.array([[0.0, 4.0]])
    assert entanglement_score(r, s) == pytest.approx(4 / 17, rel=1e-12)
    assert entanglement_score(r, s, center="global") == pytest.approx(18 / 85, rel=1e-12)


def test_es_midpoint_identity():
    """Guards against the default center not being the midpoint: ES = 4(σ²_R + σ²_S)/‖μ_R − μ_S‖²."""
    r, s = _two_clouds()
    var_r = np.var(r, axis=0).sum()
    var_s = np.var(s, axis=0).sum()
    expected = 4 * (var_r + var_s) / np.sum((r.mean(0) - s.mean(0)) ** 2)
    assert entanglement_score(r, s) == pytest.approx(expected, rel=1e-10)
    assert entanglement_score(r, s, center="midpoint") == pytest.approx(_direct_es(r, s, "midpoint"), rel=1e-10)


def test_es_global_center_matches_direct_formula():
    """Guards against the global center using the wrong weights (μ must be the mean over R ∪ S)."""
    r, s = _two_clouds(seed=1)
    assert entanglement_score(r, s, center="global") == pytest.approx(_direct_es(r, s, "global"), rel=1e-10)
    assert entanglement_score(r, s, center="global") != pytest.approx(entanglement_score(r, s), rel=1e-3)


def test_es_accepts_tensors_lists_and_float32():
    """Guards against rejecting the types embed() users hold, or accumulating in float32."""
    import torch

    r, s = _two_clouds(seed=2)
    ref = entanglement_score(r, s)
    assert entanglement_score(torch.as_tensor(r), torch.as_tensor(s)) == pytest.approx(ref, rel=1e-12)
    assert entanglement_score(r.tolist(), s.tolist()) == pytest.approx(ref, rel=1e-12)
    r32, s32 = r.astype(np.float32), s.astype(np.float32)
    exact = _direct_es(r32.astype(np.float64), s32.astype(np.float64), "midpoint")
    assert entanglement_score(r32, s32) == pytest.approx(exact, rel=1e-10)


@pytest.mark.parametrize("center", ["midpoint", "global"])
def test_es_translation_and_rotation_invariant(center):
    """Guards against E‖φ‖² − ‖Eφ‖² (cancellation under a large offset) and coordinate-dependent terms."""
    r, s = _two_clouds(seed=3)
    ref = entanglement_score(r, s, center=center)
    offset = np.full(r.shape[1], 1e8)  # x² ≈ 1e16: the naive variance formula would lose every digit
    assert entanglement_score(r + offset, s + offset, center=center) == pytest.approx(ref, rel=1e-6)
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(r.shape[1], r.shape[1])))
    assert entanglement_score(r @ q, s @ q, center=center) == pytest.approx(ref, rel=1e-10)


@pytest.mark.parametrize("center", ["midpoint", "global"])
def test_es_rises_with_spread(center):
    """Guards against the score not measuring within-set spread: scaling both sets' spread by c (means
    fixed) multiplies ES by c², and spreading only the forget set raises it."""
    r, s = _two_clouds(seed=4)
    ref = entanglement_score(r, s, center=center)

    def spread(x, c):
        return x.mean(0) + c * (x - x.mean(0))

    assert entanglement_score(spread(r, 2.0), spread(s, 2.0), center=center) == pytest.approx(4 * ref, rel=1e-10)
    assert entanglement_score(r, spread(s, 1.5), center=center) > ref
    # and moving the forget set away from the retain set lowers it
    assert entanglement_score(r, s + 5.0, center=center) < ref


def test_es_more_entangled_sets_score_higher():
    """Guards against an inverted score: a random subset is more entangled than a far compact cluster."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(500, 4))
    random_s = x[:50]
    far_cluster = rng.normal(size=(50, 4)) * 0.1 + 6.0
    assert entanglement_score(x[50:], random_s) > 10 * entanglement_score(x[50:], far_cluster)


@pytest.mark.parametrize("retain, forget, match", [
    (np.zeros((0, 3)), np.ones((2, 3)), "retain_emb"),
    (np.ones((2, 3)), np.zeros((0, 3)), "forget_emb"),
    (np.ones(3), np.ones((2, 3)), "retain_emb"),
    (np.ones((2, 3)), np.ones((2, 3, 1)), "forget_emb"),
    (np.ones((2, 3)), np.ones((2, 4)), "forget_emb"),
    (np.ones((2, 0)), np.ones((2, 0)), "retain_emb"),
    (np.array([[0.0, np.nan]]), np.ones((2, 2)), "retain_emb"),
    (np.ones((2, 2)), np.array([[0.0, np.inf]]), "forget_emb"),
])
def test_es_input_errors(retain, forget, match):
    """Guards against silently scoring empty, misshapen, mismatched or non-finite embeddings."""
    with pytest.raises(ValueError, match=match):
        entanglement_score(retain, forget)


def test_es_type_and_center_errors():
    """Guards against accepting non-numeric input or a misspelt center (which would silently use a default)."""
    with pytest.raises(TypeError, match="retain_emb"):
        entanglement_score("abc", np.ones((2, 2)))
    with pytest.raises(TypeError, match="forget_emb"):
        entanglement_score(np.ones((2, 2)), np.array([[True, False]]))
    with pytest.raises(ValueError, match="center"):
        entanglement_score(np.ones((2, 2)), np.zeros((2, 2)), center="mean")


def test_es_identical_means_raise():
    """Guards against returning inf (or a rounding-noise 1e30) when μ_R = μ_S."""
    r = np.array([[-1.0, 0.0], [1.0, 0.0]])
    s = np.array([[0.0, -1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="infinite"):
        entanglement_score(r, s)
    with pytest.raises(ValueError, match="infinite"):
        entanglement_score(r, s, center="global")
    # means equal up to float rounding only: 0.1 + 0.2 + 0.3 over 3 vs 0.2
    with pytest.raises(ValueError, match="infinite"):
        entanglement_score(np.array([[0.1], [0.2], [0.3]]), np.array([[0.2]]))


def test_entanglement_of_model(synthetic, fitted_mlp):
    """Guards against the model helper embedding something else than the training set, or mixing up the
    forget and retain indices."""
    from rum_core.models import embed

    emb = embed(fitted_mlp, synthetic.train.x)
    forget = np.arange(0, 40)
    assert entanglement_of(fitted_mlp, synthetic, forget) == pytest.approx(
        entanglement_score(emb[40:], emb[:40]), rel=1e-12)
    retain = np.arange(100, 200)
    assert entanglement_of(fitted_mlp, synthetic, forget, retain, center="global") == pytest.approx(
        entanglement_score(emb[retain], emb[forget], center="global"), rel=1e-12)
    with pytest.raises(ValueError):
        entanglement_of(fitted_mlp, synthetic, [])


# ------------------------------------------------------------------------------------ es_groups
def _shells(n_shells=15, per_shell=8, eps=0.1, seed=0):
    """Rings of radius 1..n_shells around centers ε·(cos, sin)(2πg/G) (summing to 0), shuffled.

    Every shell's distance to the centroid lies within ε of its radius, so the shells are the groups; the
    mean difference to the rest has the same length for every shell while the spread grows with the radius,
    so ES strictly increases with the shell. Returns (embeddings, shell of each row).
    """
    pts, shell = [], []
    for g in range(n_shells):
        center = eps * np.array([np.cos(2 * np.pi * g / n_shells), np.sin(2 * np.pi * g / n_shells)])
        ang = 2 * np.pi * (np.arange(per_shell) + 0.3) / per_shell
        pts.append(center + (g + 1) * np.stack([np.cos(ang), np.sin(ang)], 1))
        shell += [g] * per_shell
    perm = np.random.default_rng(seed).permutation(n_shells * per_shell)
    return np.concatenate(pts)[perm], np.array(shell)[perm]


def test_es_groups_sizes_disjoint_cover():
    """Guards against groups of unequal size, overlapping groups, or examples left out of the partition."""
    emb = np.random.default_rng(0).normal(size=(100, 3))
    res = es_groups(emb)  # 100 = 15·6 + 10: ten groups of 7, five of 6
    sizes = np.diff(res.bounds)
    assert sizes.sum() == 100 and sizes.max() - sizes.min() <= 1 and list(sizes[:10]) == [7] * 10
    allg = np.concatenate([res.group(g) for g in range(15)])
    assert np.array_equal(np.sort(allg), np.arange(100))  # every example exactly once
    assert np.array_equal(np.sort(res.order), np.arange(100))
    for label, g in PAPER_ES_PICKS.items():
        assert np.array_equal(res.groups[label], res.group(g))
        assert res.groups[label].dtype == np.int64 and np.all(np.diff(res.groups[label]) > 0)
        assert res.es[label] == pytest.approx(res.group_es[g])
    assert res.labels == ("low", "medium", "high") and res.procedure == "paper"


def test_es_groups_ranks_by_distance_to_centroid():
    """Guards against ranking by distance to the origin (or by norm) instead of to the centroid, and
    against 1-based picks (group 14 must be the farthest)."""
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(150, 2)) + 100.0  # centroid far from the origin
    res = es_groups(emb)
    dist = np.linalg.norm(emb - emb.mean(0), axis=1)
    assert np.all(np.diff(dist[res.order]) >= 0)
    assert set(res.groups["high"]) == set(np.argsort(dist)[-10:])  # the farthest tenth


def test_es_groups_ties_broken_by_index():
    """Guards against an unstable sort: equal distances must be ordered by index."""
    # 1-D, centroid exactly 0; distances 5, 1, 4, 1, 1, 2: indices 1, 3, 4 tie and straddle the first cut
    emb = np.array([[5.0], [1.0], [-4.0], [1.0], [-1.0], [-2.0]])
    res = es_groups(emb, n_groups=3, picks={"a": 0, "b": 1})
    assert res.order.tolist() == [1, 3, 4, 5, 2, 0]
    assert res.groups["a"].tolist() == [1, 3] and res.groups["b"].tolist() == [4, 5]


def test_es_groups_deterministic():
    """Guards against hidden randomness in the paper's procedure."""
    emb = np.random.default_rng(2).normal(size=(90, 4))
    a, b = es_groups(emb), es_groups(emb.copy())
    assert all(np.array_equal(a.groups[k], b.groups[k]) for k in a.groups) and a.es == b.es


def test_es_groups_monotone_when_shells_are():
    """Guards against mislabelled picks: where ES grows with the shell, low < medium < high."""
    emb, shell = _shells()
    res = es_groups(emb)
    for g in range(15):  # the groups are the constructed shells
        assert set(shell[res.group(g)]) == {g}
    assert np.all(np.diff(res.group_es) > 0)
    assert res.monotone and res.es["low"] < res.es["medium"] < res.es["high"]


def test_es_groups_reports_non_monotone():
    """Guards against assuming the labels are right: a far compact cluster makes 'high' the least
    entangled, and the result must say so."""
    rng = np.random.default_rng(3)
    emb = np.concatenate([rng.normal(size=(280, 3)), rng.normal(size=(20, 3)) * 0.05 + 8.0])
    res = es_groups(emb)
    assert res.es["high"] < res.es["low"] and not res.monotone


@pytest.mark.parametrize("kwargs, error", [
    ({"n_groups": 1}, ValueError), ({"n_groups": 0}, ValueError), ({"n_groups": 31}, ValueError),
    ({"n_groups": 2.5}, TypeError), ({"n_groups": True}, TypeError),
    ({"n_groups": 10}, ValueError),  # default picks need 15 groups
    ({"picks": {}}, TypeError), ({"picks": [3, 12]}, TypeError),
    ({"picks": {"low": 15}}, ValueError), ({"picks": {"low": -1}}, ValueError),
    ({"picks": {"low": 2, "high": 2}}, ValueError), ({"picks": {"low": 2.0}}, TypeError),
    ({"picks": {3: 3}}, TypeError),
])
def test_es_groups_errors(kwargs, error):
    """Guards against silently accepting an impossible number of groups or picks."""
    with pytest.raises(error):
        es_groups(np.random.default_rng(0).normal(size=(30, 2)), **kwargs)


def test_es_groups_embedding_errors():
    """Guards against ranking misshapen or non-finite embeddings."""
    with pytest.raises(ValueError, match="embeddings"):
        es_groups(np.ones(30))
    with pytest.raises(ValueError, match="embeddings"):
        es_groups(np.full((30, 2), np.nan))


# ------------------------------------------------------------------------------------ es_controlled
@pytest.fixture(scope="module")
def blobs():
    """Five Gaussian classes in 6-D: a stand-in for a class-structured embedding."""
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 6)) * 4
    return np.concatenate([c + rng.normal(size=(80, 6)) for c in centers])


def test_es_controlled_strictly_increasing_and_sized(blobs):
    """Guards against levels whose ES is not ordered, or sets of the wrong size / with duplicates."""
    for seed in range(4):
        res = es_controlled(blobs, size=30, seed=seed)
        assert res.labels == ("low", "medium", "high") and res.monotone
        assert res.es["low"] < res.es["medium"] < res.es["high"]
        for k, idx in res.groups.items():
            assert len(idx) == 30 and len(np.unique(idx)) == 30 and idx.dtype == np.int64
            assert np.all(np.diff(idx) > 0) and 0 <= idx.min() and idx.max() < len(blobs)
            mask = np.zeros(len(blobs), bool)
            mask[idx] = True
            assert res.es[k] == pytest.approx(entanglement_score(blobs[~mask], blobs[mask]))


def test_es_controlled_low_is_anchor_cluster(blobs):
    """Guards against the share-0 level not being the anchor's nearest neighbours."""
    res = es_controlled(blobs, size=25, anchor=7, fractions=(0.0, 1.0), levels=("low", "high"))
    nearest = np.argsort(np.linalg.norm(blobs - blobs[7], axis=1), kind="stable")[:25]
    assert res.anchor == 7 and np.array_equal(res.groups["low"], np.sort(nearest))


def test_es_controlled_deterministic_and_seeded(blobs):
    """Guards against unseeded randomness, and against a seed that changes nothing."""
    a, b = es_controlled(blobs, size=30, seed=3), es_controlled(blobs, size=30, seed=3)
    assert all(np.array_equal(a.groups[k], b.groups[k]) for k in a.groups) and a.es == b.es
    c = es_controlled(blobs, size=30, seed=4)
    assert any(not np.array_equal(a.groups[k], c.groups[k]) for k in a.groups)
    far = es_controlled(blobs, size=30, seed=3, anchor="far")
    assert far.monotone


def test_es_controlled_repairs_unordered_fractions(blobs):
    """Guards against trusting the mixing fractions without measuring: equal fractions give equal sets,
    so the later levels must be pushed to higher random shares until ES strictly increases."""
    res = es_controlled(blobs, size=30, fractions=(0.3, 0.3, 0.3))
    assert res.monotone
    assert res.detail["low"] == pytest.approx(0.3)
    assert 0.3 < res.detail["medium"] < res.detail["high"]


def test_es_controlled_impossible_raises(blobs):
    """Guards against returning unordered levels when no random share can order them."""
    with pytest.raises(ValueError, match="cannot get a higher ES"):
        es_controlled(blobs, size=30, fractions=(1.0, 1.0), levels=("a", "b"))


@pytest.mark.parametrize("kwargs, error", [
    ({"size": 0}, ValueError), ({"size": 400}, ValueError), ({"size": 3.0}, TypeError),
    ({"size": 10, "levels": ()}, TypeError), ({"size": 10, "levels": ("a", "a")}, ValueError),
    ({"size": 10, "levels": "low"}, TypeError),
    ({"size": 10, "fractions": (0.0, 1.0)}, ValueError), ({"size": 10, "fractions": (0.0, 0.5, 1.5)}, ValueError),
    ({"size": 10, "fractions": (0.5, 0.2, 1.0)}, ValueError),
    ({"size": 10, "fractions": {"low": 0.0, "high": 1.0}}, ValueError),
    ({"size": 10, "anchor": "near"}, ValueError), ({"size": 10, "anchor": 400}, ValueError),
    ({"size": 10, "anchor": "far", "far_quantile": 0.0}, ValueError), ({"size": 10, "seed": -1}, ValueError),
])
def test_es_controlled_errors(blobs, kwargs, error):
    """Guards against silently accepting impossible sizes, levels, fractions or anchors."""
    with pytest.raises(error):
        es_controlled(blobs, **kwargs)


# ------------------------------------------------------------------------------------ glue
def test_es_forget_sets_uses_the_seeds_original_model():
    """Guards against embedding with another model than the run's original model (or re-seeding)."""
    from rum_core.experiments import load_data, original_model
    from rum_core.models import embed
    from rum_core.profiles import get_profile

    profile = get_profile("smoke")
    f = es_forget_sets(profile, "medium", "controlled")
    assert f.forget_name == "es-controlled-medium"
    assert es_forget_sets(profile, "low", "controlled", size=20, anchor="far").forget_name == \
        "es-controlled-low[anchor='far',size=20]"
    bundle = load_data(profile)
    emb = embed(original_model(profile, 0)[0], bundle.train.x)
    size = round(profile.forget_fraction * len(bundle.train))
    expected = es_controlled(emb, size=size, seed=0)
    assert np.array_equal(f(bundle, 0), expected.groups["medium"])
    paper = es_forget_sets(profile, "high")
    assert np.array_equal(paper(bundle, 0), es_groups(emb).groups["high"])
    with pytest.raises(ValueError, match="level"):
        es_forget_sets(profile, "extreme")
    with pytest.raises(ValueError, match="procedure"):
        es_forget_sets(profile, "low", "random")
    with pytest.raises(ValueError, match="seed"):
        es_forget_sets(profile, "low", "controlled", seed=3)


def test_same_mean_up_to_rounding_is_refused_but_a_small_real_gap_is_not():
    """ES is infinite when the two means coincide. Means of the same points summed in another order differ
    by rounding only, which must count as the same mean (catches a guard that fires only for an exact 0);
    a separation far above float64 rounding but small against the spread must still give a finite ES
    (catches a tolerance that grows with the wrong power of the scale or the dimension)."""
    rng = np.random.default_rng(5)  # a permutation whose mean differs from the original's by ~2e-12
    r = rng.normal(size=(97, 16)) * 1e3 + 1e4
    s = r[rng.permutation(97)]
    delta = np.linalg.norm(r.mean(axis=0) - s.mean(axis=0))
    with pytest.raises(ValueError, match="same mean"):
        entanglement_score(r, s)
    shifted = s + 1e-6  # 1e-6 · 4 = 4e-6 apart: ~1e6 times rounding at this scale
    es = entanglement_score(r, shifted)
    assert np.isfinite(es) and es > 1e12
    assert 0 < delta < 1e-9  # the permuted means differ, by rounding only
