"""Pool geometry of a batch: coverage, outlier fixation, redundancy and class balance.

Part of :mod:`alwidget.diagnostics` (import the names from there). Every function works in
feature space (the session's ``X``), not on the 2-D map.

References
----------
Sener, O. & Savarese, S. (2018). Active Learning for Convolutional Neural Networks: A Core-Set
Approach. ICLR. (coverage radius)
Karamcheti, S., Krishna, R., Fei-Fei, L. & Manning, C. (2021). Mind Your Outliers! Investigating
the Negative Impact of Outliers on Active Learning for Visual Question Answering. ACL.
(outlier fixation)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics.pairwise import euclidean_distances
from sklearn.neighbors import NearestNeighbors

__all__ = [
    "distance_to_labels",
    "coverage",
    "knn_distance",
    "outlier_fixation",
    "far_outliers",
    "random_pair_distance",
    "batch_redundancy",
    "class_balance",
    "PoolGeometry",
]


def distance_to_labels(X: np.ndarray, labeled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance of every item to its nearest labeled item, and which labeled item that is.

    What core-set covers: the largest of these distances is the covering radius it
    minimises (Sener & Savarese, 2018). scikit-learn's chunked
    :func:`~sklearn.metrics.pairwise_distances_argmin_min`, no ``n x n`` matrix.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Pool features.
    labeled : ndarray of shape (n_samples,), bool
        True where an item is labeled.

    Returns
    -------
    distance : ndarray of shape (n_samples,), float32
        Euclidean, in feature units; 0 for labeled items; ``inf`` everywhere when nothing is
        labeled.
    nearest : ndarray of shape (n_samples,), int64
        Pool index of the nearest labeled item (-1 when nothing is labeled).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0], [3, 4], [6, 8]])
    >>> d, near = distance_to_labels(X, np.array([True, False, False]))
    >>> d.tolist(), near.tolist()
    ([0.0, 5.0, 10.0], [0, 0, 0])
    """
    from sklearn.metrics import pairwise_distances_argmin_min

    labeled = np.asarray(labeled, dtype=bool)
    n = len(labeled)
    if not labeled.any():
        return np.full(n, np.inf, dtype=np.float32), np.full(n, -1, dtype=np.int64)
    lab = np.flatnonzero(labeled)
    arg, d = pairwise_distances_argmin_min(X, X[lab])
    d = np.asarray(d, dtype=np.float32)
    d[lab] = 0.0
    return d, lab[arg].astype(np.int64)


def coverage(X: np.ndarray, labeled: np.ndarray) -> tuple[float, float]:
    """Core-set coverage: distance from unlabeled items to their nearest labeled item.

    The maximum is the covering radius that core-set selection minimises (Sener & Savarese,
    2018); the mean says how well the labeled set covers the pool on average.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Pool features.
    labeled : ndarray of shape (n_samples,), bool
        True where an item is labeled.

    Returns
    -------
    mean, max : float
        Euclidean distances in feature units; ``(nan, nan)`` when nothing is labeled, ``(0, 0)``
        when everything is.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0], [3, 4], [6, 8]])
    >>> coverage(X, np.array([True, False, False]))  # the others are 5 and 10 away
    (7.5, 10.0)
    """
    labeled = np.asarray(labeled, dtype=bool)
    if not labeled.any():
        return float("nan"), float("nan")
    if labeled.all():
        return 0.0, 0.0
    d = distance_to_labels(X, labeled)[0][~labeled].astype(np.float64)
    return float(d.mean()), float(d.max())


def knn_distance(X: np.ndarray, k: int = 10) -> np.ndarray:
    """Mean distance of each item to its ``k`` nearest other items (inverse density).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    k : int, default=10
        Clipped to ``n_samples - 1``.

    Returns
    -------
    ndarray of shape (n_samples,), float64
        Larger = sparser neighbourhood. Cost: one kNN query over the pool
        (``O(n log n)`` with a tree in low dimension, ``O(n^2 d)`` brute force otherwise).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0], [1, 0], [0, 1], [1, 1], [10, 10]])
    >>> knn_distance(X, k=2).round(2).tolist()  # the item at (10, 10) sits alone
    [1.0, 1.0, 1.0, 1.0, 13.09]
    """
    n = X.shape[0]
    k = max(1, min(int(k), n - 1))
    d, _ = NearestNeighbors(n_neighbors=k + 1).fit(X).kneighbors(X)
    return d[:, 1:].mean(axis=1)


def outlier_fixation(batch: np.ndarray, knn_dist: np.ndarray, quantile: float = 0.9) -> float:
    """Share of a batch in the pool's lowest-density decile.

    Uncertainty sampling tends to pick outliers: items the model cannot fit that sit far from
    everything else (Karamcheti et al., 2021). A random batch has about 0.1 here.

    Parameters
    ----------
    batch : ndarray of shape (k,), int
        Pool indices of the batch.
    knn_dist : ndarray of shape (n_samples,)
        :func:`knn_distance` of the pool.
    quantile : float, default=0.9
        Items with kNN distance at or above this quantile are the low-density part (0.9 =
        lowest-density decile).

    Returns
    -------
    float
        In [0, 1]; NaN for an empty batch.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0], [1, 0], [0, 1], [1, 1], [10, 10]])
    >>> kd = knn_distance(X, k=2)
    >>> outlier_fixation(np.array([4, 1]), kd, quantile=0.8)  # half the batch is the outlier
    0.5
    """
    batch = np.asarray(batch, dtype=np.int64)
    if batch.size == 0:
        return float("nan")
    cut = np.quantile(knn_dist, quantile)
    return float(np.mean(knn_dist[batch] >= cut))


def _mean_pairwise(Xb: np.ndarray) -> float:
    d = euclidean_distances(np.asarray(Xb, dtype=np.float64))
    iu = np.triu_indices(Xb.shape[0], 1)
    return float(d[iu].mean())


def random_pair_distance(X: np.ndarray, n_pairs: int = 4000, rng: Any = 0) -> float:
    """Expected distance between two distinct random pool items (Monte Carlo estimate).

    This is the expected mean pairwise distance of a uniformly random batch.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        At least two rows.
    n_pairs : int, default=4000
        Pairs drawn.
    rng : int, Generator or None, default=0
        Seed of the draw.

    Returns
    -------
    float
        In feature units.

    Examples
    --------
    Two independent 2-D standard normal points are ``sqrt(pi) = 1.77`` apart on average:

    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(2000, 2))
    >>> round(random_pair_distance(X), 2)
    1.76
    """
    rng = np.random.default_rng(rng)
    n = X.shape[0]
    a = rng.integers(0, n, n_pairs)
    b = (a + rng.integers(1, n, n_pairs)) % n
    return float(np.linalg.norm(X[a] - X[b], axis=1).mean())


def batch_redundancy(X: np.ndarray, batch: np.ndarray, reference: float | None = None) -> float:
    """Mean pairwise distance within a batch relative to a random batch.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    batch : ndarray of shape (k,), int
    reference : float, optional
        Expected pairwise distance of a random batch (:func:`random_pair_distance`);
        computed if omitted.

    Returns
    -------
    float
        About 1 for a random batch; **below 1 = redundant** (items closer to each other than
        chance, e.g. top-k uncertainty picking near-duplicates), above 1 = spread out (core-set).
        NaN for batches of fewer than two items.

    Examples
    --------
    A batch of five near-duplicates of one item is highly redundant:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> X = np.vstack([X, X[0] + 0.01 * rng.normal(size=(5, 2))])  # rows 200-204
    >>> round(batch_redundancy(X, np.arange(200, 205)), 3)
    0.007
    """
    batch = np.asarray(batch, dtype=np.int64)
    if batch.size < 2:
        return float("nan")
    ref = random_pair_distance(X) if reference is None else reference
    return _mean_pairwise(np.asarray(X[batch], dtype=np.float64)) / ref if ref > 0 else float("nan")


def class_balance(labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, float]:
    """Class counts of the labeled set and their normalised entropy.

    Parameters
    ----------
    labels : ndarray of shape (n_samples,), int
        Label codes, -1 for unlabeled.
    n_classes : int

    Returns
    -------
    counts : ndarray of shape (n_classes,), int64
    balance : float
        Entropy of the class shares divided by ``log(n_classes)``: 1 = perfectly balanced,
        0 = one class only; NaN with no labels.

    Examples
    --------
    >>> import numpy as np
    >>> counts, balance = class_balance(np.array([0, 0, 1, -1, -1]), n_classes=2)
    >>> counts.tolist(), round(balance, 3)
    ([2, 1], 0.918)
    """
    labels = np.asarray(labels)
    counts = np.bincount(labels[labels >= 0], minlength=n_classes).astype(np.int64)
    tot = counts.sum()
    if tot == 0:
        return counts, float("nan")
    p = counts[counts > 0] / tot
    return counts, float(-(p * np.log(p)).sum() / np.log(n_classes)) + 0.0  # never -0.0


class PoolGeometry:
    """Per-pool quantities computed once: kNN density and the random-pair distance.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    k : int, default=10
        Neighbours for the density estimate.
    random_state : int, default=0
        Seed of :func:`random_pair_distance`.

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features), float64
    knn_dist : ndarray of shape (n_samples,), float64
        :func:`knn_distance` of every item.
    pair_distance : float
        :func:`random_pair_distance` of the pool.

    Examples
    --------
    >>> import numpy as np
    >>> geo = PoolGeometry(np.random.default_rng(0).normal(size=(200, 2)), k=5)
    >>> labels = np.full(200, -1)
    >>> labels[:4] = [0, 1, 0, 1]  # this round labeled items 0-3
    >>> d = geo.diagnostics(np.arange(4), labels, n_classes=2)
    >>> {name: round(value, 2) for name, value in d.items()}
    {'coverage_mean': 0.89, 'coverage_max': 3.67, 'outlier_fixation': 0.0,
     'far_outlier_share': 0.0, 'far_outliers_labeled': 0.0, 'batch_redundancy': 0.69,
     'class_balance': 1.0}
    """

    def __init__(self, X: np.ndarray, k: int = 10, random_state: int = 0) -> None:
        self.X = np.asarray(X, dtype=np.float64)
        self.knn_dist = knn_distance(self.X, k)
        #: Far outliers of the pool (:func:`far_outliers` of ``knn_dist``), bool (n_samples,).
        self.far = far_outliers(self.knn_dist)
        self.pair_distance = random_pair_distance(self.X, rng=random_state)

    def diagnostics(
        self, batch: np.ndarray, labels: np.ndarray, n_classes: int
    ) -> dict[str, float]:
        """Coverage, outlier fixation, batch redundancy and class balance for one round.

        Parameters
        ----------
        batch : ndarray of shape (k,), int
            Items picked (and labeled) this round.
        labels : ndarray of shape (n_samples,), int
            Label codes after the round.

        Returns
        -------
        dict
            ``coverage_mean``, ``coverage_max`` (feature units), ``outlier_fixation`` (share
            of the batch in the sparsest decile), ``far_outlier_share`` (share of the batch
            that are far outliers), ``far_outliers_labeled`` (far outliers labeled so far,
            a count), ``batch_redundancy`` (ratio to a random batch), ``class_balance``
            (normalised entropy).
        """
        cmean, cmax = coverage(self.X, labels >= 0)
        _, bal = class_balance(labels, n_classes)
        return {
            "coverage_mean": cmean,
            "coverage_max": cmax,
            "outlier_fixation": outlier_fixation(batch, self.knn_dist),
            "far_outlier_share": float(self.far[batch].mean()) if len(batch) else float("nan"),
            "far_outliers_labeled": float(np.count_nonzero(self.far & (labels >= 0))),
            "batch_redundancy": batch_redundancy(self.X, batch, self.pair_distance),
            "class_balance": bal,
        }


def far_outliers(knn_dist: np.ndarray, fence: float = 3.0) -> np.ndarray:
    """Far outliers: items whose kNN distance lies beyond Tukey's far-out fence.

    :func:`outlier_fixation` counts picks in the sparsest tenth of the pool, which holds the
    gaps between clusters as well as real outliers; this keeps only the items far from
    everything: kNN distance above ``Q3 + fence * (Q3 - Q1)`` of the pool's kNN distances
    (Tukey, 1977: 3 IQR = "far out"). On Gaussian pools of 5 or more dimensions it marks
    none or almost none; on 2-D data the sparse tail of a cluster counts too (its points are
    far from the rest).

    Parameters
    ----------
    knn_dist : ndarray of shape (n_samples,)
        :func:`knn_distance` of the pool.
    fence : float, default=3.0
        Interquartile ranges above the third quartile (1.5 = Tukey's "outside").

    Returns
    -------
    ndarray of shape (n_samples,), bool
        True for far outliers.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(200, 5)), np.full((1, 5), 8.0), np.full((1, 5), -9.0)])
    >>> np.flatnonzero(far_outliers(knn_distance(X, k=5))).tolist()
    [200, 201]
    """
    d = np.asarray(knn_dist, dtype=np.float64)
    q1, q3 = np.quantile(d, [0.25, 0.75])
    return d > q3 + float(fence) * (q3 - q1)
