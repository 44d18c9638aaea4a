"""Retrain (:class:`Retrain`): the gold standard, a fresh model trained on the retain set only."""

from __future__ import annotations

from ..training import train_model
from .base import PAPER, TRAIN_DEFAULTS, UnlearnContext, Unlearner, register


@register
class Retrain(Unlearner):
    """Retrain: the gold standard. Train a freshly initialized model on the retain set only.

    Zhao et al. (2024) and every unlearning paper use it as the reference θʳ; its recipe is the original
    model's. The result is cached by its full configuration, so the reference for a forget set is trained
    once and shared; the cost reported is that of the training run, also on a cache hit.
    """

    name = "retrain"
    loss = "minimize CE(f_θ(x), y) over retain batches (x, y) ⊂ R, from a fresh initialization"
    citation = ("Cao and Yang (2015), \"Towards making systems forget with machine unlearning\", IEEE S&P "
                f"(exact unlearning); the reference and recipe of {PAPER}")
    defaults = {**TRAIN_DEFAULTS, "epochs": 30, "lr": 0.1, "schedule": "cosine"}  # the original model's recipe
    hparam_docs = {"epochs": "training epochs, the original model's (the paper's recipe: 30)",
                   "lr": "initial learning rate, the original model's (the paper's recipe: 0.1)",
                   "schedule": "learning-rate schedule, the original model's (the paper's recipe: cosine)"}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        spec = ctx.model.spec
        model, log = train_model(ctx.bundle, spec.name, self.train_config(), seed=ctx.seed, train_idx=ctx.retain,
                                 model_kwargs=spec.kwargs, device=ctx.device, progress_bar=ctx.progress_bar,
                                 desc="retrain")
        ctx.model = model
        ctx.grad_evals += log.grad_evals
        ctx.seconds = log.seconds
