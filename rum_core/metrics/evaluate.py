"""Model-level metric helpers: per-example confidences of a model, and one call that scores an unlearned
model against the retrained one with every metric that needs no shadow models.

:func:`evaluate` returns an :class:`Evaluation`: accuracies of both models on forget / retain / test, ToW,
the paper's SVC MIA efficacy of both models, the MIA gap, ToW-MIA, and the challenge kit's loss-attack
AUC of both models. Each model is run once per set (logits), and every metric is derived from those logits.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..validation import check_indices, check_int
from .accuracy import tow
from .mia import (
    logit_confidence,
    loss_mia_auc,
    mia_efficacy,
    mia_gap,
    tow_mia,
    true_label_confidence,
    true_label_loss,
)

__all__ = ["CONFIDENCE_KINDS", "model_logits", "confidences", "Evaluation", "evaluate", "ModelReport",
           "model_report", "compare_reports", "split_fingerprint"]

#: Per-example statistics :func:`confidences` can compute.
CONFIDENCE_KINDS = ("true_label", "logit", "loss")
_SPLITS = ("train", "test")


def _check_model(name: str, model) -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")


def model_logits(model: torch.nn.Module, bundle, idx=None, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Logits (float64, n × K) and labels (int64, n) of ``model`` on ``bundle.<split>`` rows ``idx`` (default all).

    Raises:
        ValueError: for an unknown split, an empty ``idx`` or indices out of range / duplicated.
        TypeError: for a model that is not an ``nn.Module``, a bundle that is not a ``DataBundle``,
            or a boolean / non-integer ``idx``.
    """
    from ..data import DataBundle
    from ..training import predict_logits

    _check_model("model", model)
    if not isinstance(bundle, DataBundle):
        raise TypeError(f"bundle must be a rum_core.data.DataBundle, got {type(bundle).__name__}")
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
    data = getattr(bundle, split)
    if idx is not None:
        idx = check_indices("idx", idx, len(data))
        if idx.size == 0:
            raise ValueError("idx is empty")
        data = data.subset(idx)
    logits = predict_logits(model, data.x).double().numpy()
    return logits, data.y.numpy().astype(np.int64)


def _stat(logits: np.ndarray, labels: np.ndarray, kind: str) -> np.ndarray:
    if kind == "true_label":
        probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
        return true_label_confidence(probs, labels)
    if kind == "logit":
        return logit_confidence(logits, labels, from_logits=True)
    return true_label_loss(logits, labels, from_logits=True)


def confidences(model: torch.nn.Module, bundle, idx=None, split: str = "train",
                kind: str = "true_label") -> np.ndarray:
    """Per-example statistic of ``model`` on ``bundle.<split>`` rows ``idx`` (default: the whole split).

    Args:
        kind: ``"true_label"`` — softmax probability of the true label (the SVC MIA feature);
            ``"logit"`` — logit-scaled confidence log p_y − log Σ_{j≠y} p_j, computed from the logits
            exactly (the LiRA statistic); ``"loss"`` — cross-entropy −log p_y, from the logits.
        split: ``"train"`` (forget / retain sets are indices into it) or ``"test"``.

    Returns:
        (n,) float64 array in the order of ``idx``.
    """
    if kind not in CONFIDENCE_KINDS:
        raise ValueError(f"kind must be one of {CONFIDENCE_KINDS}, got {kind!r}")
    logits, labels = model_logits(model, bundle, idx, split)
    return _stat(logits, labels, kind)


@dataclass(frozen=True)
class Evaluation:
    """Every shadow-model-free metric of an unlearned model θᵘ against the retrained model θʳ.

    ``*_acc`` are accuracies; ``*_mia`` the SVC MIA efficacy (fraction of the forget set predicted
    non-member); ``*_loss_auc`` the loss-attack ROC AUC (NaN when the forget or test set has fewer than
    10 examples). :meth:`as_dict` gives a flat dict, one row of a results table.
    """

    unlearned_forget_acc: float
    unlearned_retain_acc: float
    unlearned_test_acc: float
    retrained_forget_acc: float
    retrained_retain_acc: float
    retrained_test_acc: float
    tow: float
    unlearned_mia: float
    retrained_mia: float
    mia_gap: float
    tow_mia: float
    unlearned_loss_auc: float
    retrained_loss_auc: float
    n_forget: int
    n_retain: int
    n_test: int

    @property
    def unlearned_acc(self) -> dict[str, float]:
        return {"forget": self.unlearned_forget_acc, "retain": self.unlearned_retain_acc,
                "test": self.unlearned_test_acc}

    @property
    def retrained_acc(self) -> dict[str, float]:
        return {"forget": self.retrained_forget_acc, "retain": self.retrained_retain_acc,
                "test": self.retrained_test_acc}

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ModelReport:
    """The per-model half of an evaluation: accuracies, MIA efficacy and loss-attack AUC of one model on
    one forget / retain split, with the seed its attacks used. Compute a reference model's report once and
    compare many unlearned models against it with :func:`compare_reports`.

    ``split_fingerprint`` identifies what the report was computed on (see :func:`split_fingerprint`): the
    forget and retain index sets, the size of the test set and the data itself, so that
    :func:`compare_reports` can refuse two reports of different forget sets that merely have equal sizes."""

    acc: dict
    mia: float
    loss_auc: float
    n_forget: int
    n_retain: int
    n_test: int
    seed: int
    split_fingerprint: str


def split_fingerprint(forget: np.ndarray, retain: np.ndarray, n_test: int, data: str = "") -> str:
    """A short SHA-256 (16 hex digits) of a forget / retain split: the sorted int64 forget and retain
    indices, the test-set size and ``data`` (e.g. :attr:`rum_core.data.DataBundle.fingerprint`).

    The order in which the indices are given does not matter; the sets, and which of them is which, do.
    """
    n_test = check_int("n_test", n_test, low=0)
    if not isinstance(data, str):
        raise TypeError(f"data must be a string (a dataset fingerprint), got {type(data).__name__}")
    digest = hashlib.sha256(f"rum_core split v1|data={data}|n_test={n_test}".encode())
    for name, idx in (("forget", forget), ("retain", retain)):
        arr = np.sort(check_indices(name, idx, np.iinfo(np.int64).max))
        digest.update(f"|{name}:{arr.size}:".encode())
        digest.update(arr.astype("<i8", copy=False).tobytes())
    return digest.hexdigest()[:16]


def model_report(model: torch.nn.Module, bundle, forget_idx, retain_idx=None, *, seed: int = 0) -> ModelReport:
    """Accuracies, the paper's MIA efficacy and the loss-attack AUC of ``model`` (run once per set).

    Raises:
        ValueError / TypeError: as :func:`rum_core.data.check_split` for bad index sets; TypeError for a
            model that is not a ``torch.nn.Module`` or a bundle that is not a ``DataBundle``.
    """
    from ..data import DataBundle, check_split

    _check_model("model", model)
    if not isinstance(bundle, DataBundle):
        raise TypeError(f"bundle must be a rum_core.data.DataBundle, got {type(bundle).__name__}")
    seed = check_int("seed", seed, low=0)
    forget, retain = check_split(len(bundle.train), forget_idx, retain_idx)
    if retain.size == 0:
        raise ValueError("retain set is empty: the MIA needs retain examples as members")
    sets = {"forget": model_logits(model, bundle, forget), "retain": model_logits(model, bundle, retain),
            "test": model_logits(model, bundle, None, "test")}
    acc = {k: float(np.mean(z.argmax(axis=1) == y)) for k, (z, y) in sets.items()}
    conf = {k: _stat(z, y, "true_label") for k, (z, y) in sets.items()}
    mia = mia_efficacy(conf["retain"], conf["test"], conf["forget"], seed=seed)
    f_loss, t_loss = (_stat(*sets[k], "loss") for k in ("forget", "test"))
    loss_auc = (loss_mia_auc(f_loss, t_loss, seed=seed) if min(len(f_loss), len(t_loss)) >= 10
                else float("nan"))
    fingerprint = split_fingerprint(forget, retain, len(bundle.test), bundle.fingerprint)
    return ModelReport(acc=acc, mia=mia, loss_auc=loss_auc, n_forget=int(forget.size),
                       n_retain=int(retain.size), n_test=len(bundle.test), seed=seed,
                       split_fingerprint=fingerprint)


def evaluate(unlearned: torch.nn.Module, retrained: torch.nn.Module, bundle, forget_idx, retain_idx=None,
             *, seed: int = 0) -> Evaluation:
    """Score ``unlearned`` against ``retrained`` on the forget set ``forget_idx`` of ``bundle.train``.

    Args:
        retain_idx: the retain set (default: every training index not in ``forget_idx``).
        seed: seeds the MIA's choice of member examples and the loss attack's splits; the same seed is
            used for both models, so their attacks see the same examples.

    Raises:
        ValueError / TypeError: as :func:`rum_core.data.check_split` for bad index sets; TypeError for
            models that are not ``torch.nn.Module`` instances or a bundle that is not a ``DataBundle``.
    """
    _check_model("unlearned", unlearned)
    _check_model("retrained", retrained)
    return compare_reports(model_report(unlearned, bundle, forget_idx, retain_idx, seed=seed),
                           model_report(retrained, bundle, forget_idx, retain_idx, seed=seed))


def compare_reports(unlearned: ModelReport, retrained: ModelReport) -> Evaluation:
    """Combine two :class:`ModelReport` s of the same split and seed into an :class:`Evaluation`.

    Raises:
        ValueError: when the reports were computed with different seeds or on different splits: different
            set sizes, or sets of equal sizes that differ (their ``split_fingerprint`` s differ: other
            forget / retain indices, or other data).
    """
    for name, report in (("unlearned", unlearned), ("retrained", retrained)):
        if not isinstance(report, ModelReport):
            raise TypeError(f"{name} must be a ModelReport (from model_report), got {type(report).__name__}")
    for name in ("n_forget", "n_retain", "n_test", "seed"):
        if getattr(unlearned, name) != getattr(retrained, name):
            raise ValueError(f"the two reports differ in {name} ({getattr(unlearned, name)} vs "
                             f"{getattr(retrained, name)}): they must describe the same split and seed")
    if unlearned.split_fingerprint != retrained.split_fingerprint:
        raise ValueError(f"the two reports describe different forget/retain sets (split fingerprints "
                         f"{unlearned.split_fingerprint} vs {retrained.split_fingerprint}; the sets have "
                         f"equal sizes but other indices, or come from other data): compute both reports "
                         f"on the same split")
    u, r = unlearned, retrained
    return Evaluation(
        unlearned_forget_acc=u.acc["forget"], unlearned_retain_acc=u.acc["retain"],
        unlearned_test_acc=u.acc["test"], retrained_forget_acc=r.acc["forget"],
        retrained_retain_acc=r.acc["retain"], retrained_test_acc=r.acc["test"],
        tow=tow(u.acc, r.acc), unlearned_mia=u.mia, retrained_mia=r.mia,
        mia_gap=mia_gap(u.mia, r.mia), tow_mia=tow_mia(u.acc, r.acc, u.mia, r.mia),
        unlearned_loss_auc=u.loss_auc, retrained_loss_auc=r.loss_auc,
        n_forget=unlearned.n_forget, n_retain=unlearned.n_retain, n_test=unlearned.n_test,
    )
