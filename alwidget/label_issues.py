"""Find the user's own label mistakes: confident learning on out-of-fold probabilities.

Human labels are not ground truth: fatigue and ambiguity flip some of them. This module ranks
the labeled items whose given label the data disagrees with, using **cleanlab** (confident
learning, Northcutt, Jiang & Chuang, 2021) on out-of-fold predicted probabilities of the
labeled set (stratified k-fold, as :func:`sklearn.model_selection.cross_val_predict` does, with
the columns kept aligned to class codes when a fold lacks a class), so no item is judged by a
model that was trained on its own label.

References
----------
Northcutt, C., Jiang, L. & Chuang, I. (2021). Confident learning: estimating uncertainty in
dataset labels. JAIR 70, 1373-1411.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

__all__ = ["LABEL_ISSUE_COLUMNS", "out_of_fold_proba", "find_label_issues", "session_label_issues"]

#: Columns of :func:`find_label_issues`'s table.
LABEL_ISSUE_COLUMNS = ["index", "given", "suggested", "score", "p_given", "p_suggested", "issue"]

_INSTALL = 'finding label issues needs cleanlab: pip install "cleanlab>=2.6"'


def out_of_fold_proba(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    n_classes: int,
    *,
    cv: int = 5,
    random_state: int | None = 0,
) -> np.ndarray:
    """Out-of-fold class probabilities of labeled items (each predicted by a model not fitted on it).

    Parameters
    ----------
    estimator : scikit-learn classifier
        Cloned for every fold; must have ``predict_proba``.
    X : array-like or sparse matrix of shape (n_labeled, n_features)
    y : ndarray of shape (n_labeled,), int
        Class codes ``0..n_classes-1``.
    n_classes : int
    cv : int, default=5
        Folds (stratified, shuffled with ``random_state``); lowered to the size of the smallest
        class when a class has fewer items (at least 2).
    random_state : int or None, default=0

    Returns
    -------
    proba : ndarray of shape (n_labeled, n_classes), float64
        Columns are class codes; a class a fold never saw gets probability 0 in that fold.

    Raises
    ------
    ValueError
        If fewer than two classes have at least two labeled items each.

    Examples
    --------
    Item 0's label was flipped by a slip of the hand; the model that never saw it disagrees:

    >>> from sklearn.datasets import make_blobs
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_blobs(40, centers=2, random_state=0)
    >>> y_given = y.copy()
    >>> y_given[0] = 1 - y[0]
    >>> P = out_of_fold_proba(LogisticRegression(), X, y_given, n_classes=3)
    >>> P.shape, float(P[:, 2].max())  # class 2 has no labels: probability 0
    ((40, 3), 0.0)
    >>> round(float(P[0, y_given[0]]), 2)  # probability of the label it was given
    0.01
    """
    y = np.asarray(y, dtype=np.int64)
    counts = np.bincount(y, minlength=n_classes)
    present = np.flatnonzero(counts)
    if present.size < 2 or np.sort(counts[present])[-2] < 2:
        raise ValueError(
            "finding label issues needs at least two classes with two or more labels each; "
            f"label counts per class code: {counts.tolist()}"
        )
    folds = int(max(2, min(cv, counts[present][counts[present] >= 2].min())))
    # classes with a single label cannot be stratified: they are predicted like the others
    # but only ever sit in one fold's test part
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    proba = np.zeros((y.shape[0], n_classes), dtype=np.float64)
    for train, test in splitter.split(np.zeros(y.shape[0]), y):
        model = clone(estimator).fit(X[train], y[train])
        cols = np.asarray(model.classes_, dtype=np.int64)
        proba[np.ix_(test, cols)] = model.predict_proba(X[test])
    return proba


def find_label_issues(
    X: Any,
    labels: Any,
    estimator: Any,
    n_classes: int,
    *,
    cv: int = 5,
    random_state: int | None = 0,
    proba: np.ndarray | None = None,
) -> pd.DataFrame:
    """Rank labeled items by how likely their given label is wrong (confident learning).

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        The whole pool (only labeled rows are used).
    labels : array-like of shape (n_samples,), int
        Class code per item, ``-1`` for unlabeled.
    estimator : scikit-learn classifier
        Cloned per fold (the session's estimator).
    n_classes : int
    cv : int, default=5
        Folds of :func:`out_of_fold_proba`.
    random_state : int or None, default=0
    proba : ndarray of shape (n_labeled, n_classes), optional
        Out-of-fold probabilities of the labeled items in index order, if already computed.

    Returns
    -------
    DataFrame
        One row per labeled item that cleanlab flags, most suspicious first: ``index`` (pool
        index), ``given`` and ``suggested`` (class codes; suggested = the out-of-fold argmax),
        ``score`` (cleanlab's self-confidence label quality, in [0, 1], low = suspicious),
        ``p_given`` / ``p_suggested`` (out-of-fold probabilities), ``issue`` (``"label"``).

    Raises
    ------
    ImportError
        Without cleanlab (the message says how to install it).
    ValueError
        If fewer than two classes have two labels each, or shapes disagree.

    Examples
    --------
    Ten labels of a clean two-blob problem, one of them flipped:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = np.r_[rng.normal(-3, 1, (40, 2)), rng.normal(3, 1, (40, 2))]
    >>> labels = np.full(80, -1)
    >>> labels[:20], labels[40:60] = 0, 1
    >>> labels[5] = 1  # a mistake
    >>> issues = find_label_issues(X, labels, LogisticRegression(), n_classes=2)
    >>> issues[["index", "given", "suggested"]].iloc[0].tolist()
    [5, 1, 0]
    """
    try:
        from cleanlab.filter import find_label_issues as _cl_find
        from cleanlab.rank import get_label_quality_scores
    except ImportError as e:  # pragma: no cover - cleanlab is a core dependency
        raise ImportError(_INSTALL) from e
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"labels must have shape ({X.shape[0]},) (one class code per pool item, -1 for "
            f"unlabeled); got {labels.shape}"
        )
    idx = np.flatnonzero(labels >= 0)
    y = labels[idx].astype(np.int64)
    if proba is None:
        proba = out_of_fold_proba(estimator, X[idx], y, n_classes, cv=cv, random_state=random_state)
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape != (idx.size, n_classes):
        raise ValueError(f"proba must have shape {(idx.size, n_classes)}; got {proba.shape}")
    # cleanlab wants every class to occur in the labels: restrict to the classes present
    present = np.flatnonzero(np.bincount(y, minlength=n_classes))
    remap = np.full(n_classes, -1, dtype=np.int64)
    remap[present] = np.arange(present.size)
    p = proba[:, present]
    p = p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
    yl = remap[y]
    flagged = np.asarray(
        _cl_find(labels=yl, pred_probs=p, return_indices_ranked_by="self_confidence"),
        dtype=np.int64,
    )
    quality = get_label_quality_scores(yl, p, method="self_confidence")
    suggested = present[np.argmax(p[flagged], axis=1)] if flagged.size else flagged
    out = pd.DataFrame(
        {
            "index": idx[flagged],
            "given": y[flagged],
            "suggested": suggested.astype(np.int64),
            "score": quality[flagged],
            "p_given": proba[flagged, y[flagged]],
            "p_suggested": proba[flagged, suggested] if flagged.size else np.empty(0),
            "issue": "label",
        },
        columns=LABEL_ISSUE_COLUMNS,
    )
    return out.reset_index(drop=True)


def session_label_issues(
    session: Any, *, cv: int = 5, random_state: int | None = 0
) -> pd.DataFrame:
    """:func:`find_label_issues` on a session's labels in effect, plus annotator disagreements.

    Parameters
    ----------
    session : alwidget.Session
        Its features as the estimator sees them, its labels in effect and its estimator.
    cv : int, default=5
    random_state : int or None, default=0

    Returns
    -------
    DataFrame
        Columns ``index``, ``given`` and ``suggested`` (class names; ``suggested`` is None for a
        disagreement), ``score`` (label quality in [0, 1], low = suspicious; NaN for a
        disagreement), ``issue`` (``"label"`` or ``"disagreement"``), ``source`` (how the
        given label was recorded: ``batch``, ``map``, ``import``, ``rule:<name>``). Likely
        mistakes first, then disagreements. Empty when there are too few labels.

    Examples
    --------
    Three slips among 300 digit labels:

    >>> from sklearn.datasets import load_digits
    >>> import alwidget
    >>> X, y = load_digits(return_X_y=True)
    >>> s = alwidget.Session(X, classes=list(range(10)), store=":memory:")
    >>> answers = {i: int(y[i]) for i in range(300)}
    >>> for i in (5, 50, 150):
    ...     answers[i] = (int(y[i]) + 1) % 10
    >>> _ = s.submit(answers, source="map")
    >>> issues = s.label_issues()
    >>> sorted(issues["index"][:2].tolist()), issues["issue"][0]
    ([50, 150], 'label')
    """
    cols = ["index", "given", "suggested", "score", "issue", "source"]
    names = list(session.classes)
    labels = np.asarray(session.y, dtype=np.int64)
    table = session.labels_table()
    source = dict(zip(table["index"].astype(int), table["source"], strict=True))
    rows = []
    try:
        found = find_label_issues(
            session.X_fit, labels, session.estimator, len(names), cv=cv, random_state=random_state
        )
    except ValueError:
        found = pd.DataFrame(columns=LABEL_ISSUE_COLUMNS)
    cols_ = [found[c].to_numpy() for c in ("index", "given", "suggested", "score")]
    for i, g, sug, score in zip(*cols_, strict=True):
        i = int(i)
        rows.append((i, names[int(g)], names[int(sug)], float(score), "label", source.get(i)))
    for i in session.disagreements()["index"].to_numpy(dtype=np.int64):
        given = names[labels[i]] if labels[i] >= 0 else None
        rows.append((int(i), given, None, float("nan"), "disagreement", source.get(int(i))))
    return pd.DataFrame(rows, columns=cols)
