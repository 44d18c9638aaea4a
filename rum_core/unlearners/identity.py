"""Identity: do nothing and return (a copy of) the original model.

The "no unlearning" baseline every table needs, and the step RUM applies to low-memorization subsets
(Zhao et al. 2024 found those need no unlearning at all).
"""

from __future__ import annotations

from .base import UnlearnContext, Unlearner, register


@register
class Identity(Unlearner):
    name = "identity"
    defaults: dict = {}

    def _unlearn(self, ctx: UnlearnContext) -> None:
        return None
