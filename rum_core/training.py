"""Seeded SGD training, batched prediction, and device choice.

The recipe is the paper's: SGD with momentum and weight decay, a learning-rate schedule (cosine for the
original model, as the paper trains it; ``"constant"`` for the unlearners, whose shared recipe is
:data:`rum_core.unlearners.TRAIN_DEFAULTS`), optional augmentation (random crop with padding, horizontal
flip). All randomness (shuffling, augmentation) comes from one ``torch.Generator`` seeded by the caller, and
initialization is seeded in :func:`rum_core.models.build`, so the same seed on a CPU gives bit-identical
weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._progress import progress
from .models import check_inputs, check_targets
from .validation import check_choice, check_indices, check_int, check_number

__all__ = ["TrainConfig", "FitLog", "default_device", "fit", "predict_logits", "predict_proba", "predict",
           "train_model", "minibatches", "augment", "make_optimizer"]

AUGMENTATIONS = (None, "crop", "crop_flip")
SCHEDULES = ("cosine", "constant")

#: The type and range of every field of a training recipe: ``check(name, value) -> value`` (the
#: validators of :mod:`rum_core.validation`). :class:`TrainConfig` and the unlearners' shared
#: hyperparameters are validated by this one table, so 2.7 epochs or lr=nan are refused alike everywhere.
TRAIN_CHECKS = {
    "epochs": partial(check_int, low=0),
    "lr": partial(check_number, low=0, low_open=True),
    "batch_size": partial(check_int, low=1),
    "momentum": partial(check_number, low=0, high=1, high_open=True),
    "weight_decay": partial(check_number, low=0),
    "schedule": partial(check_choice, choices=SCHEDULES),
    "augment": partial(check_choice, choices=AUGMENTATIONS),
}


@dataclass(frozen=True)
class TrainConfig:
    """A training recipe. Defaults are the paper's original-model recipe (SGD, momentum 0.9, weight decay 5e-4,
    batch 256, cosine schedule); the unlearners override the schedule with ``"constant"`` (see
    :data:`rum_core.unlearners.TRAIN_DEFAULTS`)."""

    epochs: int
    lr: float
    batch_size: int = 256
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    augment: str | None = None

    def __post_init__(self):
        # validated by type and range (TRAIN_CHECKS): 2.7 epochs or "3" are refused, not truncated
        for name, check in TRAIN_CHECKS.items():
            object.__setattr__(self, name, check(name, getattr(self, name)))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class FitLog:
    """What a training run cost and how its loss went."""

    grad_evals: int = 0
    seconds: float = 0.0
    epoch_loss: list[float] = field(default_factory=list)


def default_device() -> torch.device:
    """The best available device: CUDA, then Apple's MPS, then the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _device(device) -> torch.device:
    return default_device() if device is None else torch.device(device)


def minibatches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """A seeded random permutation of ``range(n)`` cut into batches (the last one may be smaller)."""
    n, batch_size = check_int("n", n, low=0), check_int("batch_size", batch_size, low=1)
    perm = torch.randperm(n, generator=generator)
    return list(perm.split(batch_size))


def augment(x: torch.Tensor, kind: str | None, generator: torch.Generator) -> torch.Tensor:
    """Random crop (padding ⌈H/8⌉, so 4 on 32×32) and, for ``crop_flip``, a random horizontal flip."""
    check_choice("kind", kind, AUGMENTATIONS)
    if kind is None:
        return x
    n, _, h, w = x.shape
    pad = max(1, math.ceil(h / 8))
    padded = F.pad(x, (pad, pad, pad, pad))
    dev = x.device
    oy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(dev)
    ox = torch.randint(0, 2 * pad + 1, (n,), generator=generator).to(dev)
    rows = (oy[:, None] + torch.arange(h, device=dev))[:, None, :, None]
    cols = (ox[:, None] + torch.arange(w, device=dev))[:, None, None, :]
    batch = torch.arange(n, device=dev)[:, None, None, None]
    channels = torch.arange(x.shape[1], device=dev)[None, :, None, None]
    out = padded[batch, channels, rows, cols]
    if kind == "crop_flip":
        flip = (torch.rand(n, generator=generator) < 0.5).to(dev)
        out = torch.where(flip[:, None, None, None], out.flip(3), out)
    return out


def make_optimizer(params, cfg: TrainConfig, total_steps: int):
    """SGD with the recipe's momentum and weight decay, and its learning-rate schedule over ``total_steps``.

    ``"cosine"``: step t uses lr · ½(1 + cos(π t / total_steps)), from lr down to 0. ``"constant"``: lr at
    every step. The scheduler must be stepped once after every optimizer step.
    """
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}")
    total_steps = check_int("total_steps", total_steps, low=0)
    opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    if cfg.schedule == "cosine":
        total = max(1, total_steps)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
    else:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.0)
    return opt, sched


def check_finite_model(model: nn.Module, what: str) -> None:
    """Raise a FloatingPointError naming the first parameter (or buffer) of ``model`` that holds NaN or
    ±inf, so a diverged run is never evaluated: a NaN model still "predicts" (argmax of NaN logits is
    class 0) and would report accuracies as if it were real."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            bad = int((~torch.isfinite(t)).sum())
            raise FloatingPointError(f"{what} diverged: {bad} of {t.numel()} entries of {name!r} are NaN or "
                                     f"infinite; lower the learning rate (or, for an ascent method, the "
                                     f"epochs)")


def fit(model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig, *, seed: int = 0,
        device=None, progress_bar: bool | None = None, desc: str = "train",
        extra_loss: Callable[[nn.Module, float], torch.Tensor] | None = None,
        on_epoch: Callable[[int, nn.Module], None] | None = None,
        labels_for_epoch: Callable[[int], torch.Tensor] | None = None) -> FitLog:
    """Train ``model`` in place with cross-entropy on ``(x, y)`` following ``cfg``; return a :class:`FitLog`.

    Args:
        seed: seeds shuffling and augmentation (initialization is seeded when the model is built).
        device: where to train; default :func:`default_device`. The model is moved there.
        progress_bar: show an epoch bar (default: on unless ``RUM_PROGRESS=0``).
        extra_loss: optional ``f(model, progress)`` added to every batch loss, where ``progress`` ∈ [0, 1)
            is the fraction of training done (used e.g. for decaying penalties).
        on_epoch: optional ``f(epoch, model)`` called after each epoch (model still in train mode; used to
            record per-example statistics during training, e.g. memorization proxies).
        labels_for_epoch: optional ``f(epoch) → labels`` (an (N,) integer tensor) that replaces ``y`` during
            that epoch, for labels that change from epoch to epoch (random-label unlearning redraws its wrong
            labels every epoch). Batches and augmentation are drawn exactly as without it.

    Raises:
        ValueError: ``x`` and ``y`` of different lengths, an empty set, non-finite inputs.
        FloatingPointError: the run diverged (non-finite weights at its end, see :func:`check_finite_model`).
    """
    check_inputs("x", x, model)
    check_targets("y", y, len(x), model)
    if len(y) == 0:
        raise ValueError("cannot train on an empty set")
    dev = _device(device)
    model.to(dev).train()
    gen = torch.Generator().manual_seed(int(seed))
    steps_per_epoch = math.ceil(len(y) / cfg.batch_size)
    opt, sched = make_optimizer(model.parameters(), cfg, cfg.epochs * steps_per_epoch)
    x_dev, y_dev = x.to(dev), y.to(dev)
    log = FitLog()
    start = time.perf_counter()
    step = 0
    for epoch in progress(range(cfg.epochs), desc=desc, enabled=progress_bar):
        total, count = 0.0, 0
        epoch_y = y_dev if labels_for_epoch is None else _epoch_labels(labels_for_epoch, epoch, len(y), dev)
        for idx in minibatches(len(y), cfg.batch_size, gen):
            idx = idx.to(dev)
            xb = augment(x_dev[idx], cfg.augment, gen)
            yb = epoch_y[idx]
            loss = F.cross_entropy(model(xb), yb)
            if extra_loss is not None:
                loss = loss + extra_loss(model, step / max(1, cfg.epochs * steps_per_epoch))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            total += float(loss.detach()) * len(idx)
            count += len(idx)
            log.grad_evals += len(idx)
        log.epoch_loss.append(total / count)
        if on_epoch is not None:
            on_epoch(epoch, model)
    log.seconds = time.perf_counter() - start
    model.eval()
    check_finite_model(model, f"training ({desc})")
    return log


def _epoch_labels(labels_for_epoch, epoch: int, n: int, device) -> torch.Tensor:
    labels = torch.as_tensor(labels_for_epoch(epoch))
    if labels.shape != (n,) or labels.dtype not in (torch.int64, torch.int32):
        raise ValueError(f"labels_for_epoch({epoch}) must return {n} integer labels, got dtype {labels.dtype} "
                         f"and shape {tuple(labels.shape)}")
    return labels.to(device=device, dtype=torch.long)


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, *, batch_size: int = 2048, device=None) -> torch.Tensor:
    """Logits for ``x`` in eval mode, batched, returned on the CPU as float32."""
    check_inputs("x", x, model)
    batch_size = check_int("batch_size", batch_size, low=1)
    dev = next(model.parameters()).device if device is None else torch.device(device)
    was_training = model.training
    model.eval()
    try:
        out = [model(x[i:i + batch_size].to(dev)).float().cpu() for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out) if out else torch.zeros((0, 0))


def predict_proba(model: nn.Module, x: torch.Tensor, **kwargs) -> np.ndarray:
    """Softmax probabilities (float64, rows sum to 1) for ``x``."""
    return torch.softmax(predict_logits(model, x, **kwargs).double(), dim=1).numpy()


def predict(model: nn.Module, x: torch.Tensor, **kwargs) -> np.ndarray:
    """Predicted class indices for ``x``."""
    return predict_logits(model, x, **kwargs).argmax(dim=1).numpy()


def train_model(bundle, model_name: str, cfg: TrainConfig, *, seed: int = 0, train_idx=None,
                model_kwargs: dict | None = None, device=None, progress_bar: bool | None = None,
                use_cache: bool = True, desc: str = "train"):
    """Build ``model_name`` for ``bundle`` and train it on ``bundle.train`` (or the rows ``train_idx``).

    The result is cached by the full configuration (dataset fingerprint, model, recipe, seed, training
    indices) together with the source of the code that produced it, so a second call with the same
    arguments loads the weights instead of training again.

    Returns:
        ``(model, log)``: the trained :class:`~rum_core.models.Classifier` (in eval mode, on ``device``)
        and its :class:`FitLog` (for a cache hit, the log recorded when it was trained).
    """
    from . import models
    from .cache import cached_state

    model_kwargs = dict(model_kwargs or {})
    idx = (np.arange(len(bundle.train)) if train_idx is None
           else np.sort(check_indices("train_idx", train_idx, len(bundle.train), allow_empty=False)))
    dev = _device(device)

    def compute():
        model = models.build(model_name, bundle, seed=seed, **model_kwargs)
        sub = bundle.train.subset(idx)
        log = fit(model, sub.x, sub.y, cfg, seed=seed, device=dev, progress_bar=progress_bar, desc=desc)
        return {"state": {k: v.cpu() for k, v in model.state_dict().items()}, "grad_evals": log.grad_evals,
                "seconds": log.seconds, "epoch_loss": torch.tensor(log.epoch_loss, dtype=torch.float64)}

    config = {"data": bundle.fingerprint, "model": model_name, "model_kwargs": model_kwargs,
              "train": cfg.as_dict(), "seed": int(seed), "train_idx": idx}
    if use_cache:
        stored = cached_state("trained-model", config, compute, depends=("data", "models", "training"))
    else:
        stored = compute()
    model = models.build(model_name, bundle, seed=seed, **model_kwargs)
    model.load_state_dict(stored["state"])
    model.to(dev).eval()
    log = FitLog(grad_evals=int(stored["grad_evals"]), seconds=float(stored["seconds"]),
                 epoch_loss=[float(v) for v in stored["epoch_loss"]])
    return model, log
