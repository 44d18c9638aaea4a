"""Every method runs with every profile's hyperparameters on data of that profile's shape.

Catches a profile whose settings a method cannot run: e.g. Influence over all 11 M parameters of the paper's
ResNet-18 (per-example gradients do not fit), or an override naming a hyperparameter a method lacks. ResNet
profiles run one epoch of each iterative method (the other hyperparameters are the profile's).
"""

import copy

import numpy as np
import pytest
import torch

from rum_core import models, profiles, unlearners
from rum_core.data import DataBundle, Split

_SHAPES = {"digits": ((1, 8, 8), 10), "cifar10": ((3, 32, 32), 10)}


def _tiny_bundle(dataset: str, n: int = 12) -> DataBundle:
    """A dozen random examples shaped like ``dataset``, every class present where n allows."""
    shape, classes = _SHAPES[dataset]
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((n, *shape), generator=gen)
    y = torch.arange(n) % classes
    return DataBundle(f"tiny-{dataset}", Split(x, y), Split(x[:4], y[:4]), classes,
                      tuple(str(c) for c in range(classes)), (0.0,) * shape[0], (1.0,) * shape[0])


@pytest.mark.parametrize("profile_name", sorted(profiles.PROFILES))
def test_every_method_runs_with_every_profiles_hyperparameters(profile_name):
    profile = profiles.get_profile(profile_name)
    assert profile.dataset in _SHAPES, f"add {profile.dataset!r}'s input shape to this test"
    bundle = _tiny_bundle(profile.dataset)
    model = models.build(profile.model, bundle, seed=0, **profile.model_kwargs)
    before = copy.deepcopy(model.state_dict())
    forget = np.array([0, 5, 7])
    for method in unlearners.available():
        hparams = profile.method_hparams(method)
        if profile.model.startswith("resnet") and "epochs" in hparams:
            # one epoch of a ResNet on a CPU is enough to exercise the profile's settings (its epochs
            # only repeat the loop); the test stays within seconds
            hparams["epochs"] = 1
        result = unlearners.make(method, **hparams)(model, bundle, forget, seed=0, progress_bar=False)
        with torch.no_grad():
            out = result.model(bundle.train.x)
        assert out.shape == (len(bundle.train), bundle.num_classes), method
        assert torch.isfinite(out).all(), f"{method} at {profile_name} gives non-finite outputs"
        assert all(torch.isfinite(v).all() for v in result.model.state_dict().values() if v.is_floating_point())
        state = model.state_dict()
        assert all(torch.equal(before[k], state[k]) for k in before), f"{method} modified its input model"
