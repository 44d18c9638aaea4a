"""The unlearning methods: interface guarantees shared by all, and the invariant each method must keep.

Every test's docstring names the mistake it guards against. CPU only, small models, seconds each.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rum_core import models, unlearners
from rum_core.metrics.accuracy import accuracy
from rum_core.training import TrainConfig, train_model
from rum_core.unlearners import UnlearnContext
from rum_core.unlearners.influence import per_example_grads, woodfisher_ihvp
from rum_core.unlearners.l1_sparse import l1_coefficient, l1_norm
from rum_core.unlearners.neggrad_plus import cycled_batches
from rum_core.unlearners.random_label import random_other_labels, relabelled_training_set, stream_generator
from rum_core.unlearners.salun import forget_gradient_magnitudes, mask_from_scores, saliency_mask
from rum_core.unlearners.scrub import distill_kl

NEW_METHODS = ["l1_sparse", "neggrad", "neggrad_plus", "random_label", "salun", "scrub", "influence"]


def fast_hparams(method: str) -> dict:
    """Small settings so a run takes milliseconds on the synthetic set."""
    valid = unlearners.make(method).hparams
    hp = {k: v for k, v in {"epochs": 2, "batch_size": 32}.items() if k in valid}
    if method == "influence":
        hp["n_samples"] = 64
    if method == "scrub":
        hp["msteps"] = 1
    return hp


def forget_set(n: int, step: int) -> np.ndarray:
    return np.arange(0, n, step)


def run_ctx(method: str, model, bundle, forget, seed=0, **hparams) -> UnlearnContext:
    """Run a method's ``_unlearn`` on a copy, returning the context (for what it records in ``extras``)."""
    unl = unlearners.make(method, **hparams)
    retain = np.setdiff1d(np.arange(len(bundle.train)), forget)
    ctx = UnlearnContext(model=copy.deepcopy(model), bundle=bundle, forget=np.asarray(forget), retain=retain,
                         seed=seed, device=torch.device("cpu"), progress_bar=False)
    unl._unlearn(ctx)
    return ctx


def states_equal(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def forget_loss(model, split) -> float:
    with torch.no_grad():
        return float(F.cross_entropy(model(split.x), split.y))


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Tiny models: one intra-op thread is faster, and far faster when other processes share the cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def fitted_digits(digits):
    """An MLP that fits the digits training set (≈100% train accuracy)."""
    model, _ = train_model(digits, "mlp", TrainConfig(epochs=12, lr=0.05, batch_size=64), seed=0,
                           model_kwargs={"hidden": (64,)}, use_cache=False)
    return model


# ----------------------------------------------------------------------------------------------------------
# Shared guarantees


def test_all_methods_registered():
    """Guards against a method file that is never imported, so ``make(name)`` fails at use time."""
    assert set(NEW_METHODS) <= set(unlearners.available())


@pytest.mark.parametrize("method", unlearners.available())
def test_original_model_bit_identical(method, synthetic, fitted_mlp):
    """Guards against a method that trains the model it is given instead of a copy (or touches its grads),
    or that draws from torch's global random state (which would make callers' results depend on it)."""
    before = copy.deepcopy(fitted_mlp.state_dict())
    rng = torch.get_rng_state()
    result = unlearners.make(method, **fast_hparams(method))(fitted_mlp, synthetic, forget_set(240, 8), seed=0)
    assert torch.equal(torch.get_rng_state(), rng)
    after = fitted_mlp.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(p.grad is None for p in fitted_mlp.parameters())
    assert result.model is not fitted_mlp


@pytest.mark.parametrize("method", unlearners.available())
def test_same_seed_same_result(method, synthetic, fitted_mlp):
    """Guards against hidden global randomness (unseeded shuffling, labels, samples): same seed, same bits."""
    unl = unlearners.make(method, **fast_hparams(method))
    a = unl(fitted_mlp, synthetic, forget_set(240, 8), seed=3)
    b = unl(fitted_mlp, synthetic, forget_set(240, 8), seed=3)
    assert states_equal(a.model, b.model)
    assert a.grad_evals == b.grad_evals


@pytest.mark.parametrize("method", ["random_label", "salun", "neggrad_plus", "scrub"])
def test_seed_matters(method, synthetic, fitted_mlp):
    """Guards against a seed that is accepted but ignored (every seed giving the same run)."""
    unl = unlearners.make(method, **fast_hparams(method), lr=0.05)
    a = unl(fitted_mlp, synthetic, forget_set(240, 8), seed=0)
    b = unl(fitted_mlp, synthetic, forget_set(240, 8), seed=1)
    assert not states_equal(a.model, b.model)


@pytest.mark.parametrize("method", NEW_METHODS)
def test_bad_index_sets_raise(method, synthetic, fitted_mlp):
    """Guards against silently unlearning nothing, or training on forgotten examples, for bad index sets."""
    unl = unlearners.make(method, **fast_hparams(method))
    with pytest.raises(ValueError, match="empty"):
        unl(fitted_mlp, synthetic, [], seed=0)
    with pytest.raises(ValueError, match="overlap"):
        unl(fitted_mlp, synthetic, [0, 1, 2], [2, 3, 4], seed=0)
    with pytest.raises(ValueError, match="out of range"):
        unl(fitted_mlp, synthetic, [0, 240], seed=0)


def test_unknown_method_and_hparam_list_valid_ones():
    """Guards against typos being ignored (a misspelt hyperparameter silently running the defaults)."""
    with pytest.raises(ValueError, match="salun"):
        unlearners.make("sal_un")
    for method in NEW_METHODS:
        with pytest.raises(ValueError, match="valid: .*lr|valid: .*alpha"):
            unlearners.make(method, learning_rate=0.1)


@pytest.mark.parametrize(("method", "bad"), [
    ("salun", {"selection": "smallest"}), ("salun", {"mask_ratio": 1.5}), ("neggrad_plus", {"alpha": 1.2}),
    ("scrub", {"msteps": -1}), ("scrub", {"temperature": 0.0}), ("influence", {"params": "last"}),
    ("influence", {"damping": 0.0}), ("l1_sparse", {"alpha": -1.0})])
def test_invalid_hparam_values_raise(method, bad):
    """Guards against nonsense settings (inverted masks, negative temperatures) running without complaint."""
    with pytest.raises(ValueError, match=next(iter(bad))):
        unlearners.make(method, **bad)


def test_grad_evals_are_counted_honestly(synthetic, fitted_mlp):
    """Guards against cost tables that count batches or steps instead of per-example forward+backward passes."""
    forget = forget_set(240, 8)
    nf, nr = len(forget), 240 - len(forget)
    ep, bs = 3, 32

    def evals(method, **hp):
        return unlearners.make(method, epochs=ep, batch_size=bs, **hp)(fitted_mlp, synthetic, forget).grad_evals

    assert evals("neggrad") == ep * nf
    assert evals("l1_sparse") == ep * nr
    assert evals("random_label") == ep * (nr + nf)
    assert evals("salun") == nf + ep * (nr + nf)
    assert evals("scrub", msteps=2) == 2 * nf + ep * nr
    steps = ep * math.ceil(nr / bs)
    cycle = [bs] * (nf // bs) + ([nf % bs] if nf % bs else [])
    drawn = sum(cycle[i % len(cycle)] for i in range(steps))
    assert evals("neggrad_plus", alpha=0.5) == ep * nr + drawn
    assert unlearners.make("influence", n_samples=50)(fitted_mlp, synthetic, forget).grad_evals == nf + 50


@pytest.mark.parametrize("method", [m for m in unlearners.available() if m not in ("identity", "influence")])
def test_unlearning_learning_rate_is_constant_by_default(method, synthetic, fitted_mlp, monkeypatch):
    """A spy on the optimizer records the learning rate of every step: each iterative method keeps its
    nominal rate over the whole run (the authors' step decay never triggers within 5–10 epochs), while
    retrain follows the original model's cosine recipe and schedule="cosine" stays available.
    Catches: TRAIN_DEFAULTS["schedule"] back to "cosine", or a method building its optimizer without it."""
    # mutations caught: TRAIN_DEFAULTS["schedule"] = "cosine"; SCRUB's optimizer made with schedule="cosine"
    # whatever its hyperparameter (or with "constant" whatever it); Retrain's defaults without "cosine"
    rates = []
    real_step = torch.optim.SGD.step

    def step(self, *a, **k):
        rates.append(self.param_groups[0]["lr"])
        return real_step(self, *a, **k)

    monkeypatch.setattr(torch.optim.SGD, "step", step)
    forget = forget_set(240, 12)
    unlearners.make(method, epochs=3, lr=0.02)(fitted_mlp, synthetic, forget, seed=0)
    assert rates, "the method took no SGD step"
    if method == "retrain":
        assert rates[0] == pytest.approx(0.02) and rates[-1] < 0.01  # cosine, as the original model
        return
    assert rates == pytest.approx([0.02] * len(rates))
    rates.clear()
    unlearners.make(method, epochs=3, lr=0.02, schedule="cosine")(fitted_mlp, synthetic, forget, seed=0)
    assert rates[-1] < 0.01


# ----------------------------------------------------------------------------------------------------------
# NegGrad and NegGrad+


def test_neggrad_lowers_forget_accuracy(digits, fitted_digits):
    """Guards against a sign error that makes NegGrad descend (fine-tune) on the forget set."""
    forget = forget_set(len(digits.train), 20)
    f = digits.train.subset(forget)
    assert accuracy(fitted_digits, f.x, f.y) == 1.0
    out = unlearners.make("neggrad", lr=0.1, epochs=5, batch_size=32)(fitted_digits, digits, forget).model
    assert accuracy(out, f.x, f.y) < 0.9
    assert forget_loss(out, f) > 10 * forget_loss(fitted_digits, f)


@pytest.mark.parametrize("augment", [None, "crop"])
def test_neggrad_plus_alpha_one_is_finetune(synthetic, fitted_mlp, augment):
    """Guards against NegGrad+ drawing retain batches (or augmentation) from a different random sequence
    than fine-tuning, so that α = 1 would not reduce to fine-tuning."""
    hp = {"epochs": 3, "lr": 0.05, "batch_size": 32, "augment": augment}
    forget = forget_set(240, 8)
    ng = unlearners.make("neggrad_plus", alpha=1.0, **hp)(fitted_mlp, synthetic, forget, seed=5)
    ft = unlearners.make("finetune", **hp)(fitted_mlp, synthetic, forget, seed=5)
    assert states_equal(ng.model, ft.model)
    assert ng.grad_evals == ft.grad_evals


def test_neggrad_plus_ascends_on_forget(digits, fitted_digits):
    """Guards against the forget term being dropped or added with the wrong sign (α < 1 must forget more
    than plain fine-tuning with the same recipe)."""
    forget = forget_set(len(digits.train), 20)
    f = digits.train.subset(forget)
    hp = {"epochs": 2, "lr": 0.05, "batch_size": 64}
    ng = unlearners.make("neggrad_plus", alpha=0.8, **hp)(fitted_digits, digits, forget).model
    ft = unlearners.make("neggrad_plus", alpha=1.0, **hp)(fitted_digits, digits, forget).model
    assert forget_loss(ng, f) > 2 * forget_loss(ft, f)


def test_cycled_batches_cover_every_example_each_pass():
    """Guards against forget batches that repeat some examples and skip others within a pass."""
    it = cycled_batches(10, 4, torch.Generator().manual_seed(0))
    for _ in range(3):
        batches = [next(it) for _ in range(3)]
        assert [len(b) for b in batches] == [4, 4, 2]
        assert sorted(torch.cat(batches).tolist()) == list(range(10))


def test_neggrad_plus_cycles_the_forget_set(synthetic, fitted_mlp):
    """A spy on the model's inputs records which training rows every forward pass saw. With |S| larger than a
    batch, each step sees one retain batch and then one forget batch, and the forget batches walk S in full
    passes, one after the other, reshuffled: every consecutive ⌈|S| / batch⌉ of them cover every forget
    example exactly once, on every pass."""
    # mutations caught: always the first forget batch (fidx = arange(batch)); xf[:len(fidx)] instead of
    # xf[fidx]; a single pass of cycled_batches (no `while True`); a pass that is not reshuffled
    x = synthetic.train.x
    row_of = {x[i].numpy().tobytes(): i for i in range(len(x))}
    assert len(row_of) == len(x)  # rows are distinct, so an input identifies its example
    seen: list[list[int]] = []
    model = copy.deepcopy(fitted_mlp)
    model.register_forward_pre_hook(lambda module, args: seen.append(
        [row_of[r.detach().numpy().tobytes()] for r in args[0]]))  # the unlearner's private copy keeps it
    forget, bs, epochs = np.arange(40), 16, 2
    unlearners.make("neggrad_plus", epochs=epochs, lr=0.01, batch_size=bs, alpha=0.9)(model, synthetic, forget,
                                                                                        seed=0)
    steps = epochs * math.ceil((240 - len(forget)) / bs)
    assert len(seen) == 2 * steps  # a retain and a forget forward pass per step
    assert all(min(rows) >= len(forget) for rows in seen[0::2])  # retain batches first
    drawn = seen[1::2]
    assert all(max(rows) < len(forget) for rows in drawn)  # then a forget batch
    per_pass = math.ceil(len(forget) / bs)
    passes = [sum(drawn[p:p + per_pass], []) for p in range(0, len(drawn), per_pass)]
    assert len(passes) == math.ceil(steps / per_pass) > 2
    for rows in passes[:-1]:
        assert sorted(rows) == forget.tolist()  # a full pass over S, each example once
    assert len(set(passes[-1])) == len(passes[-1])  # the unfinished last pass repeats nothing either
    assert len({tuple(rows) for rows in passes[:-1]}) > 1  # each pass in a fresh order


def _params_after_sgd(model, loss_of_model, lr: float, steps: int = 1):
    """Plain SGD by hand: ``steps`` updates θ ← θ − lr·∇loss(θ) on a copy (no momentum effect on a first
    step, no weight decay), returning the final parameters as one flat vector."""
    model = copy.deepcopy(model).train()
    for _ in range(steps):
        grads = torch.autograd.grad(loss_of_model(model), list(model.parameters()))
        with torch.no_grad():
            for p, g in zip(model.parameters(), grads, strict=True):
                p -= lr * g
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def _flat(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def test_neggrad_plus_step_is_the_gradient_of_its_weighted_loss(synthetic, fitted_mlp):
    """One step over the whole retain set and the whole forget set (one batch each) equals the hand-computed
    SGD step on α·CE(R) − (1 − α)·CE(S). Mutations caught: (1 + α) or (2 − α) as the forget weight, a
    quotient instead of the difference, α/CE(R), the forget term added instead of subtracted."""
    forget = forget_set(240, 6)
    retain = np.setdiff1d(np.arange(240), forget)
    r, f = synthetic.train.subset(retain), synthetic.train.subset(forget)
    alpha, lr = 0.7, 0.05
    got = unlearners.make("neggrad_plus", epochs=1, batch_size=512, lr=lr, alpha=alpha, momentum=0.0,
                          weight_decay=0.0)(fitted_mlp, synthetic, forget, seed=0).model

    def loss(m):
        return alpha * F.cross_entropy(m(r.x), r.y) - (1 - alpha) * F.cross_entropy(m(f.x), f.y)

    want = _params_after_sgd(fitted_mlp, loss, lr)
    assert not torch.allclose(want, _flat(fitted_mlp))  # the step moves the weights
    torch.testing.assert_close(_flat(got), want, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------------------
# L1-sparse


def test_l1_coefficient_decays_linearly_to_zero(synthetic, fitted_mlp):
    """Guards against a constant (or per-epoch stepped, or increasing) L1 coefficient."""
    assert l1_coefficient(0.2, 0.0) == 0.2
    assert l1_coefficient(0.2, 1.0) == 0.0
    assert l1_coefficient(0.2, 0.25) == pytest.approx(0.15)
    ctx = run_ctx("l1_sparse", fitted_mlp, synthetic, forget_set(240, 8), alpha=0.01, epochs=3, batch_size=32)
    used = np.array(ctx.extras["l1_alpha"])
    steps = 3 * math.ceil((240 - 30) / 32)
    assert len(used) == steps
    assert used[0] == pytest.approx(0.01)
    np.testing.assert_allclose(used, 0.01 * (1 - np.arange(steps) / steps), rtol=1e-12)
    assert np.all(np.diff(used) < 0)


def test_l1_penalty_shrinks_weights(synthetic, fitted_mlp):
    """Guards against the penalty being computed but not added to the loss."""
    forget = forget_set(240, 8)
    hp = {"epochs": 3, "lr": 0.05, "batch_size": 32}
    sparse = unlearners.make("l1_sparse", alpha=0.01, **hp)(fitted_mlp, synthetic, forget).model
    plain = unlearners.make("l1_sparse", alpha=0.0, **hp)(fitted_mlp, synthetic, forget).model
    plain_ft = unlearners.make("finetune", **hp)(fitted_mlp, synthetic, forget).model
    assert states_equal(plain, plain_ft)
    with torch.no_grad():
        assert float(l1_norm(sparse)) < 0.95 * float(l1_norm(plain))


# ----------------------------------------------------------------------------------------------------------
# Random-label


@pytest.mark.parametrize("num_classes", [2, 3, 10, 100])
def test_random_labels_never_true_and_cover_other_classes(num_classes):
    """Guards against relabelling that can return the true label, or only draws from some classes (the
    authors' code relabelled only on CIFAR-10)."""
    gen = torch.Generator().manual_seed(0)
    y = torch.arange(num_classes).repeat(max(400, 30 * num_classes))  # ≥ 30 expected draws per pair
    new = random_other_labels(y, num_classes, gen)
    assert not bool((new == y).any())
    assert int(new.min()) >= 0 and int(new.max()) < num_classes
    for c in range(num_classes):
        drawn = torch.bincount(new[y == c], minlength=num_classes)
        assert drawn[c] == 0
        assert bool((drawn[torch.arange(num_classes) != c] > 0).all())
    counts = torch.bincount(new, minlength=num_classes).double()
    assert float(counts.std() / counts.mean()) < 0.1  # roughly uniform overall


def test_random_labels_reject_single_class():
    """Guards against an infinite loop or a silent no-op when no other class exists."""
    with pytest.raises(ValueError, match="2 classes"):
        random_other_labels(torch.zeros(3, dtype=torch.long), 1, torch.Generator())
    with pytest.raises(ValueError, match="labels"):
        random_other_labels(torch.tensor([0, 5]), 4, torch.Generator())
    with pytest.raises(ValueError, match="labels"):  # the first label past the last class (an off-by-one)
        random_other_labels(torch.tensor([0, 4]), 4, torch.Generator())


def test_random_label_training_set(synthetic, fitted_mlp):
    """Guards against relabelling the retain set, or leaving a forget example with its true label."""
    forget = forget_set(240, 8)
    retain = np.setdiff1d(np.arange(240), forget)
    ctx = UnlearnContext(model=fitted_mlp, bundle=synthetic, forget=forget, retain=retain, seed=0,
                         device=torch.device("cpu"), progress_bar=None)
    x, labels_for_epoch = relabelled_training_set(ctx)
    y = labels_for_epoch(0)
    assert torch.equal(x[:len(retain)], synthetic.train.x[retain])
    assert torch.equal(y[:len(retain)], synthetic.train.y[retain])
    assert not bool((y[len(retain):] == synthetic.train.y[forget]).any())


class _RecordingFunctional:
    """``torch.nn.functional`` as :mod:`rum_core.training` sees it, recording every cross-entropy target."""

    def __init__(self, targets: list):
        self._targets = targets

    def __getattr__(self, name):
        return getattr(F, name)

    def cross_entropy(self, logits, target, *args, **kwargs):
        self._targets.append(target.detach().clone())
        return F.cross_entropy(logits, target, *args, **kwargs)


def trained_labels(monkeypatch, method, model, bundle, forget, retain, seed, **hparams):
    """Run ``method`` and return the label fit's loss saw for every training row in every epoch, (E, N), and
    the batches of every epoch. Rows are fit's: the retain set, then the forget set."""
    from rum_core import training

    targets, batches = [], []
    real_minibatches = training.minibatches

    def minibatches(n, batch_size, generator):
        out = real_minibatches(n, batch_size, generator)
        batches.append(out)
        return out

    with monkeypatch.context() as patch:
        patch.setattr(training, "F", _RecordingFunctional(targets))
        patch.setattr(training, "minibatches", minibatches)
        unlearners.make(method, **hparams)(model, bundle, forget, retain, seed=seed)
    n = len(forget) + len(retain)
    labels = torch.full((len(batches), n), -1, dtype=torch.long)
    step = iter(targets)
    for epoch, epoch_batches in enumerate(batches):
        for idx in epoch_batches:
            labels[epoch, idx] = next(step)
    assert next(step, None) is None and bool((labels >= 0).all())  # one loss per batch, every row seen
    return labels, batches


@pytest.mark.parametrize("method", ["random_label", "salun"])
def test_random_labels_are_redrawn_every_epoch(method, synthetic, fitted_mlp, monkeypatch):
    """A spy on the loss inputs of fit records the label every row trained on in every epoch. With
    relabel="epoch" (the default, as the authors' loops) each epoch gives the forget examples new wrong
    labels, never their own, reproducibly for a seed and differently for another; the retain set keeps its
    labels, and the batches are those of relabel="once" (the label draws leave fit's shuffling alone). With
    "once" every epoch trains on the same wrong labels."""
    # mutations caught: default relabel="once"; draw = 0 whatever the epoch; labels_for_epoch not passed to
    # fit (epoch 0's labels every epoch); fit ignoring labels_for_epoch; the seed left out of the label stream
    forget = np.arange(40)
    retain = np.setdiff1d(np.arange(240), forget)
    true_f, true_r = synthetic.train.y[forget], synthetic.train.y[retain]
    assert unlearners.make(method).hparams["relabel"] == "epoch"
    hp = {"epochs": 6, "lr": 0.01, "batch_size": 64}
    labels, batches = trained_labels(monkeypatch, method, fitted_mlp, synthetic, forget, retain, 3, **hp)
    again, _ = trained_labels(monkeypatch, method, fitted_mlp, synthetic, forget, retain, 3, **hp)
    other_seed, _ = trained_labels(monkeypatch, method, fitted_mlp, synthetic, forget, retain, 4, **hp)
    assert labels.shape == (6, 240)
    assert torch.equal(labels, again)  # same seed, same labels
    assert (labels[:, :len(retain)] == true_r).all()  # the retain set keeps its labels
    wrong = labels[:, len(retain):]
    assert not bool((wrong == true_f).any())  # never the true label
    assert all(bool((wrong[e] != wrong[e + 1]).any()) for e in range(len(wrong) - 1))  # new labels each epoch
    assert not torch.equal(wrong, other_seed[:, len(retain):])  # the seed drives the labels
    once, once_batches = trained_labels(monkeypatch, method, fitted_mlp, synthetic, forget, retain, 3,
                                        relabel="once", **hp)
    once_wrong = once[:, len(retain):]
    assert (once_wrong == once_wrong[0]).all() and not bool((once_wrong[0] == true_f).any())
    assert all(torch.equal(a, b) for ea, eb in zip(batches, once_batches, strict=True)
               for a, b in zip(ea, eb, strict=True))
    with pytest.raises(ValueError, match="relabel"):
        unlearners.make(method, relabel="never")


def test_epoch_labels_cover_every_other_class_of_the_dataset(synthetic, fitted_mlp):
    """Over many epochs each forget example is given every class of the dataset but its own, even classes
    absent from the forget set, about uniformly (the authors' copy relabels only on CIFAR-10)."""
    # mutation caught: the class count taken from the forget set (int(forget.y.max()) + 1) instead of the bundle
    y = synthetic.train.y
    forget = np.flatnonzero(y.numpy() < 2)[:30]  # classes 0 and 1 only; the bundle has 4
    retain = np.setdiff1d(np.arange(len(y)), forget)
    ctx = UnlearnContext(model=fitted_mlp, bundle=synthetic, forget=forget, retain=retain, seed=0,
                         device=torch.device("cpu"), progress_bar=None)
    _, labels_for_epoch = relabelled_training_set(ctx, "epoch")
    wrong = torch.stack([labels_for_epoch(e)[len(retain):] for e in range(300)])
    classes = synthetic.num_classes
    assert classes == 4
    for i, true in enumerate(y[forget].tolist()):
        counts = torch.bincount(wrong[:, i], minlength=classes)
        assert counts[true] == 0
        others = counts[torch.arange(classes) != true].double()
        assert bool((others > 0.2 * 300 / (classes - 1)).all()), counts  # every other class, often
    assert torch.equal(wrong, torch.stack([labels_for_epoch(e)[len(retain):] for e in range(300)]))


def test_stream_generators_are_independent_and_stable():
    """Guards against a side stream (labels, forget cycling) reusing the shuffling stream of the seed."""
    a = torch.randperm(50, generator=stream_generator(0, "a"))
    assert torch.equal(a, torch.randperm(50, generator=stream_generator(0, "a")))
    assert not torch.equal(a, torch.randperm(50, generator=stream_generator(0, "b")))
    assert not torch.equal(a, torch.randperm(50, generator=torch.Generator().manual_seed(0)))


# ----------------------------------------------------------------------------------------------------------
# SalUn


def test_mask_from_scores_keeps_largest():
    """Guards against the inverted mask of the authors' copy (keeping the smallest gradients)."""
    scores = {"a": torch.tensor([0.1, 5.0, 3.0]), "b": torch.tensor([[4.0, 0.2]])}
    m = mask_from_scores(scores, 0.4)  # k = 2 of 5: the 5.0 and the 4.0
    assert m["a"].tolist() == [False, True, False] and m["b"].tolist() == [[True, False]]
    legacy = mask_from_scores(scores, 0.4, "smallest_legacy")
    assert legacy["a"].tolist() == [True, False, False] and legacy["b"].tolist() == [[False, True]]
    assert not any(v.any() for v in mask_from_scores(scores, 0.0).values())
    assert all(v.all() for v in mask_from_scores(scores, 1.0).values())


def test_salun_mask_keeps_largest_gradients(synthetic, fitted_mlp):
    """Guards against a mask that keeps the smallest |grad| or ranks per layer instead of globally."""
    f = synthetic.train.subset(forget_set(240, 8))
    scores = forget_gradient_magnitudes(fitted_mlp, f.x, f.y, batch_size=7)
    mask = saliency_mask(fitted_mlp, f.x, f.y, 0.3, batch_size=7)
    kept = torch.cat([scores[n][mask[n]] for n in scores])
    dropped = torch.cat([scores[n][~mask[n]] for n in scores])
    total = sum(s.numel() for s in scores.values())
    assert kept.numel() == int(0.3 * total)
    assert float(kept.min()) >= float(dropped.max())
    assert float(kept.min()) > 0
    # a global ranking: layers get very different shares
    shares = [float(mask[n].double().mean()) for n in mask]
    assert max(shares) - min(shares) > 0.1


def test_salun_saliency_is_gradient_at_given_model(synthetic, fitted_mlp):
    """Guards against computing the saliency while taking optimizer steps (the upstream bug): it must be
    |∇ of the summed forget loss| at the model as given, whatever the batch size."""
    f = synthetic.train.subset(forget_set(240, 8))
    model = copy.deepcopy(fitted_mlp)
    loss = F.cross_entropy(model(f.x), f.y, reduction="sum")
    expected = dict(zip([n for n, _ in model.named_parameters()],
                        torch.autograd.grad(loss, list(model.parameters())), strict=True))
    got = forget_gradient_magnitudes(fitted_mlp, f.x, f.y, batch_size=4)
    for name, g in expected.items():
        torch.testing.assert_close(got[name], g.abs(), rtol=1e-4, atol=1e-7)


def test_salun_tau_zero_changes_nothing(synthetic, fitted_mlp):
    """Guards against weight decay or momentum moving weights that the mask froze (τ = 0 freezes all)."""
    out = unlearners.make("salun", mask_ratio=0.0, epochs=5, lr=0.5, weight_decay=0.05, batch_size=32)(
        fitted_mlp, synthetic, forget_set(240, 8)).model
    assert states_equal(out, fitted_mlp)


def test_salun_masked_weights_stay_bit_identical(synthetic, fitted_mlp):
    """Guards against masking only the gradient: with momentum and weight decay the frozen weights would
    still drift. Masked entries must equal the original bit for bit after many steps; the others move.
    (The default relabel="epoch" runs here: fresh wrong labels every epoch keep the frozen weights frozen.)"""
    assert unlearners.make("salun").hparams["relabel"] == "epoch"
    ctx = run_ctx("salun", fitted_mlp, synthetic, forget_set(240, 8), mask_ratio=0.3, epochs=20, lr=0.1,
                  momentum=0.9, weight_decay=0.05, batch_size=16)
    orig = dict(fitted_mlp.named_parameters())
    changed = total_trainable = 0
    for name, p in ctx.model.named_parameters():
        mask = ctx.extras["mask"][name]
        assert torch.equal(p.detach()[~mask], orig[name].detach()[~mask]), name
        changed += int((p.detach()[mask] != orig[name].detach()[mask]).sum())
        total_trainable += int(mask.sum())
    assert changed > 0.9 * total_trainable
    # parametrizations removed, parameters in their original order
    assert list(ctx.model.state_dict()) == list(fitted_mlp.state_dict())
    assert type(ctx.model.head) is type(fitted_mlp.head)


def test_salun_legacy_selection_differs(synthetic, fitted_mlp):
    """Guards against the selection switch being ignored (legacy and fixed masks must be complementary-ish)."""
    forget = forget_set(240, 8)
    a = run_ctx("salun", fitted_mlp, synthetic, forget, epochs=1, batch_size=32).extras["mask"]
    b = run_ctx("salun", fitted_mlp, synthetic, forget, epochs=1, batch_size=32,
                selection="smallest_legacy").extras["mask"]
    overlap = sum(int((a[n] & b[n]).sum()) for n in a)
    assert overlap <= 0.01 * sum(v.numel() for v in a.values())


# ----------------------------------------------------------------------------------------------------------
# SCRUB


@pytest.mark.parametrize(("epochs", "msteps", "expected"), [(4, 2, [1, 2]), (3, 0, []), (3, 10, [1, 2, 3])])
def test_scrub_max_steps_only_in_first_msteps_epochs(synthetic, fitted_mlp, epochs, msteps, expected):
    """Guards against max steps every epoch, or one extra (the SCRUB code's ``epoch <= msteps`` with 0-based
    epochs runs msteps + 1 of them)."""
    forget = forget_set(240, 8)
    ctx = run_ctx("scrub", fitted_mlp, synthetic, forget, epochs=epochs, msteps=msteps, batch_size=32)
    assert ctx.extras["max_epochs"] == expected
    assert ctx.grad_evals == len(expected) * len(forget) + epochs * (240 - len(forget))


def test_scrub_max_steps_push_away_from_teacher(digits, fitted_digits):
    """Guards against a sign error in the max step: it must increase the divergence from the teacher on S.
    (While the student equals the teacher the KL gradient is zero, so max steps bite only after min steps
    have moved it: compare 3 epochs with max steps in all of them against none.)"""
    forget = forget_set(len(digits.train), 20)
    f = digits.train.subset(forget)
    hp = {"epochs": 3, "lr": 0.05, "batch_size": 32}
    pushed = unlearners.make("scrub", msteps=3, **hp)(fitted_digits, digits, forget).model
    kept = unlearners.make("scrub", msteps=0, **hp)(fitted_digits, digits, forget).model
    with torch.no_grad():
        teacher = fitted_digits(f.x)
        assert float(distill_kl(pushed(f.x), teacher, 4.0)) > 5 * float(distill_kl(kept(f.x), teacher, 4.0))
    assert forget_loss(pushed, f) > 2 * forget_loss(kept, f)


def test_scrub_min_steps_descend_on_gamma_ce_plus_alpha_kl(synthetic):
    """Two min epochs over the whole retain set in one batch (no max steps) equal two hand-computed SGD
    steps on γ·CE(student) + α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)), the KL written out here. The
    first step starts at student = teacher (zero KL gradient), so the second one tests the KL term.
    Mutations caught: −α·KL, γ/CE, the KL in the other direction or without T², the teacher not frozen."""
    original = models.build("mlp", synthetic, seed=3, hidden=(32,))  # untrained: large CE gradients
    forget = forget_set(240, 6)
    retain = np.setdiff1d(np.arange(240), forget)
    r = synthetic.train.subset(retain)
    gamma, alpha, temp, lr = 0.8, 2.0, 3.0, 0.5
    got = unlearners.make("scrub", epochs=2, msteps=0, batch_size=512, lr=lr, gamma=gamma, alpha=alpha,
                          temperature=temp, momentum=0.0, weight_decay=0.0)(original, synthetic, forget,
                                                                            seed=0).model
    with torch.no_grad():
        p_teacher = torch.softmax(original.eval()(r.x) / temp, dim=1)

    def loss(m):
        logits = m(r.x)
        log_ps = torch.log_softmax(logits / temp, dim=1)
        kl = (p_teacher * (p_teacher.log() - log_ps)).sum(1).mean() * temp ** 2
        return gamma * F.cross_entropy(logits, r.y) + alpha * kl

    want = _params_after_sgd(original, loss, lr, steps=2)
    one_step = _params_after_sgd(original, loss, lr, steps=1)
    ce_only = _params_after_sgd(original, lambda m: gamma * F.cross_entropy(m(r.x), r.y), lr, steps=2)
    assert (want - ce_only).abs().max() > 1e-4  # the KL term moves the second step measurably
    assert (want - one_step).abs().max() > 1e-4
    torch.testing.assert_close(_flat(got), want, rtol=1e-5, atol=1e-6)


def test_scrub_schedule_spans_all_its_steps(synthetic, fitted_mlp, monkeypatch):
    """A spy on the optimizer factory: SCRUB's schedule is built over every step it takes, max steps
    (|S| batches in each of the first msteps epochs) and min steps (|R| batches every epoch), so a cosine
    rate reaches 0 at the run's end, not before. Mutation caught: max epochs counted with e < msteps."""
    from rum_core.unlearners import scrub as scrub_module

    asked = []
    real = scrub_module.make_optimizer
    monkeypatch.setattr(scrub_module, "make_optimizer",
                        lambda params, cfg, total: asked.append(total) or real(params, cfg, total))
    forget, bs = forget_set(240, 6), 16
    nf, nr = len(forget), 240 - len(forget)
    ctx = run_ctx("scrub", fitted_mlp, synthetic, forget, epochs=3, msteps=2, batch_size=bs, schedule="cosine")
    assert ctx.extras["max_epochs"] == [1, 2]
    assert asked == [2 * math.ceil(nf / bs) + 3 * math.ceil(nr / bs)]


def test_distill_kl_matches_definition():
    """Guards against KL in the wrong direction or without the T² scaling."""
    gen = torch.Generator().manual_seed(0)
    s, t = torch.randn(5, 4, generator=gen), torch.randn(5, 4, generator=gen)
    temp = 3.0
    ps, pt = torch.softmax(s / temp, 1), torch.softmax(t / temp, 1)
    expected = (pt * (pt.log() - ps.log())).sum(1).mean() * temp**2
    torch.testing.assert_close(distill_kl(s, t, temp), expected)
    assert float(distill_kl(t, t, temp)) == pytest.approx(0.0, abs=1e-7)


# ----------------------------------------------------------------------------------------------------------
# Influence


@pytest.mark.parametrize("m", [0, 1, 12])
def test_woodfisher_matches_dense_inverse(m):
    """Guards against a wrong Woodbury/Sherman–Morrison update (e.g. the authors' single running vector), and
    against a special case for few gradients that is wrong (one gradient still shapes the Fisher; none
    leaves λI)."""
    gen = torch.Generator().manual_seed(0)
    G, v, lam = torch.randn(m, 7, generator=gen), torch.randn(7, generator=gen), 0.3
    fisher = G.double().T @ G.double() / max(m, 1)
    dense = torch.linalg.solve(lam * torch.eye(7, dtype=torch.float64) + fisher, v.double())
    torch.testing.assert_close(woodfisher_ihvp(G, v, lam).double(), dense, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(woodfisher_ihvp(G, v, lam, recursive=True).double(), dense, rtol=1e-5, atol=1e-6)


def test_per_example_grads_match_autograd(synthetic, fitted_mlp):
    """Guards against per-example gradients that are batch means, or columns in the wrong parameter order."""
    x, y = synthetic.train.x[:5], synthetic.train.y[:5]
    G = per_example_grads(fitted_mlp, x, y, batch_size=2)
    head = per_example_grads(fitted_mlp, x, y, params="head", batch_size=2)
    model = copy.deepcopy(fitted_mlp)
    for i in range(5):
        grads = torch.autograd.grad(F.cross_entropy(model(x[i:i + 1]), y[i:i + 1]), list(model.parameters()))
        flat = torch.cat([g.reshape(-1) for g in grads])
        torch.testing.assert_close(G[i], flat, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(head[i], flat[-head.shape[1]:], rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("params", ["all", "head"])
def test_influence_raises_forget_loss(digits, fitted_digits, params):
    """Guards against a Newton step of the wrong sign (adding the forget set's influence instead of removing
    it) or one that wrecks the model."""
    forget = forget_set(len(digits.train), 20)
    f = digits.train.subset(forget)
    out = unlearners.make("influence", alpha=0.3, n_samples=300, params=params)(fitted_digits, digits, forget)
    assert forget_loss(out.model, f) > 3 * forget_loss(fitted_digits, f)
    assert accuracy(out.model, digits.test.x, digits.test.y) > 0.9
    sign_flipped = unlearners.make("influence", alpha=-0.3, n_samples=300, params=params)(fitted_digits, digits,
                                                                                           forget)
    assert forget_loss(sign_flipped.model, f) < forget_loss(fitted_digits, f)


@pytest.mark.parametrize("params", ["head", "all"])
def test_influence_step_is_the_newton_step(params, synthetic):
    """The chosen parameters move by exactly α · (λI + GᵀG/m)⁻¹ · (1/n) Σ_{i∈S} ∇ℓ_i, where G holds the
    per-example gradients of the whole retain set (n_samples ≥ |R| takes all of it, so the sample's order
    does not matter), computed here densely; with params="head" the features stay bit-identical. The model
    is untrained: its gradients are large enough for the Fisher term, not the damping, to dominate. Batches
    of 3 split the forget set, and "all" has four parameter tensors to write the step back into."""
    # mutations caught: the 1/n of the risk dropped; _param_names ignoring params="head" (all parameters
    # move); a Fisher of one sample (per_example_grads(...)[:1]); the forget gradient of the last batch only
    # (`total = ` for `total += `); the step written back at the wrong offsets (`offset = p.numel()`)
    forget = forget_set(240, 8)
    retain = np.setdiff1d(np.arange(240), forget)
    alpha, lam = 0.5, 1e-2
    model = models.build("mlp", synthetic, seed=0, hidden=(6,)).eval()
    out = unlearners.make("influence", alpha=alpha, damping=lam, n_samples=1000, params=params, batch_size=3)(
        model, synthetic, forget).model
    x, y = synthetic.train.x, synthetic.train.y
    chosen = list(model.head.parameters()) if params == "head" else list(model.parameters())

    def grad(i):
        loss = F.cross_entropy(model(x[i:i + 1]), y[i:i + 1])
        return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, chosen)]).double()

    G = torch.stack([grad(i) for i in retain])
    forget_grad = sum(grad(i) for i in forget)
    fisher = lam * torch.eye(G.shape[1], dtype=torch.float64) + G.T @ G / len(retain)
    expected = alpha * torch.linalg.solve(fisher, forget_grad / 240)
    before = torch.cat([p.detach().reshape(-1) for p in chosen]).double()
    moved = out.head.parameters() if params == "head" else out.parameters()
    step = torch.cat([p.detach().reshape(-1) for p in moved]).double() - before
    assert float(expected.abs().max()) > 1e-2  # a step worth comparing
    torch.testing.assert_close(step, expected, rtol=1e-4, atol=1e-6)  # float32 weights: compare the steps
    if params == "head":
        assert all(torch.equal(a, b) for a, b in zip(model.features.state_dict().values(),
                                                     out.features.state_dict().values(), strict=True))


@pytest.mark.parametrize("method", [m for m in unlearners.available() if "augment" in unlearners.make(m).hparams])
def test_augmentation_is_applied_and_seeded(method, synthetic, fitted_mlp):
    """The paper unlearns with crop + flip augmentation: with augment set the run must differ from one
    without, and still be a function of the seed alone (the global torch RNG must not matter). Catches:
    a method ignoring its augment hyperparameter, or augmenting from the global RNG instead of the run's
    generator (mutants that survived `make mutation`)."""
    forget = forget_set(240, 12)

    def run(augment, global_seed):
        torch.manual_seed(global_seed)
        hp = {"epochs": 2, "lr": 0.05, "augment": augment}
        return unlearners.make(method, **hp)(fitted_mlp, synthetic, forget, seed=0).model.state_dict()

    a, b, plain = run("crop_flip", 1), run("crop_flip", 2), run(None, 1)
    assert all(torch.equal(a[k], b[k]) for k in a), "augmentation depends on the global RNG"
    assert any(not torch.equal(a[k], plain[k]) for k in a), "augment has no effect"


# ---------------------------------------------------------------- schedules, edge sizes, augmentation
def _spy_total_steps(monkeypatch, module):
    """Record the ``total_steps`` every optimizer of ``module`` is built with (the cosine schedule's length)."""
    seen = []
    real = module.make_optimizer

    def spy(params, cfg, total_steps):
        seen.append(total_steps)
        return real(params, cfg, total_steps)

    monkeypatch.setattr(module, "make_optimizer", spy)
    return seen


def test_schedules_span_every_step_of_the_run(synthetic, fitted_mlp, monkeypatch):
    """A cosine schedule must decay over the run's real number of steps. Catches: NegGrad's (and NegGrad+'s)
    shared loop sizing it epochs / batches instead of epochs × batches, and SCRUB counting max-steps beyond
    its epochs (msteps > epochs must add only ``epochs`` forget passes)."""
    from rum_core.unlearners import neggrad, scrub

    forget = np.arange(40)  # 2 batches of 32 → 2 steps per epoch on the forget set
    seen = _spy_total_steps(monkeypatch, neggrad)
    unlearners.make("neggrad", epochs=3, lr=1e-3, batch_size=32, schedule="cosine")(fitted_mlp, synthetic, forget)
    assert seen == [3 * 2]
    seen = _spy_total_steps(monkeypatch, scrub)
    n_retain = len(synthetic.train) - len(forget)
    unlearners.make("scrub", epochs=2, msteps=5, lr=1e-3, batch_size=32, schedule="cosine")(fitted_mlp, synthetic,
                                                                                           forget)
    assert seen == [2 * 2 + 2 * math.ceil(n_retain / 32)]


def test_ascent_on_a_single_example(synthetic, fitted_mlp):
    """A forget set of one example is a valid request (catches an emptiness check of ``n <= 1``)."""
    res = unlearners.make("neggrad", epochs=2, lr=1e-3)(fitted_mlp, synthetic, [5])
    assert res.grad_evals == 2


@pytest.mark.parametrize("method", ["neggrad_plus", "scrub"])
def test_forget_batches_are_augmented_like_retain_batches(method, synthetic, fitted_mlp, monkeypatch):
    """With ``augment="crop"`` every batch, forget batches included, goes through the crop. Catches a method
    that passes no augmentation for its forget batches (the model would see them un-augmented only)."""
    module = __import__(f"rum_core.unlearners.{method}", fromlist=["augment"])
    kinds, sizes = [], []
    real = module.augment

    def spy(x, kind, generator):
        kinds.append(kind)
        sizes.append(len(x))
        return real(x, kind, generator)

    monkeypatch.setattr(module, "augment", spy)
    forget = np.arange(7)  # a batch of 7 is a forget batch (retain batches hold 32)
    hp = {"epochs": 1, "lr": 1e-3, "batch_size": 32, "augment": "crop"}
    unlearners.make(method, **({"msteps": 1} if method == "scrub" else {}), **hp)(fitted_mlp, synthetic, forget)
    assert 7 in sizes and set(kinds) == {"crop"}


@pytest.mark.parametrize("method", ["finetune", "l1_sparse", "random_label", "salun"])
def test_training_methods_pass_the_run_seed_to_fit(method, synthetic, fitted_mlp, monkeypatch):
    """A spy on ``fit``: the batches (and augmentation) of every training-based method are drawn from the run's
    seed. Catches a method that drops ``seed=`` (fit would shuffle with seed 0 whatever the caller asked)."""
    module = __import__(f"rum_core.unlearners.{method}", fromlist=["fit"])
    seeds = []
    real = module.fit

    def spy(*args, **kwargs):
        seeds.append(kwargs.get("seed"))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "fit", spy)
    unlearners.make(method, **fast_hparams(method))(fitted_mlp, synthetic, np.arange(12), seed=7)
    assert seeds == [7]
