"""SCRUB (:class:`Scrub`): a student that obeys its teacher on the retain set and disobeys it on the forget
set, and its distillation loss (:func:`distill_kl`)."""

from __future__ import annotations

import copy
import math
from functools import partial

import torch
import torch.nn.functional as F

from .._progress import progress
from ..training import augment, make_optimizer, minibatches
from ..validation import check_int, check_number
from .base import PAPER, TRAIN_DEFAULTS, UnlearnContext, Unlearner, register

__all__ = ["Scrub", "distill_kl"]


def distill_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T² · KL(softmax(teacher/T) ‖ softmax(student/T)), averaged over the batch."""
    t = check_number("temperature", temperature, low=0.0, low_open=True)
    log_s = F.log_softmax(student_logits / t, dim=1)
    log_t = F.log_softmax(teacher_logits / t, dim=1)
    return F.kl_div(log_s, log_t, reduction="batchmean", log_target=True) * t * t


@register
class Scrub(Unlearner):
    """SCRUB: a student that obeys its teacher on the retain set and disobeys it on the forget set.

    The teacher is a frozen copy of the original model, the student starts from it. With
    KL_T(t ‖ s) = T² · KL(softmax(t/T) ‖ softmax(s/T)) averaged over a batch (the RepDistiller ``DistillKL``
    the SCRUB code uses), each epoch e = 1 … E runs

    * a max epoch, only for e ≤ ``msteps``: over forget batches, minimize −KL_T(teacher ‖ student)
      (push the student away from the teacher);
    * a min epoch, every epoch: over retain batches, minimize γ·CE + α·KL_T(teacher ‖ student).

    Max steps come before min steps within an epoch (as in the SCRUB code), so in epoch 1 they start from
    student = teacher, where the KL and its gradient are zero: they bite from epoch 2 on, once min steps have
    moved the student. Every batch is its own optimizer step (max and min steps are never summed into one
    loss). One SGD optimizer (momentum and weight decay of the shared recipe) runs through both kinds of steps,
    as in the SCRUB code, with the recipe's schedule over all steps of the run: a constant learning rate by
    default, as the authors' (see :data:`~rum_core.unlearners.TRAIN_DEFAULTS`). Batches and augmentation come
    from one generator seeded by the run's seed. The 1-based epochs that ran max steps are recorded in
    ``ctx.extras["max_epochs"]``.

    Cost: gradient evaluations count the student's forward + backward passes; the teacher's forward passes
    (one per example seen) are extra and only show in wall time.
    """

    name = "scrub"
    loss = ("max steps (epochs e ≤ msteps), over forget batches: minimize −KL_T(teacher ‖ student); min steps "
            "(every epoch), over retain batches: minimize γ·CE(student) + α·KL_T(teacher ‖ student), where "
            "KL_T(t ‖ s) = T²·KL(softmax(t/T) ‖ softmax(s/T))")
    citation = ("Kurmanji, Triantafillou, Hayes and Triantafillou (2023), \"Towards unbounded machine "
                f"unlearning\", NeurIPS; run as in {PAPER}")
    defaults = {**TRAIN_DEFAULTS, "epochs": 5, "lr": 5e-3, "msteps": 2, "temperature": 4.0,
                "gamma": 0.99, "alpha": 0.001}
    hparam_docs = {"epochs": "epochs E, each a max epoch (if e ≤ msteps) then a min epoch (the authors' README, "
                             "--unlearn SCRUB: 5)",
                   "lr": "learning rate of both kinds of steps (the authors' README: 5e-3)",
                   "msteps": "the first epochs that run max steps, an int ≥ 0 (the README: 4, the paper's notes: "
                             "2–4; SCRUB's large-scale CIFAR-10 notebook: 2)",
                   "temperature": "T of the distillation KL (the authors' README and SCRUB: 4)",
                   "gamma": "γ ≥ 0, weight of the retain cross-entropy (SCRUB's large-scale CIFAR-10 experiments, "
                            "github.com/meghdadk/SCRUB large_scale_unlearning.ipynb: 0.99; the README leaves it "
                            "to the command line)",
                   "alpha": "α ≥ 0, weight of the retain KL (the same notebook: 0.001)"}
    hparam_checks = {"msteps": partial(check_int, low=0), "temperature": partial(check_number, low=0, low_open=True),
                     "gamma": partial(check_number, low=0), "alpha": partial(check_number, low=0)}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        cfg = self.train_config()
        h = self.hparams
        msteps, temp = int(h["msteps"]), float(h["temperature"])
        gamma, alpha = float(h["gamma"]), float(h["alpha"])
        train = ctx.bundle.train
        retain, forget = train.subset(ctx.retain), train.subset(ctx.forget)
        if len(retain) == 0:
            raise ValueError("SCRUB needs a non-empty retain set")
        xr, yr = retain.x.to(ctx.device), retain.y.to(ctx.device)
        xf = forget.x.to(ctx.device)

        student = ctx.model.to(ctx.device)
        teacher = copy.deepcopy(student).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)

        bs = cfg.batch_size
        max_epochs = [e for e in range(1, cfg.epochs + 1) if e <= msteps]
        total_steps = len(max_epochs) * math.ceil(len(xf) / bs) + cfg.epochs * math.ceil(len(yr) / bs)
        opt, sched = make_optimizer(student.parameters(), cfg, total_steps)
        gen = torch.Generator().manual_seed(ctx.seed)

        def step(loss):
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()

        ran_max: list[int] = []
        student.train()
        for epoch in progress(range(1, cfg.epochs + 1), desc="scrub", enabled=ctx.progress_bar):
            if epoch <= msteps:
                ran_max.append(epoch)
                for idx in minibatches(len(xf), bs, gen):
                    xb = augment(xf[idx.to(ctx.device)], cfg.augment, gen)
                    with torch.no_grad():
                        t_logits = teacher(xb)
                    step(-distill_kl(student(xb), t_logits, temp))
                    ctx.grad_evals += len(idx)
            for idx in minibatches(len(yr), bs, gen):
                idx = idx.to(ctx.device)
                xb = augment(xr[idx], cfg.augment, gen)
                with torch.no_grad():
                    t_logits = teacher(xb)
                s_logits = student(xb)
                step(gamma * F.cross_entropy(s_logits, yr[idx]) + alpha * distill_kl(s_logits, t_logits, temp))
                ctx.grad_evals += len(idx)
        student.eval()
        ctx.extras["max_epochs"] = ran_max
