"""The figures the chapters show. Each function draws on an optional ``ax`` and returns the figure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from .stats import t_errorbar
from .validation import check_array, check_columns, check_frame, check_indices

__all__ = ["image_grid", "grouped_bars", "tow_vs_cost", "histograms", "roc_curves", "rum_bars",
           "histogram_panels", "interval_dots", "umap_2d", "forget_retain_maps", "metric_by_level", "es_by_group",
           "scatter_panels", "roc_panels", "interval_dots_panels", "metric_by_level_panels",
           "es_by_group_panels", "labelled_images", "sequences_by_class"]


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def _runs(frame, columns: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """``frame`` checked as per-seed runs for a seaborn interval figure: the grouping ``columns`` and numeric
    ``metrics`` without NaN (seaborn would silently drop a NaN seed, and the figure would no longer show the
    interval :func:`rum_core.stats.summarize` reports for the same runs)."""
    frame = check_frame("runs", frame, columns, numeric=metrics)
    for m in metrics:
        missing = int(frame[m].isna().sum())
        if missing:
            raise ValueError(f"runs[{m!r}] is NaN in {missing} of {len(frame)} rows: an interval over seeds "
                             f"needs the metric of every seed")
    return frame


def _order(frame: pd.DataFrame, column: str, order: Sequence | None) -> list:
    """The categories of ``frame[column]`` to draw: ``order`` when given (it must name values that occur),
    else the category order of an ordered categorical, else the order of first appearance."""
    col = frame[column]
    if order is None:
        return list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else list(dict.fromkeys(col))
    order = list(order)
    absent = [v for v in order if not (col == v).any()]
    if absent or not order:
        raise ValueError(f"order must list values of runs[{column!r}], got {order} (absent: {absent})")
    return order


def _mapping(name: str, value) -> None:
    """Refuse anything but a non-empty mapping (of series to plot)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping name → values, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} is empty: nothing to plot")


def _panel_grid(n: int, ncols: int, panel_size: tuple[float, float]):
    """A constrained figure with ``n`` panels in rows of ``ncols``; unused trailing panels are hidden."""
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows), squeeze=False,
                             layout="constrained")
    for ax in axes.flat[n:]:
        ax.axis("off")
    return fig, axes


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, *, ncols: int = 10,
               size: float = 1.0, suptitle: str | None = None):
    """Show (N, H, W, C) images in [0, 1] (see ``DataBundle.to_display``) in a grid with optional titles.

    Examples of height 1 are sequences (MNIST-1D's are (1, 40, 1), on their own scale): each is drawn as a
    line, value against position, in a wider panel, all panels on one value range (that of the examples
    shown), since a 1×40 strip of grey levels hides the shape that tells its class."""
    images = check_array("images", images, 4)
    n = len(images)
    sequences = images.shape[1] == 1
    if sequences:
        low, high = float(images.min()), float(images.max())
        margin = 0.05 * (high - low) or 0.5
    fig, axes = _panel_grid(n, ncols, (size * 1.6, size) if sequences else (size, size * 1.15))
    for i, ax in enumerate(axes.flat[:n]):
        img = images[i]
        if sequences:
            ax.plot(np.arange(img.shape[1]), img[0, :, 0], linewidth=1.0)
            ax.set_ylim(low - margin, high + margin)
            ax.set_xticks([])
            ax.set_yticks([])
        else:
            ax.axis("off")
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray_r" if img.shape[-1] == 1 else None,
                      vmin=0, vmax=1)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def grouped_bars(runs: pd.DataFrame, *, group: str, metrics: Sequence[str], labels: Sequence[str] | None = None,
                 ylabel: str = "", ylim: tuple[float, float] | None = None, confidence: float = 0.95, ax=None,
                 title: str | None = None):
    """Bars of the mean of each metric over the per-seed ``runs`` (one row per seed), grouped by
    ``runs[group]`` (first appearance first), with Student-t ``confidence`` intervals drawn by seaborn
    from :func:`rum_core.stats.t_errorbar`: the intervals of ``stats.summarize(runs, group, metrics)``.
    """
    metrics = check_columns("metrics", metrics)
    runs = _runs(runs, [group], metrics)
    groups = _order(runs, group, None)
    fig, ax = _axes(ax, (1.6 + 1.1 * len(metrics) * len(groups) / 3, 3.2))
    long = runs.melt(id_vars=[group], value_vars=metrics, var_name="metric", value_name="value")
    sns.barplot(long, x="metric", y="value", hue=group, order=metrics, hue_order=groups,
                errorbar=t_errorbar(confidence), capsize=0.15, err_kws={"linewidth": 1}, ax=ax)
    ax.set_xticks(range(len(metrics)), labels or metrics)
    ax.set_xlabel("")
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    sns.move_legend(ax, "best", frameon=False, fontsize=8, ncols=min(4, len(groups)), title=None)
    if title:
        ax.set_title(title)
    return fig


def tow_vs_cost(summary: pd.DataFrame, *, label: str = "method", x: str = "rel_grad_evals", y: str = "tow",
                ax=None, title: str | None = None, xlabel: str = "cost relative to retrain (gradient evaluations)",
                ylabel: str = "ToW"):
    """Scatter of quality (``y``) against cost (``x``, log scale) with interval bars, one point per row of a
    ``summary`` (:func:`rum_core.stats.summarize`: ``<metric>`` and ``<metric>_ci``).

    Unlike the other interval figures this one is drawn with matplotlib from the summary: it needs an
    interval on both axes at once, and seaborn estimates an interval along one axis only.
    """
    check_frame("summary", summary, [label], numeric=[x, y])
    fig, ax = _axes(ax, (6.0, 4.0))
    for _, row in summary.iterrows():
        xv = max(float(row[x]), 1e-4)
        xerr = row.get(f"{x}_ci", np.nan)
        yerr = row.get(f"{y}_ci", np.nan)
        ax.errorbar([xv], [row[y]], xerr=None if not np.isfinite(xerr) else [[min(xerr, xv * 0.99)], [xerr]],
                    yerr=None if not np.isfinite(yerr) else [[yerr], [yerr]], fmt="o", capsize=3)
        ax.annotate(str(row[label]), (xv, row[y]), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, which="both")
    if title:
        ax.set_title(title)
    return fig


def histograms(samples: dict[str, np.ndarray], *, bins=30, ax=None, title: str | None = None,
               xlabel: str = "", range_: tuple[float, float] | None = None, density: bool = True):
    """Overlaid step histograms of several samples (e.g. confidences on forget / retain / test)."""
    _mapping("samples", samples)
    samples = {name: check_array(f"samples[{name!r}]", v, 1) for name, v in samples.items()}
    fig, ax = _axes(ax, (4.5, 3.2))
    for name, values in samples.items():
        ax.hist(np.asarray(values, dtype=float), bins=bins, range=range_, histtype="step", density=density,
                linewidth=1.5, label=f"{name} (n={len(values)})")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density" if density else "count")
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def roc_curves(curves: dict[str, tuple[np.ndarray, np.ndarray]], *, ax=None, title: str | None = None,
               min_fpr: float = 1e-3):
    """ROC curves ``name → (fpr, tpr)`` on log–log axes, where low-FPR behaviour is visible; chance dashed."""
    _mapping("curves", curves)
    checked = {}
    for name, curve in curves.items():
        if not isinstance(curve, tuple) or len(curve) != 2:
            raise TypeError(f"curves[{name!r}] must be a pair (fpr, tpr), got {type(curve).__name__}")
        fpr, tpr = check_array(f"curves[{name!r}] fpr", curve[0], 1), check_array(f"curves[{name!r}] tpr", curve[1], 1)
        if fpr.shape != tpr.shape:
            raise ValueError(f"curves[{name!r}] has {fpr.size} FPR values but {tpr.size} TPR values")
        checked[name] = fpr, tpr
    fig, ax = _axes(ax, (4.5, 4.0))
    grid = np.logspace(np.log10(min_fpr), 0, 50)
    ax.plot(grid, grid, "k--", linewidth=1, label="chance")
    for name, (fpr, tpr) in checked.items():
        ax.step(np.clip(fpr, min_fpr, 1), np.clip(tpr, min_fpr, 1), where="post", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(min_fpr, 1)
    ax.set_ylim(min_fpr, 1.05)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def rum_bars(runs: pd.DataFrame, *, label: str = "label", metrics: Sequence[str] = ("tow", "mia_gap"),
             titles: Sequence[str] = ("ToW (↑)", "MIA gap (↓)"), order: Sequence[str] | None = None,
             reference: pd.DataFrame | None = None, reference_name: str = "paper", confidence: float = 0.95,
             title: str | None = None):
    """The RUM table as horizontal bars, one panel per metric: the mean over the per-seed ``runs``
    (:func:`rum_core.experiments.rum_runs`) of each ``runs[label]`` in ``order`` (default: first
    appearance, the table's order), with the table's Student-t intervals (seaborn and
    :func:`rum_core.stats.t_errorbar`).

    ``reference`` (optional): a frame with the same ``label`` column and metric columns (e.g. the paper's
    published numbers), drawn as black diamonds where a row has a value.
    """
    metrics = check_columns("metrics", metrics)
    runs = _runs(runs, [label], metrics)
    labels = _order(runs, label, order)
    runs = runs[runs[label].isin(labels)]
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics) + 1.5, 0.32 * len(labels) + 1.2),
                             sharey=True, layout="constrained", squeeze=False)
    y = np.arange(len(labels))
    ref = reference.set_index(label) if reference is not None else None
    for ax, m, t in zip(axes[0], metrics, titles, strict=False):
        sns.barplot(runs, x=m, y=label, order=labels, orient="y", errorbar=t_errorbar(confidence),
                    color="tab:blue", alpha=0.8, capsize=0.3, err_kws={"linewidth": 1}, label="this reproduction",
                    ax=ax)
        if ref is not None and m in ref.columns:
            vals = ref[m].reindex(labels).to_numpy(dtype=float)
            ok = np.isfinite(vals)
            ax.plot(vals[ok], y[ok], "kD", markersize=4, label=reference_name)
        ax.set_title(t, fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.grid(alpha=0.3, axis="x")
        if ax.get_legend() is not None:
            ax.get_legend().remove()
    handles = dict(zip(*reversed(axes[0][0].get_legend_handles_labels()), strict=True))  # name → handle
    names = [n for n in ("this reproduction", reference_name) if n in handles]
    fig.legend([handles[n] for n in names], names, frameon=False, fontsize=8, loc="outside lower center",
               ncols=len(names))
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


# ------------------------------------------------------------------- measuring forgetting (chapter 3)
def histogram_panels(panels: dict[str, dict[str, np.ndarray]], *, bins: int = 30,
                     range_: tuple[float, float] | None = None, xlabel: str = "", density: bool = True,
                     suptitle: str | None = None, panel_size: tuple[float, float] = (3.4, 2.9)):
    """One :func:`histograms` panel per entry of ``panels`` (title → {sample name → values}), side by side.

    All panels share the bins: ``range_`` defaults to the smallest and largest value over every sample,
    so the panels can be compared by eye (e.g. confidences of forget / retain / test under the original,
    retrained and unlearned models). The y axes are shared too.
    """
    _mapping("panels", panels)
    if any(not isinstance(samples, Mapping) or not samples for samples in panels.values()):
        raise ValueError("histogram_panels needs at least one panel, each with at least one sample")
    values = [np.asarray(v, dtype=float).ravel() for samples in panels.values() for v in samples.values()]
    if any(v.size == 0 for v in values):
        raise ValueError("histogram_panels got an empty sample")
    if range_ is None:
        lo = min(float(v.min()) for v in values)
        hi = max(float(v.max()) for v in values)
        range_ = (lo, hi if hi > lo else lo + 1.0)
    n = len(panels)
    fig, axes = plt.subplots(1, n, figsize=(panel_size[0] * n, panel_size[1]), sharex=True, sharey=True,
                             squeeze=False, layout="constrained")
    for ax, (title, samples) in zip(axes[0], panels.items(), strict=True):
        histograms(samples, bins=bins, ax=ax, title=title, xlabel=xlabel, range_=range_, density=density)
    for ax in axes[0][1:]:
        ax.set_ylabel("")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def interval_dots(runs: pd.DataFrame, metric: str, *, label: str = "method", order: Sequence | None = None,
                  target: float | None = None, target_ci: float | None = None, target_label: str = "target",
                  confidence: float = 0.95, ax=None, xlabel: str | None = None, title: str | None = None):
    """Mean ± Student-t ``confidence`` interval of ``metric`` over the per-seed ``runs``, one dot with a
    horizontal bar per value of ``runs[label]`` (``order``, or first appearance; first on top), drawn by
    seaborn with :func:`rum_core.stats.t_errorbar` so the bars are the tables' intervals. An optional
    reference: a vertical line at ``target`` and a shaded band of ± ``target_ci`` around it (e.g. the
    retrained model's MIA efficacy, which an unlearned model should match rather than exceed)."""
    runs = _runs(runs, [label], [metric])
    order = _order(runs, label, order)
    fig, ax = _axes(ax, (5.0, 0.8 + 0.35 * len(order)))
    if target is not None:
        if target_ci is not None and np.isfinite(target_ci) and target_ci > 0:
            ax.axvspan(target - target_ci, target + target_ci, color="0.85", zorder=0)
        ax.axvline(target, color="0.3", linestyle="--", linewidth=1, label=target_label, zorder=1)
    sns.pointplot(runs, x=metric, y=label, order=order, orient="y", errorbar=t_errorbar(confidence),
                  linestyle="none", capsize=0.3, err_kws={"linewidth": 1}, markersize=5, ax=ax)
    if target is not None:
        ax.legend(frameon=False, fontsize=8, loc="best")
    ax.set_xlabel(metric if xlabel is None else xlabel)
    ax.set_ylabel("")
    ax.grid(alpha=0.3, axis="x")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


# ------------------------------------------------------------------------------------ entanglement (chapter 4)

def umap_2d(embeddings, *, random_state: int = 0, n_neighbors: int = 15, min_dist: float = 0.1) -> np.ndarray:
    """2-D UMAP coordinates (umap-learn) of (n, d) embeddings, reproducible for a fixed ``random_state``.

    For pictures only: distances in a UMAP are not the distances ES is computed from.

    UMAP runs with numba and every BLAS/OpenMP pool limited to one thread (``numba.set_num_threads`` and
    ``threadpoolctl.threadpool_limits``, restored afterwards): with numba's worker threads left free
    alongside torch's, every later training run in the process was several times slower on 2 cores. With
    the limits, training after a UMAP runs as fast as before it (measured on digits, 2 cores: 0.95–1.09× the
    time of the same run before), and the coordinates equal those of an unrestricted UMAP in a fresh
    process (a seeded UMAP runs single-threaded anyway).
    """
    import warnings

    import numba
    from threadpoolctl import threadpool_limits

    x = np.asarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or len(x) <= n_neighbors:
        raise ValueError(f"embeddings must be (n, d) with n > n_neighbors = {n_neighbors}, got shape {x.shape}")
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        with threadpool_limits(limits=1), warnings.catch_warnings():
            # umap-learn warns that a fixed random_state disables its parallelism: that is the point here
            warnings.filterwarnings("ignore", message=".*n_jobs.*", category=UserWarning)
            import umap

            reducer = umap.UMAP(n_components=2, n_neighbors=int(n_neighbors), min_dist=float(min_dist),
                                random_state=int(random_state), n_jobs=1)
            return reducer.fit_transform(x).astype(np.float64)
    finally:
        numba.set_num_threads(previous)


def forget_retain_maps(coords, forget_sets, *, titles: Sequence[str] | None = None, ncols: int = 3,
                       size: float = 3.0, point_size: float = 6.0, suptitle: str | None = None):
    """One panel per forget set: every point of ``coords`` in grey (the retain set), the set's points in red.

    Args:
        coords: (n, 2) positions of all examples (e.g. :func:`umap_2d` of the embeddings).
        forget_sets: label → indices into ``coords``, one panel each, in order.
        titles: one title per panel (default: the labels).
    """
    xy = check_array("coords", coords, 2)
    if xy.shape[1] != 2:
        raise ValueError(f"coords must be (n, 2), got shape {xy.shape}")
    _mapping("forget_sets", forget_sets)
    labels = list(forget_sets)
    if titles is not None and len(titles) != len(labels):
        raise ValueError(f"titles has {len(titles)} entries for {len(labels)} forget sets")
    sets = [check_indices(f"forget_sets[{k!r}]", forget_sets[k], len(xy), allow_empty=False) for k in labels]
    fig, axes = _panel_grid(len(labels), ncols, (size, size))
    for i, ax in enumerate(axes.flat[:len(labels)]):
        idx = sets[i]
        mask = np.zeros(len(xy), dtype=bool)
        mask[idx] = True
        ax.scatter(*xy[~mask].T, s=point_size, c="0.75", linewidths=0, label="retain")
        ax.scatter(*xy[mask].T, s=point_size * 2, c="tab:red", linewidths=0, label="forget")
        ax.set_title(str(titles[i] if titles is not None else labels[i]), fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes.flat[0].legend(frameon=False, fontsize=8, markerscale=2, loc="best")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def metric_by_level(runs: pd.DataFrame, *, metric: str = "tow", level: str = "level", series: str = "method",
                    confidence: float = 0.95, ax=None, title: str | None = None, ylabel: str | None = None,
                    xlabel: str | None = None):
    """Mean ± Student-t ``confidence`` interval of ``metric`` over the per-seed ``runs`` across the levels
    (x axis), one line per value of ``series``, drawn by seaborn with :func:`rum_core.stats.t_errorbar`
    (the intervals of ``stats.summarize(runs, [level, series], [metric])``).

    The levels keep their order of first appearance (or their category order when ``level`` is an ordered
    categorical); the lines are dodged slightly along x so that the interval bars do not hide each other.
    """
    runs = _runs(runs, [level, series], [metric])
    fig, ax = _axes(ax, (6.0, 3.8))
    levels = _order(runs, level, None)
    sns.pointplot(runs, x=level, y=metric, hue=series, order=levels, hue_order=_order(runs, series, None),
                  errorbar=t_errorbar(confidence), dodge=0.3, capsize=0.1, markersize=4, linewidth=1.2,
                  err_kws={"linewidth": 1}, ax=ax)
    ax.set_xticks(range(len(levels)), [str(lv) for lv in levels])
    ax.set_xlabel(xlabel if xlabel is not None else level)
    ax.set_ylabel(ylabel if ylabel is not None else metric)
    ax.grid(alpha=0.3)
    sns.move_legend(ax, "best", frameon=False, fontsize=7, ncols=2, title=None)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def es_by_group(curves, *, picks=None, n_pick_groups: int = 15, ax=None, title: str | None = None,
                logy: bool = True):
    """ES of every distance-to-centroid group against its relative position, one line per curve.

    Args:
        curves: name → ES of groups 0..k−1 (nearest the centroid first), as a (k,) array or a (seeds, k)
            array whose mean is drawn with a 95% interval band; group g is drawn at x = (g + ½)/k, so
            curves with different k share the axis.
        picks: label → group index among ``n_pick_groups`` groups (e.g. the paper's 3 / 12 / 14 of 15),
            marked with dotted vertical lines.
    """
    from .stats import mean_ci

    fig, ax = _axes(ax, (6.0, 3.6))
    _mapping("curves", curves)
    for name, values in curves.items():
        v = np.asarray(values, dtype=float)
        v = v[None, :] if v.ndim == 1 else v
        if v.ndim != 2 or v.shape[1] == 0:
            raise ValueError(f"curve {name!r} must be a (k,) or (seeds, k) array, got shape {np.shape(values)}")
        k = v.shape[1]
        x = (np.arange(k) + 0.5) / k
        stats = [mean_ci(v[:, g]) for g in range(k)]
        mean = np.array([m for m, _ in stats])
        (line,) = ax.plot(x, mean, marker="o", markersize=3, label=str(name))
        half = np.array([h for _, h in stats])
        if np.isfinite(half).all():
            lo = mean - half
            if logy:
                lo = np.maximum(lo, mean * 0.05)
            ax.fill_between(x, lo, mean + half, color=line.get_color(), alpha=0.15, linewidth=0)
    for label, g in (picks or {}).items():
        ax.axvline((g + 0.5) / n_pick_groups, color="0.4", linestyle=":", linewidth=1)
        ax.annotate(str(label), ((g + 0.5) / n_pick_groups, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(2, -10), textcoords="offset points", fontsize=8, color="0.3")
    if logy:
        ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.set_xlabel("group position by distance to the centroid (0 = nearest, 1 = farthest)")
    ax.set_ylabel("ES of the group vs the rest")
    ax.grid(alpha=0.3, which="both")
    ax.legend(frameon=False, fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


# ------------------------------------------------------------------- memorization (chapter 5)
def scatter_panels(x, ys: dict[str, np.ndarray], *, xlabel: str = "", ncols: int = 3,
                   panel_size: tuple[float, float] = (2.8, 2.5), suptitle: str | None = None):
    """One scatter per entry of ``ys`` (name → values) against the same ``x``, with the Spearman rank
    correlation of the pair in each panel's title (NaN pairs dropped), e.g. proxies against an estimate."""
    from scipy.stats import spearmanr

    _mapping("ys", ys)
    xv = check_array("x", x, 1, allow_nan=True)
    fig, axes = _panel_grid(len(ys), ncols, panel_size)
    for ax, (name, values) in zip(axes.flat, ys.items(), strict=False):
        yv = np.asarray(values, dtype=float).ravel()
        if yv.shape != xv.shape:
            raise ValueError(f"ys[{name!r}] has {yv.size} values but x has {xv.size}")
        ok = np.isfinite(xv) & np.isfinite(yv)
        rho = spearmanr(xv[ok], yv[ok]).statistic if ok.sum() > 1 else np.nan
        ax.scatter(xv[ok], yv[ok], s=5, alpha=0.4)
        ax.set_title(f"{name}  (Spearman {rho:.2f})", fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.grid(alpha=0.3)
    if suptitle:
        fig.suptitle(suptitle)
    return fig



# ------------------------------------------------------------------- measuring forgetting (chapter 3): panels
def roc_panels(panels: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]], *, min_fpr: float = 1e-3,
               panel_size: tuple[float, float] = (4.75, 4.2)):
    """One :func:`roc_curves` panel per entry of ``panels`` (title → {curve name → (fpr, tpr)}), side by side
    on log–log axes, e.g. membership inference (LiRA) next to its unlearning version (U-LiRA)."""
    _mapping("panels", panels)
    for title, curves in panels.items():
        _mapping(f"panels[{title!r}]", curves)
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_size[0] * len(panels), panel_size[1]), squeeze=False,
                             layout="constrained")
    try:
        for ax, (title, curves) in zip(axes[0], panels.items(), strict=True):
            roc_curves(curves, ax=ax, title=str(title), min_fpr=min_fpr)
    except (TypeError, ValueError):
        plt.close(fig)  # a bad curve: no half-drawn figure left open
        raise
    return fig


def interval_dots_panels(runs: pd.DataFrame, metrics: dict[str, str], *, label: str = "method",
                         order: Sequence | None = None, confidence: float = 0.95, panel_width: float = 4.5):
    """One :func:`interval_dots` panel per entry of ``metrics`` (metric → x-axis label), side by side with a
    shared y axis, so the same ``runs[label]`` values (``order``, or first appearance; first on top) can be
    read across, e.g. ToW next to ToW-MIA."""
    _mapping("metrics", metrics)
    runs = _runs(runs, [label], check_columns("metrics", list(metrics)))
    order = _order(runs, label, order)
    fig, axes = plt.subplots(1, len(metrics), figsize=(panel_width * len(metrics), 0.8 + 0.35 * len(order)),
                             sharey=True, squeeze=False, layout="constrained")
    for ax, (metric, xlabel) in zip(axes[0], metrics.items(), strict=True):
        interval_dots(runs, metric, label=label, order=order, confidence=confidence, ax=ax, xlabel=str(xlabel))
    return fig


# ------------------------------------------------------------------- entanglement panels (chapter 4)
def metric_by_level_panels(runs: pd.DataFrame, *, panel: str, metric: str = "tow", level: str = "level",
                           series: str = "method", level_names: Mapping | None = None, panel_title: str = "{}",
                           sharey: bool = True, confidence: float = 0.95, ylabel: str | None = None,
                           xlabel: str | None = None, panel_size: tuple[float, float] = (5.5, 4.0)):
    """One :func:`metric_by_level` panel per value of ``runs[panel]`` (first appearance first), side by side.

    Args:
        runs: per-seed runs with the columns ``panel``, ``level``, ``series`` and a numeric ``metric``.
        panel: the column whose values split the runs into panels (e.g. ``"procedure"``).
        level_names: optional panel value → level → the tick label to show for that level in that panel
            (e.g. the level with its mean measured ES); every level of the panel must have one.
        panel_title: the title of each panel, ``{}`` standing for the panel's value.
        sharey: whether the panels share the y axis (so they can be compared by eye).
    """
    runs = _runs(runs, [panel, level, series], [metric])
    if level_names is not None:
        _mapping("level_names", level_names)
    panels = _order(runs, panel, None)
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_size[0] * len(panels), panel_size[1]), sharey=sharey,
                             squeeze=False, layout="constrained")
    for ax, value in zip(axes[0], panels, strict=True):
        sub = runs[runs[panel] == value].copy()
        if level_names is not None:
            names = level_names.get(value)
            missing = [lv for lv in dict.fromkeys(sub[level]) if not isinstance(names, Mapping) or lv not in names]
            if missing:
                raise ValueError(f"level_names[{value!r}] has no label for the level(s) {missing}")
            sub[level] = sub[level].map(lambda lv, m=names: m[lv])
        metric_by_level(sub, metric=metric, level=level, series=series, confidence=confidence, ax=ax,
                        title=panel_title.format(value), ylabel=ylabel, xlabel=xlabel)
    return fig


def es_by_group_panels(panels: Mapping, *, picks: Mapping | None = None, n_pick_groups: int = 15,
                       logy: bool = True, panel_size: tuple[float, float] = (5.5, 3.8)):
    """One :func:`es_by_group` panel per entry of ``panels`` (title → curves), side by side.

    Args:
        panels: panel title → curves (name → (k,) or (seeds, k) ES of every distance group), e.g. one panel
            of embedding layers and one of group counts.
        picks: optional panel title → picks (label → group index among ``n_pick_groups``) to mark in that
            panel; a panel without an entry has none marked.
    """
    _mapping("panels", panels)
    picks = {} if picks is None else picks
    if not isinstance(picks, Mapping):
        raise TypeError(f"picks must be a mapping panel title → picks, got {type(picks).__name__}")
    unknown = [title for title in picks if title not in panels]
    if unknown:
        raise ValueError(f"picks names panels that do not exist: {unknown}; the panels are {list(panels)}")
    fig, axes = plt.subplots(1, len(panels), figsize=(panel_size[0] * len(panels), panel_size[1]), squeeze=False,
                             layout="constrained")
    for ax, (title, curves) in zip(axes[0], panels.items(), strict=True):
        es_by_group(curves, picks=picks.get(title), n_pick_groups=n_pick_groups, ax=ax, title=str(title), logy=logy)
    return fig


# ------------------------------------------------------------------- memorized examples (chapter 5)
def labelled_images(images, labels, scores, *, class_names: Sequence[str], predictions=None, ncols: int = 10,
                    size: float = 1.0, suptitle: str | None = None):
    """:func:`image_grid` of (N, H, W, C) images, each titled with its class name and its score (2 decimals):
    ``"7  0.93"``, or with ``predictions`` (what some model predicts for each image) ``"7→1  0.93"``, e.g. the
    most memorized examples with what a model that never saw them predicts.

    Raises:
        TypeError / ValueError: bad images (as :func:`image_grid`), ``scores`` not one finite number per image,
            ``labels`` / ``predictions`` not one integer class per image within ``class_names``.
    """
    from .validation import check_labels

    images = check_array("images", images, 4)
    scores = check_array("scores", scores, 1)
    if isinstance(class_names, str) or not isinstance(class_names, Sequence) or not class_names:
        raise TypeError(f"class_names must be a non-empty sequence of names, got {class_names!r}")
    classes = {"labels": labels} if predictions is None else {"labels": labels, "predictions": predictions}
    for name, values in classes.items():
        arr = check_labels(name, values)
        if len(arr) != len(images):
            raise ValueError(f"{name} has {len(arr)} entries for {len(images)} images")
        if arr.size and (arr.min() < 0 or arr.max() >= len(class_names)):
            raise ValueError(f"{name} must lie in [0, {len(class_names)}) (one per class name), got "
                             f"{arr.min()} … {arr.max()}")
        classes[name] = [str(class_names[c]) for c in arr]
    if len(scores) != len(images):
        raise ValueError(f"scores has {len(scores)} entries for {len(images)} images")
    heads = classes["labels"] if predictions is None else \
        [f"{a}→{b}" for a, b in zip(classes["labels"], classes["predictions"], strict=True)]
    titles = [f"{head}  {score:.2f}" for head, score in zip(heads, scores, strict=True)]
    return image_grid(images, titles, ncols=ncols, size=size, suptitle=suptitle)


def sequences_by_class(sequences, labels, *, class_names: Sequence[str], per_class: int = 3, ncols: int = 5,
                       size: float = 1.8, suptitle: str | None = None):
    """One panel per class with the first ``per_class`` sequences of that class drawn as lines (value against
    position), e.g. MNIST-1D's 1-D "digits"; ``sequences`` is (N, L), or (N, 1, 1, L) as the datasets store
    them. A class with fewer sequences shows those it has; a class with none gets an empty, titled panel.

    Raises:
        TypeError / ValueError: ``sequences`` not (N, L) or (N, 1, 1, L) finite numbers, ``labels`` not one
            class index per sequence within ``class_names``, ``per_class`` / ``ncols`` not positive integers.
    """
    from .validation import check_int, check_labels

    arr = _sequences(sequences)
    y = check_labels("labels", labels)
    if len(y) != len(arr):
        raise ValueError(f"labels has {len(y)} entries for {len(arr)} sequences")
    if isinstance(class_names, str) or not isinstance(class_names, Sequence) or not class_names:
        raise TypeError(f"class_names must be a non-empty sequence of names, got {class_names!r}")
    if y.min() < 0 or y.max() >= len(class_names):
        raise ValueError(f"labels must lie in [0, {len(class_names)}) (one per class name), got {y.min()} … {y.max()}")
    per_class, ncols = check_int("per_class", per_class, low=1), check_int("ncols", ncols, low=1)
    n_classes = len(class_names)
    nrows = -(-n_classes // ncols)
    fig, axes = plt.subplots(nrows, min(ncols, n_classes), figsize=(size * min(ncols, n_classes), size * 0.8 * nrows),
                             sharex=True, sharey=True, layout="constrained", squeeze=False)
    position = np.arange(arr.shape[1])
    for c, ax in enumerate(axes.flat):
        if c >= n_classes:
            ax.set_visible(False)
            continue
        for k, i in enumerate(np.flatnonzero(y == c)[:per_class]):
            ax.plot(position, arr[i], linewidth=1.0, color=plt.cm.tab10(k % 10))
        ax.set_title(str(class_names[c]), fontsize=9)
        ax.tick_params(labelsize=7)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    return fig


def _sequences(sequences) -> np.ndarray:
    """``sequences`` as an (N, L) float array: (N, L) as given, or (N, 1, 1, L) (one channel, height 1)."""
    arr = np.asarray(sequences.detach().cpu() if hasattr(sequences, "detach") else sequences)
    if arr.ndim == 4 and arr.shape[1:3] == (1, 1):
        arr = arr[:, 0, 0, :]
    if arr.ndim != 2:
        raise ValueError(f"sequences must be (N, L) or (N, 1, 1, L), got shape {arr.shape}")
    return check_array("sequences", arr, 2)
