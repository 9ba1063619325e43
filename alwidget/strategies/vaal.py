"""VAAL (Sinha et al., 2019): pick what an adversarial discriminator finds most unlabeled.

References
----------
Sinha, S., Ebrahimi, S. & Darrell, T. (2019). Variational adversarial active learning. ICCV.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._deep_common import _import_torch
from .base import QueryContext, Strategy, top_k

__all__ = ["vaal_scores", "VAAL"]


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

    Examples
    --------
    A labeled blob and an unlabeled one: the unlabeled rows look more unlabeled.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 1, (100, 5)), rng.normal(4, 1, (100, 5))])
    >>> labeled = np.r_[np.ones(100, bool), np.zeros(100, bool)]
    >>> s = vaal_scores(X, labeled, n_steps=200, random_state=0)
    >>> s.shape, bool(s[~labeled].mean() > s[labeled].mean())
    ((200,), True)
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

    Examples
    --------
    Nothing is trained until a query; any estimator works, since VAAL needs no model:

    >>> vaal = VAAL(n_steps=200, latent_dim=8)
    >>> vaal.name, vaal.needs_model, vaal.kwargs
    ('vaal', False, {'latent_dim': 8})

    Used by name in a session (``strategy="vaal"``); :func:`vaal_scores` shows the scores.
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
