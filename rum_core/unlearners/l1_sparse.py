"""L1-sparse (:class:`L1Sparse`): fine-tune on the retain set with a linearly decaying L1 penalty."""

from __future__ import annotations

from functools import partial

import torch

from ..training import fit
from ..validation import check_number
from .base import PAPER, TRAIN_DEFAULTS, UnlearnContext, Unlearner, register

__all__ = ["L1Sparse", "l1_coefficient", "l1_norm"]


def l1_coefficient(alpha: float, progress: float) -> float:
    """α_t = α(1 − progress): α at the start of the run, 0 at its end (``progress`` ∈ [0, 1])."""
    alpha = check_number("alpha", alpha, low=0.0)
    progress = check_number("progress", progress, low=0.0, high=1.0)
    return alpha * (1.0 - progress)


def l1_norm(model: torch.nn.Module) -> torch.Tensor:
    """‖θ‖₁ over every parameter of ``model`` (differentiable)."""
    return sum(p.abs().sum() for p in model.parameters())


@register
class L1Sparse(Unlearner):
    """L1-sparse: fine-tune on the retain set with an L1 penalty whose coefficient decays linearly to 0.

    The authors' ``FT_prune``: sparsity pushes the model towards one that depends less on individual
    examples. The penalty covers all parameters; its coefficient α_t = α(1 − t/T) uses t = optimizer steps
    so far and T = the run's steps (the per-step form of the authors' per-epoch schedule), so it starts at
    α and falls linearly to 0 (its last value is α/T). The coefficient of every step is recorded in
    ``extras["l1_alpha"]``.
    """

    name = "l1_sparse"
    loss = "minimize CE(f_θ(x), y) + α_t·‖θ‖₁ over retain batches (x, y) ⊂ R, with α_t = α(1 − t/T)"
    citation = ("Jia, Liu, Ram, Yao, Liu, Liu, Sharma and Liu (2023), \"Model sparsity can simplify machine "
                f"unlearning\", NeurIPS; run as in {PAPER}")
    defaults = {**TRAIN_DEFAULTS, "epochs": 10, "lr": 0.01, "alpha": 5e-4}
    hparam_docs = {"epochs": "passes over the retain set (the authors' README, --unlearn FT_prune: 10)",
                   "lr": "learning rate (the authors' README: 0.01)",
                   "alpha": "the L1 coefficient α at the first step, ≥ 0 (the README leaves it to a search over "
                            "5e-4 … 0.2; its low end here)"}
    hparam_checks = {"alpha": partial(check_number, low=0)}

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
