"""Uncertainty sampling: score functions of the predicted class probabilities.

Every function here is pure and vectorised: it takes ``proba`` of shape
``(n_samples, n_classes)`` (rows summing to one) and returns ``(n_samples,)`` float64
scores where **higher means more informative**.

References
----------
Lewis, D. D. & Gale, W. A. (1994). A sequential algorithm for training text classifiers. SIGIR.
Scheffer, T., Decomain, C. & Wrobel, S. (2001). Active hidden Markov models for information
extraction. IDA (margin sampling).
Settles, B. (2009). Active Learning Literature Survey. University of Wisconsin-Madison, TR 1648.
"""

from __future__ import annotations

import numpy as np

__all__ = ["least_confidence", "margin", "entropy", "normalised"]


# Up to this many classes the kernels walk the columns with n-vector temporaries (fast for the
# few classes of a labelling task); above it they use one n x C reduction or partition.
_COLUMN_LOOP_MAX = 32
_ROW_BLOCK = 16_384


def _check_proba(proba: np.ndarray) -> np.ndarray:
    """2-D float32/float64 view of ``proba`` (other dtypes are converted to float64)."""
    proba = np.asarray(proba)
    if proba.ndim != 2 or proba.shape[1] < 1:
        raise ValueError(
            f"proba must have shape (n_samples, n_classes); got shape {proba.shape}. "
            "Pass the output of estimator.predict_proba(X)."
        )
    if proba.dtype not in (np.float32, np.float64):
        proba = proba.astype(np.float64)
    return proba


def _top1(proba: np.ndarray) -> np.ndarray:
    """Row maxima in the input's precision, without an n x C temporary."""
    n, n_classes = proba.shape
    if n_classes > _COLUMN_LOOP_MAX:
        return proba.max(axis=1)
    top = np.empty(n, dtype=proba.dtype)
    for start in range(0, n, _ROW_BLOCK):  # row blocks stay in cache across the column passes
        block, out = proba[start : start + _ROW_BLOCK], top[start : start + _ROW_BLOCK]
        out[:] = block[:, 0]
        for c in range(1, n_classes):
            np.maximum(out, block[:, c], out=out)
    return top


def _top2(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest and second largest value of each row (ties count twice), input precision."""
    n, n_classes = proba.shape
    if n_classes > _COLUMN_LOOP_MAX:
        idx = np.argpartition(proba, n_classes - 2, axis=1)[:, -2:]
        top = np.take_along_axis(proba, idx, axis=1)
        return top.max(axis=1), top.min(axis=1)
    first = np.empty(n, dtype=proba.dtype)
    second = np.full(n, -np.inf, dtype=proba.dtype)
    low = np.empty(min(n, _ROW_BLOCK), dtype=proba.dtype)
    for start in range(0, n, _ROW_BLOCK):  # row blocks stay in cache across the column passes
        stop = min(start + _ROW_BLOCK, n)
        block, f, s, lo = (
            proba[start:stop],
            first[start:stop],
            second[start:stop],
            low[: stop - start],
        )
        f[:] = block[:, 0]
        for c in range(1, n_classes):
            col = block[:, c]
            np.minimum(f, col, out=lo)  # the loser of (first, col) may be the new second
            np.maximum(s, lo, out=s)
            np.maximum(f, col, out=f)
    return first, second


def least_confidence(proba: np.ndarray) -> np.ndarray:
    """Least confidence: ``1 - max_c p(c | x)`` (Lewis & Gale, 1994).

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Predicted class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        In ``[0, 1 - 1/n_classes]``; higher is more informative.

    Raises
    ------
    ValueError
        If ``proba`` is not two-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])  # unsure, then sure
    >>> least_confidence(P).round(3).tolist()
    [0.5, 0.1]
    """
    proba = _check_proba(proba)
    return 1.0 - _top1(proba).astype(np.float64)


def margin(proba: np.ndarray) -> np.ndarray:
    """Margin sampling: ``1 - (p_(1) - p_(2))`` (Scheffer et al., 2001).

    ``p_(1)`` and ``p_(2)`` are the largest and second largest class probabilities; a small
    margin between them means the model hesitates between two classes. The margin is negated
    (``1 -``) so that, as for every strategy here, higher scores are more informative.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Predicted class probabilities.

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        In ``[0, 1]``; 1 for a tie between the two most likely classes.

    Raises
    ------
    ValueError
        If ``proba`` is not two-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])  # unsure, then sure
    >>> margin(P).round(3).tolist()  # 1 - (p1 - p2)
    [0.8, 0.15]
    """
    proba = _check_proba(proba)
    if proba.shape[1] == 1:
        return np.zeros(proba.shape[0])
    first, second = _top2(proba)
    first -= second  # in place: n-vectors only, in the input's precision
    return 1.0 - first.astype(np.float64)


def entropy(proba: np.ndarray) -> np.ndarray:
    """Shannon entropy of the prediction, ``-sum_c p(c|x) log p(c|x)`` in nats (Settles, 2009).

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Predicted class probabilities. Zeros are allowed (``0 log 0 = 0``).

    Returns
    -------
    scores : ndarray of shape (n_samples,), float64
        In ``[0, log(n_classes)]`` nats; higher is more informative.

    Raises
    ------
    ValueError
        If ``proba`` is not two-dimensional.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])  # unsure, then sure
    >>> entropy(P).round(3).tolist()  # nats
    [1.03, 0.394]
    """
    proba = _check_proba(proba)
    # In the input's precision (float32 stays float32) and by row blocks: one reused block-sized
    # temporary, log taken in place. Clipping zeros to the smallest normal number gives
    # 0 * log(tiny) = 0, i.e. 0 log 0 = 0.
    n = proba.shape[0]
    tiny = np.finfo(proba.dtype).tiny
    if proba.flags.f_contiguous and not proba.flags.c_contiguous:
        # class-major (e.g. alwidget.linear_proba's output): one contiguous column at a time
        out = np.zeros(n, dtype=np.float64)
        col_buf = np.empty(n, dtype=proba.dtype)
        for c in range(proba.shape[1]):
            col = proba[:, c]
            np.maximum(col, tiny, out=col_buf)
            np.log(col_buf, out=col_buf)
            col_buf *= col
            out -= col_buf
        return out
    out = np.empty(n, dtype=np.float64)
    buf = np.empty((min(n, _ROW_BLOCK), proba.shape[1]), dtype=proba.dtype)
    for start in range(0, n, _ROW_BLOCK):
        block = proba[start : start + _ROW_BLOCK]
        logp = buf[: len(block)]
        np.maximum(block, tiny, out=logp)
        np.log(logp, out=logp)
        out[start : start + len(block)] = np.einsum("ij,ij->i", block, logp)
    np.negative(out, out=out)
    return out


_MAX = {
    "least_confidence": lambda k: 1.0 - 1.0 / k,
    "margin": lambda k: 1.0,
    "entropy": lambda k: np.log(k),
}


def normalised(measure: str, proba: np.ndarray) -> np.ndarray:
    """One uncertainty measure rescaled to ``[0, 1]`` for a fixed colour scale.

    Parameters
    ----------
    measure : {"least_confidence", "margin", "entropy"}
        Which measure.
    proba : ndarray of shape (n_samples, n_classes)
        Predicted class probabilities.

    Returns
    -------
    values : ndarray of shape (n_samples,), float32
        0 = certain, 1 = maximally uncertain for that measure.

    Raises
    ------
    ValueError
        If ``measure`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> P = np.array([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]])  # unsure, then sure
    >>> [round(float(v), 2) for v in normalised("entropy", P)]  # entropy / log(3)
    [0.94, 0.36]
    """
    if measure not in _MAX:
        raise ValueError(f"unknown uncertainty measure {measure!r}; use one of {sorted(_MAX)}")
    k = max(int(np.shape(proba)[1]), 2)
    raw = {"least_confidence": least_confidence, "margin": margin, "entropy": entropy}[measure](
        proba
    )
    out = raw / _MAX[measure](k)
    return np.clip(out, 0.0, 1.0).astype(np.float32)
