"""Training an ensemble: K models batched (:func:`train_stack`) or one at a time, and their predictions."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import models as _models
from .._progress import progress
from ..data import DataBundle
from ..training import TrainConfig, default_device, fit, predict_logits
from ..validation import check_int, check_seeds
from ._common import INIT_LOCK, as_subsets, chunks, cpu_workers, run_chunks
from .cnn1d import CNN1dStack
from .mlp import MLPStack

#: The architectures trained batched, and the stack class that holds and trains K of them.
STACKS = {"mlp": MLPStack, "cnn1d": CNN1dStack}


def _is_batchable(model_name: str, cfg: TrainConfig) -> bool:
    """True when :func:`train_ensemble` trains these models batched: one of :data:`STACKS`, no augmentation."""
    return model_name in STACKS and cfg.augment is None


def train_flops(bundle: DataBundle, model: str, examples: int, model_kwargs: dict | None = None) -> float:
    """FLOPs of training ``model`` on ``examples`` example-passes: the forward pass and the backward pass SGD
    needs (no gradient for the input), counted by PyTorch's ``FlopCounterMode`` on one example, so matrix
    products and convolutions count their multiply-adds twice (elementwise work is not counted). For an
    ``mlp`` with layer widths n_0 … n_L that is 2·(2·Σ n_l·n_{l+1} + Σ_{l≥1} n_l·n_{l+1}) per example."""
    from torch.utils.flop_counter import FlopCounterMode

    examples = check_int("examples", examples, low=0)
    net = _models.build(model, bundle, seed=0, **dict(model_kwargs or {}))
    with FlopCounterMode(display=False) as counter:
        nn.functional.cross_entropy(net(bundle.train.x[:1]), bundle.train.y[:1]).backward()
    return float(examples) * float(counter.get_total_flops())


def train_stack(bundle: DataBundle, subsets, seeds: Sequence[int], cfg: TrainConfig, *, model: str = "mlp",
                model_kwargs: dict | None = None, device=None, chunk_size: int | None = None,
                n_threads: int | None = None, progress_bar: bool | None = None, desc: str = "ensemble",
                on_chunk=None):
    """Train K models of ``model`` (one of :data:`STACKS`) batched; model k ≡
    ``fit(build(model, bundle, seed=seeds[k]), subset k, seed=seeds[k])`` up to float rounding.

    Args:
        subsets: K sorted index arrays into ``bundle.train`` (or one (K, N) boolean mask).
        seeds: K seeds (initialization and shuffling, as ``train_model`` uses one seed for both).
        chunk_size: models per chunk (default: the stack's ``CPU_CHUNK`` on a CPU — small enough that a
            chunk's parameters, momentum buffers and activations stay in cache: 24 MLPs, 8 CNNs — and 512 on
            an accelerator).
        n_threads: chunks trained in parallel on a CPU (each with one BLAS thread); default: every usable
            CPU, whatever ``torch.get_num_threads()`` says.
        on_chunk: if given, ``on_chunk(model_indices, trained_chunk_stack)`` is called as each chunk finishes,
            in the worker thread that trained it (so it must only write to its own models' rows), and
            nothing is returned (saves memory for large K); otherwise the trained stack of all K models
            (an :class:`MLPStack` or :class:`CNN1dStack`), on the CPU, in the order of ``seeds``.

    Raises:
        ValueError: an architecture not in :data:`STACKS`, augmentation (not implemented batched), or
            subsets and seeds of different lengths.
    """
    if model not in STACKS:
        raise ValueError(f"model must be one of {sorted(STACKS)} to train batched, got {model!r}")
    if cfg.augment is not None:
        raise ValueError("the batched trainer does not implement augmentation; use train_ensemble (loop)")
    stack_cls = STACKS[model]
    x, y = bundle.train.x, bundle.train.y
    subs = as_subsets(subsets, len(y))
    seeds = check_seeds(seeds)
    if len(seeds) != len(subs):
        raise ValueError(f"got {len(subs)} subsets but {len(seeds)} seeds")
    dev = default_device() if device is None else torch.device(device)
    on_cpu = dev.type == "cpu"
    if chunk_size is None:
        chunk_size = stack_cls.CPU_CHUNK if on_cpu else 512
    chunk_size = check_int("chunk_size", chunk_size, low=1)
    threads = cpu_workers(n_threads) if on_cpu else 1
    kw = dict(model_kwargs or {})
    x_dev, y_dev = x.to(dev), y.to(dev)

    def run(sel, sub):
        with INIT_LOCK:  # models.build seeds the global RNG: never from two threads at once
            stack = stack_cls.init(bundle, [seeds[j] for j in sel], kw).to(dev)
        stack.train(x_dev, y_dev, sub, [seeds[j] for j in sel], cfg)
        if on_chunk is not None:  # in the worker: evaluation runs in parallel like training
            on_chunk(sel, stack)
            return sel, None
        return sel, stack.to("cpu")

    finished = run_chunks(chunks(subs, chunk_size), run, on_cpu=on_cpu, threads=threads, desc=desc,
                          progress_bar=progress_bar)
    if on_chunk is not None:
        return None
    order = np.empty(len(seeds), dtype=np.int64)
    pos = 0
    for sel, _ in finished:
        order[sel] = np.arange(pos, pos + len(sel))
        pos += len(sel)
    return stack_cls.cat([st for _, st in finished]).select(order)


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
    would train. Models of :data:`STACKS` (``mlp``, ``cnn1d``) without augmentation are trained batched (see
    the module docstring); others (or ``batched=False``) by a loop over ``fit``, spread over ``n_jobs``
    joblib processes of one thread each on a CPU (default and ``-1``: every usable CPU), in this process on
    an accelerator. For the batched trainer ``n_jobs`` is the number of worker threads.

    Args:
        subsets: K index arrays into ``bundle.train``, or one (K, N) boolean mask.
        keep_logits: also return the (K, N, classes) logits of each split.
    """
    start = time.perf_counter()
    n = len(bundle.train)
    subs = as_subsets(subsets, n)
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
        raise ValueError(f"batched training needs one of {sorted(STACKS)} without augmentation "
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
        def on_chunk(sel, stack):
            per_split = []
            for split in splits:
                z = stack.logits(split.x)
                per_split.append((*_reduce_logits(z, split.y), z.numpy() if keep_logits else None))
            store(sel, per_split)

        train_stack(bundle, subs, seeds, cfg, model=model, model_kwargs=kw, device=dev, chunk_size=chunk_size,
                    n_threads=n_jobs, progress_bar=progress_bar, desc=desc, on_chunk=on_chunk)
        flops = train_flops(bundle, model, cfg.epochs * int(included.sum()), kw)
    else:
        workers = 1 if dev.type != "cpu" else min(cpu_workers(n_jobs), k_models)
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
