"""Metrics: pure functions over numbers and arrays first, thin helpers that take a model second."""

from .accuracy import SPLITS, accuracy, split_accuracies, tow
from .entanglement import ES_CENTERS, entanglement_of, entanglement_score
from .evaluate import (
    CONFIDENCE_KINDS,
    Evaluation,
    ModelReport,
    compare_reports,
    confidences,
    evaluate,
    model_logits,
    model_report,
    split_fingerprint,
)
from .lira import leave_one_out_lira, leave_one_out_ulira, lira_scores, membership_split, ulira_scores
from .mia import (
    SVC_PARAMS,
    attack_summary,
    auc,
    logit_confidence,
    loss_mia_auc,
    mia_efficacy,
    mia_gap,
    roc_curve,
    tow_mia,
    tpr_at_fpr,
    true_label_confidence,
    true_label_loss,
)

__all__ = ["SPLITS", "accuracy", "split_accuracies", "tow",
           "true_label_confidence", "logit_confidence", "true_label_loss", "mia_efficacy", "mia_gap",
           "tow_mia", "loss_mia_auc", "roc_curve", "auc", "tpr_at_fpr", "attack_summary", "SVC_PARAMS",
           "lira_scores", "ulira_scores", "membership_split", "leave_one_out_lira", "leave_one_out_ulira",
           "CONFIDENCE_KINDS", "model_logits", "confidences", "Evaluation", "evaluate", "ModelReport",
           "model_report", "compare_reports", "split_fingerprint",
           "entanglement_score", "entanglement_of", "ES_CENTERS"]
