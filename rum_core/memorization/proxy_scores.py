"""Cheap per-example memorization proxies from ONE training run (plus holdout retraining)."""

from __future__ import annotations

import copy
import hashlib
import time

import numpy as np
import pandas as pd
import torch

from .. import models as _models
from ..data import DataBundle, Split
from ..training import TrainConfig, default_device, fit, predict_logits
from ..validation import check_frame, check_int

PROXIES = ("confidence", "max_confidence", "neg_entropy", "binary_accuracy", "cumulative_loss", "holdout_kl")
"""Column names of :func:`proxies`."""

HIGH_MEANS_LOW_MEMORIZATION = frozenset({"confidence", "max_confidence", "neg_entropy", "binary_accuracy"})
"""Proxies that are HIGH for LOW memorization (confidence-like). The others (cumulative loss, holdout
retraining) are high for high memorization."""


class _EpochRecorder:
    """Accumulates per-example statistics of the training set at the end of every epoch."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, device):
        self.x, self.y, self.device = x, y.numpy(), device
        n = len(y)
        self.sums = {name: np.zeros(n) for name in ("confidence", "max_confidence", "neg_entropy",
                                                    "binary_accuracy", "cumulative_loss")}
        self.epochs = 0

    def __call__(self, epoch: int, model) -> None:
        logp = torch.log_softmax(predict_logits(model, self.x, device=self.device).double(), dim=1).numpy()
        p = np.exp(logp)
        rows = np.arange(len(self.y))
        self.sums["confidence"] += p[rows, self.y]
        self.sums["max_confidence"] += p.max(axis=1)
        self.sums["neg_entropy"] += (p * logp).sum(axis=1)
        self.sums["binary_accuracy"] += logp.argmax(axis=1) == self.y
        self.sums["cumulative_loss"] += -logp[rows, self.y]
        self.epochs += 1

    def result(self) -> dict[str, np.ndarray]:
        e = max(self.epochs, 1)
        out = {name: s / e for name, s in self.sums.items() if name != "cumulative_loss"}
        out["cumulative_loss"] = self.sums["cumulative_loss"].copy()
        return out


def _symmetric_kl(logits_a: torch.Tensor, logits_b: torch.Tensor) -> np.ndarray:
    """Per-row KL(p‖q) + KL(q‖p) = Σ (p − q)(log p − log q), in float64."""
    la = torch.log_softmax(logits_a.double(), dim=1)
    lb = torch.log_softmax(logits_b.double(), dim=1)
    return ((la.exp() - lb.exp()) * (la - lb)).sum(dim=1).clamp_min(0.0).numpy()


def default_holdout_train(train: TrainConfig) -> TrainConfig:
    """The fine-tuning recipe of holdout retraining: the training recipe for a third of its epochs (≥ 1)."""
    return TrainConfig(epochs=max(1, train.epochs // 3), lr=train.lr, batch_size=train.batch_size,
                       momentum=train.momentum, weight_decay=train.weight_decay, schedule=train.schedule,
                       augment=train.augment)


def _as_holdout_split(holdout, bundle: DataBundle) -> Split:
    """Caller-provided held-out data (a :class:`Split` or an ``(x, y)`` pair) as a Split, checked.

    Raises:
        TypeError: for anything else.
        ValueError: for data that is empty or not shaped like the training inputs, and for data that
            overlaps the evaluation test set: any held-out input row equal to a test input row (compared by
            a hash of each row's float32 values, so copies, subsets, permutations and mixtures are all
            caught).
    """
    if isinstance(holdout, Split):
        split = holdout
    elif isinstance(holdout, (tuple, list)) and len(holdout) == 2:
        split = Split(torch.as_tensor(holdout[0], dtype=torch.float32), torch.as_tensor(holdout[1], dtype=torch.long))
    else:
        raise TypeError(f"holdout must be None (cross-fitting on the training set), False, a rum_core Split or "
                        f"an (x, y) pair, got {type(holdout).__name__}")
    if tuple(split.x.shape[1:]) != tuple(bundle.train.x.shape[1:]) or len(split.x) != len(split.y) or not len(split):
        raise ValueError(f"holdout data must be a non-empty set of inputs shaped like the training inputs "
                         f"{tuple(bundle.train.x.shape[1:])}, got {tuple(split.x.shape)} with {len(split.y)} labels")
    test_rows = set(_row_digests(bundle.test.x))
    overlap = np.flatnonzero([d in test_rows for d in _row_digests(split.x)])
    if overlap.size:
        raise ValueError(f"holdout must not overlap the test set: {overlap.size} of its {len(split)} input "
                         f"rows equal a test-set input (first at holdout row {int(overlap[0])}); fine-tuning "
                         f"on the data used for evaluation leaks it (pass held-out data disjoint from the "
                         f"test set, or None to carve it from the training set)")
    return split


def _row_digests(x: torch.Tensor, block: int = 4096) -> list[bytes]:
    """A 16-byte BLAKE2b digest of each row of ``x`` (the row's values as float32, the precision models are
    trained in, with −0.0 read as 0.0), so that rows of equal values have equal digests whatever the dtype
    or memory layout of ``x``."""
    flat = x.detach().cpu().reshape(len(x), -1)
    out: list[bytes] = []
    for start in range(0, len(flat), block):
        rows = np.asarray(flat[start:start + block].numpy(), dtype=np.float32) + np.float32(0.0)  # −0.0 → 0.0
        out.extend(hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in rows)
    return out


def proxies(bundle: DataBundle, *, train: TrainConfig, model: str = "mlp", model_kwargs: dict | None = None,
            seed: int = 0, holdout=None, holdout_train: TrainConfig | None = None, device=None,
            progress_bar: bool | None = None, use_cache: bool = True) -> pd.DataFrame:
    """Cheap memorization proxies for every training example, from ONE training run (plus holdout retraining).

    The model (``models.build(model, bundle, seed=seed)``, recipe ``train``, seed ``seed``: the original
    model of that seed) is trained on the whole training set, and after every epoch all training examples
    are evaluated (eval mode, no augmentation). Columns, averaged over the epochs unless said otherwise:

    ``confidence``       softmax probability of the true label.               high ⇒ LOW memorization
    ``max_confidence``   largest softmax probability.                          high ⇒ LOW memorization
    ``neg_entropy``      Σ_j p_j log p_j (negative entropy of the prediction).  high ⇒ LOW memorization
    ``binary_accuracy``  fraction of epochs classified correctly ("learning events"). high ⇒ LOW
    ``cumulative_loss``  SUM over epochs of the cross-entropy loss.             high ⇒ HIGH memorization
    ``holdout_kl``       holdout retraining: symmetric KL between the predictions of a model before and
                         after fine-tuning it on held-out data.                high ⇒ HIGH memorization

    Holdout retraining never touches the test set. ``holdout=None`` (default) carves the held-out data from
    the training set by cross-fitting: the training set is split into two random halves (seeded); a model
    trained on one half (recipe ``train``) is fine-tuned on the other (recipe ``holdout_train``, default
    :func:`default_holdout_train`) and scores the examples of its own half, and vice versa. Or pass held-out
    data (a :class:`~rum_core.data.Split` or ``(x, y)``): then the main model is fine-tuned on it and scores
    every training example. ``holdout=False`` skips it (``holdout_kl`` is NaN).

    Returns:
        One row per training example: ``index``, ``label`` and the :data:`PROXIES` columns. ``frame.attrs``
        holds ``high_means_low_memorization`` (sorted list), ``seconds`` (the training run with its
        per-epoch evaluations) and ``holdout_seconds``, as measured when computed, and ``grad_evals``: the
        per-example gradient evaluations of every training run the proxies took (holdout included).
    """
    if not isinstance(bundle, DataBundle):
        raise TypeError(f"bundle must be a rum_core.data.DataBundle, got {type(bundle).__name__}")
    if not isinstance(train, TrainConfig):
        raise TypeError(f"train must be a rum_core.training.TrainConfig, got {type(train).__name__}")
    seed = check_int("seed", seed, low=0)
    kw = dict(model_kwargs or {})
    tune = default_holdout_train(train) if holdout_train is None else holdout_train
    external = None if holdout is None or holdout is False else _as_holdout_split(holdout, bundle)
    dev = default_device() if device is None else torch.device(device)

    def compute():
        x, y = bundle.train.x, bundle.train.y
        recorder = _EpochRecorder(x, y, dev)
        net = _models.build(model, bundle, seed=seed, **kw)
        start = time.perf_counter()
        grad_evals = fit(net, x, y, train, seed=seed, device=dev, progress_bar=progress_bar, desc="proxies",
                         on_epoch=recorder).grad_evals
        seconds = time.perf_counter() - start
        arrays = recorder.result()
        start = time.perf_counter()
        kl = np.full(len(y), np.nan)
        if external is not None:
            tuned = copy.deepcopy(net)
            grad_evals += fit(tuned, external.x, external.y, tune, seed=seed, device=dev, progress_bar=False).grad_evals
            kl = _symmetric_kl(predict_logits(net, x, device=dev), predict_logits(tuned, x, device=dev))
        elif holdout is None:
            perm = np.random.default_rng([seed, 0x40D]).permutation(len(y))
            halves = (np.sort(perm[:len(y) // 2]), np.sort(perm[len(y) // 2:]))
            for own, other in (halves, halves[::-1]):
                base = _models.build(model, bundle, seed=seed, **kw)
                grad_evals += fit(base, x[own], y[own], train, seed=seed, device=dev, progress_bar=False).grad_evals
                tuned = copy.deepcopy(base)
                grad_evals += fit(tuned, x[other], y[other], tune, seed=seed, device=dev,
                                  progress_bar=False).grad_evals
                kl[own] = _symmetric_kl(predict_logits(base, x[own], device=dev),
                                        predict_logits(tuned, x[own], device=dev))
        arrays["holdout_kl"] = kl
        arrays["seconds"] = np.float64(seconds)
        arrays["grad_evals"] = np.float64(grad_evals)
        arrays["holdout_seconds"] = np.float64(time.perf_counter() - start)
        return arrays

    ext_key = None
    if external is not None:
        ext_key = {"x": external.x.numpy(), "y": external.y.numpy()}
    config = {"data": bundle.fingerprint, "model": model, "model_kwargs": kw, "train": train.as_dict(),
              "seed": seed, "holdout": "none" if holdout is False else ("external" if external is not None
                                                                        else "cross-fit halves"),
              "holdout_data": ext_key, "holdout_train": tune.as_dict()}
    if use_cache:
        from ..cache import cached_arrays

        arrays = cached_arrays("memorization-proxies", config, compute,
                               depends=("models", "training", "memorization"))
    else:
        arrays = compute()
    frame = pd.DataFrame({"index": np.arange(len(bundle.train)), "label": bundle.train.y.numpy(),
                          **{name: np.asarray(arrays[name], dtype=np.float64) for name in PROXIES}})
    frame.attrs.update({"high_means_low_memorization": sorted(HIGH_MEANS_LOW_MEMORIZATION),
                        "seconds": float(arrays["seconds"]), "holdout_seconds": float(arrays["holdout_seconds"]),
                        "grad_evals": float(arrays["grad_evals"])})
    return frame


def orient_proxies(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a :func:`proxies` frame in which every proxy column reads "higher = more memorized".

    Columns named in :data:`HIGH_MEANS_LOW_MEMORIZATION` are negated; others are unchanged.

    Raises:
        TypeError: not a DataFrame. ValueError: no column of :data:`PROXIES` (not a proxies frame).
    """
    check_frame("frame", frame)
    if not set(PROXIES) & set(frame.columns):
        raise ValueError(f"frame has none of the proxy columns {list(PROXIES)}; it has {list(frame.columns)}")
    out = frame.copy()
    for name in HIGH_MEANS_LOW_MEMORIZATION & set(out.columns):
        out[name] = -out[name]
    out.attrs["high_means_low_memorization"] = []
    return out
