"""K ``cnn1d`` models (MNIST-1D's small CNN) with stacked parameters, trained by a hand-written batched step
(see :mod:`rum_core.ensembles`).

Each convolution is computed as im2col + one batched matrix product for all K models: activations are kept
channels-last, (K, b, L, C), so the window of a kernel at one output position is ``kernel·C`` consecutive
numbers of the zero-padded input, and the K models' windows for a batch form one (K, b·L_out, kernel·C)
matrix (one strided copy); the weights are stored to match, (K, kernel·C_in, C_out). A hidden convolution's
ReLU writes straight into the next convolution's padded input (no separate activation copy). The backward
pass is written out: weight gradients are one product with the same windows, input gradients one product
back into windows and ``kernel`` strided additions (col2im) straight into the input gradient. The head reads
the features in the channels-last order too, so its weights are permuted from ``nn.Flatten``'s (channel,
position) order once, when stacked.

Measured (x86_64, 2 cores, one thread, 16 models of width 32 on MNIST-1D, 2 epochs, after warm-up): 2.4×
the same models trained through ``torch.func`` (``stack_module_state`` + ``vmap`` + autograd, a grouped
convolution per layer), weights equal to float rounding; writing the ReLU into the next padded input and
col2im into the input gradient then took it from 1.07 s to 0.87 s (bit-identical weights). Copying rather
than adding the taps that write positions first was tried and gained 2%, not worth its bookkeeping.
``bench/memorization.py --dataset mnist1d --model cnn1d`` gives the figures against the machine's
matrix-product throughput.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from .. import models as _models
from ..data import DataBundle
from ..training import TrainConfig
from ._common import lr_factor, stacked_sgd

#: (in channels, out channels, kernel, stride, padding) of one convolution
Geometry = tuple[int, int, int, int, int]


def _convolutions(model: nn.Module) -> list[nn.Conv1d]:
    """The Conv1d layers of a rum_core ``cnn1d`` (Flatten(2) → [Conv1d → ReLU]* → Flatten), or raise."""
    mods = list(getattr(model, "features", nn.Sequential()).children())
    ok = (len(mods) >= 4 and isinstance(mods[0], nn.Flatten) and isinstance(mods[-1], nn.Flatten)
          and len(mods) % 2 == 0)
    pairs = list(zip(mods[1:-1:2], mods[2:-1:2], strict=True)) if ok else []
    if not ok or not all(isinstance(c, nn.Conv1d) and isinstance(r, nn.ReLU) for c, r in pairs):
        raise TypeError("not a rum_core cnn1d (features must be Flatten(2), Conv1d/ReLU pairs, Flatten)")
    return [c for c, _ in pairs]


def _lengths(length: int, geometry: Sequence[Geometry]) -> list[int]:
    """The sequence length before the first convolution and after each one."""
    out = [int(length)]
    for _, _, kernel, stride, pad in geometry:
        out.append((out[-1] + 2 * pad - kernel) // stride + 1)
    return out


@dataclass
class CNN1dStack:
    """K ``cnn1d`` models with stacked parameters, laid out for channels-last im2col.

    ``weights[l]`` is (K, kernel·C_in, C_out) with row ``j·C_in + c`` holding ``conv.weight[:, c, j]``;
    ``biases[l]`` (K, 1, C_out); ``head_weight`` (K, L_last·C_last, classes) with row ``t·C_last + c``
    holding ``head.weight[:, c·L_last + t]``; ``head_bias`` (K, 1, classes). ``geometry`` and ``length``
    (the input length) describe the architecture.
    """

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    head_weight: torch.Tensor
    head_bias: torch.Tensor
    geometry: tuple[Geometry, ...]
    length: int

    #: Models per chunk on a CPU (:func:`rum_core.ensembles.train_stack`). Measured per model, one thread, width
    #: 32, 2 epochs: 44–49 ms in chunks of 8, 50–53 ms of 24, 55–57 ms of 48 (smaller chunks stay in cache).
    CPU_CHUNK: ClassVar[int] = 8

    def __len__(self) -> int:
        return int(self.head_bias.shape[0])

    @property
    def lengths(self) -> list[int]:
        return _lengths(self.length, self.geometry)

    @property
    def _reads(self) -> list[list[tuple[int, int, int]]]:
        """Per convolution and kernel tap t: (first output, number of outputs, first input position) of the
        outputs whose tap t reads an input position rather than padding; col2im adds their gradients back
        to input positions start, start + stride, …"""
        out = []
        lens = self.lengths
        for i, (_, _, kernel, stride, pad) in enumerate(self.geometry):
            taps = []
            for t in range(kernel):
                first = max(0, -(-(pad - t) // stride))  # ⌈(pad − t) / stride⌉, at least 0
                last = min(lens[i + 1] - 1, (lens[i] - 1 + pad - t) // stride)
                count = max(0, last - first + 1)
                taps.append((first, count, first * stride + t - pad))
            out.append(taps)
        return out

    @classmethod
    def from_models(cls, models: Sequence[nn.Module]) -> CNN1dStack:
        convs = [_convolutions(m) for m in models]
        geometry = tuple((c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0], c.padding[0])
                         for c in convs[0])
        if any(tuple((c.in_channels, c.out_channels, c.kernel_size[0], c.stride[0], c.padding[0])
                     for c in cs) != geometry for cs in convs):
            raise ValueError("all models must have the same architecture")
        length = int(models[0].spec.input_shape[-1])
        k = len(models)
        weights = [torch.stack([cs[i].weight.detach() for cs in convs]).permute(0, 3, 2, 1)
                   .reshape(k, -1, geometry[i][1]).contiguous() for i in range(len(geometry))]
        biases = [torch.stack([cs[i].bias.detach() for cs in convs]).unsqueeze(1).contiguous()
                  for i in range(len(geometry))]
        c_last, l_last = geometry[-1][1], _lengths(length, geometry)[-1]
        head = torch.stack([m.head.weight.detach() for m in models])  # (K, classes, C·L)
        head_weight = head.view(k, -1, c_last, l_last).permute(0, 3, 2, 1).reshape(k, l_last * c_last, -1)
        head_bias = torch.stack([m.head.bias.detach() for m in models]).unsqueeze(1)
        return cls(weights, biases, head_weight.contiguous(), head_bias.contiguous(), geometry, length)

    @classmethod
    def init(cls, bundle: DataBundle, seeds: Sequence[int], model_kwargs: dict | None = None) -> CNN1dStack:
        """Freshly initialized models, model k exactly as ``models.build("cnn1d", bundle, seed=seeds[k])``."""
        kw = dict(model_kwargs or {})
        return cls.from_models([_models.build("cnn1d", bundle, seed=int(s), **kw) for s in seeds])

    @classmethod
    def cat(cls, stacks: Sequence[CNN1dStack]) -> CNN1dStack:
        """The models of ``stacks`` one after the other, as one stack."""
        first = stacks[0]
        return cls([torch.cat(ws) for ws in zip(*(s.weights for s in stacks), strict=True)],
                   [torch.cat(bs) for bs in zip(*(s.biases for s in stacks), strict=True)],
                   torch.cat([s.head_weight for s in stacks]), torch.cat([s.head_bias for s in stacks]),
                   first.geometry, first.length)

    def _map(self, fn) -> CNN1dStack:
        return CNN1dStack([fn(w) for w in self.weights], [fn(b) for b in self.biases], fn(self.head_weight),
                          fn(self.head_bias), self.geometry, self.length)

    def select(self, idx) -> CNN1dStack:
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        return self._map(lambda t: t[idx])

    def to(self, device) -> CNN1dStack:
        return self._map(lambda t: t.to(device))

    def load_into(self, model: nn.Module, k: int) -> nn.Module:
        """Copy model k's parameters into a built rum_core ``cnn1d`` of the same architecture; return it."""
        convs = _convolutions(model)
        c_last, l_last = self.geometry[-1][1], self.lengths[-1]
        with torch.no_grad():
            for conv, w, b, (c_in, c_out, kernel, _, _) in zip(convs, self.weights, self.biases, self.geometry,
                                                              strict=True):
                conv.weight.copy_(w[k].view(kernel, c_in, c_out).permute(2, 1, 0))
                conv.bias.copy_(b[k, 0])
            head = self.head_weight[k].view(l_last, c_last, -1).permute(2, 1, 0).reshape(-1, c_last * l_last)
            model.head.weight.copy_(head)
            model.head.bias.copy_(self.head_bias[k, 0])
        return model

    def to_models(self, bundle: DataBundle, model_kwargs: dict | None = None) -> list[nn.Module]:
        """The K models as :class:`rum_core.models.Classifier` objects (CPU, eval mode)."""
        kw = dict(model_kwargs or {})
        return [self.load_into(_models.build("cnn1d", bundle, seed=0, **kw), k).eval() for k in range(len(self))]

    def _workspace(self, b: int, device, dtype) -> dict:
        """Buffers for batches of ``b``: each convolution's zero-padded input (its pad rows stay 0) and
        windows, the pre-activations of the hidden convolutions (whose ReLU writes straight into the next
        padded input), the last convolution's activations, and the input gradients of all but the first."""
        k = len(self)
        lens = self.lengths
        new = lambda *shape: torch.empty(shape, device=device, dtype=dtype)  # noqa: E731
        space: dict[str, list] = {"padded": [], "cols": [], "pre": [], "dinput": []}
        for i, (c_in, c_out, kernel, _, pad) in enumerate(self.geometry):
            space["padded"].append(torch.zeros((k, b, lens[i] + 2 * pad, c_in), device=device, dtype=dtype))
            space["cols"].append(new(k, b * lens[i + 1], kernel * c_in))
            space["pre"].append(new(k, b * lens[i + 1], c_out))
            space["dinput"].append(new(k, b, lens[i], c_in) if i else None)
        return space

    def _interior(self, space: dict, layer: int) -> torch.Tensor:
        """The input of convolution ``layer`` inside its padded buffer, (K, b, L, C)."""
        pad = self.geometry[layer][4]
        return space["padded"][layer][:, :, pad:pad + self.lengths[layer]]

    def _features(self, a: torch.Tensor, space: dict) -> torch.Tensor:
        """The convolutions and ReLUs on ``a`` (K, b, L, C_in); (K, b, L_last·C_last) features, channels-last.
        Fills ``space``'s windows and activations, which the backward pass reads: a hidden convolution's
        ReLU output lives only in the next convolution's padded input."""
        k, b = a.shape[:2]
        lens = self.lengths
        self._interior(space, 0).copy_(a)
        last = len(self.geometry) - 1
        for i, (c_in, c_out, kernel, stride, _) in enumerate(self.geometry):
            padded, cols = space["padded"][i], space["cols"][i]
            s_k, s_b, s_l, _ = padded.stride()
            windows = padded.as_strided((k, b, lens[i + 1], kernel * c_in), (s_k, s_b, stride * s_l, 1))
            cols.view(k, b, lens[i + 1], kernel * c_in).copy_(windows)
            pre = torch.baddbmm(self.biases[i], cols, self.weights[i], out=space["pre"][i])
            if i < last:
                torch.clamp_min(pre.view(k, b, lens[i + 1], c_out), 0.0, out=self._interior(space, i + 1))
        return space["pre"][last].relu_().view(k, b, -1)

    @torch.no_grad()
    def logits(self, x: torch.Tensor, *, batch_size: int = 1024) -> torch.Tensor:
        """(K, N, classes) float32 logits of every model on ``x`` (N, C, 1, L), computed on the stack's device."""
        dev = self.head_weight.device
        k = len(self)
        out = []
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(dev)
            space = self._workspace(len(xb), dev, xb.dtype)
            a = xb.flatten(2).transpose(1, 2).unsqueeze(0).expand(k, -1, -1, -1)  # (K, b, L, C)
            feats = self._features(a, space)
            out.append(torch.baddbmm(self.head_bias, feats, self.head_weight).float().cpu())
        return torch.cat(out, dim=1) if out else torch.zeros((k, 0, int(self.head_bias.shape[-1])))

    def train(self, x: torch.Tensor, y: torch.Tensor, subsets: torch.Tensor, seeds: Sequence[int],
              cfg: TrainConfig) -> CNN1dStack:
        """Train the models in place, model k on rows ``subsets[k]`` of ``(x, y)`` with seed ``seeds[k]``;
        return the stack.

        Replays ``training.fit`` model by model, as the MLP trainer does: one ``randperm(m)`` per epoch from
        a generator seeded with the model's seed, consecutive batches of it (the last one ragged), the
        batch-mean cross-entropy, and one SGD step (momentum, weight decay) over all stacked parameters with
        the schedule's learning rate of that step. ReLU' is 0 at 0, like autograd's.
        """
        dev, dtype = self.head_weight.device, x.dtype
        k, m = subsets.shape
        lens = self.lengths
        n_conv = len(self.geometry)
        params = [*self.weights, *self.biases, self.head_weight, self.head_bias]
        grads = [torch.zeros_like(p) for p in params]
        grad_w, grad_b, grad_hw, grad_hb = grads[:n_conv], grads[n_conv:2 * n_conv], grads[-2], grads[-1]
        sgd_step = stacked_sgd(params, grads, cfg)
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
        bsz = cfg.batch_size
        steps_per_epoch = math.ceil(m / bsz)
        total = cfg.epochs * steps_per_epoch
        x = x.flatten(2).transpose(1, 2).contiguous()  # (N, L, C): channels-last sequences
        subsets = subsets.to(dev)
        spaces: dict[int, dict] = {}
        reads = self._reads
        step = 0
        with torch.no_grad():
            for _ in range(cfg.epochs):
                perms = torch.stack([torch.randperm(m, generator=g) for g in gens]).to(dev)
                order = torch.gather(subsets, 1, perms)
                for j in range(steps_per_epoch):
                    idx = order[:, j * bsz:(j + 1) * bsz].reshape(-1)
                    b = len(idx) // k
                    if b not in spaces:  # preallocated per batch size (full and ragged last batch)
                        spaces[b] = self._workspace(b, dev, dtype)
                        spaces[b]["neg_one"] = torch.full((k, b, 1), -1.0, device=dev, dtype=dtype)
                    space = spaces[b]
                    feats = self._features(x[idx].view(k, b, lens[0], -1), space)
                    g = torch.softmax(torch.baddbmm(self.head_bias, feats, self.head_weight), 2)  # (K, b, classes)
                    # d(mean cross-entropy)/d(logits) = (softmax − one-hot) / b, per model
                    g.scatter_add_(2, y[idx].view(k, b, 1), space["neg_one"]).mul_(1.0 / b)
                    torch.sum(g, 1, keepdim=True, out=grad_hb)
                    torch.bmm(feats.transpose(1, 2), g, out=grad_hw)
                    da = torch.bmm(g, self.head_weight.transpose(1, 2)).view(k, b * lens[-1], -1)
                    da.mul_(space["pre"][-1].sign_())  # ReLU' of the last convolution: its spent output's sign
                    for i in range(n_conv - 1, -1, -1):
                        c_in, _, kernel, stride, pad = self.geometry[i]
                        torch.sum(da, 1, keepdim=True, out=grad_b[i])
                        torch.bmm(space["cols"][i].transpose(1, 2), da, out=grad_w[i])
                        if i == 0:
                            break
                        dcols = torch.bmm(da, self.weights[i].transpose(1, 2)).view(k, b, lens[i + 1], kernel, c_in)
                        dinput = space["dinput"][i].zero_()
                        for t, (first, count, start) in enumerate(reads[i]):  # col2im
                            if count:
                                dinput[:, :, start:start + stride * (count - 1) + 1:stride].add_(
                                    dcols[:, :, first:first + count, t])
                        # ReLU' of the previous convolution, from its spent output in this one's padded input
                        da = dinput.mul_(self._interior(space, i).sign_()).view(k, b * lens[i], c_in)
                    sgd_step(cfg.lr * lr_factor(step, total, cfg.schedule))
                    step += 1
        return self
