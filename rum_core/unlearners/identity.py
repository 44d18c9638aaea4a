"""Identity (:class:`Identity`): no unlearning, the baseline and RUM's step for low-memorization subsets."""

from __future__ import annotations

from .base import PAPER, UnlearnContext, Unlearner, register


@register
class Identity(Unlearner):
    """Identity: do nothing and return (a copy of) the original model.

    The "no unlearning" baseline every table needs, and the step RUM applies to low-memorization subsets
    (Zhao et al. 2024 found those need no unlearning at all).
    """

    name = "identity"
    loss = "none: θ is returned unchanged (as a copy)"
    citation = f"{PAPER}: RUM leaves its low-memorization subsets to it"
    defaults: dict = {}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        return None
