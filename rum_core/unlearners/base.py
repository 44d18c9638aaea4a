"""The interface every unlearning method shares, and the registry behind :func:`make`.

An unlearner is configured once with its hyperparameters and then called on
``(model, bundle, forget_idx, retain_idx, seed=...)``. It works on a deep copy, so the model it is given
is never changed, and returns an :class:`Unlearned` record: the new model plus what it cost (wall time
and per-example gradient evaluations, i.e. forward + backward passes per example).

A method is a subclass of :class:`Unlearner` with a registry ``name``, a docstring saying what it does, its
``loss``, its ``citation``, its ``defaults`` (the paper's) with ``hparam_docs`` saying what each means and
where its default comes from, and an ``_unlearn`` that edits ``ctx.model`` in place or replaces it.
:func:`register` refuses a method that leaves any of these out and appends them to the class docstring in
one fixed layout, so ``help(make("salun"))`` shows the method, its loss, every hyperparameter with its
default and the citation (and ``inspect.signature`` the hyperparameters as keyword arguments).
"""

from __future__ import annotations

import copy
import inspect
import textwrap
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from ..data import DataBundle, check_split
from ..models import Classifier
from ..training import TRAIN_CHECKS, TrainConfig, check_finite_model
from ..validation import check_int

__all__ = ["Unlearner", "Unlearned", "UnlearnContext", "register", "make", "available", "TRAIN_DEFAULTS",
           "TRAIN_HPARAM_DOCS", "PAPER", "HPARAMS_HEADING"]

#: Shared optimizer settings of the paper's unlearners: SGD, momentum 0.9, weight decay 5e-4, batch 256, and a
#: CONSTANT learning rate. The authors' scripts wrap SGD in MultiStepLR with milestones 91 and 136, far beyond
#: the 5-10 unlearning epochs, so their rate never changes; a cosine decay over the run would halve the mean
#: rate (measured at the default profile, seeds 0-2, cosine vs constant: SalUn ToW 0.967 vs 0.887, NegGrad+
#: 0.640 vs 0.544). ``schedule="cosine"`` stays available. The
#: original model and its ``retrain`` reference follow the paper's training recipe, which is cosine.
TRAIN_DEFAULTS: dict[str, Any] = {"batch_size": 256, "momentum": 0.9, "weight_decay": 5e-4,
                                  "schedule": "constant", "augment": None}

#: What each shared hyperparameter of :data:`TRAIN_DEFAULTS` means and where its default comes from; a method
#: overrides an entry in its ``hparam_docs`` where its default differs.
TRAIN_HPARAM_DOCS: dict[str, str] = {
    "batch_size": "mini-batch size (the authors' scripts: 256)",
    "momentum": "SGD momentum (the authors' scripts: 0.9)",
    "weight_decay": "SGD weight decay (the authors' scripts: 5e-4)",
    "schedule": "learning-rate schedule over the run, 'constant' or 'cosine' (the authors' rate is constant: "
                "their MultiStepLR milestones 91 and 136 lie beyond the unlearning epochs)",
    "augment": "training-time augmentation, None or 'crop_flip' (the profiles pass their dataset's: "
               "random crop + flip for CIFAR, as the authors' transform)",
}

#: The paper this package reproduces, cited by the methods whose defaults it fixes.
PAPER = ("Zhao, Kurmanji, Barbulescu, E. Triantafillou and P. Triantafillou (2024), \"What makes unlearning "
         "hard and what to do about it\", NeurIPS (arXiv 2406.01257)")

#: The heading under which every method's docstring lists ``name = default: meaning`` lines, one per
#: hyperparameter (continuation lines indented further), in a layout tests and tools can parse.
HPARAMS_HEADING = "Hyperparameters (name = default: meaning, and where the default comes from):"

_REGISTRY: dict[str, type[Unlearner]] = {}


@dataclass
class Unlearned:
    """The result of one unlearning run."""

    model: Classifier
    method: str
    hparams: dict
    seconds: float
    grad_evals: int
    extras: dict = field(default_factory=dict)  # what a method records about its run (e.g. SCRUB's max epochs)

    def cost(self) -> dict[str, float]:
        return {"seconds": self.seconds, "grad_evals": self.grad_evals}


@dataclass
class UnlearnContext:
    """Everything a method sees: a private copy of the model, the data, validated index sets, the seed."""

    model: Classifier
    bundle: DataBundle
    forget: np.ndarray
    retain: np.ndarray
    seed: int
    device: torch.device
    progress_bar: bool | None
    grad_evals: int = 0
    seconds: float | None = None  # set by a method whose cost is not its wall time (e.g. a cached retrain)
    extras: dict = field(default_factory=dict)


class Unlearner:
    """Base class: validates hyperparameters and inputs, copies the model, measures the cost."""

    name: ClassVar[str] = ""
    #: The objective the method minimizes (or the update it applies), as one formula with its symbols.
    loss: ClassVar[str] = ""
    #: The paper(s) the method comes from.
    citation: ClassVar[str] = ""
    defaults: ClassVar[Mapping[str, Any]] = {}
    #: Meaning and source of each default not described by :data:`TRAIN_HPARAM_DOCS`.
    hparam_docs: ClassVar[Mapping[str, str]] = {}
    #: ``check(name, value) -> value`` (type and range) of each hyperparameter not covered by
    #: :data:`rum_core.training.TRAIN_CHECKS`; applied by ``__init__`` before any work.
    hparam_checks: ClassVar[Mapping[str, Callable[[str, Any], Any]]] = {}

    def __init__(self, **hparams):
        """Configure the method; every hyperparameter is checked by type and range here, before any work.

        Raises:
            ValueError: an unknown hyperparameter (listing the valid ones), a value out of range or NaN.
            TypeError: a value of the wrong type (``epochs=2.7``, ``epochs="3"``, ``lr=True``).
        """
        unknown = sorted(set(hparams) - set(self.defaults))
        if unknown:
            raise ValueError(f"unknown hyperparameter(s) {unknown} for {self.name!r}; "
                             f"valid: {sorted(self.defaults)}")
        checks = {**TRAIN_CHECKS, **self.hparam_checks}
        self.hparams: dict[str, Any] = {key: checks[key](key, value)
                                        for key, value in {**self.defaults, **hparams}.items()}

    def __repr__(self) -> str:
        changed = {k: v for k, v in self.hparams.items() if self.defaults.get(k) != v}
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"make({self.name!r}{', ' if args else ''}{args})"

    def train_config(self) -> TrainConfig:
        """The SGD recipe described by this method's hyperparameters."""
        h = self.hparams
        return TrainConfig(epochs=int(h["epochs"]), lr=float(h["lr"]), batch_size=int(h["batch_size"]),
                           momentum=float(h["momentum"]), weight_decay=float(h["weight_decay"]),
                           schedule=h["schedule"], augment=h["augment"])

    def __call__(self, model: Classifier, bundle: DataBundle, forget_idx, retain_idx=None, *, seed: int = 0,
                 device=None, progress_bar: bool | None = None) -> Unlearned:
        """Unlearn ``forget_idx`` from ``model``; ``retain_idx`` defaults to the rest of ``bundle.train``.

        Raises:
            ValueError: for an empty forget set, out-of-range or duplicated indices, overlapping sets.
            TypeError: when ``model`` is not a rum_core Classifier or ``bundle`` not a DataBundle.
            FloatingPointError: the method diverged (non-finite weights); no model is returned.
        """
        if not isinstance(model, Classifier):
            raise TypeError(f"model must be a rum_core.models.Classifier, got {type(model).__name__}")
        if not isinstance(bundle, DataBundle):
            raise TypeError(f"bundle must be a rum_core.data.DataBundle, got {type(bundle).__name__}")
        if tuple(model.spec.input_shape) != tuple(bundle.input_shape) or model.spec.num_classes != bundle.num_classes:
            raise ValueError(f"model was built for inputs {model.spec.input_shape} with {model.spec.num_classes} "
                             f"classes, but the bundle has {bundle.input_shape} with {bundle.num_classes}")
        forget, retain = check_split(len(bundle.train), forget_idx, retain_idx)
        dev = torch.device(device) if device is not None else next(model.parameters()).device
        ctx = UnlearnContext(model=copy.deepcopy(model).to(dev), bundle=bundle, forget=forget, retain=retain,
                             seed=check_int("seed", seed, low=0), device=dev, progress_bar=progress_bar)
        start = time.perf_counter()
        self._unlearn(ctx)
        elapsed = time.perf_counter() - start
        ctx.model.eval()
        check_finite_model(ctx.model, f"unlearning with {self!r}")
        return Unlearned(model=ctx.model, method=self.name, hparams=dict(self.hparams),
                         seconds=elapsed if ctx.seconds is None else ctx.seconds, grad_evals=int(ctx.grad_evals),
                         extras=ctx.extras)

    def _unlearn(self, ctx: UnlearnContext) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def _hparam_docs(cls: type[Unlearner]) -> dict[str, str]:
    """Meaning and source of every hyperparameter of ``cls``: first those the method documents itself (its
    own and the shared ones it sets differently, in ``hparam_docs`` order), then the shared recipe's."""
    own = {k: doc for k, doc in cls.hparam_docs.items() if k in cls.defaults}
    shared = {k: TRAIN_HPARAM_DOCS[k] for k in cls.defaults if k in TRAIN_HPARAM_DOCS and k not in own}
    return {**own, **shared}


def _reference_doc(cls: type[Unlearner]) -> str:
    """The sections :func:`register` appends to a method's own docstring: loss, hyperparameters, citation."""
    wrap = lambda text, first, rest: textwrap.fill(" ".join(text.split()), 108, initial_indent=first,  # noqa: E731
                                                   subsequent_indent=rest, break_on_hyphens=False)
    lines = ["Loss:", wrap(cls.loss, "    ", "    "), "", HPARAMS_HEADING]
    docs = _hparam_docs(cls)
    lines += [wrap(f"{key} = {cls.defaults[key]!r}: {doc}", "    ", "        ") for key, doc in docs.items()]
    if not cls.defaults:
        lines.append("    (none)")
    lines += ["", "Reference:", wrap(cls.citation, "    ", "    "), "",
              wrap(f"Use: ``make({cls.name!r}, **hparams)(model, bundle, forget_idx, retain_idx, seed=0)`` "
                   f"returns an :class:`Unlearned`; the model given is never changed.", "", "")]
    return "\n".join(lines)


def register(cls: type[Unlearner]) -> type[Unlearner]:
    """Class decorator adding a method to the registry under ``cls.name``.

    It also completes the method's documentation: the class docstring gets its loss, every hyperparameter
    as ``name = default: meaning`` and its citation appended (:func:`_reference_doc`), and the class an
    ``inspect.Signature`` listing the hyperparameters as keyword-only arguments with their defaults.

    Raises:
        ValueError: an empty or already registered name.
        TypeError: a method without a docstring, ``loss`` or ``citation``, or whose ``hparam_docs`` or
            ``hparam_checks`` miss a hyperparameter or name one it does not have.
    """
    if not cls.name or cls.name in _REGISTRY:
        raise ValueError(f"unlearner name {cls.name!r} is empty or already registered")
    own_doc = cls.__dict__.get("__doc__")
    missing = [what for what, value in (("a docstring", own_doc), ("loss", cls.loss), ("citation", cls.citation))
               if not (value or "").strip()]
    undocumented = sorted(set(cls.defaults) - set(_hparam_docs(cls)))
    stale = sorted((set(cls.hparam_docs) | set(cls.hparam_checks)) - set(cls.defaults))
    unchecked = sorted(set(cls.defaults) - set(TRAIN_CHECKS) - set(cls.hparam_checks))
    if missing or undocumented or stale or unchecked:
        raise TypeError(f"unlearner {cls.name!r} is not fully documented: missing {missing}, hyperparameters "
                        f"without hparam_docs {undocumented} or without hparam_checks {unchecked}, docs or "
                        f"checks of unknown hyperparameters {stale}")
    cls.__doc__ = f"{inspect.cleandoc(own_doc)}\n\n{_reference_doc(cls)}\n"
    cls.__signature__ = inspect.Signature([inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY,
                                                             default=cls.defaults[key]) for key in _hparam_docs(cls)])
    _REGISTRY[cls.name] = cls
    return cls


def available() -> list[str]:
    """Registry names of every unlearning method."""
    return sorted(_REGISTRY)


def make(name: str, **hparams) -> Unlearner:
    """Configure the method ``name`` with ``hparams`` overriding its defaults.

    Raises:
        ValueError: for an unknown method or hyperparameter, listing the valid ones.
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown unlearner {name!r}; available: {available()}")
    return _REGISTRY[name](**hparams)
