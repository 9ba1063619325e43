import os

import numpy as np
import pytest

os.environ.setdefault("ALWIDGET_PROJECTION", "pca")  # UMAP only in tests marked umap


@pytest.fixture(scope="session")
def digits():
    from sklearn.datasets import load_digits

    return load_digits()


@pytest.fixture
def classes10():
    return [str(c) for c in range(10)]


@pytest.fixture
def blobs():
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=300, centers=3, n_features=5, random_state=0)
    return X, y


@pytest.fixture
def data():
    """120 points in 3 blobs, 4 features (local ``data`` fixtures override it)."""
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=120, centers=3, n_features=4, random_state=1)
    return X, y


@pytest.fixture
def rng():
    return np.random.default_rng(0)
