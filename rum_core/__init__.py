"""rum_core: entanglement, memorization and RUM for machine unlearning.

A tested reproduction and extension of Zhao, Kurmanji, Barbulescu, E. Triantafillou and P. Triantafillou,
"What makes unlearning hard and what to do about it" (NeurIPS 2024).
"""

__version__ = "0.1.0"
