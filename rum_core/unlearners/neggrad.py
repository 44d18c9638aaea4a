"""NegGrad (:class:`NegGrad`): gradient ascent on the forget set.

:func:`sgd_epochs` is the SGD loop of :func:`rum_core.training.fit` with a caller-supplied batch loss; NegGrad+
uses it too. Same seed, same batches: it draws batches and augmentation from one generator in exactly the
order ``fit`` does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .._progress import progress
from ..training import TrainConfig, augment, make_optimizer, minibatches
from .base import PAPER, TRAIN_DEFAULTS, UnlearnContext, Unlearner, register

__all__ = ["NegGrad", "sgd_epochs"]

BatchLoss = Callable[[torch.Tensor, torch.Generator], tuple[torch.Tensor, int]]


def sgd_epochs(model: nn.Module, n: int, cfg: TrainConfig, batch_loss: BatchLoss, *, seed: int,
               device: torch.device, progress_bar: bool | None = None, desc: str = "train") -> int:
    """Run ``cfg.epochs`` epochs of seeded SGD over ``range(n)`` with a custom loss; return gradient evaluations.

    ``batch_loss(idx, gen)`` gets each batch of indices (a seeded permutation cut as
    :func:`~rum_core.training.minibatches` does, with ``torch.Generator().manual_seed(seed)`` as in ``fit``)
    and that generator (for augmentation), and returns ``(loss, examples)``: the loss to minimize and the
    number of per-example forward + backward passes it took. Optimizer and schedule are
    :func:`~rum_core.training.make_optimizer`'s over ``epochs × ⌈n / batch⌉`` steps.
    """
    if n <= 0:
        raise ValueError("cannot train on an empty set")
    model.to(device).train()
    gen = torch.Generator().manual_seed(int(seed))
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    opt, sched = make_optimizer(model.parameters(), cfg, cfg.epochs * steps_per_epoch)
    grad_evals = 0
    for _ in progress(range(cfg.epochs), desc=desc, enabled=progress_bar):
        for idx in minibatches(n, cfg.batch_size, gen):
            loss, examples = batch_loss(idx.to(device), gen)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            grad_evals += int(examples)
    model.eval()
    return grad_evals


@register
class NegGrad(Unlearner):
    """NegGrad: gradient ascent on the forget set ("GA" in Jia et al. 2023 and SalUn).

    Maximizes the cross-entropy of the forget set for a few epochs with a small learning rate; nothing
    holds the retain set in place, so it trades utility for forgetting quickly.
    """

    name = "neggrad"
    loss = "minimize −CE(f_θ(x), y) over forget batches (x, y) ⊂ S"
    citation = ("Golatkar, Achille and Soatto (2020), \"Eternal sunshine of the spotless net\", CVPR; Thudi, "
                "Deza, Chandrasekaran and Papernot (2022), \"Unrolling SGD\", IEEE EuroS&P; run as in "
                f"{PAPER}")
    defaults = {**TRAIN_DEFAULTS, "epochs": 5, "lr": 1e-4}
    hparam_docs = {"epochs": "passes over the forget set (the authors' README, --unlearn GA: 5)",
                   "lr": "learning rate (the authors' README: 1e-4)"}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        cfg = self.train_config()
        forget = ctx.bundle.train.subset(ctx.forget)
        x, y = forget.x.to(ctx.device), forget.y.to(ctx.device)

        def ascent(idx, gen):
            logits = ctx.model(augment(x[idx], cfg.augment, gen))
            return -F.cross_entropy(logits, y[idx]), len(idx)

        ctx.grad_evals += sgd_epochs(ctx.model, len(y), cfg, ascent, seed=ctx.seed, device=ctx.device,
                                     progress_bar=ctx.progress_bar, desc="neggrad")
