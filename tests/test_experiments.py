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


def _diverging(real_make, bad_lr, bad_seed=None):
    """``unlearners.make`` whose unlearners built with ``lr == bad_lr`` raise the divergence error (on
    ``bad_seed`` only, when given)."""
    def make(name, **hp):
        unlearner = real_make(name, **hp)
        if hp.get("lr") != bad_lr:
            return unlearner

        def run(*a, seed=0, **k):
            if bad_seed is None or seed == bad_seed:
                raise FloatingPointError(f"{name} diverged (test)")
            return unlearner(*a, seed=seed, **k)
        return run
    return make


def test_tune_unlearners_chooses_the_best_mean_tow_of_equal_budgets(smoke):
    """Guards against a tuning that scores against the wrong reference or picks other than the best: each
    trial's ToW equals unlearning_runs' ToW for the same configuration and seed, and the chosen one is the
    argmax of the mean over the tuning seeds."""
    grid = {"finetune": {"lr": [0.01, 0.1]}, "neggrad": {"lr": [0.01, 0.05]}}
    chosen, trials = experiments.tune_unlearners(smoke, grid, tune_seeds=[100, 101])
    assert trials.groupby("method").size().to_dict() == {"finetune": 2, "neggrad": 2}
    for method, group in trials.groupby("method"):
        best = group.loc[group["tow"].idxmax()]
        assert best["chosen"] and group["chosen"].sum() == 1
        assert chosen[method] == {**smoke.method_hparams(method), "lr": best["lr"]}
    spec = {"method": "finetune", **smoke.method_hparams("finetune"), "lr": 0.1}
    direct = experiments.unlearning_runs(smoke, {"ft": spec}, seeds=[100, 101])
    expected = direct.loc[direct["method"] == "ft", "tow"].mean()
    got = trials.query("method == 'finetune' and lr == 0.1")["tow"].item()
    assert got == pytest.approx(expected, abs=1e-12)


def test_tune_unlearners_records_divergence_and_never_chooses_it(smoke, monkeypatch):
    """A diverging configuration is a losing one, recorded as such: never chosen, NaN score even though it
    finished on the other seed (its mean over the finished seed alone must not count); when every
    configuration of a method diverges the tuning refuses rather than return a default."""
    real = experiments.unlearners.make
    monkeypatch.setattr(experiments.unlearners, "make", _diverging(real, 0.5, bad_seed=103))
    chosen, trials = experiments.tune_unlearners(smoke, {"finetune": {"lr": [0.5, 0.01]}}, tune_seeds=[102, 103],
                                                 use_cache=False)
    bad = trials[trials["lr"] == 0.5].iloc[0]
    assert bad["diverged"] and np.isnan(bad["tow"]) and not bad["chosen"]
    assert chosen["finetune"]["lr"] == 0.01
    monkeypatch.setattr(experiments.unlearners, "make", _diverging(real, 0.5))
    with pytest.raises(ValueError, match="every configuration of 'finetune' diverged"):
        experiments.tune_unlearners(smoke, {"finetune": {"lr": [0.5]}}, tune_seeds=[102], use_cache=False)


def test_tune_unlearners_bad_inputs(smoke):
    with pytest.raises(ValueError, match="same number of configurations"):
        experiments.tune_unlearners(smoke, {"finetune": {"lr": [0.01, 0.1]}, "neggrad": {"lr": [0.01]}},
                                    tune_seeds=[100])
    with pytest.raises(ValueError, match="among the reported seeds"):
        experiments.tune_unlearners(smoke, {"finetune": {"lr": [0.01]}}, tune_seeds=[0, 100])
    with pytest.raises(ValueError, match="metric"):
        experiments.tune_unlearners(smoke, {"finetune": {"lr": [0.01]}}, tune_seeds=[100], metric="mia_gap")
    with pytest.raises(ValueError, match="reference"):
        experiments.tune_unlearners(smoke, {"retrain": {"lr": [0.01]}}, tune_seeds=[100])
    with pytest.raises(ValueError):  # an unknown hyperparameter fails before any training
        experiments.tune_unlearners(smoke, {"finetune": {"lrate": [0.01]}}, tune_seeds=[100])
