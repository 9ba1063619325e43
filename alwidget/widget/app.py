"""LabelingWidget: the batch cards, the map and the controls of one :class:`~alwidget.Session`.

A thin view: it turns session state into one synced state of :class:`BatchCards` (and the map)
and forwards the user's actions, each checked by the session against the batch it was made on.
The batch on screen changes only by the user's own action; a model that lands late recolours
the map and updates the status, never the cards. Card actions live in :mod:`.actions`, labeling
from the map in the :class:`~alwidget.widget.selection.MapLabeling` component, and what the cards
and status line show is computed in :mod:`.view_state`; this module builds the layout and
renders.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import numpy as np
import traitlets

from ..errors import PoolUnavailableError
from ..labelstate import UNLABELED
from ..projection import Projection
from ..session import Session
from .actions import CardsController
from .cards import BatchCards
from .colours import add_coverage_layer, default_colour, map_colour, show_coverage
from .events import BrowserEvents, Listeners
from .map import DEFAULT_MAX_POINTS, MapView
from .pseudo_labels import PseudoLabelLayer
from .selection import MapLabeling, as_selection
from .support import (
    _as_items,
    _close_projection,
    _header,
    _hover_texts,
    _Line,
    _proj_name,
    _strategy_options,
    _SubmitButton,
)
from .view_state import status_facts

__all__ = ["LabelingWidget"]


def _to(part: str, func: Callable[..., Any]) -> Any:
    """A widget method calling ``self.<part>.<func.__name__>``, with ``func``'s docstring."""

    @functools.wraps(func)
    def method(self: LabelingWidget, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(getattr(self, part), func.__name__)(*args, **kwargs)
        except PoolUnavailableError as exc:  # seam: a Dask pool's cluster is gone
            self.pool_lost(exc)
            return False

    return method


class LabelingWidget(W.VBox):
    """The interactive active-learning widget for one :class:`~alwidget.Session`.

    Parameters
    ----------
    session : Session
        The headless loop this widget shows and drives.
    items : sequence, optional
        What a human looks at, one per pool item (``len(items) == session.n_samples``):
        2-D/3-D arrays (images), strings (texts) or table rows (a DataFrame is taken row by
        row). Default: the rows of the session's features.
    renderer : {"image", "text", "row"} or callable, optional
        Force how items are shown; default guessed from each item's type. A callable
        ``item -> value`` returns a str, an array, PNG bytes or a mapping.
    projection : {"auto", "umap", "pca"}, default="auto"
        Map coordinates: PCA at once, UMAP swapped in when ready (see
        :class:`alwidget.projection.Projection`); ``ALWIDGET_PROJECTION=pca`` forces PCA.
    columns : int, default=5
        Cards per row.
    max_points : int, default=50_000
        Display cap of the map: above it a seeded sample of the unlabeled pool is drawn
        (labeled and batch items always are).
    background : bool, default=True
        Retrain in the session's worker thread (``session.submit(retrain="background")``):
        a submit waits at most ``sync_wait`` s for the new model, else the next batch comes
        from the previous model at once and the new model, when it lands, recolours the map
        and picks the batch after (the cards on screen never change under the user).
        ``False`` fits synchronously on every submit.
    sync_wait : float, default=0.3
        Seconds a submit waits for the retrain before showing the next batch anyway.

    Attributes
    ----------
    view : BatchCards
        The cards, buttons, status and error lines (one anywidget).
    point_view : BatchCards
        The card of the point clicked on the map (beside the map).
    map : MapView
        The embedding map.
    map_labeling : MapLabeling
        The selection bar under the map (bulk labeling, "label these next").
    selection : ndarray of shape (m,), int64
        Pool indices selected on the map (box or lasso), sorted, unique, read-only. An
        observable trait: ``widget.observe(callback, names="selection")``; assigning pool
        indices selects them (as a lasso would).

    Raises
    ------
    ValueError
        If ``items`` and the pool have different lengths.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> import alwidget
    >>> d = load_digits()
    >>> s = alwidget.Session(d.data, classes=[str(c) for c in range(10)], store=":memory:")
    >>> w = alwidget.LabelingWidget(s, d.images)  # doctest: +SKIP
    >>> w.choose(int(w.batch[0]), "3"); w.submit()  # doctest: +SKIP
    """

    selection = traitlets.Any(help="pool indices selected on the map (int64, sorted, unique)")

    def __init__(
        self,
        session: Session,
        items: Any = None,
        *,
        renderer: str | Callable[[Any], Any] | None = None,
        projection: str = "auto",
        columns: int = 5,
        max_points: int = DEFAULT_MAX_POINTS,
        background: bool = True,
        sync_wait: float = 0.3,
    ) -> None:
        super().__init__()
        self.session = session
        # seam: a pool on Dask (alwidget.dask_session, alwidget.dask_map)
        dask = getattr(session, "dask", None)
        if dask is not None and items is None:
            from ..dask_map import DaskRowItems

            self.items: Any = DaskRowItems(session)
        else:
            self.items = _as_items(items, session)
        self.renderer = renderer
        self.background = bool(background)
        self.sync_wait = float(sync_wait)
        #: set by :func:`alwidget.label`: :meth:`close` then closes the session too
        self.owns_session = False
        #: The view's lock: every redraw and every action of the widget holds it.
        self.lock = threading.RLock()
        self._owner = threading.get_ident()
        self._refresh_hooks: Listeners[[]] = Listeners()
        self._closed = False
        self._late_threads: list[threading.Thread] = []
        self._drawn_model = -2  # labels version of the model the map shows
        #: The cards' controller (choices, cursor, actions): :class:`.actions.CardsController`.
        self.actions = CardsController(self)
        #: Items added with :meth:`add_items` (marked "new" on the map), and their layer.
        self.new_items = np.empty(0, dtype=np.int64)
        self.new_overlay: Any = None
        #: What the items arriving through :meth:`add_items` look like (while they arrive).
        self.arriving_items: Any = None

        self.view = BatchCards(
            functools.partial(self._guarded_action, self.actions.on_action),
            columns=int(columns),
            classes=session.classes,
        )
        self.point_view = BatchCards(self._point_action, mode="point", classes=session.classes)
        self.strategy_select = W.Dropdown(
            options=_strategy_options(session),
            value=session.strategy.name,
            description="Strategy",
            layout=W.Layout(width="260px"),
        )
        self.strategy_select.observe(self.actions.on_strategy, names="value")
        self.projection: Any
        if dask is not None:  # the map holds a seeded sample and the answered/batch items
            from ..dask_map import DaskProjection, NoExplainer, lazy_hover_texts

            self.projection = DaskProjection(dask, method=projection, sample=max_points)
            shown, hover = self.projection.shown, lazy_hover_texts(self.items)
            # its density readout reads every row; NoExplainer has the same explain()/compare
            self.actions.explainer = NoExplainer()  # type: ignore[assignment]
        else:
            self.projection = Projection(session.X, session.fingerprint, method=projection)
            shown, hover = None, _hover_texts(self.items, session.n_samples)
        self.map = MapView(
            self.projection.xy,
            session.classes,
            _proj_name(self.projection),
            hover_text=hover,
            max_points=max_points,
            shown=shown,
        )
        #: The item at the covering radius while the map shows distance to the labels.
        self.coverage_layer = add_coverage_layer(self.map)
        #: The model's pseudo-labels (semi-supervised estimators), apart from human labels.
        self.pseudo_layer = PseudoLabelLayer(self.map, session)
        self.map.on_point(self.show_point)
        self.map.on_select(self._on_map_select)
        self.map_events = BrowserEvents()
        self.map_events.on_map_event(self.map.handle_event)
        self.map_labeling = MapLabeling(self)
        # the clicked point's card floats over the map's top right corner, next to the point
        # (not below the selection bar); the map keeps the full width plotly measures
        self.point_view.add_class("alw-point-pop")
        map_row = W.VBox([self.map.fig, self.point_view]).add_class("alw-maprow")
        head = _header(self.strategy_select)
        self.children = [head, self.view, map_row, self.map_labeling, self.map_events]
        self.add_class("alw-root")
        session.observe(self._on_session)
        self.refresh()
        self.projection.start(on_ready=self._on_projection)

    # -- the cards' actions (scripts and tests: the same paths as the browser's messages) ----
    choose = _to("actions", CardsController.choose)
    submit = _to("actions", CardsController.submit)
    skip = _to("actions", CardsController.skip)
    unsure = _to("actions", CardsController.unsure)
    undo = _to("actions", CardsController.undo)
    press = _to("actions", CardsController.press)
    say_error = _to("actions", CardsController.say_error)

    # -- the map selection (observable) ------------------------------------------------------
    @traitlets.default("selection")
    def _no_selection(self) -> np.ndarray:
        empty = np.empty(0, dtype=np.int64)
        empty.setflags(write=False)
        return empty

    @traitlets.validate("selection")
    def _valid_selection(self, proposal: Any) -> np.ndarray:
        return as_selection(proposal["value"], self.session.n_samples)

    @traitlets.observe("selection")
    def _selection_changed(self, _change: Any) -> None:
        if hasattr(self, "map_labeling"):
            self.map_labeling.show_selection()

    def _on_map_select(self, indices: np.ndarray) -> None:
        self.selection = indices

    # -- labeling from the map (see MapLabeling) ----------------------------------------------
    show_point = _to("map_labeling", MapLabeling.show_point)
    close_point = _to("map_labeling", MapLabeling.close_point)
    label_from_map = _to("map_labeling", MapLabeling.label_from_map)
    label_many = _to("map_labeling", MapLabeling.label_many)
    label_selection = _to("map_labeling", MapLabeling.label_selection)
    label_selection_next = _to("map_labeling", MapLabeling.label_selection_next)

    def _point_action(self, msg: dict[str, Any]) -> bool:
        return self.map_labeling.on_point_action(msg)

    # -- state ------------------------------------------------------------------------------
    @property
    def batch(self) -> np.ndarray:
        """Pool indices of the open cards on screen, shape (k,), int64 (``session.query()``)."""
        return self.session.query()

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The cards on screen (every card of the batch, answered ones included): dicts with
        ``index``, ``rank``, ``caption`` and the item's content."""
        return list(self.view.cards)

    @property
    def choices(self) -> dict[int, int]:
        """Chosen (not yet submitted) class codes by pool index."""
        return dict(self.actions.choices)

    @property
    def live(self) -> bool:
        """False once the session (or this widget) is closed."""
        return not self._closed and not getattr(self.session, "closed", False)

    @property
    def status(self) -> _Line:
        """The status line (``.value``: its HTML, as drawn)."""
        return _Line(self.view, "status")

    @property
    def error(self) -> _Line:
        """The error line (``.value``: its text; empty when there is no error)."""
        return _Line(self.view, "error")

    @property
    def submit_button(self) -> _SubmitButton:
        """The Submit button as a script sees it: ``.click()`` and ``.disabled``."""
        return _SubmitButton(self)

    def refresh(self) -> None:
        """Redraw cards, status and map from the session, then run :meth:`on_refresh` hooks.

        The cards are rebuilt only when the session's batch is a new one (another batch id).
        """
        with self.lock:
            if self._closed:
                return
            if not self.live:
                self.actions.show_closed()
                return
            self.actions.render_cards()
            self.actions.update_status()
            self._update_map()
            self._refresh_hooks()

    def add_items(self, X_new: Any, items: Any = None) -> np.ndarray:
        """New items arrived: grow the pool (:meth:`Session.add_items`), place them on the map
        and mark them "new"; returns their pool indices (see
        :func:`~alwidget.widget.growth_view.grow_widget`)."""
        from .growth_view import grow_widget

        return grow_widget(self, X_new, items)

    def on_refresh(self, callback: Callable[[], None], remove: bool = False) -> None:
        """Call ``callback()`` after every redraw (panels that draw on the same map);
        ``remove=True`` stops calling it (as ipywidgets' ``on_click``)."""
        self._refresh_hooks.register(callback, remove=remove)

    def redraw_map(self) -> None:
        """Redraw the map from the session as it is now (labels, batch, "last labeled",
        colour), without the :meth:`on_refresh` hooks (a teaching replay going back live)."""
        with self.lock:
            self._update_map()

    def _update_map(self) -> None:
        s = self.session
        self._drawn_model = s.model_labels_version
        dask = getattr(s, "dask", None)
        if dask is not None:  # seam: place the answered and batch items on a sampled map
            asked = np.r_[np.flatnonzero(s.status != UNLABELED), s.batch.indices]
            placed = self.projection.place(asked)
            self.map.place(placed, self.projection.xy[placed])
        colour = map_colour(s, default_colour(s) if dask is None else "uncertainty")
        self.map.update(
            colour.values,
            s.y,
            s.batch.indices,
            colour.title,
            last=self.actions.last,
            unsure=s.unsure,
        )
        show_coverage(self.map, colour, self.coverage_layer)
        self.pseudo_layer.update()

    def _guarded_action(self, handler: Callable[..., Any], *args: Any) -> Any:
        try:
            return handler(*args)
        except PoolUnavailableError as exc:  # seam: a Dask pool's cluster is gone
            self.pool_lost(exc)
            return False

    def pool_lost(self, exc: PoolUnavailableError) -> None:
        """The pool's Dask cluster is gone: say so (:func:`alwidget.dask_map.show_pool_lost`)."""
        from ..dask_map import show_pool_lost

        show_pool_lost(self, exc)

    @property
    def status_facts(self) -> dict[str, Any]:
        """What the status line says, as data (see :func:`.view_state.status_facts`):
        ``n_labeled``, ``round``, ``n_unsure``, ``queued``, ``cold_start``, ``retraining`` ...
        """
        return status_facts(self.session)

    # -- session events (possibly from the trainer's thread) --------------------------------
    def _on_session(self, event: str) -> None:
        if threading.get_ident() != self._owner:
            t = threading.Thread(
                target=self._late_event, args=(event,), daemon=True, name="alwidget-view-update"
            )
            t.start()
            self._late_threads = [x for x in self._late_threads if x.is_alive()] + [t]
            return
        if self.actions.acting and event != "closed":
            return  # our own action redraws when it is done
        self._late_event(event)

    def _late_event(self, event: str) -> None:
        with self.lock:
            if self._closed:
                return
            if event == "closed":
                self.actions.show_closed()
                return
            if event in ("fit_done", "fit_progress"):
                self.actions.update_status()
                return
            if event == "grow":  # new items: place them on the map before drawing anything
                from .growth_view import show_growth

                show_growth(self)
            if event in ("model", "fit_error"):
                # a model landing late: recolour the map and say so; never touch the cards
                self.actions.update_status()
                if self._drawn_model == self.session.model_labels_version:
                    return  # already drawn (it landed within sync_wait)
                self._update_map()
                self._refresh_hooks()
                return
            self.refresh()  # a change made outside the widget (script, teaching panel)

    def wait_for_model(self, timeout: float | None = None) -> bool:
        """Block until no fit is running and the view shows the newest model (scripts,
        tests); True if that happened within ``timeout`` seconds."""
        trainer = getattr(self.session, "trainer", None)
        ok = True if trainer is None else bool(trainer.wait(timeout))
        for t in list(self._late_threads):
            t.join(timeout)
        if ok:
            self._late_event("model")
        return ok

    def _on_projection(self, xy: np.ndarray) -> None:
        with self.lock:
            if self._closed:
                return
            self.map.set_xy(xy, _proj_name(self.projection))
            self._update_map()
            self.actions.update_status()

    # -- closing ----------------------------------------------------------------------------
    def close(self) -> None:
        """Close the view's widgets and the projection's background process; close the
        session too when this widget created it (:func:`alwidget.label`). Idempotent."""
        if not hasattr(self, "lock") or not hasattr(self, "view"):  # a failed __init__
            super().close()
            return
        with self.lock:
            if self._closed:
                return
            self._closed = True
        unobserve = getattr(self.session, "unobserve", None)
        if unobserve is not None:
            unobserve(self._on_session)
        if hasattr(self, "projection"):
            _close_projection(self.projection)
        if self.owns_session and hasattr(self.session, "close"):
            self.session.close()
        parts = [
            getattr(self, n, None) for n in ("view", "point_view", "map_events", "strategy_select")
        ]
        if hasattr(self, "map"):
            parts.append(self.map.fig)
        parts.append(getattr(self, "map_labeling", None))
        for w in parts:
            if w is not None:
                w.close()
        super().close()
