"""Datasets as small in-memory bundles, and validation of forget / retain index sets.

Every dataset is loaded into a :class:`DataBundle` of float image tensors (N, C, H, W), standardized per
channel with the training split's statistics, and long label tensors. Forget and retain sets are always
integer index arrays into ``bundle.train``.

A validation split can be carved out of the training split (``load(..., val_size=n)``): class-stratified
and seeded, as the paper's 45,000 train / 5,000 validation / 10,000 test split of CIFAR-10. It is what
model selection scores on, so that the reported test set never chooses anything. ``bundle.train_source``
maps each training row back to its position in the dataset's own training order (the official order for
CIFAR), so published per-example scores still line up after the carve.

Datasets:
    ``digits``       scikit-learn's 8×8 handwritten digits (the default; no download), stratified split.
    ``synthetic``    a tiny generated 8×8 image task for tests.
    ``cifar10``      torchvision CIFAR-10 (downloaded to the cache directory on first use).
    ``cifar100``     torchvision CIFAR-100 (fine labels).
    ``imagefolder``  a ``train/<class>/*`` + ``test/<class>/*`` tree of images, decoded once and cached.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from .cache import atomic_write, cache_dir

__all__ = ["Split", "DataBundle", "load", "available", "check_split"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}


@dataclass(frozen=True)
class Split:
    """Images ``x`` (float32, N×C×H×W) and labels ``y`` (int64, N)."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def subset(self, idx) -> Split:
        """The examples at ``idx`` (an index array), as a new split."""
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        return Split(self.x[idx], self.y[idx])


@dataclass(frozen=True)
class DataBundle:
    """A dataset ready for training: ``train`` and ``test`` splits plus what is needed to read them.

    ``mean`` and ``std`` are the per-channel statistics used to standardize the images; pass images through
    :meth:`to_display` to get them back in [0, 1] for plotting.

    ``val`` is the validation split carved out of the training data (``None`` when none was asked for), its
    rows in the dataset's own order; ``train_source`` the position of every training row in the dataset's
    own training order before the carve (``None`` = the identity, no carve).
    """

    name: str
    train: Split
    test: Split
    num_classes: int
    class_names: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    val: Split | None = None
    train_source: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.x.shape[1:])

    def to_display(self, x: torch.Tensor) -> np.ndarray:
        """Undo the standardization: (N, C, H, W) tensor → (N, H, W, C) array in [0, 1]."""
        mean = torch.tensor(self.mean).view(1, -1, 1, 1)
        std = torch.tensor(self.std).view(1, -1, 1, 1)
        return (x * std + mean).clamp(0, 1).permute(0, 2, 3, 1).numpy()

    def source_positions(self) -> np.ndarray:
        """Position of every training row in the dataset's own training order (the identity without a carve)."""
        if self.train_source is None:
            return np.arange(len(self.train), dtype=np.int64)
        return np.asarray(self.train_source, dtype=np.int64)

    def source_labels(self) -> np.ndarray:
        """The training labels in the dataset's own order before the validation carve: the training rows
        and the validation rows (kept in that order too) put back in place. This is the order of published
        per-example score files, whose labels should equal these."""
        train_y = self.train.y.numpy().astype(np.int64)
        if self.val is None:
            return train_y.copy()
        out = np.empty(len(train_y) + len(self.val), dtype=np.int64)
        carved = np.ones(len(out), dtype=bool)
        carved[self.source_positions()] = False
        out[~carved] = train_y
        out[carved] = self.val.y.numpy()
        return out

    def validation(self) -> Split:
        """The validation split, or a ValueError saying how to get one (model selection scores on it)."""
        if self.val is None or len(self.val) == 0:
            raise ValueError(f"{self.name!r} was loaded without a validation split; load it with val_size=... "
                             f"(profiles set val_size) so that selection never scores on the test set")
        return self.val

    @cached_property
    def fingerprint(self) -> str:
        """A hash of the data itself (images and labels of every split), used to key cached results."""
        digest = hashlib.sha256(self.name.encode())
        tensors = [self.train.x, self.train.y, self.test.x, self.test.y]
        if self.val is not None:
            digest.update(b"val")
            tensors += [self.val.x, self.val.y]
        for t in tensors:
            digest.update(np.ascontiguousarray(t.numpy()).tobytes())
        return digest.hexdigest()[:24]

    def __repr__(self) -> str:
        val = f", val {tuple(self.val.x.shape)}" if self.val is not None else ""
        return (f"DataBundle({self.name!r}: train {tuple(self.train.x.shape)}{val}, "
                f"test {tuple(self.test.x.shape)}, {self.num_classes} classes)")


def _standardizer(train_x: torch.Tensor):
    """Per-channel standardization with the statistics of ``train_x`` (never of the evaluation data)."""
    mean = train_x.mean(dim=(0, 2, 3))
    std = train_x.std(dim=(0, 2, 3)).clamp_min(1e-6)
    view = (1, -1, 1, 1)
    norm = lambda x: ((x - mean.view(view)) / std.view(view)).contiguous()  # noqa: E731
    return norm, tuple(mean.tolist()), tuple(std.tolist())


def validation_positions(labels, val_size: int, seed: int) -> np.ndarray:
    """Sorted positions of a class-stratified, seeded validation split of ``val_size`` examples.

    Each class contributes in proportion to its share of ``labels`` (scikit-learn's stratified split, so
    CIFAR-10's 5,000 of 50,000 take 500 per class); the same ``seed`` gives the same split.

    Raises:
        ValueError: ``val_size`` leaves fewer examples than classes on either side.
    """
    from sklearn.model_selection import train_test_split

    labels = np.asarray(labels)
    n, classes = len(labels), len(np.unique(labels))
    if not classes <= val_size <= n - classes:
        raise ValueError(f"val_size = {val_size} must lie in [{classes}, {n - classes}] for {n} training "
                         f"examples of {classes} classes (each class needs a member on both sides)")
    _, val = train_test_split(np.arange(n), test_size=int(val_size), stratify=labels, random_state=int(seed))
    return np.sort(val).astype(np.int64)


class _Raw(NamedTuple):
    """What a loader reads, before the validation carve and standardization of :func:`_bundle`."""

    name: str
    train_x: np.ndarray
    train_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    class_names: list[str]


def _bundle(name, train_x, train_y, test_x, test_y, class_names, *, val_size: int = 0, seed: int = 0
            ) -> DataBundle:
    train_x = torch.as_tensor(train_x, dtype=torch.float32)
    test_x = torch.as_tensor(test_x, dtype=torch.float32)
    train_y = torch.as_tensor(np.asarray(train_y), dtype=torch.long)
    val, source = None, None
    if val_size:
        val_pos = validation_positions(train_y.numpy(), val_size, seed)
        keep = np.ones(len(train_y), dtype=bool)
        keep[val_pos] = False
        source = np.flatnonzero(keep).astype(np.int64)
        val = (train_x[torch.as_tensor(val_pos)], train_y[torch.as_tensor(val_pos)])
        train_x, train_y = train_x[torch.as_tensor(source)], train_y[torch.as_tensor(source)]
    norm, mean, std = _standardizer(train_x)
    return DataBundle(
        name=name,
        train=Split(norm(train_x), train_y),
        test=Split(norm(test_x), torch.as_tensor(np.asarray(test_y), dtype=torch.long)),
        num_classes=len(class_names),
        class_names=tuple(class_names),
        mean=mean,
        std=std,
        val=None if val is None else Split(norm(val[0]), val[1]),
        train_source=source,
    )


def _load_digits(seed: int, root: Path | None) -> _Raw:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]
    y = digits.target.astype(np.int64)
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.2, stratify=y, random_state=seed)
    idx_train.sort()
    idx_test.sort()
    return _Raw("digits", x[idx_train], y[idx_train], x[idx_test], y[idx_test],
                   [str(c) for c in range(10)])


def _load_synthetic(seed: int, root: Path | None, *, n_train: int = 240, n_test: int = 120,
                    num_classes: int = 4, noise: float = 0.35) -> _Raw:
    """Class prototypes (random 8×8 patterns) plus Gaussian noise: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((num_classes, 1, 8, 8)).astype(np.float32)

    def draw(n):
        y = np.arange(n) % num_classes
        rng.shuffle(y)
        x = prototypes[y] + noise * rng.standard_normal((n, 1, 8, 8)).astype(np.float32)
        return x, y

    x_tr, y_tr = draw(n_train)
    x_te, y_te = draw(n_test)
    return _Raw("synthetic", x_tr, y_tr, x_te, y_te, [f"class {c}" for c in range(num_classes)])


def _load_torchvision_cifar(which: str, seed: int, root: Path | None) -> _Raw:
    import torchvision

    root = Path(root) if root is not None else cache_dir() / "datasets"
    cls = torchvision.datasets.CIFAR10 if which == "cifar10" else torchvision.datasets.CIFAR100
    train = cls(str(root), train=True, download=True)
    test = cls(str(root), train=False, download=True)
    to_x = lambda d: np.asarray(d.data, dtype=np.float32).transpose(0, 3, 1, 2) / 255.0  # noqa: E731
    return _Raw(which, to_x(train), np.asarray(train.targets), to_x(test), np.asarray(test.targets),
                   list(train.classes))


def _sort_key(path: Path):
    """Numeric file stems sort as numbers (``2.jpg`` before ``10.jpg``), so folder order follows the data."""
    return (0, int(path.stem), path.name) if path.stem.isdigit() else (1, 0, path.name)


def _scan_imagefolder(root: Path) -> tuple[list[str], dict[str, list[tuple[Path, int]]]]:
    for part in ("train", "test"):
        if not (root / part).is_dir():
            raise ValueError(f"imagefolder root {str(root)!r} must contain a {part!r} directory "
                             f"with one sub-directory per class")
    class_names = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    if not class_names:
        raise ValueError(f"imagefolder root {str(root)!r}: 'train' has no class directories")
    files = {}
    for part in ("train", "test"):
        extra = sorted({p.name for p in (root / part).iterdir() if p.is_dir()} - set(class_names))
        if extra:
            raise ValueError(f"imagefolder {part!r} has classes not present in 'train': {extra}")
        files[part] = [(f, label) for label, name in enumerate(class_names)
                       for f in sorted((p for p in (root / part / name).iterdir()
                                        if p.suffix.lower() in IMAGE_SUFFIXES), key=_sort_key)]
        if not files[part]:
            raise ValueError(f"imagefolder root {str(root)!r}: no images found under {part!r}")
    return class_names, files


def _decode(files: list[tuple[Path, int]]) -> tuple[np.ndarray, np.ndarray]:
    from PIL import Image

    images, labels, shape = [], [], None
    for path, label in files:
        with Image.open(path) as im:
            arr = np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB") else im, dtype=np.uint8)
        arr = arr[:, :, None] if arr.ndim == 2 else arr
        if shape is None:
            shape = arr.shape
        elif arr.shape != shape:
            raise ValueError(f"imagefolder images must all have one size; {path} is {arr.shape}, "
                             f"earlier images are {shape}")
        images.append(arr)
        labels.append(label)
    return np.stack(images), np.asarray(labels, dtype=np.int64)


def _load_imagefolder(seed: int, root: Path | None) -> _Raw:
    if root is None:
        raise ValueError("load('imagefolder') needs root=<directory with train/ and test/ sub-directories>")
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"imagefolder root {str(root)!r} is not a directory")
    class_names, files = _scan_imagefolder(root)
    listing = "\n".join(f"{f.relative_to(root)}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                        for part in ("train", "test") for f, _ in files[part])
    key = hashlib.sha256(f"{root}\n{listing}".encode()).hexdigest()[:20]
    cached = cache_dir() / "imagefolder" / f"{key}.npz"
    if cached.exists():
        with np.load(cached, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    else:
        (x_tr, y_tr), (x_te, y_te) = _decode(files["train"]), _decode(files["test"])
        arrays = {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te}
        atomic_write(cached, lambda tmp: np.savez(tmp, **arrays))
    to_x = lambda a: a.astype(np.float32).transpose(0, 3, 1, 2) / 255.0  # noqa: E731
    return _Raw(f"imagefolder:{root.name}", to_x(arrays["x_train"]), arrays["y_train"],
                   to_x(arrays["x_test"]), arrays["y_test"], class_names)


_LOADERS: dict[str, Callable[[int, Path | None], _Raw]] = {
    "digits": _load_digits,
    "synthetic": _load_synthetic,
    "cifar10": lambda seed, root: _load_torchvision_cifar("cifar10", seed, root),
    "cifar100": lambda seed, root: _load_torchvision_cifar("cifar100", seed, root),
    "imagefolder": _load_imagefolder,
}


def available() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(_LOADERS)


def load(name: str = "digits", *, seed: int = 0, root: str | os.PathLike | None = None,
         val_size: int = 0) -> DataBundle:
    """Load a dataset as a :class:`DataBundle`.

    Args:
        name: one of :func:`available` (``digits`` is the default and needs no download).
        seed: seeds the train/test split where the dataset has none of its own (digits, synthetic), and the
            validation carve.
        root: where torchvision datasets are downloaded (default: the rum_core cache directory), or the
            directory of an ``imagefolder`` tree.
        val_size: examples moved from the training split into a class-stratified validation split
            (:func:`validation_positions`; the paper: 5,000 of CIFAR-10's 50,000). 0 = no validation split.
            Standardization uses the statistics of what remains for training.

    Raises:
        ValueError: for an unknown name (listing the valid ones), a malformed image folder, or a
            ``val_size`` that leaves a class without examples.
        TypeError: a seed or ``val_size`` that is not an int.
    """
    if not isinstance(name, str) or name not in _LOADERS:
        raise ValueError(f"unknown dataset {name!r}; valid datasets: {available()}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if isinstance(val_size, bool) or not isinstance(val_size, (int, np.integer)):
        raise TypeError(f"val_size must be an int, got {type(val_size).__name__}")
    if val_size < 0:
        raise ValueError(f"val_size must be ≥ 0, got {val_size}")
    raw = _LOADERS[name](int(seed), Path(root) if root is not None else None)
    return _bundle(*raw, val_size=int(val_size), seed=int(seed))


def _as_index_array(name: str, idx, n: int) -> np.ndarray:
    arr = np.asarray(idx)
    if arr.dtype == bool:
        raise TypeError(f"{name} must be an array of integer indices, not a boolean mask "
                        f"(use np.flatnonzero(mask))")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must contain integer indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64).ravel()
    bad = arr[(arr < 0) | (arr >= n)]
    if bad.size:
        raise ValueError(f"{name} has indices out of range [0, {n}): {bad[:5].tolist()}")
    uniq, counts = np.unique(arr, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"{name} has duplicated indices: {uniq[counts > 1][:5].tolist()}")
    return arr


def check_split(n_train: int, forget_idx, retain_idx=None) -> tuple[np.ndarray, np.ndarray]:
    """Validate forget / retain index sets into a training split of ``n_train`` examples.

    Returns ``(forget, retain)`` as int64 arrays; ``retain`` defaults to every index not in ``forget``.

    Raises:
        ValueError: for an empty forget set, indices out of range or duplicated, or overlapping sets.
        TypeError: for boolean masks or non-integer indices.
    """
    forget = _as_index_array("forget_idx", forget_idx, n_train)
    if forget.size == 0:
        raise ValueError("forget_idx is empty: there is nothing to unlearn")
    if retain_idx is None:
        retain = np.setdiff1d(np.arange(n_train, dtype=np.int64), forget)
    else:
        retain = _as_index_array("retain_idx", retain_idx, n_train)
        overlap = np.intersect1d(forget, retain)
        if overlap.size:
            raise ValueError(f"forget_idx and retain_idx overlap at {overlap.size} indices, "
                             f"e.g. {overlap[:5].tolist()}")
    return forget, retain
