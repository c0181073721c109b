"""The application's look: Fusion, a calm light palette and a small style sheet.

The style sheet is set on the parts of the window (``styled``), not on the application:
a style sheet anywhere above a widget routes all of its painting through Qt's style sheet
style, which made each repaint of the layer table a third slower. The table has none
above it, and takes its colours from its palette (``style_table``).
"""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

W = TypeVar("W", bound=QWidget)

STYLE_SHEET = """
QMainWindow, QDockWidget { background: #f4f6f9; }
QDockWidget::title { padding: 6px 8px; background: #e9edf2; font-weight: 600; }
QGroupBox { font-weight: 600; border: 1px solid #d7dde5; border-radius: 6px;
            margin-top: 12px; padding: 10px 8px 8px 8px; background: #ffffff; }
QGroupBox QWidget { font-weight: 400; }
QGroupBox::title { subcontrol-origin: margin; left: 10px; padding: 0 4px; color: #34495e; }
QLabel[role="field-error"] { color: #b3261e; font-size: 11px; }
QLabel[role="hint"] { color: #667085; font-size: 11px; }
QLabel[role="column-head"] { color: #667085; font-size: 11px; font-weight: 600; }
QSpinBox[invalid="true"], QComboBox[invalid="true"] { background-color: #fdecea; color: #8c1d18; }
QFrame#TotalCard { background: #ffffff; border: 1px solid #d7dde5; border-radius: 8px; }
QLabel#CardTitle { color: #667085; font-size: 11px; font-weight: 600; }
QLabel#CardValue { color: #101828; font-size: 19px; font-weight: 600; }
QLabel#CardDetail { color: #667085; font-size: 11px; }
QLabel#CardTitle:disabled, QLabel#CardValue:disabled, QLabel#CardDetail:disabled { color: #b0b8c4; }
QLabel#Banner { padding: 8px 12px; border-radius: 6px; }
QLabel#Banner[level="warning"] { background: #fff4e5; border: 1px solid #f0b429; color: #5f370e; }
QLabel#Banner[level="error"] { background: #fdecea; border: 2px solid #d93025; color: #8c1d18;
            font-weight: 600; }
QLabel#Verification[state="ok"] { color: #1e7b34; font-weight: 600; }
QLabel#Verification[state="pending"] { color: #667085; }
QLabel#Verification[state="mismatch"] { color: #ffffff; background: #d93025; font-weight: 700;
            padding: 2px 8px; border-radius: 4px; }
QLabel#Verification[state="unavailable"] { color: #8a6d00; }
QHeaderView::section { background: #eef1f5; padding: 4px 6px; border: none;
            border-right: 1px solid #d7dde5; border-bottom: 1px solid #d7dde5; font-weight: 600; }
QTabWidget::pane { border: 1px solid #d7dde5; border-radius: 4px; background: #ffffff; top: -1px; }
QTabBar::tab { padding: 6px 10px; border: 1px solid #d7dde5; border-bottom: none;
            background: #e9edf2; margin-right: 2px; border-top-left-radius: 4px;
            border-top-right-radius: 4px; }
QTabBar::tab:selected { background: #ffffff; font-weight: 600; }
QStatusBar { background: #e9edf2; }
"""


def apply_style(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#f4f6f9"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f7f9fc"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#1f5fa8"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.ToolTipText, QColor("#101828"))
    app.setPalette(palette)


def styled(widget: W) -> W:
    """``widget`` and everything in it, in the application's style sheet."""
    widget.setStyleSheet(STYLE_SHEET)
    return widget


def style_table(view: QAbstractItemView) -> None:
    """The look the style sheet gives tables, from the palette: white rows, alternate rows
    barely tinted, a light blue selection with dark text."""
    palette = view.palette()
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f7f9fc"))
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        palette.setColor(group, QPalette.ColorRole.Highlight, QColor("#cfe2ff"))
        palette.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#101828"))
    view.setPalette(palette)


def set_style_property(widget: QWidget, name: str, value: object) -> None:
    """Set a property the style sheet selects on; restyle only if it changed (restyling
    costs about half a millisecond, and most edits leave the state as it was)."""
    if widget.property(name) != value:
        widget.setProperty(name, value)
        repolish(widget)


def repolish(widget: object) -> None:
    """Re-apply the style sheet after a dynamic property changed."""
    style = widget.style()  # type: ignore[attr-defined]
    style.unpolish(widget)
    style.polish(widget)
