"""L1-sparse: fine-tune on the retain set with an L1 penalty whose coefficient decays linearly to 0.

Jia et al. (2023, NeurIPS) "Model sparsity can simplify machine unlearning" (the authors' ``FT_prune``):
minimize CE(retain) + α_t‖θ‖₁ over all parameters, with α_t = α(1 − t/T). Here t counts optimizer steps
and T is the number of steps of the run (the per-step form of the authors' per-epoch schedule), so the
coefficient starts at α and falls linearly to 0 (its last value is α/T).

Defaults from the authors' README (Zhao et al. 2024; ``--unlearn FT_prune``): 10 epochs, lr 0.01; the
README leaves α to a search (paper notes: 5e-4 … 0.2); 5e-4 here. Shared recipe otherwise (SGD momentum 0.9,
weight decay 5e-4, batch 256, constant learning rate).
"""

from __future__ import annotations

import torch

from ..training import fit
from .base import TRAIN_DEFAULTS, UnlearnContext, Unlearner, register

__all__ = ["L1Sparse", "l1_coefficient", "l1_norm"]


def l1_coefficient(alpha: float, progress: float) -> float:
    """α_t = α(1 − progress): α at the start of the run, 0 at its end (``progress`` ∈ [0, 1])."""
    if not 0.0 <= progress <= 1.0:
        raise ValueError(f"progress must lie in [0, 1], got {progress!r}")
    return float(alpha) * (1.0 - float(progress))


def l1_norm(model: torch.nn.Module) -> torch.Tensor:
    """‖θ‖₁ over every parameter of ``model`` (differentiable)."""
    return sum(p.abs().sum() for p in model.parameters())


@register
class L1Sparse(Unlearner):
    name = "l1_sparse"
    defaults = {**TRAIN_DEFAULTS, "epochs": 10, "lr": 0.01, "alpha": 5e-4}

    def __init__(self, **hparams):
        super().__init__(**hparams)
        if not float(self.hparams["alpha"]) >= 0:
            raise ValueError(f"alpha must be a non-negative number, got {self.hparams['alpha']!r}")

    def _unlearn(self, ctx: UnlearnContext) -> None:
        alpha = float(self.hparams["alpha"])
        used: list[float] = []  # the coefficient of every step, for inspection (ctx.extras["l1_alpha"])

        def penalty(model, progress):
            coef = l1_coefficient(alpha, progress)
            used.append(coef)
            return coef * l1_norm(model)

        retain = ctx.bundle.train.subset(ctx.retain)
        log = fit(ctx.model, retain.x, retain.y, self.train_config(), seed=ctx.seed, device=ctx.device,
                  progress_bar=ctx.progress_bar, desc="l1_sparse", extra_loss=penalty)
        ctx.grad_evals += log.grad_evals
        ctx.extras["l1_alpha"] = used
