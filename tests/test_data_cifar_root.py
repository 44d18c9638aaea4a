"""CIFAR from a local copy, and CIFAR without network (rum_core.data, profiles' RUM_DATA, rum --data-root).

The fake CIFAR-10 image folder of these tests has 10 classes × 3 training × 2 test 32×32 PNG images; every
image is filled with one value that encodes (part, class, file number), so the order they are loaded in
can be read off the pixels.
"""

import dataclasses
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from rum_core import cache, cli, data, experiments, memorization, profiles

CLASSES = data.CIFAR10_CLASSES
N_TRAIN, N_TEST = 3, 2
# The fake "official" training order: classes 8, 9, 7, 6, …, 0, three times over.
OFFICIAL = np.array([8, 9, 7, 6, 5, 4, 3, 2, 1, 0] * N_TRAIN, dtype=np.int64)


def _value(part: str, label: int, k: int) -> int:
    return 1 + 20 * label + 5 * k + (3 if part == "test" else 0)  # distinct for every (part, label, k)


def write_cifar_folder(root: Path, classes=CLASSES, size=(32, 32), mode="RGB") -> Path:
    from PIL import Image

    for part, n in (("train", N_TRAIN), ("test", N_TEST)):
        for label, name in enumerate(classes):
            d = root / part / str(name)
            d.mkdir(parents=True)
            for k in range(n):
                Image.new(mode, size, (_value(part, label, k),) * len(mode)).save(d / f"{k:04d}.png")
    return root


def pixel_values(bundle, split) -> np.ndarray:
    """The one value each image of ``split`` is filled with (standardization undone)."""
    return np.rint(bundle.to_display(split.x)[:, 0, 0, 0] * 255).astype(int)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(profiles.DATA_ENV, raising=False)
    return write_cifar_folder(tmp_path / "cifar10-png")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network: every URL torchvision opens fails as it does without DNS."""
    monkeypatch.setenv("RUM_CACHE", str(tmp_path / "cache"))

    def no_network(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


def test_image_folder_is_put_in_the_official_order(folder):
    """Guards against C-scores paired with the wrong images: the k-th official training image of class c
    must be file number k of class c."""
    b = data.load("cifar10", root=folder, train_labels=OFFICIAL)
    np.testing.assert_array_equal(b.train.y.numpy(), OFFICIAL)
    # hand-computed: position 0 = class 8's file 0, 1 = class 9's file 0, 2 = class 7's file 0, 9 = class
    # 0's file 0, 10 = class 8's file 1, 11 = class 9's file 1, 21 = class 9's file 2, 29 = class 0's file 2
    got = pixel_values(b, b.train)
    hand = {0: (8, 0), 1: (9, 0), 2: (7, 0), 9: (0, 0), 10: (8, 1), 11: (9, 1), 21: (9, 2), 29: (0, 2)}
    for i, (label, k) in hand.items():
        assert got[i] == _value("train", label, k), i
    seen = {c: 0 for c in range(10)}  # every position: the next unused file of its class
    for i, label in enumerate(OFFICIAL):
        assert got[i] == _value("train", label, seen[label])
        seen[label] += 1
    assert b.class_names == CLASSES and b.order_unknown is None
    np.testing.assert_array_equal(b.source_labels(), OFFICIAL)
    # the test split is class-major: class 0's two files, then class 1's, …
    assert pixel_values(b, b.test).tolist() == [_value("test", c, k) for c in range(10) for k in range(N_TEST)]


def test_official_labels_file_next_to_the_images_aligns_published_scores(folder):
    """A copy of the C-score file next to the images orders the folder, and published scores then line up
    with the right images even after the validation carve."""
    scores = np.linspace(0.05, 0.95, len(OFFICIAL))
    np.savez(folder / "train_labels.npz", labels=OFFICIAL, scores=scores)  # the C-score file's layout
    b = data.load("cifar10", root=folder, val_size=10)
    np.testing.assert_array_equal(b.source_labels(), OFFICIAL)
    mem = memorization.published_memorization(folder / "train_labels.npz", b)
    np.testing.assert_allclose(mem.scores, 1 - scores[b.source_positions()])
    # a bare .npy array works the same
    (folder / "train_labels.npz").unlink()
    np.save(folder / "train_labels.npy", OFFICIAL)
    np.testing.assert_array_equal(data.load("cifar10", root=folder).train.y.numpy(), OFFICIAL)


@pytest.mark.parametrize("labels, match", [
    (OFFICIAL[:-1], r"class counts.*class 0 \('airplane'\): 3 images vs 2 labels"),
    (np.where(OFFICIAL == 1, 2, OFFICIAL), r"class 1 \('automobile'\): 3 images vs 0 labels"),
    (np.where(OFFICIAL == 0, 10, OFFICIAL), r"labels must lie in \[0, 10\)"),
    (OFFICIAL.astype(float), "1-D integer array"),
])
def test_labels_that_do_not_describe_the_folder_are_refused(folder, labels, match):
    """Guards against an order source of another dataset (or a folder missing files) silently shuffling
    the images: the class counts of the labels must be the folder's."""
    with pytest.raises(ValueError, match=match):
        data.load("cifar10", root=folder, train_labels=labels)


def test_labels_file_errors(folder, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        data.load("cifar10", root=folder, train_labels=tmp_path / "nope.npz")
    np.savez(tmp_path / "other.npz", scores=np.zeros(3))
    with pytest.raises(ValueError, match=r"expected an array 'labels'.*\['scores'\]"):
        data.load("cifar10", root=folder, train_labels=tmp_path / "other.npz")
    with pytest.raises(ValueError, match="train_labels orders CIFAR"):
        data.load("digits", train_labels=OFFICIAL)


def test_without_an_order_published_scores_are_refused(folder):
    """Guards against the silent misalignment: a folder read without the official labels loads class by
    class and says so when published scores are aligned to it."""
    b = data.load("cifar10", root=folder)
    assert b.train.y.tolist() == [c for c in range(10) for _ in range(N_TRAIN)]
    assert "class-major" in b.order_unknown
    with pytest.raises(ValueError, match="class-major order.*train_labels.npz"):
        b.source_positions()
    np.savez(folder.parent / "cs.npz", labels=OFFICIAL, scores=np.full(len(OFFICIAL), 0.5))
    with pytest.raises(ValueError, match="cannot be aligned"):
        memorization.published_memorization(folder.parent / "cs.npz", b)
    assert b.fingerprint != data.load("cifar10", root=folder, train_labels=OFFICIAL).fingerprint


def test_class_folders_must_be_cifars(tmp_path, monkeypatch):
    monkeypatch.setenv("RUM_CACHE", str(tmp_path / "cache"))
    numbered = write_cifar_folder(tmp_path / "numbered", classes=range(10))
    b = data.load("cifar10", root=numbered, train_labels=OFFICIAL)
    assert b.class_names == CLASSES  # folders 0 … 9 are the labels
    np.testing.assert_array_equal(b.train.y.numpy(), OFFICIAL)
    wrong = write_cifar_folder(tmp_path / "wrong", classes=[*CLASSES[:-1], "lorry"])
    with pytest.raises(ValueError, match="not CIFAR-10's classes"):
        data.load("cifar10", root=wrong)
    with pytest.raises(ValueError, match="has 10 class folders, expected 100"):
        data.load("cifar100", root=wrong)
    small = write_cifar_folder(tmp_path / "small", size=(8, 8))
    with pytest.raises(ValueError, match="8×8 with 3 channel"):
        data.load("cifar10", root=small)


def test_missing_data_without_network_fails_in_one_line(offline, tmp_path):
    """Guards against the 91-line torchvision traceback: absent data that cannot be downloaded is one line
    naming where to put it, the network error chained (never swallowed)."""
    for name, folder in (("cifar10", "cifar-10-batches-py"), ("cifar100", "cifar-100-python")):
        with pytest.raises(data.DataNotFoundError) as err:
            data.load(name)
        text = str(err.value)
        assert "\n" not in text and isinstance(err.value, FileNotFoundError)
        assert "could not be downloaded" in text and "Temporary failure in name resolution" in text
        assert folder in text and "--data-root" in text and "RUM_DATA" in text
        assert str(tmp_path / "cache" / "datasets") in text
        assert isinstance(err.value.__cause__, urllib.error.URLError)
    with pytest.raises(data.DataNotFoundError, match=r"data root '.*missing' is not a directory"):
        data.load("cifar10", root=tmp_path / "missing")


def test_corrupted_torchvision_folder_is_named(offline, tmp_path):
    (tmp_path / "tv" / "cifar-10-batches-py").mkdir(parents=True)
    with pytest.raises(data.DataNotFoundError, match="incomplete or corrupted.*delete it") as err:
        data.load("cifar10", root=tmp_path / "tv")
    assert isinstance(err.value.__cause__, RuntimeError)


def test_torchvision_layout_is_read_without_download(tmp_path, monkeypatch):
    """A root holding torchvision's folder is read as it is (download=False), labels checked if given."""
    import torchvision

    calls = []

    class FakeCIFAR10:
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            n = 20 if train else 10
            self.data = np.zeros((n, 32, 32, 3), dtype=np.uint8)
            self.targets = list(np.arange(n) % 10)
            self.classes = list(CLASSES)

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR10)
    (tmp_path / "tv" / "cifar-10-batches-py").mkdir(parents=True)
    b = data.load("cifar10", root=tmp_path / "tv", train_labels=np.arange(20) % 10)
    assert len(b.train) == 20 and b.order_unknown is None
    assert calls == [(str(tmp_path / "tv"), True, False), (str(tmp_path / "tv"), False, False)]
    with pytest.raises(ValueError, match="not CIFAR-10's official training labels"):
        data.load("cifar10", root=tmp_path / "tv", train_labels=np.arange(20) % 5)


def test_rum_data_sets_the_profiles_data_root_and_the_cache_key(folder, monkeypatch, tmp_path):
    """RUM_DATA is read in get_profile, for CIFAR profiles only; an explicit data_root wins; the root is in
    the profile's description and thus in every cache key built from it."""
    monkeypatch.setenv(profiles.DATA_ENV, str(folder))
    paper = profiles.get_profile("paper")
    assert paper.data_root == str(folder.resolve()) and str(folder) in paper.describe()
    assert profiles.get_profile("smoke").data_root is None  # digits reads no files: ignored
    other = tmp_path / "other"
    assert profiles.get_profile("paper", data_root=other).data_root == str(other)
    assert profiles.get_profile("paper", data_root=None).data_root is None
    with pytest.raises(ValueError, match="'digits', which reads no files"):
        profiles.get_profile("smoke", data_root=folder)
    key = lambda p: cache.cache_key("rum-cell", {"profile": p.as_dict()})  # noqa: E731
    assert key(paper) != key(profiles.get_profile("paper", data_root=other)) != \
        key(profiles.get_profile("paper", data_root=None))
    np.save(folder / "train_labels.npy", OFFICIAL)
    bundle = experiments.load_data(dataclasses.replace(paper, val_size=10))
    assert bundle.name == "cifar10" and len(bundle.train) + len(bundle.val) == len(OFFICIAL)
    np.testing.assert_array_equal(bundle.source_labels(), OFFICIAL)


def _tiny_cifar_profile(monkeypatch):
    """The paper profile's data and published-scores route at the scale of the fake folder."""
    smoke = profiles.get_profile("smoke")
    tiny = dataclasses.replace(smoke, name="tinycifar", dataset="cifar10", memorization_models=None,
                               memorization_group_size=2, val_size=10, model_kwargs={"hidden": (16,)})
    monkeypatch.setitem(profiles.PROFILES, "tinycifar", tiny)


def test_cli_data_root_and_rum_data_reach_the_experiment(folder, monkeypatch, tmp_path, capsys):
    """--data-root (and RUM_DATA) point `rum reproduce` at a local copy whose published scores line up."""
    _tiny_cifar_profile(monkeypatch)
    np.save(folder / "train_labels.npy", OFFICIAL)
    scores = tmp_path / "cs.npz"
    np.savez(scores, labels=OFFICIAL, scores=np.linspace(0, 1, len(OFFICIAL)))
    argv = ["reproduce", "--profile", "tinycifar", "--seeds", "1", "--methods", "finetune",
            "--memorization-scores", str(scores), "--no-progress"]
    monkeypatch.setenv(experiments.MEMORIZATION_SCORES_ENV, "")  # restored after the test
    assert cli.main([*argv, "--data-root", str(folder), "--out", str(tmp_path / "a")]) == 0
    assert f"cifar10 (from {folder.resolve()})" in capsys.readouterr().err
    monkeypatch.setenv(profiles.DATA_ENV, str(folder))
    assert cli.main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert f"cifar10 (from {folder.resolve()})" in capsys.readouterr().err


def test_cli_missing_data_exits_2_with_one_line(offline, monkeypatch, tmp_path, capsys):
    """Offline and without a copy, `rum reproduce --profile paper` says where to put the data in one line
    on stderr and exits with status 2; --data-root overrides RUM_DATA, and both are named when wrong."""
    monkeypatch.delenv(profiles.DATA_ENV, raising=False)
    out = ["--out", str(tmp_path / "out"), "--no-progress"]

    def one_line(argv) -> str:
        assert cli.main(argv) == 2
        captured = capsys.readouterr()
        lines = captured.err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("rum: error: "), captured.err
        return lines[0]

    line = one_line(["reproduce", "--profile", "paper", *out])
    assert "CIFAR-10 is not in" in line and "could not be downloaded" in line and "--data-root" in line
    monkeypatch.setenv(profiles.DATA_ENV, str(tmp_path / "from-env"))
    assert "from-env' is not a directory" in one_line(["reproduce", "--profile", "paper", *out])
    line = one_line(["reproduce", "--profile", "paper", "--data-root", str(tmp_path / "from-flag"), *out])
    assert "from-flag' is not a directory" in line and "from-env" not in line
    assert not (tmp_path / "out").exists()  # nothing ran


def test_real_cifar10_jpeg_copy_lines_up_with_the_cscores(tmp_path, monkeypatch, shared_data):
    """The real thing, where it is at hand (about 30 s: 60,000 JPEGs decoded): the JPEG copy of CIFAR-10,
    ordered by the C-score file's labels, has the official sizes, labels and channel means, and its rows
    are the files the official order says."""
    from PIL import Image

    shared = shared_data("cifar10-jpeg.tar.gz", "cifar10-cscores-orig-order.npz")
    monkeypatch.setenv("RUM_CACHE", str(tmp_path / "cache"))
    with tarfile.open(shared / "cifar10-jpeg.tar.gz") as tar:
        tar.extractall(tmp_path, filter="data")
    root, cscores = tmp_path / "cifar10-jpeg", shared / "cifar10-cscores-orig-order.npz"
    b = data.load("cifar10", root=root, train_labels=cscores)
    assert (len(b.train), len(b.test)) == (50_000, 10_000) and b.class_names == CLASSES
    with np.load(cscores, allow_pickle=False) as z:
        labels = z["labels"]
    np.testing.assert_array_equal(b.train.y.numpy(), labels)
    shown = b.to_display(b.train.x[:2000])
    np.testing.assert_allclose(np.asarray(b.mean) * 255, [125.3, 123.0, 113.9], atol=0.5)
    for i in (0, 1, 1234, 49_999):  # the official index i is file number (rank of i in its class)
        label = int(labels[i])
        rank = int((labels[:i] == label).sum())
        with Image.open(root / "train" / CLASSES[label] / f"{rank:04d}.jpg") as im:
            want = np.asarray(im, dtype=np.float32) / 255
        row = shown[i] if i < 2000 else b.to_display(b.train.x[i:i + 1])[0]
        np.testing.assert_allclose(row, want, atol=1e-4)
    assert torch.equal(b.test.y[:1000], torch.zeros(1000, dtype=torch.long))  # test: class-major
