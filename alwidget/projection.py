"""2-D projections of the pool for the map: PCA at once, UMAP in the background, cached.

UMAP runs in a separate process (its numba code holds the GIL, and the first call in a process
compiles for tens of seconds), so labeling goes on while it computes. Results are cached on
disk per pool fingerprint in ``$ALWIDGET_CACHE_DIR`` (default ``~/.cache/alwidget``).

Set ``ALWIDGET_PROJECTION=pca`` to force PCA everywhere (CI, slow machines).
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA

__all__ = ["pca_2d", "umap_2d", "Projection", "cache_dir", "EXACT_PCA_MAX_ROWS"]

UMAP_PARAMS = {"n_neighbors": 15, "min_dist": 0.1, "n_epochs": 200, "init": "pca"}


def cache_dir() -> Path:
    """Folder of the on-disk projection cache (``$ALWIDGET_CACHE_DIR`` or ~/.cache/alwidget)."""
    return Path(os.environ.get("ALWIDGET_CACHE_DIR", Path.home() / ".cache" / "alwidget"))


#: Above this many rows :func:`pca_2d` uses randomized PCA (Halko et al. 2011): the full SVD
#: costs seconds at a few thousand rows of images (13.5 s at 5,000 x 784 here), randomized
#: PCA a fraction of a second, and two components are all a map needs.
EXACT_PCA_MAX_ROWS = 500


def pca_2d(X: np.ndarray, random_state: int = 0) -> np.ndarray:
    """First two principal components, fast enough to draw the first map at once.

    Up to :data:`EXACT_PCA_MAX_ROWS` rows the exact (full SVD) solution; above it randomized
    PCA (Halko, Martinsson and Tropp 2011, "Finding structure with randomness", SIAM Review
    53(2)) in float32 with 3 power iterations, seeded by ``random_state`` (on digits its axes
    correlate above 0.9999 with the exact ones).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    random_state : int, default=0
        Seed of the randomized solver.

    Returns
    -------
    ndarray of shape (n_samples, 2), float32
        With one feature, the second column is zero; with two, X itself.

    Examples
    --------
    >>> import numpy as np
    >>> pca_2d(np.random.default_rng(0).normal(size=(1000, 50))).shape
    (1000, 2)
    """
    X = np.asarray(X)
    if X.shape[1] == 1:
        return np.column_stack([X[:, 0], np.zeros(X.shape[0])]).astype(np.float32)
    if X.shape[1] == 2:
        return X.astype(np.float32)
    if X.shape[0] > EXACT_PCA_MAX_ROWS:
        pca = PCA(
            n_components=2, svd_solver="randomized", iterated_power=3, random_state=random_state
        )
        return pca.fit_transform(X.astype(np.float32, copy=False)).astype(np.float32)
    pca = PCA(n_components=2, svd_solver="full")
    return pca.fit_transform(X.astype(np.float64, copy=False)).astype(np.float32)


def umap_2d(X: np.ndarray, random_state: int = 0) -> np.ndarray:
    """UMAP embedding with settings that are fast on small machines.

    Up to 20,000 items the exact nearest neighbours come from scikit-learn and are passed
    to UMAP as ``precomputed_knn``; ``init="pca"`` and ``n_epochs=200``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    random_state : int, default=0
        Seed of UMAP's layout.

    Returns
    -------
    ndarray of shape (n_samples, 2), float32

    Raises
    ------
    ImportError
        If umap-learn is not installed.

    Notes
    -----
    Slow: the first call in a process compiles UMAP's numba code (tens of seconds), and the
    layout takes seconds from a few thousand rows. :class:`Projection` runs it in a background
    process and caches the result under :func:`cache_dir`; call it directly in scripts.

    Examples
    --------
    Not run here (it takes tens of seconds in a fresh process):

    >>> import numpy as np
    >>> X = np.random.default_rng(0).normal(size=(500, 10))
    >>> xy = umap_2d(X, random_state=0)  # doctest: +SKIP
    >>> xy.shape, xy.dtype  # doctest: +SKIP
    ((500, 2), dtype('float32'))
    """
    import umap  # lazy: costs ~40 s the first time (numba compilation)

    X = np.asarray(X, dtype=np.float32)
    params = dict(UMAP_PARAMS, random_state=random_state)
    n_nb = min(params["n_neighbors"], X.shape[0] - 1)
    params["n_neighbors"] = n_nb
    if X.shape[0] <= 20_000:
        from sklearn.neighbors import NearestNeighbors

        dist, ind = NearestNeighbors(n_neighbors=n_nb).fit(X).kneighbors(X)
        params["precomputed_knn"] = (ind, dist)
    return umap.UMAP(**params).fit_transform(X).astype(np.float32)


def _umap_cached(X: np.ndarray, fp: str, random_state: int) -> np.ndarray:
    path = cache_dir() / f"umap-{fp[:32]}-{random_state}.npy"
    if path.exists():
        return np.load(path, allow_pickle=False)
    emb = umap_2d(X, random_state=random_state)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, emb, allow_pickle=False)
    os.replace(tmp, path)
    return emb


def forced_method() -> str | None:
    m = os.environ.get("ALWIDGET_PROJECTION", "").strip().lower()
    return m or None


class Projection:
    """The map coordinates of one pool: PCA now, UMAP when ready.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Pool features.
    fingerprint : str
        Pool fingerprint (cache key), see :func:`alwidget.store.fingerprint`.
    method : {"umap", "pca", "auto", "none"}, default="auto"
        ``"umap"`` / ``"auto"``: PCA at once, UMAP swapped in when ready (``"auto"`` falls
        back to PCA silently if umap-learn is missing). ``"pca"``: PCA only. The environment
        variable ``ALWIDGET_PROJECTION`` overrides this. If X has two columns it is its own map.
    random_state : int, default=0

    Attributes
    ----------
    xy : ndarray of shape (n_samples, 2), float32
        Current coordinates.
    method_ : str
        ``"pca"``, ``"umap"``, or ``"identity"`` for 2-D data.
    status : str
        Human-readable state ("UMAP computing...", "UMAP ready", "UMAP failed: ...").

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.store import fingerprint
    >>> X = np.random.default_rng(0).normal(size=(300, 20))
    >>> p = Projection(X, fingerprint(X), method="pca")
    >>> p.method_, p.xy.shape, p.xy.dtype
    ('pca', (300, 2), dtype('float32'))
    """

    def __init__(
        self, X: np.ndarray, fingerprint: str, method: str = "auto", random_state: int = 0
    ) -> None:
        method = forced_method() or method
        if method not in ("umap", "pca", "auto", "none"):
            raise ValueError(f"method must be 'umap', 'pca' or 'auto'; got {method!r}")
        self.X, self.fingerprint, self.random_state = X, fingerprint, random_state
        self.method = method
        if X.shape[1] == 2:
            self.xy, self.method_, self.status = X.astype(np.float32), "identity", "features"
            self.method = "pca"
        else:
            self.xy, self.method_, self.status = pca_2d(X, random_state), "pca", "PCA"
        self._future: cf.Future | None = None
        self._pool: cf.ProcessPoolExecutor | None = None

    @property
    def wants_umap(self) -> bool:
        return self.method in ("umap", "auto") and self.method_ == "pca"

    def start(self, on_ready: Callable[[np.ndarray], None] | None = None) -> cf.Future | None:
        """Start UMAP in a background process (no-op if not wanted or already started).

        ``on_ready(xy)`` is called from a helper thread with the UMAP coordinates, float32
        (n_samples, 2), once they are ready; :attr:`status` says what happened.
        """
        if not self.wants_umap or self._future is not None:
            return self._future
        path = cache_dir() / f"umap-{self.fingerprint[:32]}-{self.random_state}.npy"
        if path.exists():  # cached: no process needed
            self._finish(np.load(path, allow_pickle=False), on_ready)
            return None
        self.status = "UMAP computing in the background (PCA shown meanwhile)"
        self._pool = cf.ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn"))
        self._future = self._pool.submit(_umap_cached, self.X, self.fingerprint, self.random_state)

        def done(fut: cf.Future) -> None:
            try:
                xy = fut.result()
            except Exception as exc:  # missing umap-learn, a numba failure...: keep PCA
                self.status = f"UMAP failed, showing PCA: {type(exc).__name__}: {exc}"
                if on_ready is not None:
                    on_ready(self.xy)
            else:
                self._finish(xy, on_ready)
            finally:
                if self._pool is not None:
                    self._pool.shutdown(wait=False)

        self._future.add_done_callback(done)
        return self._future

    def _finish(self, xy: np.ndarray, on_ready: Callable[[np.ndarray], None] | None) -> None:
        self.xy, self.method_, self.status = xy.astype(np.float32), "umap", "UMAP"
        if on_ready is not None:
            on_ready(self.xy)

    def wait(self, timeout: float | None = None) -> np.ndarray:
        """Block until the background UMAP (if any) is done; return :attr:`xy`."""
        if self._future is not None:
            cf.wait([self._future], timeout=timeout)
        return self.xy
