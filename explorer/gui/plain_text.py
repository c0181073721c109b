"""A person's text (a variant's name, a file's path) shown as written, never as HTML.

Qt takes a label's or a tooltip's text for rich text as soon as it looks like HTML, so a
variant named ``<img src=...>`` would load a local image and ``<h1>`` would shout. Labels
that show such text are set to plain text; rich text and tooltips get it escaped.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import Qt as GuiQt  # the Qt namespace with QtGui's text functions
from PySide6.QtWidgets import QLabel


def plain(label: QLabel) -> QLabel:
    """``label``, from now on showing its text as written."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def rich_text(text: str) -> str:
    """``text`` to put inside rich text (a label or title that has markup of its own)."""
    return escape(text, quote=False)


def as_written(text: str) -> str:
    """``text`` as rich text that shows it as written, line breaks kept: for tooltips and
    message boxes, which take any text that looks like HTML for HTML."""
    return GuiQt.convertFromPlainText(text, GuiQt.WhiteSpaceMode.WhiteSpaceNormal) if text else ""
