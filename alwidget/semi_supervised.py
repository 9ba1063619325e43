"""Semi-supervised estimators that use the unlabeled pool (free information) in the loop.

Both classes are scikit-learn classifiers whose :meth:`fit` takes the human labels
``(X, y)`` and, optionally, the unlabeled pool ``X_unlabeled``. Pseudo-labels are kept apart
from the human labels: they exist only as the fitted attributes ``pseudo_labels_`` /
``pseudo_mask_`` (aligned with ``X_unlabeled``) and are never written to the label store.

References
----------
Yarowsky, D. (1995). Unsupervised word sense disambiguation rivaling supervised methods. ACL
(self-training); scikit-learn's :class:`~sklearn.semi_supervised.SelfTrainingClassifier`.
Zhou, D., Bousquet, O., Lal, T. N., Weston, J. & Schölkopf, B. (2004). Learning with local and
global consistency. NeurIPS (label spreading); scikit-learn's
:class:`~sklearn.semi_supervised.LabelSpreading` with the kNN kernel.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import LabelSpreading, SelfTrainingClassifier
from sklearn.utils.validation import check_is_fitted

from .options import default_estimator

__all__ = ["SelfTraining", "LabelSpreadingClassifier"]


def _stack(X: Any, y: Any, X_unlabeled: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Human-labeled rows first, then the unlabeled pool with label -1."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(
            f"X must have shape (n_samples, n_features) and y shape (n_samples,); got "
            f"{X.shape} and {y.shape}"
        )
    if y.dtype.kind not in "iu":
        raise ValueError(
            f"y must hold integer class codes (>= 0, or -1 for unlabeled); got dtype {y.dtype}. "
            "Encode string labels first, e.g. with sklearn.preprocessing.LabelEncoder."
        )
    if X_unlabeled is None:
        Xu = np.empty((0, X.shape[1]))
    else:
        Xu = np.asarray(X_unlabeled, dtype=np.float64)
        if Xu.ndim != 2 or Xu.shape[1] != X.shape[1]:
            raise ValueError(
                f"X_unlabeled must have shape (n_unlabeled, {X.shape[1]}); got {Xu.shape}"
            )
    if not (y >= 0).any():
        raise ValueError("no labeled rows: label at least one item of each of two classes")
    Xa = np.vstack([X, Xu])
    ya = np.concatenate([y.astype(np.int64), np.full(Xu.shape[0], -1, dtype=np.int64)])
    return Xa, ya, X.shape[0]


class SelfTraining(ClassifierMixin, BaseEstimator):
    """Self-training around any probabilistic classifier, using the unlabeled pool.

    The base estimator is fitted on the human labels, then repeatedly on those plus the
    unlabeled items it predicts with probability at least ``threshold`` (scikit-learn's
    :class:`~sklearn.semi_supervised.SelfTrainingClassifier`).

    Parameters
    ----------
    estimator : classifier with predict_proba, optional
        Default the session's default estimator (:func:`alwidget.options.default_estimator`:
        ``StandardScaler`` + ``LogisticRegression``).
    threshold : float, default=0.9
        Probability above which an unlabeled item gets a pseudo-label.
    max_iter : int, default=10
        Self-training rounds.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Classes seen in the human labels.
    pseudo_labels_ : ndarray of shape (n_unlabeled,), int64
        Pseudo-label of each row of ``X_unlabeled``, ``-1`` where none was given.
    pseudo_mask_ : ndarray of shape (n_unlabeled,), bool
        True where a pseudo-label was used for training.
    model_ : SelfTrainingClassifier
        The fitted scikit-learn model.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> X, y = make_blobs(200, centers=2, random_state=0)
    >>> clf = SelfTraining(threshold=0.9).fit(X[:6], y[:6], X_unlabeled=X[6:])
    >>> clf.pseudo_labels_.shape, bool(clf.pseudo_mask_.any())
    ((194,), True)
    >>> float(clf.score(X, y)) > 0.8
    True
    """

    def __init__(self, estimator: Any = None, threshold: float = 0.9, max_iter: int = 10) -> None:
        self.estimator = estimator
        self.threshold = threshold
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any, X_unlabeled: Any = None) -> SelfTraining:
        """Fit on the human labels and the unlabeled pool.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with human labels (rows with ``y == -1`` also count as unlabeled).
        y : array-like of shape (n_samples,), int
            Class codes, ``-1`` for unlabeled.
        X_unlabeled : array-like of shape (n_unlabeled, n_features), optional
            The unlabeled pool.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            On mismatched shapes, non-integer ``y`` or no labeled row.
        """
        Xa, ya, n = _stack(X, y, X_unlabeled)
        base = self.estimator
        if base is None:
            base = default_estimator()
        with warnings.catch_warnings():  # no pool: plain supervised fit, nothing to warn about
            warnings.filterwarnings("ignore", "y contains no unlabeled samples", UserWarning)
            self.model_ = SelfTrainingClassifier(
                clone(base), threshold=self.threshold, max_iter=self.max_iter
            ).fit(Xa, ya)
        self.classes_ = np.unique(ya[ya >= 0])
        human = ya >= 0
        tl = np.asarray(self.model_.transduction_, dtype=np.int64)
        self.pseudo_labels_ = np.where(human, -1, tl)[n:]
        self.pseudo_mask_ = self.pseudo_labels_ >= 0
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self, "model_")
        return np.asarray(self.model_.predict_proba(np.asarray(X, dtype=np.float64)))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each row, shape (n_samples,)."""
        return np.asarray(self.classes_[np.argmax(self.predict_proba(X), axis=1)])


class LabelSpreadingClassifier(ClassifierMixin, BaseEstimator):
    """Label spreading on the kNN graph of the features (Zhou et al., 2004).

    Labels diffuse along the ``n_neighbors``-nearest-neighbour graph of the human-labeled rows
    and the unlabeled pool (a sparse graph: memory ``O(n * n_neighbors)``). Features are
    standardised first (on labeled + unlabeled rows) when ``scale`` is True.

    Parameters
    ----------
    n_neighbors : int, default=10
        Neighbours in the kNN graph.
    alpha : float, default=0.9
        Clamping factor in (0, 1): how much of its initial label a point may give up for its
        neighbours' (Zhou et al. use 0.99; small values barely spread with few labels).
    max_iter : int, default=1000
        Largest number of spreading iterations (stops earlier on convergence).
    scale : bool, default=True
        Standardise features before building the graph.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Classes seen in the human labels.
    pseudo_labels_ : ndarray of shape (n_unlabeled,), int64
        Spread label of each row of ``X_unlabeled``.
    pseudo_mask_ : ndarray of shape (n_unlabeled,), bool
        True for every unlabeled row (label spreading labels them all); see
        ``pseudo_confidence_``.
    pseudo_confidence_ : ndarray of shape (n_unlabeled,), float64
        Largest normalised label distribution value of each unlabeled row.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> X, y = make_moons(300, noise=0.05, random_state=0)
    >>> idx = [0, 1, 2, 3, 4, 5]
    >>> clf = LabelSpreadingClassifier().fit(X[idx], y[idx], X_unlabeled=X[6:])
    >>> float((clf.pseudo_labels_ == y[6:]).mean()) > 0.8
    True
    """

    def __init__(
        self, n_neighbors: int = 10, alpha: float = 0.9, max_iter: int = 1000, scale: bool = True
    ) -> None:
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.max_iter = max_iter
        self.scale = scale

    def fit(self, X: Any, y: Any, X_unlabeled: Any = None) -> LabelSpreadingClassifier:
        """Spread the human labels over the unlabeled pool.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows with human labels.
        y : array-like of shape (n_samples,), int
            Class codes, ``-1`` for unlabeled.
        X_unlabeled : array-like of shape (n_unlabeled, n_features), optional
            The unlabeled pool.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            On mismatched shapes, non-integer ``y`` or no labeled row.
        """
        Xa, ya, n = _stack(X, y, X_unlabeled)
        self.scaler_ = StandardScaler().fit(Xa) if self.scale else None
        Xs = self.scaler_.transform(Xa) if self.scaler_ is not None else Xa
        k = max(1, min(int(self.n_neighbors), Xs.shape[0] - 1))
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            self.model_ = LabelSpreading(
                kernel="knn", n_neighbors=k, alpha=self.alpha, max_iter=self.max_iter
            ).fit(Xs, ya)
        self.classes_ = np.asarray(self.model_.classes_)
        tl = np.asarray(self.model_.transduction_, dtype=np.int64)
        dist = np.asarray(self.model_.label_distributions_)
        self.pseudo_labels_ = tl[n:]
        self.pseudo_mask_ = ya[n:] < 0
        self.pseudo_confidence_ = dist[n:].max(axis=1) if dist.shape[0] > n else np.empty(0)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self, "model_")
        Xs = np.asarray(X, dtype=np.float64)
        if self.scaler_ is not None:
            Xs = self.scaler_.transform(Xs)
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            # rows the graph does not reach get 0/0 in scikit-learn: made uniform below
            warnings.simplefilter("ignore", RuntimeWarning)
            P = np.nan_to_num(np.asarray(self.model_.predict_proba(Xs)), nan=0.0)
        s = P.sum(axis=1, keepdims=True)
        return np.where(s > 0, P / np.where(s > 0, s, 1.0), 1.0 / P.shape[1])

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each row, shape (n_samples,)."""
        return np.asarray(self.classes_[np.argmax(self.predict_proba(X), axis=1)])
