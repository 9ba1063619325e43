"""The teaching panel's layers on the labeling widget's map, drawn only through
:class:`~alwidget.widget.map.MapView`'s overlay API: the picks of a replayed round, what other
strategies would pick now, the model's decision regions (2-D data) and map colours from
learning dynamics."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..simulation import STRATEGY_COLOURS
from ..strategies import Strategy, get_strategy
from .colours import default_colour, map_colour, show_coverage
from .figure import BATCH_COLOUR, CLASS_COLOURS, Overlay
from .teaching_views import decision_grid

__all__ = ["COMPARE_SYMBOLS", "MAP_COLOURS", "TeachingLayers"]

COMPARE_SYMBOLS = ["x", "triangle-up", "star", "square", "cross", "triangle-down"]
MAP_COLOURS = {
    "auto": "what the strategy looks at (uncertainty; distance for core-set)",
    "uncertainty": "uncertainty of the current model",
    "distance": "distance to the nearest label (core-set coverage)",
    "dispersion": "label dispersion (Bengar et al. 2021)",
    "forgetting": "forgetting events (Toneva et al. 2019)",
}
_NONE = np.empty(0, np.int64)


class TeachingLayers:
    """Adds its layers to ``map`` once, empty, and fills them with pool indices and grids.

    Parameters
    ----------
    session : Session
    map : MapView
    compare : sequence of str
        Strategies whose picks can be shown; names that are not registered are listed in
        ``unavailable``.
    boundary : bool
        Add a decision-regions layer (only meaningful when the map is the 2-D data itself).
    grid_size : int
        Resolution of the decision-region grid.
    random_state : int
        Seed of the compared strategies' picks (with the round number).

    Attributes
    ----------
    compare_names, unavailable : list of str
    replay_overlay : Overlay
    compare_overlays : list of Overlay
    regions : Overlay or None
    grids : list
        Decision grid of the model trained after each round (index 0: before any label).
    """

    def __init__(
        self,
        session: Any,
        map: Any,
        *,
        compare: Sequence[str],
        boundary: bool,
        grid_size: int,
        random_state: int,
        coverage_layer: Any = None,
        redraw_live: Any = None,
    ) -> None:
        self.session, self.map = session, map
        self.random_state = int(random_state)
        #: The labeling widget's covering-radius mark, when given (``coverage_layer=``).
        self.coverage_layer = coverage_layer
        #: Redraws the widget's live labels, batch and marks (``LabelingWidget.redraw_map``).
        self.redraw_live = redraw_live
        self.compare_names: list[str] = []
        self.unavailable: list[str] = []
        self._strategies: list[Strategy] = []
        for name in compare:
            try:
                st = get_strategy(name)
            except ValueError:
                self.unavailable.append(str(name))
                continue
            self.compare_names.append(st.name)
            self._strategies.append(st)
        self.grid_size = int(grid_size)
        self.grids: list[list | None] = []
        self.regions: Overlay | None = None
        if boundary:
            k = len(session.classes)
            colours = [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(k)]
            self.regions = map.add_regions("decision regions", colours)
            #: Contour lines of the strategy's acquisition score (its uncertainty measure).
            self.score_lines = map.add_regions(
                "uncertainty the strategy scores, lines at .2 … .8", lines=True
            )
        self.replay_overlay = map.add_overlay(
            "picked (replay)",
            hover="picked in this round",
            symbol="diamond-open",
            size=15,
            color=BATCH_COLOUR,
            line=dict(width=2.5),
        )
        self.compare_overlays = [
            map.add_overlay(
                f"{name}'s pick",
                hover=f"{name} would pick",
                symbol=COMPARE_SYMBOLS[i % len(COMPARE_SYMBOLS)],
                size=11,
                color=STRATEGY_COLOURS.get(name, "#8c564b"),
                line=dict(width=1.5, color="white"),  # visible on dark points too
            )
            for i, name in enumerate(self.compare_names)
        ]

    # -- replay ------------------------------------------------------------------------------
    def show_live(self, colour: str, history: Any) -> None:
        """Back to the live state: the widget's own labels, batch and "last labeled" marks
        (``redraw_live``), no replay picks, the newest regions, colour by ``colour`` (a key
        of :data:`MAP_COLOURS`)."""
        if self.redraw_live is not None:
            self.redraw_live()
        self.map.set_overlay(self.replay_overlay, _NONE)
        self.draw_regions(len(self.grids) - 1)
        self.recolour(colour, history)

    def show_round(self, r: int, rnd: Any, before: Any = None) -> None:
        """Show round ``r`` (1-based) as it was when its batch was picked, and nothing
        newer: the labels then, its batch, the previous round's picks as "last labeled",
        the uncertainty of the model that picked it and that model's regions.

        ``before`` is round ``r - 1`` (None for the first round).
        """
        heading = (
            f"Replay of round {r}: {rnd.strategy} picked {rnd.picked.size} items (◇); "
            f"{int((rnd.labels_before >= 0).sum()) if rnd.labels_before is not None else '?'} "
            "labels then"
        )
        picked = np.asarray(rnd.picked, dtype=np.int64)
        last = _NONE if before is None else np.asarray(before.picked, dtype=np.int64)
        title = f"uncertainty of round {r}'s model, high = unsure"
        if str(rnd.strategy).startswith("cold start"):
            title = f"uncertainty: no model yet at round {r} (cold start), all alike"
        if rnd.uncertainty is not None and rnd.labels_before is not None:
            self.map.update(rnd.uncertainty, rnd.labels_before, picked, title, last=last)
            self.map.set_heading(heading)
        elif rnd.uncertainty is not None:
            self.map.recolour(rnd.uncertainty, title, heading=heading)
        else:
            self.map.set_heading(heading)
        if self.coverage_layer is not None:
            self.map.set_overlay(self.coverage_layer, _NONE)
            self.map.set_shapes([])
        self.map.set_overlay(self.replay_overlay, picked)
        self.draw_regions(r - 1)

    def recolour(self, colour: str, history: Any) -> None:
        """Colour the map by a key of :data:`MAP_COLOURS` (values and colour-bar title from
        :func:`alwidget.widget.colours.map_colour`, so the bar names what is shown)."""
        if colour not in MAP_COLOURS:
            raise ValueError(f"unknown map colour {colour!r}; use one of {list(MAP_COLOURS)}")
        s = self.session
        c = map_colour(s, default_colour(s) if colour == "auto" else colour, history)
        self.map.recolour(c.values, c.title)
        if self.coverage_layer is not None:
            show_coverage(self.map, c, self.coverage_layer)

    # -- what other strategies would pick ----------------------------------------------------
    def compare_picks(self) -> dict[str, np.ndarray]:
        """What each compared strategy would pick now from the same pool and model.

        Returns
        -------
        dict of str to ndarray of shape (k,), int64
            Strategy name -> pool indices (empty at cold start for strategies needing a
            model). Uses a seeded generator per round; the session's own generator is not
            touched.
        """
        s = self.session
        cand = np.setdiff1d(np.flatnonzero((s.y < 0) & ~s.excluded), s.skipped)
        k = min(s.batch_size, cand.size)
        out = {}
        for st in self._strategies:
            if k == 0 or (st.needs_model and s.model is None):
                out[st.name] = _NONE.copy()
                continue
            rng = np.random.default_rng([self.random_state, s.round])
            ctx = replace(s.batches.context(cand), rng=rng)  # the session's rng untouched
            out[st.name] = np.asarray(st.query(ctx, k)[0], dtype=np.int64)
        return out

    def show_compare(self, on: bool) -> str:
        """Draw (``on``) or clear the "would pick now" layers; returns the note (HTML) that
        says how many items each picks and how many it shares with the current batch."""
        if not self.compare_overlays:
            if self.unavailable:
                return f"<i>not available: {', '.join(map(html.escape, self.unavailable))}</i>"
            return ""
        picks = self.compare_picks() if on else {}
        cur = self.session.strategy.name
        groups, notes = {}, []
        for name, overlay in zip(self.compare_names, self.compare_overlays, strict=True):
            idx = picks.get(name, _NONE) if name != cur else _NONE
            groups[overlay] = idx
            if on and name != cur:
                shared = np.intersect1d(idx, self.session.batch.indices).size
                notes.append(
                    f"{html.escape(name)}: {idx.size} items, {shared} shared with the current batch"
                    if idx.size
                    else f"{html.escape(name)}: needs a model"
                )
        self.map.set_overlays(groups)
        txt = ("Would pick now (same pool, same model): " + "; ".join(notes)) if on else ""
        if self.unavailable:
            txt += f" <i>(not available: {', '.join(map(html.escape, self.unavailable))})</i>"
        return txt

    # -- decision regions --------------------------------------------------------------------
    def store_grid(self) -> None:
        """Record the decision grid of the session's current model (one per round)."""
        if self.regions is None:
            return
        want = self.session.round + 1
        self.grids = self.grids[:want]
        while len(self.grids) < want - 1:
            self.grids.append(None)
        if len(self.grids) == want - 1:
            self.grids.append(decision_grid(self.session, self.grid_size))
        elif self.grids and self.session.model is not None:
            self.grids[-1] = decision_grid(self.session, self.grid_size)

    def forget_after(self, round: int) -> None:
        """Drop the grids of rounds after ``round`` (an undo)."""
        self.grids = self.grids[: round + 1]

    def draw_regions(self, i: int) -> None:
        """Draw the grid of the model trained after round ``i`` (clear if there is none)."""
        if self.regions is None:
            return
        grid = self.grids[i] if 0 <= i < len(self.grids) else None
        if grid is None:
            self.map.set_regions(self.regions, None)
            self.map.set_regions(self.score_lines, None)
        else:
            self.map.set_regions(self.regions, *grid[:3])
            self.map.set_regions(self.score_lines, grid[0], grid[1], grid[3])
