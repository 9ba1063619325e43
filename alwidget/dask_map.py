"""What the widget's map holds for a pool on Dask: a seeded sample plus the answered and batch
items, projected by a projector fitted on a sample and applied chunk-wise.

A map of 10M points is neither drawable nor useful; :class:`DaskProjection` (used by
:class:`~alwidget.LabelingWidget` in place of :class:`~alwidget.projection.Projection` when the
session's pool is a Dask array) keeps

- ``shown``: a seeded uniform sample of at most ``sample`` items (200k by default,
  :meth:`DaskPool.sample`), drawn as the map's pool trace; their rows stay on the workers
  (``persist``) so that recolouring after a retrain does not read the pool again;
- coordinates for those items, from a projector (PCA, or UMAP when asked) fitted on at most
  ``fit_rows`` of them fetched to the client, applied chunk-wise on the workers
  (``map_blocks``): only ``(m, 2)`` floats come back;
- coordinates for every labeled, unsure and batch item, added as they appear
  (:meth:`DaskProjection.place`; their rows are already in the session's row cache).

Headless: no ipywidgets or plotly here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .projection import forced_method, pca_2d

__all__ = ["DaskProjection", "DaskRowItems", "NoExplainer", "lazy_hover_texts", "show_pool_lost"]


def _transform_block(X: np.ndarray, projector: Any) -> np.ndarray:
    if X.shape[0] == 0:
        return np.empty((0, 2), dtype=np.float32)
    return np.asarray(projector.transform(X), dtype=np.float32)


class _Identity:
    """The map of 2-D features: the features themselves."""

    def transform(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(X, dtype=np.float32)


class DaskProjection:
    """Map coordinates of a Dask pool's sample and of the items a map must show.

    Parameters
    ----------
    pool : alwidget.dask_session.DaskSessionPool
        The session's pool object (``session.dask``).
    method : {"auto", "pca", "umap", "none"}, default="auto"
        ``"umap"``: PCA at once, UMAP (fitted on the fit rows, then applied chunk-wise)
        swapped in when ready; ``"auto"``/``"pca"``/``"none"``: PCA. ``ALWIDGET_PROJECTION``
        overrides this as for :class:`~alwidget.projection.Projection`.
    sample : int, default=200_000
        At most this many pool items drawn on the map (seeded by ``random_state``).
    fit_rows : int, default=20_000
        Rows of the sample the projector is fitted on (fetched to this process).
    random_state : int, default=0

    Attributes
    ----------
    shown : ndarray of shape (m,), int64
        The sample, sorted.
    xy : ndarray of shape (n_samples, 2), float32
        Coordinates; NaN for items not placed (neither in the sample nor answered nor in a
        batch).
    method_ : str
        ``"pca"``, ``"umap"`` or ``"identity"`` (2-D features).
    status : str

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> from alwidget.dask_session import DaskSessionPool
    >>> X = da.from_array(np.random.default_rng(0).normal(size=(5_000, 6)), chunks=(1_000, 6))
    >>> p = DaskProjection(DaskSessionPool(X), sample=1_000)
    >>> p.shown.size, int(np.isfinite(p.xy[:, 0]).sum()), p.method_
    (1000, 1000, 'pca')
    >>> p.place([7, 8]).tolist(), bool(np.isfinite(p.xy[[7, 8]]).all())
    ([7, 8], True)
    """

    def __init__(
        self,
        pool: Any,
        method: str = "auto",
        *,
        sample: int = 200_000,
        fit_rows: int = 20_000,
        random_state: int = 0,
    ) -> None:
        method = forced_method() or method
        if method not in ("umap", "pca", "auto", "none"):
            raise ValueError(f"method must be 'umap', 'pca' or 'auto'; got {method!r}")
        self.pool, self.method, self.random_state = pool, method, int(random_state)
        self.shown = pool.pool.sample(sample, random_state)
        pool.watch(self.shown)  # their uncertainty is computed; their rows kept on the workers
        rng = np.random.default_rng(random_state)
        m = min(int(fit_rows), self.shown.size)
        self._fit_idx = np.sort(rng.choice(self.shown, m, replace=False))
        self.xy = np.full((pool.n_samples, 2), np.nan, dtype=np.float32)
        self._thread: threading.Thread | None = None
        self._closed = False
        if pool.X.shape[1] == 2:
            self.projector: Any = _Identity()
            self.method_, self.status = "identity", "features"
        else:
            self.projector = _fit_pca(self._fit_rows(), random_state)
            self.method_, self.status = "pca", f"PCA (fitted on {m:,} rows of the sample)"
        self.xy[self.shown] = self._apply(self.projector)

    def _fit_rows(self) -> np.ndarray:
        """The fit rows, from the sample kept on the workers (the pool is not read again)."""
        Xs = self.pool._watched_X
        if Xs is None or self._fit_idx.size == 0:
            return self.pool.pool.take(self._fit_idx)
        (rows,) = self.pool.pool._compute(Xs[np.searchsorted(self.shown, self._fit_idx)])
        return np.asarray(rows)

    def _apply(self, projector: Any) -> np.ndarray:
        """The projector applied to the sample chunk-wise on the workers: (m, 2) float32."""
        Xs = self.pool._watched_X if self.pool._watched_X is not None else None
        if Xs is None or self.shown.size == 0:
            return np.empty((0, 2), dtype=np.float32)
        out = Xs.map_blocks(
            _transform_block,
            self.pool.pool._broadcast(projector),
            dtype=np.float32,
            chunks=(Xs.chunks[0], (2,)),
        )
        (xy,) = self.pool.pool._compute(out)
        return np.asarray(xy, dtype=np.float32)

    def place(self, indices: Any) -> np.ndarray:
        """Give coordinates to the items among ``indices`` that have none yet (their rows come
        from the session's row cache, or from the pool).

        Returns
        -------
        ndarray of shape (j,), int64
            The items placed by this call.
        """
        idx = np.unique(np.asarray(indices, dtype=np.int64).reshape(-1))
        new = idx[np.isnan(self.xy[idx, 0])] if idx.size else idx
        if new.size:
            self.xy[new] = _transform_block(self.pool.pool.take(new), self.projector)
        return new

    # -- the Projection interface the widget uses --------------------------------------------
    @property
    def wants_umap(self) -> bool:
        return self.method == "umap" and self.method_ == "pca"

    def start(self, on_ready: Callable[[np.ndarray], None] | None = None) -> None:
        """Fit UMAP on the fit rows in a thread and apply it chunk-wise; then
        ``on_ready(xy)``. A no-op unless ``method="umap"``."""
        if not self.wants_umap or self._thread is not None:
            return
        self.status = "UMAP computing in the background (PCA shown meanwhile)"

        def run() -> None:
            try:
                import umap

                rows = self._fit_rows().astype(np.float32)
                model = umap.UMAP(
                    n_neighbors=min(15, rows.shape[0] - 1), random_state=self.random_state
                ).fit(rows)
                xy = self._apply(model)
            except Exception as exc:  # missing umap-learn, a lost cluster...: keep PCA
                self.status = f"UMAP failed, showing PCA: {type(exc).__name__}: {exc}"
                return
            if self._closed:
                return
            placed = np.flatnonzero(np.isfinite(self.xy[:, 0]))
            extra = np.setdiff1d(placed, self.shown)
            self.projector, self.method_, self.status = model, "umap", "UMAP (fitted on a sample)"
            self.xy[:] = np.nan
            self.xy[self.shown] = xy
            self.place(extra)
            if on_ready is not None:
                on_ready(self.xy)

        self._thread = threading.Thread(target=run, daemon=True, name="alwidget-dask-umap")
        self._thread.start()

    def wait(self, timeout: float | None = None) -> np.ndarray:
        """Block until a background UMAP (if any) is done; return :attr:`xy`."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.xy

    def close(self) -> None:
        """Drop a UMAP result that lands after this (the thread itself ends on its own)."""
        self._closed = True


def _fit_pca(rows: np.ndarray, random_state: int) -> Any:
    """A 2-component PCA fitted on ``rows`` (randomized above 500 rows, as :func:`pca_2d`)."""
    from sklearn.decomposition import PCA

    if rows.shape[1] == 1:
        return _OneColumn()
    solver = "randomized" if rows.shape[0] > 500 else "full"
    pca = PCA(n_components=2, svd_solver=solver, iterated_power=3, random_state=random_state)
    return pca.fit(rows.astype(np.float32 if solver == "randomized" else np.float64))


class _OneColumn:
    def transform(self, X: np.ndarray) -> np.ndarray:
        return pca_2d(np.asarray(X)[:, :1])


class DaskRowItems:
    """The default items of a Dask pool: its feature rows as ``{"x0": ..., ...}`` dicts,
    fetched one at a time (from the session's row cache when the row is there)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.cols = [f"x{j}" for j in range(session.X.shape[1])]

    def __len__(self) -> int:
        return int(self.session.n_samples)

    def __getitem__(self, i: int) -> Any:
        row = self.session.dask.pool.take([int(i)])[0]
        return dict(zip(self.cols, row.tolist(), strict=True))


class _LazyHover:
    def __init__(self, items: Any) -> None:
        self.items = items

    def __getitem__(self, i: int) -> str:
        from .widget.renderers import item_summary

        return str(item_summary(self.items[int(i)], 60))


def lazy_hover_texts(items: Any) -> Any:
    """Hover texts made only for the items the map draws (None for rows and images)."""
    if isinstance(items, DaskRowItems) or len(items) == 0:
        return None
    first = items[0]
    if isinstance(first, np.ndarray) and first.ndim >= 2:
        return None
    return _LazyHover(items)


class NoExplainer:
    """The cards' "why this pick" readout is not computed on a Dask pool (its density
    percentile reads the whole pool); the cards show no readout."""

    compare: list[str] = []

    def explain(self, indices: Any = None) -> list[Any]:
        return []


def show_pool_lost(widget: Any, exc: Exception) -> None:
    """A widget whose pool's cluster is gone: the message goes to the status line (as the
    map's state) and the error line; the batch on screen stays; answers already stored are
    no longer offered as choices."""
    from .errors import PoolUnavailableError
    from .labelstate import UNLABELED

    with widget.lock:
        s, actions = widget.session, widget.actions
        actions.choices = {i: c for i, c in actions.choices.items() if s.status[i] == UNLABELED}
        widget.projection.status = f"pool unavailable: {exc}"
        try:
            widget.refresh()
        except PoolUnavailableError:
            pass
        actions.say_error(str(exc))
