"""Wrappers that combine with any strategy: outlier filter, diversity, cost, pseudo-labels.

References
----------
Settles, B., Craven, M. & Friedland, L. (2008). Active learning with real annotation costs.
NIPS Workshop on Cost-Sensitive Learning (return on investment: informativeness per unit cost).
Brinker, K. (2003). Incorporating diversity in active learning with support vector machines.
ICML (uncertainty pre-filter, then diversity).
Wang, K., Zhang, D., Li, Y., Zhang, R. & Lin, L. (2017). Cost-effective active learning for
deep image classification. IEEE TCSVT (CEAL: pseudo-labels for confident items).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from . import uncertainty as _u
from ._utils import check_proba
from .base import QueryContext, Strategy, get_strategy, top_k
from .density import outlier_scores
from .diversity import k_center_greedy

__all__ = ["OutlierFilter", "DiverseTopK", "CostWeighted", "ceal_pseudo_labels", "PseudoLabeling"]


class _Wrapper(Strategy):
    def __init__(self, strategy: Any, name: str) -> None:
        self.inner = get_strategy(strategy)
        self.name = f"{name}({self.inner.name})"
        self.measure = self.inner.measure
        self.needs_model = self.inner.needs_model

    def uncertainty(self, proba: np.ndarray) -> np.ndarray:
        return self.inner.uncertainty(proba)


class OutlierFilter(_Wrapper):
    """Skip the lowest-density fraction of the candidates, then run any strategy on the rest.

    Uncertainty strategies like to pick outliers (items unlike anything else, often noise);
    this drops the ``fraction`` of candidates with the highest :func:`outlier_scores`
    (kNN distance to a pool sample, or IsolationForest) before the inner strategy sees them.

    Parameters
    ----------
    strategy : str, Strategy or callable
        The inner strategy (anything :func:`get_strategy` accepts).
    fraction : float, default=0.05
        Share of candidates to skip, in ``[0, 1)``.
    method : {"knn", "isolation_forest"}, default="knn"
    n_neighbors : int, default=10
    n_reference : int, default=5000
        Pool sample the density is estimated against (bounds the cost).

    Raises
    ------
    ValueError
        If ``fraction`` is outside ``[0, 1)``.

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.strategies import QueryContext
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(100, 2)), [[9.0, 9.0]]])  # item 100: a far outlier
    >>> P = np.full((101, 2), 0.5); P[:50] = [0.9, 0.1]  # unsure about items 50..100
    >>> ctx = QueryContext(X=X, labels=np.full(101, -1), candidates=np.arange(101), proba=P,
    ...                    model=None, estimator=None, n_classes=2, rng=np.random.default_rng(0))
    >>> 100 in OutlierFilter("margin").query(ctx, 5)[0].tolist()  # plain margin picks it
    False
    """

    def __init__(
        self,
        strategy: Any,
        fraction: float = 0.05,
        method: str = "knn",
        n_neighbors: int = 10,
        n_reference: int = 5000,
    ) -> None:
        if not 0.0 <= fraction < 1.0:
            raise ValueError(f"fraction must be in [0, 1); got {fraction}")
        super().__init__(strategy, "outlier_filter")
        self.fraction, self.method = fraction, method
        self.n_neighbors, self.n_reference = n_neighbors, n_reference

    def filtered(self, ctx: QueryContext) -> QueryContext:
        """A copy of ``ctx`` whose candidates exclude the most outlying ``fraction``."""
        c = ctx.candidates
        drop = int(np.floor(self.fraction * c.size))
        if drop == 0:
            return ctx
        o = outlier_scores(
            ctx.X[c], ctx.X, self.method, self.n_neighbors, self.n_reference, ctx.rng, X_index=c
        )
        keep = np.sort(np.argpartition(o, c.size - drop - 1)[: c.size - drop])
        return dataclasses.replace(ctx, candidates=c[keep])

    def scores(self, ctx: QueryContext) -> np.ndarray:
        f = self.filtered(ctx)
        out = np.full(ctx.candidates.size, -np.inf)
        out[np.isin(ctx.candidates, f.candidates)] = self.inner.scores(f)
        return out

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        return self.inner.query(self.filtered(ctx), batch_size)


class DiverseTopK(_Wrapper):
    """Top-k with diversity: keep the ``factor * k`` best items, then spread them out.

    The inner strategy picks ``factor * k`` items; the best of them is kept and the other
    ``k - 1`` are chosen among them by k-center greedy in feature space, with the best item
    (and, if ``use_labeled``, the labeled items) as initial centers.

    Parameters
    ----------
    strategy : str, Strategy or callable
    factor : int, default=10
        Pre-filter size as a multiple of the batch size.
    use_labeled : bool, default=False
        Also count the labeled items as centers.

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.strategies import QueryContext
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(100, 2)), [[9.0, 9.0]]])  # item 100: a far outlier
    >>> P = np.full((101, 2), 0.5); P[:50] = [0.9, 0.1]  # unsure about items 50..100
    >>> ctx = QueryContext(X=X, labels=np.full(101, -1), candidates=np.arange(101), proba=P,
    ...                    model=None, estimator=None, n_classes=2, rng=np.random.default_rng(0))
    >>> idx, _ = DiverseTopK("margin").query(ctx, 5)
    >>> bool(np.all(idx >= 50))  # from the uncertain half, spread out
    True
    """

    def __init__(self, strategy: Any, factor: int = 10, use_labeled: bool = False) -> None:
        super().__init__(strategy, "diverse")
        self.factor, self.use_labeled = int(factor), use_labeled

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(int(batch_size), ctx.candidates.size)
        idx, sc = self.inner.query(ctx, max(k, self.factor * k))
        if idx.size <= k:
            return idx, sc
        Xs = ctx.X[idx]
        centers = Xs[:1]
        if self.use_labeled and ctx.labeled.any():
            centers = np.vstack([centers, ctx.X[ctx.labeled]])
        pos, _ = k_center_greedy(Xs[1:], k - 1, centers, ctx.rng)
        sel = np.r_[0, pos + 1]
        return idx[sel], sc[sel]


class CostWeighted(_Wrapper):
    """Score per unit labeling cost ("return on investment", Settles et al., 2008).

    Parameters
    ----------
    strategy : str, Strategy or callable
        Its per-item scores (:meth:`Strategy.scores`) are divided by the cost. Scores must be
        non-negative for the ratio to mean anything (all built-in per-item scores are).
        Batch strategies without per-item scores (core-set, BADGE, cluster batch) pick
        ``factor * k`` items first; their pick-time scores are then divided by the cost.
    cost : ndarray of shape (n_samples,) or callable
        Positive cost of labeling each pool item (seconds, money), or ``cost(ctx)`` returning
        that array.
    factor : int, default=10

    Raises
    ------
    ValueError
        At query time, if a cost is not positive or has the wrong shape.

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.strategies import QueryContext
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(100, 2)), [[9.0, 9.0]]])  # item 100: a far outlier
    >>> P = np.full((101, 2), 0.5); P[:50] = [0.9, 0.1]  # unsure about items 50..100
    >>> ctx = QueryContext(X=X, labels=np.full(101, -1), candidates=np.arange(101), proba=P,
    ...                    model=None, estimator=None, n_classes=2, rng=np.random.default_rng(0))
    >>> cost = np.ones(101); cost[50:60] = 10.0  # items 50..59 cost ten times more
    >>> idx, _ = CostWeighted("margin", cost).query(ctx, 5)
    >>> bool(np.all((idx < 50) | (idx >= 60)))
    True
    """

    def __init__(
        self,
        strategy: Any,
        cost: np.ndarray | Callable[[QueryContext], np.ndarray],
        factor: int = 10,
    ) -> None:
        super().__init__(strategy, "per_cost")
        self.cost, self.factor = cost, int(factor)

    def _cost(self, ctx: QueryContext) -> np.ndarray:
        c = np.asarray(self.cost(ctx) if callable(self.cost) else self.cost, dtype=np.float64)
        if c.shape != (ctx.X.shape[0],):
            raise ValueError(f"cost must have shape ({ctx.X.shape[0]},); got {c.shape}")
        if not (c > 0).all():
            raise ValueError("every labeling cost must be positive")
        return c

    def scores(self, ctx: QueryContext) -> np.ndarray:
        return self.inner.scores(ctx) / self._cost(ctx)[ctx.candidates]

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        try:
            s = self.scores(ctx)
        except NotImplementedError:
            idx, sc = self.inner.query(ctx, max(batch_size, self.factor * batch_size))
            s2 = sc / self._cost(ctx)[idx]
            pos = top_k(s2, batch_size, ctx.rng)
            return idx[pos], s2[pos]
        pos = top_k(s, batch_size, ctx.rng)
        return ctx.candidates[pos], s[pos]


def ceal_pseudo_labels(
    proba: np.ndarray,
    candidates: np.ndarray | None = None,
    delta: float = 0.05,
    max_items: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """CEAL pseudo-labels: the model's own label for items it is confident about (Wang et al.).

    An item is confident when the entropy of its prediction is below ``delta`` (nats). CEAL
    decays ``delta`` over rounds (``delta_t = delta_0 - r * t``); pass the current value.
    The result is for training only: keep it apart from human labels (nothing here writes to
    a label store).

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Predictions for the whole pool.
    candidates : ndarray of shape (n_candidates,), int, optional
        Pool indices eligible (e.g. the unlabeled ones); default all.
    delta : float, default=0.05
        Entropy threshold in nats.
    max_items : int, optional
        Keep only the most confident ``max_items``.

    Returns
    -------
    indices : ndarray of shape (m,), int64
        Pool indices, most confident first.
    labels : ndarray of shape (m,), int64
        Their pseudo-labels (argmax class codes).

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.999, 0.001], [0.6, 0.4], [0.002, 0.998]])
    >>> idx, labels = ceal_pseudo_labels(P)
    >>> idx.tolist(), labels.tolist()  # only the confident items, with the model's label
    ([0, 2], [0, 1])
    """
    P = check_proba(proba)
    cand = np.arange(P.shape[0]) if candidates is None else np.asarray(candidates, np.int64)
    h = _u.entropy(P[cand])
    ok = np.flatnonzero(h < delta)
    ok = ok[np.argsort(h[ok], kind="stable")]
    if max_items is not None:
        ok = ok[: int(max_items)]
    idx = cand[ok]
    return idx.astype(np.int64), P[idx].argmax(axis=1).astype(np.int64)


class PseudoLabeling(_Wrapper):
    """CEAL-style wrapper (Wang et al., 2017): any strategy plus opt-in pseudo-labels.

    :meth:`query` is the inner strategy's; :meth:`pseudo_labels` returns confident
    candidates and the model's labels for them, excluding the current query's picks. Nothing
    is written to any store: training on them is the caller's choice.

    Parameters
    ----------
    strategy : str, Strategy or callable
    delta : float, default=0.05
        Entropy threshold (nats), see :func:`ceal_pseudo_labels`.
    max_items : int, optional

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.strategies import QueryContext
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(100, 2)), [[9.0, 9.0]]])  # item 100: a far outlier
    >>> P = np.full((101, 2), 0.5); P[:50] = [0.9, 0.1]  # unsure about items 50..100
    >>> ctx = QueryContext(X=X, labels=np.full(101, -1), candidates=np.arange(101), proba=P,
    ...                    model=None, estimator=None, n_classes=2, rng=np.random.default_rng(0))
    >>> wrapper = PseudoLabeling("margin")
    >>> picks, _ = wrapper.query(ctx, 5)
    >>> bool(np.all(picks >= 50))  # the inner strategy's picks
    True
    """

    def __init__(self, strategy: Any, delta: float = 0.05, max_items: int | None = None) -> None:
        super().__init__(strategy, "ceal")
        self.delta, self.max_items = delta, max_items
        self.needs_model = True

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        return self.inner.query(ctx, batch_size)

    def scores(self, ctx: QueryContext) -> np.ndarray:
        return self.inner.scores(ctx)

    def pseudo_labels(
        self, ctx: QueryContext, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Confident candidates and their predicted labels, see :func:`ceal_pseudo_labels`.

        Parameters
        ----------
        ctx : QueryContext
        exclude : ndarray of int, optional
            Pool indices to leave out (e.g. the batch sent to the human).

        Returns
        -------
        indices, labels : ndarray of shape (m,), int64
        """
        if ctx.proba is None:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        cand = ctx.candidates
        if exclude is not None:
            cand = cand[~np.isin(cand, exclude)]
        return ceal_pseudo_labels(ctx.proba, cand, self.delta, self.max_items)
