"""BatchBALD (Kirsch et al., 2019): the batch whose joint labels tell most about the weights.

References
----------
Kirsch, A., van Amersfoort, J. & Gal, Y. (2019). BatchBALD: efficient and diverse batch
acquisition for deep Bayesian active learning. NeurIPS.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._deep_common import _check_samples, _xlogx
from .base import QueryContext, Strategy, top_k
from .mc_dropout import mc_samples, mc_uncertainty, mutual_information

__all__ = ["joint_mutual_information", "batchbald_select", "BatchBALD"]


def joint_mutual_information(samples: Any, batch: Any) -> float:
    """Exact BatchBALD value ``I[y_1..y_b; w]`` of one small batch, by enumeration.

    ``H[y_1..y_b] - sum_i E_w H[y_i | w]`` with ``p(y_1..y_b) = (1/T) sum_t prod_i p_t(y_i)``
    over all ``n_classes ** b`` label configurations (Kirsch et al., 2019, eq. 8). Exponential
    in ``b``: a reference for tests and small batches.

    Parameters
    ----------
    samples : ndarray of shape (T, n, n_classes)
    batch : sequence of int
        Row positions into ``samples``.

    Returns
    -------
    float
        Nats.

    Examples
    --------
    Two copies of the same informative item are worth less than twice one copy: BatchBALD
    does not count the same information twice (BALD, the sum, would).

    >>> import numpy as np
    >>> S = np.array([[[0.9, 0.1], [0.9, 0.1]],  # pass 1 on items 0 and 1 (a duplicate)
    ...               [[0.1, 0.9], [0.1, 0.9]]])  # pass 2
    >>> round(joint_mutual_information(S, [0]), 3), round(joint_mutual_information(S, [0, 1]), 3)
    (0.368, 0.514)
    """
    S = np.asarray(_check_samples(samples), dtype=np.float64)
    idx = np.asarray(batch, dtype=np.int64)
    T = S.shape[0]
    conf = np.ones((T, 1))
    for i in idx:
        conf = (conf[:, :, None] * S[:, i, None, :]).reshape(T, -1)
    joint = conf.mean(axis=0)
    cond = -_xlogx(S[:, idx, :]).sum(axis=-1).mean(axis=0).sum()
    return float(-_xlogx(joint).sum() - cond)


def batchbald_select(
    samples: Any,
    k: int,
    *,
    n_configurations: int = 1000,
    block_size: int = 256,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy BatchBALD (Kirsch et al., 2019): a batch of high joint mutual information.

    Adds, one at a time, the item ``x`` maximising ``I[y_1..y_{b-1}, y_x; w]``, the mutual
    information between the *joint* labels of the batch and the weights, so that a batch of
    near-duplicates (each informative alone, redundant together) is avoided. The joint
    entropy ``H[y_1..y_b]`` under the MC mixture ``(1/T) sum_t prod_i p_t(y_i)`` is computed
    exactly while the ``n_classes ** (b-1)`` configurations of the batch so far number at most
    ``n_configurations``; beyond that, ``n_configurations`` configurations are drawn from the
    mixture and the entropy is estimated by importance weighting, as in the paper.

    The gain of an item can only shrink as the batch grows (the objective is submodular), so
    the greedy step is evaluated lazily: candidates are scored in blocks in order of their
    last gain (initially their BALD score), and the step stops once the best gain found beats
    every remaining bound. With exact joint entropies this picks exactly what full greedy
    evaluation picks.

    Parameters
    ----------
    samples : ndarray of shape (T, n, n_classes)
        MC-dropout class probabilities of the candidates.
    k : int
        Batch size; clipped to ``n``.
    n_configurations : int, default=1000
        Exact up to this many batch-label configurations; this many samples beyond.
    block_size : int, default=256
        Candidates scored per vectorised block.
    rng : Generator, int or None
        Seeds tie-breaking and the sampled configurations.

    Returns
    -------
    positions : ndarray of shape (min(k, n),), int64
        Unique positions into the candidates, in pick order.
    gains : ndarray of shape (min(k, n),), float64
        Each pick's marginal gain in joint mutual information (nats); ``gains[0]`` is the
        first pick's BALD score and ``gains.sum()`` the batch's BatchBALD value.

    Raises
    ------
    ValueError
        If ``samples`` is not 3-D or ``n_configurations < 1``.

    Examples
    --------
    >>> import numpy as np
    >>> S = np.random.default_rng(0).dirichlet(np.ones(3), size=(8, 20))  # (T, n, C)
    >>> pos, gains = batchbald_select(S, 3, rng=0)
    >>> pos.shape, bool(np.all(np.diff(gains) <= 1e-12))
    ((3,), True)
    """
    S = np.asarray(_check_samples(samples), dtype=np.float64)
    if int(n_configurations) < 1:
        raise ValueError(f"n_configurations must be >= 1; got {n_configurations}")
    rng = np.random.default_rng(rng)
    T, n, C = S.shape
    k = min(int(k), n)
    cond = -_xlogx(S).sum(axis=-1).mean(axis=0)  # (n,) E_w H[y_i | w]
    ub = mutual_information(S)  # bound on every later gain (submodularity)
    tie = rng.permutation(n)  # random tie-breaking among equal bounds
    avail = np.ones(n, dtype=bool)
    conf = np.ones((T, 1))  # p(configuration of the batch so far | w_t)
    weights: np.ndarray | None = None  # None = exact enumeration
    value, cond_sum = 0.0, 0.0
    picks: list[int] = []
    gains: list[float] = []
    for _ in range(k):
        cand = tie[avail[tie]]
        order = cand[np.argsort(-ub[cand], kind="stable")]
        best, best_gain = -1, -np.inf
        for s in range(0, order.size, block_size):
            if best >= 0 and best_gain >= ub[order[s]]:
                break
            blk = order[s : s + block_size]
            # joint[m, b, c] = (1/T) sum_t conf[t, m] p_t(y_b = c)
            joint = (conf.T @ S[:, blk, :].reshape(T, -1)).reshape(conf.shape[1], blk.size, C)
            joint /= T
            if weights is None:
                H = -_xlogx(joint).sum(axis=(0, 2))
            else:
                H = -(_xlogx(joint).sum(axis=2) * weights[:, None]).mean(axis=0)
            g = H - cond_sum - cond[blk] - value
            ub[blk] = g
            j = int(np.argmax(g))
            if g[j] > best_gain:
                best, best_gain = int(blk[j]), float(g[j])
        picks.append(best)
        gains.append(best_gain)
        avail[best] = False
        value += best_gain
        cond_sum += cond[best]
        if C ** len(picks) <= n_configurations:
            conf = (conf[:, :, None] * S[:, best, None, :]).reshape(T, -1)
        else:
            conf, weights = _sample_configurations(S[:, picks, :], int(n_configurations), rng)
    return np.asarray(picks, dtype=np.int64), np.asarray(gains, dtype=np.float64)


def _sample_configurations(
    Sb: np.ndarray, m: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``m`` label configurations of the batch from the MC mixture.

    Returns ``conf`` of shape (T, m), ``p(config_j | w_t)``, and the importance weights
    ``1 / p(config_j)`` of shape (m,) for the entropy estimate.
    """
    T, b, C = Sb.shape
    t = rng.integers(0, T, size=m)  # a weight sample, then each label from it
    cum = np.cumsum(Sb[t], axis=2)  # (m, b, C)
    u = rng.random((m, b, 1)) * cum[:, :, -1:]
    y = np.minimum((cum < u).sum(axis=2), C - 1)  # (m, b)
    conf = np.prod(Sb[:, np.arange(b)[None, :], y], axis=2)  # (T, m)
    return conf, 1.0 / np.maximum(conf.mean(axis=0), 1e-300)


class BatchBALD(Strategy):
    """BatchBALD (Kirsch et al., 2019) on the session model's MC-dropout samples.

    Picks the batch greedily by joint mutual information with the weights
    (:func:`batchbald_select`): exact joint entropies while the batch's label configurations
    number at most ``n_configurations``, importance-sampled ones beyond. Batch size 1 is BALD.

    Parameters
    ----------
    n_samples : int, optional
        MC passes ``T``; default the model's ``n_samples``.
    n_configurations : int, default=1000
    max_candidates : int or None, default=None
        Score only this many candidates with the highest BALD (None = all). The lazy greedy
        evaluation already skips most of the pool, so this is rarely needed.

    Notes
    -----
    Cost per query: the MC passes, then for each of the ``k`` picks ``O(T M C)`` per candidate
    evaluated (``M`` configurations), and few candidates are evaluated past the first pick.
    Needs an :class:`~alwidget.models.MCDropoutClassifier` as the session's estimator.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> from sklearn.datasets import make_blobs
    >>> from alwidget.models import MCDropoutClassifier
    >>> X, y = make_blobs(60, centers=2, random_state=0)
    >>> net = MCDropoutClassifier(hidden_layer_sizes=(16,), min_steps=50, random_state=0)
    >>> s = alwidget.Session(X, classes=["a", "b"], estimator=net, strategy=BatchBALD(),
    ...                      batch_size=3, store=":memory:", random_state=0)
    >>> _ = s.submit({i: "ab"[y[i]] for i in range(6)}, source="map")  # a first model
    >>> s.batch.strategy, s.query().shape
    ('batchbald', (3,))
    >>> s.close()
    """

    name = "batchbald"
    measure = "entropy"
    needs_mc_samples = True

    def __init__(
        self,
        n_samples: int | None = None,
        n_configurations: int = 1000,
        max_candidates: int | None = None,
    ) -> None:
        self.n_samples = n_samples
        self.n_configurations = n_configurations
        self.max_candidates = max_candidates

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """Per-item BALD (the batch of one); BatchBALD itself has no per-item scores."""
        return mutual_information(self._samples(ctx))

    def _samples(self, ctx: QueryContext) -> np.ndarray:
        seed = int(ctx.rng.integers(2**62))
        return mc_samples(
            ctx.model, ctx.X[ctx.candidates], ctx.n_classes, self.n_samples, seed, who=self.name
        )

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        S = self._samples(ctx)
        cand = np.arange(S.shape[1])
        if self.max_candidates is not None and S.shape[1] > self.max_candidates:
            cand = np.sort(top_k(mutual_information(S), int(self.max_candidates), ctx.rng))
            S = S[:, cand]
        pos, gains = batchbald_select(
            S, batch_size, n_configurations=self.n_configurations, rng=ctx.rng
        )
        return ctx.candidates[cand[pos]], gains

    def model_uncertainty(self, model: Any, X: Any, n_classes: int) -> np.ndarray:
        """MC-dropout mutual information per row in [0, 1], float32 (see :func:`mc_uncertainty`)."""
        return mc_uncertainty(model, X, n_classes, self.n_samples, random_state=0)
