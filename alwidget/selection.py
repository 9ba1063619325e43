"""Picking batches: the :class:`Batch` on screen, candidates, unsure-neighbour avoidance,
the cold-start rule and strategy order. Used by :class:`~alwidget.Session`; no state of its
own beyond small caches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import StaleBatchError
from .strategies import QueryContext, Strategy
from .validation import check_index

__all__ = ["Batch", "OPEN", "UnsureNeighbours", "cold_start_pick", "strategy_order"]

#: Card state of an open card of :attr:`Batch.state` (the others are the status codes).
OPEN = 0


@dataclass
class Batch:
    """The current acquisition batch: the cards on screen.

    The cards keep their place for the life of the batch: a skipped or "unsure" card stays in
    :attr:`indices` with its :attr:`state`, so what the user sees never moves under the
    cursor; only a user action that makes a new batch (submit, undo, label these next, a
    strategy change, or answering the last open card) replaces it.

    Attributes
    ----------
    indices : ndarray of shape (k,), int64
        Pool indices of every card, most informative first.
    scores : ndarray of shape (k,), float64
        Strategy score of each item at selection time.
    strategy : str
        Strategy (or cold-start rule) that picked it.
    round : int
        Round number (submits so far) when picked.
    model_version : int
        Number of labels the selecting model was trained on (0 at cold start).
    cold_start : bool
        True if picked by the cold-start rule because no model could be fitted yet.
    id : int
        Unique within the session, increasing with every new batch. Actions from the
        browser carry it (:meth:`Session.check_action`).
    state : ndarray of shape (k,), int8
        Per card: 0 open, 1 labeled (from the map while the batch was open), 2 skipped,
        3 unsure (the status codes of :attr:`Session.status`).
    prefill : dict of int to int
        Answers brought back by :meth:`Session.undo`, ``{pool index: class code}``: the view
        shows them as chosen so the user can correct and resubmit.
    labels_version : int
        :attr:`Session.model_labels_version` of the model that picked the batch.

    Examples
    --------
    >>> import numpy as np
    >>> b = Batch(np.array([7, 3, 5]), np.array([0.9, 0.5, 0.1]), "margin", 1, 10, False, id=4)
    >>> b.state[b.position(3)] = 2  # card of item 3 skipped: it keeps its place
    >>> b.indices.tolist(), b.open_indices().tolist(), b.position(9)
    ([7, 3, 5], [7, 5], None)
    """

    indices: np.ndarray
    scores: np.ndarray
    strategy: str
    round: int
    model_version: int
    cold_start: bool
    id: int = 0
    state: np.ndarray = field(default_factory=lambda: np.empty(0, np.int8))
    prefill: dict[int, int] = field(default_factory=dict)
    labels_version: int = -1

    def __post_init__(self) -> None:
        self.indices = np.asarray(self.indices, dtype=np.int64)
        self.scores = np.asarray(self.scores, dtype=np.float64)
        if self.state.shape != self.indices.shape:
            self.state = np.zeros(self.indices.shape, dtype=np.int8)

    def open_indices(self) -> np.ndarray:
        """Pool indices of the open cards (not yet skipped, unsure or labeled), int64 (m,)."""
        return self.indices[self.state == OPEN]

    def position(self, idx: int) -> int | None:
        """Card position (0-based) of a pool index, or None if it is not a card."""
        pos = np.flatnonzero(self.indices == idx)
        return int(pos[0]) if pos.size else None

    def check_action(self, batch_id: int | None, index: int | None, n_samples: int) -> None:
        """Check that an action made on batch ``batch_id`` (None: not checked) and card
        ``index`` (None: none) belongs to this batch, the one on screen.

        Raises
        ------
        StaleBatchError
            If ``batch_id`` is not :attr:`id` (the batch changed since the user saw it).
        ValueError
            If ``index`` is outside a pool of ``n_samples`` items or not one of the cards.

        Examples
        --------
        >>> import numpy as np
        >>> b = Batch(np.array([7, 3]), np.array([0.9, 0.5]), "margin", 1, 10, False, id=4)
        >>> b.check_action(4, 3, n_samples=10)  # card 3 of batch 4: fine
        >>> try:
        ...     b.check_action(3, 3, n_samples=10)
        ... except StaleBatchError as e:
        ...     print(str(e)[:40])
        this action was made on batch #3, which
        """
        if batch_id is not None and int(batch_id) != self.id:
            raise StaleBatchError(
                f"this action was made on batch #{int(batch_id)}, which is no longer the "
                f"current batch (#{self.id}); nothing was recorded. Answer the cards now shown."
            )
        if index is not None:
            idx = check_index(index, n_samples)
            if self.position(idx) is None:
                raise ValueError(
                    f"item {idx} is not a card of the current batch #{self.id}; nothing was "
                    "recorded"
                )

    def rank_of(self, idx: int) -> int:
        return int(np.flatnonzero(self.indices == idx)[0]) + 1

    def score_of(self, idx: int) -> float:
        return float(self.scores[self.rank_of(idx) - 1])


class UnsureNeighbours:
    """The ``k`` nearest neighbours (Euclidean, exact) of the items answered "unsure",
    cached until the unsure set changes.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    k : int
        Neighbours per unsure item (the item itself excluded).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])
    >>> UnsureNeighbours(X, k=1).near(np.array([3])).tolist()
    [3, 4]
    """

    def __init__(self, X: np.ndarray, k: int) -> None:
        self.X, self.k = X, int(k)
        self._cache: tuple[tuple[int, ...], np.ndarray] | None = None

    def near(self, unsure: np.ndarray) -> np.ndarray:
        """Pool indices within the ``k`` nearest neighbours of any unsure item (and the
        unsure items themselves), int64, sorted."""
        key = tuple(unsure.tolist())
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        from sklearn.neighbors import NearestNeighbors

        k = min(self.k + 1, self.X.shape[0])
        nn = NearestNeighbors(n_neighbors=k).fit(self.X)
        near = np.unique(nn.kneighbors(self.X[unsure], return_distance=False))
        self._cache = (key, near)
        return near


def cold_start_pick(
    rule: str, X: np.ndarray, candidates: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """The first batches, before two classes are labeled: ``"random"`` (uniform),
    ``"diverse"`` (k-center greedy from a random start, Sener & Savarese 2018), ``"typiclust"``
    (the most typical item of each uncovered k-means cluster, Hacohen et al. 2022) or
    ``"probcover"`` (greedy coverage of delta-balls, Yehuda et al. 2022).

    Returns
    -------
    ndarray of shape (k,), int64
        Pool indices, all in ``candidates``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1]])
    >>> pick = cold_start_pick("diverse", X, np.arange(5), 2, np.random.default_rng(0))
    >>> sorted((X[pick, 0] > 1).tolist())  # one from each group
    [False, True]
    """
    if rule == "random":
        return rng.choice(candidates, size=k, replace=False).astype(np.int64)
    if rule in ("typiclust", "probcover"):
        from .strategies.typicality import cold_start_select

        return np.asarray(cold_start_select(rule, X, candidates, k, rng), dtype=np.int64)
    from .strategies.diversity import k_center_greedy

    return candidates[k_center_greedy(X[candidates], k, rng=rng)[0]].astype(np.int64)


def strategy_order(
    strategy: Strategy, ctx: QueryContext, uncertainty: np.ndarray | None
) -> np.ndarray:
    """``ctx.candidates`` ordered by ``strategy``, most informative first.

    Batch strategies without per-item scores (core-set, BADGE) order by ``uncertainty`` (the
    map colour); with no model (``ctx.proba`` None) the order is kept.

    Returns
    -------
    ndarray of shape (len(ctx.candidates),), int64

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.strategies import QueryContext, get_strategy
    >>> proba = np.array([[0.9, 0.1], [0.5, 0.5], [0.7, 0.3]])
    >>> ctx = QueryContext(X=np.zeros((3, 1)), labels=np.full(3, -1), candidates=np.arange(3),
    ...                    proba=proba, model=None, estimator=None, n_classes=2,
    ...                    rng=np.random.default_rng(0))
    >>> strategy_order(get_strategy("margin"), ctx, None).tolist()
    [1, 2, 0]
    """
    idx = ctx.candidates
    if idx.size < 2 or ctx.proba is None:
        return idx
    sc: Any
    try:
        sc = np.asarray(strategy.scores(ctx), dtype=np.float64)
    except (NotImplementedError, ValueError):
        if uncertainty is None:
            return idx
        sc = uncertainty[idx].astype(np.float64)
    return idx[np.argsort(-np.nan_to_num(sc, nan=-np.inf), kind="stable")]
