"""Query by committee and BALD: disagreement among an ensemble of models.

The committee is built from the user's estimator by bagging (each member a clone fitted on a
bootstrap sample of the labeled set, with its own seed) or from a list of estimators. The
score functions take the members' predictions as arrays, so they work with any ensemble.

References
----------
Seung, H. S., Opper, M. & Sompolinsky, H. (1992). Query by committee. COLT.
Dagan, I. & Engelson, S. P. (1995). Committee-based sampling for training probabilistic
classifiers. ICML (vote entropy).
McCallum, A. & Nigam, K. (1998). Employing EM and pool-based active learning for text
classification. ICML (KL divergence to the mean).
Abe, N. & Mamitsuka, H. (1998). Query learning strategies using boosting and bagging. ICML
(committees by bagging).
Houlsby, N., Huszar, F., Ghahramani, Z. & Lengyel, M. (2011). Bayesian active learning for
classification and preference learning. arXiv:1112.5745 (BALD).
Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian active learning with image data. ICML
(BALD with an ensemble / Monte Carlo approximation of the posterior).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import QueryContext, ScoreStrategy
from .committee_fit import committee_proba, fit_committee

__all__ = [
    "vote_entropy",
    "consensus_kl",
    "kl_divergence",
    "bald",
    "committee_votes",
    "fit_committee",
    "committee_proba",
    "QueryByCommittee",
    "BALD",
]


def _xlogx_sum(P: np.ndarray) -> np.ndarray:
    """``sum_c p_c log p_c`` over the last axis with ``0 log 0 = 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = P * np.log(P)
    t[P <= 0] = 0.0
    return t.sum(axis=-1)


def _check_members(member_proba: Any) -> np.ndarray:
    P = np.asarray(member_proba, dtype=np.float64)
    if P.ndim != 3:
        raise ValueError(
            "member_proba must have shape (n_members, n_samples, n_classes); got shape "
            f"{P.shape}. Stack each member's predict_proba output along axis 0."
        )
    return P


def committee_votes(member_proba: np.ndarray) -> np.ndarray:
    """Each member's predicted class (argmax).

    Parameters
    ----------
    member_proba : ndarray of shape (n_members, n_samples, n_classes)

    Returns
    -------
    votes : ndarray of shape (n_samples, n_members), int64

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[[0.9, 0.1], [0.5, 0.5]],   # member 1 on items 0 and 1
    ...               [[0.1, 0.9], [0.5, 0.5]]])  # member 2: disagrees on item 0 only
    >>> committee_votes(M).tolist()
    [[0, 1], [0, 0]]
    """
    return np.ascontiguousarray(_check_members(member_proba).argmax(axis=2).T, dtype=np.int64)


def vote_entropy(votes: np.ndarray, n_classes: int) -> np.ndarray:
    """Vote entropy of a committee's hard votes (Dagan & Engelson, 1995).

    ``-sum_c (V(c)/M) log(V(c)/M)``, where ``V(c)`` counts the members voting for class ``c``
    out of ``M`` members.

    Parameters
    ----------
    votes : ndarray of shape (n_samples, n_members), int
        Class codes ``0..n_classes-1`` predicted by each member (see :func:`committee_votes`).
    n_classes : int
        Number of classes.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        In ``[0, log(min(n_members, n_classes))]`` nats; higher = more disagreement.

    Raises
    ------
    ValueError
        If ``votes`` is not 2-D or holds codes outside ``0..n_classes-1``.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[[0.9, 0.1], [0.5, 0.5]],   # member 1 on items 0 and 1
    ...               [[0.1, 0.9], [0.5, 0.5]]])  # member 2: disagrees on item 0 only
    >>> (vote_entropy(committee_votes(M), 2).round(3) + 0.0).tolist()
    [0.693, 0.0]
    """
    votes = np.asarray(votes)
    if votes.ndim != 2:
        raise ValueError(f"votes must have shape (n_samples, n_members); got {votes.shape}")
    if votes.size and (votes.min() < 0 or votes.max() >= n_classes):
        raise ValueError(f"votes must be class codes in 0..{n_classes - 1}")
    n, m = votes.shape
    # one bincount over (row, class) pairs instead of a pass per class
    keys = (np.arange(n, dtype=np.int64)[:, None] * n_classes + votes).ravel()
    counts = np.bincount(keys, minlength=n * n_classes).reshape(n, n_classes)
    return -_xlogx_sum(counts / m)


def consensus_kl(member_proba: np.ndarray) -> np.ndarray:
    """Mean KL divergence of each member from the consensus (McCallum & Nigam, 1998).

    ``(1/M) sum_m KL(p_m || p_bar)`` with ``p_bar = (1/M) sum_m p_m``. It is computed through
    the identity ``(1/M) sum_m KL(p_m || p_bar) = H(p_bar) - (1/M) sum_m H(p_m)``, exact
    (no epsilon) because ``p_bar > 0`` wherever some ``p_m > 0``.

    Parameters
    ----------
    member_proba : ndarray of shape (n_members, n_samples, n_classes)
        Each member's predicted class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        Non-negative nats; higher = more disagreement.

    Raises
    ------
    ValueError
        If ``member_proba`` is not 3-D.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[[0.9, 0.1], [0.5, 0.5]],   # member 1 on items 0 and 1
    ...               [[0.1, 0.9], [0.5, 0.5]]])  # member 2: disagrees on item 0 only
    >>> consensus_kl(M).round(3).tolist()
    [0.368, 0.0]
    """
    P = _check_members(member_proba)
    return np.maximum(-_xlogx_sum(P.mean(axis=0)) + _xlogx_sum(P).mean(axis=0), 0.0)


kl_divergence = consensus_kl


def bald(member_proba: np.ndarray) -> np.ndarray:
    """BALD: mutual information between the label and the model (Houlsby et al., 2011).

    ``I[y; theta | x] = H(E_theta p(y|x,theta)) - E_theta H(p(y|x,theta))``, with the
    posterior over ``theta`` approximated by the committee members (an ensemble, as in
    Gal et al., 2017, with bootstraps or seeds in place of dropout masks).

    With equally weighted members this equals :func:`consensus_kl` exactly; the two
    registered strategies differ only in how their committees are built.

    Parameters
    ----------
    member_proba : ndarray of shape (n_members, n_samples, n_classes)
        Each member's predicted class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        In ``[0, log(n_classes)]`` nats; higher = more informative.

    Raises
    ------
    ValueError
        If ``member_proba`` is not 3-D.

    Examples
    --------
    >>> import numpy as np
    >>> M = np.array([[[0.9, 0.1], [0.5, 0.5]],   # member 1 on items 0 and 1
    ...               [[0.1, 0.9], [0.5, 0.5]]])  # member 2: disagrees on item 0 only
    >>> bald(M).round(3).tolist()  # item 1: unsure but agreed, so no information
    [0.368, 0.0]
    """
    return consensus_kl(member_proba)


class QueryByCommittee(ScoreStrategy):
    """Query by committee: top-k by the disagreement of a committee (Seung et al., 1992).

    Each query fits the committee on the labeled items (``ctx.X``, ``ctx.labels``) with
    :func:`fit_committee`, seeded from ``ctx.rng``, and scores the candidates.

    Parameters
    ----------
    measure : {"vote_entropy", "consensus_kl", "bald"}, default="vote_entropy"
        Disagreement measure.
    n_members : int, default=5
        Committee size when bagging the session's estimator.
    estimators : sequence of estimators, optional
        Use these (cloned) instead of bagging ``ctx.estimator``.
    bootstrap : bool, default=True
        See :func:`fit_committee`.
    name : str, optional
        Registry/display name; default ``measure``.

    Notes
    -----
    Cost per query: ``n_members`` fits on the labeled set plus ``n_members`` calls of
    ``predict_proba`` on the candidates.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from alwidget.strategies import QueryContext
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2)); labels = np.full(60, -1)
    >>> labels[:10] = (X[:10, 0] > 0).astype(int)
    >>> ctx = QueryContext(X=X, labels=labels, candidates=np.arange(10, 60), proba=None,
    ...                    model=None, estimator=LogisticRegression(), n_classes=2, rng=rng)
    >>> idx, scores = QueryByCommittee().query(ctx, 3)
    >>> idx.shape, bool(np.all(idx >= 10))
    ((3,), True)
    """

    def __init__(
        self,
        measure: str = "vote_entropy",
        n_members: int = 5,
        estimators: Sequence[Any] | None = None,
        bootstrap: bool = True,
        name: str | None = None,
    ) -> None:
        fns = {
            "vote_entropy": None,
            "consensus_kl": consensus_kl,
            "kl_divergence": consensus_kl,
            "bald": bald,
        }
        if measure not in fns:
            raise ValueError(f"unknown committee measure {measure!r}; use one of {sorted(fns)}")
        self.committee_measure = measure
        self.n_members = n_members
        self.estimators = estimators
        self.bootstrap = bootstrap
        super().__init__(self._score, name=name or measure)

    def member_proba(self, ctx: QueryContext) -> np.ndarray:
        """Fit the committee on the labeled items and predict the candidates.

        Returns
        -------
        member_proba : ndarray of shape (n_members, n_candidates, n_classes), float64
        """
        lab = np.flatnonzero(ctx.labeled)
        est = self.estimators if self.estimators is not None else ctx.estimator
        if est is None:
            raise ValueError("QueryByCommittee needs ctx.estimator or estimators=[...]")
        seed = int(ctx.rng.integers(2**31 - 1))
        members = fit_committee(
            est,
            ctx.X[lab],
            ctx.labels[lab],
            self.n_members,
            bootstrap=self.bootstrap,
            random_state=seed,
        )
        return committee_proba(members, ctx.X[ctx.candidates], ctx.n_classes)

    def _score(self, ctx: QueryContext) -> np.ndarray:
        P = self.member_proba(ctx)
        if self.committee_measure == "vote_entropy":
            return vote_entropy(committee_votes(P), ctx.n_classes)
        return consensus_kl(P)


class BALD(QueryByCommittee):
    """BALD with an ensemble posterior: top-k by mutual information (Houlsby et al., 2011).

    The posterior samples are committee members: bootstraps of the session's estimator by
    default, or members differing only in their seed (``bootstrap=False``) for randomised
    estimators (random forests, MLPs). For MC-dropout BALD on a network see ``mc_bald``
    (:mod:`alwidget.strategies.deep`).

    Parameters
    ----------
    n_members : int, default=10
        Number of posterior samples (committee members).
    estimators, bootstrap
        As in :class:`QueryByCommittee`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from alwidget.strategies import QueryContext
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2)); labels = np.full(60, -1)
    >>> labels[:10] = (X[:10, 0] > 0).astype(int)
    >>> ctx = QueryContext(X=X, labels=labels, candidates=np.arange(10, 60), proba=None,
    ...                    model=None, estimator=LogisticRegression(), n_classes=2, rng=rng)
    >>> idx, scores = BALD().query(ctx, 3)
    >>> bool(np.all(scores >= 0))  # mutual information is never negative
    True
    """

    def __init__(
        self,
        n_members: int = 10,
        estimators: Sequence[Any] | None = None,
        bootstrap: bool = True,
    ) -> None:
        super().__init__(
            "bald", n_members=n_members, estimators=estimators, bootstrap=bootstrap, name="bald"
        )
