"""Query strategies: pure score functions plus seeded batch selection.

Higher score = more informative, for every strategy. Every registered name below is
selectable in :class:`~alwidget.Session` and the widget; every score function also works on
plain numpy arrays. The deep methods (MC-dropout entropy, variation ratios, mean std, BALD as
in DBAL, BatchBALD, VAAL; :mod:`alwidget.strategies.deep`) need the ``deep`` extra (torch) and
:class:`alwidget.models.MCDropoutClassifier` as the estimator; see docs/deep.md.
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
from .committee import (
    BALD,
    QueryByCommittee,
    bald,
    committee_proba,
    committee_votes,
    consensus_kl,
    fit_committee,
    kl_divergence,
    vote_entropy,
)
from .contrastive import CAL, cal_scores
from .density import InformationDensity, information_density, outlier_scores, pool_similarity
from .discriminative import DAL, dal_scores
from .diversity import ClusterBatch, Coreset, cluster_batch, covering_radius, k_center_greedy
from .expected_error import EER, expected_error_reduction
from .gradient import EGL, Badge, badge_select, egl
from .uncertainty import entropy, least_confidence, margin
from .wrappers import (
    CostWeighted,
    DiverseTopK,
    OutlierFilter,
    PseudoLabeling,
    ceal_pseudo_labels,
)

register("vote_entropy", lambda: QueryByCommittee("vote_entropy"))
register("kl_divergence", lambda: QueryByCommittee("consensus_kl", name="kl_divergence"))
register("consensus_kl", lambda: QueryByCommittee("consensus_kl", name="consensus_kl"))
register("bald", BALD)
register("egl", EGL)
register("eer", EER)
register("information_density", InformationDensity)
register("coreset", Coreset)
register("badge", Badge)
register("cluster_batch", ClusterBatch)
register("cal", CAL)
register("dal", DAL)

__all__ = [
    "BALD",
    "CAL",
    "DAL",
    "EER",
    "EGL",
    "Badge",
    "CostWeighted",
    "ClusterBatch",
    "Coreset",
    "DiverseTopK",
    "InformationDensity",
    "OutlierFilter",
    "PseudoLabeling",
    "QueryByCommittee",
    "QueryContext",
    "RandomStrategy",
    "ScoreStrategy",
    "Strategy",
    "UncertaintyStrategy",
    "available_strategies",
    "badge_select",
    "bald",
    "cal_scores",
    "ceal_pseudo_labels",
    "cluster_batch",
    "committee_proba",
    "committee_votes",
    "consensus_kl",
    "covering_radius",
    "dal_scores",
    "egl",
    "entropy",
    "expected_error_reduction",
    "fit_committee",
    "get_strategy",
    "information_density",
    "k_center_greedy",
    "kl_divergence",
    "least_confidence",
    "margin",
    "outlier_scores",
    "pool_similarity",
    "register",
    "top_k",
    "vote_entropy",
]

# Deep strategies (MC dropout, BALD/BatchBALD, VAAL): registered by name without importing
# torch; selecting one without the `deep` extra raises an ImportError saying how to install it.
from . import deep as _deep  # noqa: E402


def _deep_factory(name: str):  # noqa: ANN202
    return lambda: _deep.deep_strategy(name)


for _name in _deep.DEEP_STRATEGIES:
    register(_name, _deep_factory(_name))

# Cold-start strategies for tiny budgets (TypiClust, ProbCover): no model needed.
from .typicality import ProbCover, TypiClust  # noqa: E402

register("typiclust", TypiClust)
register("probcover", ProbCover)
__all__ += ["ProbCover", "TypiClust"]
