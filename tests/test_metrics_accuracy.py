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


def test_tow_errors_name_the_argument():
    """Which of the two accuracy mappings is wrong must be in the message.
    Catches mutmut's surviving mutant x_tow__mutmut_2 (the name "unlearned" replaced by None)."""
    good = {"forget": 0.9, "retain": 1.0, "test": 0.8}
    with pytest.raises(ValueError, match=r"^unlearned\['test'\] = 80.0 is not in \[0, 1\]$"):
        tow({**good, "test": 80.0}, good)
    with pytest.raises(ValueError, match=r"^retrained\['forget'\] = 2.0 is not in \[0, 1\]$"):
        tow(good, {**good, "forget": 2.0})
    with pytest.raises(ValueError, match="^unlearned is missing the key 'retain'"):
        tow({"forget": 0.9, "test": 0.8}, good)
    with pytest.raises(TypeError, match="^retrained must be a mapping"):
        tow(good, [0.9, 1.0, 0.8])


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


def _bundle_with_correctness(train_correct, test_correct):
    """A 2-class bundle on which :func:`_identity_model` (prediction = argmax of the two inputs) is right
    exactly where ``*_correct`` says: each input is the one-hot of the prediction, the label agrees or not."""
    from rum_core.data import DataBundle, Split

    def split(correct):
        y = torch.tensor([i % 2 for i in range(len(correct))])
        pred = torch.where(torch.tensor(correct), y, 1 - y)
        return Split(nn.functional.one_hot(pred, 2).float().view(-1, 1, 1, 2), y)

    return DataBundle(name="hand-built", train=split(train_correct), test=split(test_correct), num_classes=2,
                      class_names=("a", "b"), mean=(0.0,), std=(1.0,))


#                index:  0     1      2     3      4     5     6     7     8      9
TRAIN_CORRECT = [True, False, True, False, True, True, True, True, False, True]
TEST_CORRECT = [False, True, False, False]


def test_split_accuracies_uses_the_right_rows():
    """Hand-computed accuracies that differ on forget (1/3), retain (6/7) and test (1/4), and from the whole
    training set (7/10), so that every row mix-up changes the answer."""
    bundle = _bundle_with_correctness(TRAIN_CORRECT, TEST_CORRECT)
    model = _identity_model()
    assert accuracy(model, bundle.train.x, bundle.train.y) == pytest.approx(7 / 10)  # the bundle is as built
    # forget {1, 4, 8}: right only on 4; retain = the other seven: wrong only on 3; test: right only on 1.
    # Catches the mutation "split_accuracies swaps the forget and retain rows" (forget would read 6/7).
    accs = split_accuracies(model, bundle, [8, 1, 4])
    assert list(accs) == ["forget", "retain", "test"]
    assert accs == pytest.approx({"forget": 1 / 3, "retain": 6 / 7, "test": 1 / 4}, abs=1e-12)
    # Catches "retain ignores retain_idx" (the complement would give 6/7): an explicit retain set {9, 3}.
    explicit = split_accuracies(model, bundle, [8, 1, 4], [9, 3])
    assert explicit == pytest.approx({"forget": 1 / 3, "retain": 1 / 2, "test": 1 / 4}, abs=1e-12)
    # Catches "test accuracy on the training rows": the test set alone is 1/4 whatever the split.
    assert split_accuracies(model, bundle, [0])["test"] == pytest.approx(1 / 4)
