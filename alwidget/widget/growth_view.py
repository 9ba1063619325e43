"""New items in the labeling widget: the pool grows, the map places the new points and marks
them "new" (see :meth:`alwidget.Session.add_items` for the core).

Placement: on 2-D features the map is the data; under PCA the projection is refitted on the
grown pool (fast, seeded); under UMAP each new point is put at the mean map position of its
10 nearest existing items in feature space (UMAP's own out-of-sample initialisation) until
the projection is refitted.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..projection import pca_2d
from .support import _hover_texts, _RowItems

__all__ = ["place_new_points", "grow_widget", "show_growth", "GrownItems"]


class GrownItems:
    """The widget's items followed by the items that arrived (one sequence, indexable)."""

    def __init__(self, old: Any, new: Any) -> None:
        self.old, self.new = old, list(new)

    def __len__(self) -> int:
        return len(self.old) + len(self.new)

    def __getitem__(self, i: int) -> Any:
        i = int(i)
        n_old = len(self.old)
        return self.old[i] if i < n_old else self.new[i - n_old]


def place_new_points(
    xy: np.ndarray, X: np.ndarray, n_old: int, method: str, random_state: int = 0
) -> np.ndarray:
    """Map coordinates of a grown pool.

    Parameters
    ----------
    xy : ndarray of shape (n_old, 2), float32
        Coordinates of the items before growth.
    X : ndarray of shape (n, n_features)
        Features of the grown pool (the new items last).
    n_old : int
    method : {"identity", "pca", "umap"}
        The projection in use.

    Returns
    -------
    ndarray of shape (n, 2), float32

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0, 0], [0, 0, 1], [10, 10, 10], [10, 10, 11], [0, 0, 0.5]])
    >>> xy = np.array([[0, 0], [0, 1], [5, 5], [5, 6]], dtype=np.float32)
    >>> place_new_points(xy, X, 4, "umap")[4].tolist()  # between its neighbours 0 and 1
    [2.5, 3.0]
    """
    if method == "identity":
        return np.asarray(X[:, :2], dtype=np.float32)
    if method == "pca":
        return pca_2d(X, random_state).astype(np.float32)
    from sklearn.neighbors import NearestNeighbors

    k = min(10, n_old)
    nn = NearestNeighbors(n_neighbors=k).fit(X[:n_old])
    near = nn.kneighbors(X[n_old:], return_distance=False)
    new = xy[near].mean(axis=1)
    return np.vstack([xy, new]).astype(np.float32)


def grow_widget(widget: Any, X_new: Any, items: Any = None) -> np.ndarray:
    """Add items to the widget's session and show them on the map, marked "new".

    Parameters
    ----------
    widget : LabelingWidget
    X_new : ndarray or DataFrame of shape (m, n_features)
    items : sequence of length m, optional
        What a human looks at for the new items; needed when the widget was given items.

    Returns
    -------
    ndarray of shape (m,), int64
        The new items' pool indices.

    Raises
    ------
    ValueError
        If ``items`` is missing or has another length than ``X_new`` while the widget shows
        items of its own; and as :meth:`alwidget.Session.add_items`.
    """
    m = len(X_new)
    if not isinstance(widget.items, _RowItems) and (items is None or len(items) != m):
        raise ValueError(
            f"pass items=... with one item per new row ({m}): the widget shows items of its own"
        )
    with widget.lock:
        widget.arriving_items = items
        try:
            return widget.session.add_items(X_new)  # event "grow": show_growth draws them
        finally:
            widget.arriving_items = None


def show_growth(widget: Any) -> None:
    """Bring the view up to a pool that grew (event ``"grow"``): items, map positions and the
    "new" layer. Items added to the session directly (not through the widget) are shown by
    their feature rows when the widget has items of its own."""
    s = widget.session
    n_old = widget.map.n_samples
    if s.n_samples <= n_old:
        return
    new = np.arange(n_old, s.n_samples, dtype=np.int64)
    if not isinstance(widget.items, _RowItems):
        items = widget.arriving_items
        if items is None or len(items) != len(new):
            items = [s.X[i] for i in new]
        widget.items = GrownItems(widget.items, items)
    p = widget.projection
    p.X = s.X
    p.xy = place_new_points(p.xy, s.X, n_old, p.method_, p.random_state)
    widget.map.grow(p.xy, _hover_texts(widget.items, s.n_samples))
    if widget.new_overlay is None:
        widget.new_overlay = widget.map.add_overlay(
            "new (arrived)",
            symbol="star-triangle-up-open",
            size=10,
            color="#1a9850",
            line={"width": 1.5, "color": "#1a9850"},
        )
    widget.new_items = np.concatenate([widget.new_items, new])
    widget.map.set_overlay(widget.new_overlay, widget.new_items)
