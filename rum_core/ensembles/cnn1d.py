"""K ``cnn1d`` models (MNIST-1D's small CNN) with stacked parameters, trained by a hand-written batched step
(see :mod:`rum_core.ensembles`).

Each convolution is computed as im2col + one batched matrix product for all K models: activations are kept
channels-last, (K, b, L, C), so the window of a kernel at one output position is ``kernel·C`` consecutive
numbers of the zero-padded input, and the K models' windows for a batch form one (K, b·L_out, kernel·C)
matrix (one strided copy); the weights are stored to match, (K, kernel·C_in, C_out). A hidden convolution's
ReLU writes straight into the next convolution's padded input (no separate activation copy). The backward
pass is written out: weight gradients are one product with the same windows, input gradients one product
back into windows (written into the spent windows' buffer) and a col2im planned from the geometry, which
writes each input position once (a copy where one tap reads it, one addition where two do). The head
reads the features in the channels-last order too, so its weights are permuted from ``nn.Flatten``'s
(channel, position) order once, when stacked, and kept transposed (logits as (K, classes, b)). Every
buffer and every view a step uses is made once per batch size (:class:`_Workspace`), so a step only
computes.

Measured (x86_64, 2 cores, one thread, 16 models of width 32 on MNIST-1D, 2 epochs, after warm-up): 2.4×
the same models trained through ``torch.func`` (``stack_module_state`` + ``vmap`` + autograd, a grouped
convolution per layer), weights equal to float rounding; writing the ReLU into the next padded input and
col2im into the input gradient then took it from 1.07 s to 0.87 s (bit-identical weights). Then, 8 models
on one thread, run side by side with the previous version in one process: no fresh (K, b·L, kernel·C)
tensor per step (its page faults tripled that product's time), the transposed head, one gather per epoch,
the planned col2im and the views made once together took the 2 epochs from 0.37–0.41 s to 0.28–0.34 s
(1.2–1.3×). What is left is mostly the matrix products (about two thirds of a step, each at about
75% of one core's measured GEMM throughput). ``bench/memorization.py --dataset mnist1d --model cnn1d``
gives the figures for K models against the one-at-a-time loop and the machine's matrix-product throughput.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
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
    ``biases[l]`` (K, 1, C_out); ``head_weight`` (K, classes, L_last·C_last) with column ``t·C_last + c``
    holding ``head.weight[:, c·L_last + t]``; ``head_bias`` (K, classes, 1). The head is kept transposed
    (logits as (K, classes, b)) because products with only ``classes`` output columns are slow: measured
    (one thread, 8 models, batches of 64, width 32) the head's forward and weight gradient take 47 + 35 µs
    this way against 148 + 221 µs as (b, F) × (F, classes). ``geometry`` and ``length`` (the input length)
    describe the architecture.
    """

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]
    head_weight: torch.Tensor
    head_bias: torch.Tensor
    geometry: tuple[Geometry, ...]
    length: int

    #: Models per chunk on a CPU (:func:`rum_core.ensembles.train_stack`). Measured per model and epoch, 96 models
    #: of width 32 in two worker threads (2 cores): 10.4 ms in chunks of 4, 10.5 of 8, 11.7 of 16 (the windows
    #: of larger chunks leave the cache; smaller ones spend more of each step in Python).
    CPU_CHUNK: ClassVar[int] = 8

    def __len__(self) -> int:
        return int(self.head_bias.shape[0])

    @property
    def lengths(self) -> list[int]:
        return _lengths(self.length, self.geometry)

    @property
    def _col2im(self) -> list[list[tuple[int, int, int, tuple[tuple[int, int], ...]]]]:
        """Per convolution, the plan that folds its window gradients back onto its input (col2im).

        Input positions ``start, start + stride, …`` (``count`` of them) that the same kernel taps read form
        one segment ``(start, count, stride, taps)``, ``taps`` being (tap t, first output o) pairs: position
        ``start + stride·j`` gets the gradient of tap t at output ``o + j`` of each. One tap is a copy, two
        an addition into the input gradient, no tap (read by no window) a zero fill, so every position is
        written once, with no zero fill of the whole buffer first and no read-add-write per tap. Measured (one
        thread, 8 models): the fill and per-tap additions were 11–17% of a step (the step without them);
        the profiler puts the plan's copies and additions at about half their time.
        """
        plans = []
        lens = self.lengths
        for i, (_, _, kernel, stride, pad) in enumerate(self.geometry):
            def readers(p: int, i=i, kernel=kernel, stride=stride, pad=pad) -> tuple[tuple[int, int], ...]:
                """(tap, output) pairs of the windows that read input position p."""
                return tuple((t, (p + pad - t) // stride) for t in range(kernel)
                             if (p + pad - t) % stride == 0 and 0 <= (p + pad - t) // stride < lens[i + 1])
            plan = []
            for residue in range(min(stride, lens[i])):  # positions a stride apart, run by run of equal taps
                read = [(p, readers(p)) for p in range(residue, lens[i], stride)]
                for _, run in groupby(read, key=lambda pr: tuple(t for t, _ in pr[1])):
                    run = list(run)
                    plan.append((run[0][0], len(run), stride, run[0][1]))
            plans.append(plan)
        return plans

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
        head_weight = head.view(k, -1, c_last, l_last).transpose(2, 3).reshape(k, -1, l_last * c_last)
        head_bias = torch.stack([m.head.bias.detach() for m in models]).unsqueeze(2)
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
            head = self.head_weight[k].view(-1, l_last, c_last).transpose(1, 2).reshape(-1, c_last * l_last)
            model.head.weight.copy_(head)
            model.head.bias.copy_(self.head_bias[k, :, 0])
        return model

    def to_models(self, bundle: DataBundle, model_kwargs: dict | None = None) -> list[nn.Module]:
        """The K models as :class:`rum_core.models.Classifier` objects (CPU, eval mode)."""
        kw = dict(model_kwargs or {})
        return [self.load_into(_models.build("cnn1d", bundle, seed=0, **kw), k).eval() for k in range(len(self))]

    def _features(self, a: torch.Tensor, space: _Workspace) -> torch.Tensor:
        """The convolutions and ReLUs on ``a`` (K, b, L, C_in); (K, b, L_last·C_last) features, channels-last.
        Fills ``space``'s windows and activations, which the backward pass reads: a hidden convolution's
        ReLU output lives only in the next convolution's padded input."""
        space.interior[0].copy_(a)
        last = len(self.geometry) - 1
        for i in range(last + 1):
            space.cols_by_window[i].copy_(space.windows[i])
            torch.baddbmm(self.biases[i], space.cols[i], self.weights[i], out=space.pre[i])
            if i < last:
                torch.clamp_min(space.pre_by_position[i], 0.0, out=space.interior[i + 1])
        space.pre[last].relu_()
        return space.features

    @torch.no_grad()
    def logits(self, x: torch.Tensor, *, batch_size: int | None = None) -> torch.Tensor:
        """(K, N, classes) float32 logits of every model on ``x`` (N, C, 1, L), computed on the stack's device,
        ``batch_size`` examples at a time (default: 64 on a CPU, where 8 models' windows then stay in cache —
        measured, one thread: 11.5 ms per model for MNIST-1D's 4,856 sequences, 25.7 ms in batches of 1,024
        — and 1,024 on an accelerator)."""
        dev = self.head_weight.device
        batch_size = (64 if dev.type == "cpu" else 1024) if batch_size is None else batch_size
        k = len(self)
        out = []
        spaces: dict[int, _Workspace] = {}
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(dev)
            if len(xb) not in spaces:
                spaces[len(xb)] = _Workspace(self, len(xb), dev, xb.dtype, backward=False)
            a = xb.flatten(2).transpose(1, 2).unsqueeze(0).expand(k, -1, -1, -1)  # (K, b, L, C)
            feats = self._features(a, spaces[len(xb)])
            logits = torch.baddbmm(self.head_bias, self.head_weight, feats.transpose(1, 2))  # (K, classes, b)
            out.append(logits.transpose(1, 2).float().cpu())
        return torch.cat(out, dim=1) if out else torch.zeros((k, 0, int(self.head_bias.shape[1])))

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
        spaces: dict[int, _Workspace] = {}
        weights_t = [w.transpose(1, 2) for w in self.weights]  # views: they follow the in-place updates
        step = 0
        with torch.no_grad():
            for _ in range(cfg.epochs):
                perms = torch.stack([torch.randperm(m, generator=g) for g in gens]).to(dev)
                order = torch.gather(subsets, 1, perms).view(-1)
                # this epoch's sequences and labels in batch order, gathered once: (K, m, L, C) and (K, 1, m)
                xs = x.index_select(0, order).view(k, m, lens[0], -1)
                ys = y.index_select(0, order).view(k, 1, m)
                for j in range(steps_per_epoch):
                    xb, yb = xs[:, j * bsz:(j + 1) * bsz], ys[:, :, j * bsz:(j + 1) * bsz]
                    b = xb.shape[1]
                    if b not in spaces:  # preallocated per batch size (full and ragged last batch)
                        spaces[b] = _Workspace(self, b, dev, dtype, backward=True)
                    space = spaces[b]
                    feats = self._features(xb, space)
                    logits = torch.baddbmm(self.head_bias, self.head_weight, feats.transpose(1, 2))  # (K, classes, b)
                    g = torch.softmax(logits, 1)
                    # d(mean cross-entropy)/d(logits) = (softmax − one-hot) / b, per model
                    g.scatter_add_(1, yb, space.neg_one).mul_(1.0 / b)
                    torch.sum(g, 2, keepdim=True, out=grad_hb)
                    torch.bmm(g, feats, out=grad_hw)
                    torch.bmm(g.transpose(1, 2), self.head_weight, out=space.dfeatures)
                    da = space.dfeatures_by_row.mul_(space.pre[-1].sign_())  # ReLU': the spent output's sign
                    for i in range(n_conv - 1, -1, -1):
                        torch.sum(da, 1, keepdim=True, out=grad_b[i])
                        torch.bmm(space.cols_t[i], da, out=grad_w[i])
                        if i == 0:
                            break
                        # the windows are spent: their buffer takes their gradient (a fresh (K, b·L, kernel·C)
                        # tensor every step would cost page faults, 3× this product's time)
                        torch.bmm(da, weights_t[i], out=space.cols[i])
                        for target, parts in space.col2im[i]:
                            if not parts:
                                target.zero_()
                            elif len(parts) == 1:
                                target.copy_(parts[0])
                            else:
                                torch.add(parts[0], parts[1], out=target)
                                for part in parts[2:]:
                                    target.add_(part)
                        # ReLU' of the previous convolution, from its spent output in this one's padded input
                        space.dinput[i].mul_(space.interior[i].sign_())
                        da = space.dinput_by_row[i]
                    sgd_step(cfg.lr * lr_factor(step, total, cfg.schedule))
                    step += 1
        return self


class _Workspace:
    """Buffers of a :class:`CNN1dStack` for batches of ``b``, and every view of them a step uses, made once: a
    step then only computes (measured, one thread, 8 models: 4–17% faster than making its views each step).

    Forward: each convolution's zero-padded input (its pad rows stay 0; ``interior`` is the input inside
    it), its windows (``cols``, filled from the strided ``windows`` view of the padded input) and its
    pre-activations; a hidden convolution's ReLU writes straight into the next padded input. With
    ``backward``: the head's input gradient, every convolution's but the first's input gradient, and the
    col2im plan as (target, parts) views: the window gradients are written into ``cols`` (spent by then).
    """

    def __init__(self, stack: CNN1dStack, b: int, device, dtype, *, backward: bool) -> None:
        k, lens, geometry = len(stack), stack.lengths, stack.geometry
        new = lambda *shape: torch.empty(shape, device=device, dtype=dtype)  # noqa: E731
        self.interior, self.windows, self.cols, self.cols_by_window = [], [], [], []
        self.pre, self.pre_by_position, self.cols_t = [], [], []
        for i, (c_in, c_out, kernel, stride, pad) in enumerate(geometry):
            padded = torch.zeros((k, b, lens[i] + 2 * pad, c_in), device=device, dtype=dtype)
            s_k, s_b, s_l, _ = padded.stride()
            cols, pre = new(k, b * lens[i + 1], kernel * c_in), new(k, b * lens[i + 1], c_out)
            self.interior.append(padded[:, :, pad:pad + lens[i]])
            self.windows.append(padded.as_strided((k, b, lens[i + 1], kernel * c_in), (s_k, s_b, stride * s_l, 1)))
            self.cols.append(cols)
            self.cols_by_window.append(cols.view(k, b, lens[i + 1], kernel * c_in))
            self.cols_t.append(cols.transpose(1, 2))
            self.pre.append(pre)
            self.pre_by_position.append(pre.view(k, b, lens[i + 1], c_out))
        self.features = self.pre[-1].view(k, b, -1)
        if not backward:
            return
        self.neg_one = torch.full((k, 1, b), -1.0, device=device, dtype=dtype)
        self.dfeatures = new(k, b, lens[-1] * geometry[-1][1])
        self.dfeatures_by_row = self.dfeatures.view(k, b * lens[-1], -1)
        self.dinput, self.dinput_by_row, self.col2im = [None], [None], [[]]
        for i, plan in enumerate(stack._col2im[1:], start=1):
            c_in, _, kernel, _, _ = geometry[i]
            dinput = new(k, b, lens[i], c_in)
            dcols = self.cols[i].view(k, b, lens[i + 1], kernel, c_in)
            self.dinput.append(dinput)
            self.dinput_by_row.append(dinput.view(k, b * lens[i], c_in))
            self.col2im.append([(dinput[:, :, start:start + step * (count - 1) + 1:step],
                                 [dcols[:, :, o:o + count, t] for t, o in taps])
                                for start, count, step, taps in plan])
