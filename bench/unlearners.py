"""Benchmark: cost of every unlearning method relative to retraining, at the default profile.

For each method (with the profile's hyperparameters) on the profile's random forget sets, prints the mean
over seeds of the wall time and the per-example gradient evaluations, both absolute and relative to the
retrain reference of the same seed, next to the accuracies and ToW (so a cheap method that does nothing
is visible as such). Every method is run once on a tiny problem first, so that one-off start-up costs
(lazy imports, the first torch.func trace of ``influence``, about a second) are not charged to it.

    .venv/bin/python bench/unlearners.py [--profile small] [--seeds 3] [--threads 1] [--use-cache]

Wall times depend on the machine and its load; gradient evaluations do not. Retrain's time is that of its
training run, also when its weights come from the cache; so that it is measured in this run, under the same
conditions as the methods, the bench uses a fresh empty cache unless ``--use-cache`` is given. One torch
thread by default: for these tiny models it is faster, and far less sensitive to other load on the cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time

import pandas as pd
import torch

from rum_core import data, experiments, models, profiles, unlearners


def _warm_up(methods) -> None:
    """Run every method once on a tiny problem, so one-off costs (lazy imports, torch.func's first trace)
    are not charged to the first seed."""
    bundle = data.load("synthetic")
    model = models.build("mlp", bundle, hidden=(8,))
    for method in methods:
        hp = {k: v for k, v in {"epochs": 1, "n_samples": 8}.items() if k in unlearners.make(method).hparams}
        unlearners.make(method, **hp)(model, bundle, [0, 1, 2, 3], seed=0, progress_bar=False)


def main(argv=None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="profile name (default: $RUM_PROFILE, else small)")
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (default 3)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1; 0: torch's)")
    parser.add_argument("--use-cache", action="store_true", help="reuse cached original/retrained models")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    os.environ.setdefault("RUM_PROGRESS", "0")
    if not args.use_cache:
        os.environ["RUM_CACHE"] = tempfile.mkdtemp(prefix="rum_core-bench-")

    profile = profiles.get_profile(args.profile)
    methods = [m for m in unlearners.available() if m != "retrain"]
    _warm_up(methods)
    start = time.perf_counter()
    runs = experiments.unlearning_runs(profile, methods, seeds=range(args.seeds), use_cache=False)
    total = time.perf_counter() - start

    ref = runs[runs.method == "retrain"].set_index("seed")[["seconds", "grad_evals"]]
    runs = runs.assign(rel_seconds=runs.seconds / runs.seed.map(ref.seconds),
                       rel_grad_evals=runs.grad_evals / runs.seed.map(ref.grad_evals))
    table = (runs.groupby("method")[["forget", "retain", "test", "tow", "seconds", "grad_evals",
                                      "rel_seconds", "rel_grad_evals"]].mean()
             .sort_values("rel_grad_evals"))
    table["grad_evals"] = table["grad_evals"].round().astype(int)

    print(f"{profile.describe()}; forget fraction {profile.forget_fraction}; seeds {list(range(args.seeds))}")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {platform.processor() or platform.machine()}")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"(means over seeds; rel_* = ratio to that seed's retrain; bench wall time {total:.1f} s)")
    return table


if __name__ == "__main__":
    main()
