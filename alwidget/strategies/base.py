"""The strategy interface: a query context in, a batch of pool indices (with scores) out.

A strategy is either

* a :class:`Strategy` subclass whose :meth:`Strategy.query` picks a whole batch (diversity
  strategies such as core-set or BADGE need this), or
* a plain **score function** ``f(ctx) -> scores`` of shape ``(len(ctx.candidates),)``, higher =
  more informative, wrapped by :class:`ScoreStrategy`, which selects the top-k with seeded
  tie-breaking (:func:`top_k`).

Strategies are looked up by name with :func:`get_strategy`; :func:`register` adds one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import uncertainty as _u

__all__ = [
    "QueryContext",
    "Strategy",
    "ScoreStrategy",
    "UncertaintyStrategy",
    "RandomStrategy",
    "top_k",
    "register",
    "get_strategy",
    "available_strategies",
]


@dataclass
class QueryContext:
    """Everything a strategy may look at for one query.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
        Numeric features of the whole pool.
    labels : ndarray of shape (n_samples,), int64
        Label codes, ``-1`` for unlabeled.
    candidates : ndarray of shape (n_candidates,), int64
        Pool indices that may be picked (unlabeled, not skipped, not excluded).
    proba : ndarray of shape (n_samples, n_classes), float64, or None
        Predicted class probabilities of the current model for the whole pool; ``None`` before
        a model could be fitted (cold start).
    model : fitted estimator or None
        The current model (a clone of the user's estimator).
    estimator : estimator
        The user's unfitted estimator (for strategies that fit committees).
    n_classes : int
        Number of classes.
    rng : numpy.random.Generator
        The seeded generator to use for anything random.

    Examples
    --------
    >>> import numpy as np
    >>> ctx = QueryContext(X=np.zeros((4, 2)), labels=np.array([0, -1, -1, 1]),
    ...                    candidates=np.array([1, 2]), proba=None, model=None, estimator=None,
    ...                    n_classes=2, rng=np.random.default_rng(0))
    >>> ctx.labeled.tolist()
    [True, False, False, True]
    """

    X: np.ndarray
    labels: np.ndarray
    candidates: np.ndarray
    proba: np.ndarray | None
    model: Any
    estimator: Any
    n_classes: int
    rng: np.random.Generator = field(default_factory=np.random.default_rng)

    @property
    def labeled(self) -> np.ndarray:
        """Boolean mask of shape (n_samples,): True where a label is known."""
        return self.labels >= 0


def top_k(scores: np.ndarray, k: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first, ties broken at random.

    Parameters
    ----------
    scores : ndarray of shape (n,)
        Higher is better. NaN counts as the lowest score.
    k : int
        How many to pick; clipped to ``n``.
    rng : numpy.random.Generator, optional
        Seeded generator for tie-breaking; a fresh unseeded one if omitted.

    Returns
    -------
    positions : ndarray of shape (min(k, n),), int64
        Unique positions into ``scores``, sorted by decreasing score.

    Examples
    --------
    >>> import numpy as np
    >>> top_k(np.array([0.1, 0.9, 0.5]), 2).tolist()  # positions, best first
    [1, 2]
    """
    s = np.asarray(scores, dtype=np.float64)
    if np.isnan(s).any():
        s = np.where(np.isnan(s), -np.inf, s)
    n = s.shape[0]
    k = min(int(k), n)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    rng = np.random.default_rng() if rng is None else rng
    # every item scoring at least the k-th best score (k of them unless there are ties at
    # the boundary), then random keys break ties among them: the same distribution as a
    # random permutation of the whole pool, for a few random numbers instead of n
    kth = s[np.argpartition(s, n - k)[n - k]] if k < n else -np.inf
    cand = np.flatnonzero(s >= kth)
    order = np.lexsort((rng.random(cand.size), -s[cand]))[:k]
    return cand[order].astype(np.int64)


class Strategy:
    """Base class of a query strategy.

    Attributes
    ----------
    name : str
        Registry name, e.g. ``"entropy"``.
    measure : str
        The uncertainty measure used to colour the map for this strategy.
    needs_model : bool
        Whether :meth:`query` needs ``ctx.proba`` / ``ctx.model`` (False for random or
        purely feature-based strategies).

    Examples
    --------
    A strategy of your own: the items with the largest first feature.

    >>> import numpy as np
    >>> class Largest(Strategy):
    ...     name, needs_model = "largest", False
    ...     def query(self, ctx, batch_size):
    ...         s = ctx.X[ctx.candidates, 0]
    ...         pos = top_k(s, batch_size)
    ...         return ctx.candidates[pos], s[pos]
    >>> ctx = QueryContext(X=np.arange(5.0)[:, None], labels=np.full(5, -1),
    ...                    candidates=np.arange(5), proba=None, model=None, estimator=None,
    ...                    n_classes=2, rng=np.random.default_rng(0))
    >>> Largest().query(ctx, 2)[0].tolist()
    [4, 3]
    """

    name: str = "strategy"
    measure: str = "entropy"
    needs_model: bool = True

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Pick a batch.

        Parameters
        ----------
        ctx : QueryContext
            The pool, labels, candidates and current model.
        batch_size : int
            How many items to pick (at most ``len(ctx.candidates)``).

        Returns
        -------
        indices : ndarray of shape (k,), int64
            Unique pool indices, all in ``ctx.candidates``, most informative first.
        scores : ndarray of shape (k,), float64
            The strategy's score of each picked item (higher = more informative).
        """
        raise NotImplementedError

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Score every candidate, when the strategy has per-item scores.

        Batch strategies whose picks depend on each other (core-set, BADGE, cluster-based
        batch) have no such scores and raise :class:`NotImplementedError`; wrappers that need
        per-item scores (:class:`~alwidget.strategies.CostWeighted`) then fall back to
        :meth:`query`.

        Returns
        -------
        scores : ndarray of shape (len(ctx.candidates),), float64
            Higher = more informative.
        """
        raise NotImplementedError(
            f"strategy {self.name!r} picks whole batches; it has no per-item scores"
        )

    def uncertainty(self, proba: np.ndarray) -> np.ndarray:
        """Per-item uncertainty in [0, 1], float32 of shape (n_samples,), for the map colour."""
        return _u.normalised(self.measure, proba)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class ScoreStrategy(Strategy):
    """A strategy made of a score function and top-k selection.

    Parameters
    ----------
    score : callable
        ``score(ctx) -> ndarray of shape (len(ctx.candidates),)``, higher = more informative.
    name : str
        Display and registry name.
    measure : str, default="entropy"
        Map colour measure.
    needs_model : bool, default=True
        Whether the score needs a fitted model.

    Examples
    --------
    >>> import numpy as np
    >>> s = ScoreStrategy(lambda ctx: -ctx.X[ctx.candidates, 0], name="smallest", needs_model=False)
    >>> ctx = QueryContext(X=np.arange(5.0)[:, None], labels=np.full(5, -1),
    ...                    candidates=np.arange(5), proba=None, model=None, estimator=None,
    ...                    n_classes=2, rng=np.random.default_rng(0))
    >>> s.query(ctx, 2)[0].tolist()
    [0, 1]
    """

    def __init__(
        self,
        score: Callable[[QueryContext], np.ndarray],
        name: str | None = None,
        measure: str = "entropy",
        needs_model: bool = True,
    ) -> None:
        self.score = score
        self.name = str(name or getattr(score, "__name__", "custom"))
        self.measure = measure
        self.needs_model = needs_model

    def scores(self, ctx: QueryContext) -> np.ndarray:
        scores = np.asarray(self.score(ctx), dtype=np.float64)
        if scores.shape != ctx.candidates.shape:
            raise ValueError(
                f"strategy {self.name!r} returned scores of shape {scores.shape}; expected "
                f"{ctx.candidates.shape} (one score per candidate)"
            )
        return scores

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self.scores(ctx)
        pos = top_k(scores, batch_size, ctx.rng)
        return ctx.candidates[pos], scores[pos]


class UncertaintyStrategy(ScoreStrategy):
    """Top-k by an uncertainty measure of ``predict_proba`` (least confidence, margin, entropy).

    Parameters
    ----------
    measure : {"least_confidence", "margin", "entropy"}
        A function of :mod:`alwidget.strategies.uncertainty`; also the strategy's name.

    Raises
    ------
    ValueError
        At query time, if ``ctx.proba`` is None (no model fitted yet).

    Examples
    --------
    The smallest margin between the two most probable classes comes first:

    >>> import numpy as np
    >>> P = np.array([[0.9, 0.1], [0.5, 0.5], [0.7, 0.3]])
    >>> ctx = QueryContext(X=np.zeros((3, 1)), labels=np.full(3, -1), candidates=np.arange(3),
    ...                    proba=P, model=None, estimator=None, n_classes=2,
    ...                    rng=np.random.default_rng(0))
    >>> idx, scores = UncertaintyStrategy("margin").query(ctx, 2)
    >>> idx.tolist(), scores.round(2).tolist()
    ([1, 2], [1.0, 0.6])
    """

    def __init__(self, measure: str) -> None:
        measures = ("least_confidence", "margin", "entropy")
        if measure not in measures:
            raise ValueError(f"unknown uncertainty measure {measure!r}; use one of {measures}")
        fn = getattr(_u, measure)

        def score(ctx: QueryContext) -> np.ndarray:
            if ctx.proba is None:
                raise ValueError(f"strategy {measure!r} needs a fitted model (ctx.proba is None)")
            P, cand = ctx.proba, ctx.candidates
            if 2 * cand.size > P.shape[0]:  # most of the pool: score it, then take the
                return fn(P)[cand]  # candidates' scores (no copy of their probability rows)
            return fn(P[cand])

        super().__init__(score, name=measure, measure=measure)


class RandomStrategy(Strategy):
    """Uniform random sampling without replacement: the baseline every strategy must beat.

    Needs no model; draws from ``ctx.rng``, so a seeded context gives the same picks.

    Examples
    --------
    >>> import numpy as np
    >>> ctx = QueryContext(X=np.zeros((10, 1)), labels=np.full(10, -1),
    ...                    candidates=np.arange(5, 10), proba=None, model=None, estimator=None,
    ...                    n_classes=2, rng=np.random.default_rng(0))
    >>> idx, _ = RandomStrategy().query(ctx, 3)
    >>> len(set(idx.tolist())), bool(np.isin(idx, ctx.candidates).all())  # 3 distinct candidates
    (3, True)
    """

    name = "random"
    needs_model = False

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Independent uniform draws in [0, 1) from ``ctx.rng``, one per candidate."""
        return ctx.rng.random(len(ctx.candidates))

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(batch_size, len(ctx.candidates))
        idx = ctx.rng.choice(ctx.candidates, size=k, replace=False).astype(np.int64)
        return idx, np.zeros(k)


_REGISTRY: dict[str, Callable[[], Strategy]] = {
    "random": RandomStrategy,
    "least_confidence": lambda: UncertaintyStrategy("least_confidence"),
    "margin": lambda: UncertaintyStrategy("margin"),
    "entropy": lambda: UncertaintyStrategy("entropy"),
}


def _key(name: str) -> str:
    """The registry form of a strategy name: lower case, underscores."""
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def register(name: str, factory: Callable[[], Strategy]) -> None:
    """Make a strategy selectable by name (in :class:`~alwidget.Session` and the widget).

    Parameters
    ----------
    name : str
        Registry name, lower case with underscores (the form :func:`get_strategy` looks up);
        an existing name is replaced.
    factory : callable
        ``factory() -> Strategy``, called for every :func:`get_strategy` lookup, so each
        session gets a fresh instance.

    Examples
    --------
    >>> register("smallest_first", lambda: ScoreStrategy(
    ...     lambda ctx: -ctx.X[ctx.candidates, 0], name="smallest_first", needs_model=False))
    >>> "smallest_first" in available_strategies()
    True
    >>> get_strategy("smallest_first").name
    'smallest_first'
    """
    _REGISTRY[_key(name)] = factory


def available_strategies() -> list[str]:
    """Names accepted by :func:`get_strategy`, in registration order.

    Returns
    -------
    list of str
        The built-in strategies first (``random``, ``least_confidence``, ``margin``,
        ``entropy``), then those of the other modules and of :func:`register`.

    Examples
    --------
    >>> available_strategies()[:4]
    ['random', 'least_confidence', 'margin', 'entropy']
    >>> {"coreset", "badge", "bald", "eer"} <= set(available_strategies())
    True
    """
    return list(_REGISTRY)


def get_strategy(strategy: str | Strategy | Callable[[QueryContext], np.ndarray]) -> Strategy:
    """Turn a name, a :class:`Strategy` or a score function into a :class:`Strategy`.

    Raises
    ------
    ValueError
        If a name is not registered.
    TypeError
        If ``strategy`` is none of the accepted kinds.

    Examples
    --------
    A name, a :class:`Strategy` or a plain score function:

    >>> s = get_strategy("margin")
    >>> s.name, s.needs_model
    ('margin', True)
    >>> get_strategy(RandomStrategy()).name
    'random'
    >>> get_strategy(lambda ctx: ctx.X[ctx.candidates, 0]).name  # wrapped in a ScoreStrategy
    '<lambda>'
    """
    if isinstance(strategy, Strategy):
        return strategy
    if isinstance(strategy, str):
        key = _key(strategy)
        if key not in _REGISTRY:
            raise ValueError(
                f"unknown strategy {strategy!r}; choose one of {available_strategies()} "
                "or pass a Strategy or a score function f(ctx) -> scores"
            )
        return _REGISTRY[key]()
    if callable(strategy):
        return ScoreStrategy(strategy)
    raise TypeError(
        f"strategy must be a name, a Strategy or a callable; got {type(strategy).__name__}"
    )
