"""Choose a profile's unlearning hyperparameters under the equal-budget rule, and print them.

Every method tries the same number of configurations (four learning rates; Influence: four step sizes) on
tuning seeds disjoint from the seeds the book reports, unlearning each seed's random forget set; the best
mean ToW against retraining wins (:func:`rum_core.experiments.tune_unlearners`). The printed ``unlearn``
mapping is what goes into the profile in ``rum_core/profiles.py``; the trials table shows every candidate,
including those that diverged.

    .venv/bin/python bench/tune_unlearners.py [--profile mnist1d] [--seeds 100 101] [--metric tow]
"""

from __future__ import annotations

import argparse
import platform
import pprint
import time

import pandas as pd

from rum_core import experiments, profiles

#: The candidates: four per method (equal budget), around the learning rate that trains the model.
LEARNING_RATES = [0.003, 0.01, 0.03, 0.1]
INFLUENCE_STEPS = [0.05, 0.15, 0.5, 1.5]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="mnist1d", choices=sorted(profiles.PROFILES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[100, 101])
    parser.add_argument("--metric", default="tow", choices=experiments.TUNING_METRICS)
    args = parser.parse_args()

    profile = profiles.get_profile(args.profile)
    methods = [m for m in profile.unlearn if m != "influence"]
    grid = {m: {"lr": LEARNING_RATES} for m in methods}
    if "influence" in profile.unlearn:
        grid["influence"] = {"alpha": INFLUENCE_STEPS}
    print(f"machine: {platform.machine()}, {profiles.banner(profile)}; tuning seeds {args.seeds}")
    start = time.perf_counter()
    chosen, trials = experiments.tune_unlearners(profile, grid, tune_seeds=args.seeds, metric=args.metric,
                                                 progress_bar=True)
    with pd.option_context("display.max_rows", None, "display.width", 160):
        print(trials.round(4).to_string(index=False))
    print(f"tuned in {time.perf_counter() - start:.0f} s; the profile's unlearn mapping:")
    pprint.pprint({m: {k: v for k, v in hp.items() if k in profile.unlearn.get(m, {})} for m, hp in chosen.items()},
                  sort_dicts=False)


if __name__ == "__main__":
    main()
