"""Benchmark: K memorization models trained batched vs. one at a time, and the proxies against the estimate.

    .venv/bin/python bench/memorization.py [--models 1000] [--loop-sample 10] [--repeats 1] [--no-proxies]
        [--dataset mnist1d --model cnn1d --model-kwargs '{"width": 32}' --epochs 30 --lr 0.1 --batch-size 128]

Prints, for the profile's dataset and model (default profile: digits + its MLP, r = 0.7, the profile's
epochs): the batched wall time (design + init + training + evaluation of every model on the train and test
sets), a one-at-a-time loop over ``training.fit`` timed on a sample of models and extrapolated (with PyTorch's
default thread count and with one thread; the faster one is the baseline), models per second, the matmul
FLOPs the batched training must do (forward + backward over the examples each model processes), the achieved
GFLOP/s, and the fp32 matmul throughput of this machine measured in the same run (torch.mm of 2048×2048,
before and after; the higher one is the reference). With ``--repeats R`` the batched run and the loop
sample alternate R times, each repeat gets its own ratio and share, and their medians are printed: on a
shared machine one pair of runs can be minutes apart in load (seen here: the loop's seconds per model
varied by 30% between two runs of this script). Then the Spearman correlation of each proxy (oriented so
that high = memorized) with the K-model estimate and its cost relative to it. The load average is printed
because the machine may be shared: timings are only comparable within one run.

``--dataset``, ``--model``, ``--model-kwargs`` (JSON), ``--epochs``, ``--lr`` and ``--batch-size`` replace the
profile's, e.g. to measure MNIST-1D's ``cnn1d`` ensembles (trained stacked, :mod:`rum_core.ensembles.cnn1d`)
before a profile uses them.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time
import warnings

import numpy as np
import torch
from scipy.stats import spearmanr

from rum_core import ensembles, experiments, models, profiles, training
from rum_core import memorization as mem


def matmul_gflops(size: int = 2048, reps: int = 10) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(reps):
            a @ b
        best = min(best, (time.perf_counter() - start) / reps)
    return 2 * size**3 / best / 1e9


def loop_seconds_per_model(bundle, profile, included, seeds, sample: int, threads: int) -> float:
    old = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        times = []
        for k in range(sample):
            model = models.build(profile.model, bundle, seed=int(seeds[k]), **profile.model_kwargs)
            part = bundle.train.subset(np.flatnonzero(included[k]))
            start = time.perf_counter()
            training.fit(model, part.x, part.y, profile.train, seed=int(seeds[k]), device="cpu", progress_bar=False)
            training.predict_logits(model, bundle.train.x)
            training.predict_logits(model, bundle.test.x)
            times.append(time.perf_counter() - start)
        return float(np.mean(times))
    finally:
        torch.set_num_threads(old)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--ratio", type=float, default=0.7)
    parser.add_argument("--loop-sample", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1,
                        help="batched run and loop sample alternated this many times; per-repeat and median ratios")
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--no-proxies", action="store_true")
    parser.add_argument("--dataset", default=None, help="replace the profile's dataset (e.g. mnist1d)")
    parser.add_argument("--model", default=None, help="replace the profile's model (e.g. cnn1d)")
    parser.add_argument("--model-kwargs", type=json.loads, default=None, help='JSON, e.g. \'{"width": 32}\'')
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")

    overrides = {k: v for k, v in (("dataset", args.dataset), ("model", args.model),
                                   ("model_kwargs", args.model_kwargs)) if v is not None}
    recipe = {k: v for k, v in (("epochs", args.epochs), ("lr", args.lr), ("batch_size", args.batch_size))
              if v is not None}
    base = profiles.get_profile()
    if recipe:
        overrides["train"] = dataclasses.replace(base.train, **recipe)
    if "model" in overrides and "model_kwargs" not in overrides:
        overrides["model_kwargs"] = {}
    profile = profiles.get_profile(base.name, **overrides)
    bundle = experiments.load_data(profile)
    k = args.models
    print(profiles.banner(profile))
    print(f"{bundle!r}; K = {k} models, subset ratio {args.ratio}, balanced design; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    print(f"start: {load()}")

    rows = []
    for rep in range(args.repeats):  # alternated, so a shared machine's slow spells hit both sides
        peak_before = matmul_gflops()
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runs = mem.estimate(bundle, n_models=k, train=profile.train, subset_ratio=args.ratio,
                                model=profile.model, model_kwargs=profile.model_kwargs, seed=0, device="cpu",
                                use_cache=False, progress_bar=None if os.environ.get("RUM_PROGRESS") else False)
        batched = time.perf_counter() - start
        peak_after = matmul_gflops()
        for w in caught:
            print(f"warning: {w.message}")
        print(f"repeat {rep + 1}, after batched run: {load()}")
        loop = {}
        for threads in sorted({torch.get_num_threads(), 1}):
            loop[threads] = loop_seconds_per_model(bundle, profile, runs.included, runs.seeds, args.loop_sample,
                                                   threads)
        print(f"repeat {rep + 1}, after loop sample: {load()}")
        rows.append((peak_before, peak_after, batched, loop))
    flops = ensembles.train_flops(bundle, profile.model, profile.train.epochs * int(runs.included.sum()),
                                  profile.model_kwargs)

    print()
    ratios, shares = [], []
    for rep, (peak_before, peak_after, batched, loop) in enumerate(rows, start=1):
        peak = max(peak_before, peak_after)
        best_threads = min(loop, key=loop.get)
        ratios.append(loop[best_threads] * k / batched)
        shares.append(flops / batched / 1e9 / peak)
        if len(rows) > 1:
            print(f"repeat {rep}:")
        print(f"matmul throughput (torch.mm 2048², fp32): {peak_before:.1f} GFLOP/s before, {peak_after:.1f} after")
        print(f"batched: {batched:.1f} s for {k} models = {k / batched:.1f} models/s (mean train acc on own examples "
              f"{runs.train_accuracy_in:.4f}, test acc {runs.test_accuracy.mean():.4f})")
        for threads, sec in loop.items():
            print(f"loop ({threads} thread{'s' if threads > 1 else ''}): {sec:.3f} s/model over {args.loop_sample} "
                  f"models → {sec * k:.0f} s for {k} models ({1 / sec:.2f} models/s)")
        print(f"speed-up vs the faster loop: {ratios[-1]:.1f}×")
        print(f"batched training FLOPs ({profile.model} {profile.model_kwargs}): {flops / 1e12:.3f} TFLOP; achieved "
              f"{flops / batched / 1e9:.1f} GFLOP/s = {shares[-1]:.0%} of the measured matmul throughput "
              f"({peak:.1f} GFLOP/s)")
    if len(rows) > 1:
        print(f"over {len(rows)} repeats: speed-up {', '.join(f'{r:.1f}×' for r in ratios)} (median "
              f"{np.median(ratios):.1f}×); share of the matmul throughput {', '.join(f'{x:.0%}' for x in shares)} "
              f"(median {np.median(shares):.0%})")
    batched = float(np.median([row[2] for row in rows]))

    est = runs.scores
    print(f"estimate: mean {np.nanmean(est):.4f}, {np.mean(est == 0):.1%} exactly 0, {np.mean(est > 0.5):.1%} above "
          f"0.5; split-half Spearman ({k // 2} vs {k - k // 2} models) {runs.split_half_spearman():.3f}")

    if args.no_proxies:
        return
    old = torch.get_num_threads()
    torch.set_num_threads(best_threads)
    try:
        frame = mem.proxies(bundle, train=profile.train, model=profile.model, model_kwargs=profile.model_kwargs,
                            seed=0, device="cpu", use_cache=False, progress_bar=False)
    finally:
        torch.set_num_threads(old)
    oriented = mem.orient_proxies(frame)
    one_run = frame.attrs["seconds"]
    top = max(10, int(np.sum(est > 0.25)))  # the clearly memorized examples
    top_est = set(np.argsort(-est, kind="stable")[:top].tolist())
    print(f"\nproxies ({best_threads} thread(s); oriented so that high = memorized; {np.mean(est == 0):.0%} of the "
          f"estimates are exactly 0, which caps Spearman; top-n overlap: share of the n examples with estimate "
          f"> 0.25 that a proxy also ranks in its top n; cost relative to the {k}-model estimate's {batched:.1f} s):")
    for name in mem.PROXIES:
        cost = one_run + (frame.attrs["holdout_seconds"] if name == "holdout_kl" else 0.0)
        rho = spearmanr(oriented[name], est, nan_policy="omit").statistic
        hits = len(top_est & set(np.argsort(-oriented[name].to_numpy(), kind="stable")[:top].tolist()))
        print(f"  {name:16s} Spearman {rho:+.3f}  top-{top} overlap {hits / top:4.0%}  cost {cost:6.2f} s = {cost / batched:.3f}× "
              f"({'one training run + per-epoch evaluation' if name != 'holdout_kl' else 'plus 2 half-trainings and fine-tunings'})")
    print(f"end: {load()}")


if __name__ == "__main__":
    main()
