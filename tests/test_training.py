import numpy as np
import pytest
import torch

from rum_core import models, training
from rum_core.metrics import accuracy
from rum_core.training import TrainConfig, augment, fit, train_model

CFG = TrainConfig(epochs=3, lr=0.05, batch_size=32)


def _fit(bundle, seed, cfg=CFG, model_seed=0):
    model = models.build("mlp", bundle, seed=model_seed, hidden=(32,))
    log = fit(model, bundle.train.x, bundle.train.y, cfg, seed=seed, device="cpu")
    return model, log


def test_same_seed_gives_bit_identical_weights(synthetic):
    a, _ = _fit(synthetic, seed=3)
    b, _ = _fit(synthetic, seed=3)
    c, _ = _fit(synthetic, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    assert not torch.equal(a.head.weight, c.head.weight)


def test_determinism_with_augmentation(synthetic):
    cfg = TrainConfig(epochs=2, lr=0.05, batch_size=32, augment="crop_flip")
    a, _ = _fit(synthetic, 1, cfg)
    b, _ = _fit(synthetic, 1, cfg)
    assert torch.equal(a.head.weight, b.head.weight)


def test_fit_learns_and_counts_gradient_evaluations(synthetic):
    model, log = _fit(synthetic, 0, TrainConfig(epochs=10, lr=0.05, batch_size=32))
    assert accuracy(model, synthetic.train.x, synthetic.train.y) > 0.95
    assert log.grad_evals == 10 * len(synthetic.train)
    assert len(log.epoch_loss) == 10 and log.epoch_loss[-1] < log.epoch_loss[0]


def test_cosine_schedule_reaches_zero():
    model = torch.nn.Linear(2, 2)
    opt, sched = training.make_optimizer(model.parameters(), TrainConfig(epochs=1, lr=0.2), total_steps=4)
    lrs = []
    for _ in range(4):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(0.2) and lrs[2] == pytest.approx(0.1)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-12)


def test_augment_crops_are_windows_of_the_padded_image():
    """Each augmented image is a shifted window of the zero-padded original (no resampling, no mixing)."""
    x = torch.arange(2 * 1 * 8 * 8, dtype=torch.float32).reshape(2, 1, 8, 8) + 1
    out = augment(x, "crop", torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1))
    for i in range(2):
        matches = [(dy, dx) for dy in range(3) for dx in range(3)
                   if torch.equal(out[i], padded[i, :, dy:dy + 8, dx:dx + 8])]
        assert len(matches) == 1
    assert augment(x, None, torch.Generator()) is x


def test_augment_flip_is_horizontal():
    x = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4).repeat(64, 1, 1, 1)
    out = augment(x, "crop_flip", torch.Generator().manual_seed(0))
    padded = torch.nn.functional.pad(x[0], (1, 1, 1, 1))
    windows = [padded[:, dy:dy + 4, dx:dx + 4] for dy in range(3) for dx in range(3)]
    flipped = sum(any(torch.equal(o, w.flip(2)) and not torch.equal(o, w) for w in windows) for o in out)
    assert 10 < flipped < 54  # about half the images are mirrored left-right


@pytest.mark.parametrize("kwargs", [{"epochs": -1, "lr": 0.1}, {"epochs": 1, "lr": 0.0},
                                    {"epochs": 1, "lr": 0.1, "batch_size": 0},
                                    {"epochs": 1, "lr": 0.1, "schedule": "step"},
                                    {"epochs": 1, "lr": 0.1, "augment": "mixup"}])
def test_train_config_validation(kwargs):
    with pytest.raises(ValueError):
        TrainConfig(**kwargs)


def test_fit_input_errors(synthetic):
    model = models.build("mlp", synthetic)
    x, y = synthetic.train.x, synthetic.train.y
    with pytest.raises(ValueError, match="one label per example"):
        fit(model, x, y[:-1], CFG)
    with pytest.raises(ValueError, match="empty"):
        fit(model, x[:0], y[:0], CFG)
    # labels torch would only report as an IndexError (or a dtype RuntimeError) deep inside cross-entropy
    assert synthetic.num_classes == 4
    with pytest.raises(ValueError, match=r"labels outside \[0, 4\): \[4\]"):
        fit(model, x, torch.where(torch.arange(len(y)) == 5, 4, y), CFG)
    with pytest.raises(ValueError, match=r"outside \[0, 4\): \[-1\]"):
        fit(model, x, torch.where(torch.arange(len(y)) == 5, -1, y), CFG)
    with pytest.raises(TypeError, match="integer class labels"):
        fit(model, x, y.float(), CFG)
    with pytest.raises(ValueError, match="examples of shape"):
        fit(model, x.reshape(len(x), -1)[:, :5], y, CFG)
    with pytest.raises(TypeError, match="torch.Tensor"):
        fit(model, x.numpy(), y, CFG)


def test_predict_proba_is_a_distribution(synthetic, fitted_mlp):
    p = training.predict_proba(fitted_mlp, synthetic.test.x)
    assert p.shape == (len(synthetic.test), synthetic.num_classes) and p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(p.argmax(1), training.predict(fitted_mlp, synthetic.test.x))


def test_train_model_caches_by_configuration(synthetic, monkeypatch):
    """A second identical call loads the stored weights; a changed configuration trains anew."""
    a, log_a = train_model(synthetic, "mlp", CFG, seed=0, model_kwargs={"hidden": (16,)}, device="cpu")
    calls = []
    real_fit = training.fit
    monkeypatch.setattr(training, "fit", lambda *args, **kw: calls.append(1) or real_fit(*args, **kw))
    b, log_b = train_model(synthetic, "mlp", CFG, seed=0, model_kwargs={"hidden": (16,)}, device="cpu")
    assert calls == []
    assert torch.equal(a.head.weight, b.head.weight) and log_a.grad_evals == log_b.grad_evals
    c, _ = train_model(synthetic, "mlp", CFG, seed=0, model_kwargs={"hidden": (16,)}, device="cpu",
                       train_idx=np.arange(100))
    assert calls == [1]
    assert not torch.equal(a.head.weight, c.head.weight)
    d, _ = train_model(synthetic, "mlp", TrainConfig(epochs=3, lr=0.04, batch_size=32), seed=0,
                       model_kwargs={"hidden": (16,)}, device="cpu")
    assert calls == [1, 1]
    assert not torch.equal(a.head.weight, d.head.weight)


def test_default_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    """With availability faked, default_device picks CUDA over MPS over the CPU, and the CPU also where torch
    has no MPS backend at all. (Replaces a test that only checked the CPU answer of a CPU-only machine.)"""
    # mutations caught: MPS checked before CUDA; always "cpu"; MPS chosen without asking is_available()
    class _MPS:
        available = False

        @staticmethod
        def is_available():
            return _MPS.available

    monkeypatch.setattr(torch.backends, "mps", _MPS, raising=False)
    for cuda, mps, expected in [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"),
                                (False, False, "cpu")]:
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        _MPS.available = mps
        assert training.default_device().type == expected, (cuda, mps)
    monkeypatch.delattr(torch.backends, "mps")
    assert training.default_device().type == "cpu"


def test_labels_for_epoch_replaces_the_labels_of_each_epoch(synthetic):
    """fit with labels_for_epoch trains each epoch on that epoch's labels, with the same batches: constant
    labels give bit-identical weights to fitting on them directly, and the hook is asked once per epoch in
    order. Catches: the hook ignored, called per batch, or shifting the shuffling stream."""
    # mutations caught: epoch_y = y_dev whatever the hook; the hook asked for epoch 0 every epoch
    cfg = training.TrainConfig(epochs=3, lr=0.05, batch_size=32)
    x, y = synthetic.train.x, synthetic.train.y
    other = (y + 1) % synthetic.num_classes
    asked = []

    def labels(epoch):
        asked.append(epoch)
        return other

    a = models.build("mlp", synthetic, seed=0, hidden=(16,))
    b = models.build("mlp", synthetic, seed=0, hidden=(16,))
    training.fit(a, x, y, cfg, seed=1, labels_for_epoch=labels, progress_bar=False)
    training.fit(b, x, other, cfg, seed=1, progress_bar=False)
    assert asked == [0, 1, 2]
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))
    with pytest.raises(ValueError, match="labels_for_epoch"):
        training.fit(a, x, y, cfg, labels_for_epoch=lambda e: y[:5], progress_bar=False)


def test_a_flipped_bit_in_a_cached_model_is_detected_and_the_model_retrained(synthetic, tmp_path, monkeypatch):
    """Guards against the cached model that loads silently after one flipped bit (and changes every result
    computed from it): the damaged entry is named, set aside, and the retrained weights equal the clean ones."""
    import warnings

    from rum_core import cache

    monkeypatch.setenv("RUM_CACHE", str(tmp_path))
    cfg = TrainConfig(epochs=2, lr=0.05, batch_size=32)
    clean, _ = train_model(synthetic, "mlp", cfg, seed=0, model_kwargs={"hidden": (16,)})
    (entry,) = (tmp_path / "trained-model").glob("*.pt")
    data = bytearray(entry.read_bytes())
    data[len(data) - 2000] ^= 0x10  # inside the stored weights, near the end of the archive
    entry.write_bytes(bytes(data))
    with pytest.warns(cache.DamagedCacheEntry, match=entry.name):
        again, _ = train_model(synthetic, "mlp", cfg, seed=0, model_kwargs={"hidden": (16,)})
    for a, b in zip(clean.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error", cache.DamagedCacheEntry)  # the new entry is intact
        train_model(synthetic, "mlp", cfg, seed=0, model_kwargs={"hidden": (16,)})
