"""Membership-inference metrics as pure functions over arrays (numpy in, float or array out).

Per-example statistics
    :func:`true_label_confidence`  p_y, the SVC attack's feature (SalUn's "confidence").
    :func:`logit_confidence`       log p_y − log Σ_{j≠y} p_j, the LiRA statistic (roughly Gaussian).
    :func:`true_label_loss`        cross-entropy −log p_y, the challenge kit's feature.

Attacks and scores
    :func:`mia_efficacy`   the paper's (SalUn's) RBF-SVC attack: fraction of the forget set called non-member.
    :func:`mia_gap`, :func:`tow_mia`   |MIA(θᵘ) − MIA(θʳ)| and ToW with (1 − MIA gap) as forget factor.
    :func:`loss_mia_auc`   NeurIPS 2023 unlearning-challenge kit: logistic regression on losses, CV'd.

ROC helpers
    :func:`roc_curve`, :func:`auc`, :func:`tpr_at_fpr` for any score where higher means "member";
    :func:`attack_summary` puts AUC and TPR at low FPRs in one row, the usual way to report an attack.

Input checking: arrays may be numpy arrays, CPU tensors or lists; anything that is not numeric raises
``TypeError``; empty, NaN/inf, wrongly shaped or mismatched inputs raise ``ValueError`` naming the argument.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..validation import check_array, check_int, check_number, check_numeric
from .accuracy import _checked_accuracies, _fraction

__all__ = ["true_label_confidence", "logit_confidence", "true_label_loss", "mia_efficacy", "mia_gap",
           "tow_mia", "loss_mia_auc", "roc_curve", "auc", "tpr_at_fpr", "attack_summary", "SVC_PARAMS"]

#: The attacker of the paper's MIA (SalUn's ``SVC_MIA``): RBF SVC with C = 3 and gamma = 'auto'.
SVC_PARAMS = {"C": 3.0, "gamma": "auto", "kernel": "rbf"}

_TINY = np.finfo(np.float64).tiny  # smallest positive normal float64 ≈ 2.2e-308; log(_TINY) ≈ −708.4
_LOG_TINY = float(np.log(_TINY))


# ----------------------------------------------------------------------------------------- validation
def _labels(labels, n: int, num_classes: int, name: str = "labels") -> np.ndarray:
    arr = check_numeric(name, labels)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be integer class indices, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"{name} has length {len(arr)} but there are {n} rows of probabilities")
    bad = arr[(arr < 0) | (arr >= num_classes)]
    if bad.size:
        raise ValueError(f"{name} has values outside [0, {num_classes}): {bad[:5].tolist()}")
    return arr.astype(np.int64, copy=False)


def _check_probs(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    """Validate an (n, K) probability matrix and its labels; return them as float64 / int64."""
    arr = check_numeric("probs", probs)
    if arr.ndim != 2:
        raise ValueError(f"probs must be 2-dimensional (examples × classes), got shape {arr.shape}")
    n, k = arr.shape
    if n == 0:
        raise ValueError("probs is empty (no examples)")
    if k < 2:
        raise ValueError(f"probs needs at least 2 classes, got {k}")
    dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.dtype(np.float64)
    # Rows must sum to 1: a relative tolerance of 1e-6, widened for low-precision inputs (a float32
    # softmax over K classes may be off by a few K·eps).
    tol = max(1e-6, 8 * k * float(np.finfo(dtype).eps))
    p = arr.astype(np.float64, copy=False)
    if not np.isfinite(p).all():
        raise ValueError("probs has NaN or infinite values")
    if (p < 0).any():
        row = int(np.flatnonzero((p < 0).any(axis=1))[0])
        raise ValueError(f"probs has negative entries (first in row {row})")
    off = np.abs(p.sum(axis=1) - 1.0)
    if (off > tol).any():
        row = int(np.argmax(off))
        raise ValueError(f"probs rows must sum to 1 (tolerance {tol:.1e}); row {row} sums to "
                         f"{p[row].sum():.10g}; pass softmax probabilities, or logits with from_logits=True")
    return p, _labels(labels, n, k)


def _check_logits(logits, labels) -> tuple[np.ndarray, np.ndarray]:
    z = check_array("logits", logits, 2)
    if z.shape[1] < 2:
        raise ValueError(f"logits needs at least 2 classes, got {z.shape[1]}")
    return z, _labels(labels, z.shape[0], z.shape[1])


# ------------------------------------------------------------------------------- per-example features
def true_label_confidence(probs, labels) -> np.ndarray:
    """p_y: the softmax probability of each example's true label, shape (n,), float64.

    Args:
        probs: (n, K) softmax probabilities (rows sum to 1, e.g. :func:`rum_core.training.predict_proba`).
        labels: (n,) integer labels in [0, K).
    """
    p, y = _check_probs(probs, labels)
    return p[np.arange(len(y)), y].copy()


def logit_confidence(probs, labels, *, from_logits: bool = False) -> np.ndarray:
    """The logit-scaled confidence φ = log p_y − log Σ_{j≠y} p_j of each example, shape (n,), float64.

    This is LiRA's statistic (Carlini et al. 2022): log(p/(1−p)) for p = p_y, but with 1 − p_y computed as
    the sum of the other probabilities, never as ``1 - p_y``, so it keeps full precision when p_y → 1
    (where ``1 - p_y`` would cancel catastrophically, e.g. p_y = 1 − 1e-12 loses ~4 digits) and when p_y → 0
    (log p_y is taken directly, e.g. p_y = 1e-300 gives −690.8 exactly).

    Numerics:
        * From probabilities, a probability that is exactly 0 (p_y, or all of the others after softmax
          underflow) is clipped to the smallest normal float64 (≈ 2.2e-308), so φ is finite and lies within
          about ±708.4; examples beyond that saturate.
        * With ``from_logits=True`` the first argument holds logits z and φ = z_y − logsumexp_{j≠y} z_j is
          computed exactly without ever forming probabilities (no saturation). Prefer this when logits are
          at hand (e.g. :func:`rum_core.training.predict_logits`).

    Args:
        probs: (n, K) softmax probabilities, or (n, K) logits when ``from_logits`` is True.
        labels: (n,) integer labels in [0, K).
    """
    if from_logits:
        from scipy.special import logsumexp

        z, y = _check_logits(probs, labels)
        rows = np.arange(len(y))
        others = z.copy()
        others[rows, y] = -np.inf
        return z[rows, y] - logsumexp(others, axis=1)
    p, y = _check_probs(probs, labels)
    rows = np.arange(len(y))
    p_true = p[rows, y]
    others = p.copy()
    others[rows, y] = 0.0
    p_rest = others.sum(axis=1)
    return np.log(np.maximum(p_true, _TINY)) - np.log(np.maximum(p_rest, _TINY))


def true_label_loss(probs, labels, *, from_logits: bool = False) -> np.ndarray:
    """Per-example cross-entropy −log p_y, shape (n,), float64 (the challenge kit's attack feature).

    Computed as softplus(−φ) = log(1 + Σ_{j≠y} p_j / p_y) with φ from :func:`logit_confidence`, which is
    exact for confident examples (loss ≈ 1e-12 stays accurate instead of rounding to 0) and saturates at
    about 708.4 for p_y = 0 given as probabilities (no saturation with ``from_logits=True``).
    """
    phi = logit_confidence(probs, labels, from_logits=from_logits)
    return np.logaddexp(0.0, -phi)


# --------------------------------------------------------------------------------------------- attacks
def mia_efficacy(retain_conf, test_conf, forget_conf, *, seed: int = 0) -> float:
    """The paper's MIA efficacy (SalUn's SVC attack): the fraction of the forget set predicted non-member.

    The attacker is ``sklearn.svm.SVC(C=3, gamma='auto', kernel='rbf')`` trained on 1-D features:
    members = a random sample (seeded by ``seed``, without replacement) of |test| retain confidences —
    all of them when there are fewer — labelled 1, against non-members = every test confidence, labelled 0.
    It is then applied to the forget set, and the result is TN_S / |S|. Higher means the forget set looks
    more like unseen data; the right target is the retrained model's value, not 1 (see :func:`mia_gap`).

    (SalUn's code takes the first |test| retain examples rather than a random sample; for an unordered
    retain set the two agree in distribution.)

    Args:
        retain_conf, test_conf, forget_conf: 1-D confidences (e.g. :func:`true_label_confidence`) of the
            retain, test and forget sets under the model being evaluated.
        seed: seeds the choice of member examples.

    Returns:
        A float in [0, 1].
    """
    from sklearn.svm import SVC

    retain = check_array("retain_conf", retain_conf, 1)
    test = check_array("test_conf", test_conf, 1)
    forget = check_array("forget_conf", forget_conf, 1)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    members = retain if len(retain) <= len(test) else retain[rng.choice(len(retain), len(test), replace=False)]
    x = np.concatenate([members, test]).reshape(-1, 1)
    y = np.concatenate([np.ones(len(members)), np.zeros(len(test))])
    clf = SVC(**SVC_PARAMS).fit(x, y)
    return float(np.mean(clf.predict(forget.reshape(-1, 1)) == 0))


def mia_gap(mia_unlearned: float, mia_retrained: float) -> float:
    """|MIA(θᵘ) − MIA(θʳ)|: how far the unlearned model's MIA efficacy is from the retrained model's."""
    return abs(_fraction("mia_unlearned", mia_unlearned) - _fraction("mia_retrained", mia_retrained))


def tow_mia(unlearned_acc: Mapping[str, float], retrained_acc: Mapping[str, float],
            mia_unlearned: float, mia_retrained: float) -> float:
    """ToW-MIA = (1 − MIA gap) · (1 − |a_u(R) − a_r(R)|) · (1 − |a_u(test) − a_r(test)|).

    :func:`~rum_core.metrics.tow` with its forget-accuracy factor replaced by (1 − :func:`mia_gap`).

    Args:
        unlearned_acc, retrained_acc: accuracy mappings as for ``tow`` (keys ``"retain"`` and ``"test"``
            are required; ``"forget"`` may be present and is not used).
        mia_unlearned, mia_retrained: MIA efficacies in [0, 1] (:func:`mia_efficacy`).
    """
    u = _checked_accuracies("unlearned_acc", unlearned_acc, keys=("retain", "test"))
    r = _checked_accuracies("retrained_acc", retrained_acc, keys=("retain", "test"))
    gap = mia_gap(mia_unlearned, mia_retrained)
    return float((1.0 - gap) * (1.0 - abs(u["retain"] - r["retain"])) * (1.0 - abs(u["test"] - r["test"])))


LOSS_MIA_SCORINGS = ("roc_auc", "accuracy")


def loss_mia_auc(forget_loss, test_loss, *, seed: int = 0, n_splits: int = 10,
                 scoring: str = "roc_auc", standardize: bool = False) -> float:
    """The NeurIPS 2023 unlearning-challenge kit's loss attack, as a mean cross-validated ROC AUC.

    Following the kit's ``simple_mia``: the larger of the two sets is subsampled (seeded) to the size of
    the smaller one, the losses are the only feature, the attacker is a default
    ``sklearn.linear_model.LogisticRegression()`` (solved exactly by :func:`logistic_regression_1d`),
    and it is scored on each of ``StratifiedShuffleSplit(n_splits, random_state=seed)`` (10 % held out
    per split). Forget = 1,
    test = 0. The kit printed the mean *accuracy* (``scoring="accuracy"`` reproduces that); the default
    here is the mean ROC AUC, which does not depend on the attacker's threshold. 0.5 means the forget
    losses are indistinguishable from unseen ones; compare with the retrained model's value.

    Args:
        forget_loss, test_loss: 1-D per-example losses (e.g. :func:`true_label_loss`), each with at least
            10 entries (so that every 10 % test fold holds both classes).
        seed: seeds the subsampling and the splits.
        n_splits: number of shuffle splits (≥ 2).
        scoring: ``"roc_auc"`` (default) or ``"accuracy"``.
        standardize: z-score the losses (fitted on each training fold) before the logistic regression.
            The kit does not. (With the kit's generic solver, tiny losses could stop the attacker at
            w = 0 and score exactly 0.5; the exact solver here keeps the sign of the tiny optimal weight.)
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedShuffleSplit

    forget = check_array("forget_loss", forget_loss, 1)
    test = check_array("test_loss", test_loss, 1)
    n_splits = check_int("n_splits", n_splits, low=2)
    if scoring not in LOSS_MIA_SCORINGS:
        raise ValueError(f"scoring must be one of {LOSS_MIA_SCORINGS}, got {scoring!r}")
    for name, arr in (("forget_loss", forget), ("test_loss", test)):
        if len(arr) < 10:
            raise ValueError(f"{name} needs at least 10 examples for a cross-validated attack, got {len(arr)}")
    seed = check_int("seed", seed, low=0)
    rng = np.random.default_rng(seed)
    m = min(len(forget), len(test))
    forget = forget if len(forget) == m else forget[rng.choice(len(forget), m, replace=False)]
    test = test if len(test) == m else test[rng.choice(len(test), m, replace=False)]
    x = np.concatenate([forget, test])
    y = np.concatenate([np.ones(m, dtype=np.int64), np.zeros(m, dtype=np.int64)])
    cv = StratifiedShuffleSplit(n_splits=int(n_splits), random_state=seed)
    scores = []
    for train, held in cv.split(x.reshape(-1, 1), y):
        x_tr, x_te = x[train], x[held]
        if standardize:
            mu, sd = x_tr.mean(), x_tr.std()
            sd = sd if sd > 0 else 1.0
            x_tr, x_te = (x_tr - mu) / sd, (x_te - mu) / sd
        w, b = logistic_regression_1d(x_tr, y[train])
        decision = w * x_te + b
        if scoring == "accuracy":
            scores.append(float(np.mean((decision > 0) == (y[held] == 1))))
        else:
            scores.append(float(roc_auc_score(y[held] == 1, decision)))
    return float(np.mean(scores))


def logistic_regression_1d(x: np.ndarray, y: np.ndarray, *, C: float = 1.0, tol: float = 1e-10,
                           max_iter: int = 100) -> tuple[float, float]:
    """Weight and intercept of L2-regularized logistic regression on one feature, by Newton's method.

    Minimizes C·Σ log(1 + exp(−s_i (w x_i + b))) + w²/2 with s_i = ±1 and the intercept unpenalized: the
    objective of scikit-learn's default ``LogisticRegression()`` (C = 1), solved exactly (two parameters,
    a strictly convex objective) and a thousand times faster than a generic solver, which matters when an
    attack is cross-validated for every model of every experiment.
    """
    x = check_array("x", x, 1)
    t = check_array("y", y, 1)
    if len(t) != len(x):
        raise ValueError(f"y has {len(t)} labels but x has {len(x)} values")
    if not np.isin(t, (0.0, 1.0)).all():
        raise ValueError("y must hold 0/1 labels")
    C = check_number("C", C, low=0.0, low_open=True)
    tol = check_number("tol", tol, low=0.0, low_open=True)
    max_iter = check_int("max_iter", max_iter, low=1)
    w = b = 0.0
    for _ in range(max_iter):
        p = 0.5 * (1.0 + np.tanh(0.5 * (w * x + b)))  # stable sigmoid
        r = p - t
        grad = np.array([C * np.dot(r, x) + w, C * r.sum()])
        h = C * p * (1.0 - p)
        hess = np.array([[np.dot(h, x * x) + 1.0, np.dot(h, x)], [np.dot(h, x), h.sum() + 1e-12]])
        step = np.linalg.solve(hess, grad)
        w, b = w - step[0], b - step[1]
        if np.abs(step).max() < tol:
            break
    return float(w), float(b)


# ------------------------------------------------------------------------------------------------ ROC
def _scores_and_members(scores, is_member) -> tuple[np.ndarray, np.ndarray]:
    s = check_array("scores", scores, 1)
    if is_member is None or isinstance(is_member, (str, bytes, Mapping)):
        raise TypeError(f"is_member must be a boolean array, got {type(is_member).__name__}")
    m = np.asarray(is_member.detach().cpu().numpy() if hasattr(is_member, "detach") else is_member)
    if m.dtype != bool:
        if not np.issubdtype(m.dtype, np.number):
            raise TypeError(f"is_member must be a boolean array, got dtype {m.dtype}")
        if not np.isin(m, (0, 1)).all():
            raise ValueError("is_member must be boolean (or 0/1); got values other than 0 and 1")
        m = m.astype(bool)
    if m.ndim != 1:
        raise ValueError(f"is_member must be 1-dimensional, got shape {m.shape}")
    if len(m) != len(s):
        raise ValueError(f"scores and is_member have different lengths: {len(s)} vs {len(m)}")
    if m.all() or not m.any():
        raise ValueError("is_member must contain both members (True) and non-members (False)")
    return s, m


def roc_curve(scores, is_member) -> tuple[np.ndarray, np.ndarray]:
    """ROC curve of the attack "member iff score ≥ t" over all thresholds t: ``(fpr, tpr)`` arrays.

    Both start at 0 and end at 1 and are non-decreasing; tied scores form a single point.
    """
    from sklearn.metrics import roc_curve as _roc

    s, m = _scores_and_members(scores, is_member)
    fpr, tpr, _ = _roc(m, s, drop_intermediate=False)
    return fpr, tpr


def auc(scores, is_member) -> float:
    """Area under the ROC curve of ``scores`` (higher = member) against ``is_member``.

    Note that this takes scores and labels, not an ``(fpr, tpr)`` pair. 0.5 is chance; ties count half.
    """
    from sklearn.metrics import roc_auc_score

    s, m = _scores_and_members(scores, is_member)
    return float(roc_auc_score(m, s))


def tpr_at_fpr(scores, is_member, fpr):
    """The highest true-positive rate over thresholds whose false-positive rate is at most ``fpr``.

    This is the usual "TPR at low FPR" of Carlini et al. (2022), read off :func:`roc_curve`. With few
    non-members, FPRs below 1/#non-members can only be met by the threshold that accepts nothing, so the
    answer is 0 unless the top-scoring examples are all members.

    Args:
        fpr: a number in [0, 1], or a 1-D array of them (then an array is returned).
    """
    f, t = roc_curve(scores, is_member)
    targets = check_numeric("fpr", fpr).astype(np.float64)
    if targets.ndim > 1:
        raise ValueError(f"fpr must be a number or a 1-D array, got shape {targets.shape}")
    if targets.size == 0:
        raise ValueError("fpr is empty")
    if not ((targets >= 0) & (targets <= 1)).all():  # also rejects NaN
        raise ValueError(f"fpr must lie in [0, 1], got {targets.tolist()}")
    # f is non-decreasing and t with it, so the answer is t at the last index with f ≤ target.
    idx = np.searchsorted(f, targets, side="right") - 1
    out = t[idx]
    return float(out) if targets.ndim == 0 else out


def attack_summary(scores, is_member, fprs=(1e-3, 1e-2)) -> dict[str, float]:
    """One row describing an attack: ``{"AUC": ..., "TPR @ 0.1% FPR": ..., "TPR @ 1% FPR": ...}``.

    AUC measures the average case; TPR at a low FPR measures what matters for privacy, whether *some*
    examples are identified with confidence (Carlini et al. 2022). Keys for ``fprs`` are written as
    percentages (``1e-3`` → ``"TPR @ 0.1% FPR"``), in the order given.
    """
    rates = check_numeric("fprs", fprs).astype(np.float64)
    if rates.ndim != 1:
        raise ValueError(f"fprs must be a 1-D sequence of rates, got shape {rates.shape}")
    tprs = tpr_at_fpr(scores, is_member, rates)
    return {"AUC": auc(scores, is_member),
            **{f"TPR @ {100 * r:g}% FPR": float(t) for r, t in zip(rates, tprs, strict=True)}}
