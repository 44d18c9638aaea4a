"""The entanglement score (ES) of Zhao et al. (2024): how mixed a forget set S and a retain set R are in
the original model's embedding space.

With φ the penultimate-layer embedding of the original model, μ_R and μ_S the (exact) means of R and S and
μ a reference center,

    ES(R, S) = [mean_{i∈R} ‖φ_i − μ_R‖² + mean_{i∈S} ‖φ_i − μ_S‖²] / [½ (‖μ_R − μ‖² + ‖μ_S − μ‖²)]

i.e. within-set spread over between-set separation: a higher ES means the two sets are more entangled.

``center="midpoint"`` (the default) takes μ = (μ_R + μ_S)/2 as the authors' code does; the denominator is
then ‖μ_R − μ_S‖²/4, so ES = 4(σ²_R + σ²_S)/‖μ_R − μ_S‖² with σ²_X = mean_X ‖φ − μ_X‖².
``center="global"`` takes μ = the mean over R ∪ S (weighted by the set sizes); with n = |R| + |S| the
denominator is then ½ (|S|² + |R|²)/n² · ‖μ_R − μ_S‖².

Both denominators are computed from Δ = μ_R − μ_S directly, so the score is exactly a function of the two
sets' spreads and of their mean difference (invariant to translating or rotating all embeddings).
The means are exact means over each set in float64 (the authors' code averages per-batch means, which is
not the mean when the last batch is smaller); the spreads use deviations from the mean with the
corrected two-pass formula, not E‖φ‖² − ‖E φ‖².

When μ_R = μ_S (to float64 precision) ES is infinite: :func:`entanglement_score` raises rather than
returning ``inf``.
"""

from __future__ import annotations

import numpy as np

from ..validation import check_array

__all__ = ["entanglement_score", "entanglement_of", "ES_CENTERS"]

#: Valid values of ``center``.
ES_CENTERS = ("midpoint", "global")

# Means closer than this many float64 ulps of the embeddings' magnitude are treated as identical.
_SAME_MEAN_ULPS = 1024.0


def _embeddings(name: str, x) -> np.ndarray:
    arr = check_array(name, x, 2)
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has embedding dimension 0 (shape {arr.shape})")
    return arr


def _mean_and_spread(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact mean of the rows and mean squared distance of the rows to it (corrected two-pass)."""
    mu = x.mean(axis=0)
    dev = x - mu
    correction = dev.mean(axis=0)  # ≈ 0; removes the rounding error left in ``mu``
    spread = float(np.einsum("ij,ij->", dev, dev) / len(x) - correction @ correction)
    return mu + correction, max(spread, 0.0)


def _check_center(center) -> str:
    if not isinstance(center, str) or center not in ES_CENTERS:
        raise ValueError(f"center must be one of {list(ES_CENTERS)}, got {center!r}")
    return center


def entanglement_score(retain_emb, forget_emb, *, center: str = "midpoint") -> float:
    """ES(R, S) of retain embeddings ``retain_emb`` (n_R, d) and forget embeddings ``forget_emb`` (n_S, d).

    Args:
        retain_emb, forget_emb: finite float arrays (numpy, CPU tensors or nested lists) with the same
            number of columns ``d``; at least one row each.
        center: ``"midpoint"`` (μ = (μ_R + μ_S)/2, the authors' code; default) or ``"global"``
            (μ = mean over R ∪ S).

    Returns:
        ES as a float ≥ 0 (0 only when both sets are single points or all points of each set coincide).

    Raises:
        TypeError: for non-numeric input.
        ValueError: naming the argument, for an empty set, an array that is not 2-D, mismatched embedding
            dimensions, NaN/inf, an unknown ``center``, or means that coincide (ES would be infinite).
    """
    center = _check_center(center)
    r = _embeddings("retain_emb", retain_emb)
    s = _embeddings("forget_emb", forget_emb)
    if r.shape[1] != s.shape[1]:
        raise ValueError(f"forget_emb has embedding dimension {s.shape[1]} but retain_emb has {r.shape[1]}")
    mu_r, var_r = _mean_and_spread(r)
    mu_s, var_s = _mean_and_spread(s)
    delta = mu_r - mu_s
    sep = float(delta @ delta)
    scale = max(float(np.abs(r).max()), float(np.abs(s).max()))
    tol = _SAME_MEAN_ULPS * np.finfo(np.float64).eps * scale * np.sqrt(r.shape[1])
    if sep == 0.0 or np.sqrt(sep) <= tol:
        raise ValueError(f"retain_emb and forget_emb have the same mean (‖μ_R − μ_S‖ = {np.sqrt(sep):.3g}, "
                         f"within float64 rounding of embeddings of magnitude {scale:.3g}): ES is infinite")
    if center == "midpoint":
        denom = sep / 4.0
    else:
        n_r, n_s = len(r), len(s)
        n = n_r + n_s
        denom = 0.5 * ((n_s / n) ** 2 + (n_r / n) ** 2) * sep
    return float((var_r + var_s) / denom)


def entanglement_of(model, bundle, forget_idx, retain_idx=None, *, center: str = "midpoint") -> float:
    """ES of a forget set in ``model``'s embedding of ``bundle.train`` (eval mode, no augmentation).

    ``retain_idx`` defaults to every training example not in ``forget_idx`` (see
    :func:`rum_core.data.check_split`, which also validates the indices). ``model`` should be the original
    model θᵒ, whose embedding the paper uses.
    """
    from ..data import check_split
    from ..models import embed

    center = _check_center(center)
    forget, retain = check_split(len(bundle.train), forget_idx, retain_idx)
    if retain.size == 0:
        raise ValueError("retain_idx is empty: ES needs a retain set")
    emb = embed(model, bundle.train.x)
    return entanglement_score(emb[retain], emb[forget], center=center)
