"""What the map's colour shows, said on its colour bar with its direction.

Every colour the map can take has one title here, naming the measure, its scale and which end
means what ("uncertainty (1 − margin), high = unsure"). :func:`map_colour` computes the values
(on the colour bar's fixed 0..1 scale) and the title together, so the bar cannot say one thing
while the points show another:

* ``"uncertainty"``: the current strategy's measure of the current model (at cold start, no
  model: all items alike);
* ``"distance"``: distance to the nearest labeled item, as a share of the covering radius
  (what core-set shrinks; the default colour while a strategy that needs no model runs);
* ``"dispersion"``, ``"forgetting"``: learning dynamics of the teaching panel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..diagnostics_geometry import distance_to_labels

__all__ = [
    "MapColour",
    "MEASURE_TITLES",
    "uncertainty_title",
    "map_colour",
    "default_colour",
    "show_coverage",
    "add_coverage_layer",
]

#: Colour-bar titles of the uncertainty measures (values rescaled to 0..1).
MEASURE_TITLES = {
    "margin": "uncertainty (1 − margin), high = unsure",
    "entropy": "uncertainty (entropy ÷ log classes), high = unsure",
    "least_confidence": "uncertainty (1 − top probability), high = unsure",
}
MODEL_TITLE = "uncertainty ({name}, share of its maximum), high = unsure"
COLD_TITLE = "uncertainty: no model yet (cold start), all alike"


@dataclass
class MapColour:
    """One colour of the map.

    Attributes
    ----------
    values : ndarray of shape (n_samples,), float32
        On the colour bar's fixed 0..1 scale.
    title : str
        Colour-bar title: the measure, its scale, its direction.
    radius : float or None
        For ``"distance"``: the covering radius (feature units), else None.
    farthest : int or None
        For ``"distance"``: the item at the covering radius.
    nearest_label : int or None
        For ``"distance"``: the labeled item nearest to ``farthest``.
    """

    values: np.ndarray
    title: str
    radius: float | None = None
    farthest: int | None = None
    nearest_label: int | None = None


def uncertainty_title(session: Any) -> str:
    """The colour-bar title of :attr:`alwidget.Session.uncertainty` as it is now.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> with alwidget.Session(np.eye(4), classes=["a", "b"], store=":memory:",
    ...                       batch_size=2, strategy="margin") as s:
    ...     uncertainty_title(s)
    'uncertainty: no model yet (cold start), all alike'
    """
    st = session.strategy
    if session.model is None:
        return COLD_TITLE
    if hasattr(st, "model_uncertainty"):
        return MODEL_TITLE.format(name="MC mutual information")
    return MEASURE_TITLES.get(st.measure, f"uncertainty ({st.measure}), high = unsure")


def default_colour(session: Any) -> str:
    """``"distance"`` while a strategy that needs no model (core-set, TypiClust, ProbCover)
    picks the batches and something is labeled, else ``"uncertainty"``."""
    st = session.strategy
    if not st.needs_model and st.name != "random" and session.n_labeled > 0:
        return "distance"
    return "uncertainty"


def map_colour(session: Any, colour: str = "uncertainty", history: Any = None) -> MapColour:
    """Values and colour-bar title of one map colour.

    Parameters
    ----------
    session : Session
    colour : {"uncertainty", "distance", "dispersion", "forgetting"}
    history : RoundHistory, optional
        Needed for ``"dispersion"`` and ``"forgetting"`` (the teaching panel's).

    Returns
    -------
    MapColour

    Raises
    ------
    ValueError
        On an unknown colour, or a dynamics colour without ``history``.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> X = np.array([[0.0, 0], [3, 4], [6, 8], [0, 1]])
    >>> with alwidget.Session(X, classes=["a", "b"], store=":memory:", batch_size=2) as s:
    ...     _ = s.submit({0: "a"}, source="map")
    ...     c = map_colour(s, "distance")
    >>> [round(float(v), 2) for v in c.values], c.radius, c.farthest
    ([0.0, 0.5, 1.0, 0.1], 10.0, 2)
    >>> c.title
    'distance to the nearest label ÷ covering radius r = 10, high = far'
    """
    if colour == "uncertainty":
        return MapColour(
            np.asarray(session.uncertainty, dtype=np.float32), uncertainty_title(session)
        )
    if colour == "distance":
        labeled = np.asarray(session.y) >= 0
        d, near = distance_to_labels(session.X, labeled)
        if not labeled.any():
            return MapColour(
                np.ones(session.n_samples, dtype=np.float32),
                "distance to the nearest label: nothing labeled yet, all alike",
            )
        far = int(np.argmax(d))
        r = float(d[far])
        values = d / r if r > 0 else np.zeros_like(d)
        title = f"distance to the nearest label ÷ covering radius r = {r:.3g}, high = far"
        return MapColour(values.astype(np.float32), title, r, far, int(near[far]))
    if colour in ("dispersion", "forgetting"):
        if history is None:
            raise ValueError(f"map colour {colour!r} needs the teaching panel's round history")
        if colour == "dispersion":
            v = np.asarray(history.dispersion.dispersion, dtype=np.float32)
            return MapColour(
                v, "label dispersion (share of rounds the prediction changed), high = unstable"
            )
        if history.forgetting is None:
            raise ValueError("forgetting events need the true labels (y_true)")
        cnt = history.forgetting.counts.astype(np.float32)
        top = max(1.0, float(cnt.max()))
        return MapColour(
            cnt / top, f"forgetting events ÷ the most ({top:.0f}), high = often forgotten"
        )
    raise ValueError(
        f"unknown map colour {colour!r}; use 'uncertainty', 'distance', 'dispersion' or 'forgetting'"
    )


def show_coverage(map_view: Any, colour: MapColour, layer: Any) -> None:
    """Draw the covering radius of a ``"distance"`` colour, or clear it for any other.

    The item at the covering radius is marked on ``layer`` (a point overlay of the map). When
    the map is the data itself (2-D features), a ring of radius ``r`` is drawn around the
    labeled item nearest to it: on a projection a 2-D ring would not be that distance, so
    only the mark and the title say ``r`` there.
    """
    if colour.radius is None or colour.farthest is None:
        map_view.set_overlay(layer, [])
        map_view.set_shapes([])
        return
    map_view.set_overlay(layer, [colour.farthest])
    if map_view.projection != "feature" or colour.nearest_label is None:
        map_view.set_shapes([])
        return
    cx, cy = (float(v) for v in map_view.xy[colour.nearest_label])
    r = float(colour.radius)
    ring = dict(
        type="circle",
        xref="x",
        yref="y",
        x0=cx - r,
        x1=cx + r,
        y0=cy - r,
        y1=cy + r,
        line=dict(color="#ff00ff", width=2, dash="dash"),
        layer="above",
    )
    map_view.set_shapes([ring])


def add_coverage_layer(map_view: Any) -> Any:
    """Add the (empty) layer that marks the item at the covering radius; returns it."""
    return map_view.add_overlay(
        "at covering radius",
        hover="farthest from every label (the covering radius)",
        symbol="square-open",
        size=14,
        color="#ff00ff",
        line=dict(width=2.5),
    )
