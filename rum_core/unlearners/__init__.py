"""Unlearning methods behind one interface: ``make(name, **hparams)(model, bundle, forget, retain, seed=...)``.

>>> from rum_core import unlearners
>>> unlearners.available()  # doctest: +SKIP
['finetune', 'identity', 'influence', 'l1_sparse', 'neggrad', 'neggrad_plus', 'random_label', 'retrain', 'salun',
 'scrub']
"""

from . import (  # noqa: F401  (registers the methods)
    finetune,
    identity,
    influence,
    l1_sparse,
    neggrad,
    neggrad_plus,
    random_label,
    retrain,
    salun,
    scrub,
)
from .base import TRAIN_DEFAULTS, UnlearnContext, Unlearned, Unlearner, available, make, register

__all__ = ["Unlearner", "Unlearned", "UnlearnContext", "TRAIN_DEFAULTS", "available", "make", "register"]
