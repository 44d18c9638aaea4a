"""Influence unlearning (:class:`Influence`): one Newton step that removes the forget set, with a WoodFisher
inverse Hessian, and its parts (:func:`per_example_grads`, :func:`woodfisher_ihvp`)."""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from ..validation import check_choice, check_int, check_number
from .base import PAPER, UnlearnContext, Unlearner, register
from .random_label import stream_generator

__all__ = ["Influence", "PARAM_SETS", "per_example_grads", "woodfisher_ihvp"]

PARAM_SETS = ("all", "head")
_MAX_GRAD_ELEMENTS = 500_000_000  # per-example gradient matrix bigger than 2 GB in float32: refuse


def _param_names(model: nn.Module, which: str) -> list[str]:
    if which == "all":
        return [n for n, p in model.named_parameters() if p.requires_grad]
    return [n for n, p in model.named_parameters() if p.requires_grad and n.startswith("head.")]


def per_example_grads(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, params: str = "all",
                      batch_size: int = 256) -> torch.Tensor:
    """Per-example gradients of CE(f(x_i), y_i) w.r.t. the chosen parameters, as an (n, d) float32 matrix.

    Columns follow ``model.named_parameters()`` order, flattened. ``params="head"`` differentiates only the
    final linear layer (inputs = the model's penultimate features). Eval mode; the model is not changed.
    """
    if params not in PARAM_SETS:
        raise ValueError(f"params must be one of {PARAM_SETS}, got {params!r}")
    names = _param_names(model, params)
    module = model.head if params == "head" else model
    prefix = "head." if params == "head" else ""
    weights = {n[len(prefix):]: p.detach() for n, p in model.named_parameters() if n in names}
    buffers = {n: b.detach() for n, b in module.named_buffers()}
    dev = next(model.parameters()).device

    def loss_one(w, xi, yi):
        logits = functional_call(module, (w, buffers), (xi.unsqueeze(0),))
        return F.cross_entropy(logits, yi.unsqueeze(0))

    per_example = vmap(grad(loss_one), in_dims=(None, 0, 0))
    was_training = model.training
    model.eval()
    out = []
    try:
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size].to(dev), y[start:start + batch_size].to(dev)
            if params == "head":
                with torch.no_grad():
                    xb = model.features(xb)
            g = per_example(weights, xb, yb)
            out.append(torch.cat([g[n].reshape(len(yb), -1) for n in weights], dim=1))
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.zeros((0, sum(w.numel() for w in weights.values())), device=dev)


def _summed_grad(model: nn.Module, x: torch.Tensor, y: torch.Tensor, names: list[str], *,
                 batch_size: int, head_only: bool = False) -> torch.Tensor:
    """∇ Σ_i CE(f(x_i), y_i) w.r.t. the parameters ``names`` (eval mode), flattened in parameter order.

    ``head_only``: ``names`` are the head's parameters, so the features are computed without a graph.
    """
    params = [p for n, p in model.named_parameters() if n in names]
    dev = params[0].device
    total = torch.zeros(sum(p.numel() for p in params), device=dev)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(x), batch_size):
            xb, yb = x[start:start + batch_size].to(dev), y[start:start + batch_size].to(dev)
            if head_only:
                with torch.no_grad():
                    xb = model.features(xb)
            logits = model.head(xb) if head_only else model(xb)
            grads = torch.autograd.grad(F.cross_entropy(logits, yb, reduction="sum"), params)
            total += torch.cat([g.reshape(-1) for g in grads])
    finally:
        model.train(was_training)
    return total


def woodfisher_ihvp(grads: torch.Tensor, v: torch.Tensor, damping: float, *, recursive: bool = False) -> torch.Tensor:
    """(λI + (1/m) Σ_j g_j g_jᵀ)⁻¹ v for the rows g_j of ``grads`` (m × d).

    ``recursive=False``: the Woodbury identity in closed form, (1/λ)[v − Gᵀ(mλI + GGᵀ)⁻¹Gv], with the
    Gram matrix GGᵀ accumulated in float32 and everything else in float64.
    ``recursive=True``: WoodFisher's recursion (Singh & Alistarh 2020), one Sherman–Morrison update per
    gradient: F_k⁻¹ = F_{k−1}⁻¹ − u_k u_kᵀ / (m + g_kᵀu_k) with u_k = F_{k−1}⁻¹ g_k and F_0⁻¹ = I/λ. Same
    value (up to rounding), O(m²d) vector operations; kept as the reference.
    """
    damping = check_number("damping", damping, low=0.0, low_open=True)
    if grads.ndim != 2 or v.ndim != 1 or grads.shape[1] != v.shape[0]:
        raise ValueError(f"need grads (m, d) and v (d,), got {tuple(grads.shape)} and {tuple(v.shape)}")
    G, v64 = grads.double(), v.double()
    m = G.shape[0]
    if m == 0:
        return (v64 / damping).to(v.dtype)
    if not recursive:
        g32 = grads.float()
        kernel = (g32 @ g32.T).double()  # the O(m²d) product in float32; the m×m solve in float64
        kernel.diagonal().add_(m * damping)
        coef = torch.linalg.solve(kernel, G @ v64)
        return ((v64 - G.T @ coef) / damping).to(v.dtype)
    us, cs = [], []
    for g in G:
        u = g / damping
        for uj, cj in zip(us, cs, strict=True):
            u = u - uj * (uj @ g) / cj
        us.append(u)
        cs.append(m + g @ u)
    out = v64 / damping
    for uj, cj in zip(us, cs, strict=True):
        out = out - uj * (uj @ v64) / cj
    return out.to(v.dtype)


@register
class Influence(Unlearner):
    """Influence unlearning: one Newton step that removes the forget set, with a WoodFisher inverse Hessian.

    Removing the examples S from the empirical risk (1/n) Σ_{i∈D} ℓ_i (n = |D| = |S| + |R|) moves its minimizer,
    to first order, by

        Δθ = H⁻¹ · (1/n) Σ_{i∈S} ∇ℓ_i(θ),        θ ← θ + α · Δθ,

    where H is the Hessian of the risk. Approximations made here (documented because they matter):

    * H is replaced by the damped empirical Fisher of the retain set, F = λI + (1/m) Σ_j g_j g_jᵀ, from the
      per-example loss gradients g_j of m retain examples drawn at random (``n_samples``, without
      replacement, seeded). λ (``damping``, default 1e-3) also stands for the weight-decay part of the Hessian
      (5e-4 in the shared recipe) and bounds the step along directions the sample does not see.
    * F⁻¹v is computed exactly for that F by the Woodbury identity, in closed form
      (1/λ)[v − Gᵀ(mλI + GGᵀ)⁻¹Gv]; this equals WoodFisher's recursion of m rank-one Sherman–Morrison updates
      (also provided, :func:`woodfisher_ihvp` with ``recursive=True``) and costs O(m²d) with a d×m matrix in
      memory instead of d×d.
    * θ is taken as a minimizer of the full risk (its gradient at θ is treated as zero), so only the forget
      gradients enter. (The authors' copy also subtracts a scaled mean retain gradient, and its recursion keeps
      a single running vector, which is not the Sherman–Morrison update.)
    * ``params="head"`` restricts θ to the final linear layer, the model's ``head`` (its ``features`` stay
      fixed): the Newton step of a linear softmax classifier on the original model's penultimate embedding,
      with F the empirical Fisher of that layer alone. Koh & Liang (2017) likewise computed influence for
      Inception v3 with all but its top layer frozen. The ``paper`` profile uses it: per-example gradients of
      all 11 M parameters of ResNet-18 for m = 1,000 samples would take 45 GB (in float32), while its head has
      512·10 + 10 = 5,130 parameters (20 MB). What it gives up is any change of the features, so it can only
      move the decision boundary in the original embedding. ``"all"`` (default) uses every parameter, which
      the small MLPs of the digits profiles afford; a run whose max(m, batch_size) × d exceeds 5·10⁸ entries
      raises a ValueError that suggests ``params="head"``.
    * Gradients are taken in eval mode without augmentation; the step is one-shot (no iteration).

    Cost: |S| + m per-example gradient evaluations.
    """

    name = "influence"
    loss = ("no loss, one step: θ ← θ + α·F⁻¹·(1/n)·Σ_{i∈S} ∇ℓ_i(θ), with n = |S| + |R| and F = λI + (1/m)·Σ_j "
            "g_j g_jᵀ the damped empirical Fisher of m sampled retain examples")
    citation = ("Koh and Liang (2017), \"Understanding black-box predictions via influence functions\", ICML; "
                "Izzo, Smart, Chaudhuri and Zou (2021), \"Approximate data deletion from machine learning "
                "models\", AISTATS; Singh and Alistarh (2020), \"WoodFisher: efficient second-order "
                "approximation for neural network compression\", NeurIPS; as used for unlearning by Jia et al. "
                f"(2023) and in {PAPER}")
    defaults = {"alpha": 1.0, "damping": 1e-3, "n_samples": 1000, "params": "all", "batch_size": 256}
    hparam_docs = {"alpha": "α, the scale of the step (the paper searched it; 1 is the plain Newton step; the "
                            "authors' README default of 0.2 applies to their own scaling)",
                   "damping": "λ > 0 of F; also stands for the weight-decay part of the Hessian",
                   "n_samples": "m, the retain examples sampled (without replacement, seeded) for F (the "
                                "authors' copy: 1,000)",
                   "params": "'all' parameters, or 'head' (the final linear layer alone; what the paper "
                             "profile uses, since per-example gradients of a whole ResNet-18 do not fit)",
                   "batch_size": "examples per gradient batch (memory only: the result does not depend on it)"}
    hparam_checks = {"alpha": check_number, "damping": partial(check_number, low=0, low_open=True),
                     "n_samples": partial(check_int, low=0), "params": partial(check_choice, choices=PARAM_SETS)}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        h = self.hparams
        which, bs = h["params"], int(h["batch_size"])
        model = ctx.model
        names = _param_names(model, which)
        d = sum(p.numel() for n, p in model.named_parameters() if n in names)
        m = min(int(h["n_samples"]), len(ctx.retain))
        if max(m, bs) * d > _MAX_GRAD_ELEMENTS:
            raise ValueError(f"{m} per-example gradients of {d} parameters do not fit in memory; "
                             f"use params='head' or fewer n_samples")
        train = ctx.bundle.train
        forget = train.subset(ctx.forget)
        pick = torch.randperm(len(ctx.retain), generator=stream_generator(ctx.seed, "influence/sample"))[:m]
        sample = train.subset(ctx.retain[pick.numpy()])

        forget_sum = _summed_grad(model, forget.x, forget.y, names, batch_size=bs, head_only=which == "head")
        fisher_grads = per_example_grads(model, sample.x, sample.y, params=which, batch_size=bs)
        ctx.grad_evals += len(forget) + m

        n = len(ctx.forget) + len(ctx.retain)
        step = float(h["alpha"]) * woodfisher_ihvp(fisher_grads, forget_sum / n, float(h["damping"]))
        with torch.no_grad():
            offset = 0
            for name, p in model.named_parameters():
                if name in names:
                    p.add_(step[offset:offset + p.numel()].view_as(p).to(p.dtype))
                    offset += p.numel()
        ctx.extras["step_norm"] = float(step.norm())
