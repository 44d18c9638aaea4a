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
    ``cifar10``      CIFAR-10: torchvision's copy (downloaded to the cache directory on first use), or a local
                     copy given as ``root`` (torchvision's layout or an image folder, see :func:`load`).
    ``cifar100``     CIFAR-100 (fine labels), the same ways.
    ``imagefolder``  a ``train/<class>/*`` + ``test/<class>/*`` tree of images, decoded once and cached.

Without network and without a local copy, CIFAR fails at once with :class:`DataNotFoundError`, whose one-line
message says where to put the data (the ``rum`` command prints it and exits with status 2).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from .cache import cache_dir, cached_arrays
from .validation import check_indices, check_int, check_labels

__all__ = ["Split", "DataBundle", "load", "available", "check_split", "DataNotFoundError", "ROOT_DATASETS",
           "TRAIN_LABELS_FILES"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"}
#: Datasets read from files under a root directory (``load(..., root=...)``); the others are generated or
#: ship with scikit-learn and take no root.
ROOT_DATASETS = ("cifar10", "cifar100", "imagefolder")
#: Files next to a CIFAR image folder that give the official training label sequence (see :func:`load`).
TRAIN_LABELS_FILES = ("train_labels.npy", "train_labels.npz")


class DataNotFoundError(FileNotFoundError):
    """A dataset's files are not where they were looked for and could not be downloaded.

    The message is one line that names the place looked at, why the download failed, and where to put a
    copy instead; the original error (e.g. the network's) is chained as ``__cause__``.
    """


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

    ``order_unknown`` is ``None`` when the training rows follow the dataset's own (for CIFAR: official)
    order; otherwise it says why they do not (a CIFAR image folder read without the official label sequence
    is in class-major order). Then :meth:`source_positions` and :meth:`source_labels`, through which
    published per-example scores are aligned, raise a ValueError with that explanation instead of silently
    pairing scores with the wrong images.
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
    order_unknown: str | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        """Refuse splits that no experiment could use honestly: NaN/inf images, labels out of range."""
        for part, split in (("train", self.train), ("test", self.test), ("val", self.val)):
            if split is None:
                continue
            if len(split.x) != len(split.y):
                raise ValueError(f"{self.name} {part}: {len(split.x)} images but {len(split.y)} labels")
            if not bool(torch.isfinite(split.x).all()):
                raise ValueError(f"{self.name} {part}: {int((~torch.isfinite(split.x)).sum())} image values are "
                                 f"NaN or infinite")
            if len(split.y) and (int(split.y.min()) < 0 or int(split.y.max()) >= self.num_classes):
                raise ValueError(f"{self.name} {part}: labels must lie in [0, {self.num_classes}), got "
                                 f"{int(split.y.min())} … {int(split.y.max())}")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.x.shape[1:])

    def to_display(self, x: torch.Tensor) -> np.ndarray:
        """Undo the standardization: (N, C, H, W) tensor → (N, H, W, C) array in [0, 1]."""
        mean = torch.tensor(self.mean).view(1, -1, 1, 1)
        std = torch.tensor(self.std).view(1, -1, 1, 1)
        return (x * std + mean).clamp(0, 1).permute(0, 2, 3, 1).numpy()

    def _require_order(self) -> None:
        if self.order_unknown is not None:
            raise ValueError(self.order_unknown)

    def source_positions(self) -> np.ndarray:
        """Position of every training row in the dataset's own training order (the identity without a carve).

        Raises:
            ValueError: that order is unknown (``order_unknown``, e.g. a CIFAR image folder read without
                the official label sequence).
        """
        self._require_order()
        if self.train_source is None:
            return np.arange(len(self.train), dtype=np.int64)
        return np.asarray(self.train_source, dtype=np.int64)

    def source_labels(self) -> np.ndarray:
        """The training labels in the dataset's own order before the validation carve: the training rows
        and the validation rows (kept in that order too) put back in place. This is the order of published
        per-example score files, whose labels should equal these.

        Raises:
            ValueError: that order is unknown (``order_unknown``).
        """
        self._require_order()
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

    labels = check_labels("labels", labels)
    if labels.size and labels.min() < 0:
        raise ValueError(f"labels must be non-negative class indices, got {int(labels.min())}")
    val_size, seed = check_int("val_size", val_size), check_int("seed", seed, low=0)
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
    order_unknown: str | None = None


def _bundle(name, train_x, train_y, test_x, test_y, class_names, order_unknown=None, *, val_size: int = 0,
            seed: int = 0) -> DataBundle:
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
        order_unknown=order_unknown,
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


# ------------------------------------------------------------------------------------------------- CIFAR
class _Cifar(NamedTuple):
    title: str  # for messages
    folder: str  # torchvision's extracted folder under its root
    num_classes: int
    class_names: tuple[str, ...] | None  # in label order; None = the sorted folder names (CIFAR-100)


CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_CIFAR = {
    "cifar10": _Cifar("CIFAR-10", "cifar-10-batches-py", 10, CIFAR10_CLASSES),
    "cifar100": _Cifar("CIFAR-100", "cifar-100-python", 100, None),
}


def _where(which: str, root: Path) -> str:
    """The end of every "data not found" message: where a copy may go instead."""
    spec = _CIFAR[which]
    return (f"put torchvision's {spec.folder}/ in {str(root)!r}, or point the rum command's --data-root "
            f"(or $RUM_DATA, or root= of rum_core.data.load) at a local copy: a directory holding "
            f"{spec.folder}/, or an image folder train/<class>/<k>.png + test/<class>/<k>.png")


def _load_cifar(which: str, seed: int, root: Path | None, train_labels=None) -> _Raw:
    """CIFAR-10/100 from ``root`` or torchvision's copy in the cache directory (see :func:`load`)."""
    spec = _CIFAR[which]
    if root is None:
        root = cache_dir() / "datasets"
    else:
        root = Path(root).expanduser().resolve()
        if not root.is_dir():
            raise DataNotFoundError(f"{spec.title}: the data root {str(root)!r} is not a directory; "
                                    f"{_where(which, root)}")
    if not (root / spec.folder).is_dir() and (root / "train").is_dir() and (root / "test").is_dir():
        return _read_cifar_folder(which, root, train_labels)
    raw = _read_torchvision(which, root)
    if train_labels is not None:
        source, labels = _train_labels(root, train_labels)
        if len(labels) != len(raw.train_y) or not np.array_equal(labels, raw.train_y):
            raise ValueError(f"{source}: these {len(labels)} labels are not {spec.title}'s official training "
                             f"labels (torchvision's copy in {str(root)!r}); they belong to another dataset "
                             f"or another order")
    return raw


def _read_torchvision(which: str, root: Path) -> _Raw:
    """torchvision's CIFAR under ``root``: read when its extracted folder is there, else downloaded first.

    torchvision's CIFAR files are Python pickles, which torchvision unpickles. That is acceptable only for
    the official release, which torchvision checks against its published MD5 sums before reading; it is the
    one place rum_core lets anything be unpickled. Local copies of other origin go through the image-folder
    path, which decodes image files only.

    Raises:
        DataNotFoundError: the folder is incomplete or corrupted (torchvision's integrity check failed), or
            absent and the download failed (no network: the ``URLError``/``OSError``/``RuntimeError`` of
            torchvision is chained as the cause, never swallowed).
    """
    import torchvision

    spec = _CIFAR[which]
    cls = torchvision.datasets.CIFAR10 if which == "cifar10" else torchvision.datasets.CIFAR100
    present = (root / spec.folder).is_dir()
    try:
        train = cls(str(root), train=True, download=not present)
        test = cls(str(root), train=False, download=False)
    except (OSError, RuntimeError) as err:
        if present:
            raise DataNotFoundError(f"{spec.title}: {str(root / spec.folder)!r} is incomplete or corrupted "
                                    f"({err}); delete it to download it again, or "
                                    f"{_where(which, root)}") from err
        reason = " ".join(f"{type(err).__name__}: {err}".split())
        raise DataNotFoundError(f"{spec.title} is not in {str(root)!r} and could not be downloaded "
                                f"({reason}); {_where(which, root)}") from err
    to_x = lambda d: np.asarray(d.data, dtype=np.float32).transpose(0, 3, 1, 2) / 255.0  # noqa: E731
    return _Raw(which, to_x(train), np.asarray(train.targets, dtype=np.int64), to_x(test),
                np.asarray(test.targets, dtype=np.int64), list(train.classes))


def _cifar_class_folders(which: str, root: Path) -> tuple[list[str], list[str]]:
    """The class folders of a CIFAR image folder in label order, and the class names.

    Folders are either the official class names (CIFAR-10's ten, in any order on disk; for CIFAR-100 its
    100 fine-label names, whose official order is the alphabetical one) or the labels ``0 … K-1``.
    """
    spec = _CIFAR[which]
    found = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    if len(found) != spec.num_classes:
        raise ValueError(f"{spec.title} image folder {str(root / 'train')!r} has {len(found)} class folders, "
                         f"expected {spec.num_classes}")
    if all(name.isdigit() for name in found):
        folders = sorted(found, key=int)
        if [int(name) for name in folders] != list(range(spec.num_classes)):
            raise ValueError(f"{spec.title} image folder {str(root / 'train')!r}: numbered class folders "
                             f"must be 0 … {spec.num_classes - 1}, found {folders}")
        return folders, list(spec.class_names or folders)
    if spec.class_names is not None:
        if set(found) != set(spec.class_names):
            raise ValueError(f"{spec.title} image folder {str(root / 'train')!r}: class folders {found} are "
                             f"not {spec.title}'s classes {list(spec.class_names)} (nor 0 … "
                             f"{spec.num_classes - 1})")
        return list(spec.class_names), list(spec.class_names)
    return found, found


def _train_labels(root: Path, train_labels) -> tuple[str, np.ndarray | None]:
    """``(where from, labels)`` of the official training label sequence: ``train_labels`` (an array, or an
    ``.npy`` / ``.npz`` path), else the first of :data:`TRAIN_LABELS_FILES` in ``root``; ``(…, None)``
    when there is none. Read with ``allow_pickle=False``."""
    if train_labels is None:
        found = [root / name for name in TRAIN_LABELS_FILES if (root / name).is_file()]
        if not found:
            return "", None
        train_labels = found[0]
    if not isinstance(train_labels, (str, os.PathLike)):
        return "train_labels", check_labels("train_labels", train_labels)
    path = Path(train_labels).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"train_labels: no such file {str(path)!r}")
    if path.suffix == ".npy":
        return str(path), check_labels(f"{path}: the training labels", np.load(path, allow_pickle=False))
    if path.suffix != ".npz":
        raise ValueError(f"train_labels: {str(path)!r} must be an .npy array or an .npz holding 'labels'")
    with np.load(path, allow_pickle=False) as z:
        key = next((k for k in ("labels", "tr_labels") if k in z.files), None)
        if key is None:
            raise ValueError(f"{str(path)!r}: expected an array 'labels' (or 'tr_labels') of the official "
                             f"training labels, found {sorted(z.files)}")
        return f"{path}[{key!r}]", check_labels(f"{path}: the training labels", z[key])


def official_permutation(class_major_labels, official_labels, *, source: str = "official_labels",
                         class_names=None) -> np.ndarray:
    """``perm`` such that ``class_major[perm]`` is in the official order, for an image folder of CIFAR.

    An image folder lists class 0's images, then class 1's, …, each class's files by number; in the
    official order the k-th training image of class c is file number k of class c. So the official position
    ``i`` (label ``official_labels[i] = c``, the k-th such position) takes the folder's k-th image of class
    c: ``perm`` is the inverse of a stable sort of ``official_labels``.

    Args:
        class_major_labels: the folder's labels, non-decreasing (class by class).
        official_labels: the labels of the training set in the official order (e.g. ``labels`` of the
            published C-score file).

    Raises:
        ValueError: ``class_major_labels`` are not class by class, a label is out of range, or the two
            sequences have different class counts (another dataset, or files missing from the folder).
    """
    have = np.asarray(class_major_labels, dtype=np.int64)
    want = check_labels(source, official_labels)
    if have.size and np.any(np.diff(have) < 0):
        raise ValueError("class_major_labels must be non-decreasing (the folder's images class by class)")
    k = int(max(have.max(initial=-1), 0) + 1) if class_names is None else len(class_names)
    if want.size and (want.min() < 0 or want.max() >= k):
        raise ValueError(f"{source}: labels must lie in [0, {k}), found {int(want.min())} … {int(want.max())}")
    n_have, n_want = np.bincount(have, minlength=k), np.bincount(want, minlength=k)
    if not np.array_equal(n_have, n_want):
        bad = np.flatnonzero(n_have != n_want)
        name = (lambda c: f"{c} ({class_names[c]!r})") if class_names is not None else str
        diffs = ", ".join(f"class {name(int(c))}: {n_have[c]} images vs {n_want[c]} labels" for c in bad[:3])
        raise ValueError(f"{source} does not describe this image folder: its {len(want)} labels have other "
                         f"class counts than the folder's {len(have)} training images ({diffs}"
                         f"{', …' if bad.size > 3 else ''}); they belong to another dataset, or files are "
                         f"missing")
    perm = np.empty(len(want), dtype=np.int64)
    perm[np.argsort(want, kind="stable")] = np.arange(len(want), dtype=np.int64)
    return perm


def _read_cifar_folder(which: str, root: Path, train_labels) -> _Raw:
    """CIFAR decoded from an image folder ``root/{train,test}/<class>/<k>.<ext>`` (see :func:`load`)."""
    spec = _CIFAR[which]
    folders, names = _cifar_class_folders(which, root)
    _, files = _scan_imagefolder(root, folders)
    arrays = _decoded_arrays(root, files, folders)
    for part in ("train", "test"):
        shape = arrays[f"x_{part}"].shape[1:]
        if shape != (32, 32, 3):
            raise ValueError(f"{spec.title} image folder {str(root)!r}: {part} images are {shape[1]}×{shape[0]} "
                             f"with {shape[2]} channel(s), {spec.title}'s are 32×32 RGB")
    x_tr, y_tr = arrays["x_train"], arrays["y_train"]
    source, labels = _train_labels(root, train_labels)
    order_unknown = None
    if labels is None:
        order_unknown = (
            f"{spec.title} was read from the image folder {str(root)!r} without the official training label "
            f"sequence, so its training rows are in class-major order, not the official one, and published "
            f"per-example scores (indexed by official training index) cannot be aligned to them; put the "
            f"official labels next to the images as {TRAIN_LABELS_FILES[1]} (a copy of "
            f"{which}-cscores-orig-order.npz, whose 'labels' are in the official order, will do) or "
            f"{TRAIN_LABELS_FILES[0]}, or pass train_labels= to rum_core.data.load")
    else:
        perm = official_permutation(y_tr, labels, source=source, class_names=names)
        x_tr, y_tr = x_tr[perm], y_tr[perm]
    to_x = lambda a: a.astype(np.float32).transpose(0, 3, 1, 2) / 255.0  # noqa: E731
    return _Raw(which, to_x(x_tr), y_tr, to_x(arrays["x_test"]), arrays["y_test"], names, order_unknown)


# ------------------------------------------------------------------------------------------ image folders
def _sort_key(path: Path):
    """Numeric file stems sort as numbers (``2.jpg`` before ``10.jpg``), so folder order follows the data."""
    return (0, int(path.stem), path.name) if path.stem.isdigit() else (1, 0, path.name)


def _scan_imagefolder(root: Path, class_names: list[str] | None = None
                      ) -> tuple[list[str], dict[str, list[tuple[Path, int]]]]:
    """Class folders (label = position in ``class_names``, default: the sorted folder names) and every
    image file of each part, class by class, files in :func:`_sort_key` order."""
    for part in ("train", "test"):
        if not (root / part).is_dir():
            raise ValueError(f"imagefolder root {str(root)!r} must contain a {part!r} directory "
                             f"with one sub-directory per class")
    if class_names is None:
        class_names = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    if not class_names:
        raise ValueError(f"imagefolder root {str(root)!r}: 'train' has no class directories")
    files = {}
    for part in ("train", "test"):
        extra = sorted({p.name for p in (root / part).iterdir() if p.is_dir()} - set(class_names))
        if extra:
            raise ValueError(f"imagefolder {part!r} has classes not present in 'train': {extra}")
        files[part] = [(f, label) for label, name in enumerate(class_names) if (root / part / name).is_dir()
                       for f in sorted((p for p in (root / part / name).iterdir()
                                        if p.suffix.lower() in IMAGE_SUFFIXES), key=_sort_key)]
        if not files[part]:
            raise ValueError(f"imagefolder root {str(root)!r}: no images found under {part!r}")
    return list(class_names), files


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


def _decoded_arrays(root: Path, files: dict[str, list[tuple[Path, int]]], class_names: list[str]
                    ) -> dict[str, np.ndarray]:
    """uint8 images (N, H, W, C) and labels of both parts, in the listing's order; decoded once, then read
    from an ``.npz`` in the cache keyed by the class order and every file's path, size and mtime."""
    listing = "\n".join(f"{f.relative_to(root)}:{f.stat().st_size}:{f.stat().st_mtime_ns}"
                        for part in ("train", "test") for f, _ in files[part])

    def decode():
        (x_tr, y_tr), (x_te, y_te) = _decode(files["train"]), _decode(files["test"])
        return {"x_train": x_tr, "y_train": y_tr, "x_test": x_te, "y_test": y_te}

    config = {"root": str(root), "classes": list(class_names),
              "listing_sha256": hashlib.sha256(listing.encode()).hexdigest()}
    return cached_arrays("imagefolder", config, decode, depends=("data",))


def _load_imagefolder(seed: int, root: Path | None) -> _Raw:
    if root is None:
        raise ValueError("load('imagefolder') needs root=<directory with train/ and test/ sub-directories>")
    root = Path(root).expanduser().resolve()
    if not root.is_dir():
        raise ValueError(f"imagefolder root {str(root)!r} is not a directory")
    class_names, files = _scan_imagefolder(root)
    arrays = _decoded_arrays(root, files, class_names)
    to_x = lambda a: a.astype(np.float32).transpose(0, 3, 1, 2) / 255.0  # noqa: E731
    return _Raw(f"imagefolder:{root.name}", to_x(arrays["x_train"]), arrays["y_train"],
                to_x(arrays["x_test"]), arrays["y_test"], class_names)


_LOADERS: dict[str, Callable[..., _Raw]] = {
    "digits": _load_digits,
    "synthetic": _load_synthetic,
    "cifar10": partial(_load_cifar, "cifar10"),
    "cifar100": partial(_load_cifar, "cifar100"),
    "imagefolder": _load_imagefolder,
}


def available() -> list[str]:
    """Names accepted by :func:`load`."""
    return sorted(_LOADERS)


def load(name: str = "digits", *, seed: int = 0, root: str | os.PathLike | None = None,
         val_size: int = 0, train_labels=None) -> DataBundle:
    """Load a dataset as a :class:`DataBundle`.

    CIFAR (``cifar10``, ``cifar100``) comes from one of three places:

    * no ``root``: torchvision's copy in ``<cache directory>/datasets``, downloaded there on first use;
    * ``root`` holding torchvision's extracted folder (``cifar-10-batches-py/``, ``cifar-100-python/``):
      read with ``download=False`` (a ``root`` with neither layout is downloaded into, as torchvision does);
    * ``root`` holding an image folder ``train/<class>/<k>.<ext>`` and ``test/<class>/<k>.<ext>`` (such as
      the JPEG copy of CIFAR-10), class folders named by the official class names or by the labels
      ``0 … K-1``, ``<k>`` numbering the images of each class in the official order. Decoded once and cached.

    Published per-example scores (C-scores, memorization) are indexed by the OFFICIAL training order, which
    an image folder does not record: only its class-by-class order survives. Given the official label
    sequence it is restored exactly (the k-th official training image of class c is file number k of class
    c, :func:`official_permutation`). That sequence comes from ``train_labels``, else from a file in
    ``root`` named ``train_labels.npy`` (the array) or ``train_labels.npz`` (its ``labels``; a copy of the
    dataset's published C-score file, ``<dataset>-cscores-orig-order.npz``, is one). Kept with the images,
    it makes the folder self-describing, so every path to the data (the ``rum`` command, ``$RUM_DATA``,
    the chapters) gets the same order. Without one the training split stays class-major and is marked
    (:attr:`DataBundle.order_unknown`): aligning published scores to it raises instead of misaligning. The
    test split is always class-major (nothing rum_core reads is indexed by test example).

    Args:
        name: one of :func:`available` (``digits`` is the default and needs no download).
        seed: seeds the train/test split where the dataset has none of its own (digits, synthetic), and the
            validation carve.
        root: the CIFAR data (see above; default: the rum_core cache directory), or the directory of an
            ``imagefolder`` tree. ``$RUM_DATA`` is applied by :func:`rum_core.profiles.get_profile`, not here.
        val_size: examples moved from the training split into a class-stratified validation split
            (:func:`validation_positions`; the paper: 5,000 of CIFAR-10's 50,000). 0 = no validation split.
            Standardization uses the statistics of what remains for training.
        train_labels: CIFAR only: the official training labels (an integer array, or the path of an ``.npy``
            or of an ``.npz`` holding ``labels`` / ``tr_labels``; read with ``allow_pickle=False``). They
            order an image folder; for torchvision's copy they are only checked against it.

    Raises:
        ValueError: for an unknown name (listing the valid ones), a malformed image folder, official labels
            whose class counts differ from the folder's, or a ``val_size`` that leaves a class without
            examples.
        DataNotFoundError: (a ``FileNotFoundError``) CIFAR is neither in ``root`` nor downloadable; the
            message says where to put it.
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
    extra = {}
    if train_labels is not None:
        if name not in _CIFAR:
            raise ValueError(f"train_labels orders CIFAR ({sorted(_CIFAR)}); {name!r} has its own order")
        extra["train_labels"] = train_labels
    raw = _LOADERS[name](int(seed), Path(root) if root is not None else None, **extra)
    return _bundle(*raw, val_size=int(val_size), seed=int(seed))


def check_split(n_train: int, forget_idx, retain_idx=None) -> tuple[np.ndarray, np.ndarray]:
    """Validate forget / retain index sets into a training split of ``n_train`` examples.

    Returns ``(forget, retain)`` as int64 arrays; ``retain`` defaults to every index not in ``forget``.

    Raises:
        ValueError: for an empty forget set, indices out of range or duplicated, or overlapping sets.
        TypeError: for boolean masks or non-integer indices.
    """
    n_train = check_int("n_train", n_train, low=1)
    forget = check_indices("forget_idx", forget_idx, n_train)
    if forget.size == 0:
        raise ValueError("forget_idx is empty: there is nothing to unlearn")
    if retain_idx is None:
        retain = np.setdiff1d(np.arange(n_train, dtype=np.int64), forget)
    else:
        retain = check_indices("retain_idx", retain_idx, n_train)
        overlap = np.intersect1d(forget, retain)
        if overlap.size:
            raise ValueError(f"forget_idx and retain_idx overlap at {overlap.size} indices, "
                             f"e.g. {overlap[:5].tolist()}")
    return forget, retain
