"""LabelingWidget: batch cards, label buttons, keyboard, status line and the map.

A thin view over :class:`alwidget.Session`: it turns session state into widgets and forwards
clicks and keys; all decisions live in the session.
"""

from __future__ import annotations

import concurrent.futures as cf
import html
import threading
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as W
import numpy as np

from ..projection import Projection
from ..session import Session
from ..store import StoreError
from ..strategies import available_strategies
from .events import BrowserEvents
from .map import DEFAULT_MAX_POINTS, MapView
from .renderers import item_summary, render_item

__all__ = ["LabelingWidget"]

_CSS = """
<style>
.alw-root { outline: none; }
.alw-root:focus-within { box-shadow: 0 0 0 2px var(--jp-brand-color2, #90caf9); border-radius: 4px; }
.alw-card { border: 1px solid var(--jp-border-color2, #ddd); border-radius: 6px; padding: 6px; }
.alw-card.alw-current { border: 2px solid var(--jp-brand-color1, #1976d2); }
.alw-card.alw-chosen { background: var(--jp-layout-color2, #f3f7fb); }
.alw-pixelated img, img.alw-pixelated { image-rendering: pixelated; }
.alw-text { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 9em; overflow-y: auto;
            font-size: 13px; line-height: 1.35; }
.alw-row th { text-align: left; padding-right: 8px; font-weight: 600; }
.alw-caption { font-size: 12px; color: var(--jp-ui-font-color2, #555); }
.alw-status { font-size: 13px; }
.alw-error { color: #b00020; font-size: 13px; }
.alw-card .widget-toggle-buttons .widget-toggle-button { width: auto; min-width: 28px; padding: 0 6px; }
</style>
"""

KEY_HELP = "0-9 label · ←/→ move · s skip · ? unsure · Enter submit · u undo"


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
        Force how items are shown; default guessed from each item's type.
    projection : {"auto", "umap", "pca"}, default="auto"
        Map coordinates: PCA at once, UMAP swapped in when ready (see
        :class:`alwidget.projection.Projection`); ``ALWIDGET_PROJECTION=pca`` forces PCA.
    columns : int, default=5
        Cards per row.
    max_points : int, default=50_000
        Display cap of the map: above it a seeded sample of the unlabeled pool is drawn
        (labeled and batch items always are).
    background : bool, default=True
        Retrain off the UI path: each submit stores the labels, then fits in a worker
        thread. If the fit takes longer than ``sync_wait`` the next batch is picked with the
        previous model at once, the status says how many labels the model is behind, and the
        new model recolours the map when it lands (and re-picks the batch if no card has a
        choice yet). A newer model never loses to an older one.
    sync_wait : float, default=0.3
        Seconds a submit waits for the retrain before showing the next batch anyway.

    Raises
    ------
    ValueError
        If ``items`` and the pool have different lengths.
    """

    def __init__(
        self,
        session: Session,
        items: Any = None,
        *,
        renderer: str | Callable[[Any], W.Widget] | None = None,
        projection: str = "auto",
        columns: int = 5,
        max_points: int = DEFAULT_MAX_POINTS,
        background: bool = True,
        sync_wait: float = 0.3,
    ) -> None:
        super().__init__()
        self.session = session
        self.items = _as_items(items, session)
        self.renderer = renderer
        self._lock = threading.RLock()
        self._refresh_hooks: list[Callable[[], None]] = []
        self._slots: list[dict[str, Any]] = []
        self._filling = False
        self.background = background
        self.sync_wait = float(sync_wait)
        self._executor = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="alwidget-fit")
        self._idle = threading.Event()
        self._idle.set()
        self._pending = 0
        self._choices: dict[int, int] = {}
        self._cursor = 0
        self.cards: list[W.VBox] = []
        self.card_buttons: dict[int, W.ToggleButtons] = {}
        self._skip_buttons: dict[int, W.Button] = {}
        self._unsure_buttons: dict[int, W.Button] = {}

        self.status = W.HTML().add_class("alw-status")
        self.error = W.HTML().add_class("alw-error")
        self.strategy_select = W.Dropdown(
            options=_strategy_options(session), value=session.strategy.name,
            description="Strategy", layout=W.Layout(width="260px"),
        )  # fmt: skip
        self.submit_button = W.Button(
            description="Submit batch", button_style="primary", icon="check",
            tooltip="Record the chosen labels, retrain, next batch (Enter)",
        )  # fmt: skip
        self.undo_button = W.Button(
            description="Undo", icon="undo", tooltip="Take back the last submit (u)"
        )
        self.keyboard = BrowserEvents(help=KEY_HELP)
        self.grid = W.GridBox(
            layout=W.Layout(
                grid_template_columns=f"repeat({columns}, minmax(150px, 1fr))", grid_gap="8px",
                width="100%",
            )
        )  # fmt: skip
        self.projection = Projection(session.X, session.fingerprint, method=projection)
        self.map = MapView(
            self.projection.xy, session.classes, _proj_name(self.projection),
            hover_text=_hover_texts(self.items, session.n_samples), max_points=max_points,
        )  # fmt: skip
        self.map.on_point(self.show_point)
        self.map.on_select(self._on_map_select)
        self._selection = np.empty(0, dtype=np.int64)
        self._last = np.empty(0, dtype=np.int64)
        # clicked point: a card with the same renderer, labeled with source "map"
        self.point_box = W.VBox(layout=W.Layout(width="100%"))
        # box / lasso selection: bulk label (with confirmation) or "label these next"
        self.selection_info = W.HTML("Select points on the map (lasso or box) to label them in one go.")
        self.bulk_class = W.Dropdown(options=session.classes, description="as", layout=W.Layout(width="160px"))
        self.bulk_button = W.Button(description="Label selection", icon="tags", disabled=True)
        self.next_button = W.Button(description="Label these next", icon="list", disabled=True,
                                    tooltip="Put the selected items into the batch")
        self.confirm_box = W.HBox()
        self.bulk_button.on_click(lambda _: self._ask_bulk())
        self.next_button.on_click(lambda _: self.label_selection_next())
        selection_bar = W.VBox([
            self.selection_info,
            W.HBox([self.bulk_class, self.bulk_button, self.next_button],
                   layout=W.Layout(flex_flow="row wrap", align_items="center")),
            self.confirm_box,
        ])  # fmt: skip

        self.submit_button.on_click(lambda _: self.submit())
        self.undo_button.on_click(lambda _: self.undo())
        self.strategy_select.observe(self._on_strategy, names="value")
        self.keyboard.on_key(self._on_key)
        self.keyboard.on_map_event(self.map.handle_event)

        toolbar = W.HBox(
            [self.strategy_select, self.submit_button, self.undo_button],
            layout=W.Layout(align_items="center", flex_flow="row wrap"),
        )
        self.children = [
            W.HTML(_CSS),
            W.HTML("<b>alwidget</b>: label the batch the strategy picked; each submit retrains"),
            self.status, self.error, toolbar, self.keyboard, self.grid, self.map.fig,
            selection_bar, self.point_box,
        ]  # fmt: skip
        self.add_class("alw-root")
        self.refresh()
        self.projection.start(on_ready=self._on_projection)

    # -- actions (also what tests call) ---------------------------------------------------
    def choose(self, index: int, label: Any) -> None:
        """Pick a label for one card of the batch (same as clicking its class button)."""
        code = self.session.code_of(label)
        self.card_buttons[int(index)].value = self.session.classes[code]

    def submit(self) -> None:
        """Submit the chosen labels (the "Submit batch" button)."""
        with self._lock:
            if not self._choices:
                self._say_error("Pick a class on at least one card before submitting.")
                return
            labels = dict(self._choices)
            self._last = np.fromiter(labels, dtype=np.int64)
            self.submit_button.disabled = True
            try:
                self.session.submit(labels, retrain=False)  # on disk before anything else
            except (ValueError, StoreError) as exc:  # nothing recorded; the choices stay
                self._say_error(str(exc))
                return
            finally:
                self.submit_button.disabled = False
            self._choices.clear()
            self._cursor = 0
            self._retrain()

    def unsure(self, index: int) -> None:
        """Answer "unsure" for one item (its card's Unsure button, or the ? key)."""
        with self._lock:
            try:
                self.session.mark_unsure(index)
            except (ValueError, StoreError) as exc:
                self._say_error(str(exc))
                return
            self._choices.pop(int(index), None)
            self._cursor = min(self._cursor, max(0, len(self.session.batch.indices) - 1))
            self.refresh()

    def wait_for_model(self, timeout: float | None = None) -> bool:
        """Block until no retrain is running (scripts and tests); True if idle in time."""
        return self._idle.wait(timeout)

    # -- retraining ------------------------------------------------------------------------
    def _retrain(self) -> None:
        """Refit after a change of labels; see the ``background`` parameter."""
        s = self.session
        if not self.background:
            s.retrain()
            self._requery_if_untouched()
            self.refresh()
            return
        with self._lock:
            self._pending += 1
            self._idle.clear()
        fut = self._executor.submit(self._fit_job)
        try:
            fut.result(timeout=self.sync_wait)
        except cf.TimeoutError:
            self.refresh()  # the next batch now, by the previous model
            fut.add_done_callback(self._late_fit_done)  # runs at once if done meanwhile
            return
        with self._lock:
            self._pending -= 1
            self._requery_if_untouched()
            self.refresh()
            self._set_idle()

    def _set_idle(self) -> None:
        if self._pending == 0:
            self._idle.set()

    def _fit_job(self) -> bool:
        """Worker thread: fit on the newest labels and install the model if still newest."""
        s = self.session
        snap = s.fit_snapshot()
        if snap.labels_version <= s.model_labels_version:
            return False  # a newer job already installed these labels
        try:
            model, proba = s.fit_model(snap)
        except Exception as exc:  # a user's estimator can fail in any way; labels are kept
            s.last_error = f"retrain failed, labels kept: {type(exc).__name__}: {exc}"
            return False
        return s.install_model(snap, model, proba)

    def _late_fit_done(self, fut: cf.Future) -> None:
        with self._lock:
            self._pending -= 1
            if fut.result():
                self._requery_if_untouched()
                self.refresh()
            else:
                self._update_status()
            self._set_idle()

    def _requery_if_untouched(self) -> None:
        """Re-pick the batch with the new model unless the user already chose on a card."""
        if not self._choices:
            self.session.requery()
            self._cursor = 0

    def undo(self) -> None:
        """Take back the last submit; its items come back as the batch with their labels."""
        with self._lock:
            undone = self.session.labels.set_index("index")["code"].to_dict()
            try:
                back = self.session.undo()
            except StoreError as exc:
                self._say_error(str(exc))
                return
            if back is None:
                self._say_error("Nothing to undo.")
                return
            self._choices = {int(i): int(undone[int(i)]) for i in back if int(i) in undone}
            self._cursor = 0
            self.refresh()

    def skip(self, index: int) -> None:
        """Skip one card of the batch."""
        with self._lock:
            try:
                self.session.skip(index)
            except StoreError as exc:
                self._say_error(str(exc))
                return
            self._choices.pop(int(index), None)
            self._cursor = min(self._cursor, max(0, len(self.session.batch.indices) - 1))
            self.refresh()

    @property
    def selection(self) -> np.ndarray:
        """Pool indices selected on the map (box or lasso), int64 of shape (m,), sorted."""
        return self._selection.copy()

    def show_point(self, index: int) -> None:
        """Show one pool item as a card under the map, with label buttons (a map click)."""
        with self._lock:
            idx = int(index)
            s = self.session
            state = "unlabeled"
            if s.y[idx] >= 0:
                state = f"labeled {s.classes[int(s.y[idx])]}"
            cap = f"#{idx} from the map · {state} · uncertainty {float(s.uncertainty[idx]):.2f}"
            toggles = W.ToggleButtons(options=s.classes, value=None,
                                      style=W.ToggleButtonsStyle(button_width="auto"))
            toggles.observe(lambda ch: ch["new"] is not None and self.label_from_map(idx, ch["new"]),
                            names="value")  # fmt: skip
            close = W.Button(description="Close", icon="times", layout=W.Layout(width="80px"))
            close.on_click(lambda _: self._close_point())
            for w in self.point_box.children:
                w.close()
            card = W.VBox(
                [W.HTML(f'<div class="alw-caption">{html.escape(cap)}</div>'),
                 render_item(self.items[idx], self.renderer), toggles, close],
            ).add_class("alw-card").add_class("alw-map-card")  # fmt: skip
            self.point_card_buttons = toggles
            self.point_box.children = [card]

    def _close_point(self) -> None:
        for w in self.point_box.children:
            w.close()
        self.point_box.children = []

    def label_from_map(self, index: int, label: Any) -> None:
        """Label one item picked on the map (recorded with source "map")."""
        self.label_many([int(index)], label)
        self._close_point()

    def label_many(self, indices: Sequence[int], label: Any) -> None:
        """Give the same label to several pool items (source "map"), then retrain."""
        with self._lock:
            code = self.session.code_of(label)
            labels = {int(i): code for i in indices}
            if not labels:
                return
            try:  # while the user is labeling the batch, keep it (minus what's labeled here)
                self.session.submit(labels, source="map", retrain=False,
                                    keep_batch=bool(self._choices))  # fmt: skip
            except (ValueError, StoreError) as exc:
                self._say_error(str(exc))
                return
            self._last = np.fromiter(labels, dtype=np.int64)
            keep_set = set(self.session.batch.indices.tolist())
            self._choices = {i: c for i, c in self._choices.items() if i in keep_set}
            self._cursor = 0
            self._retrain()

    def label_selection(self, label: Any) -> None:
        """Label every item of the map selection with ``label`` (no confirmation)."""
        sel = self._selection
        self.label_many(sel.tolist(), label)
        self._set_selection(np.empty(0, dtype=np.int64))
        self.map.clear_selection()

    def label_selection_next(self) -> None:
        """Make the unlabeled items of the map selection the next batch."""
        with self._lock:
            s = self.session
            todo = [int(i) for i in self._selection if s.y[int(i)] < 0]
            if not todo:
                self._say_error("The selection holds no unlabeled items.")
                return
            s.set_batch(todo)
            self._choices.clear()
            self._cursor = 0
            self._set_selection(np.empty(0, dtype=np.int64))
            self.map.clear_selection()
            self.refresh()

    def _ask_bulk(self) -> None:
        n, cls = len(self._selection), self.bulk_class.value
        yes = W.Button(description=f"Yes, label {n}", button_style="warning")
        no = W.Button(description="Cancel")
        yes.on_click(lambda _: (self._clear_confirm(), self.label_selection(cls)))
        no.on_click(lambda _: self._clear_confirm())
        self.confirm_box.children = [
            W.HTML(f"Label <b>{n}</b> items as <b>{html.escape(str(cls))}</b>?"), yes, no
        ]

    def _clear_confirm(self) -> None:
        for w in self.confirm_box.children:
            w.close()
        self.confirm_box.children = []

    def _on_map_select(self, indices: np.ndarray) -> None:
        self._set_selection(indices)

    def _set_selection(self, indices: np.ndarray) -> None:
        self._selection = np.asarray(indices, dtype=np.int64)
        n = len(self._selection)
        self._clear_confirm()
        if n:
            n_new = int((self.session.y[self._selection] < 0).sum())
            self.selection_info.value = (
                f"<b>{n}</b> selected on the map ({n_new} unlabeled): "
                "label them all, or put them into the batch."
            )
        else:
            self.selection_info.value = "Select points on the map (lasso or box) to label them in one go."
        self.bulk_button.disabled = n == 0
        self.bulk_button.description = f"Label {n} selected" if n else "Label selection"
        self.next_button.disabled = n == 0

    @property
    def batch(self) -> np.ndarray:
        """Pool indices of the cards on screen, shape (k,), int64."""
        return self.session.query()

    # -- rendering -------------------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw cards, status and map from the session, then run :meth:`on_refresh` hooks."""
        with self._lock:
            self._build_cards()
            self._update_status()
            self._update_map()
            for cb in list(self._refresh_hooks):
                cb()

    def on_refresh(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` after every redraw (panels that draw on the same map)."""
        self._refresh_hooks.append(callback)

    def _update_map(self) -> None:
        s = self.session
        self.map.update(s.uncertainty, s.y, s.batch.indices, s.strategy.measure, last=self._last,
                        unsure=s.unsure)  # fmt: skip

    def _build_cards(self) -> None:
        """Show the batch in reusable card slots: per new batch only the item views are new
        widgets; captions, buttons and frames are updated in place (fewer messages, so the
        next batch and the recoloured map reach the browser sooner)."""
        s = self.session
        batch = s.batch.indices.tolist()
        while len(self._slots) < len(batch):
            self._slots.append(self._new_slot(len(self._slots)))
        self.cards, self.card_buttons, self._skip_buttons, self._unsure_buttons = [], {}, {}, {}
        self._filling = True
        try:
            for rank, idx in enumerate(batch):
                slot = self._slots[rank]
                score = s.batch.scores[rank]
                cap = f"#{idx} · rank {rank + 1}"
                if not s.batch.cold_start and np.isfinite(score):
                    cap += f" · score {score:.3f}"
                slot["caption"].value = f'<div class="alw-caption">{html.escape(cap)}</div>'
                if slot["idx"] != idx:
                    old = slot["content"].children
                    slot["content"].children = [render_item(self.items[idx], self.renderer)]
                    for w in old:
                        w.close()
                slot["idx"] = idx
                choice = self._choices.get(idx)
                slot["toggles"].value = None if choice is None else s.classes[choice]
                card = slot["card"]
                (card.add_class if choice is not None else card.remove_class)("alw-chosen")
                self.cards.append(card)
                self.card_buttons[idx] = slot["toggles"]
                self._skip_buttons[idx] = slot["skip"]
                self._unsure_buttons[idx] = slot["unsure"]
        finally:
            self._filling = False
        if list(self.grid.children) != self.cards:
            self.grid.children = self.cards
        self._mark_cursor()

    def _new_slot(self, rank: int) -> dict[str, Any]:
        classes = self.session.classes
        slot: dict[str, Any] = {"idx": None}
        toggles = W.ToggleButtons(
            options=classes, value=None, style=W.ToggleButtonsStyle(button_width="auto"),
            tooltips=[f"key {i}" if i < 10 else "" for i in range(len(classes))],
        )  # fmt: skip
        toggles.observe(lambda ch: self._filling or self._on_choice(slot["idx"], ch["new"]),
                        names="value")  # fmt: skip
        small = {"width": "auto", "min_width": "0", "flex": "1 1 auto", "padding": "0 6px"}
        skip = W.Button(description="Skip", layout=W.Layout(**small), tooltip="Not now (s)")
        skip.on_click(lambda _: self.skip(slot["idx"]))
        unsure = W.Button(description="Unsure", layout=W.Layout(**small),
                          tooltip="I don't know: recorded, never trained on (?)")  # fmt: skip
        unsure.on_click(lambda _: self.unsure(slot["idx"]))
        caption, content = W.HTML(), W.Box()
        card = W.VBox([caption, content, toggles, W.HBox([skip, unsure])]).add_class("alw-card")
        slot.update(card=card, caption=caption, content=content, toggles=toggles, skip=skip,
                    unsure=unsure)  # fmt: skip
        return slot

    def _mark_cursor(self) -> None:
        for i, card in enumerate(self.cards):
            if i == self._cursor:
                card.add_class("alw-current")
            else:
                card.remove_class("alw-current")

    def _update_status(self) -> None:
        s = self.session
        parts = [
            f"<b>{s.n_labeled}</b> labeled of {s.n_samples}",
            f"round {s.round}",
            f"strategy <b>{html.escape(s.strategy.name)}</b>",
        ]
        if len(s.unsure):
            parts.append(f"{len(s.unsure)} unsure")
        behind = s.models_behind
        if s.cold:
            parts.append(
                f"model: cold start (batch picked {s.cold_start}ly until two classes are labeled)"
                if s.cold_start == "random"
                else "model: cold start (diverse batch until two classes are labeled)"
            )
        else:
            fit = s.timings.get("fit")
            took = f", fit {fit * 1000:.0f} ms" if fit is not None else ""
            parts.append(f"model: trained on {s.model_version} labels{took}")
        if behind and self._pending:
            parts.append(f"<b>retraining in the background: the model is {behind} labels behind</b>")
        parts.append(f"map: {html.escape(self.projection.status)}")
        if len(s.batch.indices) == 0:
            parts.append(
                "<b>nothing left to label</b>: every item is labeled, skipped or unsure. "
                "Export with <code>session.export('labels.csv')</code> (or .parquet); "
                f"your labels are saved in <code>{html.escape(s.store.path)}</code>"
            )
        self.status.value = " · ".join(parts)
        self.error.value = html.escape(s.last_error) if s.last_error else ""

    def _say_error(self, msg: str) -> None:
        self.error.value = html.escape(msg)

    # -- callbacks -------------------------------------------------------------------------
    def _on_choice(self, idx: int, value: str | None) -> None:
        if value is None:
            self._choices.pop(idx, None)
        else:
            self._choices[idx] = self.session.classes.index(value)
        pos = self.session.batch.indices.tolist().index(idx)
        if value is None:
            self.cards[pos].remove_class("alw-chosen")
        else:
            self.cards[pos].add_class("alw-chosen")
        self.error.value = ""

    def _on_strategy(self, change: dict) -> None:
        with self._lock:
            self.session.set_strategy(change["new"])
            keep = set(self.session.batch.indices.tolist())
            self._choices = {i: c for i, c in self._choices.items() if i in keep}
            self._cursor = 0
            self.refresh()

    def _on_key(self, key: str) -> None:
        n = len(self.cards)
        if key.isdigit() and n:
            code = int(key)
            if code < len(self.session.classes):
                idx = int(self.session.batch.indices[self._cursor])
                self.choose(idx, code)
                self._cursor = min(self._cursor + 1, n - 1)
                self._mark_cursor()
        elif key == "Enter":
            self.submit()
        elif key == "ArrowRight" and n:
            self._cursor = min(self._cursor + 1, n - 1)
            self._mark_cursor()
        elif key == "ArrowLeft" and n:
            self._cursor = max(self._cursor - 1, 0)
            self._mark_cursor()
        elif key == "s" and n:
            self.skip(int(self.session.batch.indices[self._cursor]))
        elif key == "?" and n:
            self.unsure(int(self.session.batch.indices[self._cursor]))
        elif key in ("u", "Backspace"):
            self.undo()

    def _on_projection(self, xy: np.ndarray) -> None:
        with self._lock:
            self.map.set_xy(xy, _proj_name(self.projection))
            self._update_map()
            self._update_status()


def _proj_name(p: Projection) -> str:
    return {"umap": "UMAP", "pca": "PCA", "identity": "feature"}[p.method_]


def _hover_texts(items: Any, n: int) -> list[str] | None:
    """One short text per item for hover, or None for images (the index says enough)."""
    if n == 0 or isinstance(items, _RowItems):
        return None
    first = items[0]
    if isinstance(first, np.ndarray) and first.ndim >= 2:
        return None
    return [item_summary(items[i], 60) for i in range(n)]


def _strategy_options(session: Session) -> list[str]:
    names = available_strategies()
    if session.strategy.name not in names:
        names = [session.strategy.name, *names]
    return names


def _as_items(items: Any, session: Session) -> Sequence[Any]:
    if items is None:
        return _RowItems(session)
    try:
        import pandas as pd

        if isinstance(items, pd.DataFrame):
            items = _FrameRows(items)
    except ImportError:  # pragma: no cover
        pass
    if len(items) != session.n_samples:
        raise ValueError(
            f"items has {len(items)} entries but the pool X has {session.n_samples} rows; "
            "pass one item per row of X, in the same order"
        )
    return items


class _FrameRows:
    def __init__(self, df: Any) -> None:
        self.df = df

    def __len__(self) -> int:
        return len(self.df)

    def __getitem__(self, i: int) -> Any:
        return self.df.iloc[int(i)]


class _RowItems:
    def __init__(self, session: Session) -> None:
        self.session = session
        cols = getattr(session.X_fit, "columns", None)
        self.cols = list(cols) if cols is not None else [f"x{j}" for j in range(session.X.shape[1])]

    def __len__(self) -> int:
        return self.session.n_samples

    def __getitem__(self, i: int) -> Any:
        return dict(zip(self.cols, self.session.X[int(i)].tolist(), strict=True))
