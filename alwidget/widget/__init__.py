"""The ipywidgets view of a :class:`alwidget.Session`."""

from .app import LabelingWidget
from .renderers import render_item

__all__ = ["LabelingWidget", "render_item"]
