"""Property-based tests of the public boundary: hypothesis generates bad inputs for every target of
``bench/fuzz.py`` (index sets, hyperparameters, seeds, scores, embeddings, accuracies); every one must
raise a clear ValueError/TypeError, never return a result or crash inside torch or numpy."""

import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_spec = importlib.util.spec_from_file_location("fuzz", Path(__file__).resolve().parents[1] / "bench" / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)

TARGETS = fuzz._targets()
not_a_number = st.one_of(st.text(max_size=3), st.booleans(), st.none(), st.lists(st.integers(), max_size=2))
non_finite = st.sampled_from([math.nan, math.inf, -math.inf])

STRATEGIES = {
    # index sets into a training set of at most a few hundred rows: negative, out of range, repeated, not ints
    "indices": st.one_of(
        st.lists(st.integers(1, 50), min_size=1, max_size=8).map(lambda v: [*v, -v[0]]),
        st.lists(st.integers(0, 50), min_size=1, max_size=8).map(lambda v: [*v, v[0]]),
        st.lists(st.integers(10**6, 10**9), min_size=1, max_size=3),
        st.lists(st.floats(0, 50), min_size=1, max_size=5),
        st.lists(st.booleans(), min_size=1, max_size=5), st.text(min_size=1, max_size=4)),
    "int": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(max_value=-1), not_a_number),
    "positive": st.one_of(st.floats(max_value=0.0), non_finite, not_a_number),
    "fraction": st.one_of(st.floats(min_value=1.0, exclude_min=True), st.floats(max_value=0.0, exclude_max=True),
                          non_finite, not_a_number),
    "seeds": st.one_of(
        st.lists(st.integers(0, 100), min_size=1, max_size=5).map(lambda v: [*v, v[-1]]),
        st.lists(st.integers(0, 100), max_size=3).map(lambda v: [*v, 0.5]),
        st.lists(st.integers(max_value=-1), min_size=1, max_size=3), st.just([]), st.text(max_size=3)),
    "scores": st.one_of(
        st.integers(0, 59).map(lambda i: np.where(np.arange(60) == i, np.nan, np.linspace(0, 1, 60))),
        st.integers(1, 14).map(lambda n: np.ones(n)), not_a_number),  # too short for 3 groups of 5
    "embedding": st.one_of(
        st.integers(0, 239).map(lambda i: np.where(np.arange(240).reshape(60, 4) == i, np.inf, 0.5)),
        st.integers(1, 5).map(lambda d: np.ones((60, d, 2))), not_a_number),
    "accuracies": st.one_of(
        st.fixed_dictionaries({"forget": st.floats(min_value=1.0, exclude_min=True), "retain": st.just(1.0),
                               "test": st.just(1.0)}),
        st.fixed_dictionaries({"forget": not_a_number, "retain": st.just(1.0), "test": st.just(1.0)}),
        st.dictionaries(st.sampled_from(["forget", "retain"]), st.floats(0, 1), max_size=2)),
}


def test_every_kind_of_bad_input_has_a_strategy():
    assert {kind for kind, _ in TARGETS.values()} <= set(STRATEGIES)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_generated_bad_inputs_get_a_clear_error(name):
    kind, call = TARGETS[name]

    @settings(max_examples=25, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow])
    @given(bad=STRATEGIES[kind])
    def check(bad):
        result, detail = fuzz.outcome(call, bad)
        assert result == "clear", f"{name} with {bad!r}: {result}: {detail}"

    check()


def test_the_fixed_catalogue_is_all_clear():
    """bench/fuzz.py's own catalogue of bad values: no silent result, no crash."""
    found = fuzz.run()
    assert not found["silent"] and not found["crash"], found["silent"] + found["crash"]
    assert len(found["clear"]) > 400
