"""Fuzz the public boundary: every bad input must raise a clear ValueError/TypeError, never return a number.

Each target below calls one public function of rum_core with one argument replaced by a bad value (an index
set, a hyperparameter, seeds, scores, an embedding, a mapping of accuracies). An outcome is

* ``clear``: a ValueError or TypeError (the package's documented errors for bad input);
* ``silent``: the call returned (a coerced or wrong result: the worst outcome);
* ``crash``: any other exception (a traceback from deep inside torch or numpy).

    .venv/bin/python bench/fuzz.py          # prints tried / clear / silent / crash and every non-clear case

``tests/test_fuzz.py`` runs the same targets on hypothesis-generated bad values and requires every one of
them to be clear. The targets are built on tiny data so the whole run takes seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
import torch

from rum_core import data, metrics, models, partition, rum, unlearners
from rum_core.training import TrainConfig, train_model

#: Bad values by the kind of argument they replace. Every one of them is invalid for every target of its kind.
BAD = {
    "indices": [[-1, -2, -3], [0, 0, 1], [1.5, 2.0], [True, False, True], "012", [[0, 1], [2, 3]],
                [10**9], [], np.array([0.0, 1.0]), {0, 1}, math.nan],
    "int": [2.7, "3", -1, True, None, math.nan, math.inf, 1e20, [3]],
    "positive": [0, -0.1, math.nan, math.inf, -math.inf, "0.1", True, None, [0.1]],
    "fraction": [-0.1, 1.5, math.nan, math.inf, "0.5", None],
    "seeds": [[0, 0], [0.5], [], "0", [-1], None, [0, 1.0]],
    "scores": [np.full(60, np.nan), np.ones(5), np.ones((60, 2)), "high", None, np.full(60, np.inf)],
    "embedding": [np.full((60, 4), np.nan), np.ones((60,)), np.ones((60, 0)), "emb", None,
                  np.ones((60, 4)) * np.inf],
    "accuracies": [{"forget": 1.5, "retain": 1.0, "test": 1.0}, {"forget": math.nan, "retain": 1.0, "test": 1.0},
                   {"forget": 1.0}, {"forget": "1", "retain": 1.0, "test": 1.0}, None, [1.0, 1.0, 1.0]],
}


@cache
def _world():
    """A tiny bundle, a model fitted to it and a 60-example embedding, built once."""
    bundle = data.load("synthetic", seed=0)
    model, _ = train_model(bundle, "mlp", TrainConfig(epochs=1, lr=0.05, batch_size=64), seed=0,
                           model_kwargs={"hidden": (8,)}, use_cache=False)
    emb = np.random.default_rng(0).normal(size=(60, 4))
    return bundle, model, emb


def _targets() -> dict[str, tuple[str, Callable]]:
    """``name -> (kind of bad value, call(bad))``."""
    bundle, model, emb = _world()
    good_acc = {"forget": 0.5, "retain": 1.0, "test": 0.9}
    scores = np.linspace(0, 1, len(bundle.train))
    t: dict[str, tuple[str, Callable]] = {
        "split_accuracies(forget_idx)": ("indices", lambda b: metrics.split_accuracies(model, bundle, b)),
        "entanglement_of(forget_idx)": ("indices", lambda b: metrics.entanglement_of(model, bundle, b)),
        "model_logits(idx)": ("indices", lambda b: metrics.model_logits(model, bundle, b)),
        "set_entanglement(idx)": ("indices", lambda b: partition.set_entanglement(emb, b)),
        "train_model(train_idx)": ("indices", lambda b: train_model(bundle, "mlp", TrainConfig(epochs=1, lr=0.1),
                                                                     train_idx=b, use_cache=False)),
        "finetune(forget_idx)": ("indices", lambda b: unlearners.make("finetune", epochs=1)(model, bundle, b)),
        "rum.refine(forget_idx)": ("indices", lambda b: rum.refine(b, scores)),
        "rum.refine(scores)": ("scores", lambda b: rum.refine(np.arange(60), b)),
        "memorization_groups(scores)": ("scores", lambda b: partition.memorization_groups(b, 5)),
        "entanglement_score(retain_emb)": ("embedding", lambda b: metrics.entanglement_score(b, emb[:10])),
        "es_groups(embeddings)": ("embedding", lambda b: partition.es_groups(b, n_groups=6)),
        "tow(unlearned)": ("accuracies", lambda b: metrics.tow(b, good_acc)),
        "random_forget_set(size)": ("int", lambda b: partition.random_forget_set(100, size=b)),
        "TrainConfig(epochs)": ("int", lambda b: TrainConfig(epochs=b, lr=0.1)),
        "TrainConfig(batch_size)": ("int", lambda b: TrainConfig(epochs=1, lr=0.1, batch_size=b)),
        "TrainConfig(lr)": ("positive", lambda b: TrainConfig(epochs=1, lr=b)),
        "data.load(val_size)": ("int", lambda b: data.load("synthetic", val_size=b)),
        "mia_efficacy(seed)": ("int", lambda b: metrics.mia_efficacy(np.ones(20) * .9, np.ones(20) * .5,
                                                                     np.ones(5) * .7, seed=b)),
        "rum.random_split(k)": ("int", lambda b: rum.random_split(np.arange(30), b)),
        "models.build(seed)": ("int", lambda b: models.build("mlp", bundle, seed=b)),
        "experiments.check_seeds": ("seeds", lambda b: _rum_runs_seeds(b)),
        "auc(scores)": ("scores", lambda b: metrics.auc(b, np.arange(60) % 2 == 0)),
        "roc_curve(scores)": ("scores", lambda b: metrics.roc_curve(b, np.arange(60) % 2 == 0)),
        "true_label_confidence(probs)": ("embedding", lambda b: metrics.true_label_confidence(b, np.zeros(60, int))),
        "lira_scores(target_stat)": ("scores", lambda b: metrics.lira_scores(b, np.ones((4, 60)), np.zeros((4, 60)))),
        "group_ranges(scores)": ("scores", lambda b: partition.group_ranges(b, {"low": np.arange(60)})),
        "mix(seed)": ("int", lambda b: partition.mix({"low": np.arange(5), "high": np.arange(5, 10)}, 2, seed=b)),
    }
    for method in unlearners.available():
        hp = unlearners.make(method).hparams
        for key, kind in (("epochs", "int"), ("batch_size", "int"), ("lr", "positive"), ("n_samples", "int"),
                          ("msteps", "int"), ("temperature", "positive"), ("damping", "positive"),
                          ("mask_ratio", "fraction")):
            if key in hp:
                t[f"make({method!r}, {key})"] = (kind, lambda b, m=method, k=key: unlearners.make(m, **{k: b}))
        if method == "neggrad_plus":
            t["make('neggrad_plus', alpha)"] = ("fraction", lambda b: unlearners.make("neggrad_plus", alpha=b))
    return t


def _rum_runs_seeds(seeds):
    from rum_core import experiments, profiles

    def refuse_work(*args, **kwargs):
        raise RuntimeError("rum_runs started work with bad seeds")

    real, experiments.load_data = experiments.load_data, refuse_work
    try:
        return experiments.rum_runs(profiles.get_profile("smoke"), seeds=seeds)
    finally:
        experiments.load_data = real


def outcome(call: Callable, bad) -> tuple[str, str]:
    """``("clear" | "silent" | "crash", detail)`` of ``call(bad)``."""
    try:
        result = call(bad)
    except (ValueError, TypeError) as err:
        return ("clear", f"{type(err).__name__}: {err}") if str(err).strip() else ("crash", "empty message")
    except Exception as err:  # noqa: BLE001 - classifying every other exception is this script's purpose
        return "crash", f"{type(err).__name__}: {err}"
    return "silent", f"returned {type(result).__name__}: {str(result)[:80]}"


def run() -> dict[str, list[tuple[str, str, str]]]:
    """Every target × every bad value of its kind: ``{outcome: [(target, repr(bad), detail), …]}``."""
    torch.set_num_threads(1)
    found: dict[str, list[tuple[str, str, str]]] = {"clear": [], "silent": [], "crash": []}
    for name, (kind, call) in _targets().items():
        for bad in BAD[kind]:
            result, detail = outcome(call, bad)
            found[result].append((name, repr(bad)[:60], detail))
    return found


def main() -> None:
    import os
    import platform

    found = run()
    tried = sum(len(v) for v in found.values())
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores; targets: {len(_targets())}")
    print(f"tried {tried} / clear error {len(found['clear'])} / silent {len(found['silent'])} / "
          f"crash {len(found['crash'])}")
    for kind in ("silent", "crash"):
        for name, bad, detail in found[kind]:
            print(f"  {kind}: {name} with {bad}: {detail}")


if __name__ == "__main__":
    main()
