"""K ``mlp`` models with stacked parameters, trained by a hand-written batched step (see
:mod:`rum_core.ensembles`)."""

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


def _mlp_linears(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers of a rum_core ``mlp`` (Flatten → [Linear → ReLU]* → head), or raise."""
    mods = list(model.features.children())
    if not mods or not isinstance(mods[0], nn.Flatten) or len(mods) % 2 != 1:
        raise TypeError("not a rum_core mlp (features must be Flatten followed by Linear/ReLU pairs)")
    linears = []
    for lin, act in zip(mods[1::2], mods[2::2], strict=True):
        if not isinstance(lin, nn.Linear) or not isinstance(act, nn.ReLU):
            raise TypeError("not a rum_core mlp (features must be Flatten followed by Linear/ReLU pairs)")
        linears.append(lin)
    return linears + [model.head]


@dataclass
class MLPStack:
    """K MLPs with stacked parameters: ``weights[l]`` is (K, out_l, in_l), ``biases[l]`` is (K, out_l).

    The layout of ``nn.Linear`` (layer l computes ``a @ weights[l].T + biases[l]``) with a leading model
    axis; every layer but the last is followed by a ReLU.
    """

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]

    #: Models per chunk on a CPU (:func:`rum_core.ensembles.train_stack`): measured fastest for digits MLPs.
    CPU_CHUNK: ClassVar[int] = 24

    def __len__(self) -> int:
        return int(self.weights[0].shape[0])

    @property
    def sizes(self) -> list[int]:
        return [int(self.weights[0].shape[2])] + [int(w.shape[1]) for w in self.weights]

    @classmethod
    def from_models(cls, models: Sequence[nn.Module]) -> MLPStack:
        layers = [_mlp_linears(m) for m in models]
        n_layers = len(layers[0])
        if any(len(ls) != n_layers for ls in layers):
            raise ValueError("all models must have the same architecture")
        weights = [torch.stack([ls[i].weight.detach() for ls in layers]).contiguous() for i in range(n_layers)]
        biases = [torch.stack([ls[i].bias.detach() for ls in layers]).contiguous() for i in range(n_layers)]
        return cls(weights, biases)

    @classmethod
    def init(cls, bundle: DataBundle, seeds: Sequence[int], model_kwargs: dict | None = None) -> MLPStack:
        """Freshly initialized models, model k exactly as ``models.build("mlp", bundle, seed=seeds[k])``."""
        kw = dict(model_kwargs or {})
        return cls.from_models([_models.build("mlp", bundle, seed=int(s), **kw) for s in seeds])

    @classmethod
    def cat(cls, stacks: Sequence[MLPStack]) -> MLPStack:
        """The models of ``stacks`` one after the other, as one stack."""
        return cls([torch.cat(ws) for ws in zip(*(st.weights for st in stacks), strict=True)],
                   [torch.cat(bs) for bs in zip(*(st.biases for st in stacks), strict=True)])

    def train(self, x: torch.Tensor, y: torch.Tensor, subsets: torch.Tensor, seeds: Sequence[int],
              cfg: TrainConfig) -> MLPStack:
        """Train the models in place, model k on rows ``subsets[k]`` of ``(x, y)`` with seed ``seeds[k]``
        (:func:`_train_chunk`); return the stack."""
        return _train_chunk(self, x, y, subsets, seeds, cfg)

    def select(self, idx) -> MLPStack:
        idx = torch.as_tensor(np.asarray(idx), dtype=torch.long)
        return MLPStack([w[idx] for w in self.weights], [b[idx] for b in self.biases])

    def to(self, device) -> MLPStack:
        return MLPStack([w.to(device) for w in self.weights], [b.to(device) for b in self.biases])

    def load_into(self, model: nn.Module, k: int) -> nn.Module:
        """Copy model k's parameters into a built rum_core ``mlp`` of the same architecture; return it."""
        with torch.no_grad():
            for lin, w, b in zip(_mlp_linears(model), self.weights, self.biases, strict=True):
                lin.weight.copy_(w[k])
                lin.bias.copy_(b[k])
        return model

    def to_models(self, bundle: DataBundle, model_kwargs: dict | None = None) -> list[nn.Module]:
        """The K models as :class:`rum_core.models.Classifier` objects (CPU, eval mode)."""
        kw = dict(model_kwargs or {})
        return [self.load_into(_models.build("mlp", bundle, seed=0, **kw), k).eval() for k in range(len(self))]

    @torch.no_grad()
    def logits(self, x: torch.Tensor, *, batch_size: int = 4096) -> torch.Tensor:
        """(K, N, classes) float32 logits of every model on ``x`` (N, ...), computed on the stack's device."""
        dev = self.weights[0].device
        x = x.reshape(len(x), -1)
        k, d_out, d_in = self.weights[0].shape
        w0 = self.weights[0].reshape(k * d_out, d_in)
        out = []
        for i in range(0, len(x), batch_size):
            xb = x[i:i + batch_size].to(dev)
            # The first layer is one large matrix product shared by all K models.
            a = (xb @ w0.t()).view(len(xb), k, d_out).permute(1, 0, 2) + self.biases[0].unsqueeze(1)
            for w, b in zip(self.weights[1:], self.biases[1:], strict=True):
                a = torch.baddbmm(b.unsqueeze(1), a.relu_(), w.transpose(1, 2))
            out.append(a.float().cpu())
        return torch.cat(out, dim=1) if out else torch.zeros((k, 0, self.sizes[-1]))




def _train_chunk(stack: MLPStack, x: torch.Tensor, y: torch.Tensor, subsets: torch.Tensor,
                 seeds: Sequence[int], cfg: TrainConfig) -> MLPStack:
    """Train the models of ``stack`` (in place) on their rows ``subsets`` (K, m) of ``(x, y)``.

    Replays ``training.fit`` for each model: a ``torch.Generator`` seeded with the model's seed draws one
    ``randperm(m)`` per epoch (``minibatches``), batches are consecutive slices of it, the loss is the
    batch-mean cross-entropy, and SGD (momentum, weight decay on all parameters, no dampening) steps with
    the learning rate ``cfg.lr · factor(step)`` of ``make_optimizer``'s schedule over ``epochs·⌈m/B⌉`` steps.

    Layout, chosen for the speed of small batched products: hidden activations are (K, b, features); the
    last layer is computed transposed, logits as (K, classes, b), so its three products have the batch as
    their long dimension. The backward pass is written out (ReLU derivative 0 at 0, like autograd's), into
    preallocated gradient tensors, followed by one SGD step of all parameters (:func:`rum_core.ensembles._common.stacked_sgd`).

    Public torch operations only: ``torch.softmax`` and an in-place ``sign_`` of the spent activations for
    ReLU' replaced the private ``aten._softmax.out`` and ``aten.threshold_backward``. Measured side by side
    (x86_64, 2 threads, 200 digits MLPs, best of 3): 3.08 s vs 3.11 s with the private ops, bit-identical
    weights. (Writing the softmax in place with public ops, max-subtract / exp / divide, was as fast but not
    bit-identical; a boolean ``masked_fill_`` for ReLU' was 1.3× slower.)
    """
    dev = stack.weights[0].device
    k, m = subsets.shape
    ws = stack.weights
    n_layers = len(ws)
    # Bias views shaped for broadcasting: hidden layers (K, 1, out), last layer (K, classes, 1).
    bs = [b.unsqueeze(1) for b in stack.biases[:-1]] + [stack.biases[-1].unsqueeze(2)]
    params = ws + bs
    grads = [torch.zeros_like(p) for p in params]
    grad_w, grad_b = grads[:n_layers], grads[n_layers:]
    sgd_step = stacked_sgd(params, grads, cfg)
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    bsz = cfg.batch_size
    steps_per_epoch = math.ceil(m / bsz)
    total = cfg.epochs * steps_per_epoch
    x = x.reshape(len(x), -1)
    subsets = subsets.to(dev)
    sizes = [x.shape[1]] + [int(w.shape[1]) for w in ws]
    spaces: dict[int, dict] = {}

    def workspace(b: int) -> dict:
        # Preallocated per batch size (full and ragged last batch): fresh large tensors every step would
        # cost page faults that are as expensive as the arithmetic at this size.
        if b not in spaces:
            spaces[b] = {
                "x": torch.empty((k * b, sizes[0]), device=dev, dtype=x.dtype),
                "y": torch.empty(k * b, device=dev, dtype=torch.long),
                "acts": [torch.empty((k, b, d), device=dev, dtype=x.dtype) for d in sizes[1:-1]],
                "grads": [torch.empty((k, b, d), device=dev, dtype=x.dtype) for d in sizes[1:-1]],
                "z": torch.empty((k, sizes[-1], b), device=dev, dtype=x.dtype),
                "neg_one": torch.full((k, 1, b), -1.0, device=dev, dtype=x.dtype),
            }
        return spaces[b]

    step = 0
    with torch.no_grad():
        for _ in range(cfg.epochs):
            perms = torch.stack([torch.randperm(m, generator=g) for g in gens]).to(dev)
            order = torch.gather(subsets, 1, perms)  # (K, m): this epoch's examples in batch order
            for j in range(steps_per_epoch):
                idx = order[:, j * bsz:(j + 1) * bsz].reshape(-1)
                b = len(idx) // k
                w = workspace(b)
                a = torch.index_select(x, 0, idx, out=w["x"]).view(k, b, -1)
                yb = torch.index_select(y, 0, idx, out=w["y"]).view(k, 1, b)
                acts = [a]
                for li in range(n_layers - 1):
                    a = torch.baddbmm(bs[li], a, ws[li].transpose(1, 2), out=w["acts"][li]).relu_()
                    acts.append(a)
                torch.baddbmm(bs[-1], ws[-1], a.transpose(1, 2), out=w["z"])  # logits, (K, C, b)
                g = torch.softmax(w["z"], 1)  # a fresh (K, C, b) tensor: small, and as fast as writing in place
                # d(mean cross-entropy)/d(logits) = (softmax − one-hot) / b, per model.
                g.scatter_add_(1, yb, w["neg_one"]).mul_(1.0 / b)
                torch.sum(g, 2, keepdim=True, out=grad_b[-1])
                if n_layers > 1:
                    torch.bmm(g.transpose(1, 2), ws[-1], out=w["grads"][-1])
                torch.bmm(g, acts[-1], out=grad_w[-1])
                for li in range(n_layers - 2, -1, -1):
                    g = w["grads"][li]
                    # ReLU': the layer's output is not needed any more, so it becomes its own 0/1 derivative.
                    g.mul_(acts[li + 1].sign_())
                    torch.sum(g, 1, keepdim=True, out=grad_b[li])
                    if li > 0:
                        torch.bmm(g, ws[li], out=w["grads"][li - 1])
                    torch.bmm(g.transpose(1, 2), acts[li], out=grad_w[li])
                sgd_step(cfg.lr * lr_factor(step, total, cfg.schedule))
                step += 1
    return stack
