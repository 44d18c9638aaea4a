"""Models: every network is a :class:`Classifier` = ``features`` (input → penultimate embedding) + ``head``.

Architectures (``build(name, bundle)``):
    ``mlp``        flatten → hidden ReLU layers → linear head (default one hidden layer of 128 units).
    ``small_cnn``  three 3×3 conv blocks, global average pooling, linear head; works on 1×8×8 and 3×32×32.
    ``resnet18``   torchvision ResNet-18 with the CIFAR stem (3×3 stride-1 first conv, no max-pool).
    ``resnet50``   the same for ResNet-50.

The split into ``features`` and ``head`` is what :func:`embed` (the entanglement score's φ) relies on:
for ResNets the features end at the global average pool, as in the paper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .data import DataBundle
from .validation import check_int

__all__ = ["Classifier", "ModelSpec", "build", "available", "embed", "rebuild"]


@dataclass(frozen=True)
class ModelSpec:
    """How a model was built: enough to build a freshly initialized twin (used by ``retrain``)."""

    name: str
    input_shape: tuple[int, int, int]
    num_classes: int
    kwargs: dict = field(default_factory=dict)


class Classifier(nn.Module):
    """``head(features(x))``; ``features`` returns the penultimate-layer embedding."""

    def __init__(self, features: nn.Module, head: nn.Linear, spec: ModelSpec):
        super().__init__()
        self.features = features
        self.head = head
        self.spec = spec

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    @property
    def embedding_dim(self) -> int:
        return self.head.in_features


def _mlp(input_shape, num_classes, hidden=(128,)):
    hidden = tuple(int(h) for h in hidden)
    if not hidden or any(h <= 0 for h in hidden):
        raise ValueError(f"mlp hidden sizes must be positive, got {hidden}")
    layers: list[nn.Module] = [nn.Flatten()]
    width = int(np.prod(input_shape))
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    return nn.Sequential(*layers), nn.Linear(width, num_classes)


def _small_cnn(input_shape, num_classes, width=32):
    c = input_shape[0]
    w = int(width)

    def block(cin, cout, pool):
        mods = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        return mods + ([nn.MaxPool2d(2)] if pool else [])

    small = min(input_shape[1:]) < 16  # 8×8 digits: pool once; 32×32: pool twice
    features = nn.Sequential(*block(c, w, False), *block(w, 2 * w, True), *block(2 * w, 4 * w, not small),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten())
    return features, nn.Linear(4 * w, num_classes)


def _resnet(depth: int):
    def make(input_shape, num_classes):
        import torchvision

        net = getattr(torchvision.models, f"resnet{depth}")(weights=None)
        net.conv1 = nn.Conv2d(input_shape[0], 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
        width = net.fc.in_features
        net.fc = nn.Identity()  # what remains ends at avgpool + flatten: the paper's embedding
        return net, nn.Linear(width, num_classes)

    return make


_BUILDERS: dict[str, Callable] = {
    "mlp": _mlp,
    "small_cnn": _small_cnn,
    "resnet18": _resnet(18),
    "resnet50": _resnet(50),
}


def available() -> list[str]:
    """Names accepted by :func:`build`."""
    return sorted(_BUILDERS)


def _from_spec(spec: ModelSpec, seed: int) -> Classifier:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        try:
            features, head = _BUILDERS[spec.name](spec.input_shape, spec.num_classes, **spec.kwargs)
        except TypeError as err:
            raise TypeError(f"bad keyword arguments for model {spec.name!r}: {err}") from None
    return Classifier(features, head, spec)


def build(name: str, bundle: DataBundle, *, seed: int = 0, **kwargs) -> Classifier:
    """Build a freshly initialized model for ``bundle`` (its input shape and number of classes).

    Initialization is seeded by ``seed`` without touching the global random state.

    Raises:
        ValueError: for an unknown name, listing the valid ones; a negative seed.
        TypeError: a bundle that is not a DataBundle, a seed that is not an integer.
    """
    seed = check_int("seed", seed, low=0)
    if name not in _BUILDERS:
        raise ValueError(f"unknown model {name!r}; valid models: {available()}")
    if not isinstance(bundle, DataBundle):
        raise TypeError(f"bundle must be a rum_core.data.DataBundle, got {type(bundle).__name__}")
    spec = ModelSpec(name, tuple(bundle.input_shape), bundle.num_classes, dict(kwargs))
    return _from_spec(spec, seed)


def rebuild(model: Classifier, *, seed: int = 0) -> Classifier:
    """A freshly initialized model with the same architecture as ``model`` (on the same device)."""
    if not isinstance(model, Classifier):
        raise TypeError(f"expected a rum_core Classifier, got {type(model).__name__}")
    device = next(model.parameters()).device
    return _from_spec(model.spec, seed).to(device)


@torch.no_grad()
def embed(model: Classifier, x: torch.Tensor, *, batch_size: int = 1024) -> np.ndarray:
    """Penultimate-layer features of ``x`` (eval mode, no augmentation) as a float64 array (N, d)."""
    if not isinstance(model, Classifier):
        raise TypeError(f"embed needs a rum_core Classifier (with .features), got {type(model).__name__}")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        out = [model.features(x[i:i + batch_size].to(device)).double().cpu() for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, model.embedding_dim))
