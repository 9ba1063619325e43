"""Discriminative active learning (DAL).

References
----------
Gissin, D. & Shalev-Shwartz, S. (2019). Discriminative active learning. arXiv:1907.06347.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from ._utils import check_features
from .base import QueryContext, Strategy

__all__ = ["dal_scores", "DAL"]


def _default_discriminator() -> Any:
    return LogisticRegression(class_weight="balanced", max_iter=500)


def dal_scores(
    X: np.ndarray,
    X_labeled: np.ndarray,
    X_unlabeled: np.ndarray | None = None,
    discriminator: Any = None,
    max_unlabeled: int = 5000,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    """Probability that each row of ``X`` is unlabeled, from a labeled-vs-unlabeled classifier.

    A binary classifier is trained to tell ``X_labeled`` (class 1) from the unlabeled pool
    (class 0, at most ``max_unlabeled`` rows drawn at random, which bounds the cost); the
    score of an item is its predicted probability of being unlabeled: high = it looks least
    like the labeled set (Gissin & Shalev-Shwartz, 2019).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Items to score.
    X_labeled : ndarray of shape (n_labeled, n_features)
        The labeled set.
    X_unlabeled : ndarray of shape (n_unlabeled, n_features), optional
        The unlabeled pool; default ``X``.
    discriminator : classifier, optional
        Cloned, never fitted in place. Default
        ``LogisticRegression(class_weight="balanced")``; the paper uses a small MLP on the
        model's representation.
    max_unlabeled : int, default=5000
    rng : Generator, int or None
        Seeds the unlabeled sample and the discriminator's ``random_state``.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        ``P(unlabeled | x)`` in ``[0, 1]``.

    Raises
    ------
    ValueError
        If ``X_labeled`` is empty.

    Examples
    --------
    Only the blob around 0 is labeled: items of the blob around 5 look unlabeled.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (20, 2)), rng.normal(5, 1, (20, 2))])
    >>> s = dal_scores(X, X_labeled=X[:20], rng=0)
    >>> s.shape, round(float(s[:20].mean()), 2), round(float(s[20:].mean()), 2)
    ((40,), 0.35, 0.95)
    """
    rng = np.random.default_rng(rng)
    X = check_features(X)
    XL = check_features(X_labeled, name="X_labeled")
    if XL.shape[0] == 0:
        raise ValueError("DAL needs at least one labeled item")
    XU = X if X_unlabeled is None else check_features(X_unlabeled, name="X_unlabeled")
    if XU.shape[0] > max_unlabeled:
        XU = XU[np.sort(rng.choice(XU.shape[0], max_unlabeled, replace=False))]
    clf = clone(_default_discriminator() if discriminator is None else discriminator)
    if "random_state" in clf.get_params():
        clf.set_params(random_state=int(rng.integers(2**31 - 1)))
    Xtr = np.vstack([XL, XU])
    ytr = np.r_[np.ones(XL.shape[0], dtype=np.int64), np.zeros(XU.shape[0], dtype=np.int64)]
    clf.fit(Xtr, ytr)
    col = int(np.flatnonzero(np.asarray(clf.classes_) == 0)[0])
    return np.asarray(clf.predict_proba(X)[:, col], dtype=np.float64)


class DAL(Strategy):
    """Discriminative active learning (Gissin & Shalev-Shwartz, 2019).

    Picks the candidates a labeled-vs-unlabeled classifier finds least like the labeled set.
    As in the paper, a batch can be built in ``n_sub_batches`` rounds: after each, the picks
    join the labeled side and the discriminator is refitted. Needs no model.

    Parameters
    ----------
    discriminator : classifier, optional
        See :func:`dal_scores`.
    n_sub_batches : int, default=1
    max_unlabeled : int, default=5000

    Examples
    --------
    Ten items of the blob around 0 are labeled; the picks come from the unexplored blob:

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (20, 2)), rng.normal(5, 1, (20, 2))])
    >>> labels = np.r_[np.zeros(10, dtype=int), np.full(30, -1)]
    >>> ctx = QueryContext(X=X, labels=labels, candidates=np.arange(10, 40), proba=None,
    ...                    model=None, estimator=None, n_classes=2, rng=np.random.default_rng(0))
    >>> idx, scores = DAL().query(ctx, 3)
    >>> bool((idx >= 20).all()), bool((scores > 0.9).all())
    (True, True)
    """

    name = "dal"
    needs_model = False

    def __init__(
        self, discriminator: Any = None, n_sub_batches: int = 1, max_unlabeled: int = 5000
    ) -> None:
        self.discriminator = discriminator
        self.n_sub_batches = n_sub_batches
        self.max_unlabeled = max_unlabeled

    def scores(self, ctx: QueryContext) -> np.ndarray:
        lab = ctx.labeled
        if not lab.any():  # nothing labeled: everything is equally unlike it
            return ctx.rng.random(len(ctx.candidates))
        Xc = ctx.X[ctx.candidates]
        return dal_scores(Xc, ctx.X[lab], Xc, self.discriminator, self.max_unlabeled, ctx.rng)

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        from .base import top_k

        k = min(int(batch_size), len(ctx.candidates))
        if not ctx.labeled.any() or self.n_sub_batches <= 1:
            s = self.scores(ctx)
            pos = top_k(s, k, ctx.rng)
            return ctx.candidates[pos], s[pos]
        Xc = ctx.X[ctx.candidates]
        taken = np.zeros(len(ctx.candidates), dtype=bool)
        picks, vals = [], []
        sizes = np.diff(np.linspace(0, k, self.n_sub_batches + 1).astype(int))
        for m in sizes[sizes > 0]:
            XL = np.vstack([ctx.X[ctx.labeled], Xc[taken]])
            s = dal_scores(Xc, XL, Xc[~taken], self.discriminator, self.max_unlabeled, ctx.rng)
            s[taken] = -np.inf
            pos = top_k(s, m, ctx.rng)
            taken[pos] = True
            picks.append(pos)
            vals.append(s[pos])
        pos = np.concatenate(picks)
        return ctx.candidates[pos], np.concatenate(vals)
