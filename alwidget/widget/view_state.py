"""What the labeling widget shows, computed from a :class:`~alwidget.Session`: the status
line (as data, then as HTML), the state of each card and which actions are enabled.

Pure functions of the session (and the view's unsubmitted choices): no widget is touched here,
so what a user relies on can be checked on the data, and the HTML is only its formatting.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from ..session import LABELED, SKIPPED, UNSURE_STATUS
from .renderers import card_content

__all__ = ["card_dict", "card_marks", "enabled_actions", "status_facts", "status_html"]

_STATE_NAMES = {SKIPPED: "skipped", UNSURE_STATUS: "unsure", LABELED: "labeled"}


def status_facts(session: Any) -> dict[str, Any]:
    """The facts of the status line.

    Returns
    -------
    dict
        ``n_labeled``, ``n_samples``, ``round``, ``strategy`` (name), ``n_unsure``,
        ``queued`` (items queued from the map), ``cold_start`` (None, or the session's
        cold-start mode while fewer than two classes are labeled), ``model_labels`` (labels
        the model was trained on), ``fit_ms`` (last fit, or None), ``retraining`` (bool),
        ``retraining_for`` (s), ``epoch`` (``(step, of)`` or None), ``labels_behind``,
        ``done`` (nothing left to label), ``store`` (path of the label store) and
        ``newer_model`` (a newer model picks the next batch).
    """
    s = session
    trainer = getattr(s, "trainer", None)
    busy = bool(trainer is not None and trainer.busy)
    fit = s.timings.get("fit")
    return {
        "n_labeled": int(s.n_labeled),
        "n_samples": int(s.n_samples),
        "round": int(s.round),
        "strategy": s.strategy.name,
        "n_unsure": len(s.unsure),
        "queued": len(getattr(s, "queue", ())),
        "cold_start": s.cold_start if s.cold else None,
        "model_labels": s.labels_trained_on,
        "fit_ms": None if fit is None else 1000 * float(fit),
        "retraining": busy,
        "retraining_for": float(trainer.running_for) if busy and trainer is not None else 0.0,
        "epoch": s.fit_progress if busy else None,
        "labels_behind": int(s.models_behind or 0),
        "done": len(s.batch.indices) == 0,
        "store": str(s.store.path),
        "newer_model": bool(getattr(s, "newer_model", False)),
    }


def status_html(f: dict[str, Any], projection_status: str) -> tuple[str, str]:
    """The status line and the notice (HTML) of :func:`status_facts`."""
    parts = [
        f"<b>{f['n_labeled']}</b> labeled of {f['n_samples']}",
        f"round {f['round']}",
        f"strategy <b>{html.escape(f['strategy'])}</b>",
    ]
    if f["n_unsure"]:
        parts.append(f"{f['n_unsure']} unsure")
    if f["queued"]:
        parts.append(f"<b>{f['queued']} queued</b> (served before the strategy picks)")
    if f["cold_start"] == "random":
        parts.append("model: cold start (batch picked randomly until two classes are labeled)")
    elif f["cold_start"] == "typiclust":
        parts.append(
            "model: cold start (typical items of the pool's clusters until two classes are labeled)"
        )
    elif f["cold_start"] is not None:
        parts.append("model: cold start (diverse batch until two classes are labeled)")
    else:
        took = f", fit {f['fit_ms']:.0f} ms" if f["fit_ms"] is not None else ""
        parts.append(f"model: trained on {f['model_labels']} labels{took}")
    behind = f["labels_behind"]
    if f["retraining"]:
        step = f["epoch"]
        parts.append(
            f'<b>retraining… (<span class="alw-fit-timer">{f["retraining_for"]:.0f} s</span>)</b>'
            + (f" epoch {step[0]} of {step[1]}" if step else "")
            + (f": the model is {behind} labels behind" if behind else "")
        )
    elif behind and f["cold_start"] is None:
        parts.append(f"the model is {behind} labels behind")
    parts.append(f"map: {html.escape(projection_status)}")
    if f["done"]:
        parts.append(
            "<b>nothing left to label</b>: every item is labeled, skipped or unsure. "
            "Export with <code>session.export('labels.csv')</code> (or .parquet); "
            f"your labels are saved in <code>{html.escape(f['store'])}</code>"
        )
    notice = ""
    if f["newer_model"]:
        notice = (
            f"A newer model ({f['model_labels']} labels) is ready: it picks the next "
            "batch (on your next submit). The cards on screen stay."
        )
    return " · ".join(parts), notice


def enabled_actions(session: Any, live: bool) -> dict[str, bool]:
    """Which card actions are on: choosing, skip and unsure need an open card, submit a
    batch, and everything a live widget."""
    b = session.batch
    has_open = bool(len(b.open_indices())) if len(b.indices) else False
    return {
        "choose": live and has_open,
        "skip": live and has_open,
        "unsure": live and has_open,
        "submit": live and len(b.indices) > 0,
        "undo": live,
    }


def card_marks(session: Any, choices: dict[int, int]) -> list[dict[str, Any]]:
    """The state of each card of the session's batch, in batch order.

    Returns
    -------
    list of dict
        ``{"state": "open" | "chosen" | "skipped" | "unsure" | "labeled", "choice": code or
        None}``, plus a ``note`` for answered cards ("labeled 3 (map)" when labeled from the
        map while the batch was on screen).
    """
    s = session
    out: list[dict[str, Any]] = []
    for idx, st in zip(s.batch.indices.tolist(), np.asarray(s.batch.state).tolist(), strict=True):
        if st == 0:
            c = choices.get(idx)
            out.append(
                {"state": "open", "choice": None} if c is None else {"state": "chosen", "choice": c}
            )
        else:
            name = _STATE_NAMES.get(int(st), "skipped")
            note = name
            if st == LABELED and s.y[idx] >= 0:
                note = f"labeled {s.classes[int(s.y[idx])]} (map)"
            out.append({"state": name, "choice": None, "note": note})
    return out


def card_dict(
    session: Any, rank: int, idx: int, item: Any, renderer: Any, why: Any = None
) -> dict[str, Any]:
    """One card of the batch: ``index``, ``rank`` (1-based), ``caption`` (pool index, rank and
    the strategy's score once a model picks), ``why`` and ``why_details`` (why it was picked:
    :meth:`alwidget.explain.Why.line` and :meth:`~alwidget.explain.Why.details`, empty
    without ``why``) and the item's content (:func:`~alwidget.widget.renderers.card_content`)."""
    cap = f"#{idx} · rank {rank + 1}"
    score = float(session.batch.scores[rank])
    if not session.batch.cold_start and np.isfinite(score):
        cap += f" · score {score:.3f}"
    card = {
        "index": idx,
        "rank": rank + 1,
        "caption": cap,
        "why": "" if why is None else why.line(),
        "why_details": "" if why is None else why.details(),
    }
    card.update(card_content(item, renderer))
    return card
