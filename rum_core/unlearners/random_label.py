"""Random-label: train on the retain set together with the forget set relabelled at random.

Golatkar et al. (2020) and Graves et al. (2021, "Amnesiac machine learning") relabel the forget examples and
train on them; SalUn (Fan et al. 2024, ICLR) and the authors of Zhao et al. (2024) mix them with the retain
set. Every forget example gets a label drawn uniformly from the OTHER classes of the dataset (never its own
label, whatever the number of classes: the authors' copy only relabels on CIFAR-10), and the union of the
retain set and the relabelled forget set is trained with cross-entropy by :func:`rum_core.training.fit`.

``relabel="epoch"`` (default) draws fresh wrong labels for every epoch, as the authors' RL and SalUn loops
do (they relabel inside the epoch loop); ``relabel="once"`` draws them once and keeps them. Epoch e's labels
come from a generator of their own (:func:`stream_generator` of the run's seed and ``"<stream>/epoch-e"``), so
they do not shift the shuffling sequence of ``fit`` and are reproducible; "once" uses epoch 0's labels.

Defaults from the authors' README (``main_random.py --unlearn RL_og``): 10 epochs, lr 0.1, and the shared
recipe (SGD momentum 0.9, weight decay 5e-4, batch 256, constant learning rate).
"""

from __future__ import annotations

import zlib

import numpy as np
import torch

from ..training import fit
from .base import TRAIN_DEFAULTS, UnlearnContext, Unlearner, register

__all__ = ["RandomLabel", "RELABEL", "random_other_labels", "relabelled_training_set", "stream_generator"]

#: When random-label methods draw their wrong labels: every epoch (the authors' loops) or once.
RELABEL = ("epoch", "once")


def stream_generator(seed: int, stream: str) -> torch.Generator:
    """A ``torch.Generator`` for the named random stream of a run with ``seed``.

    Different ``stream`` names give independent generators for the same seed, so a method can draw (say)
    random labels without shifting the shuffling sequence that :func:`~rum_core.training.fit` derives
    from the seed itself. Stable across processes and platforms (no Python ``hash``).
    """
    words = np.random.SeedSequence([int(seed) & 0xFFFFFFFF, zlib.crc32(stream.encode())]).generate_state(2)
    return torch.Generator().manual_seed(int(words[0]) << 32 | int(words[1]))


def random_other_labels(y, num_classes: int, generator: torch.Generator) -> torch.Tensor:
    """For each label in ``y``, a label drawn uniformly from the ``num_classes - 1`` other classes.

    Drawn as ``(y + s) mod C`` with ``s`` uniform on ``{1, …, C−1}``: uniform over the other classes and
    never the true label.

    Raises:
        ValueError: for fewer than two classes or labels outside ``[0, num_classes)``.
    """
    num_classes = int(num_classes)
    if num_classes < 2:
        raise ValueError(f"random labels need at least 2 classes, got num_classes={num_classes}")
    y = torch.as_tensor(y, dtype=torch.long)
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got range [{int(y.min())}, {int(y.max())}]")
    shift = torch.randint(1, num_classes, tuple(y.shape), generator=generator)
    return (y + shift.to(y.device)) % num_classes


def check_relabel(relabel) -> str:
    """``relabel`` if it is one of :data:`RELABEL`, else a ValueError naming it."""
    if relabel not in RELABEL:
        raise ValueError(f"relabel must be one of {RELABEL}, got {relabel!r}")
    return relabel


def relabelled_training_set(ctx: UnlearnContext, relabel: str = "epoch", stream: str = "random_label"):
    """The retain set followed by the forget set, as ``(x, labels_for_epoch)`` for :func:`~rum_core.training.fit`.

    ``labels_for_epoch(e)`` is the retain labels followed by random other labels of the forget examples:
    drawn for epoch ``e`` (``relabel="epoch"``) or for epoch 0 whatever ``e`` (``"once"``).
    """
    relabel = check_relabel(relabel)
    train = ctx.bundle.train
    retain, forget = train.subset(ctx.retain), train.subset(ctx.forget)
    num_classes, seed = ctx.bundle.num_classes, ctx.seed

    def labels_for_epoch(epoch: int) -> torch.Tensor:
        draw = epoch if relabel == "epoch" else 0
        wrong = random_other_labels(forget.y, num_classes, stream_generator(seed, f"{stream}/epoch-{draw}"))
        return torch.cat([retain.y, wrong])

    return torch.cat([retain.x, forget.x]), labels_for_epoch


@register
class RandomLabel(Unlearner):
    name = "random_label"
    defaults = {**TRAIN_DEFAULTS, "epochs": 10, "lr": 0.1, "relabel": "epoch"}

    def __init__(self, **hparams):
        super().__init__(**hparams)
        check_relabel(self.hparams["relabel"])

    def _unlearn(self, ctx: UnlearnContext) -> None:
        x, labels_for_epoch = relabelled_training_set(ctx, self.hparams["relabel"])
        log = fit(ctx.model, x, labels_for_epoch(0), self.train_config(), seed=ctx.seed, device=ctx.device,
                  progress_bar=ctx.progress_bar, desc="random_label", labels_for_epoch=labels_for_epoch)
        ctx.grad_evals += log.grad_evals
