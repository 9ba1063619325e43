"""Teaching and research panels beside a :class:`~alwidget.LabelingWidget`.

:class:`TeachingPanel` adds, for a live session: a learning curve on a held-out set (with a
simulated random baseline when the truth is known), per-round diagnostics, live stopping
criteria, an oracle button with auto-play, a round-replay slider, an overlay of what other
strategies would pick now, map colours from learning dynamics, and (2-D data) the model's
decision regions.

All maths live in :mod:`alwidget.diagnostics`, :mod:`alwidget.evaluation` and
:mod:`alwidget.simulate`; this module only draws.

The map belongs to :class:`~alwidget.widget.map.MapView`: this panel adds its layers once,
empty, at construction (``add_overlay`` / ``add_regions``) and fills them with pool indices
(``set_overlay``), grids (``set_regions``) and per-item values (``recolour``). The learning
curve is this panel's own :class:`~alwidget.widget.map.SyncedFigureWidget` (arrays sent with
``plotly_restyle`` as contiguous float32; a reloaded page gets the current curve).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np
import plotly.graph_objects as go

from ..diagnostics import RoundHistory
from ..evaluation import EvalSet, StoppingMonitor, eval_sample
from ..simulation import STRATEGY_COLOURS, simulate
from ..strategies import QueryContext, Strategy, get_strategy
from .map import CLASS_COLOURS, Overlay, SyncedFigureWidget
from .renderers import render_item

__all__ = ["TeachingPanel"]

COMPARE_SYMBOLS = ["x", "triangle-up", "star", "square", "hexagon", "cross"]
MAP_COLOURS = {
    "uncertainty": "uncertainty (live)",
    "dispersion": "label dispersion (Bengar et al. 2021)",
    "forgetting": "forgetting events (Toneva et al. 2019)",
}
_CSS = """
<style>
.alw-teach h4 { margin: 8px 0 4px 0; }
.alw-diag table { border-collapse: collapse; font-size: 12px; }
.alw-diag th, .alw-diag td { border-bottom: 1px solid var(--jp-border-color2, #ddd);
  padding: 2px 6px; text-align: right; }
.alw-diag th { font-weight: 600; }
.alw-stop { font-size: 13px; }
.alw-stop .alw-fired { background: #fff3cd; border-left: 4px solid #e0a800; padding: 2px 6px; }
</style>
"""


def _f32(a: Any) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


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
        self._eval_idx: np.ndarray | None = None
        self._eval_choices: dict[int, int] = {}

        # -- map overlays: added once, empty, through the map's overlay API -----------------
        m = widget.map
        self.compare_names: list[str] = []
        self.unavailable: list[str] = []
        self._compare_strats: list[Strategy] = []
        for name in compare:
            try:
                st = get_strategy(name)
            except ValueError:
                self.unavailable.append(str(name))
                continue
            self.compare_names.append(st.name)
            self._compare_strats.append(st)
        self.is_2d = s.X.shape[1] == 2 and getattr(widget.projection, "method_", "") == "identity"
        self.show_boundary = self.is_2d if boundary == "auto" else bool(boundary) and self.is_2d
        self._grid_size = int(grid_size)
        self._grids: list[list | None] = []
        self.regions: Overlay | None = None
        if self.show_boundary:
            k = len(s.classes)
            self.regions = m.add_regions(
                "decision regions", [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(k)]
            )
            self.boundary_trace = self.regions.trace
        self.replay_overlay = m.add_overlay(
            "picked (replay)",
            hover="picked in this round",
            symbol="diamond-open",
            size=15,
            color="#000",
            line=dict(width=2.5),
        )
        self.replay_trace = self.replay_overlay.trace
        self.compare_overlays = [
            m.add_overlay(
                f"{name}'s pick",
                hover=f"{name} would pick",
                symbol=COMPARE_SYMBOLS[i % len(COMPARE_SYMBOLS)],
                size=11,
                color=STRATEGY_COLOURS.get(name, "#8c564b"),
                line=dict(width=1.5, color="#333"),
            )
            for i, name in enumerate(self.compare_names)
        ]
        self.compare_traces = [o.trace for o in self.compare_overlays]

        # -- controls ------------------------------------------------------------------------
        has_truth = self.y_true is not None
        self.oracle_button = W.Button(
            description="Oracle: label this batch",
            icon="magic",
            disabled=not has_truth,
            tooltip="Label the current batch with the true labels and submit",
            layout=W.Layout(width="220px"),
        )
        self.play = W.Play(
            value=0,
            min=0,
            max=100_000,
            step=1,
            interval=800,
            description="Auto-play",
            disabled=not has_truth,
            show_repeat=False,
        )
        self.speed = W.IntSlider(
            value=800,
            min=150,
            max=3000,
            step=50,
            description="ms / round",
            disabled=not has_truth,
            layout=W.Layout(width="300px"),
        )
        W.link((self.speed, "value"), (self.play, "interval"))
        self.oracle_note = W.HTML()
        if not has_truth:
            self.oracle_note.value = "<i>oracle off: no true labels given (y_true)</i>"
        self.oracle_button.on_click(lambda _: self.oracle_step())
        self.play.observe(self._on_play, names="value")

        self.stop_html = W.HTML().add_class("alw-stop")
        self.curve = self._make_curve()
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
            value="uncertainty",
            description="Map colour",
            layout=W.Layout(width="380px"),
        )
        self.colour_select.observe(lambda _: self._apply_colour(), names="value")

        self.eval_box = W.VBox()
        if eval_set is None:
            self._build_eval_offer()

        # redraw our overlays right after the widget redraws its own (submit, undo, skip...)
        widget.on_refresh(self._after_refresh)
        self.history.on_round(self._on_round)
        s.observe(self._on_session)

        self.baseline = None
        if baseline and has_truth and eval_set is not None:
            self.baseline = self._compute_baseline(baseline_repeats, baseline_budget)

        ctrl = W.HBox(
            [self.oracle_button, self.play, self.speed, self.oracle_note],
            layout=W.Layout(align_items="center", flex_flow="row wrap"),
        )
        mapctl = W.HBox(
            [self.replay, self.replay_label, self.compare_toggle, self.colour_select],
            layout=W.Layout(align_items="center", flex_flow="row wrap"),
        )
        self.children = [
            W.HTML(_CSS),
            W.HTML("<h4>Teaching &amp; research</h4>"),
            ctrl,
            mapctl,
            self.compare_note,
            self.stop_html,
            self.curve,
            W.HTML("<h4>Diagnostics per round</h4>"),
            self.diag_html,
            self.eval_box,
        ]
        self.add_class("alw-teach")
        self._draw_baseline()
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
            self._grids = self._grids[: self.session.round + 1]
            self._exclude_eval()  # the session rebuilt its skips from the store

    def _on_round(self, rnd: Any) -> None:
        if rnd is not None:
            fired_now = {st.name for st in rnd.stopping if st.fired}
            new = fired_now - self._fired
            self._fired |= fired_now
            if new and self.play.playing:
                self.play.playing = False
                self.oracle_note.value = (
                    f"auto-play paused: stopping criterion fired ({', '.join(sorted(new))})"
                )

    def _after_refresh(self) -> None:
        self.replay.unobserve(self._on_replay, names="value")
        self.replay.max = len(self.history.rounds)
        self.replay.value = 0
        self.replay.observe(self._on_replay, names="value")
        self.replay_label.value = "<i>0 = live</i>"
        self._store_grid()
        self._restyle_replay([], None)
        self._draw_boundary(self._grids[-1] if self._grids else None)
        self._apply_colour()
        self.update_compare()
        self._draw_curve()
        self._draw_diagnostics()
        self._draw_stopping()

    # -- learning curve --------------------------------------------------------------------
    def _make_curve(self) -> go.FigureWidget:
        fig = SyncedFigureWidget(
            data=[
                go.Scatter(
                    x=[],
                    y=[],
                    mode="lines+markers",
                    name="this session: accuracy",
                    line=dict(color="#1f77b4", width=2.5),
                ),
                go.Scatter(
                    x=[],
                    y=[],
                    mode="lines+markers",
                    name="this session: macro F1",
                    line=dict(color="#ff7f0e", width=2, dash="dot"),
                ),
                go.Scatter(
                    x=[],
                    y=[],
                    mode="lines",
                    name="random baseline spread (±1 sd)",
                    fill="toself",
                    fillcolor="rgba(85,85,85,0.15)",
                    line=dict(width=0),
                    hoverinfo="skip",
                    showlegend=False,
                ),
                go.Scatter(
                    x=[],
                    y=[],
                    mode="lines",
                    name="random baseline (simulated): accuracy",
                    line=dict(color="#555", width=2, dash="dash"),
                ),
            ]
        )
        n = len(self.eval_set) if self.eval_set is not None else 0
        title = (
            f"Learning curve on the held-out set ({n} items never queried)"
            if n
            else "Learning curve: no evaluation set yet (label one below)"
        )
        fig.update_layout(
            title=dict(text=title, x=0.01, font=dict(size=15)),
            xaxis=dict(title=dict(text="number of labels"), rangemode="tozero"),
            yaxis=dict(title=dict(text="score on held-out set"), range=[0, 1.02]),
            legend=dict(orientation="h", yanchor="top", y=-0.2, x=0),
            height=380,
            margin=dict(l=60, r=20, t=45, b=100),
            template="plotly_white",
        )
        return fig

    def _compute_baseline(self, repeats: int, budget: int | None) -> Any:
        s = self.session
        if budget is None:
            budget = min(s.n_samples, max(100, 20 * s.batch_size))
        names = np.asarray(s.classes, dtype=object)
        df = simulate(
            s.X_fit,
            names[self.y_true],
            X_eval=self.eval_set.X,
            y_eval=names[self.eval_set.y],
            classes=s.classes,
            strategies=["random"],
            budget=int(budget),
            batch_size=s.batch_size,
            n_repeats=int(repeats),
            random_state=self.random_state,
            estimator=s.estimator,
            progress=False,
            cold_start=s.cold_start,
        )
        return df.groupby("n_labels")["accuracy"].agg(["mean", "std"]).reset_index()

    def _draw_baseline(self) -> None:
        b = self.baseline
        if b is None:
            return
        x = b["n_labels"].to_numpy(np.float32)
        m = b["mean"].to_numpy(np.float32)
        sd = b["std"].fillna(0).to_numpy(np.float32)
        xb = np.concatenate([x, x[::-1]])
        yb = np.concatenate([m + sd, (m - sd)[::-1]])
        self.curve.plotly_restyle({"x": [_f32(xb), _f32(x)], "y": [_f32(yb), _f32(m)]}, [2, 3])

    def _draw_curve(self) -> None:
        rs = self.history.rounds
        x = _f32([r.n_labels for r in rs])
        acc = _f32([r.metrics["accuracy"] for r in rs])
        f1 = _f32([r.metrics["macro_f1"] for r in rs])
        self.curve.plotly_restyle({"x": [x, x], "y": [acc, f1]}, [0, 1])

    # -- diagnostics and stopping ----------------------------------------------------------
    def _draw_diagnostics(self) -> None:
        rs = self.history.rounds
        if not rs:
            self.diag_html.value = "<i>no round yet: label a batch (or press the oracle)</i>"
            return
        head = [
            ("round", ""),
            ("labels", ""),
            ("picked by", ""),
            ("accuracy", "held-out accuracy"),
            ("macro F1", "held-out macro F1"),
            (
                "coverage mean / max",
                "distance from unlabeled items to the nearest labeled item "
                "(feature space; core-set radius = max; lower = better covered)",
            ),
            (
                "outlier fixation",
                "share of the batch in the pool's lowest-density decile "
                "(kNN distance); a random batch has about 10 %",
            ),
            (
                "batch redundancy",
                "mean pairwise distance in the batch / that of a random batch: "
                "below 1 = items close together (redundant), above 1 = spread out",
            ),
            ("class balance", "normalised entropy of labeled classes: 1 = balanced"),
            ("forgotten", "items whose prediction went from correct to wrong at this retrain"),
            (
                "dispersion",
                "mean label dispersion of unlabeled items (how often the predicted "
                "label changed across rounds)",
            ),
        ]
        th = "".join(f'<th title="{html.escape(t)}">{html.escape(h)}</th>' for h, t in head)
        rows = []
        for r in reversed(rs[-8:]):
            d, m = r.diagnostics, r.metrics
            cells = [
                str(r.round),
                str(r.n_labels),
                html.escape(r.strategy),
                _fmt(m["accuracy"]),
                _fmt(m["macro_f1"]),
                f"{_fmt(d.get('coverage_mean'), 2)} / {_fmt(d.get('coverage_max'), 2)}",
                _pct(d.get("outlier_fixation")),
                _fmt(d.get("batch_redundancy"), 2),
                _fmt(d.get("class_balance"), 2),
                _fmt(d.get("forgetting_events"), 0),
                _fmt(d.get("mean_dispersion"), 3),
            ]
            rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
        self.diag_html.value = (
            f"<table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}"
            "</tbody></table><div class='alw-caption'>newest first; hover "
            "a column title for its definition</div>"
        )

    def _draw_stopping(self) -> None:
        mon = self.history.stopping
        if mon is None or not mon.history:
            self.stop_html.value = "<b>Stopping criteria</b>: evaluated after each retrain"
            return
        items = []
        for st in mon.history[-1]:
            if st.fired:
                items.append(
                    f"<div class='alw-fired'>&#9873; <b>Stop suggested</b> by "
                    f"<b>{html.escape(st.name)}</b>: {html.escape(st.message)}</div>"
                )
            else:
                items.append(
                    f"<div>&#9675; {html.escape(st.name)}: {html.escape(st.message)}</div>"
                )
        self.stop_html.value = "<b>Stopping criteria</b>" + "".join(items)

    # -- map overlays ----------------------------------------------------------------------
    def _restyle_replay(self, idx: Any, _unused: Any = None) -> None:
        self.widget.map.set_overlay(self.replay_overlay, np.asarray(idx, dtype=np.int64))

    def _on_replay(self, change: dict) -> None:
        r = int(change["new"])
        m = self.widget.map
        if r == 0 or r > len(self.history.rounds):
            self._restyle_replay([])
            self._draw_boundary(self._grids[-1] if self._grids else None)
            self._apply_colour()
            self.replay_label.value = "<i>0 = live</i>"
            return
        rnd = self.history.rounds[r - 1]
        heading = (
            f"Replay of round {r}: {rnd.strategy} picked {rnd.picked.size} items (◇); "
            "colour = uncertainty then"
        )
        if rnd.uncertainty is not None:
            m.recolour(rnd.uncertainty, "uncertainty", heading=heading)
        else:
            m.set_heading(heading)
        self._restyle_replay(rnd.picked)
        # the model that picked round r is the one trained after round r - 1
        self._draw_boundary(self._grids[r - 1] if r - 1 < len(self._grids) else None)
        self.replay_label.value = (
            f"round {r}: {rnd.n_labels} labels after it, outlier fixation "
            f"{_pct(rnd.diagnostics.get('outlier_fixation'))}"
        )

    def _apply_colour(self) -> None:
        """Colour the map by the chosen measure (live only; a replay shows its own round)."""
        if self.replay.value:
            return
        key = self.colour_select.value
        s, m = self.session, self.widget.map
        if key == "uncertainty":
            m.recolour(s.uncertainty, s.strategy.measure.replace("_", " "))
            return
        if key == "dispersion":
            m.recolour(self.history.dispersion.dispersion, "label dispersion")
        else:
            cnt = self.history.forgetting.counts.astype(np.float32)
            m.recolour(cnt / max(1.0, float(cnt.max())), "forgetting events (share of max)")

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
        cand = np.flatnonzero((s.y < 0) & ~s.skipped & ~s.excluded)
        k = min(s.batch_size, cand.size)
        out = {}
        for st in self._compare_strats:
            if k == 0 or (st.needs_model and s.model is None):
                out[st.name] = np.empty(0, np.int64)
                continue
            ctx = QueryContext(
                X=s.X,
                labels=s.y,
                candidates=cand,
                proba=s.proba,
                model=s.model,
                estimator=s.estimator,
                n_classes=len(s.classes),
                rng=np.random.default_rng([self.random_state, s.round]),
            )
            out[st.name] = np.asarray(st.query(ctx, k)[0], dtype=np.int64)
        return out

    def update_compare(self) -> None:
        """Redraw (or clear) the "would pick now" overlays."""
        if not self.compare_traces:
            if self.unavailable:
                self.compare_note.value = f"<i>not available: {', '.join(self.unavailable)}</i>"
            return
        on = self.compare_toggle.value
        picks = self.compare_picks() if on else {}
        cur = self.session.strategy.name
        groups, notes = {}, []
        for name, overlay in zip(self.compare_names, self.compare_overlays, strict=True):
            idx = picks.get(name, np.empty(0, np.int64)) if name != cur else np.empty(0, np.int64)
            groups[overlay] = idx
            if on and name != cur:
                shared = np.intersect1d(idx, self.session.batch.indices).size
                notes.append(
                    f"{html.escape(name)}: {idx.size} items, {shared} shared with the current batch"
                    if idx.size
                    else f"{html.escape(name)}: needs a model"
                )
        self.widget.map.set_overlays(groups)
        txt = ("Would pick now (same pool, same model): " + "; ".join(notes)) if on else ""
        if self.unavailable:
            txt += f" <i>(not available: {', '.join(map(html.escape, self.unavailable))})</i>"
        self.compare_note.value = txt

    def _store_grid(self) -> None:
        if not self.show_boundary:
            return
        want = self.session.round + 1
        self._grids = self._grids[:want]
        while len(self._grids) < want - 1:
            self._grids.append(None)
        if len(self._grids) == want - 1:
            self._grids.append(self._grid_prediction())
        elif self._grids and self.session.model is not None:
            self._grids[-1] = self._grid_prediction()

    def _grid_prediction(self) -> list | None:
        s = self.session
        if s.model is None:
            return None
        X = s.X
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.05 * (hi - lo)
        g = self._grid_size
        gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], g)
        gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], g)
        xx, yy = np.meshgrid(gx, gy)
        grid = np.column_stack([xx.ravel(), yy.ravel()])
        cols = getattr(s.X_fit, "columns", None)
        if cols is not None:
            import pandas as pd

            grid = pd.DataFrame(grid, columns=cols)
        codes = np.asarray(s.model.classes_, dtype=np.int64)
        pred = codes[np.asarray(s.model.predict_proba(grid)).argmax(axis=1)].reshape(g, g)
        return [gx.astype(np.float32), gy.astype(np.float32), pred.astype(np.int8).tolist()]

    def _draw_boundary(self, grid: list | None) -> None:
        if self.regions is None:
            return
        if grid is None:
            self.widget.map.set_regions(self.regions, None)
        else:
            self.widget.map.set_regions(self.regions, *grid)

    # -- evaluation set for real labeling --------------------------------------------------
    def _build_eval_offer(self) -> None:
        self.eval_size = W.BoundedIntText(
            value=min(40, self.session.n_samples // 4),
            min=5,
            max=max(5, self.session.n_samples // 2),
            description="sample size",
            layout=W.Layout(width="200px"),
        )
        self.eval_draw = W.Button(
            description="Draw a random evaluation sample",
            icon="random",
            layout=W.Layout(width="280px"),
        )
        self.eval_use = W.Button(
            description="Use as evaluation set", icon="check", button_style="success", disabled=True
        )
        self.eval_msg = W.HTML(
            "Honest accuracy needs items no strategy picked: label a small "
            "<b>random</b> sample here. Those items leave the query pool."
        )
        self.eval_grid = W.GridBox(
            layout=W.Layout(grid_template_columns="repeat(5, minmax(150px, 1fr))", grid_gap="8px")
        )
        self.eval_draw.on_click(lambda _: self.draw_eval_sample())
        self.eval_use.on_click(lambda _: self.use_eval_labels())
        self.eval_box.children = [
            W.HTML("<h4>Evaluation set</h4>"),
            self.eval_msg,
            W.HBox([self.eval_size, self.eval_draw, self.eval_use]),
            self.eval_grid,
        ]

    def draw_eval_sample(self) -> np.ndarray:
        """Draw a random sample of unlabeled pool items to label as the evaluation set.

        The items are excluded from the session's batches (:meth:`Session.exclude`, saved in
        the store) and shown as cards here.

        Returns
        -------
        ndarray of shape (m,), int64
        """
        s = self.session
        free = np.flatnonzero((s.y < 0) & ~s.skipped & ~s.excluded)
        pick = eval_sample(free.size, self.eval_size.value, self.random_state)
        self._eval_idx = free[pick]
        self._exclude_eval()
        cards = []
        for i in self._eval_idx.tolist():
            tb = W.ToggleButtons(
                options=s.classes, value=None, style=W.ToggleButtonsStyle(button_width="auto")
            )
            tb.observe(
                lambda ch, i=i: (
                    self._eval_choices.__setitem__(i, s.classes.index(ch["new"]))
                    if ch["new"] is not None
                    else self._eval_choices.pop(i, None)
                ),
                names="value",
            )
            cards.append(
                W.VBox(
                    [
                        W.HTML(f"<div class='alw-caption'>eval #{i}</div>"),
                        render_item(self.widget.items[i], self.widget.renderer),
                        tb,
                    ],
                ).add_class("alw-card")
            )
        self.eval_cards = cards
        self.eval_grid.children = cards
        self.eval_use.disabled = False
        if np.isin(s.batch.indices, self._eval_idx).any():
            s.requery()
            self.widget.refresh()
        return self._eval_idx

    def _exclude_eval(self) -> None:
        if self._eval_idx is not None:
            self.session.exclude(self._eval_idx.tolist())

    def use_eval_labels(self) -> None:
        """Turn the labeled evaluation cards into the panel's :class:`EvalSet`."""
        if self._eval_idx is None or not self._eval_choices:
            self.eval_msg.value = "Label at least one evaluation card first."
            return
        s = self.session
        idx = np.array(sorted(self._eval_choices), dtype=np.int64)
        y = np.array([self._eval_choices[i] for i in idx.tolist()], dtype=np.int64)
        Xf = s.X_fit.iloc[idx] if hasattr(s.X_fit, "iloc") else np.asarray(s.X_fit)[idx]
        self.eval_set = self.history.eval_set = EvalSet(Xf, y, len(s.classes))
        for r in self.history.rounds:  # earlier models are gone: their metrics stay NaN
            r.metrics.setdefault("accuracy", np.nan)
        self.curve.layout.title.text = (
            f"Learning curve on your evaluation set ({idx.size} random items, never queried)"
        )
        self.eval_msg.value = (
            f"Evaluation set: {idx.size} items. Metrics appear from the next retrain on."
        )


def _fmt(v: Any, nd: int = 3) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"{v:.{nd}f}"


def _pct(v: Any) -> str:
    if v is None or not np.isfinite(v):
        return "–"
    return f"{100 * v:.0f} %"
