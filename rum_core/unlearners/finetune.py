"""Fine-tune (:class:`Finetune`): keep training the original model on the retain set only."""

from __future__ import annotations

from ..training import fit
from .base import PAPER, TRAIN_DEFAULTS, UnlearnContext, Unlearner, register


@register
class Finetune(Unlearner):
    """Fine-tune: keep training the original model on the retain set only, with a smaller learning rate.

    Forgetting comes only from catastrophic forgetting of the examples it no longer sees.
    """

    name = "finetune"
    loss = "minimize CE(f_θ(x), y) over retain batches (x, y) ⊂ R, by SGD from the original model"
    citation = ("Warnecke, Pirch, Wressnegger and Rieck (2023), \"Machine unlearning of features and labels\", "
                f"NDSS; run as in {PAPER}")
    defaults = {**TRAIN_DEFAULTS, "epochs": 10, "lr": 0.01}
    hparam_docs = {"epochs": "passes over the retain set (the authors' README, --unlearn FT: 10)",
                   "lr": "learning rate (the authors' README: 0.01)"}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        retain = ctx.bundle.train.subset(ctx.retain)
        log = fit(ctx.model, retain.x, retain.y, self.train_config(), seed=ctx.seed, device=ctx.device,
                  progress_bar=ctx.progress_bar, desc="finetune")
        ctx.grad_evals += log.grad_evals
