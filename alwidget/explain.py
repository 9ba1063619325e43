"""Why an item was picked: the numbers behind each card of a batch.

For every item of the current batch: the model's class probabilities, the strategy's score and
the item's rank in the batch, the distance to the nearest labeled item (what core-set looks
at), how dense its neighbourhood is compared with the pool (what outlier fixation is about) and,
for teaching, its rank under other strategies on the same pool and model. Headless: the widget
shows :meth:`PickExplainer.explain` as a line on each card and the rest on hover.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sklearn.metrics import pairwise_distances_argmin_min

from .strategies import get_strategy
from .strategies.density import outlier_scores

__all__ = ["Why", "PickExplainer"]


@dataclass
class Why:
    """The numbers behind one pick.

    Attributes
    ----------
    index : int
        Pool index.
    rank, of : int
        Rank in the batch (1 = the strategy's first choice) and batch size.
    strategy : str
        What picked the batch.
    score : float or None
        The strategy's score for the item (None at cold start or without per-item scores).
    proba : list of (str, float)
        The model's three most likely classes with their probability, most likely first
        (empty without a model).
    nearest_label : float or None
        Euclidean distance to the nearest labeled item, in feature units (None: none labeled).
    density_percentile : float
        Share of a pool sample whose neighbourhood is sparser (mean distance to the 10 nearest
        items), in percent: 100 = as dense as the densest, about 0 = an outlier.
    ranks : dict of str to int or None
        Rank among the askable items under each compared strategy (1 = its first choice);
        None for strategies without per-item scores (core-set, BADGE) or needing a model.

    Examples
    --------
    >>> w = Why(index=7, rank=1, of=5, strategy="margin", score=0.91,
    ...         proba=[("cat", 0.52), ("dog", 0.47)], nearest_label=4.2,
    ...         density_percentile=35.0, ranks={"entropy": 3})
    >>> w.line()
    'p cat 0.52, dog 0.47 · near label 4.2 · density 35%'
    >>> print(w.details().splitlines()[0])
    picked by margin: rank 1 of 5
    """

    index: int
    rank: int
    of: int
    strategy: str
    score: float | None
    proba: list[tuple[str, float]]
    nearest_label: float | None
    density_percentile: float
    ranks: dict[str, int | None] = field(default_factory=dict)

    def line(self) -> str:
        """One short line for a card, e.g. ``"p 3 .46, 8 .41 · near label 4.2 · density 35%"``."""
        parts = []
        if self.proba:
            parts.append("p " + ", ".join(f"{c} {p:.2f}" for c, p in self.proba[:2]))
        if self.nearest_label is not None:
            parts.append(f"near label {self.nearest_label:.3g}")
        parts.append(f"density {self.density_percentile:.0f}%")
        return " · ".join(parts)

    def details(self) -> str:
        """Every number, one per line (the card's hover text)."""
        lines = [f"picked by {self.strategy}: rank {self.rank} of {self.of}"]
        if self.score is not None:
            lines.append(f"score {self.score:.4g}")
        if self.proba:
            lines.append("probabilities: " + ", ".join(f"{c} {p:.3f}" for c, p in self.proba))
        else:
            lines.append("probabilities: no model yet")
        lines.append(
            "distance to the nearest label: "
            + ("none labeled" if self.nearest_label is None else f"{self.nearest_label:.4g}")
        )
        lines.append(
            f"density percentile: {self.density_percentile:.0f} "
            "(share of the pool in sparser neighbourhoods; about 0 = outlier)"
        )
        for name, r in self.ranks.items():
            lines.append(f"rank under {name}: " + ("–" if r is None else str(r)))
        return "\n".join(lines)


class PickExplainer:
    """Explain the picks of a session's current batch.

    The density reference (kNN distances of a pool sample) is computed once per pool, on the
    first call; the rest costs one distance pass from the batch to the labeled items, and one
    scoring pass per compared strategy.

    Parameters
    ----------
    session : Session
    compare : sequence of str, default=()
        Strategies whose rank to report (e.g. the teaching panel's); ``random`` is left out.
    n_reference : int, default=2000
        Pool sample for the density percentile.
    random_state : int, default=0
        Seed of that sample.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> from alwidget.explain import PickExplainer
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(size=(100, 2)), [[9.0, 9.0]]])  # item 100: an outlier
    >>> s = alwidget.Session(X, classes=["a", "b"], store=":memory:", batch_size=4)
    >>> _ = s.set_batch([0, 1, 2, 3])
    >>> _ = s.submit({0: "a", 1: "b", 2: "a", 3: "b"})
    >>> why = PickExplainer(s, compare=["margin"]).explain([100])[0]
    >>> why.density_percentile < 1, why.nearest_label > 5, list(why.ranks)
    (True, True, ['margin'])
    >>> s.close()
    """

    def __init__(
        self,
        session: Any,
        compare: Sequence[str] = (),
        n_reference: int = 2000,
        random_state: int = 0,
    ) -> None:
        self.session = session
        self.compare = [c for c in compare if c != "random"]
        self.n_reference = int(n_reference)
        self.random_state = int(random_state)
        self._ref: np.ndarray | None = None

    def _density_reference(self) -> np.ndarray:
        """kNN distances of a seeded pool sample, sorted (computed once per pool)."""
        if self._ref is None:
            X = self.session.X
            rng = np.random.default_rng(self.random_state)
            idx = np.sort(rng.choice(X.shape[0], min(X.shape[0], self.n_reference), replace=False))
            d = outlier_scores(X[idx], X, n_reference=self.n_reference, rng=0, X_index=idx)
            self._ref = np.sort(d)
        return self._ref

    def _ranks(self, indices: np.ndarray) -> dict[str, np.ndarray | None]:
        s = self.session
        cand = s.batches.candidates()
        out: dict[str, np.ndarray | None] = {}
        for name in self.compare:
            st = get_strategy(name)
            if s.proba is None and st.needs_model:
                out[st.name] = None
                continue
            # the session's context with a generator of our own (the session's is untouched)
            ctx = replace(s.batches.context(cand), rng=np.random.default_rng(self.random_state))
            try:
                sc = np.nan_to_num(np.asarray(st.scores(ctx), dtype=np.float64), nan=-np.inf)
            except (NotImplementedError, ValueError):
                out[st.name] = None
                continue
            score = np.full(s.n_samples, -np.inf)
            score[cand] = sc
            out[st.name] = 1 + (sc[None, :] > score[indices][:, None]).sum(axis=1)
        return out

    def explain(self, indices: Sequence[int] | np.ndarray | None = None) -> list[Why]:
        """The numbers behind each item of the current batch (or of ``indices``).

        Parameters
        ----------
        indices : array-like of int, optional
            Pool indices; default the current batch, in batch order.

        Returns
        -------
        list of Why
            One per item, in the order given.
        """
        s = self.session
        b = s.batch
        idx = b.indices if indices is None else np.asarray(indices, dtype=np.int64)
        if idx.size == 0:
            return []
        labeled = s.y >= 0
        d = pairwise_distances_argmin_min(s.X[idx], s.X[labeled])[1] if labeled.any() else None
        ref_d = self._density_reference()
        mine = outlier_scores(s.X[idx], s.X, n_reference=self.n_reference, rng=0, X_index=idx)
        sparser = ref_d.size - np.searchsorted(ref_d, mine, side="right")
        pct = 100.0 * sparser / max(ref_d.size, 1)
        ranks = self._ranks(idx)
        proba = s.proba
        out = []
        for j, i in enumerate(idx.tolist()):
            pos = b.position(i)
            sc = float(b.scores[pos]) if pos is not None else float("nan")
            top: list[tuple[str, float]] = []
            if proba is not None:
                order = np.argsort(-proba[i])[:3]
                top = [(str(s.classes[c]), float(proba[i, c])) for c in order]
            out.append(
                Why(
                    index=int(i),
                    rank=(pos + 1) if pos is not None else 0,
                    of=int(b.indices.size),
                    strategy=str(b.strategy),
                    score=sc if (np.isfinite(sc) and not b.cold_start) else None,
                    proba=top,
                    nearest_label=None if d is None else float(d[j]),
                    density_percentile=float(pct[j]),
                    ranks={name: (None if r is None else int(r[j])) for name, r in ranks.items()},
                )
            )
        return out
