import numpy as np
import pytest

from rum_core import experiments, profiles


@pytest.fixture(scope="module")
def smoke():
    return profiles.get_profile("smoke")


def test_unlearning_runs_table(smoke):
    runs = experiments.unlearning_runs(smoke, ["identity", "finetune"], seeds=[0, 1])
    assert list(runs.columns) == ["seed", "forget_set", "method", "forget", "retain", "test", "tow", "mia",
                                  "mia_retrain", "mia_gap", "tow_mia", "loss_auc", "seconds", "grad_evals",
                                  "rel_seconds", "rel_grad_evals"]
    assert len(runs) == 6 and set(runs["method"]) == {"retrain", "identity", "finetune"}
    ref = runs[runs["method"] == "retrain"]
    np.testing.assert_array_equal(ref["tow"], 1.0)  # the reference scores itself perfectly
    np.testing.assert_array_equal(ref["mia_gap"], 0.0)
    np.testing.assert_array_equal(ref["tow_mia"], 1.0)
    assert (runs["tow"].between(0, 1)).all()
    identity = runs[runs["method"] == "identity"]
    assert (identity["grad_evals"] == 0).all()
    np.testing.assert_array_equal(ref["rel_grad_evals"], 1.0)
    ft = runs[runs["method"] == "finetune"]
    np.testing.assert_allclose(ft["rel_grad_evals"], ft["grad_evals"].to_numpy() / ref["grad_evals"].to_numpy())
    # the original model saw the forget set: it is at least as accurate there as the retrained model
    assert (identity["forget"].to_numpy() >= ref["forget"].to_numpy()).all()


def test_unlearning_runs_are_cached(smoke, monkeypatch):
    first = experiments.unlearning_runs(smoke, ["identity"], seeds=[0])
    monkeypatch.setattr(experiments, "original_model", lambda *a, **k: pytest.fail("recomputed"))
    second = experiments.unlearning_runs(smoke, ["identity"], seeds=[0])
    assert first.equals(second)


def test_unlearning_runs_validates_before_training(smoke):
    with pytest.raises(ValueError, match="retrain"):
        experiments.unlearning_runs(smoke, ["retrain"], seeds=[0])
    with pytest.raises(ValueError, match="unknown unlearner"):
        experiments.unlearning_runs(smoke, ["nope"], seeds=[0])
    with pytest.raises(ValueError, match="seeds"):
        experiments.unlearning_runs(smoke, ["identity"], seeds=[])


def test_random_forget_sets_are_seeded(smoke):
    bundle = experiments.load_data(smoke)
    draw = experiments.random_forget_sets(smoke)
    a, b, c = draw(bundle, 0), draw(bundle, 0), draw(bundle, 1)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert len(a) == round(smoke.forget_fraction * len(bundle.train)) and len(np.unique(a)) == len(a)


def test_unlearning_grid_labels_levels_and_resumes(smoke, monkeypatch):
    """Each level runs on its own forget sets (guards against reusing one level's sets or cache entry for
    another) and a finished level is reused from the cache when the grid is extended."""
    def first_half(bundle, seed):
        return np.arange(0, 40)

    def second_half(bundle, seed):
        return np.arange(40, 80)

    first_half.forget_name = "test-first-40"
    grid = experiments.unlearning_grid(smoke, ["identity"], {"high": first_half, "low": second_half}, seeds=[0])
    assert list(grid["level"].cat.categories) == ["high", "low"]  # mapping order, not alphabetical
    assert set(grid["forget_set"]) == {"test-first-40", "low"}
    assert len(grid) == 4  # 2 levels × (retrain + identity)
    low = experiments.unlearning_runs(smoke, ["identity"], seeds=[0], forget_sets=second_half, forget_name="low")
    assert grid[grid["level"] == "low"].drop(columns="level").reset_index(drop=True).equals(low)

    calls = []
    real = experiments.unlearning_runs

    def spy(*args, **kwargs):
        calls.append(kwargs["forget_name"])
        return real(*args, **kwargs)

    monkeypatch.setattr(experiments, "unlearning_runs", spy)
    monkeypatch.setattr(experiments, "original_model", lambda *a, **k: pytest.fail("a finished level recomputed"))
    again = experiments.unlearning_grid(smoke, ["identity"], {"high": first_half}, seeds=[0])
    assert calls == ["test-first-40"]
    assert again.drop(columns="level").equals(grid[grid["level"] == "high"].drop(columns="level").reset_index(drop=True))
    with pytest.raises(ValueError, match="empty"):
        experiments.unlearning_grid(smoke, ["identity"], {}, seeds=[0])
