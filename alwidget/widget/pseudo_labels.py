"""The model's pseudo-labels on the map, drawn apart from the human labels.

A semi-supervised estimator (:mod:`alwidget.semi_supervised`) is fitted with the unlabeled
pool and keeps its pseudo-labels on the model (``pseudo_labels_`` / ``pseudo_mask_``, aligned
with the unlabeled rows it was fitted with); they never reach the label store. This layer
shows them on the map as small hollow circles in the pseudo-label's class colour, one legend
entry per class ("pseudo-label (model): <class>"); human labels keep their filled markers.
The layers are added the first time a model has pseudo-labels, so a plain estimator's map is
unchanged. Only items the map's pool trace draws (its display sample) are marked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .figure import CLASS_COLOURS

__all__ = ["PseudoLabelLayer", "model_pseudo_labels"]

_NONE = np.empty(0, dtype=np.int64)


def model_pseudo_labels(session: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Pool indices and class codes of the session model's pseudo-labeled items.

    The model was fitted (:func:`alwidget.training.fit_model`) with the items unlabeled at
    that time, in pool order, as ``X_unlabeled``; its ``pseudo_labels_`` / ``pseudo_mask_``
    follow that order. They can be mapped back only while the model is current (no label
    changed since its fit).

    Parameters
    ----------
    session : Session

    Returns
    -------
    (indices, codes) : tuple of ndarray of shape (m,), int64, or None
        The pseudo-labeled items (``pseudo_mask_`` true, code >= 0), sorted by pool index;
        empty arrays when the model has no pseudo-labels (a plain estimator, or no model yet);
        None when the model is behind the labels (the mapping is unknown).

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> from alwidget.semi_supervised import LabelSpreadingClassifier
    >>> X = np.r_[np.random.default_rng(0).normal(0, 1, (30, 2)),
    ...           np.random.default_rng(1).normal(6, 1, (30, 2))]
    >>> s = alwidget.Session(X, classes=["a", "b"], store=":memory:", batch_size=4,
    ...                      estimator=LabelSpreadingClassifier(), random_state=0)
    >>> _ = s.submit({0: "a", 1: "a", 30: "b", 31: "b"}, source="map")
    >>> idx, codes = model_pseudo_labels(s)
    >>> len(idx), bool((codes == (idx >= 30)).all())
    (56, True)
    >>> s.close()
    """
    model = session.model
    pseudo = getattr(model, "pseudo_labels_", None)
    if model is None or pseudo is None:
        return _NONE, _NONE
    if session.labels_version != session.model_labels_version:
        return None
    pseudo = np.asarray(pseudo, dtype=np.int64)
    mask = np.asarray(getattr(model, "pseudo_mask_", pseudo >= 0), dtype=bool)
    rest = np.flatnonzero(np.asarray(session.y) < 0)
    if rest.shape != pseudo.shape or mask.shape != pseudo.shape:
        return None  # fitted on other rows than this session's unlabeled pool
    keep = mask & (pseudo >= 0)
    return rest[keep].astype(np.int64), pseudo[keep]


class PseudoLabelLayer:
    """Hollow class-coloured markers on the map for the model's pseudo-labeled items.

    Parameters
    ----------
    map_view : MapView
        The map to draw on (through its overlay API only).
    session : Session
        Whose model's pseudo-labels are shown (see :func:`model_pseudo_labels`).

    Attributes
    ----------
    overlays : list of Overlay
        One per class once a model had pseudo-labels (empty before).
    shown : dict of int to ndarray
        Pool indices drawn per class code (the map's display sample only).

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> from alwidget.semi_supervised import LabelSpreadingClassifier
    >>> from alwidget.widget.map import MapView
    >>> X = np.r_[np.zeros((10, 2)), np.ones((10, 2))] + np.arange(20)[:, None] * 0.01
    >>> s = alwidget.Session(X, classes=["a", "b"], store=":memory:", batch_size=4,
    ...                      estimator=LabelSpreadingClassifier(n_neighbors=3))
    >>> layer = PseudoLabelLayer(MapView(X, s.classes), s)
    >>> _ = s.submit({0: "a", 10: "b"}, source="map")
    >>> layer.update()
    >>> sorted(len(v) for v in layer.shown.values())
    [9, 9]
    >>> s.close()
    """

    def __init__(self, map_view: Any, session: Any) -> None:
        self.map = map_view
        self.session = session
        self.overlays: list[Any] = []
        self.shown: dict[int, np.ndarray] = {}
        self._model_id: int | None = None

    def _ensure_overlays(self) -> None:
        if self.overlays:
            return
        for c, name in enumerate(self.session.classes):
            self.overlays.append(
                self.map.add_overlay(
                    f"pseudo-label (model): {name}",
                    hover=f"pseudo-label (model): {name}; not a human label",
                    symbol="circle-open",
                    size=7,
                    color=CLASS_COLOURS[c % len(CLASS_COLOURS)],
                    line=dict(width=1.2),
                )
            )

    def update(self) -> None:
        """Redraw from the session's current model; a model behind the labels keeps the last
        drawing minus the items labeled since (a human label always wins)."""
        s = self.session
        got = model_pseudo_labels(s)
        if got is None:
            if id(s.model) != self._model_id:
                got = (_NONE, _NONE)  # another model whose rows are unknown: show nothing
            else:
                unl = np.asarray(s.y) < 0
                self._draw({c: v[unl[v]] for c, v in self.shown.items()})
                return
        idx, codes = got
        self._model_id = id(s.model) if idx.size else None
        on_map = np.isin(idx, self.map.shown)
        idx, codes = idx[on_map], codes[on_map]
        self._draw({c: idx[codes == c] for c in range(len(s.classes))})

    def _draw(self, groups: dict[int, np.ndarray]) -> None:
        if not any(v.size for v in groups.values()) and not self.overlays:
            self.shown = {}
            return
        self._ensure_overlays()
        self.shown = {c: groups.get(c, _NONE) for c in range(len(self.overlays))}
        self.map.set_overlays({ov: self.shown[c] for c, ov in enumerate(self.overlays)})
