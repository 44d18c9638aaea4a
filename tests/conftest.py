"""Shared fixtures. Every test session gets its own empty rum_core cache and no progress bars."""

import os
import tempfile
from pathlib import Path

import matplotlib
import pytest
import torch

matplotlib.use("Agg")  # figures are inspected, never shown

import matplotlib.pyplot as plt  # noqa: E402

os.environ.setdefault("RUM_PROGRESS", "0")
if "RUM_CACHE" not in os.environ:
    os.environ["RUM_CACHE"] = tempfile.mkdtemp(prefix="rum_core-test-cache-")
# The test models are tiny: one thread is faster than two and immune to a busy machine's oversubscription.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def synthetic():
    from rum_core import data

    return data.load("synthetic", seed=0)


@pytest.fixture(scope="session")
def digits():
    from rum_core import data

    return data.load("digits", seed=0)


@pytest.fixture(scope="session")
def fitted_mlp(synthetic):
    """A small MLP that fits the synthetic training set (trained once per session)."""
    from rum_core.training import TrainConfig, train_model

    model, _ = train_model(synthetic, "mlp", TrainConfig(epochs=15, lr=0.05, batch_size=32), seed=0,
                           model_kwargs={"hidden": (32,)}, use_cache=False)
    return model


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test drew, so figure objects do not pile up across the suite."""
    yield
    plt.close("all")


@pytest.fixture
def shared_data():
    """``shared_data(*names)``: the directory of the optional offline data copies (``../shared/data`` beside
    the checkout; CIFAR-10 JPEGs, published C-scores and memorization values) once it holds every file named,
    else the test is skipped. The project never requires them; the tests of the CIFAR paths use them where
    they are at hand."""
    repo = Path(__file__).resolve().parents[1]

    def require(*names: str) -> Path:
        for root in (repo.parent / "shared" / "data", repo / "shared" / "data"):
            if all((root / name).is_file() for name in names):
                return root
        pytest.skip(f"optional data not on this machine: {', '.join(names)} (../shared/data)")

    return require
