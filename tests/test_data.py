import numpy as np
import pytest
import torch

from rum_core import data


def test_digits_shapes_dtypes_and_sizes(digits):
    assert digits.name == "digits"
    assert digits.train.x.shape == (1437, 1, 8, 8) and digits.test.x.shape == (360, 1, 8, 8)
    assert digits.train.x.dtype == torch.float32 and digits.train.y.dtype == torch.int64
    assert digits.num_classes == 10 and digits.class_names == tuple("0123456789")
    assert digits.input_shape == (1, 8, 8)


def test_digits_split_is_stratified(digits):
    """Each class keeps its share of the data in both splits (a plain random split would drift)."""
    from sklearn.datasets import load_digits

    full = np.bincount(load_digits().target, minlength=10)
    test = np.bincount(digits.test.y.numpy(), minlength=10)
    assert np.all(np.abs(test - 0.2 * full) <= 1)


def test_digits_split_is_seeded_and_disjoint():
    a, b, c = data.load("digits", seed=0), data.load("digits", seed=0), data.load("digits", seed=1)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    assert not torch.equal(a.train.x, c.train.x)
    # no image appears in both splits (digits has a few exact duplicates; compare the split sizes instead)
    assert len(a.train) + len(a.test) == 1797


def test_standardized_with_train_statistics(digits):
    """Images are standardized per channel with the TRAINING split's statistics (no test leakage)."""
    assert digits.train.x.mean().abs() < 1e-5
    assert digits.train.x.std().item() == pytest.approx(1.0, abs=1e-3)
    shown = digits.to_display(digits.train.x[:5])
    assert shown.shape == (5, 8, 8, 1) and shown.min() >= 0 and shown.max() <= 1


def test_synthetic_is_seeded(synthetic):
    again = data.load("synthetic", seed=0)
    assert torch.equal(again.train.x, synthetic.train.x)
    assert synthetic.num_classes == 4 and synthetic.train.x.shape[1:] == (1, 8, 8)
    assert set(synthetic.train.y.tolist()) == {0, 1, 2, 3}


def test_fingerprint_tracks_content():
    a, b, c = data.load("synthetic", seed=0), data.load("synthetic", seed=0), data.load("synthetic", seed=1)
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_unknown_dataset_lists_valid_names():
    with pytest.raises(ValueError, match="digits") as err:
        data.load("mnist")
    assert "imagefolder" in str(err.value)


def test_bad_seed_type():
    with pytest.raises(TypeError):
        data.load("digits", seed="0")


def _write_imagefolder(root, sizes=(3, 2), shape=(6, 5)):
    from PIL import Image

    rng = np.random.default_rng(0)
    for part, n in zip(("train", "test"), sizes, strict=True):
        for cls in ("cat", "ant"):
            d = root / part / cls
            d.mkdir(parents=True)
            for k in range(n):
                Image.fromarray(rng.integers(0, 256, (*shape, 3), dtype=np.uint8)).save(d / f"{k}.png")


def test_imagefolder_loads_sorted_classes_and_caches(tmp_path):
    _write_imagefolder(tmp_path / "tree")
    b = data.load("imagefolder", root=tmp_path / "tree")
    assert b.class_names == ("ant", "cat")  # sorted class folders → labels 0, 1
    assert b.train.x.shape == (6, 3, 6, 5) and b.test.x.shape == (4, 3, 6, 5)
    assert b.train.y.tolist() == [0, 0, 0, 1, 1, 1]
    from PIL import Image

    first = np.asarray(Image.open(tmp_path / "tree" / "train" / "ant" / "0.png"), dtype=np.float32) / 255
    np.testing.assert_allclose(b.to_display(b.train.x[:1])[0], first, atol=1e-5)
    again = data.load("imagefolder", root=tmp_path / "tree")  # served from the decoded cache
    assert torch.equal(again.train.x, b.train.x)


def test_imagefolder_numeric_file_order(tmp_path):
    """Files 2.png and 10.png keep numeric order, so file k is the k-th image of the class."""
    from PIL import Image

    for part in ("train", "test"):
        d = tmp_path / part / "a"
        d.mkdir(parents=True)
        for k in (10, 2, 1):
            Image.fromarray(np.full((4, 4), k, dtype=np.uint8)).save(d / f"{k}.png")
    b = data.load("imagefolder", root=tmp_path)
    levels = np.round(b.to_display(b.train.x)[:, 0, 0, 0] * 255).astype(int)
    assert levels.tolist() == [1, 2, 10]


def test_imagefolder_errors(tmp_path):
    with pytest.raises(ValueError, match="root"):
        data.load("imagefolder")
    with pytest.raises(ValueError, match="train"):
        data.load("imagefolder", root=tmp_path)


def test_check_split_default_retain_is_complement():
    forget, retain = data.check_split(10, [7, 2, 3])
    assert forget.tolist() == [7, 2, 3]
    assert retain.tolist() == [0, 1, 4, 5, 6, 8, 9]


@pytest.mark.parametrize(("forget", "retain", "match"), [
    ([], None, "empty"),
    ([0, 10], None, "out of range"),
    ([-1], None, "out of range"),
    ([1, 1], None, "duplicated"),
    ([1, 2], [2, 3], "overlap"),
    ([1], [3, 3], "duplicated"),
])
def test_check_split_errors(forget, retain, match):
    with pytest.raises(ValueError, match=match):
        data.check_split(10, forget, retain)


def test_check_split_rejects_masks_and_floats():
    with pytest.raises(TypeError, match="mask"):
        data.check_split(3, np.array([True, False, True]))
    with pytest.raises(TypeError, match="integer"):
        data.check_split(3, np.array([0.0, 1.0]))


def test_validation_split_is_stratified_seeded_and_carved_from_train():
    """The paper's train / validation carve (45,000 / 5,000 on CIFAR-10): class-stratified, seeded, disjoint
    from what remains for training, standardized with the remaining training statistics, and mapped back to
    the dataset's own order. Catches: validation rows left in the training split, a carve that ignores the
    classes, or standardization with statistics that include validation images."""
    full = data.load("digits", seed=0)
    b = data.load("digits", seed=0, val_size=144)
    assert (len(b.train), len(b.val), len(b.test)) == (1437 - 144, 144, 360)
    source = b.source_positions()
    assert len(np.unique(source)) == len(source) == len(b.train) and (np.diff(source) > 0).all()
    val_pos = np.setdiff1d(np.arange(len(full.train)), source)
    # the same images as the un-carved load, in their original order (compare labels and raw pixels)
    np.testing.assert_array_equal(b.train.y.numpy(), full.train.y.numpy()[source])
    np.testing.assert_array_equal(b.val.y.numpy(), full.train.y.numpy()[val_pos])
    raw = lambda bundle, x: torch.from_numpy(bundle.to_display(x))  # noqa: E731
    torch.testing.assert_close(raw(b, b.train.x), raw(full, full.train.x[source]), atol=1e-5, rtol=0)
    torch.testing.assert_close(raw(b, b.val.x), raw(full, full.train.x[val_pos]), atol=1e-5, rtol=0)
    assert b.train.x.mean().abs() < 1e-5  # standardized with the remaining training images only
    counts = np.bincount(b.val.y.numpy(), minlength=10)
    share = np.bincount(full.train.y.numpy(), minlength=10) / len(full.train)
    assert np.all(np.abs(counts - 144 * share) <= 1)
    again, other = data.load("digits", seed=0, val_size=144), data.load("digits", seed=1, val_size=144)
    assert torch.equal(again.val.x, b.val.x) and again.fingerprint == b.fingerprint
    assert b.fingerprint != full.fingerprint and other.fingerprint != b.fingerprint
    with pytest.raises(ValueError, match="validation split"):
        full.validation()
    assert b.validation() is b.val
    np.testing.assert_array_equal(b.source_labels(), full.train.y.numpy())  # the dataset's own order again


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (5, ValueError), (1437, ValueError), (2.5, TypeError),
                                      (True, TypeError)])
def test_validation_size_is_checked(bad, err):
    with pytest.raises(err, match="val_size"):
        data.load("digits", val_size=bad)


# ------------------------------------------------------------------------------------------------ MNIST-1D
@pytest.fixture(scope="module")
def mnist1d():
    return data.load("mnist1d", size=500)


def test_mnist1d_is_the_generators_default_data_as_40_long_sequences(mnist1d):
    """The package's generator with its documented defaults (80 / 20 split, length 40, ten classes),
    stored as (N, 1, 1, 40) and standardized with the training statistics."""
    from mnist1d.data import get_dataset_args, make_dataset

    assert mnist1d.input_shape == (1, 1, 40) and mnist1d.num_classes == 10
    assert (len(mnist1d.train), len(mnist1d.test)) == (400, 100)
    args = get_dataset_args()
    args.num_samples = 500
    raw = make_dataset(args)  # seed 42, the default: the same sequences, before standardization
    mean, std = mnist1d.mean[0], mnist1d.std[0]
    np.testing.assert_allclose(mnist1d.train.x[:, 0, 0].numpy() * std + mean, raw["x"], atol=1e-5)
    # to_display gives the sequences back on their own scale (a [0, 1] clip would cut their peaks)
    np.testing.assert_allclose(mnist1d.to_display(mnist1d.train.x)[:, 0, :, 0], raw["x"], atol=1e-5)
    assert raw["x"].min() < 0 or raw["x"].max() > 1
    np.testing.assert_array_equal(mnist1d.test.y.numpy(), raw["y_test"])
    assert abs(float(mnist1d.train.x.mean())) < 1e-5 and abs(float(mnist1d.train.x.std()) - 1) < 1e-3


def test_mnist1d_is_deterministic_leaves_global_random_state_alone_and_caches(tmp_path, monkeypatch):
    import random

    monkeypatch.setenv("RUM_CACHE", str(tmp_path))
    np.random.seed(7)
    random.seed(7)
    expected_np, expected_py = np.random.rand(), random.random()
    np.random.seed(7)
    random.seed(7)
    a = data.load("mnist1d", size=300)
    assert (np.random.rand(), random.random()) == (expected_np, expected_py)  # the generator's reseed undone
    assert list((tmp_path / "mnist1d").glob("*.npz"))  # cached as arrays
    b = data.load("mnist1d", size=300)
    assert a.fingerprint == b.fingerprint
    assert data.load("mnist1d", size=400).fingerprint != a.fingerprint


def test_mnist1d_size_is_checked():
    with pytest.raises(ValueError, match="size"):
        data.load("mnist1d", size=50)
    with pytest.raises(TypeError, match="size"):
        data.load("mnist1d", size=2.5)
    with pytest.raises(ValueError, match="fixed size"):
        data.load("digits", size=1000)
