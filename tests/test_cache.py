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
