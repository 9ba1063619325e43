"""The teaching panel's outlier controls: far outliers marked on the map, and a toggle that
puts an :class:`~alwidget.strategies.OutlierFilter` around the session's strategy.

"Far outlier" is :func:`alwidget.diagnostics.far_outliers`: kNN distance beyond Tukey's
far-out fence, which keeps the gaps between clusters out (the sparsest-decile share, "outlier
fixation", counts those too). The marks are drawn through the map's overlay API only.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import numpy as np

from ..strategies import OutlierFilter

__all__ = ["OutlierControls"]

_NONE = np.empty(0, np.int64)


class OutlierControls(W.HBox):
    """Mark the pool's far outliers on the map; filter them out of the strategy's choice.

    Parameters
    ----------
    widget : LabelingWidget
        Its session's strategy is wrapped and unwrapped; its map gets one overlay.
    far : ndarray of shape (n_samples,), bool
        The far outliers (:attr:`alwidget.diagnostics.PoolGeometry.far`).
    fraction : float, default=0.1
        Share of the candidates the filter drops (the most outlying by kNN distance).

    Attributes
    ----------
    mark : ipywidgets.Checkbox
        Show the far outliers on the map (on by default).
    filter : ipywidgets.ToggleButton
        On: the session's strategy is ``OutlierFilter(strategy, fraction)``; off: the strategy
        it wrapped. Changing the strategy in the widget's menu while on turns it off.
    note : ipywidgets.HTML
        "N far outliers in the pool, L labeled".

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> from alwidget.widget.teaching_outliers import OutlierControls
    >>> X = np.vstack([np.random.default_rng(0).normal(size=(60, 2)), [[15.0, 15.0]]])
    >>> w = alwidget.label(X, classes=["a", "b"], store=":memory:", batch_size=4,
    ...                    strategy="entropy")
    >>> far = np.zeros(61, bool); far[60] = True
    >>> oc = OutlierControls(w, far)
    >>> oc.filter.value = True
    >>> w.session.strategy.name
    'outlier_filter(entropy)'
    >>> oc.filter.value = False
    >>> w.session.strategy.name
    'entropy'
    >>> w.close()
    """

    def __init__(self, widget: Any, far: np.ndarray, fraction: float = 0.1) -> None:
        super().__init__(layout=W.Layout(align_items="center", flex_flow="row wrap"))
        self.widget, self.session = widget, widget.session
        self.far = np.asarray(far, dtype=bool)
        self.fraction = float(fraction)
        self.hover = "far outlier: kNN distance beyond Q3 + 3 IQR of the pool's"
        self.overlay = widget.map.add_overlay(
            "far outlier",
            hover=self.hover,
            symbol="circle-open-dot",
            size=17,
            color="#111111",
            line=dict(width=1.5),
        )
        self.mark = W.Checkbox(value=True, description="Mark far outliers", indent=False)
        self.filter = W.ToggleButton(
            value=isinstance(self.session.strategy, OutlierFilter),
            description="Outlier filter",
            icon="filter",
            tooltip=f"Skip the {self.fraction:.0%} most outlying candidates (kNN distance) "
            "before the strategy picks",
            layout=W.Layout(width="160px"),
        )
        self.note = W.HTML()
        self.mark.observe(lambda _: self.refresh(), names="value")
        self.filter.observe(self._on_filter, names="value")
        self.session.observe(self._on_session)
        self.children = [self.mark, self.filter, self.note]
        self.refresh()

    def refresh(self) -> None:
        """Redraw the marks and the count line."""
        s = self.session
        on = bool(self.mark.value)
        self.widget.map.set_overlay(self.overlay, np.flatnonzero(self.far) if on else _NONE)
        n, lab = int(self.far.sum()), int((self.far & (s.y >= 0)).sum())
        self.note.value = (
            f"<span title='{html.escape(self.hover)}'>"
            f"<b>{n}</b> far outliers in the pool (◉), <b>{lab}</b> labeled</span>"
        )

    def _on_filter(self, change: dict) -> None:
        s, want = self.session, bool(change["new"])
        st = s.strategy
        if want == isinstance(st, OutlierFilter):
            return
        new = OutlierFilter(st, fraction=self.fraction) if want else st.inner
        with self.widget.actions.acting_on():  # our own action: one redraw when done
            try:
                s.set_strategy(new)  # a new batch: the user asked for it
            except (ValueError, TypeError, ImportError) as exc:
                self.widget.say_error(str(exc))
                return
            self.widget.refresh()

    def _on_session(self, event: str) -> None:
        if event in ("strategy", "import", "undo"):
            on = isinstance(self.session.strategy, OutlierFilter)
            if bool(self.filter.value) != on:
                self.filter.unobserve(self._on_filter, names="value")
                self.filter.value = on
                self.filter.observe(self._on_filter, names="value")
        if event in ("submit", "undo", "import"):
            self.refresh()

    def close(self) -> None:
        """Stop listening to the session and close the controls."""
        unobserve = getattr(self.session, "unobserve", None)
        if unobserve is not None:
            unobserve(self._on_session)
        super().close()
