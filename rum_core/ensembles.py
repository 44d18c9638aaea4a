"""Many small models trained at once: the memorization estimator's (and LiRA's shadow) models.

An *ensemble* here is K models of one architecture, model k trained with the usual recipe
(:func:`rum_core.training.fit`) on its own subset ``subsets[k]`` of the training set, with its own seed
(initialization as :func:`rum_core.models.build` draws it, shuffling as ``fit`` draws it). Each model is
then evaluated on the whole training set and test set.

Two ways to train them, with the same result:

* **Batched** (``mlp`` models, no augmentation): the K models' parameters are stacked into tensors with a
  leading model axis (``nn.Linear``'s layout, (K, out, in)), and one training step of all K models is a
  handful of batched matrix products (``torch.baddbmm`` / ``torch.bmm``), a hand-written backward pass for
  the Linear/ReLU stack and one ``torch.optim.SGD`` step over the stacked parameters (fused: momentum and
  weight decay in one pass over all of them). Each model processes exactly
  the batches ``fit`` would give it (its own ``torch.Generator`` seeded with its seed, one ``randperm`` per
  epoch as in ``minibatches``; the cosine schedule over its own number of steps), so examples left out of
  a model cost nothing. Models are grouped by subset size (a group shares its number of steps and its
  ragged last batch) and cut into chunks; on a CPU, chunks run in parallel threads with one BLAS thread
  each (PyTorch releases the GIL inside its kernels, and matrices this small gain nothing from intra-op
  threads). The result equals a loop of ``fit`` calls up to float rounding (different summation order in
  the matrix products; the tests check 1e-5).
* **Vmapped** (the architectures of :data:`VMAPPED_MODELS`, e.g. MNIST-1D's ``cnn1d``; no augmentation): the
  K models' parameters are stacked by ``torch.func.stack_module_state`` and the model is called on them
  under ``torch.func.vmap`` (a stack of convolutions runs as one grouped convolution); autograd differentiates
  the sum of the K batch losses, which gives each model the gradient of its own loss, and one
  ``torch.optim.SGD`` step updates all of them. Public torch API only, any architecture without buffers;
  batches and schedule replay ``fit`` model by model as in the MLP path (tests check 1e-5).
* **Loop** (any other model, or augmentation): ``models.build`` + ``training.fit`` per model, spread over
  processes with joblib.

:func:`inclusion_design` draws the (K, N) in/out mask: ``"balanced"`` (every example in exactly the same
number of models, complementary folds) or ``"random"`` (each model an independent random subset).
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from fractions import Fraction
from functools import partial

import numpy as np
import torch
from torch import nn

from . import models as _models
from ._progress import progress
from .data import DataBundle
from .training import TrainConfig, default_device, fit, predict_logits
from .validation import check_indices, check_int, check_number, check_seeds

__all__ = ["DESIGNS", "VMAPPED_MODELS", "inclusion_design", "model_seeds", "MLPStack", "SplitOutputs",
           "EnsembleResult", "train_ensemble", "train_mlp_stack", "train_vmapped_stack", "mlp_layer_sizes",
           "mlp_train_flops", "train_flops"]

DESIGNS = ("balanced", "random")
_INIT_LOCK = threading.Lock()


# ------------------------------------------------------------------------------------------------ designs
def _ratio_fraction(subset_ratio: float) -> Fraction:
    subset_ratio = check_number("subset_ratio", subset_ratio, low=0.0, high=1.0, low_open=True, high_open=True)
    return Fraction(subset_ratio).limit_denominator(100)


def inclusion_design(n: int, n_models: int, subset_ratio: float = 0.7, design: str = "balanced",
                     seed: int = 0) -> np.ndarray:
    """The (n_models, n) boolean mask "model k trains on example i", seeded.

    Designs:
        ``"balanced"`` — complementary folds. Write ``subset_ratio`` as a fraction a/b (b ≤ 100; 0.7 = 7/10,
        0.5 = 1/2). The models come in rounds of b; each round randomly partitions the examples into b
        folds of near-equal size (the larger folds spread evenly around the cycle), and model j of the
        round leaves out the b − a consecutive folds j, …, j + b − a − 1 (mod b). So every example is in
        exactly ``a·K/b`` models and out of the rest, every model trains on ⌊·⌋ or ⌈·⌉ of ``a·n/b``
        examples (at most two sizes), and rounds are independent, so which examples share a model is
        random. Needs ``n_models`` to be a multiple of b (and n ≥ b). For a/b = 1/2 this is the classic
        design of complementary random halves.
        ``"random"`` — each model an independent uniformly random subset of ``round(subset_ratio·n)``
        examples; the in/out counts per example vary (binomially).

    Rows are in a random order (seeded), so any prefix of models is not a structured slice of a round.

    With few models the random design can leave an example never in (or never out) of any subset; the
    estimator then warns and returns NaN for it. The balanced design never does.

    Raises:
        ValueError: for an unknown design, a ratio outside (0, 1), or a model count the balanced design
            cannot use.
    """
    n, n_models, seed = check_int("n", n), check_int("n_models", n_models), check_int("seed", seed, low=0)
    if design not in DESIGNS:
        raise ValueError(f"design must be one of {DESIGNS}, got {design!r}")
    if n < 2:
        raise ValueError(f"need at least 2 examples, got {n}")
    if n_models < 2:
        raise ValueError(f"need at least 2 models (some in, some out), got {n_models}")
    frac = _ratio_fraction(subset_ratio)
    rng = np.random.default_rng([int(seed), 0x1D5E])
    if design == "random":
        size = int(round(float(subset_ratio) * n))
        if not 1 <= size <= n - 1:
            raise ValueError(f"subset_ratio {subset_ratio} of {n} examples gives subsets of {size}")
        mask = np.zeros((n_models, n), dtype=bool)
        for k in range(n_models):
            mask[k, rng.permutation(n)[:size]] = True
        return mask
    a, b = frac.numerator, frac.denominator
    if n_models % b:
        raise ValueError(f"the balanced design with subset_ratio {subset_ratio} = {a}/{b} needs n_models to be "
                         f"a multiple of {b}, got {n_models} (use e.g. {b * max(1, round(n_models / b))}, or "
                         f"design='random')")
    if n < b:
        raise ValueError(f"the balanced design with {b} folds needs at least {b} examples, got {n}")
    q, s = divmod(n, b)
    big = np.array([((f + 1) * s) // b - (f * s) // b for f in range(b)])  # s ones, evenly spread
    bounds = np.concatenate([[0], np.cumsum(q + big)])
    rows = []
    for _ in range(n_models // b):
        order = rng.permutation(n)
        fold_of = np.empty(n, dtype=np.int64)
        for f in range(b):
            fold_of[order[bounds[f]:bounds[f + 1]]] = f
        for j in range(b):
            out = (fold_of - j) % b < (b - a)
            rows.append(~out)
    mask = np.stack(rows)
    return mask[rng.permutation(n_models)]


def model_seeds(seed: int, n_models: int) -> np.ndarray:
    """Per-model seeds (int64, < 2³¹) derived from ``seed``; model k's seed does not depend on ``n_models``."""
    seed, n_models = check_int("seed", seed, low=0), check_int("n_models", n_models, low=0)
    return np.array([int(np.random.SeedSequence([seed, k]).generate_state(1)[0] >> 1)
                     for k in range(n_models)], dtype=np.int64)


# -------------------------------------------------------------------------------------- stacked MLPs
#: Architectures trained batched by :func:`train_vmapped_stack` (no batch norm: nothing per-model is
#: updated outside the parameters, so K models are one vectorized function of their stacked parameters).
VMAPPED_MODELS = ("cnn1d",)


def _is_batchable(model_name: str, cfg: TrainConfig) -> bool:
    """True when :func:`train_ensemble` trains these models batched: an ``mlp`` (the hand-written stacked
    trainer) or one of :data:`VMAPPED_MODELS` (``torch.func``), without augmentation."""
    return (model_name == "mlp" or model_name in VMAPPED_MODELS) and cfg.augment is None


def train_flops(bundle: DataBundle, model: str, examples: int, model_kwargs: dict | None = None) -> float:
    """FLOPs of training ``model`` on ``examples`` example-passes (forward and the backward that SGD needs:
    no gradient for the input), counted by PyTorch's ``FlopCounterMode`` on one example (so convolutions
    count their multiply-adds, like :func:`mlp_train_flops`'s matrix products; elementwise work is not
    counted). For an ``mlp`` it equals :func:`mlp_train_flops`."""
    from torch.utils.flop_counter import FlopCounterMode

    examples = check_int("examples", examples, low=0)
    net = _models.build(model, bundle, seed=0, **dict(model_kwargs or {}))
    x = bundle.train.x[:1]
    with FlopCounterMode(display=False) as counter:
        nn.functional.cross_entropy(net(x), bundle.train.y[:1]).backward()
    return float(examples) * float(counter.get_total_flops())


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


def mlp_layer_sizes(bundle: DataBundle, model_kwargs: dict | None = None) -> list[int]:
    """[in, hidden..., classes] of the ``mlp`` that :func:`rum_core.models.build` makes for ``bundle``."""
    model = _models.build("mlp", bundle, seed=0, **dict(model_kwargs or {}))
    lins = _mlp_linears(model)
    return [lins[0].in_features] + [lin.out_features for lin in lins]


def mlp_train_flops(sizes: Sequence[int], examples: int) -> float:
    """Matmul FLOPs of training an MLP with layer ``sizes`` on ``examples`` example-passes.

    Per example: forward 2·Σ in·out, weight gradients 2·Σ in·out, input gradients of every layer but
    the first 2·Σ_{l≥1} in·out (bias additions and elementwise work are not counted).
    """
    sizes = [check_int(f"sizes[{i}]", v, low=1) for i, v in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    examples = check_int("examples", examples, low=0)
    pairs = [a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False)]
    return float(examples) * 2.0 * (2 * sum(pairs) + sum(pairs[1:]))


@dataclass
class MLPStack:
    """K MLPs with stacked parameters: ``weights[l]`` is (K, out_l, in_l), ``biases[l]`` is (K, out_l).

    The layout of ``nn.Linear`` (layer l computes ``a @ weights[l].T + biases[l]``) with a leading model
    axis; every layer but the last is followed by a ReLU.
    """

    weights: list[torch.Tensor]
    biases: list[torch.Tensor]

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


def _lr_factor(step: int, total: int, schedule: str) -> float:
    # Mirrors training.make_optimizer's LambdaLR factor (the lr of optimizer step ``step``).
    if schedule == "cosine":
        total = max(1, total)
        return 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    return 1.0


def _stacked_sgd(params: list[torch.Tensor], grads: list[torch.Tensor], cfg: TrainConfig, *,
                 fused: bool | None = None) -> torch.optim.SGD:
    """``torch.optim.SGD`` with the recipe's momentum and weight decay over the stacked parameters, whose
    ``.grad`` are the preallocated tensors the hand-written backward pass fills in place every step (the
    caller sets each step's learning rate in ``param_groups[0]["lr"]``). Fused into one pass over every
    stacked tensor where PyTorch has the kernel (CPU and CUDA in the torch versions this package supports),
    else its foreach path (``fused=False`` forces it): the same arithmetic as an ``nn.Linear`` model's own
    optimizer in ``fit``.

    This public optimizer replaced a direct call of the private ``torch._fused_sgd_`` (with ``torch._foreach_*``
    as fallback). Measured side by side (x86_64, 2 cores, one thread, 16 digits MLPs × 4 epochs, after a
    warm-up run): 0.214 s with it vs 0.220 s with the private kernel, bit-identical weights. Its first step in
    a process costs about a second once (torch.optim's imports)."""
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    if fused is None:
        fused = all(p.device.type in ("cpu", "cuda") for p in params)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=float(cfg.momentum), weight_decay=float(cfg.weight_decay),
                           fused=fused or None, foreach=None if fused else True)


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
    preallocated gradient tensors, followed by one SGD step of all parameters (:func:`_stacked_sgd`).

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
    opt = _stacked_sgd(params, grads, cfg)
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
                opt.param_groups[0]["lr"] = cfg.lr * _lr_factor(step, total, cfg.schedule)
                opt.step()
                step += 1
    return stack


@contextlib.contextmanager
def _torch_threads(n: int):
    old = torch.get_num_threads()
    if n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)


def _cpu_workers(n_jobs: int | None) -> int:
    """``None``: PyTorch's thread count (capped by the usable CPUs); ``-1``: all usable CPUs; else ``n_jobs``."""
    avail = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n_jobs is None:
        return max(1, min(avail, torch.get_num_threads()))
    if n_jobs == -1:
        return avail
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive int, -1 or None, got {n_jobs!r}")
    return int(n_jobs)


def _as_subsets(subsets, n: int) -> list[np.ndarray]:
    if isinstance(subsets, torch.Tensor):
        subsets = subsets.detach().cpu().numpy()
    if isinstance(subsets, np.ndarray) and subsets.dtype == bool:
        if subsets.ndim != 2 or subsets.shape[1] != n:
            raise ValueError(f"a boolean subsets mask must have shape (K, {n}), got {subsets.shape}")
        return [np.flatnonzero(row) for row in subsets]
    return [np.sort(check_indices(f"subsets[{k}]", sub, n, allow_empty=False)) for k, sub in enumerate(subsets)]


def _chunks(subs: list[np.ndarray], chunk_size: int) -> list[tuple[np.ndarray, torch.Tensor]]:
    """(model indices, (k, m) subset matrix) per chunk: models grouped by subset size (a group shares its
    number of steps and its ragged last batch), then cut into chunks of at most ``chunk_size``."""
    chunks = []
    sizes = np.array([len(s) for s in subs])
    for m in np.unique(sizes):
        members = np.flatnonzero(sizes == m)
        for i in range(0, len(members), chunk_size):
            sel = members[i:i + chunk_size]
            chunks.append((sel, torch.from_numpy(np.stack([subs[j] for j in sel]))))
    return chunks


def _run_chunks(chunks, run, *, on_cpu: bool, threads: int, desc: str, progress_bar: bool | None) -> list:
    """``run(sel, sub)`` for every chunk with a progress bar; the ``(sel, result)`` pairs whose result is not
    None, in the order they finished. On a CPU, chunks run in ``threads`` parallel threads of one BLAS
    thread each (PyTorch releases the GIL inside its kernels, and these small products gain nothing from
    intra-op threads); on an accelerator, one after the other."""
    finished = []
    with contextlib.ExitStack() as ctx:
        if not on_cpu:
            results = (run(sel, sub) for sel, sub in chunks)
        else:
            ctx.enter_context(_torch_threads(1))
            if threads <= 1 or len(chunks) <= 1:
                results = (run(sel, sub) for sel, sub in chunks)
            else:
                pool = ctx.enter_context(ThreadPoolExecutor(max_workers=threads))
                results = (fut.result() for fut in as_completed([pool.submit(run, *c) for c in chunks]))
        for sel, result in progress(results, desc=desc, total=len(chunks), enabled=progress_bar):
            if result is not None:
                finished.append((sel, result))
    return finished


def train_mlp_stack(bundle: DataBundle, subsets, seeds: Sequence[int], cfg: TrainConfig, *,
                    model_kwargs: dict | None = None, device=None, chunk_size: int | None = None,
                    n_threads: int | None = None, progress_bar: bool | None = None,
                    desc: str = "ensemble", on_chunk=None) -> MLPStack | None:
    """Train K ``mlp`` models batched; model k ≡ ``fit(build("mlp", bundle, seed=seeds[k]), subset k)``.

    Args:
        subsets: K sorted index arrays into ``bundle.train`` (or one (K, N) boolean mask).
        seeds: K seeds (initialization and shuffling, as ``train_model`` uses one seed for both).
        chunk_size: models per chunk (default: 24 on a CPU — small enough that a chunk's parameters,
            momentum buffers and activations stay in cache — and 512 on an accelerator).
        n_threads: chunks trained in parallel on a CPU (each with one BLAS thread); default: the number of
            PyTorch threads.
        on_chunk: if given, ``on_chunk(model_indices, trained_chunk_stack)`` is called as each chunk finishes,
            in the worker thread that trained it (so it must only write to its own models' rows), and
            nothing is returned (saves memory for large K); otherwise the trained stack of all K models,
            on the CPU, in the order of ``seeds``.
    """
    if cfg.augment is not None:
        raise ValueError("the batched trainer does not implement augmentation; use train_ensemble (loop)")
    x, y = bundle.train.x, bundle.train.y
    subs = _as_subsets(subsets, len(y))
    seeds = check_seeds(seeds)
    if len(seeds) != len(subs):
        raise ValueError(f"got {len(subs)} subsets but {len(seeds)} seeds")
    dev = default_device() if device is None else torch.device(device)
    on_cpu = dev.type == "cpu"
    if chunk_size is None:
        chunk_size = 24 if on_cpu else 512
    threads = _cpu_workers(n_threads) if on_cpu else 1
    kw = dict(model_kwargs or {})
    x_dev, y_dev = x.reshape(len(x), -1).to(dev), y.to(dev)

    chunks = _chunks(subs, chunk_size)

    def run(sel, sub):
        with _INIT_LOCK:  # models.build seeds the global RNG: never from two threads at once
            stack = MLPStack.init(bundle, [seeds[j] for j in sel], kw).to(dev)
        stack = _train_chunk(stack, x_dev, y_dev, sub, [seeds[j] for j in sel], cfg)
        if on_chunk is not None:  # in the worker: evaluation runs in parallel like training
            on_chunk(sel, stack)
            return sel, None
        return sel, stack.to("cpu")

    finished = _run_chunks(chunks, run, on_cpu=on_cpu, threads=threads, desc=desc, progress_bar=progress_bar)
    if on_chunk is not None:
        return None
    order = np.empty(len(seeds), dtype=np.int64)
    pos = 0
    for sel, _ in finished:
        order[sel] = np.arange(pos, pos + len(sel))
        pos += len(sel)
    merged = MLPStack([torch.cat(ws) for ws in zip(*(st.weights for _, st in finished), strict=True)],
                      [torch.cat(bs) for bs in zip(*(st.biases for _, st in finished), strict=True)])
    return merged.select(order)


# ------------------------------------------------------------------------------- vmapped (torch.func)
def _vmapped_chunk(models: list[nn.Module], x: torch.Tensor, y: torch.Tensor, subsets: torch.Tensor,
                   seeds: Sequence[int], cfg: TrainConfig) -> dict[str, torch.Tensor]:
    """Train ``models`` (k built models of one architecture without buffers) on their rows ``subsets``
    (k, m) of ``(x, y)``; return their trained parameters stacked (name → (k, ...)).

    The k models become one function of their stacked parameters (``torch.func.stack_module_state``,
    ``functional_call`` under ``vmap``: a convolution of k models is one grouped convolution), and one step
    of all k is a backward pass of the SUM of their batch-mean cross-entropies, whose gradient for model j's
    parameters is exactly the gradient of model j's own loss, then one ``torch.optim.SGD`` step over the
    stacked parameters (momentum and weight decay act elementwise, so per model as in ``fit``). Batches,
    schedule and steps replay ``training.fit`` model by model, as :func:`_train_chunk` does for MLPs.
    """
    from torch.func import functional_call, stack_module_state, vmap

    params, buffers = stack_module_state(models)
    if buffers:
        raise ValueError(f"models with buffers ({sorted(buffers)}) cannot be trained vmapped")
    template = copy.deepcopy(models[0]).to("meta")

    def loss(p, xb, yb):
        return nn.functional.cross_entropy(functional_call(template, p, (xb,)), yb)

    batched_loss = vmap(loss)
    stacked = list(params.values())
    opt = torch.optim.SGD(stacked, lr=cfg.lr, momentum=float(cfg.momentum), weight_decay=float(cfg.weight_decay))
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    k, m = subsets.shape
    steps_per_epoch = math.ceil(m / cfg.batch_size)
    total, step = cfg.epochs * steps_per_epoch, 0
    subsets = subsets.to(x.device)
    for _ in range(cfg.epochs):
        perms = torch.stack([torch.randperm(m, generator=g) for g in gens]).to(x.device)
        order = torch.gather(subsets, 1, perms)
        for j in range(steps_per_epoch):
            idx = order[:, j * cfg.batch_size:(j + 1) * cfg.batch_size]
            opt.zero_grad(set_to_none=True)
            batched_loss(params, x[idx], y[idx]).sum().backward()
            opt.param_groups[0]["lr"] = cfg.lr * _lr_factor(step, total, cfg.schedule)
            opt.step()
            step += 1
    return {name: p.detach() for name, p in params.items()}


@torch.no_grad()
def _vmapped_logits(template: nn.Module, params: dict[str, torch.Tensor], x: torch.Tensor, *,
                    batch_size: int = 2048) -> torch.Tensor:
    """(k, N, classes) float32 logits of the k models whose stacked parameters are ``params``."""
    from torch.func import functional_call, vmap

    meta = copy.deepcopy(template).to("meta").eval()
    forward = vmap(lambda p, xb: functional_call(meta, p, (xb,)), in_dims=(0, None))
    dev = next(iter(params.values())).device
    out = [forward(params, x[i:i + batch_size].to(dev)).float().cpu() for i in range(0, len(x), batch_size)]
    k = next(iter(params.values())).shape[0]
    return torch.cat(out, dim=1) if out else torch.zeros((k, 0, template.head.out_features))


def train_vmapped_stack(bundle: DataBundle, subsets, seeds: Sequence[int], cfg: TrainConfig, *,
                        model: str = "cnn1d", model_kwargs: dict | None = None, device=None,
                        chunk_size: int | None = None, n_threads: int | None = None,
                        progress_bar: bool | None = None, desc: str = "ensemble",
                        on_chunk=None) -> list[nn.Module] | None:
    """Train K models of ``model`` (one of :data:`VMAPPED_MODELS`) batched with ``torch.func``; model k ≡
    ``fit(build(model, bundle, seed=seeds[k]), subset k, seed=seeds[k])`` up to float rounding.

    Arguments as :func:`train_mlp_stack` (default ``chunk_size``: 16 on a CPU, 512 on an accelerator);
    ``on_chunk(model_indices, (template, stacked_params))`` is called as each chunk finishes, in its worker
    thread, and then nothing is returned; otherwise the K trained models (CPU, eval mode) in seed order.
    """
    if model not in VMAPPED_MODELS:
        raise ValueError(f"model must be one of {VMAPPED_MODELS} for the vmapped trainer, got {model!r}")
    if cfg.augment is not None:
        raise ValueError("the batched trainer does not implement augmentation; use train_ensemble (loop)")
    x, y = bundle.train.x, bundle.train.y
    subs = _as_subsets(subsets, len(y))
    seeds = check_seeds(seeds)
    if len(seeds) != len(subs):
        raise ValueError(f"got {len(subs)} subsets but {len(seeds)} seeds")
    dev = default_device() if device is None else torch.device(device)
    on_cpu = dev.type == "cpu"
    chunk_size = (16 if on_cpu else 512) if chunk_size is None else check_int("chunk_size", chunk_size, low=1)
    threads = _cpu_workers(n_threads) if on_cpu else 1
    kw = dict(model_kwargs or {})
    x_dev, y_dev = x.to(dev), y.to(dev)

    def run(sel, sub):
        with _INIT_LOCK:  # models.build seeds the global RNG: never from two threads at once
            built = [_models.build(model, bundle, seed=int(seeds[j]), **kw).to(dev) for j in sel]
        params = _vmapped_chunk(built, x_dev, y_dev, sub, [seeds[j] for j in sel], cfg)
        if on_chunk is not None:
            on_chunk(sel, (built[0], params))
            return sel, None
        trained = []
        for i, net in enumerate(built):
            with torch.no_grad():
                for name, p in net.named_parameters():
                    p.copy_(params[name][i])
            trained.append(net.cpu().eval())
        return sel, trained

    finished = _run_chunks(_chunks(subs, chunk_size), run, on_cpu=on_cpu, threads=threads, desc=desc,
                           progress_bar=progress_bar)
    if on_chunk is not None:
        return None
    out: list[nn.Module | None] = [None] * len(seeds)
    for sel, trained in finished:
        for j, net in zip(sel, trained, strict=True):
            out[j] = net
    return out


# ------------------------------------------------------------------------------------- predictions
@dataclass
class SplitOutputs:
    """Per-model predictions on one split: row k = model k, column i = example i.

    ``confidence`` is the softmax probability of the true label p_y, ``logit_confidence`` LiRA's statistic
    φ = z_y − logsumexp_{j≠y} z_j = log(p_y / (1 − p_y)) computed from logits (exact for p_y near 1);
    ``logits`` (K, N, classes) only when requested.
    """

    correct: np.ndarray
    confidence: np.ndarray
    logit_confidence: np.ndarray
    logits: np.ndarray | None = None


def _reduce_logits(z: torch.Tensor, y: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(K, N, C) logits → correctness, p_y and φ, each (K, N)."""
    z = z.double()
    k, n, c = z.shape
    yy = y.view(1, n, 1).expand(k, n, 1)
    z_true = z.gather(2, yy).squeeze(2)
    correct = z.argmax(dim=2) == yy.squeeze(2)
    others = z.scatter(2, yy, float("-inf"))
    lse_rest = torch.logsumexp(others, dim=2)
    phi = z_true - lse_rest
    conf = torch.exp(z_true - torch.logsumexp(z, dim=2))
    return correct.numpy(), conf.float().numpy(), phi.float().numpy()


@dataclass
class EnsembleResult:
    """What :func:`train_ensemble` returns.

    Attributes:
        train, test: per-model predictions on ``bundle.train`` and ``bundle.test``.
        seeds: the K model seeds.
        included: (K, N) boolean mask of the training subsets.
        batched: whether a batched trainer (stacked MLPs or vmapped) was used (else the loop over ``fit``).
        seconds: wall-clock time of training and evaluation.
        grad_evals: per-model example-gradient evaluations (epochs × subset size).
        train_flops: FLOPs of the batched training (see :func:`train_flops`); NaN for the loop.
    """

    train: SplitOutputs
    test: SplitOutputs
    seeds: np.ndarray
    included: np.ndarray
    batched: bool
    seconds: float
    grad_evals: np.ndarray
    train_flops: float


def _loop_worker(bundle, model_name, kw, cfg, jobs, dev, keep_logits, threads):
    torch.set_num_threads(threads)
    out = []
    for k, seed, sub in jobs:
        model = _models.build(model_name, bundle, seed=int(seed), **kw)
        part = bundle.train.subset(sub)
        fit(model, part.x, part.y, cfg, seed=int(seed), device=dev, progress_bar=False)
        zs = [predict_logits(model, split.x, device=dev).unsqueeze(0) for split in (bundle.train, bundle.test)]
        out.append(([k], [(*_reduce_logits(z, split.y), z.numpy() if keep_logits else None)
                          for z, split in zip(zs, (bundle.train, bundle.test), strict=True)]))
    return out


def train_ensemble(bundle: DataBundle, subsets, seeds: Sequence[int], cfg: TrainConfig, *,
                   model: str = "mlp", model_kwargs: dict | None = None, device=None,
                   n_jobs: int | None = None, chunk_size: int | None = None, batched: bool | None = None,
                   keep_logits: bool = False, progress_bar: bool | None = None,
                   desc: str = "ensemble") -> EnsembleResult:
    """Train K models (model k on ``subsets[k]`` with seed ``seeds[k]``) and predict the train and test sets.

    Model k is what ``training.train_model(bundle, model, cfg, seed=seeds[k], train_idx=subsets[k])``
    would train. ``mlp`` models without augmentation are trained batched (see the module docstring); others
    (or ``batched=False``) by a loop over ``fit``, spread over ``n_jobs`` joblib processes of one thread
    each on a CPU (default: PyTorch's thread count; ``-1``: every CPU), in this process on an accelerator.
    For the batched trainer ``n_jobs`` is the number of worker threads.

    Args:
        subsets: K index arrays into ``bundle.train``, or one (K, N) boolean mask.
        keep_logits: also return the (K, N, classes) logits of each split.
    """
    start = time.perf_counter()
    n = len(bundle.train)
    subs = _as_subsets(subsets, n)
    seeds = np.asarray(check_seeds(seeds), dtype=np.int64)
    if len(seeds) != len(subs):
        raise ValueError(f"got {len(subs)} subsets but {len(seeds)} seeds")
    k_models = len(seeds)
    included = np.zeros((k_models, n), dtype=bool)
    for k, s in enumerate(subs):
        included[k, s] = True
    kw = dict(model_kwargs or {})
    dev = default_device() if device is None else torch.device(device)
    use_batched = _is_batchable(model, cfg) if batched is None else bool(batched)
    if use_batched and not _is_batchable(model, cfg):
        raise ValueError(f"batched training needs an 'mlp' or one of {VMAPPED_MODELS} without augmentation "
                         f"(got {model!r}, augment={cfg.augment!r})")
    splits = (bundle.train, bundle.test)
    arrays = [{"correct": np.zeros((k_models, len(s)), dtype=bool),
               "confidence": np.zeros((k_models, len(s)), dtype=np.float32),
               "logit_confidence": np.zeros((k_models, len(s)), dtype=np.float32),
               "logits": np.zeros((k_models, len(s), bundle.num_classes), dtype=np.float32) if keep_logits else None}
              for s in splits]

    def store(k_idx, per_split):
        for arr, (corr, conf, phi, z) in zip(arrays, per_split, strict=True):
            arr["correct"][k_idx] = corr
            arr["confidence"][k_idx] = conf
            arr["logit_confidence"][k_idx] = phi
            if keep_logits:
                arr["logits"][k_idx] = z

    flops = float("nan")
    if use_batched:
        def on_chunk(sel, trained):
            per_split = []
            for split in splits:
                z = trained.logits(split.x) if model == "mlp" else _vmapped_logits(*trained, split.x)
                per_split.append((*_reduce_logits(z, split.y), z.numpy() if keep_logits else None))
            store(sel, per_split)

        trainer = train_mlp_stack if model == "mlp" else partial(train_vmapped_stack, model=model)
        trainer(bundle, subs, seeds, cfg, model_kwargs=kw, device=dev, chunk_size=chunk_size, n_threads=n_jobs,
                progress_bar=progress_bar, desc=desc, on_chunk=on_chunk)
        flops = train_flops(bundle, model, cfg.epochs * int(included.sum()), kw)
    else:
        workers = 1 if dev.type != "cpu" else min(_cpu_workers(n_jobs), k_models)
        jobs = [(k, seeds[k], subs[k]) for k in range(k_models)]
        if workers <= 1:
            batches = [[job] for job in jobs]
            runner = (_loop_worker(bundle, model, kw, cfg, b, dev, keep_logits, torch.get_num_threads())
                      for b in batches)
        else:
            from joblib import Parallel, delayed

            per = max(1, min(8, k_models // (4 * workers)))
            batches = [jobs[i:i + per] for i in range(0, k_models, per)]
            runner = Parallel(n_jobs=workers, return_as="generator_unordered")(
                delayed(_loop_worker)(bundle, model, kw, cfg, b, "cpu", keep_logits, 1) for b in batches)
        for part in progress(runner, desc=desc, total=len(batches), enabled=progress_bar):
            for k_idx, per_split in part:
                store(k_idx, per_split)
    outs = [SplitOutputs(a["correct"], a["confidence"], a["logit_confidence"], a["logits"]) for a in arrays]
    return EnsembleResult(train=outs[0], test=outs[1], seeds=seeds, included=included, batched=use_batched,
                          seconds=time.perf_counter() - start,
                          grad_evals=cfg.epochs * included.sum(axis=1).astype(np.int64), train_flops=flops)
