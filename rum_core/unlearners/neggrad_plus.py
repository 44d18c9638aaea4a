"""NegGrad+ (:class:`NegGradPlus`): descend on the retain set and ascend on the forget set in one step."""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F

from ..training import augment
from ..validation import check_int, check_number
from .base import PAPER, TRAIN_DEFAULTS, UnlearnContext, Unlearner, register
from .neggrad import sgd_epochs
from .random_label import stream_generator

__all__ = ["NegGradPlus", "cycled_batches"]


def cycled_batches(n: int, batch_size: int, generator: torch.Generator):
    """Endless batches of ``range(n)``: a shuffled pass cut into batches, reshuffled each time it runs out."""
    n, batch_size = check_int("n", n, low=1), check_int("batch_size", batch_size, low=1)
    while True:
        yield from torch.randperm(n, generator=generator).split(batch_size)


@register
class NegGradPlus(Unlearner):
    """NegGrad+: descend on the retain set and ascend on the forget set in the same step.

    An epoch iterates the retain set once (shuffled); forget batches are cycled alongside it (a fresh
    shuffle every time the forget set is exhausted), one forget batch per retain batch.

    Random streams: the retain batches and their augmentation come from ``torch.Generator().manual_seed(seed)``
    in exactly the order of :func:`rum_core.training.fit`; the forget cycling and its augmentation use a
    separate generator. So with α = 1 (no forget term, and no forget batches are drawn) NegGrad+ is
    bit-for-bit the ``finetune`` method with the same seed and recipe.
    """

    name = "neggrad_plus"
    loss = "each step minimizes α·CE(retain batch) − (1 − α)·CE(forget batch)"
    citation = ("Kurmanji, Triantafillou, Hayes and Triantafillou (2023), \"Towards unbounded machine "
                f"unlearning\", NeurIPS; run as in {PAPER}")
    defaults = {**TRAIN_DEFAULTS, "epochs": 5, "lr": 0.01, "alpha": 0.99}
    hparam_docs = {"epochs": "passes over the retain set (the authors' README, --unlearn NG: 5)",
                   "lr": "learning rate (the authors' README: 0.01)",
                   "alpha": "weight α ∈ [0, 1] of the retain term; 1 − α weighs the forget term (the README "
                            "searches 0.95–0.99; its high end here)"}
    hparam_checks = {"alpha": partial(check_number, low=0, high=1)}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        cfg = self.train_config()
        alpha = float(self.hparams["alpha"])
        train = ctx.bundle.train
        retain, forget = train.subset(ctx.retain), train.subset(ctx.forget)
        xr, yr = retain.x.to(ctx.device), retain.y.to(ctx.device)
        xf, yf = forget.x.to(ctx.device), forget.y.to(ctx.device)
        forget_gen = stream_generator(ctx.seed, "neggrad_plus/forget")
        forget_batches = cycled_batches(len(yf), cfg.batch_size, forget_gen)

        def loss_fn(idx, gen):
            loss = F.cross_entropy(ctx.model(augment(xr[idx], cfg.augment, gen)), yr[idx])
            examples = len(idx)
            if alpha != 1.0:
                fidx = next(forget_batches).to(ctx.device)
                forget_loss = F.cross_entropy(ctx.model(augment(xf[fidx], cfg.augment, forget_gen)), yf[fidx])
                loss = alpha * loss - (1.0 - alpha) * forget_loss
                examples += len(fidx)
            return loss, examples

        ctx.grad_evals += sgd_epochs(ctx.model, len(yr), cfg, loss_fn, seed=ctx.seed, device=ctx.device,
                                     progress_bar=ctx.progress_bar, desc="neggrad_plus")
