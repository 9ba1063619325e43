"""Query strategies: pure score functions plus seeded batch selection.

Higher score = more informative, for every strategy.
"""

from .base import (
    QueryContext,
    RandomStrategy,
    ScoreStrategy,
    Strategy,
    UncertaintyStrategy,
    available_strategies,
    get_strategy,
    register,
    top_k,
)
from .uncertainty import entropy, least_confidence, margin

__all__ = [
    "QueryContext",
    "RandomStrategy",
    "ScoreStrategy",
    "Strategy",
    "UncertaintyStrategy",
    "available_strategies",
    "entropy",
    "get_strategy",
    "least_confidence",
    "margin",
    "register",
    "top_k",
]
