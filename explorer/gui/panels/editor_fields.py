"""The editor's building blocks: its fields, and what a SpecError means in its words."""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QSpinBox, QWidget

from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.spec import ArchSpec, SpecError

_FIELD = re.compile(r"(?P<name>[a-z_]+)(?:\[(?P<index>\d+)\])?")


def spin_box(low: int, high: int, tooltip: str = "") -> QSpinBox:
    spin = QSpinBox(minimum=low, maximum=high, toolTip=tooltip)
    spin.setAccelerated(True)
    spin.setAlignment(Qt.AlignmentFlag.AlignRight)
    # Scrolling the dock must not change a value the pointer happens to pass over.
    spin.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    spin.installEventFilter(_WHEEL_GUARD)
    return spin


class _WheelGuard(QObject):
    """Lets the wheel change a spin box only once it has the focus; otherwise the
    wheel scrolls the editor, as a person scrolling past the fields expects."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False


_WHEEL_GUARD = _WheelGuard()


def combo_box(items: tuple[tuple[str, str], ...]) -> QComboBox:
    combo = QComboBox()
    for value, label in items:
        combo.addItem(label, value)
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


class StageRow:
    def __init__(self, grid: QGridLayout, index: int, depth: int, width: int, stride: int) -> None:
        self.label = QLabel(f"layer{index + 1}")
        self.depth = spin_box(0, 9999, "blocks in this stage (1 to 512)")
        self.width = spin_box(
            0, 99999, "base width: a basic block outputs this many channels, a bottleneck 4x"
        )
        self.stride = spin_box(0, 9, "stride of the stage's first block (1 to 4)")
        self.depth.setValue(depth)
        self.width.setValue(width)
        self.stride.setValue(stride)
        for column, widget in enumerate((self.label, self.depth, self.width, self.stride)):
            grid.addWidget(widget, index + 1, column)

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.label, self.depth, self.width, self.stride)
