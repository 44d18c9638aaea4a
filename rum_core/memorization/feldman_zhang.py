"""The estimator of Feldman & Zhang (2020): K models trained on subsets, and per-example
mem(i) = P[correct | trained with i] − P[correct | trained without i] from their bookkeeping."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from .. import ensembles
from ..data import DataBundle
from ..training import TrainConfig
from ..validation import check_int
from .scores import MemorizationScores

#: Below this mean accuracy of the models on their own training examples, :func:`estimate` warns.
FIT_WARNING_ACCURACY = 0.98


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

    def split_half_spearman(self) -> float:
        """How reproducible the estimate is: the Spearman rank correlation between the estimates from the
        first and from the second half of the K models, over the examples both halves can score (each was
        left out by at least one model of each half). Near 1: the ranking, which the forget sets use, does
        not depend on which models were trained. NaN when fewer than 3 examples are scored by both halves.
        """
        from scipy.stats import spearmanr

        half = self.n_models // 2
        with warnings.catch_warnings():  # an example in every model of a half gets NaN: dropped below
            warnings.simplefilter("ignore", RuntimeWarning)
            a = from_runs(self.correct[:half], self.included[:half]).scores
            b = from_runs(self.correct[half:], self.included[half:]).scores
        ok = ~np.isnan(a) & ~np.isnan(b)
        if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
            return float("nan")
        return float(spearmanr(a[ok], b[ok]).statistic)

    def to_scores(self) -> MemorizationScores:
        """The estimate as :class:`MemorizationScores`; its cost counts every model's epochs over its subset."""
        epochs = int(self.config["train"]["epochs"])
        return MemorizationScores(scores=self.estimate.scores, p_out=self.estimate.p_out,
                                  source=f"Feldman & Zhang estimate from {self.n_models} models",
                                  config=self.config, grad_evals=float(self.included.sum()) * epochs)

    def lira_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """``(in_stats, out_stats)`` for :func:`rum_core.metrics.lira.lira_scores` (these are shadow models)."""
        from ..metrics.lira import membership_split

        return membership_split(self.logit_confidence.astype(np.float64), self.included)


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
    n_models = check_int("n_models", n_models, low=2)
    seed = check_int("seed", seed, low=0)
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
        from ..cache import cached_arrays

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
