"""The label tables of a :class:`~alwidget.Session`: what was answered, by whom, with
provenance, as pandas DataFrames and CSV / Parquet exports.

:class:`LabelTables` reads a label store; the session holds one (``session.tables``) and its
``labels`` / ``labels_table`` / ``answers`` / ``disagreements`` / ``export`` call it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["LabelTables"]


class LabelTables:
    """Tables and exports of a label log.

    Parameters
    ----------
    store : LabelStore
        The log.
    classes : list of str
        Class names, in code order.
    label_policy : {"latest", "majority"}
        Which answer is in effect when an item has several.
    labels : callable
        Returns the label codes in effect, ndarray of shape (n_samples,), -1 for none.

    Examples
    --------
    >>> import numpy as np, alwidget
    >>> s = alwidget.Session(np.eye(4), classes=["a", "b"], store=":memory:", batch_size=2)
    >>> _ = s.submit({0: "a", 1: "b"}, source="map")
    >>> s.tables.labels_table()[["index", "label", "source"]].to_dict("list")
    {'index': [0, 1], 'label': ['a', 'b'], 'source': ['map', 'map']}
    """

    def __init__(
        self, store: Any, classes: list[str], label_policy: str, labels: Callable[[], np.ndarray]
    ) -> None:
        self.store = store
        self.classes = classes
        self.label_policy = label_policy
        self._labels = labels

    @property
    def y(self) -> np.ndarray:
        return self._labels()

    @property
    def labels(self) -> pd.DataFrame:
        """What was labeled, one row per labeled item, oldest first.

        Same as ``labels_table()``: columns ``index`` (pool index), ``label`` (class name),
        ``code``, ``status``, ``timestamp`` (UTC), ``round``, ``strategy``, ``score`` and
        ``rank`` at selection time, ``model_version``, ``annotator``, ``source``,
        ``previous`` (the answer this one replaced: a class name, ``"unsure"``, or None).
        """
        return self.labels_table()

    def labels_table(
        self, *, include_unsure: bool = False, include_skipped: bool = False
    ) -> pd.DataFrame:
        """The answer in effect for each item, with provenance, oldest first.

        Parameters
        ----------
        include_unsure : bool, default=False
            Also list items answered "unsure" (``status="unsure"``, ``label`` None,
            ``code`` -1), e.g. to review them later.
        include_skipped : bool, default=False
            Also list skipped items (``status="skipped"``).

        Returns
        -------
        DataFrame
            Columns: ``index`` (int64), ``label`` (class name), ``code`` (int64, -1 if
            none), ``status`` ("labeled", "unsure", "skipped"), ``timestamp`` (UTC
            datetime), ``round``, ``strategy``, ``score`` (float64), ``rank``,
            ``model_version``, ``annotator``, ``source`` ("batch", "map", "import"),
            ``previous`` (the answer this one replaced, or None). The label used for
            training follows :attr:`label_policy`.
        """
        cur = self.store.current(self.label_policy)
        kinds = (
            ["label"]
            + (["unsure"] if include_unsure else [])
            + (["skip"] if include_skipped else [])
        )
        if not cur.empty:
            cur = cur[cur["kind"].isin(kinds)]
        return self._frame(cur)

    @property
    def answers(self) -> pd.DataFrame:
        """Every answer in effect from every annotator (updates too), oldest first, with
        the columns of :meth:`labels_table`."""
        return self._frame(self.store.answers())

    def disagreements(self) -> pd.DataFrame:
        """Items whose annotators' newest answers differ.

        Returns
        -------
        DataFrame
            Columns ``index`` (int64), ``n_annotators``, ``answers`` (dict annotator -> class
            name or ``"unsure"``), ``label`` (the class used for training under
            :attr:`label_policy`, or None).
        """
        d = self.store.disagreements()
        cols = ["index", "n_annotators", "answers", "label"]
        if d.empty:
            return pd.DataFrame(columns=cols)
        return pd.DataFrame(
            {
                "index": d["idx"].astype("int64").to_numpy(),
                "n_annotators": d["n_annotators"].astype("int64").to_numpy(),
                "answers": [
                    {a: (v if v == "unsure" else self.classes[int(v)]) for a, v in votes.items()}
                    for votes in d["answers"]
                ],
                "label": [
                    self.classes[int(self.y[i])] if self.y[i] >= 0 else None for i in d["idx"]
                ],
            }
        )[cols]

    def export(
        self, path: str | Path, *, include_unsure: bool = True, include_skipped: bool = False
    ) -> Path:
        """Write :meth:`labels_table` to a CSV or Parquet file, with provenance.

        The file is written to a temporary name and then renamed, so a crash never leaves
        a half-written export.

        Parameters
        ----------
        path : str or Path
            Ends in ``.csv`` or ``.parquet``.
        include_unsure, include_skipped : bool
            See :meth:`labels_table` (unsure items are included by default, marked in the
            ``status`` column).

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        ValueError
            If the suffix is neither ``.csv`` nor ``.parquet``.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".csv", ".parquet"):
            raise ValueError(f"export to a .csv or .parquet file; got {str(path)!r}")
        df = self.labels_table(include_unsure=include_unsure, include_skipped=include_skipped)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
        return path

    def _frame(self, ev: pd.DataFrame) -> pd.DataFrame:
        cols = [
            "index",
            "label",
            "code",
            "status",
            "timestamp",
            "round",
            "strategy",
            "score",
            "rank",
            "model_version",
            "annotator",
            "source",
            "previous",
        ]
        if ev.empty:
            return pd.DataFrame(columns=cols)
        status = {"label": "labeled", "unsure": "unsure", "skip": "skipped"}
        is_label = (ev["kind"] == "label").to_numpy()
        codes = np.where(is_label, ev["label"].fillna(-1).to_numpy(), -1).astype(np.int64)

        def prev(kind: Any, lab: Any) -> str | None:
            if kind == "unsure":
                return "unsure"
            if kind == "label" and lab is not None and not pd.isna(lab):
                return self.classes[int(lab)]
            return None

        out = pd.DataFrame(
            {
                "index": ev["idx"].astype("int64").to_numpy(),
                "label": [self.classes[c] if c >= 0 else None for c in codes],
                "code": codes,
                "status": [status[k] for k in ev["kind"]],
                "timestamp": pd.DatetimeIndex(pd.to_datetime(ev["ts"], utc=True)),
                "round": ev["round"].astype("Int64").to_numpy(),
                "strategy": ev["strategy"].to_numpy(),
                "score": ev["score"].astype("float64").to_numpy(),
                "rank": ev["rank"].astype("Int64").to_numpy(),
                "model_version": ev["model_version"].astype("Int64").to_numpy(),
                "annotator": ev["annotator"].to_numpy(),
                "source": ev["source"].to_numpy(),
                "previous": [
                    prev(k, lab) for k, lab in zip(ev["prev_kind"], ev["prev_label"], strict=True)
                ],
            }
        )
        return out[cols]
