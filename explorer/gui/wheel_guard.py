"""The wheel scrolls what a person is scrolling: a value field it passes over stays as it is.

Qt gives a combo box or a spin box the wheel (and the focus) whenever the pointer is over
it, so scrolling a form changed whichever field happened to pass under the pointer. One
filter on the application applies the rule to every such field, in every panel: inside a
scrolling area, a field takes the wheel only once it has the focus (a click, or Tab);
otherwise the wheel goes on to the area, which scrolls.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

VALUE_FIELDS = (QComboBox, QAbstractSpinBox)


def in_scrolling_area(widget: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


class WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Polish and isinstance(watched, VALUE_FIELDS):
            # Qt's default for these, WheelFocus, hands them the focus on the first turn of
            # the wheel, before any filter sees it: the focus comes by a click or Tab instead.
            if watched.focusPolicy() == Qt.FocusPolicy.WheelFocus:
                watched.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        elif (
            kind == QEvent.Type.Wheel
            and isinstance(watched, VALUE_FIELDS)
            and not watched.hasFocus()
            and in_scrolling_area(watched)
        ):
            event.ignore()  # not taken: Qt passes the wheel on to the parents, up to the area
            return True
        return False


_guard: WheelGuard | None = None


def guard_the_wheel(app: QApplication) -> WheelGuard:
    """Apply the rule to every field of ``app``'s windows (once, however often called)."""
    global _guard
    if _guard is None:
        _guard = WheelGuard()
        app.installEventFilter(_guard)
    return _guard
