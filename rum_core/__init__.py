"""rum_core: entanglement, memorization and RUM for machine unlearning.

A tested reproduction and extension of Zhao, Kurmanji, Barbulescu, E. Triantafillou and P. Triantafillou,
"What makes unlearning hard and what to do about it" (NeurIPS 2024).
"""

from importlib.metadata import PackageNotFoundError, version

try:  # pyproject.toml's version is the one source; a source tree that was never installed has none
    __version__ = version("rum_core")
except PackageNotFoundError:  # pragma: no cover - only outside an installation
    __version__ = "0+unknown"
del PackageNotFoundError, version
