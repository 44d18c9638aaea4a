"""The figures the chapters show. Each function draws on an optional ``ax`` and returns the figure."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["image_grid", "grouped_bars", "tow_vs_cost", "histograms", "roc_curves"]


def _axes(ax, figsize):
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def image_grid(images: np.ndarray, titles: Sequence[str] | None = None, *, ncols: int = 10,
               size: float = 1.0, suptitle: str | None = None):
    """Show (N, H, W, C) images in [0, 1] (see ``DataBundle.to_display``) in a grid with optional titles."""
    images = np.asarray(images)
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15), squeeze=False,
                             layout="constrained")
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            img = images[i]
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray_r" if img.shape[-1] == 1 else None,
                      vmin=0, vmax=1)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def grouped_bars(summary: pd.DataFrame, *, group: str, metrics: Sequence[str], labels: Sequence[str] | None = None,
                 ylabel: str = "", ylim: tuple[float, float] | None = None, ax=None, title: str | None = None):
    """Bars of ``summary[metric]`` for each metric, grouped by ``summary[group]``, with ``<metric>_ci`` error bars.

    ``summary`` is what :func:`rum_core.stats.summarize` returns.
    """
    fig, ax = _axes(ax, (1.6 + 1.1 * len(metrics) * len(summary) / 3, 3.2))
    groups = list(summary[group])
    width = 0.8 / len(groups)
    x = np.arange(len(metrics))
    for i, (_, row) in enumerate(summary.iterrows()):
        means = [row[m] for m in metrics]
        errs = [row.get(f"{m}_ci", np.nan) for m in metrics]
        errs = [0.0 if not np.isfinite(e) else e for e in errs]
        ax.bar(x + (i - (len(groups) - 1) / 2) * width, means, width, yerr=errs, capsize=3, label=str(groups[i]))
    ax.set_xticks(x, labels or metrics)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.legend(frameon=False, fontsize=8, ncols=min(4, len(groups)))
    if title:
        ax.set_title(title)
    return fig


def tow_vs_cost(summary: pd.DataFrame, *, label: str = "method", x: str = "rel_grad_evals", y: str = "tow",
                ax=None, title: str | None = None, xlabel: str = "cost relative to retrain (gradient evaluations)",
                ylabel: str = "ToW"):
    """Scatter of quality (``y``) against cost (``x``, log scale) with 95% interval bars, one point per row."""
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
    fig, ax = _axes(ax, (4.5, 4.0))
    grid = np.logspace(np.log10(min_fpr), 0, 50)
    ax.plot(grid, grid, "k--", linewidth=1, label="chance")
    for name, (fpr, tpr) in curves.items():
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
