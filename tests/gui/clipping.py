"""Finding text that a widget shows cut off: labels, buttons and combo boxes narrower (or, for
wrapped labels, shorter) than their text needs, tab bars that hide a tab, and tab pages that
need sideways scrolling."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QCheckBox,
    QComboBox,
    QLabel,
    QPushButton,
    QRadioButton,
    QStyle,
    QStyleOptionButton,
    QStyleOptionComboBox,
    QTabBar,
    QWidget,
)


def _name(widget: QWidget) -> str:
    text = ""
    for getter in ("text", "currentText"):
        if hasattr(widget, getter):
            text = getattr(widget, getter)()
            break
    return f"{type(widget).__name__}({widget.objectName() or text[:40]!r})"


def _label_problem(label: QLabel) -> str | None:
    if not label.text() or (label.pixmap() is not None and not label.pixmap().isNull()):
        return None
    need = label.minimumSizeHint()
    if getattr(label, "elides", False):  # ends in "…" where the width ends
        full = label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
        return (
            None
            if full or label.text() in label.toolTip().replace("\n", " · ")
            else "elided, not in its tooltip"
        )
    if label.wordWrap():
        tall = label.heightForWidth(label.width())
        if label.width() < need.width() or label.height() < tall:
            return f"{label.size().toTuple()} but needs {need.width()} wide, {tall} tall"
        return None
    if label.width() < need.width() or label.height() < need.height():
        return f"{label.size().toTuple()} but needs {need.toTuple()}"
    return None


def _button_problem(button: QAbstractButton) -> str | None:
    text = button.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    if not text:
        return None
    style = button.style()
    words = button.fontMetrics().horizontalAdvance(text)
    if isinstance(button, QPushButton):
        option = QStyleOptionButton()
        button.initStyleOption(option)
        room = style.subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button).width()
        if button.menu() is not None:
            room -= style.pixelMetric(QStyle.PixelMetric.PM_MenuButtonIndicator, option, button)
        if not button.icon().isNull():
            room -= button.iconSize().width() + 4
    elif isinstance(button, QCheckBox | QRadioButton):
        option = QStyleOptionButton()
        button.initStyleOption(option)
        element = (
            QStyle.SubElement.SE_CheckBoxContents
            if isinstance(button, QCheckBox)
            else QStyle.SubElement.SE_RadioButtonContents
        )
        room = style.subElementRect(element, option, button).width()
    else:  # a tool button: as wide as it asks to be
        room, words = button.width(), button.minimumSizeHint().width()
    return f"{room} px for text of {words} px" if room < words else None


def _combo_problem(combo: QComboBox) -> str | None:
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)  # what the box paints: a subclass may shorten the text
    if not option.currentText:
        return None
    field = combo.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, combo
    )
    words = combo.fontMetrics().horizontalAdvance(option.currentText)
    if not option.currentIcon.isNull():
        words += combo.iconSize().width() + 4
    if field.width() < words:
        return f"{field.width()} px for {option.currentText!r} ({words} px)"
    full = combo.currentText()
    if option.currentText != full and full not in combo.toolTip():
        return f"shows {option.currentText!r} without {full!r} in its tooltip"
    return None


def _tab_bar_problem(bar: QTabBar) -> str | None:
    hidden = [bar.tabText(i) for i in range(bar.count()) if not bar.rect().contains(bar.tabRect(i))]
    return f"hides the tabs {hidden}" if hidden else None


def clipped_text(top: QWidget) -> list[str]:
    """Every widget shown in ``top`` whose text does not fit, with what it has and needs."""
    problems = []
    for widget in [top, *top.findChildren(QWidget)]:
        if not widget.isVisibleTo(top) or widget.width() <= 0:
            continue
        problem = None
        if isinstance(widget, QLabel):
            problem = _label_problem(widget)
        elif isinstance(widget, QAbstractButton):
            problem = _button_problem(widget)
        elif isinstance(widget, QComboBox):
            problem = _combo_problem(widget)
        elif isinstance(widget, QTabBar):
            problem = _tab_bar_problem(widget)
        if problem is not None:
            problems.append(f"{_name(widget)}: {problem}")
    return problems


def scrolls_sideways(area: QAbstractScrollArea) -> bool:
    return area.horizontalScrollBar().maximum() > 0


def seen_whole(widget: QWidget) -> bool:
    """``widget`` lies within every widget it is in, up to its window: none of it scrolled or
    pushed out of sight."""
    rect = QRect(widget.mapTo(widget.window(), widget.rect().topLeft()), widget.size())
    parent = widget.parentWidget()
    while parent is not None:
        seen = QRect(parent.mapTo(widget.window(), parent.rect().topLeft()), parent.size())
        if not seen.contains(rect):
            return False
        parent = parent.parentWidget()
    return True


def clipped_plot_titles(top: QWidget) -> list[str]:
    """The titles of pyqtgraph plots in ``top`` wider than their plot."""
    import pyqtgraph as pg

    problems = []
    for view in top.findChildren(pg.GraphicsView):
        if not view.isVisibleTo(top):
            continue
        for item in view.scene().items():
            if isinstance(item, pg.PlotItem) and item.isVisible() and item.titleLabel.text:
                words = item.titleLabel.item.boundingRect().width()
                room = item.boundingRect().width()
                if words > room:
                    problems.append(f"plot title {item.titleLabel.text!r}: {words:.0f} px in {room:.0f}")
    return problems
