"""Listeners of a session's events (``Session.observe`` / ``Session.unobserve``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["EVENTS", "Listeners"]

#: The events a :class:`~alwidget.Session` emits.
EVENTS = (
    "submit",
    "undo",
    "skip",
    "unsure",
    "strategy",
    "query",
    "import",
    "grow",
    "model",
    "fit_error",
    "fit_progress",
    "fit_done",
    "closed",
)


class Listeners:
    """Callbacks called with the name of each event, in registration order.

    Examples
    --------
    >>> seen = []
    >>> ls = Listeners()
    >>> ls.observe(seen.append, "skip")
    >>> ls.emit("submit"); ls.emit("skip")
    >>> seen
    ['skip']
    >>> ls.unobserve(seen.append); ls.emit("skip"); seen
    ['skip']
    """

    def __init__(self) -> None:
        self._items: list[tuple[Callable[[str], None], frozenset[str] | None]] = []

    def observe(
        self, callback: Callable[[str], None], names: str | Iterable[str] | None = None
    ) -> None:
        """Call ``callback(event: str)`` after each change; ``names`` limits it to some of
        ``"submit"``, ``"undo"``, ``"skip"``, ``"unsure"``, ``"strategy"``, ``"query"``,
        ``"import"``, ``"model"`` (may come from the background thread), ``"fit_error"``,
        ``"fit_progress"``, ``"fit_done"`` (the worker became idle) and ``"closed"``.

        Raises
        ------
        ValueError
            If a name in ``names`` is not one of these events.

        Examples
        --------
        >>> import numpy as np, alwidget
        >>> events = []
        >>> with alwidget.Session(np.eye(6), classes=["a", "b"], store=":memory:",
        ...                       batch_size=3) as s:
        ...     s.observe(events.append, "skip")
        ...     _ = s.skip(int(s.query()[0]))
        >>> events
        ['skip']
        """
        sel = None if names is None else frozenset([names] if isinstance(names, str) else names)
        unknown = sorted((sel or frozenset()) - set(EVENTS))
        if unknown:
            raise ValueError(f"unknown event name(s) {unknown}; use some of {list(EVENTS)}")
        self._items.append((callback, sel))

    def unobserve(self, callback: Callable[[str], None]) -> None:
        """Stop calling ``callback`` (every registration of it; unknown ones are ignored)."""
        self._items = [(cb, n) for cb, n in self._items if cb != callback]

    def emit(self, event: str) -> None:
        """Call the callbacks that listen to ``event``."""
        for cb, names in list(self._items):
            if names is None or event in names:
                cb(event)
