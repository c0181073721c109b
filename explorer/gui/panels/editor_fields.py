"""The editor's building blocks: its fields, and what a SpecError means in its words."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QSpinBox,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionSpinBox,
    QStylePainter,
    QWidget,
)

from explorer.core import parts
from explorer.core.presets import PRESET_NAMES, preset, preset_name_of
from explorer.core.spec import ArchSpec, SpecError

_FIELD = re.compile(r"(?P<name>[a-z_]+)(?:\[(?P<index>\d+)\])?")


FIELD_PROPERTY = "spec_field"  # the ArchSpec field a widget edits: "stem_width", "depths[1]"
LARGEST_TYPED = 2**31 - 1  # the most a QSpinBox holds


SPIN_TEXT_PADDING = 8  # the text cursor and the edit field's margins


class SpecSpinBox(QSpinBox):
    """A whole-number field that keeps any value typed, so that the spec says what is out
    of range: a maximum in the widget would drop the keystroke that crosses it, silently."""

    def __init__(self, field: str, tooltip: str, widest: int) -> None:
        super().__init__(minimum=0, maximum=LARGEST_TYPED, toolTip=tooltip)
        self.setProperty(FIELD_PROPERTY, field)
        self._widest = widest
        self.setAccelerated(True)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.installEventFilter(_FIELD_GUARD)

    # As wide as the values that make sense, not as wide as LARGEST_TYPED.
    def sizeHint(self) -> QSize:
        return self._narrowed(super().sizeHint())

    def minimumSizeHint(self) -> QSize:
        return self._narrowed(super().minimumSizeHint())

    def _narrowed(self, size: QSize) -> QSize:
        # Worked out here rather than trimmed from Qt's hint, whose padding differs between
        # Qt releases (6.11 adds 16 pixels more than 6.12): the editor keeps one width.
        option = QStyleOptionSpinBox()
        self.initStyleOption(option)
        style = self.style()
        buttons = style.subControlRect(
            QStyle.ComplexControl.CC_SpinBox, option, QStyle.SubControl.SC_SpinBoxUp, self
        ).width()
        frame = style.pixelMetric(QStyle.PixelMetric.PM_SpinBoxFrameWidth, option, self)
        text = self.fontMetrics().horizontalAdvance(str(self._widest))
        return QSize(text + buttons + 2 * frame + SPIN_TEXT_PADDING, size.height())


def spin_box(field: str, tooltip: str = "", widest: int = 99999) -> SpecSpinBox:
    return SpecSpinBox(field, tooltip, widest)


class SpecDoubleSpinBox(QDoubleSpinBox):
    """A fraction field (0 to 1) that gives back a spec's exact value while it is shown
    unchanged, so that a ratio such as 1/16 or 1/3 survives the box's rounding."""

    def __init__(self, field: str, tooltip: str) -> None:
        super().__init__(minimum=0.0, maximum=1.0, decimals=4, singleStep=0.01, toolTip=tooltip)
        self.setProperty(FIELD_PROPERTY, field)
        self.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.installEventFilter(_FIELD_GUARD)
        self._exact: float | None = None

    def set_exact(self, value: float) -> None:
        self._exact = value
        self.setValue(value)

    def exact_value(self) -> float:
        shown = self.value()
        if self._exact is not None and round(self._exact, self.decimals()) == shown:
            return self._exact
        return shown


class _FieldGuard(QObject):
    """Leaves Undo and Redo to the window: a spin box's own undo steps back one keystroke of
    its text. (The wheel over a field: explorer.gui.wheel_guard.)"""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and (event.matches(QKeySequence.StandardKey.Undo) or event.matches(QKeySequence.StandardKey.Redo))
        ):
            event.ignore()  # not taken here: the key goes on to the window's Undo or Redo
            return True
        return False


_FIELD_GUARD = _FieldGuard()


def combo_box(field: str, items: tuple[tuple[object, str], ...]) -> QComboBox:
    combo = QComboBox()
    combo.setProperty(FIELD_PROPERTY, field)
    for value, label in items:
        combo.addItem(label, value)
    return combo


DETAILS_SEPARATOR = "  ("  # "bottleneck  (1x1, 3x3, 1x1, x4)": the name, then its details


class ShortenedComboBox(QComboBox):
    """A combo box whose closed box shows as much of its choice as fits: the whole label,
    else the name before its details in brackets, else the name elided; the open list and
    the tooltip always show the whole label."""

    def __init__(self) -> None:
        super().__init__()
        self._own_tooltip = ""
        self.currentIndexChanged.connect(lambda _index: self._show_tooltip())

    def setToolTip(self, text: str) -> None:
        """The field's own tooltip, shown after the whole label of the current choice."""
        self._own_tooltip = text
        self._show_tooltip()

    def own_tooltip(self) -> str:
        return self._own_tooltip

    def _show_tooltip(self) -> None:
        lines = [self.currentText(), self._own_tooltip]
        super().setToolTip(" — ".join(line for line in lines if line))

    def shown_text(self, width: int) -> str:
        """What the closed box shows of the current label in ``width`` pixels."""
        full = self.currentText()
        metrics = self.fontMetrics()
        if metrics.horizontalAdvance(full) <= width:
            return full
        name = full.split(DETAILS_SEPARATOR, 1)[0]
        return metrics.elidedText(name, Qt.TextElideMode.ElideRight, width)

    def initStyleOption(self, option: QStyleOptionComboBox) -> None:
        super().initStyleOption(option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        option.currentText = self.shown_text(field.width())

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)


def kind_combo(field: str) -> QComboBox:
    """A choice of the kinds of part that ``field`` picks, each with its label and tooltip
    from its definition in explorer.core.parts."""
    combo = ShortenedComboBox()
    combo.setProperty(FIELD_PROPERTY, field)
    for key, kind in parts.FIELD_KINDS[field].items():
        combo.addItem(kind.label, key)
        combo.setItemData(combo.count() - 1, kind.tooltip, Qt.ItemDataRole.ToolTipRole)
    # A long label shows in the open list; the closed box must not widen the editor's dock.
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(18)
    return combo


def error_label() -> QLabel:
    label = QLabel()
    label.setProperty("role", "field-error")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def closest_preset(spec: ArchSpec) -> str:
    """The preset that differs from ``spec`` in the fewest fields (the first on a tie)."""
    same = preset_name_of(spec)
    if same is not None:  # found without making every preset (an anti-aliased one is analysed)
        return same
    fields = spec.to_dict()

    def distance(name: str) -> int:
        other = preset(name).to_dict()
        return sum(1 for key, value in fields.items() if other.get(key) != value)

    return min(PRESET_NAMES, key=distance)


def split_field(field: str) -> tuple[str, int | None]:
    """``"depths[2]"`` -> ``("depths", 2)``; ``"stem"`` -> ``("stem", None)``."""
    match = _FIELD.fullmatch(field)
    if not match:
        return field, None
    index = match.group("index")
    return match.group("name"), int(index) if index is not None else None


def describe_spec_error(error: SpecError) -> str:
    """The error in the editor's own words: "layer2 depth: must be >= 1, ..."."""
    name, index = split_field(error.field)
    titles = {"depths": "depth", "widths": "width", "strides": "stride"}
    if name in titles and index is not None:
        return f"layer{index + 1} {titles[name]}: {error.reason}"
    if name == "input_size" and index is not None:
        return f"input {('height', 'width')[index]}: {error.reason}"
    return f"{name.replace('_', ' ')}: {error.reason}"


# Field names that read wrongly once capitalised.
_TITLES = {
    "se_ratio": "SE ratio",
    "anti_alias": "Anti-aliasing",
    "stride_on": "Stride on",
    "zero_init_residual": "Zero-init residual",
}


def field_title(name: str) -> str:
    """``"stem_pool"`` -> ``"Stem pool"``: a field's name as the form labels it."""
    return _TITLES.get(name, name.replace("_", " ").capitalize())


class StageRow:
    def __init__(self, grid: QGridLayout, index: int, depth: int, width: int, stride: int) -> None:
        self.label = QLabel(f"layer{index + 1}")
        self.depth = spin_box(f"depths[{index}]", "blocks in this stage (1 to 512)", 9999)
        self.width = spin_box(
            f"widths[{index}]", "base width: a basic block outputs this many channels, a bottleneck 4x"
        )
        self.stride = spin_box(f"strides[{index}]", "stride of the stage's first block (1 to 4)", 9)
        self.depth.setValue(depth)
        self.width.setValue(width)
        self.stride.setValue(stride)
        for column, widget in enumerate((self.label, self.depth, self.width, self.stride)):
            grid.addWidget(widget, index + 1, column)

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.label, self.depth, self.width, self.stride)

    def spins(self) -> tuple[SpecSpinBox, ...]:
        return (self.depth, self.width, self.stride)
