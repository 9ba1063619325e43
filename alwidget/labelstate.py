"""The labels of a session's pool, derived from the store's log.

:class:`LabelState` holds the class code and status of every pool item and rebuilds them
from the :class:`~alwidget.store.LabelStore` (incrementally under the ``"latest"`` policy). It
also turns user answers into validated :class:`~alwidget.store.LabelEvent` lists, without
changing anything: the session writes them to the store first, then replays.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .selection import Batch
from .store import LabelEvent, LabelStore
from .validation import ClassNames, check_index, is_missing

__all__ = [
    "LabelState",
    "UNSURE",
    "STATUS_NAMES",
    "SOURCES",
    "UNLABELED",
    "LABELED",
    "SKIPPED",
    "UNSURE_STATUS",
]

#: Status codes of :attr:`LabelState.status` (int8).
UNLABELED, LABELED, SKIPPED, UNSURE_STATUS = 0, 1, 2, 3
#: Names of the status codes, indexed by code.
STATUS_NAMES = ("unlabeled", "labeled", "skipped", "unsure")
#: Provenance sources of an answer.
SOURCES = ("batch", "map", "import", "review")
#: Weak labels from a labeling rule are recorded as ``"rule:<name>"`` (see :mod:`alwidget.rules`).
RULE_SOURCE = re.compile(r"rule:[A-Za-z0-9_.\-]+")


def valid_source(source: str) -> bool:
    """True for ``"batch"``, ``"map"``, ``"import"``, ``"review"`` or ``"rule:<name>"``."""
    return source in SOURCES or bool(RULE_SOURCE.fullmatch(str(source)))


class _Unsure(str):
    """The type of :data:`UNSURE` (a str, so it prints and serialises as ``"unsure"``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "alwidget.UNSURE"


#: Answer meaning "I am not sure": ``session.submit({i: alwidget.UNSURE})``. The plain string
#: ``"unsure"`` means the same unless one of the classes is named ``"unsure"``.
UNSURE = _Unsure("unsure")


class LabelState:
    """Class code and status of every pool item, as the store's log says.

    Parameters
    ----------
    store : LabelStore
        Bound to the pool (``store.bind``).
    n_samples : int
        Pool size.
    classes : ClassNames
        The class names.
    label_policy : {"latest", "majority"}
        Which answer is in effect for an item with several.

    Attributes
    ----------
    y : ndarray of shape (n_samples,), int64
        Class code in effect, -1 for none (unlabeled, skipped or unsure).
    status : ndarray of shape (n_samples,), int8
        ``UNLABELED``, ``LABELED``, ``SKIPPED`` or ``UNSURE_STATUS``.
    labels_version : int
        Incremented each time :attr:`y` changes.

    Examples
    --------
    >>> from alwidget.store import LabelStore, LabelEvent
    >>> from alwidget.validation import ClassNames
    >>> store = LabelStore(":memory:")
    >>> store.bind("fp", 4, ["a", "b"])
    >>> st = LabelState(store, 4, ClassNames(["a", "b"]), "latest")
    >>> _ = store.append([LabelEvent(idx=2, label=1), LabelEvent(idx=0, label=None, kind="unsure")], "me")
    >>> st.replay()
    >>> st.y.tolist(), st.unsure.tolist(), st.labels_version
    ([-1, -1, 1, -1], [0], 1)
    >>> store.close()
    """

    def __init__(
        self, store: LabelStore, n_samples: int, classes: ClassNames, label_policy: str
    ) -> None:
        self.store = store
        self.n_samples = int(n_samples)
        self.classes = classes
        self.label_policy = label_policy
        self.y = np.full(self.n_samples, -1, dtype=np.int64)
        self.status = np.zeros(self.n_samples, dtype=np.int8)
        self.labels_version = 0
        self._seq: int | None = None  # last store event replayed (incremental replay)

    @property
    def skipped(self) -> np.ndarray:
        """Pool indices skipped (with no answer in effect), shape (m,), int64, ascending.

        Same form as :attr:`unsure`; ``status == SKIPPED`` gives the mask."""
        return np.flatnonzero(self.status == SKIPPED).astype(np.int64)

    @property
    def unsure(self) -> np.ndarray:
        """Pool indices answered "unsure" (in effect), shape (m,), int64, ascending."""
        return np.flatnonzero(self.status == UNSURE_STATUS).astype(np.int64)

    def code_of(self, label: Any) -> int:
        """Class code of an answer: a class name, a code, or a numeric value equal to a
        numeric class (``0 == 0.0 == "0"``), see :class:`alwidget.validation.ClassNames`.

        Raises
        ------
        ValueError
            If ``label`` matches no class.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> with alwidget.Session(np.eye(4), classes=["cat", "dog"], store=":memory:",
        ...                       batch_size=2) as s:
        ...     s.code_of("dog"), s.code_of(0)
        (1, 0)
        """
        return self.classes.code_of(label)

    def answer_of(self, raw: Any) -> tuple[str, int | None]:
        """``("unsure", None)`` or ``("label", code)`` for a user answer.

        Examples
        --------
        >>> st = LabelState(None, 2, ClassNames(["a", "b"]), "latest")
        >>> st.answer_of("b"), st.answer_of(UNSURE)
        (('label', 1), ('unsure', None))
        """
        if isinstance(raw, _Unsure) or (raw == UNSURE and UNSURE not in self.classes.names):
            return "unsure", None
        return "label", self.code_of(raw)

    def describe(self, idx: int) -> str:
        """The answer in effect for item ``idx``, in words (for error messages)."""
        if self.status[idx] == UNSURE_STATUS:
            return "answered unsure"
        return f"labeled {self.classes.names[int(self.y[idx])]!r}"

    def events_for(self, labels: Mapping[int, Any], source: str, batch: Batch) -> list[LabelEvent]:
        """Validate a submit completely and build its events (no state change).

        Raises
        ------
        ValueError
            On a bad source, an empty or non-mapping ``labels``, an unknown class, or an
            index that cannot be answered from ``batch`` with ``source="batch"``.
        """
        if not valid_source(source):
            raise ValueError(f"source must be one of {SOURCES} or 'rule:<name>'; got {source!r}")
        if not isinstance(labels, Mapping):
            raise ValueError(
                f"labels must be a mapping {{pool index: class}}; got {type(labels).__name__}"
            )
        if not labels:
            raise ValueError("no labels to submit: pick a class for at least one item")
        events, seen = [], set()
        batch_set = set(batch.open_indices().tolist())
        for raw_idx, raw_label in labels.items():
            idx = check_index(raw_idx, self.n_samples)
            if idx in seen:
                raise ValueError(f"index {idx} appears twice in one submit")
            seen.add(idx)
            if source == "batch" and idx not in batch_set:
                self._not_in_batch(idx, batch, batch_set)
            kind, code = self.answer_of(raw_label)
            in_batch = idx in batch_set
            events.append(
                LabelEvent(
                    idx=idx,
                    label=code,
                    kind=kind,
                    round=batch.round,
                    strategy=batch.strategy if in_batch else None,
                    score=batch.score_of(idx) if in_batch else None,
                    rank=batch.rank_of(idx) if in_batch else None,
                    model_version=batch.model_version,
                    source=source,
                )
            )
        return events

    def _not_in_batch(self, idx: int, batch: Batch, batch_set: set[int]) -> None:
        pos = batch.position(idx)
        if pos is not None:
            done = STATUS_NAMES[int(batch.state[pos])]
            raise ValueError(
                f"card #{idx} of this batch is already {done}; to answer it anyway "
                "use source='map', which records an update"
            )
        if self.status[idx] in (LABELED, UNSURE_STATUS):
            raise ValueError(
                f"index {idx} was already submitted ({self.describe(idx)}) and is no longer "
                "in the batch (a second click?); to change its answer use source='map', "
                "which records an update"
            )
        raise ValueError(
            f"index {idx} is not in the current batch {sorted(batch_set)}; "
            "use source='map' to label items outside the batch"
        )

    def skip_event(self, idx: int, batch: Batch) -> LabelEvent:
        """The event of skipping card ``idx`` of ``batch`` (with its score and rank)."""
        return LabelEvent(
            idx=idx,
            label=None,
            kind="skip",
            round=batch.round,
            strategy=batch.strategy,
            score=batch.score_of(idx),
            rank=batch.rank_of(idx),
            model_version=batch.model_version,
        )

    def import_events(self, labels: Any, round: int, model_version: int) -> list[LabelEvent]:
        """Validate imported labels and build events for those that change an answer.

        Raises
        ------
        ValueError
            On an unknown class, an out-of-range or repeated index, or a sequence of the
            wrong length.
        """
        events = []
        seen: set[int] = set()
        for raw_idx, raw in self._import_pairs(labels):
            idx = check_index(raw_idx, self.n_samples)
            kind, code = self.answer_of(raw)
            if idx in seen:
                raise ValueError(f"index {idx} appears twice in the imported labels")
            seen.add(idx)
            same = (kind == "label" and self.y[idx] == code) or (
                kind == "unsure" and self.status[idx] == UNSURE_STATUS
            )
            if not same:
                events.append(
                    LabelEvent(
                        idx=idx,
                        label=code,
                        kind=kind,
                        round=round,
                        model_version=model_version,
                        source="import",
                    )
                )
        return events

    def _import_pairs(self, labels: Any) -> list[tuple[int, Any]]:
        if isinstance(labels, Mapping):
            items = list(labels.items())
        else:
            if isinstance(labels, (str, bytes)):
                raise ValueError("labels must be a mapping or one entry per row of X")
            values = labels.to_numpy() if isinstance(labels, (pd.Series, pd.Index)) else labels
            values = list(values)
            if len(values) != self.n_samples:
                raise ValueError(
                    f"got {len(values)} labels for a pool of {self.n_samples} items; pass one "
                    "entry per row of X (None/NaN for unlabeled) or a dict {index: class}"
                )
            items = list(enumerate(values))
        return [(i, v) for i, v in items if not is_missing(v)]

    def replay(self) -> None:
        """Rebuild labels and statuses from the store (under the label policy)."""
        if self.label_policy == "latest" and self._seq is not None:
            self._replay_since()
        elif self.label_policy == "latest":
            self._replay_all()
        else:
            self._replay_policy()

    def _set(self, y: np.ndarray, status: np.ndarray) -> None:
        if not np.array_equal(y, self.y):
            self.labels_version += 1
        self.y, self.status = y, status

    def _replay_since(self) -> None:
        # incremental: only the items touched since the last replay (by this session or
        # another writer on the same store); cost independent of the log's length
        assert self._seq is not None
        self._seq, touched = self.store.changed_since(self._seq)
        if touched.size == 0:
            return
        idx, kind, lab = self.store.effective_for(touched)
        y, status = self.y.copy(), self.status.copy()
        y[idx] = np.where(kind == 0, lab, -1)
        status[idx] = np.select(
            [kind == 0, kind == 1, kind == 2], [LABELED, UNSURE_STATUS, SKIPPED], UNLABELED
        )
        self._set(y, status)

    def _replay_all(self) -> None:
        # the first replay: the whole log, no pandas
        y = np.full(self.n_samples, -1, dtype=np.int64)
        status = np.zeros(self.n_samples, dtype=np.int8)
        self._seq = self.store.max_seq()
        idx, kind, lab = self.store.effective_arrays()
        ans = kind < 2
        ia, ka, la = idx[ans][::-1], kind[ans][::-1], lab[ans][::-1]
        _, first = np.unique(ia, return_index=True)  # newest answer per item
        ia, ka, la = ia[first], ka[first], la[first]
        status[idx[~ans]] = SKIPPED  # a skip never hides an answer: answers written after
        status[ia] = np.where(ka == 0, LABELED, UNSURE_STATUS)
        y[ia[ka == 0]] = la[ka == 0]
        self._set(y, status)

    def _replay_policy(self) -> None:
        y = np.full(self.n_samples, -1, dtype=np.int64)
        status = np.zeros(self.n_samples, dtype=np.int8)
        cur = self.store.current(self.label_policy)
        if not cur.empty:
            for name, code in (("label", LABELED), ("unsure", UNSURE_STATUS), ("skip", SKIPPED)):
                rows = cur[cur["kind"] == name]
                idx = rows["idx"].astype("int64").to_numpy()
                status[idx] = code
                if name == "label":
                    y[idx] = rows["label"].astype("int64").to_numpy()
        self._set(y, status)
