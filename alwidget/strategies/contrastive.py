"""Contrastive active learning (CAL).

References
----------
Margatina, K., Vernikos, G., Barrault, L. & Aletras, N. (2021). Active learning by acquiring
contrastive examples. EMNLP.
"""

from __future__ import annotations

import numpy as np

from ._utils import check_features, check_proba, f32, knn, require_proba
from .base import QueryContext, ScoreStrategy

__all__ = ["cal_scores", "CAL"]


def cal_scores(
    proba: np.ndarray,
    X: np.ndarray,
    proba_labeled: np.ndarray,
    X_labeled: np.ndarray,
    n_neighbors: int = 10,
    eps: float = 1e-12,
    block: int = 4096,
) -> np.ndarray:
    """CAL score: mean KL from the labeled nearest neighbours' predictions (Margatina et al.).

    ``s(x) = (1/k) sum_{l in kNN_L(x)} KL(p(y|x_l) || p(y|x))``, with the neighbours found
    among the labeled items by Euclidean distance in feature space (exact: scikit-learn's
    ``NearestNeighbors``, memory bounded) and
    ``p(y|x_l)`` the model's prediction for the neighbour, as in the paper. Probabilities are
    clipped to ``eps`` inside the logarithms.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Predictions for the candidates.
    X : ndarray of shape (n_samples, n_features)
        Candidate features.
    proba_labeled : ndarray of shape (n_labeled, n_classes)
        Predictions for the labeled items.
    X_labeled : ndarray of shape (n_labeled, n_features)
        Labeled features.
    n_neighbors : int, default=10
        ``k``; clipped to ``n_labeled``.
    eps : float, default=1e-12
    block : int, default=4096
        Ignored (kept for compatibility): scikit-learn sizes its chunks by memory.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        Non-negative; higher = the model predicts the item unlike its labeled neighbours.

    Raises
    ------
    ValueError
        On shape mismatches or an empty labeled set.

    Examples
    --------
    Two labeled items, predicted "class 0" at x=0 and "class 1" at x=10. A candidate next to
    one of them but predicted like the other is contrastive:

    >>> import numpy as np
    >>> XL, PL = np.array([[0.0], [10.0]]), np.array([[0.9, 0.1], [0.1, 0.9]])
    >>> X = np.array([[1.0], [9.0], [1.5]])  # near 0, near 10, near 0
    >>> P = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8]])  # agrees, disagrees, disagrees
    >>> cal_scores(P, X, PL, XL, n_neighbors=1).round(3).tolist()
    [0.0, 1.758, 1.146]
    """
    P = check_proba(proba).astype(np.float64, copy=False)
    X = check_features(X, P.shape[0])
    PL = check_proba(proba_labeled, "proba_labeled").astype(np.float64, copy=False)
    XL = check_features(X_labeled, PL.shape[0], "X_labeled")
    if PL.shape[0] == 0:
        raise ValueError("CAL needs at least one labeled item")
    logPL = np.log(np.clip(PL, eps, None))
    plogpl = np.einsum("ij,ij->i", PL, logPL)  # sum_c p_l log p_l
    _, nn = knn(f32(X), f32(XL), n_neighbors)
    logP = np.log(np.clip(P, eps, None))
    # KL(p_l || p) = sum p_l log p_l - sum p_l log p, averaged over the neighbours
    cross = np.einsum("ikc,ic->i", PL[nn], logP) / nn.shape[1]
    return np.maximum(plogpl[nn].mean(axis=1) - cross, 0.0)


class CAL(ScoreStrategy):
    """Contrastive active learning (Margatina et al., 2021): top-k by :func:`cal_scores`.

    Parameters
    ----------
    n_neighbors : int, default=10
        Labeled neighbours per candidate.

    Raises
    ------
    ValueError
        At query time, if no model is fitted yet or nothing is labeled.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0], [10.0], [1.0], [9.0], [1.5]])
    >>> P = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.1], [0.9, 0.1], [0.2, 0.8]])
    >>> ctx = QueryContext(X=X, labels=np.array([0, 1, -1, -1, -1]), candidates=np.arange(2, 5),
    ...                    proba=P, model=None, estimator=None, n_classes=2,
    ...                    rng=np.random.default_rng(0))
    >>> CAL(n_neighbors=1).query(ctx, 2)[0].tolist()  # predicted unlike their labeled neighbour
    [3, 4]
    """

    def __init__(self, n_neighbors: int = 10) -> None:
        self.n_neighbors = n_neighbors
        super().__init__(self._score, name="cal")

    def _score(self, ctx: QueryContext) -> np.ndarray:
        P = require_proba(ctx, self.name)
        lab = np.flatnonzero(ctx.labeled)
        c = ctx.candidates
        return cal_scores(P[c], ctx.X[c], P[lab], ctx.X[lab], self.n_neighbors)
