import numpy as np
import pandas as pd
import pytest

from rum_core import cache


def test_key_depends_on_every_config_value():
    base = {"a": 1, "b": [1, 2], "c": np.arange(3)}
    k = cache.cache_key("kind", base)
    assert cache.cache_key("kind", dict(base)) == k
    assert cache.cache_key("kind", {**base, "a": 2}) != k
    assert cache.cache_key("kind", {**base, "c": np.arange(4)}) != k
    assert cache.cache_key("other", base) != k
    assert cache.cache_key("kind", base, depends=("training",)) != k


def test_key_rejects_unhashable_objects():
    with pytest.raises(TypeError, match="object"):
        cache.cache_key("kind", {"x": object()})


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"

    def boom(tmp):
        tmp.write_text("partial")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cache.atomic_write(target, boom)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_cached_frame_and_arrays_compute_once(tmp_path, monkeypatch):
    monkeypatch.setenv("RUM_CACHE", str(tmp_path))
    calls = []

    def frame():
        calls.append("f")
        return pd.DataFrame({"x": [1.5, 2.5], "name": ["a", "b"]})

    def arrays():
        calls.append("a")
        return {"v": np.arange(4)}

    first = cache.cached_frame("t", {"k": 1}, frame)
    second = cache.cached_frame("t", {"k": 1}, frame)
    pd.testing.assert_frame_equal(first, second)
    a1 = cache.cached_arrays("t", {"k": 1}, arrays)
    a2 = cache.cached_arrays("t", {"k": 1}, arrays)
    np.testing.assert_array_equal(a1["v"], a2["v"])
    assert calls == ["f", "a"]
    cache.cached_frame("t", {"k": 2}, frame)
    assert calls == ["f", "a", "f"]


# ---------------------------------------------------------------------------------------------- damage
def _flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte, in the middle of the payload
    path.write_bytes(bytes(data))


def _edit_digit(path):
    """For text entries: change one digit, as a hand edit would (the headline number moves, nothing else)."""
    text = path.read_text()
    i = next(i for i in range(len(text) - 1, -1, -1) if text[i].isdigit())
    path.write_text(text[:i] + str((int(text[i]) + 1) % 10) + text[i + 1:])


DAMAGES = {
    "one byte": _flip_byte,
    "truncated": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "garbage": lambda p: p.write_bytes(b"\x00garbage\xff" * 50),
    "empty": lambda p: p.write_bytes(b""),
    "checksum lost": lambda p: cache._checksum_path(p).unlink(),
}


def _entries(kind):
    """Each kind of entry: (suffix, a deterministic compute, how to read the value back as numbers)."""
    import torch

    if kind == "arrays":
        return ".npz", lambda: {"a": np.linspace(0, 1, 257), "b": np.arange(12).reshape(3, 4)}, \
            cache.cached_arrays, lambda v: np.concatenate([v["a"], v["b"].ravel()])
    if kind == "state":
        return ".pt", lambda: {"w": torch.linspace(-1, 1, 300), "epochs": 3}, cache.cached_state, \
            lambda v: np.append(v["w"].numpy(), v["epochs"])
    return ".csv", lambda: pd.DataFrame({"row": ["rum", "finetune"], "tow": [0.9, 0.55123]}), \
        cache.cached_frame, lambda v: v["tow"].to_numpy()


@pytest.mark.parametrize("kind", ["arrays", "state", "frame"])
@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_entries_are_named_set_aside_and_recomputed(kind, damage, tmp_path, monkeypatch):
    """Guards against a damaged cache entry that is used as if real (an edited digit in a result table, a
    flipped bit in a model), that crashes without naming its file, or that is deleted without a trace: the
    rerun warns with the entry's path, keeps the damaged bytes aside, recomputes, and returns exactly the
    clean run's numbers."""
    monkeypatch.setenv("RUM_CACHE", str(tmp_path))
    suffix, compute, cached, numbers = _entries(kind)
    calls = []

    def counted():
        calls.append(1)
        return compute()

    clean = numbers(cached(kind, {"k": 1}, counted))
    path = cache.cache_path(kind, {"k": 1}, suffix)
    assert path.exists() and cache._checksum_path(path).exists()
    np.testing.assert_array_equal(numbers(cached(kind, {"k": 1}, counted)), clean)
    assert len(calls) == 1  # an intact entry is served, not recomputed
    (_edit_digit if kind == "frame" and damage == "one byte" else DAMAGES[damage])(path)
    damaged = path.read_bytes()
    with pytest.warns(cache.DamagedCacheEntry, match=str(path).replace("\\", "\\\\").replace(".", r"\.")):
        rerun = numbers(cached(kind, {"k": 1}, counted))
    np.testing.assert_array_equal(rerun, clean)
    assert len(calls) == 2
    aside = path.with_name(path.name + ".damaged-0")
    assert aside.exists()
    assert aside.read_bytes() == damaged  # kept for inspection, byte for byte
    assert cache._checksum_path(path).exists()  # the recomputed entry has its checksum again
    np.testing.assert_array_equal(numbers(cached(kind, {"k": 1}, counted)), clean)
    assert len(calls) == 2  # and is served from then on


def test_an_unparseable_entry_with_a_valid_checksum_is_set_aside(tmp_path, monkeypatch):
    """An entry whose checksum matches but which does not parse (written wrong) is damage too, not a crash."""
    monkeypatch.setenv("RUM_CACHE", str(tmp_path))
    path = cache.cache_path("arrays", {"k": 2}, ".npz")
    cache._store(path, lambda tmp: tmp.write_bytes(b"not an npz"))
    with pytest.warns(cache.DamagedCacheEntry, match="unreadable although its checksum matches"):
        got = cache.cached_arrays("arrays", {"k": 2}, lambda: {"a": np.arange(3)})
    np.testing.assert_array_equal(got["a"], np.arange(3))
