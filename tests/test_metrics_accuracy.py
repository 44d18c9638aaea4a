import math

import pytest
import torch
from torch import nn

from rum_core.metrics import accuracy, split_accuracies, tow


def test_tow_hand_computed():
    """ToW is the product of (1 - |a_u - a_r|) over forget, retain and test (not a sum, not a mean)."""
    u = {"forget": 0.9, "retain": 1.0, "test": 0.8}
    r = {"forget": 0.7, "retain": 0.95, "test": 0.85}
    assert tow(u, r) == pytest.approx(0.8 * 0.95 * 0.95, abs=1e-12)


def test_tow_symmetric_penalty_for_over_and_under_forgetting():
    """Forgetting too much is penalized exactly like forgetting too little (the target is retrain)."""
    r = {"forget": 0.5, "retain": 1.0, "test": 0.9}
    over = {**r, "forget": 0.3}
    under = {**r, "forget": 0.7}
    assert tow(over, r) == pytest.approx(tow(under, r)) == pytest.approx(0.8)
    assert tow(r, r) == 1.0


def test_tow_extremes():
    assert tow({"forget": 1, "retain": 1, "test": 1}, {"forget": 0, "retain": 1, "test": 1}) == 0.0


@pytest.mark.parametrize("bad_key", ["forget", "retain", "test"])
def test_tow_missing_key_names_it(bad_key):
    u = {"forget": 0.9, "retain": 1.0, "test": 0.8}
    del u[bad_key]
    with pytest.raises(ValueError, match=bad_key):
        tow(u, {"forget": 0.9, "retain": 1.0, "test": 0.8})


@pytest.mark.parametrize("value", [1.2, -0.1, math.nan])
def test_tow_out_of_range_names_key(value):
    """Percentages (e.g. 97.5) or NaN instead of accuracies in [0, 1] must not give a wrong number."""
    good = {"forget": 0.9, "retain": 1.0, "test": 0.8}
    with pytest.raises(ValueError, match="retain"):
        tow(good, {**good, "retain": value})


def test_tow_rejects_non_mapping():
    with pytest.raises(TypeError):
        tow([0.9, 1.0, 0.8], {"forget": 0.9, "retain": 1.0, "test": 0.8})


def _identity_model():
    model = nn.Sequential(nn.Flatten(), nn.Linear(2, 2, bias=False))
    with torch.no_grad():
        model[1].weight.copy_(torch.eye(2))
    return model


def test_accuracy_hand_computed():
    x = torch.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.5]])
    y = torch.tensor([0, 1, 1])
    assert accuracy(_identity_model(), x, y) == pytest.approx(2 / 3)


def test_accuracy_errors():
    with pytest.raises(ValueError, match="lengths"):
        accuracy(_identity_model(), torch.zeros(3, 2), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        accuracy(_identity_model(), torch.zeros(0, 2), torch.zeros(0, dtype=torch.long))


def test_split_accuracies_uses_the_right_rows(synthetic, fitted_mlp):
    forget = [0, 1, 2, 3]
    accs = split_accuracies(fitted_mlp, synthetic, forget)
    f = synthetic.train.subset(forget)
    assert accs["forget"] == accuracy(fitted_mlp, f.x, f.y)
    assert accs["test"] == accuracy(fitted_mlp, synthetic.test.x, synthetic.test.y)
    r = synthetic.train.subset(range(4, len(synthetic.train)))
    assert accs["retain"] == accuracy(fitted_mlp, r.x, r.y)
