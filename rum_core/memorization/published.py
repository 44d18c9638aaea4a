"""Published per-example scores (C-scores, Feldman & Zhang's estimates) read from files in the official
dataset order, checked against the dataset's labels, and turned into :class:`MemorizationScores`."""

from __future__ import annotations

import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import DataBundle
from ..validation import check_labels
from .scores import MemorizationScores


@dataclass(frozen=True)
class PublishedScores:
    """Published per-example scores: ``scores[j]`` belongs to training example ``index[j]`` (official order).

    ``labels`` are the full training set's labels in that order when the file provides them (else None).
    """

    index: np.ndarray
    scores: np.ndarray
    labels: np.ndarray | None
    source: str

    def dense(self, n: int | None = None) -> np.ndarray:
        """The scores as a length-``n`` array (NaN for examples without a score); ``n`` defaults to the
        number of labels, else to max(index) + 1."""
        if n is None:
            n = len(self.labels) if self.labels is not None else int(self.index.max()) + 1
        if len(self.index) and self.index.max() >= n:
            raise ValueError(f"scores index up to {int(self.index.max())} do not fit {n} examples")
        out = np.full(int(n), np.nan)
        out[self.index] = self.scores
        return out

    def for_bundle(self, bundle: DataBundle) -> np.ndarray:
        """The scores of ``bundle.train``'s rows, in its order (NaN where the file has none).

        The file follows the dataset's own training order; a bundle with a validation split carved out keeps
        a subset of those rows (:meth:`rum_core.data.DataBundle.source_positions`), so the scores are read at
        those positions.
        """
        return self.dense(_source_size(bundle))[bundle.source_positions()]


def _file_kind(head: bytes) -> str:
    """What a file that is not an ``.npz`` seems to be, from its first bytes, for the error message."""
    if head.startswith(b"\x93NUMPY"):
        return "a single .npy array (published scores come with their labels, in an .npz)"
    if head.startswith(b"\x80"):
        return "a Python pickle (never loaded: it could run code)"
    if head.startswith(b"\x89HDF"):
        return "an HDF5 file"
    if not head:
        return "empty"
    if all(32 <= c < 127 or c in (9, 10, 13) for c in head):
        return "text (e.g. CSV); convert it to an .npz"
    return "not a format rum_core reads"


def _read_npz(path, required_any: tuple[tuple[str, ...], ...]) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` at ``path`` (read with ``allow_pickle=False``), which must hold one of the
    ``required_any`` sets of names; any other format is named in a ValueError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    with open(path, "rb") as f:
        head = f.read(16)
    if not head.startswith(b"PK"):  # every .npz is a zip archive
        raise ValueError(f"{path.name}: not an .npz archive of arrays: {_file_kind(head)}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f"{path.name}: a damaged or unreadable .npz ({type(err).__name__}: {err})") from err
    if not any(all(k in arrays for k in keys) for keys in required_any):
        wanted = " or ".join("+".join(keys) for keys in required_any)
        raise ValueError(f"{path.name}: expected arrays {wanted}, found {sorted(arrays)}")
    return arrays


def _source_size(bundle: DataBundle) -> int:
    """Training examples of ``bundle``'s dataset before its validation carve (the length of published files)."""
    return len(bundle.train) + (len(bundle.val) if bundle.val is not None else 0)


def _check_labels(labels: np.ndarray, bundle: DataBundle | None, source: str) -> None:
    """``labels`` (the dataset's own training order) must equal ``bundle``'s training labels in that order,
    validation rows put back in place (:meth:`rum_core.data.DataBundle.source_labels`)."""
    if bundle is None:
        return
    if not isinstance(bundle, DataBundle):
        raise TypeError(f"bundle must be a rum_core.data.DataBundle, got {type(bundle).__name__}")
    ours = bundle.source_labels()
    if len(labels) != len(ours):
        raise ValueError(f"{source} has {len(labels)} labels but {bundle.name!r} has {len(ours)} training "
                         f"examples: these scores belong to another dataset")
    bad = np.flatnonzero(labels != ours)
    if bad.size:
        raise ValueError(f"{source}: labels differ from {bundle.name!r}'s training labels at {bad.size} of "
                         f"{len(ours)} positions (first at index {int(bad[0])}: {int(labels[bad[0]])} vs "
                         f"{int(ours[bad[0]])}); the scores are for another dataset or another order "
                         f"(they follow the official training order)")


def _check_scores(source: str, scores: np.ndarray, n: int, low: float = 0.0) -> np.ndarray:
    """Published scores: 1-D, numeric, finite, in ``[low, 1]``. A C-score is a probability (a held-out
    accuracy), so ``low = 0``; a memorization estimate is a difference of two (p_in − p_out), which an
    estimate from finitely many models can put slightly below 0, so its ``low = -1``."""
    s = np.asarray(scores)
    if s.ndim != 1 or len(s) != n or not (np.issubdtype(s.dtype, np.floating) or np.issubdtype(s.dtype, np.integer)):
        raise ValueError(f"{source}: scores must be a 1-D numeric array of length {n}, got {s.dtype} {s.shape}")
    s = s.astype(np.float64)
    bad = ~np.isfinite(s) | (s < low) | (s > 1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{source}: {int(bad.sum())} score(s) are NaN, infinite or outside [{low:g}, 1] (first "
                         f"at index {first}: {s[first]}); C-scores are probabilities, memorization estimates "
                         f"differences of two")
    return s


def load_cscores(path: str | os.PathLike, bundle: DataBundle | None = None) -> PublishedScores:
    """C-scores (Jiang et al. 2021) from an ``.npz`` with ``labels`` and ``scores`` in the official order.

    A C-score is a held-out consistency (high = typical); where models fit their training data,
    memorization ≈ 1 − C-score. With ``bundle``, its training labels must equal the file's labels.

    Raises:
        ValueError: missing arrays, mismatched lengths, or labels that differ from ``bundle``'s.
    """
    source = Path(path).name
    arrays = _read_npz(path, (("labels", "scores"),))
    labels = check_labels(f"{source}: labels", arrays["labels"])
    scores = _check_scores(source, arrays["scores"], len(labels))
    _check_labels(labels, bundle, source)
    return PublishedScores(index=np.arange(len(labels)), scores=scores, labels=labels, source=source)


def load_feldman_zhang(path: str | os.PathLike, bundle: DataBundle | None = None, *,
                       labels=None) -> PublishedScores:
    """Feldman & Zhang's (2020) published memorization estimates from an ``.npz``.

    Two layouts: the full estimates (``tr_mem`` with ``tr_labels``, official order), or the high-influence
    pairs file (``tr_idx``, ``mem``, plus ``tt_idx``/``infl``): one row per (train, test) pair, so a training
    index may repeat (with the same ``mem``; duplicates are merged, conflicting values rejected).

    Args:
        bundle: if given, the labels (the file's ``tr_labels``, else ``labels``) must equal its training
            labels, and the indices must fit its training set.
        labels: the official-order training labels when the file has none: an array, or the path of an
            ``.npz`` holding ``labels`` or ``tr_labels`` (e.g. the C-score file of the same dataset). Without
            any labels the order cannot be checked and a warning says so.

    Raises:
        ValueError: missing arrays, conflicting duplicates, indices out of range, or mismatched labels.
    """
    source = Path(path).name
    arrays = _read_npz(path, (("tr_mem",), ("tr_idx", "mem")))
    file_labels = arrays.get("tr_labels")
    if file_labels is None and labels is not None:
        if isinstance(labels, (str, os.PathLike)):
            other = _read_npz(labels, (("labels",), ("tr_labels",)))
            labels = other.get("labels", other.get("tr_labels"))
        file_labels = labels
    lab = None if file_labels is None else check_labels(f"{source}: labels", file_labels)
    if "tr_mem" in arrays:
        n = len(np.asarray(arrays["tr_mem"]))
        scores = _check_scores(source, arrays["tr_mem"], n, low=-1.0)
        index = np.arange(n)
        if lab is not None and len(lab) != n:
            raise ValueError(f"{source}: {len(lab)} labels for {n} scores")
    else:
        idx = np.asarray(arrays["tr_idx"])
        if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
            raise ValueError(f"{source}: tr_idx must be a 1-D integer array, got {idx.dtype} {idx.shape}")
        mem = _check_scores(source, arrays["mem"], len(idx), low=-1.0)
        index, first = np.unique(idx.astype(np.int64), return_index=True)
        scores = mem[first]
        if not np.array_equal(mem, scores[np.searchsorted(index, idx)]):
            raise ValueError(f"{source}: a training index repeats with different mem values")
        if index.size and index[0] < 0:
            raise ValueError(f"{source}: negative training indices")
        if lab is not None and index.size and index[-1] >= len(lab):
            raise ValueError(f"{source}: training index {int(index[-1])} is out of range for {len(lab)} labels")
    if bundle is not None:
        if lab is not None:
            _check_labels(lab, bundle, source)
        else:
            warnings.warn(f"{source} has no labels: cannot check that {bundle.name!r} is in the official "
                          f"training order (pass labels=, e.g. the dataset's C-score file)", RuntimeWarning,
                          stacklevel=2)
        if index.size and index[-1] >= _source_size(bundle):
            raise ValueError(f"{source}: training index {int(index[-1])} is out of range for {bundle.name!r} "
                             f"({_source_size(bundle)} training examples)")
    return PublishedScores(index=index, scores=scores, labels=lab, source=source)


#: What :func:`published_memorization` does with training examples a file gives no estimate for.
MISSING_POLICIES = ("nan", "refuse", "zero")


def published_memorization(path: str | os.PathLike, bundle: DataBundle, *, missing: str = "nan"
                           ) -> MemorizationScores:
    """:class:`MemorizationScores` from a published file, checked against ``bundle``'s training labels.

    * C-scores (``labels`` + ``scores``, :func:`load_cscores`): memorization = 1 − C-score and
      ``p_out`` = the C-score, which is by definition the expected held-out accuracy of the example.
    * Feldman & Zhang (``tr_mem`` or ``tr_idx`` + ``mem``, :func:`load_feldman_zhang`): their ``mem``;
      ``p_out`` is unknown (NaN). The high-influence pairs file covers only the examples of its pairs
      (memorization ≥ 0.25): ``missing`` says what the others get. ``"nan"`` (default, for analysis): NaN,
      which RUM's refinement refuses; ``"refuse"``: a ValueError that counts them; ``"zero"``: 0, i.e.
      "not memorized", the reading of a file that lists every example above its threshold (the paper's RUM
      then draws the low level from those zeros, so say so where it is reported).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not an .npz (the format found is named), neither layout, scores outside [0, 1], labels
            that do not match ``bundle`` (another dataset or order), or missing estimates under
            ``missing="refuse"``.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
    arrays = _read_npz(path, (("labels", "scores"), ("tr_mem",), ("tr_idx", "mem")))
    n = len(bundle.train)
    if "scores" in arrays:
        published = load_cscores(path, bundle)
        cscore = published.for_bundle(bundle)
        scores, p_out, kind = 1.0 - cscore, cscore, "1 − C-score"
    else:
        published = load_feldman_zhang(path, bundle)
        scores, p_out, kind = published.for_bundle(bundle), np.full(n, np.nan), "Feldman & Zhang mem"
        absent = np.isnan(scores)
        if absent.any() and missing == "refuse":
            raise ValueError(f"{published.source}: {int(absent.sum())} of {n} training examples have no estimate "
                             f"(the file lists {n - int(absent.sum())}); choose a policy for them: "
                             f"missing='zero' (rum reproduce --missing-scores zero) reads them as not memorized")
        if absent.any() and missing == "zero":
            scores = np.where(absent, 0.0, scores)
            kind += f", {int(absent.sum())} examples without an estimate read as 0"
    return MemorizationScores(scores=scores, p_out=p_out, source=f"{kind} from {published.source}",
                              config={"published": published.source, "scores": scores},
                              grad_evals=float("nan"))
