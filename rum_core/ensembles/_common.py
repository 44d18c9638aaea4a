"""What the batched trainers share: the SGD step over stacked parameters, the schedule, and running chunks of
models on a CPU's threads (see :mod:`rum_core.ensembles`)."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np
import torch
from torch.optim.sgd import sgd

from .._progress import progress
from ..training import TrainConfig
from ..validation import check_indices

#: models.build seeds the global RNG: never from two threads at once
INIT_LOCK = threading.Lock()


def lr_factor(step: int, total: int, schedule: str) -> float:
    # Mirrors training.make_optimizer's LambdaLR factor (the lr of optimizer step ``step``).
    if schedule == "cosine":
        total = max(1, total)
        return 0.5 * (1 + math.cos(math.pi * min(step, total) / total))
    return 1.0


def stacked_sgd(params: list[torch.Tensor], grads: list[torch.Tensor], cfg: TrainConfig, *,
                fused: bool | None = None) -> Callable[[float], None]:
    """``step(lr)``: one SGD step with the recipe's momentum and weight decay over the stacked ``params``,
    from ``grads``, the preallocated tensors the hand-written backward pass fills in place every step.

    It calls PyTorch's functional SGD (``torch.optim.sgd.sgd``, public: the function ``torch.optim.SGD.step``
    itself calls, with the momentum buffers this closure keeps), so the update is exactly that of an
    ``nn.Linear`` model's optimizer in ``fit``: fused into one pass over every stacked tensor where PyTorch has
    the kernel (CPU and CUDA in the torch versions this package supports), else its foreach path
    (``fused=False`` forces it).

    Why the function and not a ``torch.optim.SGD`` object: with tens of thousands of tiny steps, the
    object's per-step Python work (state lookups, hooks, profiling scopes) holds the GIL long enough to cost
    the batched MLP trainer a fifth of its speed. Measured with ``bench/memorization.py`` (x86_64, 2 cores,
    1,000 digits MLPs, runs alternated in one session, identical estimates): 13.5 s with the private
    ``torch._fused_sgd_`` and private softmax / ReLU' kernels the package used before (44 % of the measured
    GEMM throughput), 18.5 s with public ops and a ``torch.optim.SGD`` object (33 %), 14.9–15.1 s with public
    ops and this function (40 %): 1.1× the private path, below the 1.5× that would justify private API.
    """
    if fused is None:
        fused = all(p.device.type in ("cpu", "cuda") for p in params)
    buffers: list[torch.Tensor | None] = [None] * len(params)  # filled by the first step, then updated in place
    momentum, weight_decay = float(cfg.momentum), float(cfg.weight_decay)

    def step(lr: float) -> None:
        sgd(params, grads, buffers, fused=fused or None, foreach=None if fused else True, weight_decay=weight_decay,
            momentum=momentum, lr=float(lr), dampening=0.0, nesterov=False, maximize=False)

    return step


@contextlib.contextmanager
def torch_threads(n: int):
    old = torch.get_num_threads()
    if n != old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)


def cpu_workers(n_jobs: int | None) -> int:
    """``None`` or ``-1``: every usable CPU; else ``n_jobs``.

    Not PyTorch's thread count: each worker runs one BLAS thread anyway, and notebooks of tiny models often
    set ``torch.set_num_threads(1)`` (the RUM chapter does), which would otherwise serialize a job of many
    independent models on one core."""
    avail = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n_jobs is None or n_jobs == -1:
        return avail
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive int, -1 or None, got {n_jobs!r}")
    return int(n_jobs)


def as_subsets(subsets, n: int) -> list[np.ndarray]:
    if isinstance(subsets, torch.Tensor):
        subsets = subsets.detach().cpu().numpy()
    if isinstance(subsets, np.ndarray) and subsets.dtype == bool:
        if subsets.ndim != 2 or subsets.shape[1] != n:
            raise ValueError(f"a boolean subsets mask must have shape (K, {n}), got {subsets.shape}")
        return [np.flatnonzero(row) for row in subsets]
    return [np.sort(check_indices(f"subsets[{k}]", sub, n, allow_empty=False)) for k, sub in enumerate(subsets)]


def chunks(subs: list[np.ndarray], chunk_size: int) -> list[tuple[np.ndarray, torch.Tensor]]:
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


def run_chunks(work, run, *, on_cpu: bool, threads: int, desc: str, progress_bar: bool | None) -> list:
    """``run(sel, sub)`` for every chunk ``(sel, sub)`` of ``work`` (:func:`chunks`) with a progress bar; the
    ``(sel, result)`` pairs whose result is not None, in the order they finished. On a CPU, chunks run in ``threads`` parallel threads of one BLAS
    thread each (PyTorch releases the GIL inside its kernels, and these small products gain nothing from
    intra-op threads); on an accelerator, one after the other."""
    finished = []
    with contextlib.ExitStack() as ctx:
        if not on_cpu:
            results = (run(sel, sub) for sel, sub in work)
        else:
            ctx.enter_context(torch_threads(1))
            if threads <= 1 or len(work) <= 1:
                results = (run(sel, sub) for sel, sub in work)
            else:
                pool = ctx.enter_context(ThreadPoolExecutor(max_workers=threads))
                results = (fut.result() for fut in as_completed([pool.submit(run, *c) for c in work]))
        for sel, result in progress(results, desc=desc, total=len(work), enabled=progress_bar):
            if result is not None:
                finished.append((sel, result))
    return finished
