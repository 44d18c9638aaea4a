"""Retrain: the gold standard. Train a freshly initialized model on the retain set only.

Zhao et al. (2024) and every unlearning paper use it as the reference θʳ; its recipe is the original
model's (paper: 30 epochs, lr 0.1, SGD momentum 0.9, weight decay 5e-4, batch 256, cosine). The result is
cached by its full configuration, so the reference for a forget set is trained once and shared; the cost
reported is that of the training run, also on a cache hit.
"""

from __future__ import annotations

from ..training import train_model
from .base import TRAIN_DEFAULTS, UnlearnContext, Unlearner, register


@register
class Retrain(Unlearner):
    name = "retrain"
    defaults = {**TRAIN_DEFAULTS, "epochs": 30, "lr": 0.1, "schedule": "cosine"}  # the original model's recipe

    def _unlearn(self, ctx: UnlearnContext) -> None:
        spec = ctx.model.spec
        model, log = train_model(ctx.bundle, spec.name, self.train_config(), seed=ctx.seed, train_idx=ctx.retain,
                                 model_kwargs=spec.kwargs, device=ctx.device, progress_bar=ctx.progress_bar,
                                 desc="retrain")
        ctx.model = model
        ctx.grad_evals += log.grad_evals
        ctx.seconds = log.seconds
