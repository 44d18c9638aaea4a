"""Profiles: the one place that maps ``RUM_PROFILE`` to data, model, training schedule and sizes.

``smoke``  seconds per chapter; used by the tests that execute the book.
``small``  the default and the book: scikit-learn's digits and a small MLP on a CPU, minutes.
``mnist1d`` MNIST-1D and a small 1-D CNN on a CPU: more visible memorization, a slower book.
``paper``  the paper's CIFAR-10 / ResNet-18 setting (45,000 train / 5,000 validation / 10,000 test, forget
           sets and ES groups of 3,000); needs a GPU and a one-off download, or a local copy of CIFAR-10
           named by ``RUM_DATA`` (``rum reproduce --data-root``), see :func:`rum_core.data.load`.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .data import ROOT_DATASETS
from .training import TrainConfig
from .validation import check_int, check_number

PROFILE_ENV = "RUM_PROFILE"
DEFAULT_PROFILE = "small"
#: Environment variable naming a local copy of a profile's dataset (read only by :func:`get_profile`).
DATA_ENV = "RUM_DATA"


@dataclass(frozen=True)
class Profile:
    """Everything an experiment needs to know about its scale.

    Attributes:
        name: the profile's name.
        dataset: a name accepted by :func:`rum_core.data.load`.
        model: a name accepted by :func:`rum_core.models.build`.
        model_kwargs: extra keyword arguments for the model builder.
        train: the recipe of the original model (also the recipe of ``retrain``).
        forget_fraction: size of a random forget set as a fraction of the training set.
        seeds: how many seeds a chapter averages over.
        unlearn: per-method hyperparameter overrides for this scale (method name → {name: value});
            the methods' own defaults are the paper's CIFAR values. See :meth:`method_hparams`.
        es_forget_size: size of each ES-controlled forget set (:func:`rum_core.partition.es_controlled`);
            ``None`` = the random forget set's size.
        memorization_models: how many models the memorization estimate trains
            (:func:`rum_core.experiments.estimate_for_profile`); ``None`` = use published scores instead.
        memorization_group_size: examples per memorization level (low / medium / high).
        val_size: training examples moved into a class-stratified validation split
            (:func:`rum_core.data.load`), the split model selection scores on; the paper's 45,000 / 5,000 /
            10,000 CIFAR-10 split has 5,000. The digits profiles keep the same 10%.
        data_root: where the dataset's files are (``root`` of :func:`rum_core.data.load`: torchvision's
            layout or an image folder), stored as an absolute path; ``None`` = torchvision's copy in the
            cache directory. Only for datasets read from files (:data:`rum_core.data.ROOT_DATASETS`).
            :func:`get_profile` fills it from ``$RUM_DATA``. Being a field, it is part of :meth:`as_dict`
            and so of every cache key built from the profile: results computed from one copy of the data
            are never reused for another (models are keyed by the data's content as well).
    """

    name: str
    dataset: str
    model: str
    train: TrainConfig
    model_kwargs: dict = field(default_factory=dict)
    forget_fraction: float = 0.1
    seeds: int = 3
    unlearn: dict = field(default_factory=dict)
    es_forget_size: int | None = None
    memorization_models: int | None = None
    memorization_group_size: int = 25
    val_size: int = 0
    data_root: str | None = None

    def __post_init__(self):
        if not isinstance(self.train, TrainConfig):
            raise TypeError(f"train must be a TrainConfig, got {type(self.train).__name__}")
        check_number("forget_fraction", self.forget_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
        check_int("seeds", self.seeds, low=1)
        check_int("memorization_group_size", self.memorization_group_size, low=1)
        check_int("val_size", self.val_size, low=0)
        for name in ("es_forget_size", "memorization_models"):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), low=1)
        if not isinstance(self.unlearn, dict) or not isinstance(self.model_kwargs, dict):
            raise TypeError("unlearn and model_kwargs must be dicts")
        if self.data_root is None:
            return
        if self.dataset not in ROOT_DATASETS:
            raise ValueError(f"profile {self.name!r} loads {self.dataset!r}, which reads no files: a data root "
                             f"is only for {', '.join(ROOT_DATASETS)}")
        object.__setattr__(self, "data_root", str(Path(self.data_root).expanduser().resolve()))

    def as_dict(self) -> dict:
        """A JSON-friendly description, used in cache keys and printed by the chapters."""
        return asdict(self)

    def method_hparams(self, method: str) -> dict:
        """Hyperparameters for ``unlearners.make(method, **...)`` at this profile's scale.

        ``retrain`` gets the original model's recipe; every other method gets the profile's batch size and
        augmentation (where it takes them) plus the profile's overrides for that method.
        """
        from . import unlearners

        valid = unlearners.make(method).hparams  # raises for an unknown method
        if method == "retrain":
            return self.train.as_dict()
        shared = {"batch_size": self.train.batch_size, "augment": self.train.augment}
        out = {k: v for k, v in shared.items() if k in valid}
        out.update(self.unlearn.get(method, {}))
        return out

    def memorization_model_count(self) -> int:
        """``memorization_models``, for code that must train them (the memorization estimate, LiRA's shadows).

        Raises:
            ValueError: the profile trains none (``memorization_models=None``, as ``paper``: thousands of
                ResNets are out of reach), saying how to get a profile that does.
        """
        if self.memorization_models is None:
            raise ValueError(
                f"profile {self.name!r} trains no memorization models (memorization_models=None); this needs "
                f"them. Use a profile that does ('small'), or choose a number yourself, e.g. "
                f"get_profile({self.name!r}, memorization_models=64); RUM's experiments can use published "
                f"scores instead (RUM_MEMORIZATION_SCORES)")
        return int(self.memorization_models)

    def describe(self) -> str:
        t = self.train
        data = self.dataset if self.data_root is None else f"{self.dataset} (from {self.data_root})"
        return (f"profile {self.name!r}: {data} + {self.model}, {t.epochs} epochs "
                f"(lr {t.lr}, batch {t.batch_size}), {self.seeds} seeds")


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke", dataset="digits", model="mlp", model_kwargs={"hidden": (64,)},
        train=TrainConfig(epochs=8, lr=0.05, batch_size=64, weight_decay=5e-4),
        seeds=2, unlearn={
            "finetune": {"epochs": 2, "lr": 0.05},
            "l1_sparse": {"epochs": 2, "lr": 0.05, "alpha": 2e-3},
            "neggrad": {"epochs": 2, "lr": 0.05},
            "neggrad_plus": {"epochs": 2, "lr": 0.1, "alpha": 0.9},
            "random_label": {"epochs": 2, "lr": 0.1},
            "salun": {"epochs": 2, "lr": 0.1},
            "scrub": {"epochs": 2, "lr": 0.05, "msteps": 1},
            "influence": {"alpha": 0.05, "n_samples": 256},
        },
        es_forget_size=48, memorization_models=20, val_size=144,
    ),
    "small": Profile(
        name="small", dataset="digits", model="mlp", model_kwargs={"hidden": (128,)},
        train=TrainConfig(epochs=30, lr=0.05, batch_size=64, weight_decay=5e-4),
        seeds=5, unlearn={
            "finetune": {"epochs": 10, "lr": 0.05},
            "l1_sparse": {"epochs": 10, "lr": 0.05, "alpha": 2e-3},
            "neggrad": {"epochs": 5, "lr": 0.05},
            "neggrad_plus": {"epochs": 5, "lr": 0.1, "alpha": 0.9},
            "random_label": {"epochs": 5, "lr": 0.1},
            "salun": {"epochs": 10, "lr": 0.1},
            "scrub": {"epochs": 5, "lr": 0.05, "msteps": 2},
            "influence": {"alpha": 0.15, "damping": 1e-3, "n_samples": 1000},
        },
        es_forget_size=48, memorization_models=1000, val_size=144,
    ),
    # MNIST-1D (Greydanus 2020) and a small 1-D CNN: a thicker memorization tail than digits at CPU scale,
    # but a book several times slower than the 10-minute budget of the default (see the memorization
    # chapter). Unlearning hyperparameters chosen by bench/tune_unlearners.py (equal budget: 4 learning rates,
    # or 4 Influence step sizes, per method; tuning seeds 100 and 101, disjoint from the reported 0-4).
    "mnist1d": Profile(
        name="mnist1d", dataset="mnist1d", model="cnn1d", model_kwargs={"width": 32},
        train=TrainConfig(epochs=30, lr=0.1, batch_size=64, weight_decay=5e-4),
        seeds=5, unlearn={
            "finetune": {"epochs": 10, "lr": 0.03},
            "l1_sparse": {"epochs": 10, "lr": 0.03, "alpha": 2e-3},
            "neggrad": {"epochs": 5, "lr": 0.003},
            # 0.03 won the tuning (random forget sets), but 0.03 and 0.01 diverge on ES-controlled forget sets of
            # the entanglement chapter: the largest candidate that does not, 0.003, is used
            "neggrad_plus": {"epochs": 5, "lr": 0.003, "alpha": 0.9},
            "random_label": {"epochs": 5, "lr": 0.01},
            "salun": {"epochs": 10, "lr": 0.01},
            "scrub": {"epochs": 5, "lr": 0.01, "msteps": 2},
            "influence": {"alpha": 0.15, "damping": 1e-3, "n_samples": 1000},
        },
        es_forget_size=100, memorization_models=250, memorization_group_size=50, val_size=400,
    ),
    "paper": Profile(
        name="paper", dataset="cifar10", model="resnet18",
        train=TrainConfig(epochs=30, lr=0.1, batch_size=256, weight_decay=5e-4, augment="crop_flip"),
        forget_fraction=3000 / 45000, seeds=3, memorization_group_size=1000, val_size=5000,
        # 11 M parameters: per-example gradients of the whole ResNet-18 do not fit, so the Newton step of
        # Influence is taken in the final linear layer (features fixed), see rum_core.unlearners.influence
        unlearn={"influence": {"params": "head"}},
    ),
}


def banner(profile: Profile) -> str:
    """The line every chapter prints first: package version and profile."""
    from . import __version__

    if not isinstance(profile, Profile):
        raise TypeError(f"profile must be a rum_core Profile (from get_profile), got {type(profile).__name__}")
    return f"rum_core {__version__} · {profile.describe()}"


def get_profile(name: str | None = None, **overrides) -> Profile:
    """Return the named profile (default: ``$RUM_PROFILE``, else ``small``), optionally with fields replaced.

    This is the one place ``$RUM_DATA`` is read: for a profile whose dataset is read from files (CIFAR), it
    sets ``data_root`` unless ``data_root=`` is passed (``data_root=None`` then means the cache directory's
    copy). For the digits profiles it is ignored, so one ``RUM_DATA`` can stay set for every profile.

    Raises:
        ValueError: for an unknown profile name, listing the valid ones; a ``data_root`` for a dataset that
            reads no files.
    """
    if name is None:
        name = os.environ.get(PROFILE_ENV, DEFAULT_PROFILE).strip() or DEFAULT_PROFILE
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid profiles: {sorted(PROFILES)} "
                         f"(set {PROFILE_ENV} or pass name=)")
    profile = PROFILES[name]
    env_root = os.environ.get(DATA_ENV, "").strip()
    if env_root and "data_root" not in overrides:
        if overrides.get("dataset", profile.dataset) in ROOT_DATASETS:
            overrides["data_root"] = env_root
    return replace(profile, **overrides) if overrides else profile
