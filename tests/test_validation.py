"""Bad input gets a clear error that names the argument, never a coerced or silently wrong result."""

import math

import numpy as np
import pytest

from rum_core import experiments, partition, profiles, unlearners
from rum_core.training import TrainConfig, train_model
from rum_core.validation import (
    check_choice,
    check_columns,
    check_indices,
    check_int,
    check_number,
    check_seeds,
)


@pytest.mark.parametrize("value", [2.7, 3.0, "3", True, None, np.float64(2.0), [3]])
def test_check_int_refuses_what_is_not_an_integer(value):
    """Guards against int(2.7) == 2: a float, a string or a bool is refused, not truncated or parsed."""
    with pytest.raises(TypeError, match="epochs must be an integer"):
        check_int("epochs", value, low=0)


def test_check_int_accepts_numpy_integers_and_checks_the_range():
    assert check_int("k", np.int32(4), low=0) == 4 and type(check_int("k", np.int64(4))) is int
    with pytest.raises(ValueError, match=r"k must be in \[1, 3\], got 4"):
        check_int("k", 4, low=1, high=3)


@pytest.mark.parametrize("value, error, match", [
    (math.nan, ValueError, "lr must be finite"), (math.inf, ValueError, "lr must be finite"),
    (-0.1, ValueError, "lr must be > 0"), (0.0, ValueError, "lr must be > 0"),
    ("0.1", TypeError, "lr must be a number"), (True, TypeError, "lr must be a number")])
def test_check_number(value, error, match):
    with pytest.raises(error, match=match):
        check_number("lr", value, low=0, low_open=True)


def test_check_number_closed_and_open_bounds():
    assert check_number("a", 1, low=0, high=1) == 1.0
    with pytest.raises(ValueError, match=r"a must be in \[0, 1\), got 1.0"):
        check_number("a", 1, low=0, high=1, high_open=True)


def test_check_choice_is_exact():
    """Guards against 1 == True style matches: a choice must be the value itself, of its type."""
    assert check_choice("augment", None, (None, "crop")) is None
    for bad in ("Crop", 0, False):
        with pytest.raises(ValueError, match="augment must be one of"):
            check_choice("augment", bad, (None, "crop"))


@pytest.mark.parametrize("seeds, error, match", [
    ([0, 0], ValueError, r"distinct .* \[0\] more than once"), ([0, 1, 2, 1], ValueError, r"\[1\]"),
    ([0.5], TypeError, r"seeds\[0\] must be an integer"), ([0, 1.0], TypeError, r"seeds\[1\]"),
    ([], ValueError, "seeds is empty"), ([-1], ValueError, r"seeds\[0\] must be ≥ 0"),
    ("012", TypeError, "sequence of integers"), (3, TypeError, "sequence of integers")])
def test_check_seeds(seeds, error, match):
    with pytest.raises(error, match=match):
        check_seeds(seeds)


def test_check_seeds_keeps_order():
    assert check_seeds(range(3)) == [0, 1, 2] and check_seeds(np.array([5, 2])) == [5, 2]


@pytest.mark.parametrize("idx, error, match", [
    ([-1, -2, -3], ValueError, r"out of range \[0, 10\): \[-1, -2, -3\]"), ([0, 10], ValueError, "out of range"),
    ([1, 1, 2], ValueError, r"duplicated indices: \[1\]"), ([0.0, 1.0], TypeError, "integer indices"),
    ([True, False], TypeError, "boolean mask"), ([[0, 1], [2, 3]], ValueError, "1-D"),
    ("01", TypeError, "string"), (np.int64(3), ValueError, "1-D")])
def test_check_indices(idx, error, match):
    with pytest.raises(error, match=match):
        check_indices("idx", idx, 10)


def test_check_indices_returns_int64_in_order_and_can_refuse_empty():
    out = check_indices("idx", np.array([3, 1], dtype=np.int32), 10)
    assert out.dtype == np.int64 and out.tolist() == [3, 1]
    assert check_indices("idx", [], 10).size == 0
    with pytest.raises(ValueError, match="idx is empty"):
        check_indices("idx", [], 10, allow_empty=False)


@pytest.mark.parametrize("columns, error, match", [
    ([], ValueError, "non-empty"), (None, TypeError, "NoneType"), (3, TypeError, "int"),
    (["tow", 3], TypeError, "3"), ({"tow"}, TypeError, "set")])
def test_check_columns_refuses_what_is_not_a_list_of_names(columns, error, match):
    with pytest.raises(error, match=match):
        check_columns("metrics", columns)


def test_check_columns_reads_a_string_as_one_name_and_keeps_order():
    assert check_columns("by", "method") == ["method"]  # not ["m", "e", ...]
    assert check_columns("metrics", ("tow", "mia_gap")) == ["tow", "mia_gap"]


# ------------------------------------------------------------------------------------ at the boundaries
@pytest.mark.parametrize("method", ["finetune", "salun", "scrub", "neggrad_plus", "retrain"])
@pytest.mark.parametrize("bad, error, name", [
    ({"epochs": 2.7}, TypeError, "epochs"), ({"epochs": "3"}, TypeError, "epochs"),
    ({"batch_size": 2.5}, TypeError, "batch_size"), ({"batch_size": 0}, ValueError, "batch_size"),
    ({"lr": -0.1}, ValueError, "lr"), ({"lr": math.nan}, ValueError, "lr"), ({"lr": math.inf}, ValueError, "lr"),
    ({"momentum": 1.5}, ValueError, "momentum"), ({"schedule": "step"}, ValueError, "schedule")])
def test_unlearner_hyperparameters_are_checked_when_configured(method, bad, error, name):
    """Every method refuses a bad shared hyperparameter in make(), before any work, naming it."""
    with pytest.raises(error, match=name):
        unlearners.make(method, **bad)


@pytest.mark.parametrize("method, bad, error", [
    ("neggrad_plus", {"alpha": 1.2}, ValueError), ("neggrad_plus", {"alpha": -0.1}, ValueError),
    ("neggrad_plus", {"alpha": "0.9"}, TypeError), ("l1_sparse", {"alpha": -1e-3}, ValueError),
    ("salun", {"mask_ratio": 1.5}, ValueError), ("salun", {"selection": "random"}, ValueError),
    ("salun", {"relabel": "never"}, ValueError), ("random_label", {"relabel": "never"}, ValueError),
    ("scrub", {"msteps": 2.0}, TypeError), ("scrub", {"temperature": 0}, ValueError),
    ("scrub", {"gamma": math.nan}, ValueError), ("influence", {"n_samples": 10.5}, TypeError),
    ("influence", {"damping": 0.0}, ValueError), ("influence", {"params": "some"}, ValueError),
    ("influence", {"alpha": math.inf}, ValueError)])
def test_method_specific_hyperparameters_are_checked(method, bad, error):
    (name,) = bad
    with pytest.raises(error, match=name):
        unlearners.make(method, **bad)


def test_hyperparameters_are_stored_as_checked():
    """An int learning rate is a float once checked, so equal settings give equal hyperparameters."""
    assert unlearners.make("finetune", lr=1).hparams["lr"] == 1.0
    assert isinstance(unlearners.make("finetune", lr=1).hparams["lr"], float)


def test_train_config_uses_the_same_checks():
    with pytest.raises(TypeError, match="epochs must be an integer"):
        TrainConfig(epochs=2.7, lr=0.1)
    with pytest.raises(ValueError, match="weight_decay must be ≥ 0"):
        TrainConfig(epochs=2, lr=0.1, weight_decay=-1e-4)


def test_set_entanglement_refuses_negative_indices():
    """Guards against emb[[-1, -2, -3]] silently meaning the last three examples."""
    emb = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match="out of range"):
        partition.set_entanglement(emb, [-1, -2, -3])
    with pytest.raises(ValueError, match="duplicated"):
        partition.set_entanglement(emb, [1, 1, 2])


def test_train_model_refuses_duplicated_training_indices(synthetic):
    """Guards against train_idx=[0, 0, …] counting an example twice (and a raw IndexError out of range)."""
    cfg = TrainConfig(epochs=1, lr=0.1, batch_size=32)
    with pytest.raises(ValueError, match=r"train_idx has duplicated indices: \[0\]"):
        train_model(synthetic, "mlp", cfg, train_idx=[0, 0, 1, 2], use_cache=False)
    with pytest.raises(ValueError, match="train_idx has indices out of range"):
        train_model(synthetic, "mlp", cfg, train_idx=[0, 10_000], use_cache=False)


def test_rum_runs_refuses_duplicate_seeds_before_any_work(monkeypatch):
    """Guards against rum_runs(seeds=[0, 0]) reporting n = 2 with a half-width of 0.000."""
    monkeypatch.setattr(experiments, "load_data", lambda *a, **k: pytest.fail("work started"))
    profile = profiles.get_profile("smoke")
    with pytest.raises(ValueError, match="distinct"):
        experiments.rum_runs(profile, seeds=[0, 0])
    with pytest.raises(TypeError, match="integer"):
        experiments.rum_runs(profile, seeds=[0, 1.5])


# ---------------------------------------------------------------------------------------------- non-finite
def test_a_diverged_unlearner_raises_instead_of_returning_a_nan_model(synthetic, fitted_mlp):
    """Guards against reporting accuracies of a NaN model (argmax of NaN logits is class 0, a number)."""
    import torch

    before = {k: v.clone() for k, v in fitted_mlp.state_dict().items()}
    with pytest.raises(FloatingPointError, match=r"unlearning with make\('neggrad'.*diverged.*NaN or infinite"):
        unlearners.make("neggrad", lr=1e30, epochs=3, batch_size=16)(fitted_mlp, synthetic, np.arange(40))
    assert all(torch.equal(before[k], v) for k, v in fitted_mlp.state_dict().items())  # the original is intact


def test_training_that_diverges_or_gets_nan_inputs_raises(synthetic):
    import torch

    from rum_core import models
    from rum_core.training import fit

    model = models.build("mlp", synthetic, seed=0, hidden=(8,))
    x, y = synthetic.train.x.clone(), synthetic.train.y
    with pytest.raises(FloatingPointError, match="training .* diverged"):
        fit(model, x * 1e30, y, TrainConfig(epochs=2, lr=1e10, batch_size=32, momentum=0.0))
    x[3, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="x holds 1 NaN or infinite"):
        fit(models.build("mlp", synthetic, seed=0, hidden=(8,)), x, y, TrainConfig(epochs=1, lr=0.1))
    assert torch.isfinite(synthetic.train.x).all()


def test_a_bundle_refuses_non_finite_images_and_labels_out_of_range(synthetic):
    import dataclasses

    import torch

    from rum_core.data import Split

    bad_x = synthetic.train.x.clone()
    bad_x[0, 0, 0, 0] = float("inf")
    with pytest.raises(ValueError, match="train: 1 image values are NaN or infinite"):
        dataclasses.replace(synthetic, train=Split(bad_x, synthetic.train.y))
    bad_y = synthetic.test.y.clone()
    bad_y[0] = synthetic.num_classes
    with pytest.raises(ValueError, match=r"test: labels must lie in \[0, "):
        dataclasses.replace(synthetic, test=Split(synthetic.test.x, bad_y))
    with pytest.raises(ValueError, match="images but"):
        dataclasses.replace(synthetic, test=Split(synthetic.test.x, torch.zeros(1, dtype=torch.long)))
