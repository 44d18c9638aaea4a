"""A small on-disk cache for expensive results, keyed by their full configuration.

Results (model weights, arrays, tables) are stored under ``$RUM_CACHE`` (default ``~/.cache/rum_core``)
in files named by a hash of:

* a ``kind`` (what is stored, e.g. ``"original-model"``),
* the configuration (any JSON-serializable mapping; dataclasses are converted),
* a fingerprint of the source of the rum_core modules the computation depends on,

so a changed configuration or a changed algorithm never returns a stale result. Every file is written to a
temporary name and renamed into place (``os.replace``), so an interrupted run never leaves a half-written
entry and a rerun resumes from what finished. Model weights are read back with ``weights_only=True``.

Damage is detected, never used: every entry is stored with a checksum file beside it (``<entry>.sha256``:
the SHA-256 and size of its bytes, written after the entry). On read the entry is checked against it; an
entry whose bytes changed (a flipped bit, an edited digit), that was truncated or emptied, that cannot be
parsed, or that has no checksum (an interrupted write, or a cache of an older version) is reported by its
path in a :class:`DamagedCacheEntry` warning, moved aside to ``<entry>.damaged-<n>`` for inspection and
recomputed. This is why the cache is hand-written rather than ``joblib.Memory``: joblib keys a result by
the source of the decorated function only, not by that of the rum_core modules it calls (``depends``), and
it neither checksums its entries nor sets damaged ones aside.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import tempfile
import warnings
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

__all__ = ["cache_dir", "atomic_write", "cache_key", "cache_path", "cached_arrays", "cached_state",
           "cached_frame", "DamagedCacheEntry", "CHECKSUM_SUFFIX"]

CACHE_ENV = "RUM_CACHE"
#: Suffix of the checksum file stored beside every cache entry.
CHECKSUM_SUFFIX = ".sha256"
_PACKAGE_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path:
    """The cache root: ``$RUM_CACHE`` if set, else ``~/.cache/rum_core``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "rum_core"


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path`` in one step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp" + path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


@cache
def _source_fingerprint(modules: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    for module in modules:
        target = _PACKAGE_DIR / module.replace(".", "/")
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]
        if not files or not files[0].exists():
            raise ValueError(f"cache dependency {module!r} is not a rum_core module")
        for f in files:
            digest.update(str(f.relative_to(_PACKAGE_DIR)).encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def _jsonable(obj):
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(dataclasses.asdict(obj))
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"ndarray_sha256": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest(),
                "dtype": str(obj.dtype), "shape": list(obj.shape)}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"cannot use a {type(obj).__name__} in a cache key; pass plain values")


def cache_key(kind: str, config: Mapping, depends: Iterable[str] = ()) -> str:
    """Hash of ``kind``, ``config`` and the source of the rum_core modules in ``depends``."""
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"kind must be a non-empty string, got {kind!r}")
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping (the settings that determine the result), got {config!r}")
    payload = {"kind": kind, "config": _jsonable(config),
               "code": _source_fingerprint(tuple(sorted(depends)))}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:24]


def cache_path(kind: str, config: Mapping, suffix: str, depends: Iterable[str] = ()) -> Path:
    """Where the entry for ``(kind, config)`` lives; a JSON description of the key is written beside it."""
    key = cache_key(kind, config, depends)
    path = cache_dir() / kind / f"{key}{suffix}"
    meta = path.with_suffix(".json")
    if not meta.exists():
        text = json.dumps({"kind": kind, "config": _jsonable(config), "depends": sorted(depends)}, indent=1)
        atomic_write(meta, lambda tmp: tmp.write_text(text))
    return path


class DamagedCacheEntry(UserWarning):
    """A cache entry failed its check (see the module docstring); it was moved aside and is recomputed."""


def _checksum_path(path: Path) -> Path:
    return path.with_name(path.name + CHECKSUM_SUFFIX)


def _digest(data: bytes) -> str:
    """What the checksum file holds for an entry of these bytes: SHA-256 and size."""
    return f"{hashlib.sha256(data).hexdigest()} {len(data)}"


def _store(path: Path, write: Callable[[Path], None]) -> None:
    """Write the entry atomically, then its checksum (so an entry without one was never completed)."""
    atomic_write(path, write)
    checksum = _digest(path.read_bytes())
    atomic_write(_checksum_path(path), lambda tmp: tmp.write_text(checksum + "\n"))


def _set_aside(path: Path, why: str) -> None:
    """Move a damaged entry (and its checksum) out of the way, with a warning that names it."""
    n = 0
    while path.with_name(f"{path.name}.damaged-{n}").exists():
        n += 1
    aside = path.with_name(f"{path.name}.damaged-{n}")
    os.replace(path, aside)
    checksum = _checksum_path(path)
    if checksum.exists():
        os.replace(checksum, aside.with_name(aside.name + CHECKSUM_SUFFIX))
    warnings.warn(f"damaged cache entry {str(path)!r} ({why}): moved aside to {str(aside)!r}; recomputing",
                  DamagedCacheEntry, stacklevel=3)


def _load_verified(path: Path, read: Callable[[io.BytesIO], object]):
    """``(True, read(bytes))`` for an intact entry; ``(False, None)`` when there is none or it was damaged
    (then it has been set aside with a warning). The file is read once: checked and parsed from memory."""
    if not path.exists():
        return False, None
    checksum = _checksum_path(path)
    try:
        expected = checksum.read_text().strip() if checksum.exists() else None
    except (OSError, UnicodeDecodeError) as err:
        expected, why = None, f"unreadable checksum: {err}"
    else:
        why = "no checksum: an interrupted write or an older cache"
    if expected is not None:
        data = path.read_bytes()
        actual = _digest(data)
        if actual == expected:
            try:
                return True, read(io.BytesIO(data))
            except Exception as err:  # noqa: BLE001 - any parse failure of a checksummed entry is damage
                why = f"unreadable although its checksum matches: {type(err).__name__}: {err}"
        else:
            why = f"its contents changed: SHA-256 and size {actual}, stored {expected[:80]!r}"
    _set_aside(path, why)
    return False, None


def _read_npz(file) -> dict[str, np.ndarray]:
    with np.load(file, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def cached_arrays(kind: str, config: Mapping, compute: Callable[[], Mapping[str, np.ndarray]],
                  depends: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """Return the arrays for ``(kind, config)``, computing and storing them (``.npz``) on a miss."""
    path = cache_path(kind, config, ".npz", depends)
    hit, arrays = _load_verified(path, _read_npz)
    if hit:
        return arrays
    arrays = {k: np.asarray(v) for k, v in compute().items()}
    _store(path, lambda tmp: np.savez(tmp, **arrays))
    return arrays


def cached_state(kind: str, config: Mapping, compute: Callable[[], Mapping], depends: Iterable[str] = ()):
    """Return a dict of tensors / numbers for ``(kind, config)`` (e.g. a model's state dict plus stats).

    Stored with ``torch.save`` and read back with ``weights_only=True``, so only tensors and plain values
    are ever loaded.
    """
    import torch

    path = cache_path(kind, config, ".pt", depends)
    hit, state = _load_verified(path, lambda f: torch.load(f, map_location="cpu", weights_only=True))
    if hit:
        return state
    state = compute()
    _store(path, lambda tmp: torch.save(state, tmp))
    return state


def cached_frame(kind: str, config: Mapping, compute: Callable, depends: Iterable[str] = ()):
    """Return a pandas DataFrame for ``(kind, config)``, stored as CSV."""
    import pandas as pd

    path = cache_path(kind, config, ".csv", depends)
    hit, frame = _load_verified(path, pd.read_csv)
    if hit:
        return frame
    frame = compute()
    _store(path, lambda tmp: frame.to_csv(tmp, index=False))
    return pd.read_csv(path)  # read back, so a cold and a warm call return identical frames
