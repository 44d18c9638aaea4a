import pytest
import torch

from rum_core import data, models


@pytest.fixture(scope="module")
def cifar_like():
    """A bundle with 3×32×32 images, built without any download."""
    g = torch.Generator().manual_seed(0)
    split = data.Split(torch.randn(8, 3, 32, 32, generator=g), torch.arange(8) % 10)
    return data.DataBundle("fake-cifar", split, split, 10, tuple(map(str, range(10))), (0.0,) * 3, (1.0,) * 3)


@pytest.mark.parametrize("name", ["mlp", "small_cnn", "resnet18", "resnet50"])
def test_output_and_embedding_shapes_on_both_image_sizes(name, digits, cifar_like):
    for bundle in (digits, cifar_like):
        model = models.build(name, bundle, seed=0).eval()
        x = bundle.train.x[:3]
        with torch.no_grad():
            assert model(x).shape == (3, bundle.num_classes)
        emb = models.embed(model, x)
        assert emb.shape == (3, model.embedding_dim)


def test_resnet_has_cifar_stem(cifar_like):
    """CIFAR stem: 3×3 stride-1 first conv and no max-pool (the ImageNet stem shrinks 32×32 images 4×)."""
    net = models.build("resnet18", cifar_like).features
    assert net.conv1.kernel_size == (3, 3) and net.conv1.stride == (1, 1)
    assert isinstance(net.maxpool, torch.nn.Identity)
    assert models.build("resnet18", cifar_like).embedding_dim == 512
    assert models.build("resnet50", cifar_like).embedding_dim == 2048


def test_build_is_seeded_without_touching_global_rng(digits):
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = models.build("mlp", digits, seed=5)
    after = torch.rand(1)
    b = models.build("mlp", digits, seed=5)
    c = models.build("mlp", digits, seed=6)
    assert torch.equal(before, after)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.head.weight, c.head.weight)


def test_embed_is_penultimate_layer(digits):
    """embed returns the input of the head: head(embed(x)) reproduces the logits."""
    model = models.build("mlp", digits, seed=0)
    x = digits.train.x[:5]
    emb = torch.as_tensor(models.embed(model, x), dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(model.head(emb), model(x), rtol=1e-5, atol=1e-5)


def test_embed_restores_training_mode(digits):
    model = models.build("small_cnn", digits).train()
    models.embed(model, digits.train.x[:4])
    assert model.training


def test_rebuild_same_architecture_fresh_weights(digits):
    model = models.build("mlp", digits, seed=0, hidden=(16, 8))
    twin = models.rebuild(model, seed=1)
    assert twin.spec == model.spec
    assert [p.shape for p in twin.parameters()] == [p.shape for p in model.parameters()]
    assert not torch.equal(twin.head.weight, model.head.weight)


def test_unknown_model_lists_valid_names(digits):
    with pytest.raises(ValueError, match="resnet18"):
        models.build("vgg", digits)


def test_bad_kwargs_and_bundle(digits):
    with pytest.raises(TypeError, match="mlp"):
        models.build("mlp", digits, depth=3)
    with pytest.raises(TypeError, match="DataBundle"):
        models.build("mlp", digits.train)


def test_cnn1d_is_mnist1ds_small_cnn_with_a_flattened_embedding():
    """Length 40 → 19 → 10 → 5 through three strided convolutions: the embedding is 5·width features,
    and the head reads them (a wrong stride or padding changes the length and the head's input size)."""
    bundle = data.load("mnist1d", size=200)
    model = models.build("cnn1d", bundle, seed=0, width=6)
    convs = [m for m in model.features if isinstance(m, torch.nn.Conv1d)]
    assert [(c.kernel_size[0], c.stride[0], c.padding[0]) for c in convs] == [(5, 2, 1), (3, 2, 1), (3, 2, 1)]
    assert model.embedding_dim == 30
    assert model(bundle.train.x[:7]).shape == (7, 10)
    assert models.embed(model, bundle.train.x[:7]).shape == (7, 30)
    with pytest.raises(ValueError, match=r"\(channels, 1, length\)"):
        models.build("cnn1d", data.load("synthetic"))
