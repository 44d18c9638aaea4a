"""Models: every network is a :class:`Classifier` = ``features`` (input → penultimate embedding) + ``head``.

Architectures (``build(name, bundle)``):
    ``mlp``        flatten → hidden ReLU layers → linear head (default one hidden layer of 128 units).
    ``small_cnn``  three 3×3 conv blocks, global average pooling, linear head; works on 1×8×8 and 3×32×32.
    ``cnn1d``      three strided 1-D convolutions with ReLU, flattened into a linear head: the small CNN of
                   MNIST-1D (Greydanus 2020), for sequences stored as (C, 1, L); no batch norm, so K of them
                   train batched (:mod:`rum_core.ensembles`).
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

__all__ = ["Classifier", "ModelSpec", "build", "available", "embed", "rebuild", "check_inputs", "check_targets"]


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


def _cnn1d(input_shape, num_classes, width=32):
    """Conv1d(C→w, 5, stride 2) → Conv1d(w→w, 3, stride 2) → Conv1d(w→w, 3, stride 2), padding 1, ReLU after
    each, then flatten: MNIST-1D's ``ConvBase`` (25 channels there; ``width`` here). Length 40 → 19 → 10 → 5,
    so the embedding has ``5·width`` features."""
    c, h, length = input_shape
    w = int(width)
    if h != 1:
        raise ValueError(f"cnn1d takes sequences stored as (channels, 1, length), got input shape {input_shape}")
    if w <= 0:
        raise ValueError(f"cnn1d width must be positive, got {width}")
    out = length
    for k in (5, 3, 3):
        out = (out + 2 - k) // 2 + 1
    if out < 1:
        raise ValueError(f"cnn1d needs sequences of length ≥ 4, got {length}")
    features = nn.Sequential(nn.Flatten(2), nn.Conv1d(c, w, 5, stride=2, padding=1), nn.ReLU(),
                             nn.Conv1d(w, w, 3, stride=2, padding=1), nn.ReLU(),
                             nn.Conv1d(w, w, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten())
    return features, nn.Linear(w * out, num_classes)


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
    "cnn1d": _cnn1d,
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
    seed = check_int("seed", seed, low=0)
    device = next(model.parameters()).device
    return _from_spec(model.spec, seed).to(device)


def check_inputs(name: str, x, model: nn.Module | None = None) -> torch.Tensor:
    """``x`` when it is a floating-point tensor of finite values, one example per row; for a
    :class:`Classifier`, each example must have the shape it was built for.

    Raises:
        TypeError: not a torch tensor (numpy arrays included: convert with ``torch.as_tensor``), or not floats.
        ValueError: no example dimension, NaN or infinite values, or examples of the wrong shape.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of inputs, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must hold floating-point inputs, got dtype {x.dtype}")
    if x.ndim < 1:
        raise ValueError(f"{name} must have one row per example, got a scalar")
    spec = getattr(model, "spec", None)
    if isinstance(spec, ModelSpec) and tuple(x.shape[1:]) != tuple(spec.input_shape):
        raise ValueError(f"{name} has examples of shape {tuple(x.shape[1:])} but the model was built for "
                         f"{tuple(spec.input_shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} holds {int((~torch.isfinite(x)).sum())} NaN or infinite values")
    return x


def check_targets(name: str, y, n: int, model: nn.Module | None = None) -> torch.Tensor:
    """``y`` when it is a 1-D integer tensor of ``n`` non-negative class labels, each below the number of
    classes a :class:`Classifier` ``model`` was built for.

    Raises:
        TypeError: not a torch tensor, or not integers.
        ValueError: wrong shape, or labels out of range (which torch reports only as an index error).
    """
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of class labels, got {type(y).__name__}")
    if y.dtype == torch.bool or y.is_floating_point() or y.is_complex():
        raise TypeError(f"{name} must hold integer class labels, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) (one label per example), got {tuple(y.shape)}")
    spec = getattr(model, "spec", None)
    high = spec.num_classes if isinstance(spec, ModelSpec) else None
    bad = (y < 0) | (y >= high) if high is not None else y < 0
    if n and bool(bad.any()):
        raise ValueError(f"{name} has labels outside [0, {high}): {y[bad][:5].tolist()}")
    return y


@torch.no_grad()
def embed(model: Classifier, x: torch.Tensor, *, batch_size: int = 1024) -> np.ndarray:
    """Penultimate-layer features of ``x`` (eval mode, no augmentation) as a float64 array (N, d)."""
    if not isinstance(model, Classifier):
        raise TypeError(f"embed needs a rum_core Classifier (with .features), got {type(model).__name__}")
    check_inputs("x", x, model)
    batch_size = check_int("batch_size", batch_size, low=1)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        out = [model.features(x[i:i + batch_size].to(device)).double().cpu() for i in range(0, len(x), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, model.embedding_dim))
