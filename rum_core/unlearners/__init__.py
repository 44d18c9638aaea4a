"""Unlearning methods behind one interface: ``make(name, **hparams)(model, bundle, forget, retain, seed=...)``.

>>> from rum_core import unlearners
>>> unlearners.available()  # doctest: +SKIP
['finetune', 'identity', 'retrain']
"""

from . import finetune, identity, retrain  # noqa: F401  (registers the methods)
from .base import TRAIN_DEFAULTS, Unlearned, UnlearnContext, Unlearner, available, make, register

__all__ = ["Unlearner", "Unlearned", "UnlearnContext", "TRAIN_DEFAULTS", "available", "make", "register"]
