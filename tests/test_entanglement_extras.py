"""Helpers of the entanglement chapter: layer embeddings, scaled picks, Jaccard overlap and its figures."""

import numpy as np
import pandas as pd
import pytest
import torch

from rum_core import plots
from rum_core.metrics import entanglement_score
from rum_core.partition import (
    ES_LAYERS,
    PAPER_ES_PICKS,
    es_groups,
    jaccard,
    layer_embeddings,
    scaled_es_picks,
    set_entanglement,
)
from rum_core.stats import mean_ci


# ------------------------------------------------------------------------------------ set ES
def test_set_entanglement_is_es_of_the_set_against_every_other_example():
    """Guards against the set leaking into the rest it is compared with."""
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(60, 3))
    idx = np.array([4, 9, 33, 50, 51])
    rest = np.setdiff1d(np.arange(60), idx)
    assert set_entanglement(emb, idx) == pytest.approx(entanglement_score(emb[rest], emb[idx]))
    assert set_entanglement(emb, idx) != pytest.approx(entanglement_score(emb, emb[idx]))  # rest incl. the set


# ------------------------------------------------------------------------------------ jaccard
def test_jaccard_hand_computed():
    """|{2,3}| / |{1,2,3,4}| = 0.5; guards against dividing by one set's size instead of the union."""
    assert jaccard([1, 2, 3], [2, 3, 4]) == pytest.approx(0.5)
    assert jaccard([1, 2], [1, 2, 3, 4]) == pytest.approx(0.5)


def test_jaccard_identity_disjoint_and_repeats():
    assert jaccard([3, 1, 2], [1, 2, 3]) == 1.0
    assert jaccard([0, 1], [2, 3]) == 0.0
    assert jaccard([1, 1, 2], np.array([2, 2, 1])) == 1.0  # repeats ignored, order ignored
    assert jaccard([], [4]) == 0.0


def test_jaccard_both_empty_raises():
    with pytest.raises(ValueError, match="empty"):
        jaccard([], [])


# ------------------------------------------------------------------------------------ scaled picks
def test_scaled_picks_reproduce_the_paper_at_15_groups():
    assert scaled_es_picks(15) == PAPER_ES_PICKS


@pytest.mark.parametrize(("k", "expected"), [(6, (1, 4, 5)), (10, (2, 8, 9)), (30, (6, 24, 29))])
def test_scaled_picks_hand_computed(k, expected):
    """low = ⌊3k/15⌋, medium = ⌊12k/15⌋, high = the last group."""
    assert tuple(scaled_es_picks(k).values()) == expected
    assert list(scaled_es_picks(k)) == ["low", "medium", "high"]


def test_scaled_picks_are_distinct_and_usable():
    emb = np.random.default_rng(0).normal(size=(120, 3))
    for k in range(6, 40):
        picks = scaled_es_picks(k)
        assert len(set(picks.values())) == 3
        assert es_groups(emb, n_groups=k, picks=picks).detail == picks


def test_scaled_picks_too_few_groups():
    with pytest.raises(ValueError, match="n_groups"):
        scaled_es_picks(5)


# ------------------------------------------------------------------------------------ layer embeddings
def test_layer_embeddings_match_the_model(fitted_mlp, synthetic):
    x = synthetic.train.x[:50]
    feats = layer_embeddings(fitted_mlp, x, "features")
    logits = layer_embeddings(fitted_mlp, x, "logits", batch_size=7)  # batching must not change anything
    raw = layer_embeddings(None, x, "input")
    with torch.no_grad():
        expected_logits = fitted_mlp(x).double().numpy()
        expected_feats = fitted_mlp.features(x).double().numpy()
    assert feats.dtype == logits.dtype == raw.dtype == np.float64
    np.testing.assert_allclose(feats, expected_feats, rtol=1e-6)
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(raw, x.reshape(50, -1).double().numpy())
    assert logits.shape == (50, fitted_mlp.head.out_features)


def test_layer_embeddings_restore_training_mode(fitted_mlp, synthetic):
    fitted_mlp.train()
    layer_embeddings(fitted_mlp, synthetic.train.x[:5], "logits")
    assert fitted_mlp.training
    fitted_mlp.eval()


def test_layer_embeddings_unknown_layer(fitted_mlp, synthetic):
    with pytest.raises(ValueError, match="layer must be one of"):
        layer_embeddings(fitted_mlp, synthetic.train.x[:5], "penultimate")
    assert ES_LAYERS == ("features", "logits", "input")


# ------------------------------------------------------------------------------------ figures
def test_forget_retain_maps_colours_exactly_the_forget_set():
    xy = np.arange(20, dtype=float).reshape(10, 2)
    fig = plots.forget_retain_maps(xy, {"a": [1, 3], "b": [0]}, titles=["A", "B"])
    ax = fig.axes[0]
    retain, forget = ax.collections
    assert len(retain.get_offsets()) == 8 and len(forget.get_offsets()) == 2
    np.testing.assert_array_equal(forget.get_offsets(), xy[[1, 3]])
    assert [a.get_title() for a in fig.axes[:2]] == ["A", "B"]
    with pytest.raises(ValueError, match="coords"):
        plots.forget_retain_maps(np.zeros((4, 3)), {"a": [0]})


def test_metric_by_level_orders_levels_and_draws_intervals():
    """Levels in their category order (not the frame's), one line per series, the tables' intervals."""
    runs = pd.DataFrame({"level": ["high", "low"] * 4, "method": ["m"] * 4 + ["n"] * 4,
                         "tow": [0.5, 0.9, 0.7, 0.8, 0.6, 0.8, 0.4, 0.7]})
    runs["level"] = pd.Categorical(runs["level"], categories=["low", "high"], ordered=True)
    fig = plots.metric_by_level(runs, metric="tow")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["low", "high"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["m", "n"]
    m_line = next(ln for ln in ax.lines if len(ln.get_ydata()) == 2)  # the first series' means, low → high
    np.testing.assert_allclose(m_line.get_ydata(), [0.85, 0.6])
    assert m_line.get_xdata()[0] < m_line.get_xdata()[1]
    mean, half = mean_ci([0.9, 0.8])
    low_bar = next(ln for ln in ax.lines if np.isnan(np.asarray(ln.get_ydata(), dtype=float)).any())
    assert (np.nanmin(low_bar.get_ydata()), np.nanmax(low_bar.get_ydata())) == pytest.approx((mean - half,
                                                                                               mean + half))


def test_es_by_group_positions_and_mean():
    fig = plots.es_by_group({"a": np.array([[1.0, 10.0], [3.0, 30.0]]), "b": np.array([5.0, 6.0, 7.0])},
                            picks={"low": 0})
    ax = fig.axes[0]
    a, b = (line for line in ax.get_lines() if line.get_label() in ("a", "b"))
    np.testing.assert_allclose(a.get_xdata(), [0.25, 0.75])  # group g of k at (g + ½)/k
    np.testing.assert_allclose(a.get_ydata(), [2.0, 20.0])  # mean over seeds
    np.testing.assert_allclose(b.get_xdata(), [1 / 6, 0.5, 5 / 6])
    assert ax.get_yscale() == "log"


def test_umap_2d_shape_and_reproducible():
    pytest.importorskip("umap")
    x = np.random.default_rng(0).normal(size=(60, 5))
    a = plots.umap_2d(x, random_state=0, n_neighbors=10)
    b = plots.umap_2d(x, random_state=0, n_neighbors=10)
    assert a.shape == (60, 2) and a.dtype == np.float64
    np.testing.assert_allclose(a, b)
    with pytest.raises(ValueError, match="n_neighbors"):
        plots.umap_2d(x[:5])


def test_umap_2d_runs_single_threaded_and_restores_the_thread_settings(monkeypatch):
    """UMAP runs with numba and the BLAS/OpenMP pools at one thread (the cause of slow training after it
    was numba's free worker threads), and the caller's settings come back afterwards."""
    pytest.importorskip("umap")
    import numba
    import umap
    from threadpoolctl import threadpool_info

    seen = {}
    real_fit = umap.UMAP.fit_transform

    def spy(self, x, *args, **kwargs):
        seen["numba"] = numba.get_num_threads()
        seen["pools"] = {p["num_threads"] for p in threadpool_info()}
        return real_fit(self, x, *args, **kwargs)

    monkeypatch.setattr(umap.UMAP, "fit_transform", spy)
    before = numba.get_num_threads()
    plots.umap_2d(np.random.default_rng(0).normal(size=(40, 3)), n_neighbors=5)
    assert seen["numba"] == 1 and seen["pools"] <= {1}
    assert numba.get_num_threads() == before
