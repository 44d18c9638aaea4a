"""Random-label (:class:`RandomLabel`): train on the retain set with the forget set relabelled at random,
and the relabelling SalUn shares (:func:`relabelled_training_set`)."""

from __future__ import annotations

import zlib
from functools import partial

import numpy as np
import torch

from ..training import fit
from ..validation import check_choice, check_int, check_numeric
from .base import PAPER, TRAIN_DEFAULTS, UnlearnContext, Unlearner, register

__all__ = ["RandomLabel", "RELABEL", "random_other_labels", "relabelled_training_set", "stream_generator",
           "RELABEL_DOC"]

#: When random-label methods draw their wrong labels: every epoch (the authors' loops) or once.
RELABEL = ("epoch", "once")
#: The ``relabel`` hyperparameter's documentation, shared by the random-label methods.
RELABEL_DOC = ("when the wrong labels are drawn: 'epoch' = fresh ones every epoch (the authors' RL and SalUn "
               "loops relabel inside the epoch loop), 'once' = drawn once and kept")


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
    num_classes = check_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"random labels need at least 2 classes, got num_classes={num_classes}")
    y = y if isinstance(y, torch.Tensor) else torch.as_tensor(check_numeric("y", y))
    if y.dtype == torch.bool or y.is_floating_point():
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D vector of labels, got shape {tuple(y.shape)}")
    y = y.long()
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}), got range [{int(y.min())}, {int(y.max())}]")
    shift = torch.randint(1, num_classes, tuple(y.shape), generator=generator)
    return (y + shift.to(y.device)) % num_classes


def relabelled_training_set(ctx: UnlearnContext, relabel: str = "epoch", stream: str = "random_label"):
    """The retain set followed by the forget set, as ``(x, labels_for_epoch)`` for :func:`~rum_core.training.fit`.

    ``labels_for_epoch(e)`` is the retain labels followed by random other labels of the forget examples:
    drawn for epoch ``e`` (``relabel="epoch"``) or for epoch 0 whatever ``e`` (``"once"``).
    """
    relabel = check_choice("relabel", relabel, RELABEL)
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
    """Random-label: train on the retain set together with the forget set relabelled at random.

    Golatkar et al. (2020) and Graves et al. (2021) relabel the forget examples and train on them; SalUn
    (Fan et al. 2024) and the authors of Zhao et al. (2024) mix them with the retain set. Every forget
    example gets a label drawn uniformly from the OTHER classes of the dataset (never its own label,
    whatever the number of classes: the authors' copy only relabels on CIFAR-10), and the union of the
    retain set and the relabelled forget set is trained with cross-entropy by :func:`rum_core.training.fit`.

    Epoch e's labels come from a generator of their own (:func:`stream_generator` of the run's seed and
    ``"<stream>/epoch-e"``), so they do not shift the shuffling sequence of ``fit`` and are reproducible;
    ``relabel="once"`` uses epoch 0's labels throughout.
    """

    name = "random_label"
    loss = ("minimize CE over R ∪ S̃, where S̃ is the forget set S with each label replaced by one drawn "
            "uniformly from the other classes (redrawn every epoch by default)")
    citation = ("Golatkar, Achille and Soatto (2020), \"Eternal sunshine of the spotless net\", CVPR; Graves, "
                f"Nagisetty and Ganesh (2021), \"Amnesiac machine learning\", AAAI; run as in {PAPER}")
    defaults = {**TRAIN_DEFAULTS, "epochs": 10, "lr": 0.1, "relabel": "epoch"}
    hparam_docs = {"epochs": "passes over R ∪ S̃ (the authors' README, main_random.py --unlearn RL_og: 10)",
                   "lr": "learning rate (the authors' README: 0.1)",
                   "relabel": RELABEL_DOC}
    hparam_checks = {"relabel": partial(check_choice, choices=RELABEL)}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        x, labels_for_epoch = relabelled_training_set(ctx, self.hparams["relabel"])
        log = fit(ctx.model, x, labels_for_epoch(0), self.train_config(), seed=ctx.seed, device=ctx.device,
                  progress_bar=ctx.progress_bar, desc="random_label", labels_for_epoch=labels_for_epoch)
        ctx.grad_evals += log.grad_evals
