import functools
import warnings

import numpy as np
import pytest
import torch

from rum_core import data, ensembles, models, partition, training
from rum_core import memorization as mem
from rum_core.data import DataBundle, Split
from rum_core.memorization import proxy_scores
from rum_core.training import TrainConfig

FAST = TrainConfig(epochs=15, lr=0.05, batch_size=32)
SMALL = {"hidden": (32,)}
FIT = TrainConfig(epochs=20, lr=0.1, batch_size=32)  # fits the planted mislabelled example every time
WIDE = {"hidden": (64,)}


def _bundle_like(base: DataBundle, x, y, name="constructed") -> DataBundle:
    return DataBundle(name=name, train=Split(x, y), test=base.test, num_classes=base.num_classes,
                      class_names=base.class_names, mean=base.mean, std=base.std)


@pytest.fixture(scope="module")
def planted(synthetic):
    """Synthetic data with a planted mislabelled example (index 1) and an exact duplicate of a typical
    example (index 0, copied to the end)."""
    x, y = synthetic.train.x.clone(), synthetic.train.y.clone()
    y[1] = (y[1] + 1) % synthetic.num_classes
    x = torch.cat([x, x[:1]])
    y = torch.cat([y, y[:1]])
    return _bundle_like(synthetic, x, y, "planted")


# ------------------------------------------------------------------------------------------ from_runs
def test_from_runs_matches_hand_computed_values():
    """Guards against swapping in/out, averaging over all models instead of the in (or out) models, or a
    wrong standard-error formula."""
    included = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1], [0, 0, 1]], dtype=bool)
    correct = np.array([[1, 1, 1], [1, 0, 0], [0, 1, 1], [1, 0, 0]], dtype=bool)
    est = mem.from_runs(correct, included)
    # example 0: in = models 0,1 (1,1) → 1; out = models 2,3 (0,1) → 0.5
    # example 1: in = models 1,2 (0,1) → 0.5; out = models 0,3 (1,0) → 0.5
    # example 2: in = models 0,2,3 (1,1,0) → 2/3; out = model 1 (0) → 0
    np.testing.assert_allclose(est.scores, [0.5, 0.0, 2 / 3])
    np.testing.assert_array_equal(est.n_in, [2, 2, 3])
    np.testing.assert_array_equal(est.n_out, [2, 2, 1])
    np.testing.assert_allclose(est.p_in, [1.0, 0.5, 2 / 3])
    np.testing.assert_allclose(est.p_out, [0.5, 0.5, 0.0])
    expected_se = [np.sqrt(0 + 0.25 / 2), np.sqrt(0.25 / 2 + 0.25 / 2), np.sqrt((2 / 9) / 3 + 0)]
    np.testing.assert_allclose(est.stderr, expected_se)
    frame = est.to_frame()
    assert list(frame["score"].round(6)) == [0.5, 0.0, round(2 / 3, 6)] and len(frame) == 3


def test_from_runs_nan_for_never_in_or_never_out_with_warning():
    """An example with no "in" (or no "out") model has no estimate: it must be NaN and announced, not a
    silent 0 − p or p − 0."""
    included = np.array([[1, 0, 1], [1, 0, 0]], dtype=bool)  # ex 0 always in, ex 1 never in
    correct = np.ones((2, 3), dtype=bool)
    with pytest.warns(RuntimeWarning, match="2 example"):
        est = mem.from_runs(correct, included)
    assert np.isnan(est.scores[0]) and np.isnan(est.scores[1]) and est.scores[2] == 0.0
    assert np.isnan(est.stderr[:2]).all()
    np.testing.assert_array_equal(est.n_in, [2, 0, 1])


def test_from_runs_validates_inputs():
    """Guards against accepting an index array (ints) as a mask or arrays of different shapes."""
    inc = np.ones((2, 3), dtype=bool)
    with pytest.raises(TypeError, match="included"):
        mem.from_runs(np.ones((2, 3), dtype=bool), inc.astype(int))
    with pytest.raises(ValueError, match="shape"):
        mem.from_runs(np.ones((2, 4), dtype=bool), inc)
    with pytest.raises(ValueError, match="0/1"):
        mem.from_runs(np.full((2, 3), 2), inc)
    with pytest.raises(ValueError, match="2-D"):
        mem.from_runs(np.ones(3, dtype=bool), np.ones(3, dtype=bool))
    est = mem.from_runs(torch.ones(2, 3, dtype=torch.int64), torch.tensor([[True] * 3, [False] * 3]))
    np.testing.assert_array_equal(est.scores, [0.0, 0.0, 0.0])


# ------------------------------------------------------------------------------------------- designs
@pytest.mark.parametrize("ratio,k", [(0.5, 8), (0.7, 20), (0.3, 30)])
def test_balanced_design_gives_every_example_the_same_counts(ratio, k):
    """Every example must be in exactly ratio·K models (so all estimates have the same variance) and model
    sizes may differ by at most one example."""
    n = 103
    mask = ensembles.inclusion_design(n, k, ratio, "balanced", seed=3)
    assert mask.shape == (k, n) and mask.dtype == bool
    assert set(mask.sum(axis=0)) == {round(ratio * k)}
    sizes = mask.sum(axis=1)
    assert sizes.max() - sizes.min() <= 1
    assert abs(sizes.mean() - ratio * n) < 1
    np.testing.assert_array_equal(mask, ensembles.inclusion_design(n, k, ratio, "balanced", seed=3))
    assert not np.array_equal(mask, ensembles.inclusion_design(n, k, ratio, "balanced", seed=4))


def test_balanced_design_pairs_are_not_locked_together():
    """Across rounds the folds are redrawn: two examples must not always share their in/out pattern (a
    fixed fold structure would make a duplicate look memorized)."""
    mask = ensembles.inclusion_design(200, 40, 0.5, "balanced", seed=0)
    same = (mask[:, :, None] == mask[:, None, :]).all(axis=0)
    np.fill_diagonal(same, False)
    assert same.sum() < 0.05 * same.size


def test_design_validation_and_random_design():
    """Guards against silently unbalanced designs: a K the folds cannot use must be rejected."""
    with pytest.raises(ValueError, match="multiple of 10"):
        ensembles.inclusion_design(100, 25, 0.7, "balanced")
    with pytest.raises(ValueError, match="design"):
        ensembles.inclusion_design(100, 20, 0.7, "folds")
    with pytest.raises(ValueError, match="subset_ratio"):
        ensembles.inclusion_design(100, 20, 1.0, "random")
    mask = ensembles.inclusion_design(100, 25, 0.7, "random", seed=1)
    assert set(mask.sum(axis=1)) == {70}
    seeds = ensembles.model_seeds(5, 4)
    np.testing.assert_array_equal(seeds, ensembles.model_seeds(5, 10)[:4])
    assert len(set(seeds.tolist())) == 4


# ------------------------------------------------------------------------------------ batched training
def _loop_models(bundle, subsets, seeds, cfg, kw):
    out = []
    for sub, seed in zip(subsets, seeds, strict=True):
        model = models.build("mlp", bundle, seed=int(seed), **kw)
        part = bundle.train.subset(np.sort(sub))
        training.fit(model, part.x, part.y, cfg, seed=int(seed), device="cpu", progress_bar=False)
        out.append(model)
    return out


@pytest.mark.parametrize("hidden,schedule", [((32,), "cosine"), ((16, 8), "constant")])
def test_batched_training_equals_one_at_a_time_fit(synthetic, hidden, schedule):
    """The batched trainer must replay fit exactly (init, per-model shuffling, ragged last batch, momentum,
    weight decay on every parameter, the schedule over each model's own step count): a wrong batch order,
    a shared generator or a missing weight-decay term shows up as weights far beyond float rounding."""
    cfg = TrainConfig(epochs=4, lr=0.05, batch_size=32, weight_decay=5e-3, schedule=schedule)
    n = len(synthetic.train)
    rng = np.random.default_rng(0)
    subsets = [rng.choice(n, size=s, replace=False) for s in (150, 150, 150, 100, 100)]  # two sizes, ragged
    seeds = [11, 12, 13, 14, 15]
    kw = {"hidden": hidden}
    stack = ensembles.train_stack(synthetic, subsets, seeds, cfg, model_kwargs=kw, device="cpu",
                                      chunk_size=2, n_threads=2, progress_bar=False)
    loop = _loop_models(synthetic, subsets, seeds, cfg, kw)
    batched = stack.to_models(synthetic, kw)
    for ref, got in zip(loop, batched, strict=True):
        for (name, p), q in zip(ref.state_dict().items(), got.state_dict().values(), strict=True):
            torch.testing.assert_close(q, p, atol=1e-5, rtol=1e-4, msg=name)
    z = stack.logits(synthetic.test.x)
    for k, ref in enumerate(loop):
        torch.testing.assert_close(z[k], training.predict_logits(ref, synthetic.test.x), atol=1e-4, rtol=1e-4)
    # chunking and threads must not change the result
    whole = ensembles.train_stack(synthetic, subsets, seeds, cfg, model_kwargs=kw, device="cpu",
                                      chunk_size=8, n_threads=1, progress_bar=False)
    for a, b in zip(stack.weights, whole.weights, strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_train_ensemble_outputs_and_loop_fallback_agree(synthetic):
    """Batched and loop paths must return the same per-model predictions in the same model order (a
    reordering bug between chunks/groups would pair models with the wrong subsets)."""
    cfg = TrainConfig(epochs=3, lr=0.05, batch_size=32)
    mask = ensembles.inclusion_design(len(synthetic.train), 4, 0.5, "balanced", seed=0)
    seeds = ensembles.model_seeds(0, 4)
    fast = ensembles.train_ensemble(synthetic, mask, seeds, cfg, model_kwargs=SMALL, device="cpu",
                                    chunk_size=1, keep_logits=True, progress_bar=False)
    slow = ensembles.train_ensemble(synthetic, mask, seeds, cfg, model_kwargs=SMALL, device="cpu",
                                    batched=False, n_jobs=1, keep_logits=True, progress_bar=False)
    assert fast.batched and not slow.batched
    np.testing.assert_array_equal(fast.included, mask)
    for a, b in ((fast.train, slow.train), (fast.test, slow.test)):
        np.testing.assert_allclose(a.logits, b.logits, atol=1e-4, rtol=1e-4)
        np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-5)
        np.testing.assert_allclose(a.logit_confidence, b.logit_confidence, atol=1e-3, rtol=1e-4)
        # correctness can only differ where two logits are (nearly) tied
        assert (a.correct != b.correct).mean() < 0.01
    z = torch.from_numpy(fast.train.logits).double()
    p = torch.softmax(z, dim=2).gather(2, synthetic.train.y.view(1, -1, 1).expand(4, -1, 1)).squeeze(2)
    np.testing.assert_allclose(fast.train.confidence, p.numpy(), atol=1e-6)
    assert fast.train_flops == 2 * (2 * (64 * 32 + 32 * 4) + 32 * 4) * 3 * mask.sum()  # see test_train_flops
    np.testing.assert_array_equal(fast.grad_evals, 3 * mask.sum(axis=1))


def test_foreach_sgd_fallback_equals_fit(synthetic, monkeypatch):
    """Without PyTorch's fused SGD kernel (a device that lacks it) the stacked optimizer's foreach path must
    do the same update as fit's optimizer (weight decay added to the gradient before momentum)."""
    from rum_core.ensembles import mlp

    monkeypatch.setattr(mlp, "stacked_sgd", functools.partial(mlp.stacked_sgd, fused=False))
    cfg = TrainConfig(epochs=3, lr=0.05, batch_size=32, weight_decay=5e-3)
    subsets = [np.arange(0, 150), np.arange(50, 200)]
    stack = ensembles.train_stack(synthetic, subsets, [3, 4], cfg, model_kwargs=SMALL, device="cpu",
                                      progress_bar=False)
    for ref, got in zip(_loop_models(synthetic, subsets, [3, 4], cfg, SMALL), stack.to_models(synthetic, SMALL),
                        strict=True):
        for p, q in zip(ref.parameters(), got.parameters(), strict=True):
            torch.testing.assert_close(q, p, atol=1e-5, rtol=1e-4)


def test_non_mlp_models_use_the_fit_loop(synthetic):
    """Models the batched trainer cannot run (here a CNN) must fall back to fit, model k on subset k."""
    cfg = TrainConfig(epochs=1, lr=0.05, batch_size=32)
    mask = ensembles.inclusion_design(len(synthetic.train), 2, 0.5, "balanced", seed=0)
    seeds = ensembles.model_seeds(0, 2)
    res = ensembles.train_ensemble(synthetic, mask, seeds, cfg, model="small_cnn", model_kwargs={"width": 4},
                                   device="cpu", n_jobs=1, progress_bar=False)
    assert not res.batched and np.isnan(res.train_flops)
    model = models.build("small_cnn", synthetic, seed=int(seeds[1]), width=4)
    part = synthetic.train.subset(np.flatnonzero(mask[1]))
    training.fit(model, part.x, part.y, cfg, seed=int(seeds[1]), device="cpu", progress_bar=False)
    p = torch.softmax(training.predict_logits(model, synthetic.test.x).double(), dim=1)
    np.testing.assert_allclose(res.test.confidence[1], p[torch.arange(len(synthetic.test)), synthetic.test.y],
                               atol=1e-6)
    with pytest.raises(ValueError, match="batched"):
        ensembles.train_ensemble(synthetic, mask, seeds, cfg, model="small_cnn", batched=True)


@pytest.fixture(scope="module")
def mnist1d_small():
    from rum_core import data

    return data.load("mnist1d", size=400)


def test_stacked_cnn1d_training_equals_one_at_a_time_fit(mnist1d_small):
    """The stacked CNN trainer must replay fit model by model (init, per-model shuffling, ragged last batch,
    momentum, weight decay, the schedule over each model's own steps); chunking and threads must not
    change the result, and train_ensemble must pair each model with its own subset."""
    cfg = TrainConfig(epochs=3, lr=0.1, batch_size=32, weight_decay=5e-3)
    n = len(mnist1d_small.train)
    rng = np.random.default_rng(1)
    subsets = [rng.choice(n, size=s, replace=False) for s in (200, 200, 200, 150)]  # two sizes, ragged
    seeds, kw = [21, 22, 23, 24], {"width": 6}
    stack = ensembles.train_stack(mnist1d_small, subsets, seeds, cfg, model="cnn1d", model_kwargs=kw,
                                  device="cpu", chunk_size=2, n_threads=2, progress_bar=False)
    got = stack.to_models(mnist1d_small, kw)
    loop = []
    for sub, seed in zip(subsets, seeds, strict=True):
        model = models.build("cnn1d", mnist1d_small, seed=seed, **kw)
        part = mnist1d_small.train.subset(np.sort(sub))
        training.fit(model, part.x, part.y, cfg, seed=seed, device="cpu", progress_bar=False)
        loop.append(model)
    for ref, net in zip(loop, got, strict=True):
        for (name, p), q in zip(ref.state_dict().items(), net.state_dict().values(), strict=True):
            torch.testing.assert_close(q, p, atol=1e-5, rtol=1e-4, msg=name)
    whole = ensembles.train_stack(mnist1d_small, subsets, seeds, cfg, model="cnn1d", model_kwargs=kw,
                                  device="cpu", chunk_size=8, n_threads=1, progress_bar=False)
    for a, b in zip(stack.weights + [stack.head_weight], whole.weights + [whole.head_weight], strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    z = stack.logits(mnist1d_small.test.x)
    for k, ref in enumerate(loop):
        torch.testing.assert_close(z[k], training.predict_logits(ref, mnist1d_small.test.x), atol=1e-4, rtol=1e-4)
    res = ensembles.train_ensemble(mnist1d_small, subsets, seeds, cfg, model="cnn1d", model_kwargs=kw,
                                   device="cpu", chunk_size=3, keep_logits=True, progress_bar=False)
    assert res.batched
    for k, ref in enumerate(loop):
        torch.testing.assert_close(torch.from_numpy(res.test.logits[k]),
                                   training.predict_logits(ref, mnist1d_small.test.x), atol=1e-4, rtol=1e-4)
    assert res.train_flops == ensembles.train_flops(mnist1d_small, "cnn1d", 3 * 750, kw)


@pytest.mark.parametrize("length", [4, 5, 7, 12, 21])
def test_stacked_cnn1d_folds_window_gradients_back_for_any_sequence_length(mnist1d_small, length):
    """col2im is planned from the geometry: odd and even lengths at each layer (outputs 19→10→5 at 40, here
    e.g. 4→1→1→1 and 21→10→5→3) change which taps read which positions. A wrong plan (a position skipped
    or summed twice) changes the trained weights."""
    import dataclasses

    crop = lambda split: dataclasses.replace(split, x=split.x[..., :length].contiguous())  # noqa: E731
    bundle = dataclasses.replace(mnist1d_small, train=crop(mnist1d_small.train), test=crop(mnist1d_small.test),
                                 val=None)
    cfg = TrainConfig(epochs=2, lr=0.1, batch_size=16)
    rng = np.random.default_rng(length)
    subsets = [rng.choice(len(bundle.train), size=40, replace=False) for _ in range(2)]
    seeds, kw = [3, 4], {"width": 4}
    stack = ensembles.train_stack(bundle, subsets, seeds, cfg, model="cnn1d", model_kwargs=kw, device="cpu",
                                  n_threads=1, progress_bar=False)
    for net, sub, seed in zip(stack.to_models(bundle, kw), subsets, seeds, strict=True):
        ref = models.build("cnn1d", bundle, seed=seed, **kw)
        part = bundle.train.subset(np.sort(sub))
        training.fit(ref, part.x, part.y, cfg, seed=seed, device="cpu", progress_bar=False)
        for (name, p), q in zip(ref.state_dict().items(), net.state_dict().values(), strict=True):
            torch.testing.assert_close(q, p, atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.parametrize("kernel,stride,pad", [(5, 2, 1), (3, 2, 1), (1, 2, 0), (3, 1, 1), (4, 3, 2)])
@pytest.mark.parametrize("length", [3, 4, 9, 10])
def test_col2im_plan_gives_each_input_position_exactly_the_windows_that_read_it(kernel, stride, pad, length):
    """Brute force: position p gets the gradient of tap t at output o iff stride·o + t − pad = p; positions no
    window reads (kernel 1, stride 2) are in a segment without taps (zero-filled)."""
    from rum_core.ensembles.cnn1d import CNN1dStack

    geometry = ((2, 2, kernel, stride, pad),)
    stack = CNN1dStack([torch.zeros(1, 2 * kernel, 2)], [torch.zeros(1, 1, 2)], torch.zeros(1, 3, 2),
                       torch.zeros(1, 3, 1), geometry, length)
    n_out = stack.lengths[1]
    got: dict[int, set] = {}
    for start, count, step, taps in stack._col2im[0]:
        for j in range(count):
            p = start + step * j
            assert p not in got, f"position {p} written twice"
            got[p] = {(t, o + j) for t, o in taps}
    want = {p: {(t, o) for t in range(kernel) for o in range(n_out) if stride * o + t - pad == p}
            for p in range(length)}
    assert got == want


def test_stacked_trainer_uses_every_cpu_even_when_torch_is_set_to_one_thread(synthetic, monkeypatch):
    """Chapters of tiny models set torch.set_num_threads(1); the chunks (one BLAS thread each) must still be
    spread over every usable CPU by default, not serialized on one core."""
    import os

    from rum_core.ensembles import train as ens_train

    seen = {}
    real = ens_train.run_chunks

    def spy(work, run, *, threads, **kw):
        seen["threads"] = threads
        return real(work, run, threads=threads, **kw)

    monkeypatch.setattr(ens_train, "run_chunks", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        ensembles.train_stack(synthetic, [np.arange(20), np.arange(20, 40)], [0, 1], TrainConfig(epochs=1, lr=0.1),
                              model_kwargs=SMALL, device="cpu", progress_bar=False)
    finally:
        torch.set_num_threads(before)
    assert seen["threads"] == len(os.sched_getaffinity(0))


def test_stacked_trainer_refuses_what_it_cannot_replay(mnist1d_small, synthetic):
    cfg = TrainConfig(epochs=1, lr=0.1, batch_size=32)
    with pytest.raises(ValueError, match="to train batched"):
        ensembles.train_stack(synthetic, [np.arange(10)], [0], cfg, model="small_cnn")
    with pytest.raises(ValueError, match="augmentation"):
        ensembles.train_stack(mnist1d_small, [np.arange(10)], [0], TrainConfig(epochs=1, lr=0.1, augment="crop"),
                              model="cnn1d")
    with pytest.raises(ValueError, match="2 subsets but 1 seeds"):
        ensembles.train_stack(mnist1d_small, [np.arange(10), np.arange(5)], [0], cfg, model="cnn1d")


def test_train_flops_counts_what_sgd_computes():
    """Forward and weight gradients of every layer, input gradients of all but the first: for an MLP the
    hand formula; for cnn1d (width 8 on length 40: outputs 19, 10, 5) counted by hand here."""
    from rum_core import data

    digits = data.load("synthetic")
    pairs = [64 * 32, 32 * 16, 16 * 4]  # 8×8 inputs, hidden 32 and 16, 4 classes
    assert ensembles.train_flops(digits, "mlp", 3, {"hidden": (32, 16)}) == 3 * 2 * (2 * sum(pairs) + sum(pairs[1:]))
    w = 8
    conv1, conv2, conv3, head = 2 * 19 * w * 5, 2 * 10 * w * w * 3, 2 * 5 * w * w * 3, 2 * 5 * w * 10
    per_example = 2 * (conv1 + conv2 + conv3 + head) + conv2 + conv3 + head
    assert ensembles.train_flops(data.load("mnist1d", size=200), "cnn1d", 2, {"width": w}) == 2 * per_example


# ----------------------------------------------------------------------------------------- estimator
@pytest.fixture(scope="module")
def planted_runs(planted):
    return mem.estimate(planted, n_models=40, train=FIT, subset_ratio=0.5, model_kwargs=WIDE, seed=0,
                        device="cpu", use_cache=False, progress_bar=False)


def test_estimate_finds_the_mislabelled_example_and_not_the_duplicate(planted_runs, planted):
    """A mislabelled example is right only when trained on (score ≈ 1); an exact duplicate of a typical
    example is right either way (score ≈ 0). Guards against in/out or label mix-ups in the pipeline."""
    s = planted_runs.scores
    n = len(planted.train)
    assert planted_runs.train_accuracy_in > 0.98
    assert s[1] > 0.8
    assert abs(s[0]) < 0.1 and abs(s[n - 1]) < 0.1
    assert np.median(np.abs(s)) < 0.05
    assert np.argmax(s) == 1
    assert set(planted_runs.estimate.n_in) == {20} and set(planted_runs.estimate.n_out) == {20}


def test_estimate_keeps_shadow_bookkeeping(planted_runs, planted):
    """The same models serve as LiRA shadows: masks, correctness and φ must line up row by row."""
    k, n = planted_runs.included.shape
    assert (k, n) == (40, len(planted.train))
    assert planted_runs.confidence.shape == planted_runs.logit_confidence.shape == (k, n)
    assert planted_runs.test_correct.shape == (k, len(planted.test))
    conf = planted_runs.confidence.astype(np.float64)
    ok = conf < 0.999
    phi = np.log(conf[ok]) - np.log1p(-conf[ok])
    np.testing.assert_allclose(planted_runs.logit_confidence[ok], phi, atol=2e-3)
    in_stats, out_stats = planted_runs.lira_stats()
    assert np.isnan(in_stats[~planted_runs.included]).all() and not np.isnan(in_stats[planted_runs.included]).any()
    assert np.isnan(out_stats[planted_runs.included]).all()
    np.testing.assert_array_equal(planted_runs.seeds, ensembles.model_seeds(0, 40))


def test_estimate_warns_when_models_do_not_fit(synthetic):
    """Underfitted models make every score ≈ 0; that must not pass silently."""
    weak = TrainConfig(epochs=1, lr=0.001, batch_size=64)
    with pytest.warns(RuntimeWarning, match="fit their data"):
        mem.estimate(synthetic, n_models=4, train=weak, subset_ratio=0.5, model_kwargs=SMALL, device="cpu",
                     use_cache=False, progress_bar=False)


def test_estimate_is_cached(synthetic):
    """A second identical call must load the stored runs (same arrays) instead of training again."""
    cfg = TrainConfig(epochs=2, lr=0.05, batch_size=64)
    kwargs = dict(n_models=4, train=cfg, subset_ratio=0.5, model_kwargs=SMALL, device="cpu", seed=7,
                  progress_bar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        a = mem.estimate(synthetic, **kwargs)
        b = mem.estimate(synthetic, **kwargs)
    np.testing.assert_array_equal(a.correct, b.correct)
    np.testing.assert_array_equal(a.confidence, b.confidence)
    assert a.seconds == b.seconds


# -------------------------------------------------------------------------------------------- proxies
def test_proxies_rank_the_mislabelled_example_as_most_memorized(planted):
    """Every proxy, once oriented, must put the planted mislabelled example at the top; guards against a
    sign error in the HIGH_MEANS_LOW_MEMORIZATION convention or in a proxy."""
    frame = mem.proxies(planted, train=FIT, model_kwargs=WIDE, seed=0, device="cpu", use_cache=False,
                        progress_bar=False)
    assert len(frame) == len(planted.train) and list(frame.columns) == ["index", "label", *mem.PROXIES]
    assert mem.HIGH_MEANS_LOW_MEMORIZATION <= set(mem.PROXIES)
    assert frame.attrs["high_means_low_memorization"] == sorted(mem.HIGH_MEANS_LOW_MEMORIZATION)
    assert frame[list(mem.PROXIES)].notna().all().all()
    assert frame["binary_accuracy"].between(0, 1).all() and (frame["neg_entropy"] <= 1e-12).all()
    oriented = mem.orient_proxies(frame)
    for name in mem.PROXIES:
        ranks = oriented[name].rank(ascending=False)
        # holdout retraining is the noisiest proxy (one fine-tuning run): top 10% rather than top 3
        assert ranks[1] <= (3 if name != "holdout_kl" else 0.1 * len(frame)), name
    assert (oriented["confidence"] == -frame["confidence"]).all()


def test_fit_on_epoch_hook_runs_once_per_epoch(synthetic):
    """The proxies rely on fit's on_epoch hook: once per epoch, after the epoch's updates, in order."""
    seen = []
    model = models.build("mlp", synthetic, seed=0, **SMALL)
    training.fit(model, synthetic.train.x, synthetic.train.y, TrainConfig(epochs=3, lr=0.05, batch_size=64),
                 device="cpu", progress_bar=False,
                 on_epoch=lambda epoch, m: seen.append((epoch, m is model, m.head.weight.detach().clone())))
    assert [e for e, _, _ in seen] == [0, 1, 2] and all(same for _, same, _ in seen)
    assert not torch.equal(seen[0][2], seen[1][2])
    torch.testing.assert_close(seen[-1][2], model.head.weight.detach())


def test_proxies_refuse_the_test_set_as_holdout(synthetic):
    """The authors' holdout retraining fine-tunes on the test set used for evaluation; ours must refuse."""
    with pytest.raises(ValueError, match="test set"):
        mem.proxies(synthetic, train=FAST, model_kwargs=SMALL, holdout=synthetic.test, use_cache=False)
    with pytest.raises(ValueError, match="test set"):
        mem.proxies(synthetic, train=FAST, model_kwargs=SMALL, holdout=(synthetic.test.x.clone(), synthetic.test.y),
                    use_cache=False)


def _holdout_error(bundle, x, y):
    with pytest.raises(ValueError, match="overlap the test set") as err:
        mem.proxies(bundle, train=FAST, model_kwargs=SMALL, holdout=(x, y), use_cache=False)
    return str(err.value)


def test_holdout_guard_refuses_any_overlap_with_the_test_set(synthetic):
    """Not only an exact copy of the test set: any held-out input equal to a test input is refused, and the
    message says how many rows overlap. (Catches the old guard, which compared the whole tensor only.)"""
    test, other = synthetic.test, data.load("synthetic", seed=5).test
    n = len(test)
    # Catches the mutation: the guard refuses only an exact copy of the test set (torch.equal on all of it).
    # the test set minus one example
    assert f"{n - 1} of its {n - 1} input rows" in _holdout_error(synthetic, test.x[1:], test.y[1:])
    # a permuted test set
    perm = torch.from_numpy(np.random.default_rng(0).permutation(n))
    assert f"{n} of its {n} input rows" in _holdout_error(synthetic, test.x[perm], test.y[perm])
    # a single test example mixed into other data (at row 7), with another label and as float64
    x = torch.cat([other.x[:7], test.x[3:4], other.x[7:40]]).double()
    y = torch.cat([other.y[:7], (test.y[3:4] + 1) % synthetic.num_classes, other.y[7:40]])
    assert "1 of its 41 input rows" in _holdout_error(synthetic, x, y)
    assert "first at holdout row 7" in _holdout_error(synthetic, x, y)
    # a Split sharing rows is refused like an (x, y) pair; −0.0 and 0.0 are the same input
    with pytest.raises(ValueError, match="2 of its 2 input rows"):
        proxy_scores._as_holdout_split(test.subset([4, 0]), synthetic)
    row = torch.tensor([[0.0, 1.5]])
    assert proxy_scores._row_digests(row) == proxy_scores._row_digests(torch.tensor([[-0.0, 1.5]]).double())
    assert proxy_scores._row_digests(row) != proxy_scores._row_digests(torch.tensor([[1.5, 0.0]]))
    # disjoint data is accepted, even when it is a near copy of the test set (one value changed per row)
    nudged = test.x.clone()
    nudged.view(n, -1)[:, 0] += 1e-3
    assert proxy_scores._as_holdout_split((nudged, test.y), synthetic).x.shape == test.x.shape
    assert len(proxy_scores._as_holdout_split(other, synthetic)) == len(other)


def test_proxies_with_external_holdout(synthetic):
    """With caller-provided held-out data the main model is fine-tuned on it and every example is scored."""
    other = data.load("synthetic", seed=5)
    cfg = TrainConfig(epochs=3, lr=0.05, batch_size=32)
    frame = mem.proxies(synthetic, train=cfg, model_kwargs=SMALL, holdout=other.test, device="cpu",
                        use_cache=False, progress_bar=False)
    assert (frame["holdout_kl"] >= 0).all() and frame["holdout_kl"].notna().all()
    skipped = mem.proxies(synthetic, train=cfg, model_kwargs=SMALL, holdout=False, device="cpu",
                          use_cache=False, progress_bar=False)
    assert skipped["holdout_kl"].isna().all()
    np.testing.assert_allclose(skipped["confidence"], frame["confidence"])


# --------------------------------------------------------------------------------------------- groups
def test_memorization_groups_sizes_disjoint_and_deterministic():
    """Groups must have n members each, never overlap, and not depend on anything but the scores."""
    rng = np.random.default_rng(0)
    scores = rng.random(50)
    g = partition.memorization_groups(scores, 10)
    assert all(len(g[name]) == 10 for name in partition.MEMORIZATION_LEVELS)
    assert len(np.unique(np.concatenate(list(g.values())))) == 30
    order = np.argsort(scores)
    np.testing.assert_array_equal(g["low"], np.sort(order[:10]))
    np.testing.assert_array_equal(g["high"], np.sort(order[-10:]))
    rest = order[10:-10]
    np.testing.assert_array_equal(g["medium"], np.sort(rest[np.argsort(np.abs(scores[rest] - 0.5))[:10]]))
    again = partition.memorization_groups(scores.copy(), 10)
    assert all(np.array_equal(g[k], again[k]) for k in g)


def test_memorization_groups_break_ties_by_score_then_index():
    """With tied scores the authors' scripts gave different sets in different places; ours breaks ties by
    (score, index), so low takes the smallest indices and high the largest."""
    scores = np.zeros(12)
    g = partition.memorization_groups(scores, 3)
    np.testing.assert_array_equal(g["low"], [0, 1, 2])
    np.testing.assert_array_equal(g["high"], [9, 10, 11])
    np.testing.assert_array_equal(g["medium"], [3, 4, 5])  # all equally far from 0.5: smallest indices
    scores = np.array([0.5, 0.4, 0.6, 0.5, 0.0, 1.0, 0.45, 0.55, 0.9])
    g = partition.memorization_groups(scores, 2)
    np.testing.assert_array_equal(g["low"], [1, 4])
    np.testing.assert_array_equal(g["high"], [5, 8])
    np.testing.assert_array_equal(g["medium"], [0, 3])  # exactly 0.5 beats 0.45 and 0.55


def test_memorization_groups_flip_and_nan_rules():
    """flip=True must make "high" the LOW-score end (confidence-like inputs); NaN scores are rejected unless
    the caller asks to omit them; too few examples for three groups is an error."""
    scores = np.arange(9, dtype=float) / 8
    g = partition.memorization_groups(scores, 3, flip=True)
    np.testing.assert_array_equal(g["high"], [0, 1, 2])
    np.testing.assert_array_equal(g["low"], [6, 7, 8])
    with_nan = np.append(scores, np.nan)
    with pytest.raises(ValueError, match="NaN"):
        partition.memorization_groups(with_nan, 3)
    g2 = partition.memorization_groups(with_nan, 3, nan_policy="omit")
    assert 9 not in np.concatenate(list(g2.values()))
    with pytest.raises(ValueError, match="need 12"):
        partition.memorization_groups(scores, 4)


def test_mix_draws_from_each_group_deterministically():
    """mix must draw exactly n_each per group, reproducibly for a seed, and refuse overlapping groups."""
    groups = {"low": np.arange(0, 10), "medium": np.arange(10, 20), "high": np.arange(20, 30)}
    a = partition.mix(groups, 4, seed=1)
    assert len(a) == 12 and np.array_equal(a, np.sort(a))
    for idx in groups.values():
        assert np.isin(a, idx).sum() == 4
    np.testing.assert_array_equal(a, partition.mix(groups, 4, seed=1))
    assert not np.array_equal(a, partition.mix(groups, 4, seed=2))
    only = partition.mix(groups, {"high": 5}, seed=0)
    assert len(only) == 5 and np.isin(only, groups["high"]).all()
    with pytest.raises(ValueError, match="overlap"):
        partition.mix({"a": [1, 2], "b": [2, 3]}, 1)
    with pytest.raises(ValueError, match="cannot draw"):
        partition.mix(groups, 11)
    with pytest.raises(ValueError, match="unknown"):
        partition.mix(groups, {"huge": 1})


# ------------------------------------------------------------------------------------ published scores
def _labelled_bundle(labels) -> DataBundle:
    y = torch.as_tensor(np.array(labels), dtype=torch.long)
    x = torch.zeros(len(y), 1, 1, 1)
    split = Split(x, y)
    k = max(10, int(y.max()) + 1) if len(y) else 10
    return DataBundle("fake", split, Split(x[:1], y[:1]), k, tuple(str(i) for i in range(k)), (0.0,), (1.0,))


def test_load_cscores_checks_labels(tmp_path):
    """Scores in another order (or of another dataset) must be rejected, not silently misaligned."""
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.int64)
    path = tmp_path / "cs.npz"
    np.savez(path, labels=labels, scores=np.linspace(0, 1, 6))
    got = mem.load_cscores(path, _labelled_bundle(labels))
    np.testing.assert_allclose(got.scores, np.linspace(0, 1, 6))
    np.testing.assert_array_equal(got.index, np.arange(6))
    with pytest.raises(ValueError, match="labels differ"):
        mem.load_cscores(path, _labelled_bundle(labels[::-1]))
    with pytest.raises(ValueError, match="6 labels"):
        mem.load_cscores(path, _labelled_bundle(labels[:5]))
    bad = tmp_path / "bad.npz"
    np.savez(bad, labels=labels)
    with pytest.raises(ValueError, match="expected arrays"):
        mem.load_cscores(bad)
    pickled = tmp_path / "obj.npz"
    np.savez(pickled, labels=np.array([object()] * 2, dtype=object), scores=np.zeros(2))
    with pytest.raises(ValueError):  # object arrays need pickle, which is never allowed
        mem.load_cscores(pickled)


def test_load_feldman_zhang_layouts_and_label_check(tmp_path):
    """Pairs files repeat training indices (merge them, reject conflicts); full files carry labels that
    must match the dataset."""
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1], dtype=np.int64)
    pairs = tmp_path / "pairs.npz"
    np.savez(pairs, tr_idx=np.array([5, 2, 5]), tt_idx=np.array([0, 1, 2]), infl=np.ones(3),
             mem=np.array([0.7, 0.3, 0.7]))
    with pytest.warns(RuntimeWarning, match="no labels"):
        got = mem.load_feldman_zhang(pairs, _labelled_bundle(labels))
    np.testing.assert_array_equal(got.index, [2, 5])
    np.testing.assert_allclose(got.scores, [0.3, 0.7])
    dense = got.dense(8)
    assert np.isnan(dense[0]) and dense[5] == 0.7
    ref = tmp_path / "cs.npz"
    np.savez(ref, labels=labels, scores=np.zeros(8))
    mem.load_feldman_zhang(pairs, _labelled_bundle(labels), labels=ref)  # checked, no warning
    with pytest.raises(ValueError, match="labels differ"):
        mem.load_feldman_zhang(pairs, _labelled_bundle(np.roll(labels, 1)), labels=ref)
    conflict = tmp_path / "conflict.npz"
    np.savez(conflict, tr_idx=np.array([1, 1]), mem=np.array([0.2, 0.9]))
    with pytest.raises(ValueError, match="different mem"):
        mem.load_feldman_zhang(conflict)
    full = tmp_path / "full.npz"
    np.savez(full, tr_mem=np.linspace(0, 1, 8), tr_labels=labels)
    got = mem.load_feldman_zhang(full, _labelled_bundle(labels))
    assert len(got.scores) == 8 and got.labels is not None
    with pytest.raises(ValueError, match="labels differ"):
        mem.load_feldman_zhang(full, _labelled_bundle(labels[::-1].copy()))


def test_published_memorization_from_cscores_and_feldman_zhang(tmp_path):
    """C-scores become memorization 1 − C with p_out = C (the held-out accuracy they define); F&Z files give
    their mem where they have it and NaN elsewhere, with p_out unknown; labels are always checked."""
    labels = np.array([3, 1, 4, 1, 5, 9], dtype=np.int64)
    cs = tmp_path / "cs.npz"
    np.savez(cs, labels=labels, scores=np.array([0.9, 0.1, 0.5, 1.0, 0.0, 0.25]))
    got = mem.published_memorization(cs, _labelled_bundle(labels))
    np.testing.assert_allclose(got.scores, [0.1, 0.9, 0.5, 0.0, 1.0, 0.75])
    np.testing.assert_allclose(got.p_out, [0.9, 0.1, 0.5, 1.0, 0.0, 0.25])
    assert np.isnan(got.grad_evals) and "1 − C-score from cs.npz" == got.source
    with pytest.raises(ValueError, match="labels differ"):
        mem.published_memorization(cs, _labelled_bundle(labels[::-1].copy()))
    fz = tmp_path / "fz.npz"
    np.savez(fz, tr_mem=np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0]), tr_labels=labels)
    got = mem.published_memorization(fz, _labelled_bundle(labels))
    np.testing.assert_allclose(got.scores, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert np.isnan(got.p_out).all() and got.source.startswith("Feldman & Zhang mem")
    other = tmp_path / "other.npz"
    np.savez(other, something=np.zeros(3))
    with pytest.raises(ValueError, match="expected arrays"):
        mem.published_memorization(other, _labelled_bundle(labels))
    with pytest.raises(FileNotFoundError):
        mem.published_memorization(tmp_path / "missing.npz", _labelled_bundle(labels))


def test_published_cifar100_files_load_and_agree(shared_data):
    """The real files: C-scores and F&Z memorization line up by index (memorization ≈ 1 − C-score on the
    highly memorized examples: low C-scores), and the label check accepts the matching labels."""
    root = shared_data("cifar100-cscores-orig-order.npz", "cifar100-high-infl-pairs-infl0.15-mem0.25.npz")
    cs = mem.load_cscores(root / "cifar100-cscores-orig-order.npz")
    assert len(cs.scores) == 50000 and cs.labels.max() == 99
    fz = mem.load_feldman_zhang(root / "cifar100-high-infl-pairs-infl0.15-mem0.25.npz",
                                _labelled_bundle(cs.labels), labels=root / "cifar100-cscores-orig-order.npz")
    assert len(fz.index) == 964 and fz.scores.min() >= 0.25 and fz.scores.max() <= 1.0
    assert np.median(cs.scores[fz.index]) < np.median(cs.scores) - 0.2
    with pytest.raises(ValueError, match="labels differ"):
        mem.load_cscores(root / "cifar100-cscores-orig-order.npz", _labelled_bundle(np.roll(cs.labels, 1)))


def test_paper_profile_forget_sets_from_the_real_cifar10_cscores(shared_data):
    """The paper profile's route on the real file: 1 − C-score gives complete scores from which the RUM
    forget set (1,000 per level at the paper's size) is drawn, with levels ordered by memorization."""
    from rum_core import data, experiments, profiles

    path = shared_data("cifar10-cscores-orig-order.npz") / "cifar10-cscores-orig-order.npz"
    published = mem.load_cscores(path)
    paper = profiles.get_profile("paper")
    # the paper's split: 5,000 of the 50,000 official training images move to a stratified validation split
    fake = np.zeros((50000, 1, 1, 1), dtype=np.float32)
    bundle = data._bundle("cifar10-labels", fake, published.labels, fake[:10], published.labels[:10],
                          [str(c) for c in range(10)], val_size=paper.val_size, seed=0)
    assert (len(bundle.train), len(bundle.val)) == (45000, 5000)
    scores = mem.published_memorization(path, bundle)
    assert len(scores.scores) == 45000 and np.isfinite(scores.scores).all()
    # every kept training row gets the score of its official position, not of its new row number
    np.testing.assert_allclose(scores.scores, 1.0 - published.scores[bundle.source_positions()])
    groups = experiments.rum_forget_groups(paper, scores.scores)
    assert len(experiments.rum_forget_set(paper, scores.scores)) == 3000
    assert all(len(v) == 1000 for v in groups.values())
    means = [scores.scores[groups[k]].mean() for k in ("low", "medium", "high")]
    assert means[0] < means[1] < means[2] and means[2] > 0.5
    medium = scores.scores[groups["medium"]]
    assert np.abs(medium - 0.5).max() < 0.05  # 1,000 of 45,000 examples nearest 0.5: a narrow band
    np.testing.assert_allclose(scores.p_out + scores.scores, 1.0)


# ------------------------------------------------------------------------------------ score files (issue 17)
@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan, np.inf])
def test_cscores_outside_the_unit_interval_are_refused(tmp_path, bad):
    """Guards against a C-score of 1.5 (a file of another scale) becoming a memorization of −0.5."""
    scores = np.linspace(0, 1, 20)
    scores[7] = bad
    np.savez(tmp_path / "cs.npz", labels=np.arange(20) % 10, scores=scores)
    with pytest.raises(ValueError, match=r"1 score\(s\) are NaN, infinite or outside \[0, 1\] \(first at index 7"):
        mem.load_cscores(tmp_path / "cs.npz")


@pytest.mark.parametrize("write, named", [
    (lambda p: np.save(p, np.linspace(0, 1, 5)), "a single .npy array"),
    (lambda p: p.write_text("index,score\n0,0.5\n"), "text"),
    (lambda p: p.write_bytes(b"\x80\x04\x95garbage"), "pickle"),
    (lambda p: p.write_bytes(b""), "empty"),
    (lambda p: p.write_bytes(b"PK\x03\x04 broken zip"), "damaged or unreadable .npz")])
def test_other_file_formats_are_named(tmp_path, write, named):
    """A score file of another format is refused with what it seems to be, never unpickled or misread."""
    path = tmp_path / "scores.npz"
    with open(path, "wb"):
        pass
    write(path)
    if path.with_suffix(".npz.npy").exists():  # np.save appends .npy
        path.with_suffix(".npz.npy").rename(path)
    with pytest.raises(ValueError, match=named):
        mem.load_cscores(path)


def test_feldman_zhang_pairs_missing_estimates_policy(tmp_path):
    """The pairs layout covers only some examples: NaN by default, refused with a count under "refuse", read
    as 0 (not memorized) under "zero"; another policy name is refused."""
    labels = np.arange(30) % 10
    bundle = _labelled_bundle(labels)
    path = tmp_path / "pairs.npz"
    np.savez(path, tr_idx=np.array([3, 3, 8]), tt_idx=np.array([0, 1, 2]), mem=np.array([0.5, 0.5, 0.9]),
             infl=np.array([0.2, 0.3, 0.4]), tr_labels=labels)
    assert np.isnan(mem.published_memorization(path, bundle).scores).sum() == 28
    with pytest.raises(ValueError, match="28 of 30 training examples have no estimate"):
        mem.published_memorization(path, bundle, missing="refuse")
    zero = mem.published_memorization(path, bundle, missing="zero")
    assert zero.scores[3] == 0.5 and zero.scores[8] == 0.9 and (np.delete(zero.scores, [3, 8]) == 0).all()
    assert "28 examples without an estimate read as 0" in zero.source
    with pytest.raises(ValueError, match="missing must be one of"):
        mem.published_memorization(path, bundle, missing="drop")


def test_memorization_estimates_may_dip_below_zero_but_not_leave_minus_one_to_one(tmp_path):
    """F&Z estimates are p_in − p_out: slightly negative is an honest estimate, 1.5 is another scale."""
    labels = np.arange(20) % 10
    np.savez(tmp_path / "ok.npz", tr_mem=np.linspace(-0.05, 1, 20), tr_labels=labels)
    assert mem.load_feldman_zhang(tmp_path / "ok.npz").scores.min() == pytest.approx(-0.05)
    np.savez(tmp_path / "bad.npz", tr_mem=np.linspace(0, 1.5, 20), tr_labels=labels)
    with pytest.raises(ValueError, match=r"outside \[-1, 1\]"):
        mem.load_feldman_zhang(tmp_path / "bad.npz")
