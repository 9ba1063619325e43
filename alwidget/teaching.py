"""Teaching helpers: the teaching lab (in :mod:`alwidget.widget.lab`; this name stays
importable) and :func:`outlier_toy`, a 2-D problem where uncertainty sampling wastes labels.

``alwidget.teaching.teach``, ``TeachingLab`` and ``compare_strategies_figure`` are loaded on
first use, so importing this module loads neither ipywidgets nor plotly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # for type checkers and ruff; at run time __getattr__ loads them
    from .widget.lab import TeachingLab, compare_strategies_figure, teach

__all__ = ["teach", "TeachingLab", "compare_strategies_figure", "outlier_toy"]
_LAB = ("teach", "TeachingLab", "compare_strategies_figure")


def outlier_toy(
    n_samples: int = 600,
    n_outliers: int = 40,
    *,
    cluster_std: float = 1.5,
    random_state: int | None = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three 2-D classes and a ring of far outliers with random labels.

    Made to show *outlier fixation* (Karamcheti et al., 2021): with a model that knows it
    does not know far from its data (a Gaussian-process classifier, whose probabilities go
    back to the prior away from every label), the outliers look most uncertain, so
    uncertainty sampling labels them first; their labels are random (think typos, corrupted
    images), so each one is a label wasted. Notebook 03 measures it against random and an
    :class:`~alwidget.strategies.OutlierFilter` around entropy.

    Parameters
    ----------
    n_samples : int, default=600
        Items of the three classes (``make_blobs`` centres (-4, -2), (4, -2), (0, 4)).
    n_outliers : int, default=40
        Far outliers, at a random angle and distance 10-16 from the origin.
    cluster_std : float, default=1.5
        Spread of each class.
    random_state : int or None, default=0

    Returns
    -------
    X : ndarray of shape (n_samples + n_outliers, 2), float64
        Features; the map is the data itself.
    y : ndarray of shape (n_samples + n_outliers,), int64
        Class codes 0, 1, 2 (random for the outliers).
    is_outlier : ndarray of shape (n_samples + n_outliers,), bool
        True for the injected outliers (the last ``n_outliers`` rows).

    Examples
    --------
    >>> X, y, is_outlier = outlier_toy(random_state=0)
    >>> X.shape, int(is_outlier.sum()), sorted(set(y.tolist()))
    ((640, 2), 40, [0, 1, 2])
    """
    from sklearn.datasets import make_blobs

    rng = np.random.default_rng(random_state)
    Xb, yb = make_blobs(
        n_samples=n_samples,
        centers=[[-4, -2], [4, -2], [0, 4]],
        cluster_std=cluster_std,
        random_state=int(rng.integers(2**31 - 1)),
    )
    angle = rng.uniform(0, 2 * np.pi, n_outliers)
    out = np.c_[np.cos(angle), np.sin(angle)] * rng.uniform(10, 16, n_outliers)[:, None]
    X = np.vstack([Xb, out])
    y = np.concatenate([yb, rng.integers(0, 3, n_outliers)]).astype(np.int64)
    return X, y, np.r_[np.zeros(n_samples, bool), np.ones(n_outliers, bool)]


def __getattr__(name: str) -> Any:
    if name in _LAB:
        from .widget import lab

        return getattr(lab, name)
    raise AttributeError(f"module 'alwidget.teaching' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
