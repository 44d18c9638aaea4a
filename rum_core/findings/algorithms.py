"""What chapter 2 (``book/02_algorithms.ipynb``, "The unlearning algorithms") cites: the methods ranked by
Tug-of-War on random forget sets, against doing nothing."""

from __future__ import annotations

from ._summary import by_method, n_seeds

__all__ = ["ranking"]


def ranking(summary) -> dict[str, object]:
    """The ranking of the unlearning methods by mean ToW that the chapter states under its ToW-vs-cost figure.

    Args:
        summary: one row per method (``stats.summarize(runs, "method", [..., "tow", "rel_grad_evals"])``, with
            its ``n`` column), including ``retrain`` (the reference, which is not ranked) and ``identity``
            (doing nothing: the bar every method must clear, not itself a contender).

    Returns:
        In order, the chapter's glue names:

        * ``n_seeds``: how many seeds every mean averages (``summary["n"]``);
        * ``best_method``, ``best_tow``: the method with the highest mean ToW (ties: the earlier row) and that
          ToW;
        * ``best_cost``: its cost in per-example gradient evaluations, as a percentage of retraining's — the
          price of the best quality;
        * ``worst_method``, ``worst_tow``: the method with the lowest mean ToW (ties: the later row) and that
          ToW;
        * ``identity_tow``: the mean ToW of doing nothing; on a random forget set it is already high, which is
          why the prose compares every method with it;
        * ``n_beat_identity``, ``n_methods``: how many of the ranked methods (all but ``retrain`` and
          ``identity``) have a mean ToW strictly above ``identity_tow``, out of how many;
        * ``beat_identity``: those methods as inline code, best first, comma-separated (``"none"`` if none).

    Raises:
        TypeError: ``summary`` is not a DataFrame or its ``tow``, ``rel_grad_evals`` or ``n`` hold no numbers.
        ValueError: a column missing, a method listed twice, ``retrain`` or ``identity`` missing, no other
            method to rank, a NaN ToW, or rows averaging different numbers of seeds.
    """
    by = by_method("summary", summary, ["tow", "rel_grad_evals"], rows=["retrain", "identity"])
    seeds = n_seeds("summary", summary)
    unknown = by.index[by["tow"].isna()].tolist()
    if unknown:
        raise ValueError(f"summary['tow'] is NaN for {unknown}: a method without a ToW cannot be ranked")
    # best first; a stable sort keeps the table's order among equal means
    by = by.sort_values("tow", ascending=False, kind="stable")
    ranked = [m for m in by.index if m not in ("retrain", "identity")]
    if not ranked:
        raise ValueError("summary has no method to rank besides 'retrain' and 'identity'")
    best, worst = ranked[0], ranked[-1]
    identity_tow = float(by.loc["identity", "tow"])
    beat_identity = [m for m in ranked if by.loc[m, "tow"] > by.loc["identity", "tow"]]
    return {
        "n_seeds": seeds,
        "best_method": str(best),
        "best_tow": float(by.loc[best, "tow"]),
        "best_cost": float(100 * by.loc[best, "rel_grad_evals"]),
        "worst_method": str(worst),
        "worst_tow": float(by.loc[worst, "tow"]),
        "identity_tow": identity_tow,
        "n_beat_identity": len(beat_identity),
        "n_methods": len(ranked),
        "beat_identity": ", ".join(f"`{m}`" for m in beat_identity) or "none",
    }
