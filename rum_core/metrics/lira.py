"""Per-example likelihood-ratio membership inference: LiRA (Carlini et al. 2022) and U-LiRA (Hayes et al. 2024).

For each example i, shadow models give two populations of its statistic (normally the logit-scaled
confidence φ = log p_y − log Σ_{j≠y} p_j of :func:`rum_core.metrics.logit_confidence`, which is close to
Gaussian): "in" models and "out" models. LiRA fits a Gaussian to each and scores the target model's φ_i by

    score_i = log N(φ_i; μ_in,i, σ_in²) − log N(φ_i; μ_out,i, σ_out²)

(higher = more likely "in"). The σ's are per example, or — with ``global_variance=True``, more stable with
few shadows — one pooled within-example variance per population shared by all examples.

API: shadow statistics come as two (K, n) matrices ``in_stats`` and ``out_stats`` (column i = example i;
the two K's may differ), where **NaN means "this shadow has no statistic of that kind for this example"**
(e.g. a shadow that trained on example i contributes its φ_i to ``in_stats`` and NaN to ``out_stats``).
:func:`membership_split` builds the pair from one (K, n) matrix and a boolean "trained on it" mask, the
usual layout when each shadow trains on a random half of the data. Infinite values are rejected.

U-LiRA (:func:`ulira_scores`) is the same test with other populations: "in" = models trained with the
example and then unlearned, "out" = models retrained without it, target = the unlearned model under audit.

Evaluating an attack needs targets whose answer is known. :func:`leave_one_out_lira` and
:func:`leave_one_out_ulira` let every model of a population play the target in turn, scored against all the
other models, and return the pooled scores with the true labels, ready for
:func:`~rum_core.metrics.attack_summary` or :func:`~rum_core.metrics.roc_curve`.
"""

from __future__ import annotations

import numpy as np

from ..validation import check_array, check_number

__all__ = ["lira_scores", "ulira_scores", "membership_split", "leave_one_out_lira", "leave_one_out_ulira"]


def membership_split(stats, in_mask) -> tuple[np.ndarray, np.ndarray]:
    """Split a (K, n) shadow-statistic matrix into ``(in_stats, out_stats)`` for :func:`lira_scores`.

    Args:
        stats: (K, n) finite statistics, row k = shadow model k, column i = example i.
        in_mask: (K, n) booleans, True where shadow k trained on example i.

    Returns:
        Two (K, n) float64 arrays: ``stats`` where ``in_mask`` (resp. not) and NaN elsewhere.
    """
    s = check_array("stats", stats, 2)
    if in_mask is None or isinstance(in_mask, (str, bytes)):
        raise TypeError(f"in_mask must be a boolean array, got {type(in_mask).__name__}")
    mask = np.asarray(in_mask.detach().cpu().numpy() if hasattr(in_mask, "detach") else in_mask)
    if mask.dtype != bool:
        raise TypeError(f"in_mask must be a boolean array, got dtype {mask.dtype}")
    if mask.shape != s.shape:
        raise ValueError(f"in_mask has shape {mask.shape} but stats has shape {s.shape}")
    return np.where(mask, s, np.nan), np.where(mask, np.nan, s)


def _population(name: str, stats, n: int, need: int):
    """Per-example mean, count and sum of squared deviations of a NaN-masked (K, n) matrix."""
    x = check_array(name, stats, 2, allow_nan=True)
    if x.shape[1] != n:
        raise ValueError(f"{name} has {x.shape[1]} columns but target_stat has {n} examples")
    available = ~np.isnan(x)
    count = available.sum(axis=0)
    short = np.flatnonzero(count < need)
    if short.size:
        hint = "" if need == 1 else " (or pass global_variance=True, which needs only 1)"
        raise ValueError(f"{name} has fewer than {need} shadow values for {short.size} example(s), "
                         f"e.g. columns {short[:5].tolist()}; per-example Gaussians need {need}{hint}")
    filled = np.where(available, x, 0.0)
    mean = filled.sum(axis=0) / count
    ssd = (np.where(available, x - mean, 0.0) ** 2).sum(axis=0)
    return mean, count, ssd


def _std(name: str, count: np.ndarray, ssd: np.ndarray, global_variance: bool, min_std: float) -> np.ndarray:
    if global_variance:
        dof = int(count.sum() - count.size)
        if dof < 1:
            raise ValueError(f"{name}: a pooled variance needs at least one example with 2 or more shadow "
                             f"values, but every example has exactly one")
        var = np.full(count.shape, ssd.sum() / dof)
    else:
        var = ssd / (count - 1)
    return np.maximum(np.sqrt(var), min_std)


def _log_normal_pdf(x, mean, std):
    z = (x - mean) / std
    return -0.5 * z * z - np.log(std)  # the −½·log 2π term cancels in every use here


def lira_scores(target_stat, in_stats, out_stats, *, global_variance: bool = False,
                min_std: float = 1e-6) -> np.ndarray:
    """LiRA membership scores, one per example: log N(t; μ_in, σ_in²) − log N(t; μ_out, σ_out²).

    Args:
        target_stat: (n,) the target model's statistic per example (logit-scaled confidence).
        in_stats: (K_in, n) statistics of shadow models that trained on the example; NaN where a shadow did
            not. ``None`` runs the *offline* attack (no "in" shadows): score = log Pr[Z ≤ t] with
            Z ~ N(μ_out, σ_out²), the one-sided offline test of Carlini et al. (2022).
        out_stats: (K_out, n) statistics of shadow models that did not train on the example; NaN where one did.
        global_variance: use one pooled within-example variance per population (Σ_i Σ_k (x_ki − μ_i)² /
            (Σ_i count_i − n)) instead of a per-example variance (ddof = 1). Needs only 1 shadow value per
            example and population instead of 2; more stable when there are few shadow models.
        min_std: floor on every σ, so that identical shadow values do not divide by zero.

    Returns:
        (n,) float64 scores, higher = more likely a member; use with :func:`~rum_core.metrics.auc` and
        :func:`~rum_core.metrics.tpr_at_fpr`.

    Raises:
        ValueError: for empty, misshapen or infinite inputs, NaN in ``target_stat``, or an example without
            enough shadow values (naming the argument and the columns).
    """
    t = check_array("target_stat", target_stat, 1)
    if not isinstance(global_variance, (bool, np.bool_)):
        raise TypeError(f"global_variance must be a bool, got {type(global_variance).__name__}")
    min_std = check_number("min_std", min_std, low=0.0, low_open=True)
    need = 1 if global_variance else 2
    mu_out, c_out, ssd_out = _population("out_stats", out_stats, len(t), need)
    sd_out = _std("out_stats", c_out, ssd_out, bool(global_variance), min_std)
    if in_stats is None:
        from scipy.stats import norm

        return norm.logcdf((t - mu_out) / sd_out)
    mu_in, c_in, ssd_in = _population("in_stats", in_stats, len(t), need)
    sd_in = _std("in_stats", c_in, ssd_in, bool(global_variance), min_std)
    return _log_normal_pdf(t, mu_in, sd_in) - _log_normal_pdf(t, mu_out, sd_out)


def ulira_scores(target_stat, unlearned_stats, retrained_stats, *, global_variance: bool = False,
                 min_std: float = 1e-6) -> np.ndarray:
    """U-LiRA (Hayes et al. 2024, "Inexact unlearning needs more careful evaluations"): LiRA for unlearning.

    The question is no longer "was the example trained on?" but "was this model produced by the unlearning
    algorithm (trained with the example, then unlearned) or by retraining without it?". The test is
    :func:`lira_scores` with the populations renamed — no other change:

    * ``unlearned_stats`` (K_u, n): shadow models trained *with* example i and then unlearned on a forget set
      containing it (plays "in"); NaN where a shadow did not unlearn example i.
    * ``retrained_stats`` (K_r, n): shadow models retrained *without* example i (plays "out"); NaN where
      the example was in a shadow's training set.
    * ``target_stat`` (n,): the audited model's statistic (logit-scaled confidence) on each forget example.

    Higher scores say "unlearned, not retrained"; with targets that are sometimes unlearned and sometimes
    retrained models, :func:`~rum_core.metrics.auc` (or the best balanced accuracy) near 0.5 means the
    unlearning is indistinguishable from retraining for these examples.
    """
    return lira_scores(target_stat, unlearned_stats, retrained_stats, global_variance=global_variance,
                       min_std=min_std)



def leave_one_out_lira(stats, in_mask, targets=None, *, offline: bool = False,
                       global_variance: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """LiRA evaluated on shadow models: each model in ``targets`` plays the target, the others the shadows.

    Args:
        stats: (K, n) statistics (logit-scaled confidences) of K shadow models on n examples.
        in_mask: (K, n) booleans, True where model k trained on example i.
        targets: indices of the models that play the target in turn (default: all K). Fewer targets cost
            less; every target still uses all the other K − 1 models as shadows.
        offline: score against the "out" population only (:func:`lira_scores` with ``in_stats=None``).
        global_variance: passed to :func:`lira_scores`.

    Returns:
        ``(scores, is_member)``: two arrays of length ``len(targets) * n``, target after target.
    """
    s = check_array("stats", stats, 2)
    in_s, out_s = membership_split(s, in_mask)
    member = ~np.isnan(in_s)
    k_models = s.shape[0]
    if k_models < 2:
        raise ValueError(f"leave-one-out needs at least 2 models, got {k_models}")
    chosen = np.arange(k_models) if targets is None else _indices("targets", targets, k_models)
    scores = []
    for k in chosen:
        others = np.arange(k_models) != k
        scores.append(lira_scores(s[k], None if offline else in_s[others], out_s[others],
                                  global_variance=global_variance))
    return np.concatenate(scores), np.concatenate([member[k] for k in chosen])


def leave_one_out_ulira(unlearned_stats, retrained_stats, *, global_variance: bool = False
                        ) -> tuple[np.ndarray, np.ndarray]:
    """U-LiRA evaluated on two populations: every model plays the target in turn, against all the others.

    Args:
        unlearned_stats: (K_u, n) statistics on the forget set of models trained with it and unlearned.
        retrained_stats: (K_r, n) statistics of models retrained without it. Each population needs at least
            3 models (2 left once the target is removed) unless ``global_variance``.

    Returns:
        ``(scores, is_unlearned)``: arrays of length ``(K_u + K_r) * n``, the unlearned targets first.
        An AUC near 0.5 means the unlearned models cannot be told from retrained ones.
    """
    unl = check_array("unlearned_stats", unlearned_stats, 2)
    ret = check_array("retrained_stats", retrained_stats, 2)
    if unl.shape[1] != ret.shape[1]:
        raise ValueError(f"unlearned_stats has {unl.shape[1]} examples but retrained_stats has {ret.shape[1]}")
    for name, pop in (("unlearned_stats", unl), ("retrained_stats", ret)):
        if len(pop) < 2:
            raise ValueError(f"{name} needs at least 2 models for leave-one-out, got {len(pop)}")
    scores = [ulira_scores(unl[k], np.delete(unl, k, axis=0), ret, global_variance=global_variance)
              for k in range(len(unl))]
    scores += [ulira_scores(ret[k], unl, np.delete(ret, k, axis=0), global_variance=global_variance)
               for k in range(len(ret))]
    n = unl.shape[1]
    return np.concatenate(scores), np.repeat([True, False], [len(unl) * n, len(ret) * n])


def _indices(name: str, idx, size: int) -> np.ndarray:
    """Distinct integer indices into ``range(size)``, or a clear error."""
    arr = np.asarray(idx)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be a non-empty 1-D sequence of integers, got {idx!r}")
    if arr.min() < 0 or arr.max() >= size:
        raise ValueError(f"{name} must lie in [0, {size}), got {arr.tolist()}")
    if len(np.unique(arr)) != len(arr):
        raise ValueError(f"{name} has repeated indices: {arr.tolist()}")
    return arr
