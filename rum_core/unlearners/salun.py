"""SalUn (:class:`SalUn`): random-label unlearning restricted to the weights most salient for the forget set,
and its parts: the saliency mask (:func:`saliency_mask`) and training with the rest frozen exactly
(:func:`frozen_outside_mask`)."""

from __future__ import annotations

from contextlib import contextmanager
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ..training import fit
from ..validation import check_choice, check_number
from .base import TRAIN_DEFAULTS, UnlearnContext, Unlearner, register
from .random_label import RELABEL, RELABEL_DOC, relabelled_training_set

__all__ = ["SalUn", "SELECTIONS", "forget_gradient_magnitudes", "mask_from_scores", "saliency_mask",
           "frozen_outside_mask"]

SELECTIONS = ("largest", "smallest_legacy")


def forget_gradient_magnitudes(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *,
                               batch_size: int = 256) -> dict[str, torch.Tensor]:
    """|∇_θ Σ_i CE(f_θ(x_i), y_i)| per named parameter, accumulated over batches without optimizer steps.

    The model is evaluated in eval mode (no batch-norm statistics are updated) and left unchanged; its
    ``.grad`` fields are not touched.
    """
    if len(x) == 0:
        raise ValueError("cannot compute saliency on an empty forget set")
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = [p for n, p in model.named_parameters() if p.requires_grad]
    dev = params[0].device
    total = [torch.zeros_like(p) for p in params]
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size].to(dev), y[start:start + batch_size].to(dev)
            loss = F.cross_entropy(model(xb), yb, reduction="sum")
            for acc, g in zip(total, torch.autograd.grad(loss, params), strict=True):
                acc += g
    finally:
        model.train(was_training)
    return {n: g.abs() for n, g in zip(names, total, strict=True)}


def mask_from_scores(scores: dict[str, torch.Tensor], ratio: float,
                     selection: str = "largest") -> dict[str, torch.Tensor]:
    """Boolean masks selecting ``⌊ratio · N⌋`` entries of ``scores`` ranked globally (N = all entries).

    ``selection="largest"`` keeps the highest scores (SalUn); ``"smallest_legacy"`` the lowest (the bug of
    the authors' copy, kept only to reproduce it). Ties are broken by position (parameter order, then
    flat index), so the mask is deterministic.
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
    ratio = check_number("mask ratio", ratio, low=0.0, high=1.0)
    flat = torch.cat([s.detach().reshape(-1).double().cpu() for s in scores.values()])
    k = int(ratio * flat.numel())
    order = torch.argsort(flat, descending=(selection == "largest"), stable=True)
    keep = torch.zeros(flat.numel(), dtype=torch.bool)
    keep[order[:k]] = True
    masks, start = {}, 0
    for name, s in scores.items():
        masks[name] = keep[start:start + s.numel()].reshape(s.shape).to(s.device)
        start += s.numel()
    return masks


def saliency_mask(model: nn.Module, x: torch.Tensor, y: torch.Tensor, ratio: float = 0.5, *,
                  selection: str = "largest", batch_size: int = 256) -> dict[str, torch.Tensor]:
    """SalUn's weight-saliency mask: True where a weight may be trained (see :func:`mask_from_scores`)."""
    return mask_from_scores(forget_gradient_magnitudes(model, x, y, batch_size=batch_size), ratio, selection)


class _Where(nn.Module):
    """Parametrization ``θ ↦ where(mask, θ, frozen)``: masked-out entries always read the frozen values."""

    def __init__(self, mask: torch.Tensor, frozen: torch.Tensor):
        super().__init__()
        self.register_buffer("mask", mask)
        self.register_buffer("frozen", frozen)

    def forward(self, value: torch.Tensor) -> torch.Tensor:
        return torch.where(self.mask, value, self.frozen)


@contextmanager
def frozen_outside_mask(model: nn.Module, masks: dict[str, torch.Tensor]):
    """Within the block, every parameter entry where ``masks`` is False keeps its current value exactly.

    Parameters whose mask is all True are left alone; the others are reparametrized (see :class:`_Where`).
    On exit the parametrizations are removed, each parameter holds its masked value, and the parameters
    are in their original order again (``state_dict`` keys and ``parameters()`` as before).
    """
    missing = sorted(set(dict(model.named_parameters())) - set(masks))
    if missing:
        raise ValueError(f"masks lack parameters {missing[:5]}")
    wrapped, orders = [], {}
    for name, mask in masks.items():
        if bool(mask.all()):
            continue
        module_name, _, attr = name.rpartition(".")
        module = model.get_submodule(module_name)
        orders.setdefault(id(module), (module, list(module._parameters)))
        frozen = getattr(module, attr).detach().clone()
        parametrize.register_parametrization(module, attr, _Where(mask.to(frozen.device), frozen))
        wrapped.append((module, attr))
    try:
        yield model
    finally:
        for module, attr in wrapped:
            parametrize.remove_parametrizations(module, attr, leave_parametrized=True)
        for module, names in orders.values():  # removal re-registers parameters last: restore the order
            params = module._parameters
            reordered = {n: params[n] for n in names}
            params.clear()
            params.update(reordered)


@register
class SalUn(Unlearner):
    """SalUn: random-label unlearning restricted to the weights most salient for the forget set.

    1. Saliency: g = ∇_θ Σ_{i ∈ S} CE(f_θ(x_i), y_i) at the model given, accumulated over the forget set
       without any optimizer step (eval mode, no augmentation).
    2. Mask: rank |g| globally over all parameters and keep the largest fraction τ (``mask_ratio``)
       trainable; ``k = ⌊τ·N⌋`` entries, ties broken by position so the mask is deterministic. It is
       recorded in ``extras["mask"]``.
    3. Random-label training (as ``random_label``) in which every un-selected weight stays bit-identical.
       Zeroing its gradient is not enough (weight decay and momentum would still move it), so during
       training each parameter is reparametrized as ``where(mask, θ_trainable, θ_frozen)``: the network
       always computes with the frozen values there, whatever the optimizer does to the trainable copy,
       and the final weights are read back through the same ``where``.

    Known upstream bug (Zhao et al.'s copy): the mask kept the SMALLEST gradients and was computed while
    taking optimizer steps. The fixed behaviour is the default; the old selection is only available by
    asking for ``selection="smallest_legacy"`` (and is still computed without steps).
    """

    name = "salun"
    loss = ("minimize CE over R ∪ S̃ (S with random wrong labels, as random_label) with only the ⌊τ·N⌋ weights "
            "of largest |∇_θ CE(S)| trained; every other weight stays exactly fixed")
    citation = ("Fan, Liu, Zhang, Wei, Wong and Liu (2024), \"SalUn: empowering machine unlearning via "
                "gradient-based weight saliency in both image classification and generation\", ICLR")
    defaults = {**TRAIN_DEFAULTS, "epochs": 10, "lr": 0.1, "mask_ratio": 0.5, "selection": "largest",
                "relabel": "epoch"}
    hparam_docs = {"epochs": "passes over R ∪ S̃ (the authors' README, main_random.py --unlearn RL: 10)",
                   "lr": "learning rate (the authors' README: 0.1)",
                   "mask_ratio": "τ ∈ [0, 1], the fraction of all weights that is trained (SalUn: 0.5)",
                   "selection": "which weights the mask keeps: 'largest' saliency (SalUn), or 'smallest_legacy', "
                                "the bug of the authors' copy, to reproduce it",
                   "relabel": RELABEL_DOC}
    hparam_checks = {"mask_ratio": partial(check_number, low=0, high=1),
                     "selection": partial(check_choice, choices=SELECTIONS),
                     "relabel": partial(check_choice, choices=RELABEL)}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        forget = ctx.bundle.train.subset(ctx.forget)
        masks = saliency_mask(ctx.model, forget.x, forget.y, float(self.hparams["mask_ratio"]),
                              selection=self.hparams["selection"], batch_size=int(self.hparams["batch_size"]))
        ctx.grad_evals += len(forget)
        ctx.extras["mask"] = masks
        x, labels_for_epoch = relabelled_training_set(ctx, self.hparams["relabel"])
        with frozen_outside_mask(ctx.model, masks):
            log = fit(ctx.model, x, labels_for_epoch(0), self.train_config(), seed=ctx.seed, device=ctx.device,
                      progress_bar=ctx.progress_bar, desc="salun", labels_for_epoch=labels_for_epoch)
        ctx.grad_evals += log.grad_evals
