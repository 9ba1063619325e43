"""MC-dropout acquisition functions (DBAL): max entropy, variation ratios, mean STD, BALD.

Pure numpy functions of Monte Carlo dropout samples, an array of shape ``(T, n, n_classes)``
(``T`` stochastic passes of the network, see
:meth:`alwidget.models.MCDropoutClassifier.predict_proba_samples`), and the strategy that takes
those samples from the session's model.

References
----------
Houlsby, N., Huszar, F., Ghahramani, Z. & Lengyel, M. (2011). Bayesian active learning for
classification and preference learning. arXiv:1112.5745 (BALD).
Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian active learning with image data.
ICML (DBAL: max entropy, variation ratios, mean STD and BALD under MC dropout).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._deep_common import _blocks, _check_samples, _xlogx
from .base import QueryContext, ScoreStrategy

__all__ = [
    "mc_entropy",
    "variation_ratios",
    "mean_std",
    "mutual_information",
    "mc_samples",
    "mc_uncertainty",
    "MCDropoutStrategy",
]


def mc_entropy(samples: Any) -> np.ndarray:
    """Max entropy under MC dropout: entropy of the mean predictive (Gal et al., 2017).

    ``H[y | x] = -sum_c pbar_c log pbar_c`` with ``pbar = (1/T) sum_t p_t(y | x)``.

    Parameters
    ----------
    samples : ndarray of shape (T, n, n_classes)
        MC-dropout class probabilities.

    Returns
    -------
    scores : ndarray of shape (n,), float64
        In ``[0, log(n_classes)]`` nats; higher = more uncertain.

    Raises
    ------
    ValueError
        If ``samples`` is not 3-D.

    Examples
    --------
    Both items are 50/50 on average, so max entropy cannot tell them apart (compare
    :func:`mutual_information`):

    >>> import numpy as np
    >>> S = np.array([[[0.5, 0.5], [0.9, 0.1]],  # pass 1 on items 0 and 1
    ...               [[0.5, 0.5], [0.1, 0.9]]])  # pass 2: item 1 flips, item 0 stays 50/50
    >>> mc_entropy(S).round(3).tolist()  # log(2) nats each
    [0.693, 0.693]
    """
    S = _check_samples(samples)
    return _blocks(S, lambda B: -_xlogx(B.mean(axis=0)).sum(axis=-1))


def variation_ratios(samples: Any) -> np.ndarray:
    """Variation ratios (Freeman, 1965) of the MC-dropout votes, as in Gal et al. (2017).

    ``1 - f_x / T``, where ``f_x`` is how many of the ``T`` passes vote for the modal class
    (each pass votes its argmax).

    Parameters
    ----------
    samples : ndarray of shape (T, n, n_classes)

    Returns
    -------
    scores : ndarray of shape (n,), float64
        In ``[0, 1 - 1/min(T, n_classes)]``; higher = the passes disagree more.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[[0.5, 0.5], [0.9, 0.1]],  # pass 1 on items 0 and 1
    ...               [[0.5, 0.5], [0.1, 0.9]]])  # pass 2: item 1 flips, item 0 stays 50/50
    >>> variation_ratios(S).tolist()  # item 1: the two passes vote differently
    [0.0, 0.5]
    """
    S = _check_samples(samples)
    T, _, C = S.shape
    votes = S.argmax(axis=2)  # (T, n)
    counts = np.zeros((votes.shape[1], C), dtype=np.int64)
    for t in range(T):
        counts[np.arange(votes.shape[1]), votes[t]] += 1
    return 1.0 - counts.max(axis=1) / T


def mean_std(samples: Any) -> np.ndarray:
    """Mean standard deviation of the class probabilities over MC passes.

    ``(1/C) sum_c sqrt(E_t[p_t(c)^2] - E_t[p_t(c)]^2)`` (Kampffmeyer et al., 2016; Kendall et
    al., 2015), one of the acquisition functions compared by Gal et al. (2017).

    Parameters
    ----------
    samples : ndarray of shape (T, n, n_classes)

    Returns
    -------
    scores : ndarray of shape (n,), float64
        In ``[0, 0.5]``; higher = more spread.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.array([[[0.5, 0.5], [0.9, 0.1]],  # pass 1 on items 0 and 1
    ...               [[0.5, 0.5], [0.1, 0.9]]])  # pass 2: item 1 flips, item 0 stays 50/50
    >>> mean_std(S).round(3).tolist()
    [0.0, 0.4]
    """
    S = _check_samples(samples)
    return _blocks(S, lambda B: B.std(axis=0).mean(axis=-1))


def mutual_information(samples: Any) -> np.ndarray:
    """BALD: mutual information between the label and the weights (Houlsby et al., 2011).

    ``I[y; w | x] = H[(1/T) sum_t p_t] - (1/T) sum_t H[p_t]``: the entropy of the mean
    prediction minus the mean entropy of the passes, with the posterior over weights ``w``
    approximated by MC dropout as in DBAL (Gal et al., 2017).

    Parameters
    ----------
    samples : ndarray of shape (T, n, n_classes)

    Returns
    -------
    scores : ndarray of shape (n,), float64
        In ``[0, log(n_classes)]`` nats (clipped at 0 against rounding); higher = more
        information about the weights.

    Examples
    --------
    Item 0 is uncertain in every pass (noise a label cannot remove); on item 1 the passes
    disagree, so its label would tell which weights are right:

    >>> import numpy as np
    >>> S = np.array([[[0.5, 0.5], [0.9, 0.1]],  # pass 1 on items 0 and 1
    ...               [[0.5, 0.5], [0.1, 0.9]]])  # pass 2: item 1 flips, item 0 stays 50/50
    >>> mutual_information(S).round(3).tolist()
    [0.0, 0.368]
    """
    S = _check_samples(samples)

    def fn(B: np.ndarray) -> np.ndarray:
        return -_xlogx(B.mean(axis=0)).sum(axis=-1) + _xlogx(B).sum(axis=-1).mean(axis=0)

    return np.maximum(_blocks(S, fn), 0.0)


mc_bald = mutual_information


# -- samples from the session's model ---------------------------------------------------------
def _mc_final(model: Any, who: str) -> Any:
    if model is None:
        raise ValueError(
            f"strategy {who!r} needs a fitted model; label items of at least two classes first"
        )
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    if not hasattr(final, "predict_proba_samples"):
        raise TypeError(
            f"strategy {who!r} needs Monte Carlo dropout samples, so the session's estimator must "
            "be an MC-dropout network: Session(X, classes=..., "
            "estimator=alwidget.models.MCDropoutClassifier()) (or a Pipeline ending in one); "
            f"got {type(final).__name__}"
        )
    return final


def mc_samples(
    model: Any,
    X: Any,
    n_classes: int,
    n_samples: int | None = None,
    random_state: int | np.random.Generator | None = None,
    who: str = "mc_bald",
) -> np.ndarray:
    """MC-dropout samples of a fitted model, one column per class code.

    Parameters
    ----------
    model : MCDropoutClassifier or Pipeline ending in one
        Fitted on class codes ``0..n_classes-1`` (as the session fits it).
    X : ndarray of shape (n, n_features)
    n_classes : int
        Classes of the session; classes the model never saw get probability 0.
    n_samples : int, optional
        Passes ``T``; default the model's ``n_samples``.
    random_state : int, Generator or None
        Seeds the dropout masks.
    who : str
        Strategy name for error messages.

    Returns
    -------
    samples : ndarray of shape (T, n, n_classes), float32

    Raises
    ------
    TypeError
        If the model has no ``predict_proba_samples`` (it is not an MC-dropout network).
    ValueError
        If ``model`` is None.

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.models import MCDropoutClassifier
    >>> X, y = np.array([[0.0], [1], [2], [3]]), np.array([0, 0, 1, 1])
    >>> clf = MCDropoutClassifier(hidden_layer_sizes=(8,), min_steps=10, random_state=0).fit(X, y)
    >>> S = mc_samples(clf, X, n_classes=3, n_samples=5, random_state=0)
    >>> S.shape, S.dtype, float(S[:, :, 2].max())  # 5 passes; class 2 never seen: 0
    ((5, 4, 3), dtype('float32'), 0.0)
    """
    final = _mc_final(model, who)
    if hasattr(model, "steps") and len(model.steps) > 1:
        X = model[:-1].transform(X)
    S = np.asarray(final.predict_proba_samples(X, n_samples, random_state=random_state))
    cols = np.asarray(final.classes_, dtype=np.int64)
    if cols.size == n_classes and np.array_equal(cols, np.arange(n_classes)):
        return S
    full = np.zeros((S.shape[0], S.shape[1], n_classes), dtype=S.dtype)
    full[:, :, cols] = S
    return full


def mc_uncertainty(
    model: Any,
    X: Any,
    n_classes: int,
    n_samples: int | None = None,
    random_state: int | np.random.Generator | None = None,
) -> np.ndarray:
    """MC-dropout mutual information of every row, normalised to [0, 1] (for the map colour).

    Parameters
    ----------
    model, X, n_classes, n_samples, random_state
        As for :func:`mc_samples`.

    Returns
    -------
    u : ndarray of shape (n,), float32
        :func:`mutual_information` divided by ``log(n_classes)``.

    Raises
    ------
    TypeError, ValueError
        As :func:`mc_samples`.

    Examples
    --------
    >>> import numpy as np
    >>> from alwidget.models import MCDropoutClassifier
    >>> X, y = np.array([[0.0], [1], [2], [3]]), np.array([0, 0, 1, 1])
    >>> clf = MCDropoutClassifier(hidden_layer_sizes=(8,), min_steps=10, random_state=0).fit(X, y)
    >>> u = mc_uncertainty(clf, X, n_classes=2, n_samples=5, random_state=0)
    >>> S = mc_samples(clf, X, n_classes=2, n_samples=5, random_state=0)
    >>> u.shape, u.dtype, bool(np.allclose(u, mutual_information(S) / np.log(2)))
    ((4,), dtype('float32'), True)
    """
    S = mc_samples(model, X, n_classes, n_samples, random_state, who="mc_uncertainty")
    return (mutual_information(S) / np.log(max(n_classes, 2))).astype(np.float32)


_MC_SCORES: dict[str, Callable[[Any], np.ndarray]] = {
    "mc_entropy": mc_entropy,
    "variation_ratios": variation_ratios,
    "mean_std": mean_std,
    "mc_bald": mutual_information,
}


class MCDropoutStrategy(ScoreStrategy):
    """Top-k by a score of the session model's MC-dropout samples (DBAL, Gal et al., 2017).

    Parameters
    ----------
    measure : {"mc_entropy", "variation_ratios", "mean_std", "mc_bald"}
        :func:`mc_entropy` (max entropy), :func:`variation_ratios`, :func:`mean_std`, or
        :func:`mutual_information` (BALD, Houlsby et al., 2011).
    n_samples : int, optional
        MC passes ``T`` per query; default the model's ``n_samples`` (20).

    Notes
    -----
    The session's estimator must be an :class:`~alwidget.models.MCDropoutClassifier` (or a
    Pipeline ending in one); any other raises :class:`TypeError` at the first query. Cost
    per query: ``T`` dropout passes over the candidates (the first layer is shared), then
    ``O(T n C)``.

    Examples
    --------
    >>> from alwidget import Session  # doctest: +SKIP
    >>> from alwidget.models import MCDropoutClassifier  # doctest: +SKIP
    >>> s = Session(X, classes=names, estimator=MCDropoutClassifier(random_state=0),
    ...             strategy="mc_bald")  # doctest: +SKIP
    """

    def __init__(self, measure: str = "mc_bald", n_samples: int | None = None) -> None:
        if measure not in _MC_SCORES:
            raise ValueError(
                f"unknown MC-dropout measure {measure!r}; use one of {list(_MC_SCORES)}"
            )
        self.n_samples = n_samples
        fn = _MC_SCORES[measure]

        def score(ctx: QueryContext) -> np.ndarray:
            return fn(self.samples(ctx))

        super().__init__(score, name=measure, measure="entropy")

    #: Needs an MC-dropout network as the session's estimator (the widget may hide it otherwise).
    needs_mc_samples = True

    def samples(self, ctx: QueryContext) -> np.ndarray:
        """MC-dropout samples of the candidates, shape (T, n_candidates, n_classes), float32,
        seeded from ``ctx.rng``."""
        seed = int(ctx.rng.integers(2**62))
        return mc_samples(
            ctx.model, ctx.X[ctx.candidates], ctx.n_classes, self.n_samples, seed, who=self.name
        )

    def model_uncertainty(self, model: Any, X: Any, n_classes: int) -> np.ndarray:
        """MC-dropout mutual information per row in [0, 1], float32 (see :func:`mc_uncertainty`)."""
        return mc_uncertainty(model, X, n_classes, self.n_samples, random_state=0)
