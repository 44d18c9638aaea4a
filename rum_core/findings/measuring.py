"""What chapter 3 (``book/03_measuring.ipynb``, "Measuring forgetting") cites: accuracy against what a
membership-inference attacker sees, from the paper's SVC attack to LiRA and U-LiRA with shadow models.

Every measure of the chapter has the retrained model's value as its target, so most findings here compare a
method with ``retrain`` (or with ``identity``, doing nothing) rather than ranking raw values.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy.stats import spearmanr

from ..stats import summarize
from ..validation import check_array, check_choice, check_frame, check_int, check_number
from ._summary import attack_rows, by_method, membership, n_seeds

__all__ = ["accuracy_alone", "mia_gap_extremes", "seed_confidences", "lira", "ulira", "every_measure"]

#: The attack summary entries the chapter cites (keys of :func:`rum_core.metrics.attack_summary` for the
#: false-positive rates 1e-3 and 1e-2).
AUC, TPR_1, TPR_01 = "AUC", "TPR @ 1% FPR", "TPR @ 0.1% FPR"
#: The names of the chapter's three membership attacks, rows of the table :func:`lira` reads.
LIRA_ATTACKS = {"on": "LiRA (online)", "off": "LiRA (offline)", "glob": "global threshold"}


def accuracy_alone(summary) -> dict[str, object]:
    """What accuracy says about the retrained model and about doing nothing, the chapter's opening point:
    on a random forget set the two barely differ, so accuracy cannot tell forgetting from not forgetting.

    Args:
        summary: one row per method of ``stats.summarize(runs, "method", ["forget", "test", "tow"])`` (with its
            ``n`` column), including ``retrain`` and ``identity``.

    Returns:
        ``n_seeds`` (seeds per mean); ``id_forget_acc`` and ``re_forget_acc``: forget-set accuracy of doing
        nothing and of retraining, in percent; ``re_test_acc``: retraining's test accuracy in percent (the
        level its forget accuracy should be compared with); ``id_tow``: the ToW of doing nothing.

    Raises:
        TypeError: not a DataFrame, or a metric column holds no numbers.
        ValueError: a column missing, a method twice, ``retrain`` or ``identity`` missing, or rows averaging
            different numbers of seeds.
    """
    by = by_method("summary", summary, ["forget", "test", "tow"], rows=["retrain", "identity"])
    return {
        "n_seeds": n_seeds("summary", summary),
        "id_forget_acc": 100 * float(by.loc["identity", "forget"]),
        "re_forget_acc": 100 * float(by.loc["retrain", "forget"]),
        "re_test_acc": 100 * float(by.loc["retrain", "test"]),
        "id_tow": float(by.loc["identity", "tow"]),
    }


def mia_gap_extremes(runs) -> dict[str, str]:
    """The two unlearning methods the chapter looks at closely: ``loud``, the one with the largest mean MIA
    gap over the seeds (its forget set stands out most to the SVC attacker), and ``quiet``, the one with the
    smallest (the paper's measure calls it closest to retraining; U-LiRA then audits it).

    ``retrain`` (the reference, gap 0 by definition) and ``identity`` (doing nothing) are not candidates.
    Ties go to the method whose runs come first.

    Args:
        runs: per-seed runs with ``method`` and ``mia_gap`` columns (``experiments.unlearning_runs``).

    Raises:
        TypeError: not a DataFrame, or ``mia_gap`` holds no numbers.
        ValueError: a column missing, no method besides ``retrain`` and ``identity``, or a method whose
            ``mia_gap`` is NaN for some seeds only.
    """
    runs = check_frame("runs", runs, ["method"], numeric=["mia_gap"])
    candidates = runs[~runs["method"].isin(["retrain", "identity"])]
    if candidates.empty:
        raise ValueError("runs has no method besides 'retrain' and 'identity' to pick from")
    gaps = summarize(candidates, "method", ["mia_gap"])
    if gaps["mia_gap"].isna().all():
        raise ValueError("runs['mia_gap'] is NaN for every candidate method: nothing to pick")
    return {"loud": str(gaps.loc[gaps["mia_gap"].idxmax(), "method"]),
            "quiet": str(gaps.loc[gaps["mia_gap"].idxmin(), "method"])}


def seed_confidences(phi, mia, true_label_confidence) -> dict[str, float]:
    """What the attacker sees on one seed: the median logit-scaled confidence φ of the original, retrained
    and unlearned models on the forget and test sets, their SVC MIA efficacy, and how saturated the SVC's
    feature is.

    Args:
        phi: exactly three models, **in the order original, retrained, unlearned** (the glue names' prefixes
            ``orig``, ``re``, ``un``), each mapping set name → per-example φ, with at least ``"forget"`` and
            ``"test"``.
        mia: the same three model names → the model's MIA efficacy on the forget set (in [0, 1]).
        true_label_confidence: the original model's true-label probabilities p_y on the retain set (the
            SVC's feature), in [0, 1].

    Returns:
        For each prefix ``orig``, ``re``, ``un`` in turn: ``<prefix>_phi_forget`` and ``<prefix>_phi_test``
        (medians: robust to the long tails of φ) and ``<prefix>_mia_seed``; then ``frac_saturated``: the
        percentage of the retain set with p_y > 0.99, where an RBF kernel on p_y cannot separate values.

    Raises:
        TypeError: ``phi`` or ``mia`` (or an entry of ``phi``) is not a mapping, or values are not numbers.
        ValueError: not three models, ``mia`` naming other models, a set missing, empty or non-finite
            arrays, or values outside [0, 1].
    """
    for name, value in (("phi", phi), ("mia", mia)):
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a mapping model name → values, got {type(value).__name__}")
    if len(phi) != 3:
        raise ValueError(f"phi must hold exactly three models (original, retrained, unlearned), got {list(phi)}")
    if set(mia) != set(phi):
        raise ValueError(f"mia must name the models of phi {list(phi)}, got {list(mia)}")
    p_y = check_array("true_label_confidence", true_label_confidence, 1)
    if p_y.min() < 0 or p_y.max() > 1:
        raise ValueError("true_label_confidence must hold probabilities in [0, 1], got values in "
                         f"[{p_y.min():.3g}, {p_y.max():.3g}]")
    out: dict[str, float] = {}
    for prefix, (model, sets) in zip(("orig", "re", "un"), phi.items(), strict=True):
        if not isinstance(sets, Mapping):
            raise TypeError(f"phi[{model!r}] must be a mapping set name → values, got {type(sets).__name__}")
        for split in ("forget", "test"):
            if split not in sets:
                raise ValueError(f"phi[{model!r}] has no {split!r} set; it has {list(sets)}")
            values = check_array(f"phi[{model!r}][{split!r}]", sets[split], 1)
            out[f"{prefix}_phi_{split}"] = float(np.median(values))
        out[f"{prefix}_mia_seed"] = check_number(f"mia[{model!r}]", mia[model], low=0.0, high=1.0)
    out["frac_saturated"] = 100 * float(np.mean(p_y > 0.99))
    return out


def lira(table, is_member, *, n_shadows: int, n_targets: int) -> dict[str, object]:
    """How well the per-example LiRA attack identifies members compared with one global threshold.

    Args:
        table: attack name → :func:`rum_core.metrics.attack_summary` row (false-positive rates 1e-3 and 1e-2)
            for the three attacks of :data:`LIRA_ATTACKS`: ``"LiRA (online)"``, ``"LiRA (offline)"`` and
            ``"global threshold"``.
        is_member: the membership labels the attacks were scored against (True: the target trained on the
            example), pooled over the targets.
        n_shadows: shadow models trained; n_targets: how many of them played the target in turn.

    Returns:
        ``n_shadows``, ``n_targets``, ``n_nonmembers`` (non-member scores: what the low false-positive rates
        are measured on, so 0.1% of it is how few examples decide that end of the curve); for each attack
        ``lira_<key>_auc``, ``lira_<key>_tpr1`` and ``lira_<key>_tpr01`` (AUC; TPR at 1% and 0.1% FPR in
        percent) with key ``on``, ``off``, ``glob``; ``lira_verdict``: the sentence the prose ends on. It
        credits per-example calibration when online LiRA's TPR at 1% FPR is more than twice the global
        threshold's: at a low false-positive rate, a factor of two is a difference in kind (identifying some
        members with confidence), not noise around the average.

    Raises:
        TypeError: ``table`` not a mapping of mappings, ``is_member`` not boolean, counts not integers.
        ValueError: an attack or entry missing, a rate outside [0, 1], ``is_member`` not 1-D or one-sided,
            or more targets than shadow models.
    """
    rows = attack_rows("table", table, list(LIRA_ATTACKS.values()), [AUC, TPR_1, TPR_01])
    member = membership("is_member", is_member)
    n_shadows = check_int("n_shadows", n_shadows, low=2)
    n_targets = check_int("n_targets", n_targets, low=1, high=n_shadows)
    out: dict[str, object] = {"n_shadows": n_shadows, "n_targets": n_targets,
                              "n_nonmembers": int((~member).sum())}
    for key, attack in LIRA_ATTACKS.items():
        out[f"lira_{key}_auc"] = rows[attack][AUC]
        out[f"lira_{key}_tpr1"] = 100 * rows[attack][TPR_1]
        out[f"lira_{key}_tpr01"] = 100 * rows[attack][TPR_01]
    calibrated = rows[LIRA_ATTACKS["on"]][TPR_1] > 2 * rows[LIRA_ATTACKS["glob"]][TPR_1]
    out["lira_verdict"] = ("Per-example calibration is what turns a weak average signal into confident "
                           "identification of a few examples." if calibrated else "Here per-example "
                           "calibration gains little over the global threshold at low false-positive rates.")
    return out


def ulira(table, runs, *, method: str, n_models: int) -> dict[str, object]:
    """U-LiRA's audit of the method with the smallest MIA gap (``method``, the chapter's ``quiet``), with
    doing nothing (``identity``) alongside: can a per-example attack tell its models from retrained ones?

    Args:
        table: ``method`` and ``"identity"`` → :func:`rum_core.metrics.attack_summary` row (with ``"AUC"`` and
            ``"TPR @ 1% FPR"``) of U-LiRA, "unlearned" (or original) models against retrained ones.
        runs: the per-seed runs (``method``, ``mia_gap``), for doing nothing's mean MIA gap.
        method: the audited unlearning method (not ``identity``).
        n_models: shadow models per population.

    Returns:
        ``n_ulira`` (``n_models``); ``ulira_q_auc``, ``ulira_q_tpr1`` and ``ulira_id_auc``,
        ``ulira_id_tpr1``: AUC and TPR at 1% FPR (in percent) for ``method`` and ``identity``; ``ulira_cmp``:
        ``"more easily than"`` when ``method``'s AUC exceeds doing nothing's (an unlearner easier to spot than
        no unlearning at all), else ``"less easily than"``; ``identity_gap_early``: doing nothing's mean MIA
        gap over the runs, the contrast the prose draws; ``ulira_verdict``: whether the small MIA gap holds up
        example by example. An AUC above 0.6 is read as distinguishable: at a handful of models per
        population, AUCs within 0.1 of chance (0.5) are within the noise of the audit.

    Raises:
        TypeError: ``table`` not a mapping of mappings, ``runs`` not a DataFrame, ``method`` not a string,
            ``n_models`` not an integer.
        ValueError: ``method`` is ``identity``, a row, entry or column missing, a rate outside [0, 1],
            ``identity`` absent from ``runs``, or ``n_models`` below 2.
    """
    if not isinstance(method, str):
        raise TypeError(f"method must be a method name, got {type(method).__name__}")
    if method == "identity":
        raise ValueError("method must name the audited unlearning method, not 'identity' (its comparison)")
    rows = attack_rows("table", table, [method, "identity"], [AUC, TPR_1])
    runs = check_frame("runs", runs, ["method"], numeric=["mia_gap"])
    identity = runs.loc[runs["method"] == "identity", "mia_gap"]
    if identity.empty:
        raise ValueError(f"runs has no 'identity' rows; its methods are {sorted(map(str, runs['method'].unique()))}")
    n_models = check_int("n_models", n_models, low=2)
    auc_q, auc_id = rows[method][AUC], rows["identity"][AUC]
    return {
        "n_ulira": n_models,
        "ulira_q_auc": auc_q,
        "ulira_q_tpr1": 100 * rows[method][TPR_1],
        "ulira_id_auc": auc_id,
        "ulira_id_tpr1": 100 * rows["identity"][TPR_1],
        "ulira_cmp": "more easily than" if auc_q > auc_id else "less easily than",
        "identity_gap_early": float(identity.mean()),
        "ulira_verdict": (f"A small MIA gap therefore does not make {method} indistinguishable from retraining "
                          f"example by example." if auc_q > 0.6 else
                          f"Here the per-example attack, too, finds {method} hard to tell apart from retraining."),
    }


#: The columns of the chapter's final summary that :func:`every_measure` reads.
MEASURES = ["tow", "tow_mia", "mia", "mia_ci", "mia_gap", "mia_gap_ci", "loss_auc", "loss_auc_ci"]


def every_measure(summary, *, quiet: str, loud: str) -> dict[str, object]:
    """Every method scored by every shadow-free measure, against retraining: the findings of the chapter's
    last section.

    Args:
        summary: one row per method, including ``retrain`` and ``identity``, of ``stats.summarize(runs,
            "method", [...])`` with the means and ``_ci`` half-widths of :data:`MEASURES`. Lists of methods
            come in the order of ToW-MIA, best first (the order of the chapter's table and figures); ties
            keep the summary's order.
        quiet, loud: the methods with the smallest and largest mean MIA gap (:func:`mia_gap_extremes`).

    Returns:
        In order:

        * ``quiet_gap``, ``quiet_gap_ci``, ``loud_gap``, ``loud_gap_ci``: their MIA gaps ± 95% half-width;
          ``loud_mia``: ``loud``'s MIA efficacy;
        * ``target_mia``, ``target_mia_ci``: the retrained model's MIA efficacy ± half-width, the target every
          method should *match*; ``identity_gap``: doing nothing's MIA gap;
        * ``over``, ``n_over``: methods whose mean MIA efficacy lies above the target's interval
          (over-forgetting: the forget set looks less like training data than unseen data does) and how
          many; ``under``, ``n_under``: below it; ``"none"`` for an empty list. A method inside the interval
          is indistinguishable from the target at this number of seeds;
        * ``n_methods``: the methods compared (all but ``retrain``, ``identity`` included);
        * ``rho``: Spearman's rank correlation between their mean ToW and mean ToW-MIA; ``rank_verdict``:
          identical rankings only when ρ = 1 (to rounding, 1e-9);
        * ``best_tow``, ``best_tow_mia``: the best method by each (ties: the earlier in ToW-MIA order);
          ``best_same``: whether they are the same method;
        * ``drop_method``, ``drop_tow``, ``drop_tow_mia``: the method whose score falls most from ToW to
          ToW-MIA, with both scores; ``drop_reason``: a fall of more than 0.05 (5 points of a score in
          [0, 1]) is read as the attacker seeing what accuracy hides, a smaller one as the two agreeing;
        * ``retrain_loss_auc``, ``retrain_loss_auc_ci``: the loss attack's AUC on retrained models (the target
          on that scale); ``loss_far``, ``loss_far_auc``: the method whose mean AUC lies farthest from it.

    Raises:
        TypeError: ``summary`` not a DataFrame, a measure column not numeric.
        ValueError: a column missing, a method twice, ``retrain``, ``identity``, ``quiet`` or ``loud`` missing
            (or ``quiet``/``loud`` naming ``retrain``), or no loss-attack AUC known.
    """
    for name, value in (("quiet", quiet), ("loud", loud)):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a method name, got {type(value).__name__}")
    by = by_method("summary", summary, MEASURES, rows=["retrain", "identity", quiet, loud])
    by = by.sort_values("tow_mia", ascending=False, kind="stable")
    methods = [m for m in by.index if m != "retrain"]
    check_choice("quiet", quiet, methods)
    check_choice("loud", loud, methods)
    ranked = by.drop(index=["retrain"])
    target, target_ci = float(by.loc["retrain", "mia"]), float(by.loc["retrain", "mia_ci"])
    over = [m for m in ranked.index if ranked.loc[m, "mia"] > target + target_ci]
    under = [m for m in ranked.index if ranked.loc[m, "mia"] < target - target_ci]
    rho = float(spearmanr(ranked["tow"], ranked["tow_mia"]).statistic)
    best_tow, best_tow_mia = str(ranked["tow"].idxmax()), str(ranked["tow_mia"].idxmax())
    drop = ranked["tow"] - ranked["tow_mia"]
    dropped = drop.idxmax()
    distance = (ranked["loss_auc"] - by.loc["retrain", "loss_auc"]).abs()
    if distance.isna().all():
        raise ValueError("summary['loss_auc'] is unknown (NaN) for retrain or for every method: no method is "
                         "farthest from retraining on the loss attack's scale")
    far = str(distance.idxmax())
    return {
        "quiet_gap": float(by.loc[quiet, "mia_gap"]),
        "quiet_gap_ci": float(by.loc[quiet, "mia_gap_ci"]),
        "loud_gap": float(by.loc[loud, "mia_gap"]),
        "loud_gap_ci": float(by.loc[loud, "mia_gap_ci"]),
        "loud_mia": float(by.loc[loud, "mia"]),
        "target_mia": target,
        "target_mia_ci": target_ci,
        "identity_gap": float(by.loc["identity", "mia_gap"]),
        "over": ", ".join(over) or "none",
        "n_over": len(over),
        "under": ", ".join(under) or "none",
        "n_under": len(under),
        "n_methods": len(ranked),
        "rho": rho,
        "rank_verdict": "rank the methods identically" if rho > 1 - 1e-9 else "do not rank the methods the same",
        "best_tow": best_tow,
        "best_tow_mia": best_tow_mia,
        "best_same": "the same method" if best_tow == best_tow_mia else "different methods",
        "drop_method": str(dropped),
        "drop_tow": float(ranked.loc[dropped, "tow"]),
        "drop_tow_mia": float(ranked.loc[dropped, "tow_mia"]),
        "drop_reason": "its accuracies are close to retraining's while its forget set stands out to the attacker"
        if drop[dropped] > 0.05 else "a small change: here the two scores mostly agree",
        "retrain_loss_auc": float(by.loc["retrain", "loss_auc"]),
        "retrain_loss_auc_ci": float(by.loc["retrain", "loss_auc_ci"]),
        "loss_far": far,
        "loss_far_auc": float(by.loc[far, "loss_auc"]),
    }
