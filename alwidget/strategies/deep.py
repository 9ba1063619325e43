"""Deep Bayesian and adversarial strategies: MC dropout (DBAL), BALD, BatchBALD, VAAL.

The Bayesian scores are pure numpy functions of Monte Carlo dropout samples, an array of
shape ``(T, n, n_classes)`` (``T`` stochastic passes of the network, see
:meth:`alwidget.models.MCDropoutClassifier.predict_proba_samples`); the strategies take those
samples from the session's model, which must therefore be an MC-dropout network. VAAL trains
its own variational auto-encoder and discriminator and needs no task model.

This module imports no torch: the score functions work on plain arrays, and the strategies
that need PyTorch (the network's samples, VAAL) import it when they run. Selecting one of
them by name without the extra raises an :class:`ImportError` that says how to install it.

References
----------
Houlsby, N., Huszar, F., Ghahramani, Z. & Lengyel, M. (2011). Bayesian active learning for
classification and preference learning. arXiv:1112.5745 (BALD).
Gal, Y. & Ghahramani, Z. (2016). Dropout as a Bayesian approximation. ICML (MC dropout).
Gal, Y., Islam, R. & Ghahramani, Z. (2017). Deep Bayesian active learning with image data.
ICML (DBAL: max entropy, variation ratios, mean STD and BALD under MC dropout).
Kirsch, A., van Amersfoort, J. & Gal, Y. (2019). BatchBALD: efficient and diverse batch
acquisition for deep Bayesian active learning. NeurIPS.
Sinha, S., Ebrahimi, S. & Darrell, T. (2019). Variational adversarial active learning. ICCV
(VAAL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .base import QueryContext, ScoreStrategy, Strategy, top_k

__all__ = [
    "DEEP_INSTALL_HINT",
    "DEEP_STRATEGIES",
    "mc_entropy",
    "variation_ratios",
    "mean_std",
    "mutual_information",
    "batchbald_select",
    "joint_mutual_information",
    "mc_samples",
    "mc_uncertainty",
    "MCDropoutStrategy",
    "BatchBALD",
    "vaal_scores",
    "VAAL",
    "deep_strategy",
]

DEEP_INSTALL_HINT = (
    'install the deep-learning extra: pip install "alwidget[deep]" (it needs PyTorch 2.13.0, '
    "CPU build: pip install torch==2.13.0 from a CPU wheel index; a bare `pip install torch` "
    "downloads gigabytes of CUDA libraries)"
)

_CHUNK = 8192  # rows per block when reducing samples in float64


def _check_samples(samples: Any) -> np.ndarray:
    S = np.asarray(samples)
    if S.ndim != 3 or S.shape[0] < 1 or S.shape[2] < 1:
        raise ValueError(
            "samples must have shape (T, n_samples, n_classes): T Monte Carlo passes of "
            f"predict_proba (MCDropoutClassifier.predict_proba_samples); got shape {S.shape}"
        )
    return S


def _xlogx(P: np.ndarray) -> np.ndarray:
    """``p log p`` elementwise with ``0 log 0 = 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = P * np.log(P)
    t[P <= 0] = 0.0
    return t


def _blocks(S: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Apply ``fn`` to float64 blocks of ``S[:, rows]``; concatenate the (rows,) results."""
    n = S.shape[1]
    out = np.empty(n, dtype=np.float64)
    for s in range(0, n, _CHUNK):
        out[s : s + _CHUNK] = fn(np.asarray(S[:, s : s + _CHUNK], dtype=np.float64))
    return out


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
    """
    S = _check_samples(samples)

    def fn(B: np.ndarray) -> np.ndarray:
        return -_xlogx(B.mean(axis=0)).sum(axis=-1) + _xlogx(B).sum(axis=-1).mean(axis=0)

    return np.maximum(_blocks(S, fn), 0.0)


mc_bald = mutual_information


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

    Returns
    -------
    u : ndarray of shape (n,), float32
        :func:`mutual_information` divided by ``log(n_classes)``.
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


# -- VAAL ---------------------------------------------------------------------------------------
def vaal_scores(
    X: Any,
    labeled: Any,
    *,
    X_score: Any = None,
    latent_dim: int = 16,
    hidden: int = 128,
    n_steps: int = 500,
    batch_size: int = 64,
    beta: float = 1.0,
    adversary_weight: float = 1.0,
    lr: float = 5e-4,
    random_state: int | np.random.Generator | None = None,
    return_discriminator: bool = False,
) -> np.ndarray:
    """VAAL scores: how unlabeled each row looks to an adversarial discriminator.

    A variational auto-encoder (an MLP encoder to a ``latent_dim`` Gaussian, an MLP decoder)
    learns the standardised features of the whole pool; a discriminator on the latent mean
    learns to tell labeled (1) from unlabeled (0) items, while the VAE is also trained to
    fool it (the minimax game of Sinha et al., 2019). Items the discriminator is most sure are
    unlabeled are the ones least represented by the labeled set.

    Parameters
    ----------
    X : ndarray of shape (n, n_features)
        The pool's features.
    labeled : ndarray of shape (n,), bool
        True for labeled rows; at least one True and one False.
    X_score : ndarray of shape (m, n_features), optional
        Rows to score with the trained networks; default ``X``.
    latent_dim, hidden : int
        Latent size and hidden width of encoder, decoder and discriminator.
    n_steps : int, default=500
        Training steps, each on ``batch_size`` labeled plus ``batch_size`` unlabeled rows.
    beta : float, default=1.0
        Weight of the KL term of the VAE loss.
    adversary_weight : float, default=1.0
        Weight of the VAE's fool-the-discriminator loss.
    lr : float, default=5e-4
        Adam learning rate (VAE and discriminator).
    random_state : int, Generator or None
        Seeds initialisation, batches and the reparameterisation noise.
    return_discriminator : bool, default=False
        Return ``D(x)``, the probability of being labeled, instead of ``1 - D(x)``.

    Returns
    -------
    scores : ndarray of shape (m,), float64
        ``1 - D(mu(x))`` of each row of ``X_score`` in [0, 1]: higher = looks more unlabeled = picked first.

    Raises
    ------
    ValueError
        If ``labeled`` has no True or no False, or shapes disagree.
    ImportError
        Without PyTorch (see :data:`DEEP_INSTALL_HINT`).
    """
    torch = _import_torch()
    from ..models import _seed_of

    X = np.asarray(X, dtype=np.float32)
    lab = np.asarray(labeled, dtype=bool)
    if X.ndim != 2 or lab.shape != (X.shape[0],):
        raise ValueError(
            f"X must be (n, n_features) and labeled (n,); got {X.shape} and {lab.shape}"
        )
    if lab.all() or not lab.any():
        raise ValueError("VAAL needs at least one labeled and one unlabeled item")
    Xq = X if X_score is None else np.asarray(X_score, dtype=np.float32)
    if Xq.ndim != 2 or Xq.shape[1] != X.shape[1]:
        raise ValueError(f"X_score must have shape (m, {X.shape[1]}); got {Xq.shape}")
    seed = _seed_of(random_state)
    gen = torch.Generator().manual_seed(seed)
    mean, std = X.mean(axis=0), X.std(axis=0)
    std = np.where(std > 0, std, 1.0).astype(np.float32)
    Xs = torch.from_numpy((X - mean) / std)
    Xq_t = torch.from_numpy(((Xq - mean) / std).astype(np.float32))
    d = Xs.shape[1]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # default layer initialisation, isolated from the caller
        enc = torch.nn.Sequential(
            torch.nn.Linear(d, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2 * latent_dim)
        )
        dec = torch.nn.Sequential(
            torch.nn.Linear(latent_dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, d)
        )
        dsc = torch.nn.Sequential(
            torch.nn.Linear(latent_dim, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, hidden),
            torch.nn.ReLU(),
            torch.nn.Linear(hidden, 1),
        )
    opt_v = torch.optim.Adam([*enc.parameters(), *dec.parameters()], lr=lr)
    opt_d = torch.optim.Adam(dsc.parameters(), lr=lr)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    li = torch.from_numpy(np.flatnonzero(lab))
    ui = torch.from_numpy(np.flatnonzero(~lab))
    ones, zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)

    def encode(x: Any) -> tuple[Any, Any]:
        h = enc(x)
        return h[:, :latent_dim], h[:, latent_dim:].clamp(-10, 10)

    from ..models import _TorchThreads

    with _TorchThreads(1):
        for _ in range(int(n_steps)):
            xl = Xs[li[torch.randint(li.numel(), (batch_size,), generator=gen)]]
            xu = Xs[ui[torch.randint(ui.numel(), (batch_size,), generator=gen)]]
            x = torch.cat([xl, xu])
            mu, logvar = encode(x)
            z = mu + torch.randn(mu.shape, generator=gen) * torch.exp(0.5 * logvar)
            recon = ((dec(z) - x) ** 2).sum(1).mean()
            kl = -0.5 * (1 + logvar - mu**2 - logvar.exp()).sum(1).mean()
            # the VAE tries to make every item look labeled to the discriminator
            adv = bce(dsc(mu), torch.cat([ones, ones]))
            loss = recon + beta * kl + adversary_weight * adv
            opt_v.zero_grad()
            loss.backward()
            opt_v.step()
            d_loss = bce(dsc(mu.detach()), torch.cat([ones, zeros]))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
        with torch.inference_mode():
            p = torch.cat(
                [
                    torch.sigmoid(dsc(encode(Xq_t[s : s + 65536])[0]))[:, 0]
                    for s in range(0, Xq_t.shape[0], 65536)
                ]
            ).numpy()
    p = p.astype(np.float64)
    return p if return_discriminator else 1.0 - p


class VAAL(Strategy):
    """Variational adversarial active learning (Sinha, Ebrahimi & Darrell, 2019).

    Each query trains, from scratch and seeded from ``ctx.rng``, a VAE over the pool's
    features and a discriminator of labeled vs unlabeled in its latent space
    (:func:`vaal_scores`), and picks the candidates the discriminator finds most surely
    unlabeled. Task-agnostic: it uses the features and which items are labeled, not the model
    nor the labels' values, so any estimator works. With nothing labeled yet every item looks
    equally unlabeled, and the picks are uniform at random.

    Parameters
    ----------
    n_steps : int, default=500
    max_pool : int, default=20000
        Train on at most this many rows (all labeled ones plus a random subset of the rest);
        every candidate is still scored.
    **kwargs
        Passed to :func:`vaal_scores` (``latent_dim``, ``hidden``, ``beta`` ...).

    Notes
    -----
    Cost per query: ``n_steps`` Adam steps on 2 x 64 rows for three small MLPs, then one
    encoder + discriminator pass over the candidates. Needs PyTorch.
    """

    name = "vaal"
    needs_model = False

    def __init__(self, n_steps: int = 500, max_pool: int = 20000, **kwargs: Any) -> None:
        self.n_steps = n_steps
        self.max_pool = max_pool
        self.kwargs = kwargs

    def scores(self, ctx: QueryContext) -> np.ndarray:
        """``1 - D(x)`` per candidate, shape (n_candidates,): higher = looks more unlabeled."""
        lab = ctx.labeled
        if not lab.any():
            return ctx.rng.random(len(ctx.candidates))
        lab_rows = np.flatnonzero(lab)
        rest = ctx.candidates
        if lab_rows.size + rest.size > self.max_pool:
            m = max(self.max_pool - lab_rows.size, 1)
            rest = np.sort(ctx.rng.choice(rest, size=min(m, rest.size), replace=False))
        rows = np.concatenate([lab_rows, rest])
        seed = int(ctx.rng.integers(2**62))
        return vaal_scores(
            ctx.X[rows],
            lab[rows],
            X_score=ctx.X[ctx.candidates],
            n_steps=self.n_steps,
            random_state=seed,
            **self.kwargs,
        )

    def query(self, ctx: QueryContext, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        s = self.scores(ctx)
        pos = top_k(s, batch_size, ctx.rng)
        return ctx.candidates[pos], s[pos]


# -- registration ---------------------------------------------------------------------------------
DEEP_STRATEGIES: dict[str, Callable[[], Strategy]] = {
    "mc_entropy": lambda: MCDropoutStrategy("mc_entropy"),
    "variation_ratios": lambda: MCDropoutStrategy("variation_ratios"),
    "mean_std": lambda: MCDropoutStrategy("mean_std"),
    "mc_bald": lambda: MCDropoutStrategy("mc_bald"),
    "batchbald": BatchBALD,
    "vaal": VAAL,
}


def _import_torch() -> Any:
    try:
        import torch
    except ImportError as e:
        raise ImportError(f"this strategy needs PyTorch: {DEEP_INSTALL_HINT}") from e
    return torch


def deep_strategy(name: str) -> Strategy:
    """Build a deep strategy by registry name, after checking that PyTorch is installed.

    Raises
    ------
    ImportError
        If PyTorch is missing (the message says ``pip install "alwidget[deep]"``).
    KeyError
        If ``name`` is not one of :data:`DEEP_STRATEGIES`.
    """
    factory = DEEP_STRATEGIES[name]
    try:
        import torch  # noqa: F401
    except ImportError as e:
        raise ImportError(f"strategy {name!r} needs PyTorch: {DEEP_INSTALL_HINT}") from e
    return factory()
