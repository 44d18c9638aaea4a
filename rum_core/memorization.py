"""Memorization: the estimator of Feldman & Zhang (2020), cheap proxies, published scores, groups.

mem(i) = P[f(x_i) = y_i | f trained with i] − P[f(x_i) = y_i | f trained without i].

* :func:`from_runs` turns the bookkeeping of K trained models — which examples each trained on (``included``)
  and which training examples each gets right (``correct``) — into per-example estimates with counts and
  standard errors.
* :func:`estimate` trains the K models (batched, :mod:`rum_core.ensembles`) on subsets drawn by a design
  (``balanced`` or ``random``) and returns the estimate together with the raw masks, correctness and
  confidences, which are also LiRA's shadow-model statistics (:meth:`MemorizationRuns.lira_stats`).
  :func:`estimate_for_profile` does it for a :class:`~rum_core.profiles.Profile`.
* :func:`proxies` computes cheap per-example proxies from ONE training run (plus holdout retraining).
  Sign convention: every proxy keeps its natural sign; the ones in :data:`HIGH_MEANS_LOW_MEMORIZATION`
  (confidence-like) are high for LOW memorization, the others are high for HIGH memorization;
  :func:`orient_proxies` flips the former so that every column reads "higher = more memorized".
* :func:`load_cscores` / :func:`load_feldman_zhang` read published scores (official dataset order) and
  check that their labels match the dataset's.
* :class:`MemorizationScores` is what forget-set construction and RUM's refinement consume, whichever the
  source: :meth:`MemorizationRuns.to_scores` (our estimate) or :func:`published_memorization` (a file).
* The paper's low / medium / high memorization forget sets are built from these scores by
  :func:`rum_core.partition.memorization_groups` and :func:`rum_core.partition.mix`.
"""

from __future__ import annotations

import copy
import hashlib
import os
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import ensembles
from . import models as _models
from .data import DataBundle, Split
from .training import TrainConfig, default_device, fit, predict_logits
from .validation import check_frame, check_labels

__all__ = ["MemorizationEstimate", "MemorizationRuns", "from_runs", "estimate",
           "PROXIES", "HIGH_MEANS_LOW_MEMORIZATION", "MISSING_POLICIES", "proxies", "orient_proxies", "PublishedScores",
           "load_cscores", "load_feldman_zhang", "MemorizationScores", "published_memorization"]

FIT_WARNING_ACCURACY = 0.98


# ------------------------------------------------------------------------------------------ estimator
@dataclass(frozen=True)
class MemorizationEstimate:
    """Per-example memorization estimates (arrays of length N).

    Attributes:
        scores: p_in − p_out; NaN where an example was never in or never out of a training subset.
        n_in, n_out: how many models trained with / without each example.
        p_in, p_out: the fraction of those models that classify the example correctly (NaN for 0 models).
        stderr: sqrt(p_in(1 − p_in)/n_in + p_out(1 − p_out)/n_out), the plug-in standard error of the
            difference of two independent proportions (0 when both proportions are 0 or 1; NaN where the
            score is NaN).
    """

    scores: np.ndarray
    n_in: np.ndarray
    n_out: np.ndarray
    p_in: np.ndarray
    p_out: np.ndarray
    stderr: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)

    def to_frame(self) -> pd.DataFrame:
        """One row per example: ``index, score, stderr, n_in, n_out, p_in, p_out``."""
        return pd.DataFrame({"index": np.arange(len(self.scores)), "score": self.scores, "stderr": self.stderr,
                             "n_in": self.n_in, "n_out": self.n_out, "p_in": self.p_in, "p_out": self.p_out})


def _as_array(name: str, a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    if a is None or isinstance(a, (str, bytes)):
        raise TypeError(f"{name} must be a (K, N) array, got {type(a).__name__}")
    return np.asarray(a)


def from_runs(correct, included) -> MemorizationEstimate:
    """Memorization estimates from K models' bookkeeping.

    Args:
        correct: (K, N) booleans (or 0/1 numbers): model k classifies training example i correctly.
        included: (K, N) booleans: model k was trained on example i.

    Returns:
        A :class:`MemorizationEstimate`; examples that no model (or every model) trained on get NaN, with a
        ``RuntimeWarning`` naming how many and which.

    Raises:
        TypeError: ``included`` is not boolean, or ``correct`` is neither boolean nor 0/1 numbers.
        ValueError: the arrays are not 2-D of the same shape, or are empty.
    """
    inc = _as_array("included", included)
    cor = _as_array("correct", correct)
    if inc.dtype != bool:
        raise TypeError(f"included must be a boolean (K, N) mask, got dtype {inc.dtype}")
    if cor.dtype != bool:
        if not (np.issubdtype(cor.dtype, np.integer) or np.issubdtype(cor.dtype, np.floating)):
            raise TypeError(f"correct must be boolean (or 0/1 numbers), got dtype {cor.dtype}")
        if not np.isin(cor, (0, 1)).all():
            raise ValueError("correct must contain only 0/1 (or booleans)")
        cor = cor.astype(bool)
    if inc.ndim != 2 or cor.ndim != 2:
        raise ValueError(f"correct and included must be 2-D (models × examples), got shapes {cor.shape} "
                         f"and {inc.shape}")
    if inc.shape != cor.shape:
        raise ValueError(f"correct has shape {cor.shape} but included has shape {inc.shape}")
    if inc.size == 0:
        raise ValueError(f"need at least one model and one example, got shape {inc.shape}")
    k = inc.shape[0]
    n_in = inc.sum(axis=0).astype(np.int64)
    n_out = k - n_in
    hits_in = (cor & inc).sum(axis=0)
    hits_out = (cor & ~inc).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_in = np.where(n_in > 0, hits_in / np.maximum(n_in, 1), np.nan)
        p_out = np.where(n_out > 0, hits_out / np.maximum(n_out, 1), np.nan)
        scores = p_in - p_out
        stderr = np.sqrt(p_in * (1 - p_in) / n_in + p_out * (1 - p_out) / n_out)
    undefined = np.flatnonzero((n_in == 0) | (n_out == 0))
    if undefined.size:
        warnings.warn(f"{undefined.size} example(s) were never held in or never held out of a training subset "
                      f"(e.g. {undefined[:5].tolist()}); their memorization is NaN", RuntimeWarning, stacklevel=2)
        scores[undefined] = np.nan
        stderr[undefined] = np.nan
    return MemorizationEstimate(scores=scores, n_in=n_in, n_out=n_out, p_in=p_in, p_out=p_out, stderr=stderr)


@dataclass(frozen=True)
class MemorizationRuns:
    """The K models of a memorization estimate: the estimate plus everything recorded about them.

    Row k of every (K, ·) array is model k (seed ``seeds[k]``); columns are ``bundle.train`` (or
    ``bundle.test`` for the ``test_*`` arrays) examples.

    Attributes:
        estimate: :func:`from_runs` of ``correct`` and ``included``.
        included: (K, N) bool, model k trained on example i.
        correct: (K, N) bool, model k predicts training example i's label.
        confidence: (K, N) float32, softmax probability of the true label.
        logit_confidence: (K, N) float32, LiRA's φ = log(p_y / (1 − p_y)), computed from logits.
        test_correct, test_confidence, test_logit_confidence: the same on the test set (K, N_test).
        seeds: (K,) model seeds.
        config: the configuration (design, ratio, recipe, …) that produced them; ``seconds`` is the time
            the training took when it was computed (a cache hit returns the stored time).
    """

    estimate: MemorizationEstimate
    included: np.ndarray
    correct: np.ndarray
    confidence: np.ndarray
    logit_confidence: np.ndarray
    test_correct: np.ndarray
    test_confidence: np.ndarray
    test_logit_confidence: np.ndarray
    seeds: np.ndarray
    config: dict = field(default_factory=dict)
    seconds: float = float("nan")

    @property
    def scores(self) -> np.ndarray:
        return self.estimate.scores

    @property
    def n_models(self) -> int:
        return int(self.included.shape[0])

    @property
    def train_accuracy_in(self) -> float:
        """Mean accuracy of the models on the examples they trained on (should be ≈ 1)."""
        return float(self.correct[self.included].mean())

    @property
    def test_accuracy(self) -> np.ndarray:
        """(K,) test accuracy of each model."""
        return self.test_correct.mean(axis=1)

    def to_scores(self) -> MemorizationScores:
        """The estimate as :class:`MemorizationScores`; its cost counts every model's epochs over its subset."""
        epochs = int(self.config["train"]["epochs"])
        return MemorizationScores(scores=self.estimate.scores, p_out=self.estimate.p_out,
                                  source=f"Feldman & Zhang estimate from {self.n_models} models",
                                  config=self.config, grad_evals=float(self.included.sum()) * epochs)

    def lira_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """``(in_stats, out_stats)`` for :func:`rum_core.metrics.lira.lira_scores` (these are shadow models)."""
        from .metrics.lira import membership_split

        return membership_split(self.logit_confidence.astype(np.float64), self.included)


def _check_int(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return int(value)


def estimate(bundle: DataBundle, *, n_models: int, train: TrainConfig, subset_ratio: float = 0.7,
             design: str = "balanced", seed: int = 0, model: str = "mlp", model_kwargs: dict | None = None,
             device=None, n_jobs: int | None = None, progress_bar: bool | None = None,
             use_cache: bool = True) -> MemorizationRuns:
    """Estimate every training example's memorization with ``n_models`` models trained on subsets.

    Model k is built by ``models.build(model, bundle, seed=seeds[k], **model_kwargs)`` and trained with
    ``training.fit`` (seed ``seeds[k]``, recipe ``train``) on the examples where ``included[k]`` is True, with
    ``included`` from :func:`rum_core.ensembles.inclusion_design` (``subset_ratio``, ``design``, ``seed``)
    and ``seeds = ensembles.model_seeds(seed, n_models)``. MLPs train batched (see :mod:`rum_core.ensembles`).
    The result is cached by the whole configuration and the source of the code that produced it.

    Warns (``RuntimeWarning``) when the models fit their own training examples less than 98% of the time:
    memorization needs models that fit their data, otherwise every score collapses toward 0.

    Raises:
        ValueError: for a design the sizes cannot satisfy (e.g. a balanced design with ratio 7/10 needs
            ``n_models`` to be a multiple of 10), or bad arguments.
    """
    if not isinstance(bundle, DataBundle):
        raise TypeError(f"bundle must be a rum_core.data.DataBundle, got {type(bundle).__name__}")
    if not isinstance(train, TrainConfig):
        raise TypeError(f"train must be a rum_core.training.TrainConfig, got {type(train).__name__}")
    n_models = _check_int("n_models", n_models, 2)
    seed = _check_int("seed", seed, 0)
    kw = dict(model_kwargs or {})
    included = ensembles.inclusion_design(len(bundle.train), n_models, subset_ratio, design, seed)
    seeds = ensembles.model_seeds(seed, n_models)

    def compute():
        res = ensembles.train_ensemble(bundle, included, seeds, train, model=model, model_kwargs=kw,
                                       device=device, n_jobs=n_jobs, progress_bar=progress_bar,
                                       desc=f"memorization ({n_models} models)")
        return {"included": res.included, "seeds": res.seeds, "seconds": np.float64(res.seconds),
                "correct": res.train.correct, "confidence": res.train.confidence,
                "logit_confidence": res.train.logit_confidence, "test_correct": res.test.correct,
                "test_confidence": res.test.confidence, "test_logit_confidence": res.test.logit_confidence}

    config = {"data": bundle.fingerprint, "model": model, "model_kwargs": kw, "train": train.as_dict(),
              "n_models": n_models, "subset_ratio": float(subset_ratio), "design": design, "seed": seed}
    if use_cache:
        from .cache import cached_arrays

        arrays = cached_arrays("memorization-runs", config, compute, depends=("models", "training", "ensembles"))
    else:
        arrays = compute()
    if not np.array_equal(arrays["included"], included):  # the design code changed under a cached entry
        raise RuntimeError("cached memorization runs do not match the design; clear the cache")
    runs = MemorizationRuns(
        estimate=from_runs(arrays["correct"], arrays["included"]), included=arrays["included"],
        correct=arrays["correct"], confidence=arrays["confidence"], logit_confidence=arrays["logit_confidence"],
        test_correct=arrays["test_correct"], test_confidence=arrays["test_confidence"],
        test_logit_confidence=arrays["test_logit_confidence"], seeds=arrays["seeds"], config=config,
        seconds=float(arrays["seconds"]))
    acc = runs.train_accuracy_in
    if acc < FIT_WARNING_ACCURACY:
        warnings.warn(f"the models classify only {acc:.1%} of their own training examples correctly "
                      f"(< {FIT_WARNING_ACCURACY:.0%}): memorization scores collapse toward 0 when models do "
                      f"not fit their data; train longer or with a larger model", RuntimeWarning, stacklevel=2)
    return runs


# -------------------------------------------------------------------------------------------- proxies
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
    seed = _check_int("seed", seed, 0)
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
        from .cache import cached_arrays

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


# ------------------------------------------------------------------------------------ published scores
@dataclass(frozen=True)
class PublishedScores:
    """Published per-example scores: ``scores[j]`` belongs to training example ``index[j]`` (official order).

    ``labels`` are the full training set's labels in that order when the file provides them (else None).
    """

    index: np.ndarray
    scores: np.ndarray
    labels: np.ndarray | None
    source: str

    def dense(self, n: int | None = None) -> np.ndarray:
        """The scores as a length-``n`` array (NaN for examples without a score); ``n`` defaults to the
        number of labels, else to max(index) + 1."""
        if n is None:
            n = len(self.labels) if self.labels is not None else int(self.index.max()) + 1
        if len(self.index) and self.index.max() >= n:
            raise ValueError(f"scores index up to {int(self.index.max())} do not fit {n} examples")
        out = np.full(int(n), np.nan)
        out[self.index] = self.scores
        return out

    def for_bundle(self, bundle: DataBundle) -> np.ndarray:
        """The scores of ``bundle.train``'s rows, in its order (NaN where the file has none).

        The file follows the dataset's own training order; a bundle with a validation split carved out keeps
        a subset of those rows (:meth:`rum_core.data.DataBundle.source_positions`), so the scores are read at
        those positions.
        """
        return self.dense(_source_size(bundle))[bundle.source_positions()]


def _file_kind(head: bytes) -> str:
    """What a file that is not an ``.npz`` seems to be, from its first bytes, for the error message."""
    if head.startswith(b"\x93NUMPY"):
        return "a single .npy array (published scores come with their labels, in an .npz)"
    if head.startswith(b"\x80"):
        return "a Python pickle (never loaded: it could run code)"
    if head.startswith(b"\x89HDF"):
        return "an HDF5 file"
    if not head:
        return "empty"
    if all(32 <= c < 127 or c in (9, 10, 13) for c in head):
        return "text (e.g. CSV); convert it to an .npz"
    return "not a format rum_core reads"


def _read_npz(path, required_any: tuple[tuple[str, ...], ...]) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` at ``path`` (read with ``allow_pickle=False``), which must hold one of the
    ``required_any`` sets of names; any other format is named in a ValueError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    with open(path, "rb") as f:
        head = f.read(16)
    if not head.startswith(b"PK"):  # every .npz is a zip archive
        raise ValueError(f"{path.name}: not an .npz archive of arrays: {_file_kind(head)}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path.name}: a damaged or unreadable .npz ({type(err).__name__}: {err})") from err
    if not any(all(k in arrays for k in keys) for keys in required_any):
        wanted = " or ".join("+".join(keys) for keys in required_any)
        raise ValueError(f"{path.name}: expected arrays {wanted}, found {sorted(arrays)}")
    return arrays


def _source_size(bundle: DataBundle) -> int:
    """Training examples of ``bundle``'s dataset before its validation carve (the length of published files)."""
    return len(bundle.train) + (len(bundle.val) if bundle.val is not None else 0)


def _check_labels(labels: np.ndarray, bundle: DataBundle | None, source: str) -> None:
    """``labels`` (the dataset's own training order) must equal ``bundle``'s training labels in that order,
    validation rows put back in place (:meth:`rum_core.data.DataBundle.source_labels`)."""
    if bundle is None:
        return
    if not isinstance(bundle, DataBundle):
        raise TypeError(f"bundle must be a rum_core.data.DataBundle, got {type(bundle).__name__}")
    ours = bundle.source_labels()
    if len(labels) != len(ours):
        raise ValueError(f"{source} has {len(labels)} labels but {bundle.name!r} has {len(ours)} training "
                         f"examples: these scores belong to another dataset")
    bad = np.flatnonzero(labels != ours)
    if bad.size:
        raise ValueError(f"{source}: labels differ from {bundle.name!r}'s training labels at {bad.size} of "
                         f"{len(ours)} positions (first at index {int(bad[0])}: {int(labels[bad[0]])} vs "
                         f"{int(ours[bad[0]])}); the scores are for another dataset or another order "
                         f"(they follow the official training order)")


def _check_scores(source: str, scores: np.ndarray, n: int, low: float = 0.0) -> np.ndarray:
    """Published scores: 1-D, numeric, finite, in ``[low, 1]``. A C-score is a probability (a held-out
    accuracy), so ``low = 0``; a memorization estimate is a difference of two (p_in − p_out), which an
    estimate from finitely many models can put slightly below 0, so its ``low = -1``."""
    s = np.asarray(scores)
    if s.ndim != 1 or len(s) != n or not (np.issubdtype(s.dtype, np.floating) or np.issubdtype(s.dtype, np.integer)):
        raise ValueError(f"{source}: scores must be a 1-D numeric array of length {n}, got {s.dtype} {s.shape}")
    s = s.astype(np.float64)
    bad = ~np.isfinite(s) | (s < low) | (s > 1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{source}: {int(bad.sum())} score(s) are NaN, infinite or outside [{low:g}, 1] (first "
                         f"at index {first}: {s[first]}); C-scores are probabilities, memorization estimates "
                         f"differences of two")
    return s


def load_cscores(path: str | os.PathLike, bundle: DataBundle | None = None) -> PublishedScores:
    """C-scores (Jiang et al. 2021) from an ``.npz`` with ``labels`` and ``scores`` in the official order.

    A C-score is a held-out consistency (high = typical); where models fit their training data,
    memorization ≈ 1 − C-score. With ``bundle``, its training labels must equal the file's labels.

    Raises:
        ValueError: missing arrays, mismatched lengths, or labels that differ from ``bundle``'s.
    """
    source = Path(path).name
    arrays = _read_npz(path, (("labels", "scores"),))
    labels = check_labels(f"{source}: labels", arrays["labels"])
    scores = _check_scores(source, arrays["scores"], len(labels))
    _check_labels(labels, bundle, source)
    return PublishedScores(index=np.arange(len(labels)), scores=scores, labels=labels, source=source)


def load_feldman_zhang(path: str | os.PathLike, bundle: DataBundle | None = None, *,
                       labels=None) -> PublishedScores:
    """Feldman & Zhang's (2020) published memorization estimates from an ``.npz``.

    Two layouts: the full estimates (``tr_mem`` with ``tr_labels``, official order), or the high-influence
    pairs file (``tr_idx``, ``mem``, plus ``tt_idx``/``infl``): one row per (train, test) pair, so a training
    index may repeat (with the same ``mem``; duplicates are merged, conflicting values rejected).

    Args:
        bundle: if given, the labels (the file's ``tr_labels``, else ``labels``) must equal its training
            labels, and the indices must fit its training set.
        labels: the official-order training labels when the file has none: an array, or the path of an
            ``.npz`` holding ``labels`` or ``tr_labels`` (e.g. the C-score file of the same dataset). Without
            any labels the order cannot be checked and a warning says so.

    Raises:
        ValueError: missing arrays, conflicting duplicates, indices out of range, or mismatched labels.
    """
    source = Path(path).name
    arrays = _read_npz(path, (("tr_mem",), ("tr_idx", "mem")))
    file_labels = arrays.get("tr_labels")
    if file_labels is None and labels is not None:
        if isinstance(labels, (str, os.PathLike)):
            other = _read_npz(labels, (("labels",), ("tr_labels",)))
            labels = other.get("labels", other.get("tr_labels"))
        file_labels = labels
    lab = None if file_labels is None else check_labels(f"{source}: labels", file_labels)
    if "tr_mem" in arrays:
        n = len(np.asarray(arrays["tr_mem"]))
        scores = _check_scores(source, arrays["tr_mem"], n, low=-1.0)
        index = np.arange(n)
        if lab is not None and len(lab) != n:
            raise ValueError(f"{source}: {len(lab)} labels for {n} scores")
    else:
        idx = np.asarray(arrays["tr_idx"])
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise ValueError(f"{source}: tr_idx must be a 1-D integer array, got {idx.dtype} {idx.shape}")
        mem = _check_scores(source, arrays["mem"], len(idx), low=-1.0)
        index, first = np.unique(idx.astype(np.int64), return_index=True)
        scores = mem[first]
        if not np.array_equal(mem, scores[np.searchsorted(index, idx)]):
            raise ValueError(f"{source}: a training index repeats with different mem values")
        if index.size and index[0] < 0:
            raise ValueError(f"{source}: negative training indices")
        if lab is not None and index.size and index[-1] >= len(lab):
            raise ValueError(f"{source}: training index {int(index[-1])} is out of range for {len(lab)} labels")
    if bundle is not None:
        if lab is not None:
            _check_labels(lab, bundle, source)
        else:
            warnings.warn(f"{source} has no labels: cannot check that {bundle.name!r} is in the official "
                          f"training order (pass labels=, e.g. the dataset's C-score file)", RuntimeWarning,
                          stacklevel=2)
        if index.size and index[-1] >= _source_size(bundle):
            raise ValueError(f"{source}: training index {int(index[-1])} is out of range for {bundle.name!r} "
                             f"({_source_size(bundle)} training examples)")
    return PublishedScores(index=index, scores=scores, labels=lab, source=source)


# ------------------------------------------------------------------------------ one interface for both
@dataclass(frozen=True)
class MemorizationScores:
    """Per-example memorization as RUM and the memorization forget sets use it, whatever its source.

    Attributes:
        scores: (N,) memorization of each training example, higher = more memorized.
        p_out: (N,) accuracy on the example of models that did not train on it (what retraining is expected
            to get right); NaN where the source does not say.
        source: a human-readable description of where the scores come from.
        config: a JSON-friendly description that identifies the scores (used in cache keys).
        grad_evals: per-example gradient evaluations spent computing the scores here; NaN when they were
            not computed here (published scores).
    """

    scores: np.ndarray
    p_out: np.ndarray
    source: str
    config: dict
    grad_evals: float


#: What :func:`published_memorization` does with training examples a file gives no estimate for.
MISSING_POLICIES = ("nan", "refuse", "zero")


def published_memorization(path: str | os.PathLike, bundle: DataBundle, *, missing: str = "nan"
                           ) -> MemorizationScores:
    """:class:`MemorizationScores` from a published file, checked against ``bundle``'s training labels.

    * C-scores (``labels`` + ``scores``, :func:`load_cscores`): memorization = 1 − C-score and
      ``p_out`` = the C-score, which is by definition the expected held-out accuracy of the example.
    * Feldman & Zhang (``tr_mem`` or ``tr_idx`` + ``mem``, :func:`load_feldman_zhang`): their ``mem``;
      ``p_out`` is unknown (NaN). The high-influence pairs file covers only the examples of its pairs
      (memorization ≥ 0.25): ``missing`` says what the others get. ``"nan"`` (default, for analysis): NaN,
      which RUM's refinement refuses; ``"refuse"``: a ValueError that counts them; ``"zero"``: 0, i.e.
      "not memorized", the reading of a file that lists every example above its threshold (the paper's RUM
      then draws the low level from those zeros, so say so where it is reported).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not an .npz (the format found is named), neither layout, scores outside [0, 1], labels
            that do not match ``bundle`` (another dataset or order), or missing estimates under
            ``missing="refuse"``.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
    arrays = _read_npz(path, (("labels", "scores"), ("tr_mem",), ("tr_idx", "mem")))
    n = len(bundle.train)
    if "scores" in arrays:
        published = load_cscores(path, bundle)
        cscore = published.for_bundle(bundle)
        scores, p_out, kind = 1.0 - cscore, cscore, "1 − C-score"
    else:
        published = load_feldman_zhang(path, bundle)
        scores, p_out, kind = published.for_bundle(bundle), np.full(n, np.nan), "Feldman & Zhang mem"
        absent = np.isnan(scores)
        if absent.any() and missing == "refuse":
            raise ValueError(f"{published.source}: {int(absent.sum())} of {n} training examples have no estimate "
                             f"(the file lists {n - int(absent.sum())}); choose a policy for them: "
                             f"missing='zero' (rum reproduce --missing-scores zero) reads them as not memorized")
        if absent.any() and missing == "zero":
            scores = np.where(absent, 0.0, scores)
            kind += f", {int(absent.sum())} examples without an estimate read as 0"
    return MemorizationScores(scores=scores, p_out=p_out, source=f"{kind} from {published.source}",
                              config={"published": published.source, "scores": scores},
                              grad_evals=float("nan"))
