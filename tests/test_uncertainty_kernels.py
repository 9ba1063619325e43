"""The fast uncertainty kernels equal their float64 definitions, ties and float32 included."""

import numpy as np
import pytest

from alwidget.strategies.committee import vote_entropy
from alwidget.strategies.uncertainty import entropy, least_confidence, margin


@pytest.mark.parametrize("n_classes", [2, 3, 5, 40])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scores_equal_the_definitions(n_classes, dtype):
    rng = np.random.default_rng(n_classes)
    P = rng.dirichlet(np.ones(n_classes), 5000)
    P[:50] = np.round(P[:50], 1)  # ties between the top classes
    P[50:60] = 0.0
    P[50:60, 0] = 1.0  # certain rows (and zeros: 0 log 0 = 0)
    t = np.sort(P, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ent = -np.nansum(np.where(P > 0, P * np.log(P), 0.0), axis=1)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    Q = P.astype(dtype)
    np.testing.assert_allclose(least_confidence(Q), 1 - t[:, -1], atol=tol)
    np.testing.assert_allclose(margin(Q), 1 - (t[:, -1] - t[:, -2]), atol=tol)
    np.testing.assert_allclose(entropy(Q), ent, atol=tol * 10)
    for f in (least_confidence, margin, entropy):
        assert f(Q).dtype == np.float64 and f(Q).shape == (5000,)


def test_vote_entropy_counts_votes_per_row():
    votes = np.array([[0, 0, 0, 0], [0, 1, 0, 1], [0, 1, 2, 3], [2, 2, 1, 2]])
    counts = [[4], [2, 2], [1, 1, 1, 1], [3, 1]]
    ref = [-sum(c / 4 * np.log(c / 4) for c in row) for row in counts]
    np.testing.assert_allclose(vote_entropy(votes, 4), ref, atol=1e-12)
