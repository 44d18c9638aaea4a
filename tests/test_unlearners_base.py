"""The shared unlearner interface (every method inherits these guarantees)."""

import numpy as np
import pytest
import torch

from rum_core import unlearners

SMALL = {"retrain": {"epochs": 3, "lr": 0.05, "batch_size": 32},
         "finetune": {"epochs": 2, "lr": 0.01, "batch_size": 32}}
FORGET = np.arange(0, 24)


def _state(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("name", ["retrain", "finetune", "identity"])
def test_never_mutates_the_given_model(name, synthetic, fitted_mlp):
    """Unlearning works on a copy: the caller's original model stays bit-identical."""
    before = _state(fitted_mlp)
    result = unlearners.make(name, **SMALL.get(name, {}))(fitted_mlp, synthetic, FORGET, seed=0)
    assert result.model is not fitted_mlp
    for k, v in fitted_mlp.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_finetune_changes_weights_and_reports_cost(synthetic, fitted_mlp):
    result = unlearners.make("finetune", **SMALL["finetune"])(fitted_mlp, synthetic, FORGET, seed=0)
    assert not torch.equal(result.model.head.weight, fitted_mlp.head.weight)
    assert result.grad_evals == 2 * (len(synthetic.train) - len(FORGET))  # epochs × |retain|
    assert result.seconds > 0 and result.method == "finetune"
    assert result.hparams["epochs"] == 2 and result.hparams["momentum"] == 0.9
    assert result.cost() == {"seconds": result.seconds, "grad_evals": result.grad_evals}


def test_retrain_trains_only_on_retain(synthetic, fitted_mlp):
    result = unlearners.make("retrain", **SMALL["retrain"])(fitted_mlp, synthetic, FORGET, seed=0)
    assert result.grad_evals == 3 * (len(synthetic.train) - len(FORGET))
    # same seed and config → the same (cached) model; another seed → another model
    again = unlearners.make("retrain", **SMALL["retrain"])(fitted_mlp, synthetic, FORGET, seed=0)
    other = unlearners.make("retrain", **SMALL["retrain"])(fitted_mlp, synthetic, FORGET, seed=1)
    assert torch.equal(result.model.head.weight, again.model.head.weight)
    assert not torch.equal(result.model.head.weight, other.model.head.weight)


def test_identity_returns_an_equal_copy(synthetic, fitted_mlp):
    result = unlearners.make("identity")(fitted_mlp, synthetic, FORGET)
    assert result.grad_evals == 0
    assert torch.equal(result.model.head.weight, fitted_mlp.head.weight)
    assert result.model.head.weight.data_ptr() != fitted_mlp.head.weight.data_ptr()


def test_unknown_method_and_hparam_list_the_valid_ones():
    with pytest.raises(ValueError, match="finetune"):
        unlearners.make("forget-everything")
    with pytest.raises(ValueError, match="epochs"):
        unlearners.make("finetune", epoch=3)


@pytest.mark.parametrize(("forget", "retain", "match"), [
    ([], None, "empty"),
    ([0, 10_000], None, "out of range"),
    ([1, 1], None, "duplicated"),
    ([1, 2], [2, 3], "overlap"),
])
def test_bad_index_sets(forget, retain, match, synthetic, fitted_mlp):
    with pytest.raises(ValueError, match=match):
        unlearners.make("finetune")(fitted_mlp, synthetic, forget, retain)


def test_bad_model_or_bundle(synthetic, fitted_mlp, digits):
    with pytest.raises(TypeError, match="Classifier"):
        unlearners.make("finetune")(torch.nn.Linear(2, 2), synthetic, [0])
    with pytest.raises(TypeError, match="DataBundle"):
        unlearners.make("finetune")(fitted_mlp, synthetic.train, [0])
    with pytest.raises(ValueError, match="classes"):
        unlearners.make("finetune")(fitted_mlp, digits, [0])


def test_method_records_reach_the_caller(synthetic, fitted_mlp):
    """What a method records about its run (here SCRUB's max-step epochs) is returned, not lost."""
    result = unlearners.make("scrub", epochs=3, msteps=2, lr=0.01, batch_size=32)(fitted_mlp, synthetic, FORGET)
    assert result.extras["max_epochs"] == [1, 2]
