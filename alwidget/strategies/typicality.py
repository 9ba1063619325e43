"""Cold-start strategies for tiny budgets: TypiClust (here) and ProbCover (:mod:`.probcover`).

Both look only at the features (``needs_model = False``), so they work before any label is
known, and both prefer *typical* (dense) regions over the outliers that uncertainty and
k-center pick first, which is what helps when very few labels exist.

References
----------
Hacohen, G., Dekel, A. & Weinshall, D. (2022). Active Learning on a Budget: Opposite
Strategies Suit High and Low Budgets. ICML (TypiClust).
Yehuda, O., Dekel, A., Hacohen, G. & Weinshall, D. (2022). Active Learning Through a Covering
Lens. NeurIPS (ProbCover).
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from ._utils import as_generator, check_features, f32, kmeans_labels
from .base import QueryContext, Strategy
from .probcover import ProbCover, probcover_delta, probcover_select

__all__ = [
    "TypiClust",
    "ProbCover",
    "typicality",
    "typiclust_select",
    "probcover_delta",
    "probcover_select",
    "cold_start_select",
]


def typicality(X: np.ndarray, n_neighbors: int = 20) -> np.ndarray:
    """Typicality of each row: ``1 / mean distance to its n_neighbors nearest neighbours``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Points (in TypiClust, the members of one cluster).
    n_neighbors : int, default=20
        Neighbours per point (Hacohen et al., 2022 use 20); clipped to ``n_samples - 1``.

    Returns
    -------
    typ : ndarray of shape (n_samples,), float64
        Higher = denser neighbourhood. A single point gets typicality 1.0.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0]])
    >>> int(np.argmax(typicality(X, n_neighbors=2)))
    1
    """
    X = check_features(X)
    n = X.shape[0]
    if n <= 1:
        return np.ones(n)
    k = min(int(n_neighbors), n - 1)
    d, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return 1.0 / (d[:, 1:].mean(axis=1) + 1e-12)


def typiclust_select(
    X: np.ndarray,
    labeled: np.ndarray,
    candidates: np.ndarray,
    k: int,
    rng: np.random.Generator | int | None = None,
    n_neighbors: int = 20,
    max_fit: int = 20000,
    max_members: int = 5000,
) -> tuple[np.ndarray, np.ndarray]:
    """TypiClust (Hacohen et al., 2022): the most typical item of each uncovered cluster.

    The pool is clustered by k-means into ``n_labeled + k`` clusters (``MiniBatchKMeans`` when
    the pool has more than ``max_fit`` rows); clusters that hold no labeled item are
    *uncovered*. The largest uncovered clusters are visited first, and from each the candidate
    with the highest :func:`typicality` (within its cluster) is picked. If fewer than ``k``
    uncovered clusters hold a candidate, the cluster just used counts as covered and the loop
    continues on the largest clusters again, so a full batch is always returned. In a cluster
    of more than ``max_members`` items, typicality is estimated on a seeded random sample of
    ``max_members`` of them (the pick is among the sample), which bounds the kNN cost on large
    pools (the exact kNN of a 100,000-item cluster takes minutes).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Features of the whole pool.
    labeled : ndarray of shape (n_samples,), bool
        True where a label is known.
    candidates : ndarray of shape (n_candidates,), int
        Pool indices that may be picked.
    k : int
        Batch size; clipped to ``len(candidates)``.
    rng : numpy.random.Generator or int, optional
        Seed for k-means.
    n_neighbors : int, default=20
        Neighbours in the typicality estimate.
    max_fit : int, default=20000
        Pools larger than this use ``MiniBatchKMeans``.
    max_members : int, default=5000
        Largest cluster on which typicality is computed exactly; bigger clusters are sampled.

    Returns
    -------
    indices : ndarray of shape (k,), int64
        Pool indices, all in ``candidates``, in pick order (largest cluster first).
    scores : ndarray of shape (k,), float64
        Typicality of each pick within its cluster.

    Raises
    ------
    ValueError
        If ``X`` is not 2-D or ``labeled`` does not have one entry per row.

    Examples
    --------
    Four blobs, nothing labeled: one typical item from each blob. With blob 0 covered by a
    label, the picks go to the other blobs.

    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> X, blob = make_blobs(200, centers=4, cluster_std=0.5, random_state=0)
    >>> idx, typ = typiclust_select(X, np.zeros(200, bool), np.arange(200), k=4, rng=0)
    >>> sorted(blob[idx].tolist())
    [0, 1, 2, 3]
    >>> labeled = np.zeros(200, bool)
    >>> labeled[np.flatnonzero(blob == 0)[0]] = True  # one label, in blob 0
    >>> idx, _ = typiclust_select(X, labeled, np.flatnonzero(~labeled), k=3, rng=0)
    >>> sorted(blob[idx].tolist())
    [1, 2, 3]
    """
    X = f32(check_features(X))
    n = X.shape[0]
    labeled = np.asarray(labeled, dtype=bool)
    if labeled.shape != (n,):
        raise ValueError(f"labeled has shape {labeled.shape}; expected ({n},), one per row of X")
    candidates = np.asarray(candidates, dtype=np.int64)
    k = min(int(k), candidates.shape[0])
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    rng = as_generator(rng)
    n_clusters = min(int(labeled.sum()) + k, n)
    assign = kmeans_labels(X, n_clusters, rng, max_fit)
    sizes = np.bincount(assign, minlength=n_clusters)
    covered = np.zeros(n_clusters, dtype=bool)
    covered[np.unique(assign[labeled])] = True
    is_cand = np.zeros(n, dtype=bool)
    is_cand[candidates] = True
    picks: list[int] = []
    scores: list[float] = []
    typ_cache: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    while len(picks) < k:
        open_ = np.flatnonzero(~covered)
        if open_.size == 0:
            covered[:] = False  # every cluster visited: start another round
            continue
        # largest uncovered cluster first; ties by cluster id (deterministic)
        c = int(open_[np.argsort(-sizes[open_], kind="stable")[0]])
        covered[c] = True
        if c not in typ_cache:
            members = np.flatnonzero(assign == c)
            if members.size > max_members:
                members = np.sort(rng.choice(members, size=max_members, replace=False))
            typ_cache[c] = (members, typicality(X[members], n_neighbors))
        members, typ = typ_cache[c]
        ok = is_cand[members]
        if not ok.any():
            continue
        best = int(np.argmax(np.where(ok, typ, -np.inf)))
        picks.append(int(members[best]))
        scores.append(float(typ[best]))
        is_cand[members[best]] = False
    return np.asarray(picks, dtype=np.int64), np.asarray(scores)


class TypiClust(Strategy):
    """TypiClust (Hacohen et al., 2022): typical items of uncovered k-means clusters.

    Needs no model, so it can pick the very first batch. See :func:`typiclust_select`.

    Parameters
    ----------
    n_neighbors : int, default=20
        Neighbours in the typicality estimate.
    max_fit : int, default=20000
        Pools larger than this are clustered with ``MiniBatchKMeans``.
    max_members : int, default=5000
        Clusters larger than this are sampled for the typicality estimate.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from alwidget.strategies import QueryContext
    >>> X, _ = make_blobs(200, centers=4, random_state=0)
    >>> ctx = QueryContext(X=X, labels=np.full(200, -1), candidates=np.arange(200), proba=None,
    ...                    model=None, estimator=None, n_classes=4, rng=np.random.default_rng(0))
    >>> idx, scores = TypiClust().query(ctx, 4)
    >>> idx.shape
    (4,)
    """

    name = "typiclust"
    needs_model = False

    def __init__(
        self, n_neighbors: int = 20, max_fit: int = 20000, max_members: int = 5000
    ) -> None:
        self.n_neighbors = n_neighbors
        self.max_fit = max_fit
        self.max_members = max_members

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        return typiclust_select(
            ctx.X,
            ctx.labeled,
            ctx.candidates,
            batch_size,
            ctx.rng,
            self.n_neighbors,
            self.max_fit,
            self.max_members,
        )


def cold_start_select(
    rule: str,
    X: np.ndarray,
    candidates: np.ndarray,
    k: int,
    rng: np.random.Generator,
    labels: np.ndarray | None = None,
    n_classes: int = 2,
) -> np.ndarray:
    """Pool indices for a cold-start batch by ``"typiclust"`` or ``"probcover"``.

    The hook for :func:`alwidget.selection.cold_start_pick`.

    Parameters
    ----------
    rule : {"typiclust", "probcover"}
        The cold-start rule.
    X : ndarray of shape (n_samples, n_features)
        Features of the whole pool.
    candidates : ndarray of shape (n_candidates,), int
        Pool indices that may be picked.
    k : int
        Batch size.
    rng : numpy.random.Generator
        Seeded generator.
    labels : ndarray of shape (n_samples,), int, optional
        Label codes (``-1`` unlabeled); all unlabeled if omitted.
    n_classes : int, default=2
        Number of classes (for ProbCover's radius).

    Returns
    -------
    ndarray of shape (min(k, n_candidates),), int64
        Pool indices, all in ``candidates``.

    Raises
    ------
    ValueError
        For an unknown ``rule``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> X, blob = make_blobs(200, centers=4, cluster_std=0.5, random_state=0)
    >>> for rule in ("typiclust", "probcover"):
    ...     idx = cold_start_select(rule, X, np.arange(200), 4, np.random.default_rng(0),
    ...                             n_classes=4)
    ...     print(rule, sorted(blob[idx].tolist()))  # one pick per blob
    typiclust [0, 1, 2, 3]
    probcover [0, 1, 2, 3]
    """
    n = np.asarray(X).shape[0]
    labeled = np.zeros(n, dtype=bool) if labels is None else np.asarray(labels) >= 0
    if rule == "typiclust":
        return typiclust_select(X, labeled, candidates, k, rng)[0]
    if rule == "probcover":
        delta = probcover_delta(X, n_classes, rng)
        return probcover_select(X, labeled, candidates, k, delta, rng)[0]
    raise ValueError(f"unknown cold-start rule {rule!r}; use 'typiclust' or 'probcover'")
