"""Colours from the theme for text that widgets draw themselves."""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


def component_style(widget: Widget, component: str) -> Style:
    """The text style of one of `widget`'s component classes, without a background.

    The colour is resolved against the widget's background, so that a see-through one
    (`$text-muted` is `auto 60%`) comes out right in a light theme as in a dark one;
    the background is left to whatever the text is drawn on (a highlight, the pane).
    """
    full = widget.get_component_rich_style(component)
    return Style(
        color=full.color,
        bold=full.bold,
        dim=full.dim,
        italic=full.italic,
        underline=full.underline,
        strike=full.strike,
        reverse=full.reverse,
    )
