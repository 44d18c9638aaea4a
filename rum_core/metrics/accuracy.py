"""Accuracy and the Tug-of-War score (ToW) of Zhao et al. (2024).

ToW(θᵘ, θʳ) = Π over D ∈ {forget, retain, test} of (1 − |a(θᵘ, D) − a(θʳ, D)|): 1 when the unlearned model
is as accurate as the retrained one on all three sets, lower the more it deviates in either direction.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
import torch

SPLITS = ("forget", "retain", "test")


def accuracy(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` that ``model`` classifies as ``y`` (eval mode, batched)."""
    from ..training import predict

    if len(x) != len(y):
        raise ValueError(f"x and y have different lengths: {len(x)} vs {len(y)}")
    if len(y) == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(np.mean(predict(model, x) == np.asarray(y)))


def split_accuracies(model: torch.nn.Module, bundle, forget_idx, retain_idx=None) -> dict[str, float]:
    """Accuracy on the forget set, the retain set and the test set: the three inputs of :func:`tow`."""
    from ..data import check_split

    forget, retain = check_split(len(bundle.train), forget_idx, retain_idx)
    f, r = bundle.train.subset(forget), bundle.train.subset(retain)
    return {"forget": accuracy(model, f.x, f.y), "retain": accuracy(model, r.x, r.y),
            "test": accuracy(model, bundle.test.x, bundle.test.y)}


def _checked_accuracies(name: str, accs: Mapping[str, float], keys=SPLITS) -> dict[str, float]:
    """The accuracies of ``keys`` (each required, in [0, 1]); any other split present must be one too,
    so that a forget accuracy of 1.5 is refused even by a formula that does not use it."""
    if not isinstance(accs, Mapping):
        raise TypeError(f"{name} must be a mapping with keys {list(keys)}, got {type(accs).__name__}")
    out = {}
    for key in keys:
        if key not in accs:
            raise ValueError(f"{name} is missing the key {key!r} (needs {list(keys)})")
        out[key] = _fraction(f"{name}[{key!r}]", accs[key])
    for key in SPLITS:
        if key in accs and key not in keys:
            _fraction(f"{name}[{key!r}]", accs[key])
    return out


def _fraction(name: str, value) -> float:
    """``value`` as a float in [0, 1] (an accuracy or an attack's success rate); errors name ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):  # "1" is not an accuracy
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    value = float(value)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} = {value} is not in [0, 1]")
    return value


def tow(unlearned: Mapping[str, float], retrained: Mapping[str, float]) -> float:
    """Tug-of-War: Π_{D ∈ forget, retain, test} (1 − |a_u(D) − a_r(D)|).

    Args:
        unlearned, retrained: mappings with keys ``"forget"``, ``"retain"``, ``"test"`` holding
            accuracies in [0, 1] (e.g. from :func:`split_accuracies`).

    Raises:
        ValueError: naming the key that is missing or outside [0, 1].
    """
    u = _checked_accuracies("unlearned", unlearned)
    r = _checked_accuracies("retrained", retrained)
    return float(np.prod([1.0 - abs(u[k] - r[k]) for k in SPLITS]))
