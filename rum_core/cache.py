"""A small on-disk cache for expensive results, keyed by their full configuration.

Results (model weights, arrays, tables) are stored under ``$RUM_CACHE`` (default ``~/.cache/rum_core``)
in files named by a hash of:

* a ``kind`` (what is stored, e.g. ``"original-model"``),
* the configuration (any JSON-serializable mapping; dataclasses are converted),
* a fingerprint of the source of the rum_core modules the computation depends on,

so a changed configuration or a changed algorithm never returns a stale result. Every file is written to a
temporary name and renamed into place (``os.replace``), so an interrupted run never leaves a half-written
entry and a rerun resumes from what finished. Model weights are read back with ``weights_only=True``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

CACHE_ENV = "RUM_CACHE"
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


def cached_arrays(kind: str, config: Mapping, compute: Callable[[], Mapping[str, np.ndarray]],
                  depends: Iterable[str] = ()) -> dict[str, np.ndarray]:
    """Return the arrays for ``(kind, config)``, computing and storing them (``.npz``) on a miss."""
    path = cache_path(kind, config, ".npz", depends)
    if path.exists():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    arrays = {k: np.asarray(v) for k, v in compute().items()}
    atomic_write(path, lambda tmp: np.savez(tmp, **arrays))
    return arrays


def cached_state(kind: str, config: Mapping, compute: Callable[[], Mapping], depends: Iterable[str] = ()):
    """Return a dict of tensors / numbers for ``(kind, config)`` (e.g. a model's state dict plus stats).

    Stored with ``torch.save`` and read back with ``weights_only=True``, so only tensors and plain values
    are ever loaded.
    """
    import torch

    path = cache_path(kind, config, ".pt", depends)
    if path.exists():
        return torch.load(path, map_location="cpu", weights_only=True)
    state = compute()
    atomic_write(path, lambda tmp: torch.save(state, tmp))
    return state


def cached_frame(kind: str, config: Mapping, compute: Callable, depends: Iterable[str] = ()):
    """Return a pandas DataFrame for ``(kind, config)``, stored as CSV."""
    import pandas as pd

    path = cache_path(kind, config, ".csv", depends)
    if path.exists():
        return pd.read_csv(path)
    frame = compute()
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
    return pd.read_csv(path)  # read back, so a cold and a warm call return identical frames
