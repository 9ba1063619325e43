"""Teaching helpers (moved to :mod:`alwidget.widget.lab`; this name stays importable).

``alwidget.teaching.teach``, ``TeachingLab`` and ``compare_strategies_figure`` are loaded on
first use, so importing this module loads neither ipywidgets nor plotly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and ruff; at run time __getattr__ loads them
    from .widget.lab import TeachingLab, compare_strategies_figure, teach

__all__ = ["teach", "TeachingLab", "compare_strategies_figure"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from .widget import lab

        return getattr(lab, name)
    raise AttributeError(f"module 'alwidget.teaching' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
