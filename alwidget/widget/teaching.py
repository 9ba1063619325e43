"""Teaching and research panels beside a :class:`~alwidget.LabelingWidget`.

:class:`TeachingPanel` adds, for a live session: a learning curve on a held-out set (with a
simulated random baseline when the truth is known), per-round diagnostics, live stopping
criteria, an oracle button with auto-play, a round-replay slider, an overlay of what other
strategies would pick now, map colours from learning dynamics, and (2-D data) the model's
decision regions.

All maths live in :mod:`alwidget.diagnostics`, :mod:`alwidget.evaluation` and
:mod:`alwidget.simulation`; this module only draws. What it shows is computed in
:mod:`.teaching_views` (curve, diagnostics, stopping), its map layers live in
:mod:`.teaching_overlays` and the evaluation-sample offer in :mod:`.teaching_eval`.

The map belongs to :class:`~alwidget.widget.map.MapView`: this panel adds its layers once,
empty, at construction (``add_overlay`` / ``add_regions``) and fills them with pool indices
(``set_overlay``), grids (``set_regions``) and per-item values (``recolour``). The learning
curve is this panel's own :class:`~alwidget.widget.figure.SyncedFigureWidget` (arrays sent with
``plotly_restyle`` as contiguous float32; a reloaded page gets the current curve).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np
import pandas as pd

from ..diagnostics import RoundHistory
from ..evaluation import EvalSet, StoppingMonitor, StopStatus
from .teaching_eval import EvalSampler
from .teaching_outliers import OutlierControls
from .teaching_overlays import MAP_COLOURS, TeachingLayers
from .teaching_views import (
    TEACHING_CSS,
    _pct,
    diagnostics_html,
    diagnostics_rows,
    draw_baseline,
    draw_curve,
    learning_curve_figure,
    oracle_controls,
    random_baseline,
    stopping_html,
)

__all__ = ["TeachingPanel"]


class TeachingPanel(W.VBox):
    """Learning curve, diagnostics, stopping, oracle, replay and strategy overlays.

    Parameters
    ----------
    widget : LabelingWidget
        The labeling widget to extend (its session and map are used in place).
    y_true : array-like of shape (n_samples,), int, optional
        True class codes of the pool. Enables the oracle, auto-play, forgetting events and
        the random baseline.
    eval_set : EvalSet, optional
        Held-out set (items **not** in the pool). Without one, the panel offers to label a
        random evaluation sample drawn from the pool (which is then excluded from queries).
    compare : sequence of str, default=("random", "entropy", "coreset")
        Strategies whose picks can be overlaid on the map; names that are not registered are
        listed as unavailable.
    baseline : bool, default=True
        Simulate the random baseline (needs ``y_true`` and ``eval_set``).
    baseline_repeats : int, default=3
    baseline_budget : int, optional
        Labels covered by the baseline; default ``min(pool, max(100, 20 * batch_size))``.
    stopping : StoppingMonitor, optional
        Default: stabilizing predictions on a 1,000-item stop set and max-uncertainty drop,
        plus a budget criterion if ``budget`` is given.
    budget : int, optional
        Label budget (stopping criterion and auto-play end).
    boundary : bool or "auto", default="auto"
        Draw the model's decision regions on the map (only when the features are 2-D, so
        the map is the data itself).
    grid_size : int, default=80
        Resolution of the decision-region grid.
    random_state : int, default=0
        Seed of the baseline, the evaluation sample and the overlay picks.

    Attributes
    ----------
    history : RoundHistory
        Everything recorded per round.
    curve : plotly.graph_objects.FigureWidget
        The learning-curve panel.
    diagnostics : list of dict
        The diagnostics table as shown (newest round first; see
        :func:`alwidget.widget.teaching_views.diagnostics_rows`).
    stopping_status : list of StopStatus
        The latest status of each stopping criterion, as shown.
    eval_box : EvalSampler or ipywidgets.VBox
        The offer to label a random evaluation sample (an empty box when ``eval_set`` was
        given).

    Examples
    --------
    >>> import alwidget
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(200, centers=3, random_state=0)
    >>> w = alwidget.label(X, classes=["a", "b", "c"], store=":memory:", batch_size=5)
    >>> panel = TeachingPanel(w, y_true=y, baseline=False)
    >>> panel.oracle_step(), panel.oracle_step()
    (True, True)
    >>> [row["labels"] for row in panel.diagnostics]  # newest round first
    ['10', '5']
    >>> panel.close(); w.close()
    """

    def __init__(
        self,
        widget: Any,
        *,
        y_true: Any = None,
        eval_set: EvalSet | None = None,
        compare: Sequence[str] = ("random", "entropy", "coreset"),
        baseline: bool = True,
        baseline_repeats: int = 3,
        baseline_budget: int | None = None,
        stopping: StoppingMonitor | None = None,
        budget: int | None = None,
        boundary: bool | str = "auto",
        grid_size: int = 80,
        random_state: int = 0,
    ) -> None:
        super().__init__()
        self.widget = widget
        s = self.session = widget.session
        self.y_true = None if y_true is None else np.asarray(y_true, dtype=np.int64)
        self.eval_set = eval_set
        self.budget = budget
        self.random_state = int(random_state)
        if stopping is None:
            stopping = StoppingMonitor.default(
                s.n_samples, budget=budget, random_state=random_state
            )
        self.history = RoundHistory(s, y_true=self.y_true, eval_set=eval_set, stopping=stopping)
        self._fired: set[str] = set()
        self.diagnostics: list[dict[str, str]] = []
        self.stopping_status: list[StopStatus] = []

        # -- map layers: added once, empty, through the map's overlay API -------------------
        self.is_2d = s.X.shape[1] == 2 and getattr(widget.projection, "method_", "") == "identity"
        self.show_boundary = self.is_2d if boundary == "auto" else bool(boundary) and self.is_2d
        self.layers = TeachingLayers(
            s,
            widget.map,
            compare=compare,
            boundary=self.show_boundary,
            grid_size=grid_size,
            random_state=random_state,
            coverage_layer=getattr(widget, "coverage_layer", None),
            redraw_live=getattr(widget, "redraw_map", None),
        )
        self.compare_names = self.layers.compare_names
        widget.actions.explainer.compare = [n for n in self.compare_names if n != "random"]
        self.unavailable = self.layers.unavailable
        self.regions = self.layers.regions
        if self.regions is not None:
            self.boundary_trace = self.regions.trace
        self.replay_overlay = self.layers.replay_overlay
        self.replay_trace = self.replay_overlay.trace
        self.compare_overlays = self.layers.compare_overlays
        self.compare_traces = [o.trace for o in self.compare_overlays]

        # -- controls ------------------------------------------------------------------------
        has_truth = self.y_true is not None
        self.oracle_button, self.play, self.speed = oracle_controls(has_truth)
        W.link((self.speed, "value"), (self.play, "interval"))
        self.oracle_note = W.HTML()
        if not has_truth:
            self.oracle_note.value = "<i>oracle off: no true labels given (y_true)</i>"
        self.oracle_button.on_click(lambda _: self.oracle_step())
        self.play.observe(self._on_play, names="value")

        self.stop_html = W.HTML().add_class("alw-stop")
        self.curve = learning_curve_figure(len(eval_set) if eval_set is not None else 0)
        self.diag_html = W.HTML().add_class("alw-diag")

        self.replay = W.IntSlider(
            value=0,
            min=0,
            max=0,
            description="Replay round",
            layout=W.Layout(width="420px"),
            style={"description_width": "initial"},
        )
        self.replay_label = W.HTML("<i>0 = live</i>")
        self.replay.observe(self._on_replay, names="value")
        self.replay.add_class("alw-replay")
        self.compare_toggle = W.ToggleButton(
            value=False,
            description="Show what other strategies would pick",
            icon="eye",
            layout=W.Layout(width="300px"),
            disabled=not self.compare_names,
        )
        self.compare_toggle.observe(lambda _: self.update_compare(), names="value")
        self.compare_note = W.HTML()
        self.colour_select = W.Dropdown(
            options=[(v, k) for k, v in MAP_COLOURS.items() if k != "forgetting" or has_truth],
            value="auto",
            description="Map colour",
            layout=W.Layout(width="380px"),
        )
        self.colour_select.observe(lambda _: self._apply_colour(), names="value")

        geo = self.history.geometry
        #: Far outliers marked on the map and the outlier-filter toggle (None without
        #: diagnostics).
        self.outliers = OutlierControls(widget, geo.far) if geo is not None else None
        self.eval_box: EvalSampler | W.VBox = W.VBox()
        if eval_set is None:
            self.eval_box = EvalSampler(widget, self._use_eval_set, random_state=random_state)

        # redraw our overlays right after the widget redraws its own (submit, undo, skip...)
        widget.on_refresh(self._after_refresh)
        self.history.on_round(self._on_round)
        s.observe(self._on_session)

        self.baseline: pd.DataFrame | None = None
        if baseline and self.y_true is not None and eval_set is not None:
            self.baseline = random_baseline(
                s,
                self.y_true,
                eval_set,
                repeats=baseline_repeats,
                budget=baseline_budget,
                random_state=self.random_state,
            )

        ctrl = W.HBox(
            [self.oracle_button, self.play, self.speed, self.oracle_note],
            layout=W.Layout(align_items="center", flex_flow="row wrap"),
        )
        mapctl = W.HBox(
            [self.replay, self.replay_label, self.compare_toggle, self.colour_select],
            layout=W.Layout(align_items="center", flex_flow="row wrap"),
        )
        self.children = [
            W.HTML(TEACHING_CSS),
            W.HTML("<h4>Teaching &amp; research</h4>"),
            ctrl,
            mapctl,
            *([self.outliers] if self.outliers is not None else []),
            self.compare_note,
            self.stop_html,
            self.curve,
            W.HTML("<h4>Diagnostics per round</h4>"),
            self.diag_html,
            self.eval_box,
        ]
        self.add_class("alw-teach")
        draw_baseline(self.curve, self.baseline)
        self._after_refresh()

    # -- actions ---------------------------------------------------------------------------
    def oracle_step(self) -> bool:
        """Label the current batch with the truth and submit (the oracle button).

        Returns
        -------
        bool
            False if nothing was labeled (no truth, or nothing left to label).
        """
        if self.y_true is None:
            return False
        w, s = self.widget, self.session
        batch = s.query()
        if batch.size == 0 or (self.budget is not None and s.n_labeled >= self.budget):
            self.play.playing = False
            self.oracle_note.value = "<b>done</b>: nothing left to label within the budget"
            return False
        if self.budget is not None:
            batch = batch[: self.budget - s.n_labeled]
        for i in batch.tolist():
            w.choose(i, s.classes[int(self.y_true[i])])
        w.submit()
        w.wait_for_model(60)  # an oracle round is a simulation: its model before the next
        return True

    def replay_round(self, r: int) -> None:
        """Show round ``r`` on the map (0 = live); same as moving the replay slider."""
        self.replay.value = int(r)

    # -- callbacks -------------------------------------------------------------------------
    def _on_play(self, change: dict) -> None:
        if change["new"] > change["old"] and self.play.playing is not False:
            if not self.oracle_step():
                self.play.playing = False

    def _on_session(self, event: str) -> None:
        if event == "undo":
            self.layers.forget_after(self.session.round)
            if isinstance(self.eval_box, EvalSampler):
                self.eval_box.exclude()  # the session rebuilt its exclusions from the store

    def _on_round(self, rnd: Any) -> None:
        if rnd is not None:
            fired_now = {st.name for st in rnd.stopping if st.fired}
            new = fired_now - self._fired
            self._fired |= fired_now
            if new and self.play.playing:
                self.play.playing = False
                self.oracle_note.value = (
                    f"<b>auto-play paused</b>: stopping criterion fired "
                    f"({html.escape(', '.join(sorted(new)))}). Press ▶ to go on (it will not "
                    "pause again), or stop here."
                )

    def _after_refresh(self) -> None:
        self.replay.unobserve(self._on_replay, names="value")
        self.replay.max = len(self.history.rounds)
        self.replay.value = 0
        self.replay.observe(self._on_replay, names="value")
        self.replay_label.value = "<i>0 = live</i>"
        self.layers.store_grid()
        self.layers.show_live(self.colour_select.value, self.history)
        self.update_compare()
        if self.outliers is not None:
            self.outliers.refresh()
        draw_curve(self.curve, self.history.rounds)
        self.diagnostics = diagnostics_rows(self.history.rounds)
        self.diag_html.value = diagnostics_html(self.diagnostics)
        self.stopping_status, self.stop_html.value = stopping_html(self.history.stopping)

    # -- map layers ------------------------------------------------------------------------
    def _on_replay(self, change: dict) -> None:
        r = int(change["new"])
        if r == 0 or r > len(self.history.rounds):
            self.layers.show_live(self.colour_select.value, self.history)
            self.replay_label.value = "<i>0 = live</i>"
            return
        rnd = self.history.rounds[r - 1]
        self.layers.show_round(r, rnd, self.history.rounds[r - 2] if r > 1 else None)
        d = rnd.diagnostics
        self.replay_label.value = (
            f"round {r}: {rnd.n_labels} labels after it; far outliers in its batch "
            f"{_pct(d.get('far_outlier_share'))}, in the sparsest 10 % "
            f"{_pct(d.get('outlier_fixation'))}"
        )

    def _apply_colour(self) -> None:
        """Colour the map by the chosen measure (live only; a replay shows its own round)."""
        if not self.replay.value:
            self.layers.recolour(self.colour_select.value, self.history)

    def compare_picks(self) -> dict[str, np.ndarray]:
        """What each compared strategy would pick now (see
        :meth:`TeachingLayers.compare_picks`)."""
        return self.layers.compare_picks()

    def update_compare(self) -> None:
        """Redraw (or clear) the "would pick now" overlays."""
        self.compare_note.value = self.layers.show_compare(bool(self.compare_toggle.value))

    # -- evaluation set for real labeling --------------------------------------------------
    def draw_eval_sample(self) -> np.ndarray:
        """Draw a random sample of unlabeled pool items to label as the evaluation set (see
        :meth:`EvalSampler.draw`); only when the panel was made without ``eval_set``.

        Returns
        -------
        ndarray of shape (m,), int64

        Raises
        ------
        RuntimeError
            If the panel was given an evaluation set.
        """
        if not isinstance(self.eval_box, EvalSampler):
            raise RuntimeError("this panel was given an eval_set: there is no sample to draw")
        return self.eval_box.draw()

    def use_eval_labels(self) -> None:
        """Turn the labeled evaluation cards into the panel's :class:`EvalSet`."""
        if isinstance(self.eval_box, EvalSampler):
            self.eval_box.use()

    def _use_eval_set(self, es: EvalSet) -> None:
        self.eval_set = self.history.eval_set = es
        for r in self.history.rounds:  # earlier models are gone: their metrics stay NaN
            r.metrics.setdefault("accuracy", np.nan)
        self.curve.layout.title.text = (
            f"Learning curve on your evaluation set ({len(es)} random items, never queried)"
        )

    def close(self) -> None:
        """Stop listening to the widget and the session, then close the panel's widgets."""
        self.widget.on_refresh(self._after_refresh, remove=True)
        unobserve = getattr(self.session, "unobserve", None)
        if unobserve is not None:
            unobserve(self._on_session)
        if self.outliers is not None:
            self.outliers.close()
        self.curve.close()
        super().close()
