"""Fine-tune: keep training the original model on the retain set only, with a smaller learning rate.

Forgetting comes only from catastrophic forgetting of the examples no longer seen. Defaults from the
authors' README (Zhao et al. 2024; Warnecke et al. 2023 "Machine unlearning of features and labels"):
10 epochs, lr 0.01, and the shared recipe (SGD momentum 0.9, weight decay 5e-4, batch 256, constant
learning rate).
"""

from __future__ import annotations

from ..training import fit
from .base import TRAIN_DEFAULTS, UnlearnContext, Unlearner, register


@register
class Finetune(Unlearner):
    name = "finetune"
    defaults = {**TRAIN_DEFAULTS, "epochs": 10, "lr": 0.01}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        retain = ctx.bundle.train.subset(ctx.retain)
        log = fit(ctx.model, retain.x, retain.y, self.train_config(), seed=ctx.seed, device=ctx.device,
                  progress_bar=ctx.progress_bar, desc="finetune")
        ctx.grad_evals += log.grad_evals
