"""Map coordinates: PCA at once, UMAP in a background process, cached on disk."""

import time

import numpy as np
import pytest

from alwidget.projection import Projection, pca_2d
from alwidget.store import fingerprint


def test_pca_is_immediate_float32_and_env_forces_it(digits, monkeypatch):
    X = digits.data
    xy = pca_2d(X)
    assert xy.shape == (1797, 2) and xy.dtype == np.float32
    monkeypatch.setenv("ALWIDGET_PROJECTION", "pca")
    p = Projection(X, fingerprint(X), method="umap")
    assert p.method_ == "pca" and not p.wants_umap and p.start() is None


def test_two_column_data_is_its_own_map():
    X = np.random.default_rng(0).normal(size=(50, 2))
    p = Projection(X, fingerprint(X))
    assert p.method_ == "identity"
    np.testing.assert_allclose(p.xy, X.astype(np.float32))


@pytest.mark.umap
def test_umap_swaps_in_from_a_background_process_and_is_cached(digits, tmp_path, monkeypatch):
    monkeypatch.delenv("ALWIDGET_PROJECTION", raising=False)
    monkeypatch.setenv("ALWIDGET_CACHE_DIR", str(tmp_path))
    X = digits.data[:400]
    fp = fingerprint(X)
    got = []
    p = Projection(X, fp, method="umap")
    assert p.method_ == "pca", "PCA is shown at once"
    p.start(on_ready=got.append)
    # start() returns while the fit runs elsewhere: the map still shows PCA, no callback yet
    assert p.method_ == "pca" and not got, "starting UMAP does not block"
    p.wait(timeout=300)
    deadline = time.time() + 10
    while not got and time.time() < deadline:  # the callback runs just after the future
        time.sleep(0.05)
    assert p.method_ == "umap", p.status
    assert got and got[0].shape == (400, 2) and got[0].dtype == np.float32
    assert not np.allclose(got[0], pca_2d(X))
    assert list(tmp_path.glob("umap-*.npy")), "the result is cached on disk"
    # a new session on the same pool gets UMAP from the cache at once
    again = []
    q = Projection(X, fp, method="umap")
    q.start(on_ready=again.append)
    assert q.method_ == "umap" and again, "served from the cache within start(), no new fit"
    np.testing.assert_array_equal(again[0], got[0])


def test_large_pools_use_randomized_pca_that_matches_the_exact_map(digits):
    from sklearn.decomposition import PCA

    from alwidget.projection import EXACT_PCA_MAX_ROWS

    X = digits.data
    assert X.shape[0] > EXACT_PCA_MAX_ROWS
    xy = pca_2d(X, random_state=3)
    exact = PCA(n_components=2, svd_solver="full").fit_transform(X)
    for k in range(2):  # the same axes up to sign
        assert abs(np.corrcoef(xy[:, k], exact[:, k])[0, 1]) > 0.999
    np.testing.assert_array_equal(xy, pca_2d(X, random_state=3))  # seeded
    small = X[:EXACT_PCA_MAX_ROWS]
    np.testing.assert_allclose(
        np.abs(pca_2d(small)), np.abs(PCA(2, svd_solver="full").fit_transform(small)), atol=1e-3
    )
