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

import functools
import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from rum_core import (
    cache,
    data,
    ensembles,
    experiments,
    memorization,
    metrics,
    models,
    notebook,
    partition,
    plots,
    profiles,
    rum,
    stats,
    training,
    unlearners,
)
from rum_core.findings import algorithms as findings_algorithms
from rum_core.findings import entanglement as findings_entanglement
from rum_core.findings import measuring as findings_measuring
from rum_core.findings import memorization as findings_memorization
from rum_core.findings import rum_table as findings_rum_table
from rum_core.training import TrainConfig, train_model
from rum_core.unlearners import influence, l1_sparse, neggrad_plus, random_label, salun, scrub
from rum_core.validation import (
    check_array,
    check_choice,
    check_columns,
    check_frame,
    check_indices,
    check_int,
    check_labels,
    check_number,
    check_numeric,
    check_seeds,
)

N = 60  # rows of the small arrays the array targets get
_LAB = np.arange(N) % 3
_PROBS = np.full((N, 3), 1 / 3)
_MEMBER = np.arange(N) % 2 == 0
_FRAME = pd.DataFrame({"method": ["a", "a", "b", "b"], "label": ["a", "a", "b", "b"], "level": ["low"] * 4,
                       "tow": [0.5, 0.6, 0.7, 0.8], "mia_gap": [0.1, 0.2, 0.1, 0.3],
                       "rel_grad_evals": [0.1, 0.1, 0.2, 0.2]})

#: Bad values by the kind of argument they replace. Every one of them is invalid for every target of its kind.
BAD = {
    "indices": [[-1, -2, -3], [0, 0, 1], [1.5, 2.0], [True, False, True], "012", [[0, 1], [2, 3]],
                [10**9], [], np.array([0.0, 1.0]), {0, 1}, math.nan],
    "int": [2.7, "3", -1, True, None, math.nan, math.inf, 1e20, [3]],
    "positive": [0, -0.1, math.nan, math.inf, -math.inf, "0.1", True, None, [0.1]],
    "fraction": [-0.1, 1.5, math.nan, math.inf, "0.5", None],
    "seeds": [[0, 0], [0.5], [], "0", [-1], None, [0, 1.0]],
    "scores": [np.full(N, np.nan), np.ones(5), np.ones((N, 2)), "high", None, np.full(N, np.inf)],
    "embedding": [np.full((N, 4), np.nan), np.ones((N,)), np.ones((N, 0)), "emb", None,
                  np.ones((N, 4)) * np.inf],
    "accuracies": [{"forget": 1.5, "retain": 1.0, "test": 1.0}, {"forget": math.nan, "retain": 1.0, "test": 1.0},
                   {"forget": 1.0}, {"forget": "1", "retain": 1.0, "test": 1.0}, None, [1.0, 1.0, 1.0]],
    # a 1-D vector of N numbers (confidences, losses, attack scores, values to average)
    "values": [np.full(N, np.nan), np.ones((N, 2)), "x", None, np.full(N, np.inf), np.array([], float),
               np.array(["a"] * N), np.ones(N, bool)],
    # class labels of N rows of 3-class probabilities
    "labels": [np.full(N, 0.5), -(_LAB + 1), _LAB + 5, "x", None, np.ones(5, int), np.ones((N, 2), int)],
    "probs": [np.full((N, 3), np.nan), np.ones(N), np.ones((5, 3)), "x", None, -_PROBS, np.full((N, 3), np.inf)],
    "membership": [np.ones(5, bool), np.full(N, 0.5), "x", None, np.ones((N, 2), bool)],
    # a (models, N) matrix of shadow-model statistics
    "shadow": [np.full((4, N), np.inf), np.ones(N), np.ones((4, 5)), "x", np.ones((0, N))],
    "real": [math.nan, math.inf, -math.inf, "0.5", None, True, [0.5]],  # bad for any finite number
    "name": [None, 3, "", "   ", ["a"]],  # bad for any non-empty name
    "index_values": [[-1, -2], [1.5, 2.0], [True, False], "012", [[0, 1], [2, 3]], np.array([0.0, 1.0]), math.nan,
                     None, {0, 1}],  # bad even where repeats, large or no indices are fine (a set operation)
    "label_values": [np.full(N, 0.5), -(_LAB + 1), "x", None, np.ones((N, 2), int)],  # bad for any labelling
    "frame": [_FRAME.drop(columns="tow"), "x", None, _FRAME.iloc[:0], _FRAME.assign(tow=["a", "b", "c", "d"])],
    # per-seed runs, bad for a function that reads their MIA gap (a frame without "tow" would be fine there)
    "gap_frame": [_FRAME.drop(columns="mia_gap"), "x", None, _FRAME.iloc[:0],
                  _FRAME.assign(mia_gap=["a", "b", "c", "d"])],
    # ES curves of distance groups, (groups,) or (seeds, groups): bad for any curve
    "curves": [np.full((2, 5), np.nan), np.ones((2, 3, 4)), "x", None, np.array([], float),
               np.full(5, np.inf), np.array(["a"] * 5), np.ones(5, bool)],
    "choice": ["nope", None, 3, ""],
    "columns": [None, 3, [], ["tow", 3], {"tow"}],
    "augment_kind": ["nope", 3, "", "CROP"],  # None is valid there (no augmentation)
    "mapping": [None, "x", {}],
    "subsets": [None, "x", [[-1]], [[10**6]], [[1.5]], [[0, 0]], [], [[0, 1], [1, 2]]],
    # model inputs and training labels (tensors)
    "inputs": [None, "x", np.ones((4, 1, 8, 8), np.float32), torch.ones(4, 3), torch.full((4, 1, 8, 8), math.nan),
               torch.ones(4, 1, 8, 8, dtype=torch.long)],
    "targets": [None, "x", torch.full((240,), 99), -torch.ones(240, dtype=torch.long), torch.ones(5, dtype=torch.long),
                torch.full((240,), 0.5), np.zeros(240, int)],
}


@functools.cache
def _world():
    """A tiny bundle, a model fitted to it and a 60-example embedding, built once."""
    bundle = data.load("synthetic", seed=0)
    model, _ = train_model(bundle, "mlp", TrainConfig(epochs=1, lr=0.05, batch_size=64), seed=0,
                           model_kwargs={"hidden": (8,)}, use_cache=False)
    emb = np.random.default_rng(0).normal(size=(N, 4))
    return bundle, model, emb


def _targets() -> dict[str, tuple[str, Callable]]:
    """``"module.function(argument)" -> (kind of bad value, call(bad))``; the name before "(" is the public
    function's dotted path under ``rum_core`` (``tests/test_fuzz.py`` checks every public function is here or
    in :data:`NOT_FUZZED`)."""
    bundle, model, emb = _world()
    good_acc = {"forget": 0.5, "retain": 1.0, "test": 0.9}
    scores = np.linspace(0, 1, len(bundle.train))
    line = np.linspace(0, 1, N)
    cfg = TrainConfig(epochs=1, lr=0.1)
    x4, y4 = bundle.train.x[:4], bundle.train.y[:4]
    summary = stats.summarize(_FRAME, "method", ["tow"])
    smoke = profiles.get_profile("smoke")
    rng = np.random.default_rng(0)
    shadow = rng.normal(size=(4, N))
    in_mask = np.arange(4 * N).reshape(4, N) % 2 == 0
    t: dict[str, tuple[str, Callable]] = {
        "metrics.split_accuracies(forget_idx)": ("indices", lambda b: metrics.split_accuracies(model, bundle, b)),
        "metrics.entanglement_of(forget_idx)": ("indices", lambda b: metrics.entanglement_of(model, bundle, b)),
        "metrics.model_logits(idx)": ("indices", lambda b: metrics.model_logits(model, bundle, b)),
        "metrics.confidences(idx)": ("indices", lambda b: metrics.confidences(model, bundle, b)),
        "metrics.confidences(kind)": ("choice", lambda b: metrics.confidences(model, bundle, kind=b)),
        "metrics.model_report(forget_idx)": ("indices", lambda b: metrics.model_report(model, bundle, b)),
        "metrics.evaluate(forget_idx)": ("indices", lambda b: metrics.evaluate(model, model, bundle, b)),
        "partition.set_entanglement(idx)": ("indices", lambda b: partition.set_entanglement(emb, b)),
        "training.train_model(train_idx)": ("indices", lambda b: train_model(bundle, "mlp", cfg, train_idx=b,
                                                                              use_cache=False)),
        "unlearners.make(...)(forget_idx)": ("indices", lambda b: unlearners.make("finetune", epochs=1)(model, bundle, b)),
        "rum.refine(forget_idx)": ("indices", lambda b: rum.refine(b, scores)),
        "rum.refine(scores)": ("scores", lambda b: rum.refine(np.arange(N), b)),
        "rum.refine(k)": ("int", lambda b: rum.refine(np.arange(30), scores, b)),
        "partition.memorization_groups(scores)": ("scores", lambda b: partition.memorization_groups(b, 5)),
        "partition.memorization_groups(n)": ("int", lambda b: partition.memorization_groups(line, b)),
        "partition.memorization_groups(medium_center)": ("real", lambda b: partition.memorization_groups(
            line, 5, medium_center=b)),
        "metrics.entanglement_score(retain_emb)": ("embedding", lambda b: metrics.entanglement_score(b, emb[:10])),
        "partition.es_groups(embeddings)": ("embedding", lambda b: partition.es_groups(b, n_groups=6)),
        "partition.es_controlled(embeddings)": ("embedding", lambda b: partition.es_controlled(b, size=5)),
        "partition.es_controlled(size)": ("int", lambda b: partition.es_controlled(emb, size=b)),
        "partition.es_controlled(far_quantile)": ("fraction", lambda b: partition.es_controlled(emb, size=5,
                                                                                                  far_quantile=b)),
        "partition.scaled_es_picks(n_groups)": ("int", lambda b: partition.scaled_es_picks(b)),
        "partition.jaccard(a)": ("index_values", lambda b: partition.jaccard(b, [1, 2])),
        "partition.layer_embeddings(batch_size)": ("int", lambda b: partition.layer_embeddings(model, x4, batch_size=b)),
        "partition.layer_embeddings(layer)": ("choice", lambda b: partition.layer_embeddings(model, x4, b)),
        "metrics.tow(unlearned)": ("accuracies", lambda b: metrics.tow(b, good_acc)),
        "metrics.tow_mia(unlearned_acc)": ("accuracies", lambda b: metrics.tow_mia(b, good_acc, 0.5, 0.5)),
        "metrics.tow_mia(mia_unlearned)": ("fraction", lambda b: metrics.tow_mia(good_acc, good_acc, b, 0.5)),
        "metrics.mia_gap(mia_unlearned)": ("fraction", lambda b: metrics.mia_gap(b, 0.5)),
        "partition.random_forget_set(size)": ("int", lambda b: partition.random_forget_set(100, size=b)),
        "partition.random_forget_set(fraction)": ("fraction", lambda b: partition.random_forget_set(100, fraction=b)),
        "partition.random_forget_set(n_train)": ("int", lambda b: partition.random_forget_set(b, size=3)),
        "training.TrainConfig(epochs)": ("int", lambda b: TrainConfig(epochs=b, lr=0.1)),
        "training.TrainConfig(batch_size)": ("int", lambda b: TrainConfig(epochs=1, lr=0.1, batch_size=b)),
        "training.TrainConfig(lr)": ("positive", lambda b: TrainConfig(epochs=1, lr=b)),
        "training.TrainConfig(momentum)": ("fraction", lambda b: TrainConfig(epochs=1, lr=0.1, momentum=b)),
        "training.TrainConfig(schedule)": ("choice", lambda b: TrainConfig(epochs=1, lr=0.1, schedule=b)),
        "training.fit(x)": ("inputs", lambda b: training.fit(models.build("mlp", bundle, hidden=(4,)), b, y4, cfg)),
        "training.fit(y)": ("targets", lambda b: training.fit(models.build("mlp", bundle, hidden=(4,)),
                                                              bundle.train.x, b, cfg)),
        "training.predict_logits(x)": ("inputs", lambda b: training.predict_logits(model, b)),
        "training.predict_logits(batch_size)": ("int", lambda b: training.predict_logits(model, x4, batch_size=b)),
        "training.predict_proba(x)": ("inputs", lambda b: training.predict_proba(model, b)),
        "training.predict(x)": ("inputs", lambda b: training.predict(model, b)),
        "training.make_optimizer(total_steps)": ("int", lambda b: training.make_optimizer(model.parameters(), cfg, b)),
        "training.check_finite_model(model)": ("mapping", lambda b: training.check_finite_model(b, "fuzz")),
        "training.minibatches(batch_size)": ("int", lambda b: training.minibatches(10, b, torch.Generator())),
        "training.augment(kind)": ("augment_kind", lambda b: training.augment(x4, b, torch.Generator())),
        "data.load(val_size)": ("int", lambda b: data.load("synthetic", val_size=b)),
        "data.load(name)": ("choice", lambda b: data.load(b)),
        "data.load(seed)": ("int", lambda b: data.load("synthetic", seed=b)),
        "data.check_split(forget_idx)": ("indices", lambda b: data.check_split(100, b)),
        "data.check_split(n_train)": ("int", lambda b: data.check_split(b, [1, 2])),
        "data.validation_positions(val_size)": ("int", lambda b: data.validation_positions(_LAB, b, 0)),
        "data.validation_positions(labels)": ("label_values", lambda b: data.validation_positions(b, 6, 0)),
        "metrics.mia_efficacy(seed)": ("int", lambda b: metrics.mia_efficacy(np.ones(20) * .9, np.ones(20) * .5,
                                                                             np.ones(5) * .7, seed=b)),
        "metrics.mia_efficacy(retain_conf)": ("values", lambda b: metrics.mia_efficacy(b, line, line)),
        "metrics.true_label_confidence(probs)": ("embedding", lambda b: metrics.true_label_confidence(
            b, np.zeros(N, int))),
        "metrics.true_label_confidence(labels)": ("labels", lambda b: metrics.true_label_confidence(_PROBS, b)),
        "metrics.logit_confidence(probs)": ("probs", lambda b: metrics.logit_confidence(b, _LAB)),
        "metrics.logit_confidence(labels)": ("labels", lambda b: metrics.logit_confidence(_PROBS, b)),
        "metrics.true_label_loss(probs)": ("probs", lambda b: metrics.true_label_loss(b, _LAB)),
        "metrics.true_label_loss(labels)": ("labels", lambda b: metrics.true_label_loss(_PROBS, b)),
        "metrics.loss_mia_auc(forget_loss)": ("values", lambda b: metrics.loss_mia_auc(b, line[:30])),
        "metrics.loss_mia_auc(n_splits)": ("int", lambda b: metrics.loss_mia_auc(line[:30], line[30:] + 1,
                                                                                 n_splits=b)),
        "metrics.mia.logistic_regression_1d(x)": ("values", lambda b: metrics.mia.logistic_regression_1d(b, _MEMBER * 1)),
        "metrics.mia.logistic_regression_1d(C)": ("positive", lambda b: metrics.mia.logistic_regression_1d(line, _MEMBER * 1,
                                                                                                  C=b)),
        "metrics.auc(scores)": ("scores", lambda b: metrics.auc(b, _MEMBER)),
        "metrics.auc(is_member)": ("membership", lambda b: metrics.auc(line, b)),
        "metrics.roc_curve(scores)": ("scores", lambda b: metrics.roc_curve(b, _MEMBER)),
        "metrics.tpr_at_fpr(fpr)": ("fraction", lambda b: metrics.tpr_at_fpr(line, _MEMBER, b)),
        "metrics.tpr_at_fpr(scores)": ("values", lambda b: metrics.tpr_at_fpr(b, _MEMBER, 0.1)),
        "metrics.attack_summary(scores)": ("values", lambda b: metrics.attack_summary(b, _MEMBER)),
        "metrics.membership_split(stats)": ("shadow", lambda b: metrics.membership_split(b, in_mask)),
        "metrics.lira_scores(target_stat)": ("scores", lambda b: metrics.lira_scores(b, np.ones((4, N)),
                                                                                     np.zeros((4, N)))),
        "metrics.lira_scores(in_stats)": ("shadow", lambda b: metrics.lira_scores(line, b, shadow)),
        "metrics.lira_scores(min_std)": ("positive", lambda b: metrics.lira_scores(line, shadow, shadow, min_std=b)),
        "metrics.ulira_scores(unlearned_stats)": ("shadow", lambda b: metrics.ulira_scores(line, b, shadow)),
        "metrics.leave_one_out_lira(stats)": ("shadow", lambda b: metrics.leave_one_out_lira(b, in_mask)),
        "metrics.leave_one_out_lira(targets)": ("indices", lambda b: metrics.leave_one_out_lira(shadow, in_mask, b)),
        "metrics.leave_one_out_ulira(unlearned_stats)": ("shadow", lambda b: metrics.leave_one_out_ulira(b, shadow)),
        "stats.mean_ci(values)": ("values", lambda b: stats.mean_ci(b)),
        "stats.mean_ci(confidence)": ("fraction", lambda b: stats.mean_ci([1.0, 2.0, 3.0], b)),
        "stats.summarize(frame)": ("frame", lambda b: stats.summarize(b, "method", ["tow"])),
        "stats.summarize(by)": ("choice", lambda b: stats.summarize(_FRAME, b, ["tow"])),
        "stats.summarize(metrics)": ("columns", lambda b: stats.summarize(_FRAME, "method", b)),
        "stats.format_table(digits)": ("int", lambda b: stats.format_table(summary, "method", ["tow"], digits=b)),
        "stats.format_table(summary)": ("frame", lambda b: stats.format_table(b, "method", ["tow"])),
        "partition.mix(seed)": ("int", lambda b: partition.mix({"low": np.arange(5), "high": np.arange(5, 10)}, 2,
                                                              seed=b)),
        "partition.mix(n_each)": ("int", lambda b: partition.mix({"low": np.arange(5)}, b)),
        "partition.mix(groups)": ("index_values", lambda b: partition.mix({"low": b}, 1)),
        "partition.group_ranges(scores)": ("scores", lambda b: partition.group_ranges(b, {"low": np.arange(N)})),
        "rum.random_split(k)": ("int", lambda b: rum.random_split(np.arange(30), b)),
        "rum.retain_sets(subsets)": ("subsets", lambda b: rum.retain_sets(N, b)),
        "rum.retain_sets(n_train)": ("int", lambda b: rum.retain_sets(b, [np.arange(3)])),
        "rum.retain_sets(policy)": ("choice", lambda b: rum.retain_sets(N, [np.arange(3)], b)),
        "rum.vanilla(method)": ("choice", lambda b: rum.vanilla(b)),
        "rum.shuffle(k)": ("int", lambda b: rum.shuffle("finetune", k=b)),
        "rum.rum_f(retain_policy)": ("choice", lambda b: rum.rum_f("finetune", retain_policy=b)),
        "rum.rum(steps)": ("choice", lambda b: rum.rum(b)),
        "rum.high_only(method)": ("choice", lambda b: rum.high_only(b)),
        "rum.split_for(forget_idx)": ("index_values", lambda b: rum.split_for(rum.shuffle("finetune"), b)),
        "rum.split_for(scores)": ("scores", lambda b: rum.split_for(rum.rum_f("finetune"), np.arange(N), b)),
        "rum.run_variant(forget_idx)": ("indices", lambda b: rum.run_variant(rum.vanilla("finetune", epochs=1), model,
                                                                             bundle, b)),
        "rum.meta_unlearn(subsets)": ("subsets", lambda b: rum.meta_unlearn(model, bundle, b, ["identity"])),
        "rum.meta_unlearn(steps)": ("choice", lambda b: rum.meta_unlearn(model, bundle, [np.arange(3)], [b])),
        "rum.oracle_criterion(forget_idx)": ("indices", lambda b: rum.oracle_criterion(model, bundle, b)),
        "rum.held_out_criterion(p_out)": ("scores", lambda b: rum.held_out_criterion(model, bundle, np.arange(5), b)),
        "rum.held_out_criterion(forget_idx)": ("indices", lambda b: rum.held_out_criterion(
            model, bundle, b, np.full(len(bundle.train), 0.5))),
        "rum.select_steps(subsets)": ("subsets", lambda b: rum.select_steps(
            model, bundle, b, ["identity"], rum.oracle_criterion(model, bundle, np.arange(6)))),
        "rum.hparam_grid(grid)": ("mapping", lambda b: rum.hparam_grid(b)),
        "rum.paper_table(dataset)": ("choice", lambda b: rum.paper_table(b)),
        "rum.paper_layout(summary)": ("frame", lambda b: rum.paper_layout(b)),
        "memorization.from_runs(included)": ("shadow", lambda b: memorization.from_runs(np.ones((4, N), bool), b)),
        "memorization.orient_proxies(frame)": ("frame", lambda b: memorization.orient_proxies(b)),
        "memorization.estimate(n_models)": ("int", lambda b: memorization.estimate(
            bundle, n_models=b, train=cfg, model_kwargs={"hidden": (8,)})),
        "memorization.estimate(subset_ratio)": ("fraction", lambda b: memorization.estimate(
            bundle, n_models=4, subset_ratio=b, train=cfg, model_kwargs={"hidden": (8,)})),
        "ensembles.inclusion_design(n)": ("int", lambda b: ensembles.inclusion_design(b, 4)),
        "ensembles.inclusion_design(n_models)": ("int", lambda b: ensembles.inclusion_design(10, b)),
        "ensembles.inclusion_design(subset_ratio)": ("fraction", lambda b: ensembles.inclusion_design(
            10, 4, subset_ratio=b)),
        "ensembles.inclusion_design(design)": ("choice", lambda b: ensembles.inclusion_design(10, 4, design=b)),
        "ensembles.inclusion_design(seed)": ("int", lambda b: ensembles.inclusion_design(10, 4, seed=b)),
        "ensembles.model_seeds(n_models)": ("int", lambda b: ensembles.model_seeds(0, b)),
        "ensembles.model_seeds(seed)": ("int", lambda b: ensembles.model_seeds(b, 3)),
        "ensembles.train_ensemble(subsets)": ("subsets", lambda b: ensembles.train_ensemble(
            bundle, b, [0], cfg, model_kwargs={"hidden": (8,)})),
        "ensembles.train_ensemble(seeds)": ("seeds", lambda b: ensembles.train_ensemble(
            bundle, [np.arange(10)], b, cfg, model_kwargs={"hidden": (8,)})),
        "ensembles.train.train_stack(subsets)": ("subsets", lambda b: ensembles.train_stack(
            bundle, b, [0], cfg, model_kwargs={"hidden": (8,)})),
        "models.build(seed)": ("int", lambda b: models.build("mlp", bundle, seed=b)),
        "models.build(name)": ("choice", lambda b: models.build(b, bundle)),
        "models.rebuild(seed)": ("int", lambda b: models.rebuild(model, seed=b)),
        "models.embed(x)": ("inputs", lambda b: models.embed(model, b)),
        "models.embed(batch_size)": ("int", lambda b: models.embed(model, x4, batch_size=b)),
        "profiles.get_profile(name)": ("choice", lambda b: profiles.get_profile(b if b is not None else "nope")),
        "profiles.get_profile(seeds)": ("int", lambda b: profiles.get_profile("smoke", seeds=b)),
        "profiles.get_profile(forget_fraction)": ("fraction", lambda b: profiles.get_profile("smoke",
                                                                                             forget_fraction=b)),
        "unlearners.salun.mask_from_scores(ratio)": ("fraction", lambda b: salun.mask_from_scores(
            {"w": torch.ones(4)}, b)),
        "unlearners.salun.saliency_mask(ratio)": ("fraction", lambda b: salun.saliency_mask(model, x4, y4, b)),
        "unlearners.scrub.distill_kl(temperature)": ("positive", lambda b: scrub.distill_kl(
            torch.zeros(3, 3), torch.zeros(3, 3), b)),
        "unlearners.influence.woodfisher_ihvp(damping)": ("positive", lambda b: influence.woodfisher_ihvp(
            torch.ones(4, 3), torch.ones(3), b)),
        "unlearners.influence.per_example_grads(params)": ("choice", lambda b: influence.per_example_grads(
            model, x4, y4, params=b)),
        "unlearners.l1_sparse.l1_coefficient(progress)": ("fraction", lambda b: l1_sparse.l1_coefficient(0.1, b)),
        "unlearners.random_label.random_other_labels(num_classes)": ("int", lambda b: random_label.random_other_labels(
            torch.zeros(4, dtype=torch.long), b, torch.Generator())),
        "unlearners.random_label.random_other_labels(y)": ("label_values", lambda b: random_label.random_other_labels(
            b, 3, torch.Generator())),
        "unlearners.neggrad_plus.cycled_batches(batch_size)": ("int", lambda b: next(neggrad_plus.cycled_batches(
            10, b, torch.Generator()))),
        "plots.umap_2d(embeddings)": ("embedding", lambda b: plots.umap_2d(b)),
        "plots.histograms(samples)": ("mapping", lambda b: plots.histograms(b)),
        "plots.histogram_panels(panels)": ("mapping", lambda b: plots.histogram_panels(b)),
        "plots.interval_dots(runs)": ("frame", lambda b: plots.interval_dots(b, "tow")),
        "plots.interval_dots(metric)": ("choice", lambda b: plots.interval_dots(_FRAME, b)),
        "plots.grouped_bars(metrics)": ("columns", lambda b: plots.grouped_bars(_FRAME, group="method", metrics=b)),
        "plots.grouped_bars(runs)": ("frame", lambda b: plots.grouped_bars(b, group="method", metrics=["tow"])),
        "plots.rum_bars(runs)": ("frame", lambda b: plots.rum_bars(b)),
        "plots.image_grid(images)": ("embedding", lambda b: plots.image_grid(b)),
        "plots.roc_curves(curves)": ("mapping", lambda b: plots.roc_curves(b)),
        "plots.scatter_panels(ys)": ("mapping", lambda b: plots.scatter_panels(line, b)),
        "plots.forget_retain_maps(coords)": ("embedding", lambda b: plots.forget_retain_maps(b, {"a": np.arange(3)})),
        "plots.forget_retain_maps(forget_sets)": ("indices", lambda b: plots.forget_retain_maps(
            np.ones((N, 2)), {"a": b})),
        "plots.metric_by_level(runs)": ("frame", lambda b: plots.metric_by_level(b)),
        "plots.tow_vs_cost(summary)": ("frame", lambda b: plots.tow_vs_cost(b)),
        "plots.es_by_group(curves)": ("mapping", lambda b: plots.es_by_group(b)),
        "validation.check_int(value)": ("int", lambda b: check_int("v", b, low=0)),
        "validation.check_number(value)": ("positive", lambda b: check_number("v", b, low=0.0, low_open=True)),
        "validation.check_choice(value)": ("choice", lambda b: check_choice("v", b, ["a", "b"])),
        "validation.check_seeds(seeds)": ("seeds", lambda b: check_seeds(b)),
        "validation.check_indices(idx)": ("indices", lambda b: check_indices("v", b, 100, allow_empty=False)),
        "validation.check_labels(labels)": ("probs", lambda b: check_labels("v", b)),
        "validation.check_numeric(x)": ("mapping", lambda b: check_numeric("v", b)),
        "validation.check_array(x)": ("values", lambda b: check_array("v", b, 1)),
        "validation.check_columns(columns)": ("columns", lambda b: check_columns("v", b)),
        "validation.check_frame(frame)": ("frame", lambda b: check_frame("v", b, ["method"], numeric=["tow"])),
        "notebook.glue(name)": ("name", lambda b: notebook.glue(b, 1)),
        "cache.cache_key(config)": ("index_values", lambda b: cache.cache_key("kind", b)),
        "experiments.rum_runs(seeds)": ("seeds", lambda b: _without_work(experiments.rum_runs, smoke, seeds=b)),
        "experiments.unlearning_runs(seeds)": ("seeds", lambda b: _without_work(
            experiments.unlearning_runs, smoke, ["finetune"], seeds=b)),
        "experiments.unlearning_runs(methods)": ("choice", lambda b: _without_work(
            experiments.unlearning_runs, smoke, [b], seeds=[0])),
        "experiments.rum_selection(seeds)": ("seeds", lambda b: _without_work(experiments.rum_selection, smoke,
                                                                              seeds=b)),
        "experiments.rum_tune(tune_seeds)": ("seeds", lambda b: _without_work(
            experiments.rum_tune, smoke, experiments.rum_cells(["finetune"], ["vanilla"], include_rum=False),
            {"lr": [0.1]}, tune_seeds=b)),
        "experiments.tune_unlearners(tune_seeds)": ("seeds", lambda b: _without_work(
            experiments.tune_unlearners, smoke, {"finetune": {"lr": [0.1]}}, tune_seeds=b)),
        "experiments.tune_unlearners(grid)": ("mapping", lambda b: _without_work(
            experiments.tune_unlearners, smoke, b, tune_seeds=[100])),
        "experiments.tune_unlearners(metric)": ("choice", lambda b: _without_work(
            experiments.tune_unlearners, smoke, {"finetune": {"lr": [0.1]}}, tune_seeds=[100], metric=b)),
        "experiments.rum_cells(methods)": ("choice", lambda b: experiments.rum_cells([b])),
        "experiments.rum_forget_set(which)": ("choice", lambda b: experiments.rum_forget_set(smoke, scores, b)),
        "experiments.es_forget_sets(level)": ("choice", lambda b: _without_work(experiments.es_forget_sets, smoke, b)),
        "experiments.memorization_forget_sets(level)": ("choice", lambda b: experiments.memorization_forget_sets(
            smoke, b, scores=scores)),
        "cache.cache_path(config)": ("index_values", lambda b: cache.cache_path("fuzz", b, ".npz")),
        "cache.cached_arrays(config)": ("index_values", lambda b: cache.cached_arrays("fuzz", b, dict)),
        "cache.cached_state(config)": ("index_values", lambda b: cache.cached_state("fuzz", b, dict)),
        "cache.cached_frame(config)": ("index_values", lambda b: cache.cached_frame("fuzz", b, pd.DataFrame)),
        "data.official_permutation(official_labels)": ("label_values", lambda b: data.official_permutation(_LAB, b)),
        "ensembles.train.train_flops(examples)": ("int", lambda b: ensembles.train_flops(bundle, "mlp", b)),
        "ensembles.train.train_stack(model)": ("choice", lambda b: ensembles.train_stack(
            bundle, [np.arange(10)], [0], cfg, model=b)),
        "metrics.accuracy(x)": ("inputs", lambda b: metrics.accuracy(model, b, y4)),
        "metrics.compare_reports(unlearned)": ("mapping", lambda b: metrics.compare_reports(
            b, metrics.model_report(model, bundle, np.arange(6)))),
        "metrics.split_fingerprint(forget)": ("index_values", lambda b: metrics.split_fingerprint(b, np.arange(3), 5)),
        "models.check_inputs(x)": ("inputs", lambda b: models.check_inputs("x", b, model)),
        "models.check_targets(y)": ("targets", lambda b: models.check_targets("y", b, 240, model)),
        "notebook.cited_table(values)": ("mapping", lambda b: notebook.cited_table(b)),
        "notebook.glue_all(values)": ("mapping", lambda b: notebook.glue_all(b)),
        "stats.t_errorbar(confidence)": ("fraction", lambda b: stats.t_errorbar(b)),
        "profiles.banner(profile)": ("mapping", lambda b: profiles.banner(b)),
        "rum.Step(method)": ("choice", lambda b: rum.Step(b)),
        "rum.Variant(split)": ("choice", lambda b: rum.Variant("v", b, ("finetune",))),
        "unlearners.make(...)(seed)": ("int", lambda b: unlearners.make("identity")(model, bundle, np.arange(3), seed=b)),
        "unlearners.make(name)": ("choice", lambda b: unlearners.make(b)),
        "experiments.rum_table(runs)": ("frame", lambda b: experiments.rum_table(b)),
    }
    t.update(_measuring_targets())
    t.update(_entanglement_targets())
    t.update(_memorization_rum_targets())
    for method in unlearners.available():
        hp = unlearners.make(method).hparams
        for key, kind in (("epochs", "int"), ("batch_size", "int"), ("lr", "positive"), ("n_samples", "int"),
                          ("msteps", "int"), ("temperature", "positive"), ("damping", "positive"),
                          ("mask_ratio", "fraction")):
            if key in hp:
                t[f"unlearners.make({method!r}, {key})"] = (kind, lambda b, m=method, k=key: unlearners.make(m, **{k: b}))
        if method == "neggrad_plus":
            t["unlearners.make('neggrad_plus', alpha)"] = ("fraction", lambda b: unlearners.make("neggrad_plus", alpha=b))
    return t


def _measuring_targets() -> dict[str, tuple[str, Callable]]:
    """Targets of the findings of chapters 2 and 3 (rum_core.findings.algorithms / .measuring) and of the
    chapter-3 figure panels."""
    line = np.linspace(0, 1, N)
    phi = {model: {"forget": line, "test": line} for model in ("original", "retrained", "unlearned")}
    row = {"AUC": 0.5, "TPR @ 1% FPR": 0.01, "TPR @ 0.1% FPR": 0.001}
    lira = dict.fromkeys(findings_measuring.LIRA_ATTACKS.values(), row)
    runs = _FRAME.assign(method=["a", "a", "identity", "identity"])
    return {
        "plots.roc_panels(panels)": ("mapping", lambda b: plots.roc_panels(b)),
        "plots.interval_dots_panels(runs)": ("frame", lambda b: plots.interval_dots_panels(b, {"tow": "ToW"})),
        "plots.interval_dots_panels(metrics)": ("mapping", lambda b: plots.interval_dots_panels(_FRAME, b)),
        "findings.algorithms.ranking(summary)": ("frame", lambda b: findings_algorithms.ranking(b)),
        "findings.measuring.accuracy_alone(summary)": ("frame", lambda b: findings_measuring.accuracy_alone(b)),
        "findings.measuring.mia_gap_extremes(runs)": ("gap_frame", lambda b: findings_measuring.mia_gap_extremes(b)),
        "findings.measuring.seed_confidences(phi)": ("mapping", lambda b: findings_measuring.seed_confidences(
            b, dict.fromkeys(phi, 0.5), line)),
        "findings.measuring.seed_confidences(true_label_confidence)": (
            "values", lambda b: findings_measuring.seed_confidences(phi, dict.fromkeys(phi, 0.5), b)),
        "findings.measuring.lira(table)": ("mapping", lambda b: findings_measuring.lira(
            b, _MEMBER, n_shadows=4, n_targets=2)),
        "findings.measuring.lira(is_member)": ("membership", lambda b: findings_measuring.lira(
            lira, b, n_shadows=4, n_targets=2)),
        "findings.measuring.lira(n_targets)": ("int", lambda b: findings_measuring.lira(
            lira, _MEMBER, n_shadows=4, n_targets=b)),
        "findings.measuring.ulira(runs)": ("gap_frame", lambda b: findings_measuring.ulira(
            {"a": row, "identity": row}, b, method="a", n_models=4)),
        "findings.measuring.ulira(n_models)": ("int", lambda b: findings_measuring.ulira(
            {"a": row, "identity": row}, runs, method="a", n_models=b)),
        "findings.measuring.every_measure(summary)": ("frame", lambda b: findings_measuring.every_measure(
            b, quiet="a", loud="b")),
    }


def _entanglement_targets() -> dict[str, tuple[str, Callable]]:
    """Targets of the findings of chapter 4 (rum_core.findings.entanglement) and of its figure panels."""
    emb = _world()[2]
    sets = partition.es_groups(emb, n_groups=6, picks=partition.scaled_es_picks(6))
    details = {"paper": {0: sets, 1: sets}}
    es_runs = findings_entanglement.es_runs(details, "procedure")
    es_summary = stats.summarize(es_runs, ["procedure", "level"], ["es"])
    fe = findings_entanglement
    return {
        "findings.entanglement.es_runs(sets)": ("mapping", lambda b: fe.es_runs(b, "procedure")),
        "findings.entanglement.set_table(summary)": ("frame", lambda b: fe.set_table(b, ["es"])),
        "findings.entanglement.level_table(summary)": ("frame", lambda b: fe.level_table(b, "procedure", ["es"])),
        "findings.entanglement.seeds_with_increasing_es(runs)": ("frame", lambda b: fe.seeds_with_increasing_es(
            b, "procedure")),
        "findings.entanglement.seed_overlap(details)": ("mapping", lambda b: fe.seed_overlap(b)),
        "findings.entanglement.reference_runs(grid)": ("frame", lambda b: fe.reference_runs(b)),
        "findings.entanglement.tow_trends(summary)": ("frame", lambda b: fe.tow_trends(b, es_summary, ["a"])),
        "findings.entanglement.tow_correlations(grid)": ("frame", lambda b: fe.tow_correlations(b, ["a"])),
        "findings.entanglement.toy_findings(es)": ("mapping", lambda b: fe.toy_findings(b)),
        "findings.entanglement.es_level_findings(es_runs)": ("frame", lambda b: fe.es_level_findings(
            b, es_summary, es_size=3)),
        "findings.entanglement.es_peak_findings(curves)": ("curves", lambda b: fe.es_peak_findings(b)),
        "findings.entanglement.tow_trend_findings(trends)": ("mapping", lambda b: fe.tow_trend_findings(
            b, es_summary)),
        "findings.entanglement.little_to_forget_findings(why_summary)": (
            "frame", lambda b: fe.little_to_forget_findings(b)),
        "findings.entanglement.correlation_findings(rho)": ("frame", lambda b: fe.correlation_findings(b, _FRAME)),
        "findings.entanglement.seed_overlap_findings(overlap)": ("frame", lambda b: fe.seed_overlap_findings(b, 2)),
        "findings.entanglement.seed_overlap_findings(n_seeds)": ("int", lambda b: fe.seed_overlap_findings(
            fe.seed_overlap(details), b)),
        "findings.entanglement.robustness_findings(layer_runs)": ("frame", lambda b: fe.robustness_findings(
            b, es_summary, es_runs, {"6 groups": np.ones((2, 6))})),
        "plots.metric_by_level_panels(runs)": ("frame", lambda b: plots.metric_by_level_panels(b, panel="level")),
        "plots.es_by_group_panels(panels)": ("mapping", lambda b: plots.es_by_group_panels(b)),
    }


def _memorization_rum_targets() -> dict[str, tuple[str, Callable]]:
    """Targets of the findings of chapters 5 and 6 (rum_core.findings.memorization / .rum_table) and of
    plots.labelled_images, on N-example memorization runs of 4 models (complementary halves)."""
    bundle = _world()[0]
    fm, fr = findings_memorization, findings_rum_table
    smoke = profiles.get_profile("smoke")
    line, scores = np.linspace(0, 1, N), np.linspace(0, 1, len(bundle.train))
    included = (np.arange(4)[:, None] + np.arange(N)[None, :]) % 2 == 0
    correct = np.random.default_rng(0).random((4, N)) < 0.8
    zeros = np.zeros((4, N), np.float32)
    mruns = memorization.MemorizationRuns(
        estimate=memorization.from_runs(correct, included), included=included, correct=correct, confidence=zeros,
        logit_confidence=zeros, test_correct=correct, test_confidence=zeros, test_logit_confidence=zeros,
        seeds=np.arange(4), config={"subset_ratio": 0.5, "train": {"epochs": 1}}, seconds=1.0)
    proxies = pd.DataFrame({name: line for name in memorization.PROXIES})
    proxies.attrs.update({"seconds": 1.0, "holdout_seconds": 1.0})
    mem = memorization.MemorizationScores(scores=scores, p_out=scores, source="fuzz", config={}, grad_evals=1.0)
    levels = {"low": np.arange(20), "medium": np.arange(20, 40), "high": np.arange(40, 60)}
    subsets = [np.arange(3), np.arange(3, 6), np.arange(6, 9)]
    tuning = fr.Tuning(grid={}, tune_seeds=[100], report_seeds=[0], forget_set="tune", forget_idx=np.arange(3),
                       candidate_ranges=_FRAME, trials=_FRAME, tuned_runs=_FRAME)
    images = np.zeros((N, 4, 4, 1))
    names = ("a", "b", "c")
    return {
        "findings.memorization.estimate_summary(runs)": ("mapping", lambda b: fm.estimate_summary(b)),
        "findings.memorization.ranking_stability(n_group)": ("int", lambda b: fm.ranking_stability(mruns, b)),
        "findings.memorization.extreme_examples(n)": ("int", lambda b: fm.extreme_examples(smoke, bundle, scores, b)),
        "findings.memorization.extreme_examples(scores)": ("scores", lambda b: fm.extreme_examples(
            smoke, bundle, b, 3)),
        "findings.memorization.per_class_memorization(scores)": ("values", lambda b: fm.per_class_memorization(
            b, _LAB, names)),
        "findings.memorization.per_class_memorization(labels)": ("labels", lambda b: fm.per_class_memorization(
            line, b, names)),
        "findings.memorization.difficulty_by_level(summary)": ("frame", lambda b: fm.difficulty_by_level(b, ["a"])),
        "findings.memorization.group_entanglement(seeds)": ("seeds", lambda b: fm.group_entanglement(
            smoke, bundle, levels, seeds=b)),
        "findings.memorization.entanglement_findings(es_runs)": ("frame", lambda b: fm.entanglement_findings(b)),
        "findings.memorization.proxy_comparison(proxies)": ("frame", lambda b: fm.proxy_comparison(
            mruns, b, TrainConfig(epochs=1, lr=0.1), 5)),
        "findings.memorization.proxy_comparison(n_group)": ("int", lambda b: fm.proxy_comparison(
            mruns, proxies, TrainConfig(epochs=1, lr=0.1), b)),
        "findings.rum_table.forget_set_levels(scores)": ("scores", lambda b: fr.forget_set_levels(b, levels)),
        "findings.rum_table.refinement_check(forget_set)": ("indices", lambda b: fr.refinement_check(
            smoke, bundle, mem, b, subsets)),
        "findings.rum_table.table_claims(summary)": ("frame", lambda b: fr.table_claims(b, ["retrain", "rum"])),
        "findings.rum_table.level_gaps(summary)": ("frame", lambda b: fr.level_gaps(b, ["retrain", "rum"])),
        "findings.rum_table.ablation(summary)": ("frame", lambda b: fr.ablation(b, _FRAME)),
        "findings.rum_table.follow_up_seeds(seeds)": ("seeds", lambda b: fr.follow_up_seeds(smoke, b)),
        "findings.rum_table.tune_rows(seeds)": ("seeds", lambda b: _without_work(
            fr.tune_rows, smoke, {"rum": rum.rum()}, scores, b)),
        "findings.rum_table.tuning_findings(runs)": ("frame", lambda b: fr.tuning_findings(
            tuning, b, [0], _FRAME)),
        "findings.rum_table.selection_findings(sel)": ("frame", lambda b: fr.selection_findings(b, _FRAME)),
        "findings.rum_table.proxy_findings(proxy_runs)": ("mapping", lambda b: fr.proxy_findings(b, "fuzz")),
        "findings.memorization.tail_comparison(n_models)": ("int", lambda b: _without_work(
            fm.tail_comparison, smoke, b)),
        "findings.memorization.book_time(profile_name)": ("name", lambda b: fm.book_time(b)),
        "plots.sequences_by_class(labels)": ("labels", lambda b: plots.sequences_by_class(
            np.zeros((N, 5)), b, class_names=names)),
        "plots.sequences_by_class(per_class)": ("int", lambda b: plots.sequences_by_class(
            np.zeros((N, 5)), _LAB, class_names=names, per_class=b)),
        "plots.labelled_images(scores)": ("values", lambda b: plots.labelled_images(
            images, _LAB, b, class_names=names)),
        "plots.labelled_images(labels)": ("labels", lambda b: plots.labelled_images(
            images, b, line, class_names=names)),
    }


def _reason(reason: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, reason)


#: Public functions and classes of rum_core without a target above, each with the reason.
NOT_FUZZED: dict[str, str] = {
    **_reason("takes no argument", "training.default_device", "cache.cache_dir", "cli.build_parser", "data.available", "models.available",
              "unlearners.base.available"),
    **_reason("an exception or warning class", "cache.DamagedCacheEntry", "cli.UsageError", "data.DataNotFoundError"),
    **_reason("a result or context container the package fills (never built from user input)",
              "data.Split", "training.FitLog", "ensembles.mlp.MLPStack", "ensembles.cnn1d.CNN1dStack", "ensembles.train.SplitOutputs",
              "ensembles.train.EnsembleResult",
              "memorization.feldman_zhang.MemorizationEstimate", "memorization.feldman_zhang.MemorizationRuns", "memorization.published.PublishedScores",
              "memorization.scores.MemorizationScores", "metrics.evaluate.Evaluation", "metrics.evaluate.ModelReport",
              "models.ModelSpec", "models.Classifier", "partition.ESForgetSets", "rum.StepRecord", "rum.MetaResult",
              "rum.Selection", "unlearners.base.Unlearned", "unlearners.base.UnlearnContext"),
    **_reason("validated at construction (DataBundle.__post_init__, Profile.__post_init__), which tests/test_data.py "
              "and the get_profile targets exercise", "data.DataBundle", "profiles.Profile"),
    **_reason("an unlearning method: built by unlearners.make, whose targets fuzz every hyperparameter; the base "
              "class and its register decorator are for method authors (tests/test_unlearners_docs.py)",
              "unlearners.base.Unlearner", "unlearners.base.register", "unlearners.finetune.Finetune",
              "unlearners.identity.Identity", "unlearners.influence.Influence", "unlearners.l1_sparse.L1Sparse",
              "unlearners.neggrad.NegGrad", "unlearners.neggrad_plus.NegGradPlus",
              "unlearners.random_label.RandomLabel", "unlearners.retrain.Retrain", "unlearners.salun.SalUn",
              "unlearners.scrub.Scrub"),
    **_reason("a building block a method calls with values it has already validated (hand-checked in "
              "tests/test_unlearners_methods.py)", "unlearners.l1_sparse.l1_norm", "unlearners.neggrad.sgd_epochs",
              "unlearners.random_label.stream_generator", "unlearners.random_label.relabelled_training_set",
              "unlearners.salun.forget_gradient_magnitudes", "unlearners.salun.frozen_outside_mask"),
    **_reason("writes bytes the package serialized itself, through a callback (tests/test_cache.py makes the "
              "callback fail and checks nothing is left behind)", "cache.atomic_write"),
    **_reason("the command line: tests/test_cli.py gives every flag bad values and checks the one-line error and "
              "exit status 2", "cli.main"),
    **_reason("reads score files: tests/test_memorization.py feeds it missing, misformatted, out-of-range and "
              "NaN-holding files", "memorization.published.load_cscores", "memorization.published.load_feldman_zhang",
              "memorization.published.published_memorization"),
    **_reason("takes a Profile (validated at construction) and reaches user input only through functions "
              "fuzzed here", "experiments.load_data", "experiments.original_model", "experiments.random_forget_sets",
              "experiments.memorization_scores", "experiments.estimate_for_profile", "experiments.rum_forget_groups",
              "experiments.rum_tuning_forget_set", "experiments.unlearning_grid", "memorization.proxy_scores.proxies",
              "findings.memorization.comparison_model_count",
              "memorization.proxy_scores.default_holdout_train"),
    **_reason("the book's myst-nb renderer plugin (tests/test_notebook.py)", "notebook.BookRenderer"),
    **_reason("a result container a findings function fills (never built from user input)",
              "findings.memorization.Extremes", "findings.rum_table.Tuning", "findings.rum_table.SelectionFindings"),
}


def _without_work(function, *args, **kwargs):
    """``function(*args, **kwargs)`` with loading data turned into an error: validation must come first."""
    def refuse_work(*_, **__):
        raise RuntimeError(f"{function.__name__} started work before refusing its bad input")

    real, experiments.load_data = experiments.load_data, refuse_work
    try:
        return function(*args, **kwargs)
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
