"""The figures the chapters show. Each function draws on an optional ``ax`` and returns the figure."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

__all__ = ["image_grid", "grouped_bars"]


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
