"""Metrics: pure functions over numbers and arrays first, thin helpers that take a model second."""

from .accuracy import SPLITS, accuracy, split_accuracies, tow

__all__ = ["SPLITS", "accuracy", "split_accuracies", "tow"]
