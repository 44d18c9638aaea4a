"""Memorization: the estimator of Feldman & Zhang (2020), cheap proxies, published scores, groups.

mem(i) = P[f(x_i) = y_i | f trained with i] − P[f(x_i) = y_i | f trained without i].

* :func:`from_runs` turns the bookkeeping of K trained models — which examples each trained on (``included``)
  and which training examples each gets right (``correct``) — into per-example estimates with counts and
  standard errors.
* :func:`estimate` trains the K models (batched, :mod:`rum_core.ensembles`) on subsets drawn by a design
  (``balanced`` or ``random``) and returns the estimate together with the raw masks, correctness and
  confidences, which are also LiRA's shadow-model statistics (:meth:`MemorizationRuns.lira_stats`).
  (:func:`rum_core.experiments.estimate_for_profile` does it for a profile.)
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

Modules: :mod:`~rum_core.memorization.feldman_zhang` (the estimator), :mod:`~rum_core.memorization.proxy_scores`,
:mod:`~rum_core.memorization.published` (score files) and :mod:`~rum_core.memorization.scores` (the form both
sources take).
"""

from .feldman_zhang import FIT_WARNING_ACCURACY, MemorizationEstimate, MemorizationRuns, estimate, from_runs
from .proxy_scores import HIGH_MEANS_LOW_MEMORIZATION, PROXIES, default_holdout_train, orient_proxies, proxies
from .published import (
                        MISSING_POLICIES,
                        PublishedScores,
                        load_cscores,
                        load_feldman_zhang,
                        published_memorization,
)
from .scores import MemorizationScores

__all__ = ["MemorizationEstimate", "MemorizationRuns", "from_runs", "estimate", "FIT_WARNING_ACCURACY",
           "PROXIES", "HIGH_MEANS_LOW_MEMORIZATION", "MISSING_POLICIES", "proxies", "orient_proxies",
           "default_holdout_train", "PublishedScores", "load_cscores", "load_feldman_zhang", "MemorizationScores",
           "published_memorization"]
