"""Fitting a committee: bagged clones of the user's estimator (Abe & Mamitsuka, 1998), and
the members' stacked predictions. Used by :class:`~alwidget.strategies.QueryByCommittee` and
:class:`~alwidget.strategies.BALD` (importable from :mod:`alwidget.strategies.committee`).

References
----------
Abe, N. & Mamitsuka, H. (1998). Query learning strategies using boosting and bagging. ICML.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from ._utils import aligned_proba

__all__ = ["fit_committee", "committee_proba"]


def _seed_params(est: Any, seed: int) -> Any:
    keys = [
        k for k in est.get_params(deep=True) if k == "random_state" or k.endswith("__random_state")
    ]
    if keys:
        est.set_params(**{k: seed for k in keys})
    return est


def fit_committee(
    estimator: Any,
    X: np.ndarray,
    y: np.ndarray,
    n_members: int = 5,
    *,
    bootstrap: bool = True,
    random_state: int | np.random.Generator | None = None,
) -> list:
    """Fit a committee: bagged clones of one estimator, or clones of several.

    Parameters
    ----------
    estimator : estimator or sequence of estimators
        One unfitted classifier (cloned ``n_members`` times) or a list of classifiers (each
        cloned once; ``n_members`` is then ignored). Never fitted in place.
    X : ndarray of shape (n_labeled, n_features)
        Labeled features.
    y : ndarray of shape (n_labeled,), int
        Their class codes.
    n_members : int, default=5
        Committee size when bagging one estimator.
    bootstrap : bool, default=True
        Fit each member on a bootstrap sample (Abe & Mamitsuka, 1998). A bootstrap that misses
        a class gets one random item of each missing class added, so every member sees every
        labeled class. With ``False`` members differ only by their seed (``random_state``
        parameters are set from the generator), which suits randomised estimators only.
    random_state : int, Generator or None
        Seeds the bootstraps and the members' ``random_state``.

    Returns
    -------
    members : list of fitted estimators

    Raises
    ------
    ValueError
        If ``n_members < 1`` or fewer than two classes are labeled.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(40, 2)); y = (X[:, 0] > 0).astype(int)
    >>> members = fit_committee(LogisticRegression(), X, y, n_members=3, random_state=0)
    >>> len(members), committee_proba(members, X, 2).shape
    (3, (3, 40, 2))
    """
    rng = np.random.default_rng(random_state)
    y = np.asarray(y)
    classes = np.unique(y)
    if classes.size < 2:
        raise ValueError("a committee needs labeled items of at least two classes")
    ests = list(estimator) if isinstance(estimator, Sequence) else None
    if ests is None and int(n_members) < 1:
        raise ValueError(f"n_members must be >= 1; got {n_members}")
    protos = [clone(e) for e in ests] if ests is not None else [estimator] * int(n_members)
    members: list = []
    with threadpool_limits(limits=1, user_api="blas"):  # small fits: threads only cost
        for proto in protos:
            _fit_member(proto, X, y, classes, bootstrap, rng, members)
    return members


def _fit_member(
    proto: Any,
    X: np.ndarray,
    y: np.ndarray,
    classes: np.ndarray,
    bootstrap: bool,
    rng: np.random.Generator,
    members: list,
) -> None:
    est = _seed_params(clone(proto), int(rng.integers(2**31 - 1)))
    if not bootstrap:
        members.append(est.fit(X, y))
        return
    n = y.shape[0]
    idx = np.asarray(rng.integers(0, n, size=n), dtype=np.int64)
    missing = np.setdiff1d(classes, y[idx])
    if missing.size:
        extra = [rng.choice(np.flatnonzero(y == c)) for c in missing]
        idx = np.concatenate([idx, np.asarray(extra, dtype=idx.dtype)])
    members.append(est.fit(X[idx], y[idx]))


def committee_proba(members: Sequence[Any], X: np.ndarray, n_classes: int) -> np.ndarray:
    """Stack the members' ``predict_proba`` on ``X``.

    Returns
    -------
    member_proba : ndarray of shape (n_members, n_samples, n_classes), float64
        Column ``c`` is class code ``c`` for every member, also for members that never saw
        some class (their column is 0).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> m = LogisticRegression().fit(X[:2], [0, 2])  # a member that never saw class 1
    >>> committee_proba([m], X, 3)[0, :, 1].tolist()  # a zero column for class 1
    [0.0, 0.0, 0.0]
    """
    return np.stack([aligned_proba(m, X, n_classes) for m in members])
