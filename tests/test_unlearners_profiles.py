"""Every method runs with every profile's hyperparameters on data of that profile's shape.

Catches a profile whose settings a method cannot run: e.g. Influence over all 11 M parameters of the paper's
ResNet-18 (per-example gradients do not fit), or an override naming a hyperparameter a method lacks. ResNet
profiles run ONE epoch of each iterative method (retrain included) so that the test stays within seconds on
a CPU; every other hyperparameter is the profile's, and more epochs would only repeat the same loop.
"""

import copy

import numpy as np
import pytest
import torch

from rum_core import models, profiles, unlearners
from rum_core.data import DataBundle, Split

_SHAPES = {"digits": ((1, 8, 8), 10), "mnist1d": ((1, 1, 40), 10), "cifar10": ((3, 32, 32), 10)}


def _tiny_bundle(dataset: str, n: int = 12) -> DataBundle:
    """A dozen random examples shaped like ``dataset``, every class present where n allows."""
    shape, classes = _SHAPES[dataset]
    gen = torch.Generator().manual_seed(0)
    x = torch.randn((n, *shape), generator=gen)
    y = torch.arange(n) % classes
    return DataBundle(f"tiny-{dataset}", Split(x, y), Split(x[:4], y[:4]), classes,
                      tuple(str(c) for c in range(classes)), (0.0,) * shape[0], (1.0,) * shape[0])


def _hparams(profile: profiles.Profile, method: str) -> dict:
    """The profile's hyperparameters for ``method``, with one epoch for ResNets (see the module docstring)."""
    hparams = profile.method_hparams(method)
    # the method's own defaults count too: a profile without overrides (paper) runs the methods' 5-10 epochs
    if profile.model.startswith("resnet") and "epochs" in unlearners.make(method).hparams:
        hparams["epochs"] = 1
    return hparams


@pytest.mark.parametrize("profile_name", sorted(profiles.PROFILES))
def test_every_method_runs_with_every_profiles_hyperparameters(profile_name):
    # mutation caught: the paper profile without unlearn={"influence": {"params": "head"}} (Influence raises)
    profile = profiles.get_profile(profile_name)
    assert profile.dataset in _SHAPES, f"add {profile.dataset!r}'s input shape to this test"
    bundle = _tiny_bundle(profile.dataset)
    model = models.build(profile.model, bundle, seed=0, **profile.model_kwargs)
    before = copy.deepcopy(model.state_dict())
    forget = np.array([0, 5, 7])
    for method in unlearners.available():
        result = unlearners.make(method, **_hparams(profile, method))(model, bundle, forget, seed=0,
                                                                       progress_bar=False)
        assert result.model.spec == model.spec, method
        with torch.no_grad():
            out = result.model(bundle.train.x)
        assert out.shape == (len(bundle.train), bundle.num_classes), method
        assert torch.isfinite(out).all(), f"{method} at {profile_name} gives non-finite outputs"
        state = result.model.state_dict()
        assert state.keys() == before.keys(), method
        assert all(state[k].shape == before[k].shape for k in before), method
        assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point()), method
        state = model.state_dict()
        assert all(torch.equal(before[k], state[k]) for k in before), f"{method} modified its input model"


def test_paper_influence_needs_its_head_option():
    """Influence over every ResNet-18 parameter refuses to run (and says what to do); the paper profile's
    override takes the Newton step in the head only, which runs and leaves the features untouched."""
    # mutation caught: Influence ignoring params="head" (it would refuse, or move the features)
    profile = profiles.get_profile("paper")
    hparams = profile.method_hparams("influence")
    assert hparams.get("params") == "head"
    bundle = _tiny_bundle(profile.dataset)
    model = models.build(profile.model, bundle, seed=0, **profile.model_kwargs)
    forget = np.array([0, 5, 7])
    with pytest.raises(ValueError, match="params='head'"):
        unlearners.make("influence", **{**hparams, "params": "all"})(model, bundle, forget)
    out = unlearners.make("influence", **hparams)(model, bundle, forget).model
    assert all(torch.equal(a, b) for a, b in zip(model.features.state_dict().values(),
                                                 out.features.state_dict().values(), strict=True))
    assert not torch.equal(model.head.weight, out.head.weight)


@pytest.mark.parametrize("profile_name", sorted(profiles.PROFILES))
def test_profiles_unlearn_at_a_constant_rate_and_retrain_with_the_original_cosine(profile_name):
    """Every iterative method of every profile resolves to the constant rate of the authors' unlearning runs;
    the original model and its retrain reference keep the paper's cosine recipe."""
    # mutations caught: TRAIN_DEFAULTS["schedule"] = "cosine"; TrainConfig's default schedule = "constant"
    profile = profiles.get_profile(profile_name)
    assert profile.train.schedule == "cosine"
    for method in unlearners.available():
        resolved = unlearners.make(method, **profile.method_hparams(method)).hparams
        if "schedule" not in resolved:  # identity, influence: no optimizer
            continue
        if method == "retrain":
            assert resolved == {**resolved, **profile.train.as_dict()}  # the original model's recipe
        assert resolved["schedule"] == ("cosine" if method == "retrain" else "constant"), method
