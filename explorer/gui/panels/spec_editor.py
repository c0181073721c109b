"""The architecture editor: every field of an ArchSpec, checked as it is typed.

Each change makes a new ``ArchSpec`` from the fields and emits it, or emits the
``SpecError`` that the spec raised; the error is shown under the field it names.
The spin boxes deliberately allow values beyond the valid range so that a bad value
is explained rather than silently clamped.

Each input widget names the ArchSpec field it edits (``FIELD_PROPERTY``) and is placed
with the label that explains its errors; the error map is read from ArchSpec's own
fields, so a field without a widget or a place for its errors shows up in the tests.
"""

from __future__ import annotations

import itertools
from dataclasses import MISSING, fields
from typing import Any, cast

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core import parts
from explorer.core.presets import FAMILIES, preset, preset_name_of, presets_in
from explorer.core.spec import (
    DEFAULT_INPUT_SIDE,
    MAX_STAGES,
    MAX_WIDTH,
    ArchSpec,
    SpecError,
    spec_problems,
)
from explorer.gui.panels.editor_fields import (
    FIELD_PROPERTY,
    ShortenedComboBox,
    SpecDoubleSpinBox,
    StageRow,
    closest_preset,
    combo_box,
    describe_spec_error,
    error_label,
    field_title,
    kind_combo,
    spin_box,
    split_field,
)
from explorer.gui.style import repolish

PRESET_ROLE = Qt.ItemDataRole.UserRole + 1
# Each field's default: what a field that does not apply to the chosen parts is held at.
DEFAULTS: dict[str, Any] = {
    field.name: field.default for field in fields(ArchSpec) if field.default is not MISSING
}
# The fields that may not apply to a spec's parts (those that do not apply to the default's).
DEPENDENT_FIELDS = frozenset(parts.inapplicable_options(ArchSpec()))
# Whole-number fields that take only a few values, from the core's definitions.
NUMBER_CHOICES: dict[str, tuple[int, ...]] = {"output_stride": parts.OUTPUT_STRIDES}
STAGES_AFTER = "Blocks"  # the group the stage table follows: stages are repeated blocks


def _widgets_in_reading_order(layout: QLayout | None) -> list[QWidget]:
    """The widgets of ``layout`` and the layouts and boxes within it, row by row and left to
    right (a grid's items are listed in the order they were added, not by place)."""
    if layout is None:
        return []
    indexes = list(range(layout.count()))
    if isinstance(layout, QGridLayout):
        grid = layout
        indexes.sort(key=lambda i: cast(tuple[int, int, int, int], grid.getItemPosition(i))[:2])
    found: list[QWidget] = []
    for index in indexes:
        item = layout.itemAt(index)
        widget = item.widget() if item is not None else None
        if item is not None and item.layout() is not None:
            found += _widgets_in_reading_order(item.layout())
        elif widget is not None:
            found.append(widget)
            found += _widgets_in_reading_order(widget.layout())
    return found


class SpecEditor(QScrollArea):
    # ArchSpec, or the SpecError the fields raise; and the field typed into ("" for a
    # change of its own, such as a choice in a list), so that typing can be one undo step.
    edited = Signal(object, str)
    typing_finished = Signal()  # the field typed into lost the focus, or Enter was pressed

    def __init__(self, spec: ArchSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._updating = False
        self._origin = closest_preset(spec)
        self._stem = spec.stem
        self.stage_rows: list[StageRow] = []
        self._error_labels: dict[QWidget, QLabel] = {}  # each field's widget -> where its errors show
        self._tooltips: dict[QWidget, str] = {}  # each field's own tooltip, shown while it applies
        self._reasons: dict[str, str] = {}  # the fields that do not apply, with the reason

        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(8, 4, 8, 8)
        column.setSpacing(6)
        column.addWidget(self._preset_box())
        # One box per group of the core's FIELD_GROUPS, the stages after the blocks they repeat.
        self.field_widgets: dict[str, QWidget] = {}
        for title, names in parts.FIELD_GROUPS.items():
            column.addWidget(self._group_box(title, names))
            if title == STAGES_AFTER:
                column.addWidget(self._stages_box())
        column.addWidget(self._input_box())
        column.addStretch(1)
        self.setWidget(body)
        self._body = body
        self.setMinimumWidth(300)

        self._marked: list[QWidget] = []
        self.problems: list[SpecError] = []  # those the fields show
        self._shown_errors: set[QLabel] = set()
        self._fields: dict[QWidget, tuple[str, int | None]] = {}  # the field each widget edits
        self._applied: dict[QWidget, tuple[bool, str]] = {}  # enabled and tooltip, as last set
        self.set_spec(spec)

    # Building the form

    def _preset_box(self) -> QGroupBox:
        box = QGroupBox("Preset")
        self.preset_combo = QComboBox()
        model = QStandardItemModel(self.preset_combo)
        header_font = QFont()
        header_font.setBold(True)
        for family in FAMILIES:
            header = QStandardItem(family.title)
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            header.setFont(header_font)
            header.setForeground(QColor("#1f5fa8"))
            header.setToolTip(family.description)
            model.appendRow(header)
            for name in presets_in(family.key):
                item = QStandardItem("   " + name)
                item.setData(name, PRESET_ROLE)
                item.setToolTip(f"{name}: {family.description}")
                model.appendRow(item)
        self.preset_combo.setModel(model)
        self.preset_combo.setMaxVisibleItems(24)
        self.preset_combo.setToolTip("Start from a published architecture; any edit makes it a custom one")
        self.preset_combo.activated.connect(self._preset_chosen)
        layout = QVBoxLayout(box)
        layout.addWidget(self.preset_combo)
        return box

    def _stages_box(self) -> QGroupBox:
        box = QGroupBox("Stages")
        layout = QVBoxLayout(box)
        self.stage_grid = QGridLayout()
        self.stage_grid.setHorizontalSpacing(6)
        self.stage_grid.setVerticalSpacing(3)
        for column, title in enumerate(("", "Depth", "Width", "Stride")):
            head = QLabel(title)
            head.setProperty("role", "column-head")
            self.stage_grid.addWidget(head, 0, column, Qt.AlignmentFlag.AlignHCenter)
        for column, stretch in enumerate((0, 1, 1, 1)):
            self.stage_grid.setColumnStretch(column, stretch)
        layout.addLayout(self.stage_grid)
        self.stages_error = error_label()
        layout.addWidget(self.stages_error)
        buttons = QHBoxLayout()
        self.add_stage_button = QPushButton("+ Add stage", toolTip="Append a stage (up to 6)")
        self.remove_stage_button = QPushButton("− Remove stage", toolTip="Drop the last stage")
        self.add_stage_button.clicked.connect(self.add_stage)
        self.remove_stage_button.clicked.connect(self.remove_stage)
        buttons.addWidget(self.add_stage_button)
        buttons.addWidget(self.remove_stage_button)
        layout.addLayout(buttons)
        return box

    def _group_box(self, title: str, names: tuple[str, ...]) -> QGroupBox:
        """A box of the fields ``names``, each with its tooltip, their errors shown under them."""
        box = QGroupBox(title)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        widgets = [self._field_widget(name) for name in names]
        for name, widget in zip(names, widgets, strict=True):
            form.addRow(field_title(name), widget)
            self.field_widgets[name] = widget
        if "groups" in names:
            self.bottleneck_hint = QLabel()
            self.bottleneck_hint.setProperty("role", "hint")
            self.bottleneck_hint.setWordWrap(True)
            form.addRow(self.bottleneck_hint)
        group_error = error_label()
        form.addRow(group_error)
        self._explain_in(group_error, *widgets)
        return box

    @staticmethod
    def _field_widget(name: str) -> QWidget:
        tooltip = parts.FIELD_TOOLTIPS.get(name, "")
        if name in parts.FIELD_KINDS:
            combo = kind_combo(name)
            combo.setToolTip(tooltip)
            return combo
        if name in NUMBER_CHOICES:
            combo = combo_box(name, tuple((value, str(value)) for value in NUMBER_CHOICES[name]))
            combo.setToolTip(tooltip)
            return combo
        default = DEFAULTS[name]
        if isinstance(default, bool):
            check = QCheckBox()
            check.setProperty(FIELD_PROPERTY, name)
            check.setToolTip(tooltip)
            return check
        if isinstance(default, float):
            return SpecDoubleSpinBox(name, tooltip)
        return spin_box(name, tooltip)

    # The fields the rest of the editor reads by name.

    @property
    def block_combo(self) -> QComboBox:
        return self._combo("block")

    @property
    def stem_combo(self) -> QComboBox:
        return self._combo("stem")

    @property
    def shortcut_combo(self) -> QComboBox:
        return self._combo("shortcut")

    @property
    def stem_width_spin(self) -> QSpinBox:
        return self._spin("stem_width")

    @property
    def groups_spin(self) -> QSpinBox:
        return self._spin("groups")

    @property
    def width_per_group_spin(self) -> QSpinBox:
        return self._spin("width_per_group")

    @property
    def zero_init_check(self) -> QCheckBox:
        widget = self.field_widgets["zero_init_residual"]
        assert isinstance(widget, QCheckBox)
        return widget

    def _combo(self, name: str) -> QComboBox:
        widget = self.field_widgets[name]
        assert isinstance(widget, QComboBox)
        return widget

    def _spin(self, name: str) -> QSpinBox:
        widget = self.field_widgets[name]
        assert isinstance(widget, QSpinBox)
        return widget

    def _input_box(self) -> QGroupBox:
        box = QGroupBox("Input and head")
        form = QFormLayout(box)
        self.channels_spin = spin_box("in_channels", "input channels (3 for RGB)", 999)
        self.height_spin = spin_box("input_size[0]", "input height in pixels")
        self.width_spin = spin_box("input_size[1]", "input width in pixels")
        shape = QHBoxLayout()
        shape.setSpacing(4)
        for i, spin in enumerate((self.channels_spin, self.height_spin, self.width_spin)):
            if i:
                shape.addWidget(QLabel("×"))
            shape.addWidget(spin, 1)
        self.input_error = error_label()
        self.classes_spin = spin_box(
            "num_classes", "outputs of the final linear layer; 0 for pooled features", 9_999_999
        )
        self.classes_spin.setSpecialValueText("none")
        self.classes_error = error_label()
        form.addRow("Input C×H×W", shape)
        form.addRow(self.input_error)
        form.addRow("Classes", self.classes_spin)
        form.addRow(self.classes_error)
        self._explain_in(self.input_error, self.channels_spin, self.height_spin, self.width_spin)
        self._explain_in(self.classes_error, self.classes_spin)
        return box

    # Stages

    def _set_stage_count(self, count: int, spec_values: list[tuple[int, int, int]]) -> None:
        while len(self.stage_rows) > count:
            row = self.stage_rows.pop()
            for spin in row.spins():
                del self._error_labels[spin]
                del self._tooltips[spin]
                self._fields.pop(spin, None)
                self._applied.pop(spin, None)
            for widget in row.widgets():
                self.stage_grid.removeWidget(widget)
                widget.hide()
                widget.deleteLater()
        while len(self.stage_rows) < count:
            index = len(self.stage_rows)
            depth, width, stride = spec_values[index]
            row = StageRow(self.stage_grid, index, depth, width, stride)
            self._explain_in(self.stages_error, *row.spins())
            self.stage_rows.append(row)
        self.add_stage_button.setEnabled(count < MAX_STAGES)
        self.remove_stage_button.setEnabled(count > 1)
        self._order_tabs()

    def _order_tabs(self) -> None:
        """Tab goes through the form as it reads, top to bottom: a stage's fields are made
        after the rest of the form, and would otherwise come last."""
        fields = [
            w
            for w in _widgets_in_reading_order(self._body.layout())
            if w.focusPolicy() & Qt.FocusPolicy.TabFocus
        ]
        for before, after in itertools.pairwise(fields):
            QWidget.setTabOrder(before, after)

    def add_stage(self) -> None:
        if len(self.stage_rows) >= MAX_STAGES:
            return
        last = self.stage_rows[-1]
        new = (2, min(max(last.width.value(), 1) * 2, MAX_WIDTH), 2)
        self._set_stage_count(len(self.stage_rows) + 1, [(0, 0, 0)] * len(self.stage_rows) + [new])
        self._changed()

    def remove_stage(self) -> None:
        if len(self.stage_rows) <= 1:
            return
        self._set_stage_count(len(self.stage_rows) - 1, [])
        self._changed()

    # Spec <-> fields

    def _explain_in(self, label: QLabel, *widgets: QWidget) -> None:
        """Place the errors of ``widgets``' fields in ``label``, and follow their changes."""
        for widget in widgets:
            self._error_labels[widget] = label
            own = widget.own_tooltip() if isinstance(widget, ShortenedComboBox) else widget.toolTip()
            self._tooltips[widget] = own
            if isinstance(widget, (QSpinBox, QDoubleSpinBox)):
                widget.valueChanged.connect(self._changed)
                widget.editingFinished.connect(self.typing_finished)
            elif isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._changed)
            elif isinstance(widget, QCheckBox):
                widget.toggled.connect(self._changed)

    def set_spec(self, spec: ArchSpec, keep_origin: bool = False) -> None:
        """Show ``spec`` in the fields without emitting ``edited``.

        ``keep_origin``: the spec is a step back or forward in this document's history,
        so "custom (from X)" keeps its X rather than naming the preset closest to the step.
        """
        self._updating = True
        try:
            # The rows stay (values changed in place), so a field keeps the focus through an undo.
            values = list(zip(spec.depths, spec.stage_widths, spec.stage_strides, strict=True))
            self._set_stage_count(spec.num_stages, values)
            for row, (depth, width, stride) in zip(self.stage_rows, values, strict=True):
                row.depth.setValue(depth)
                row.width.setValue(width)
                row.stride.setValue(stride)
            channels, height, width = spec.input_shape
            self.channels_spin.setValue(channels)
            self.height_spin.setValue(height)
            self.width_spin.setValue(width)
            self.classes_spin.setValue(spec.num_classes)
            for name, widget in self.field_widgets.items():
                self._show_value(widget, getattr(spec, name))
            self._stem = spec.stem
            if not keep_origin:
                self._origin = closest_preset(spec)
            self._update_bottleneck_fields()
            self.show_error(None)
            self._update_caption(spec)
        finally:
            self._updating = False

    def field_values(self) -> dict[str, Any]:
        """The fields as ArchSpec keyword arguments (defaults left as ``None``)."""
        depths = tuple(row.depth.value() for row in self.stage_rows)
        widths = tuple(row.width.value() for row in self.stage_rows)
        strides = tuple(row.stride.value() for row in self.stage_rows)
        stem = self.stem_combo.currentData()
        size = (self.height_spin.value(), self.width_spin.value())
        values = {
            "depths": depths,
            "widths": None if widths == tuple(64 * 2**i for i in range(len(depths))) else widths,
            "strides": None if strides == tuple(1 if i == 0 else 2 for i in range(len(depths))) else strides,
            "in_channels": self.channels_spin.value(),
            "num_classes": self.classes_spin.value(),
            "input_size": None if size == (DEFAULT_INPUT_SIDE[stem],) * 2 else size,
        }
        for name, widget in self.field_widgets.items():
            values[name] = self._value_of(widget)
        return values

    @staticmethod
    def _value_of(widget: QWidget) -> Any:
        if isinstance(widget, QComboBox):
            return widget.currentData()
        if isinstance(widget, SpecDoubleSpinBox):
            return widget.exact_value()
        if isinstance(widget, QSpinBox):
            return widget.value()
        if isinstance(widget, QCheckBox):
            return widget.isChecked()
        raise TypeError(f"no value for {type(widget).__name__}")

    @staticmethod
    def _show_value(widget: QWidget, value: Any) -> None:
        # A spin box given the value it shows repaints all the same: each edit would repaint
        # every field held at its default (and, under a style sheet, the box around it).
        if isinstance(widget, QComboBox):
            widget.setCurrentIndex(widget.findData(value))
        elif isinstance(widget, SpecDoubleSpinBox):
            if widget.exact_value() != value:
                widget.set_exact(value)
        elif isinstance(widget, QSpinBox):
            if widget.value() != value:
                widget.setValue(value)
        elif isinstance(widget, QCheckBox):
            widget.setChecked(value)

    def current(self) -> ArchSpec | SpecError:
        try:
            return ArchSpec(**self.field_values())
        except SpecError as exc:
            return exc

    def _changed(self) -> None:
        if self._updating:
            return
        self._updating = True
        try:
            self._follow_stem_default()
            self._update_bottleneck_fields()
        finally:
            self._updating = False
        result = self.current()
        if isinstance(result, SpecError):
            # Every field that is wrong says why, not only the first the spec found.
            self.show_errors(spec_problems(**self.field_values()))
        else:
            self.show_error(None)
            self._update_caption(result)
        sender = self.sender()
        typed = isinstance(sender, QAbstractSpinBox) and sender in self._error_labels
        self.edited.emit(result, str(sender.property(FIELD_PROPERTY)) if typed else "")

    def _follow_stem_default(self) -> None:
        stem = self.stem_combo.currentData()
        if stem == self._stem:
            return
        old_side = DEFAULT_INPUT_SIDE[self._stem]
        if (self.height_spin.value(), self.width_spin.value()) == (old_side, old_side):
            self.height_spin.setValue(DEFAULT_INPUT_SIDE[stem])
            self.width_spin.setValue(DEFAULT_INPUT_SIDE[stem])
        self._stem = stem

    def _inapplicable(self, values: dict[str, Any]) -> dict[str, str] | None:
        """The fields the chosen parts do not use, with the reason; ``None`` when the other
        fields do not make a spec to ask."""
        try:
            probe = ArchSpec(**{**values, **{name: DEFAULTS[name] for name in DEPENDENT_FIELDS}})
        except SpecError:
            return None
        reasons = parts.inapplicable_options(probe)
        try:
            return parts.inapplicable_options(
                ArchSpec(**{**values, **{name: DEFAULTS[name] for name in reasons}})
            )
        except SpecError:
            return reasons

    def _update_applicable(self) -> None:
        """Hold the fields that do not apply at their defaults, disabled, the reason their tooltip."""
        reasons = self._inapplicable(self.field_values())
        if reasons is not None:
            self._reasons = reasons
        for widget, tooltip in self._tooltips.items():
            name, index = self._field_of(widget)
            reason = self._reasons.get(name) if index is None else None
            if reason is not None:
                self._show_value(widget, DEFAULTS[name])
                tooltip = f"Does not apply: {reason}"
            elif isinstance(widget, QComboBox) and name in parts.FIELD_KINDS and not tooltip:
                tooltip = parts.FIELD_KINDS[name][widget.currentData()].tooltip
            state = (reason is None, tooltip)
            if self._applied.get(widget) != state:  # most edits change none of them
                self._applied[widget] = state
                widget.setEnabled(state[0])
                widget.setToolTip(tooltip)

    def _field_of(self, widget: QWidget) -> tuple[str, int | None]:
        field = self._fields.get(widget)
        if field is None:
            field = self._fields[widget] = split_field(str(widget.property(FIELD_PROPERTY)))
        return field

    def _update_bottleneck_fields(self) -> None:
        self._update_applicable()
        bottleneck = parts.BLOCKS[self.block_combo.currentData()].bottleneck
        groups, per_group = self.groups_spin.value(), self.width_per_group_spin.value()
        if not bottleneck:
            self.bottleneck_hint.setText("Only the bottleneck block has groups and a width per group.")
        elif (groups, per_group) == (1, 64):
            self.bottleneck_hint.setText("Plain bottleneck (ResNet-50 style).")
        else:
            width = self.stage_rows[0].width.value() if self.stage_rows else 64
            inner = width * per_group // 64 * groups
            self.bottleneck_hint.setText(
                f"Inner width of layer1: {width} × {per_group}/64 × {groups} = {inner}"
            )

    # Errors and the preset caption

    def show_error(self, error: SpecError | None) -> None:
        self.show_errors([] if error is None else [error])

    def show_errors(self, problems: list[SpecError]) -> None:
        """Mark the fields of ``problems``, each explained under its field (none: clear them)."""
        self.problems = list(problems)
        for label in self._shown_errors:
            label.hide()
        self._shown_errors = set()
        for widget in self._marked:
            widget.setProperty("invalid", False)
            repolish(widget)
        self._marked = []
        explained: dict[QLabel, list[str]] = {}
        placed = self.errors
        for problem in problems:
            name, index = split_field(problem.field)
            label = placed.get(name, self.classes_error)  # "file" and the like: not one field's
            explained.setdefault(label, []).append("⚠ " + describe_spec_error(problem))
            for widget in self._widgets_of(name, index):
                widget.setProperty("invalid", True)
                repolish(widget)
                self._marked.append(widget)
        for label, lines in explained.items():
            label.setText("\n".join(lines))
            label.show()
            self._shown_errors.add(label)

    def _widgets_of(self, name: str, index: int | None = None) -> list[QWidget]:
        """The widgets that edit the field ``name`` (only its item ``index``, if given)."""
        found = []
        for widget in self._error_labels:
            field, position = self._field_of(widget)
            if field == name and (index is None or position is None or position == index):
                found.append(widget)
        return found

    @property
    def errors(self) -> dict[str, QLabel]:
        """Where the errors of each ArchSpec field show (a field missing here has no widget)."""
        placed = {}
        for field in fields(ArchSpec):
            widgets = self._widgets_of(field.name)
            if widgets:
                placed[field.name] = self._error_labels[widgets[0]]
        return placed

    def _update_caption(self, spec: ArchSpec) -> None:
        name = preset_name_of(spec)
        if name is not None:
            self._origin = name
            for row in range(self.preset_combo.count()):
                if self.preset_combo.itemData(row, PRESET_ROLE) == name:
                    self.preset_combo.setCurrentIndex(row)
                    break
        else:
            self.preset_combo.setPlaceholderText(f"custom (from {self._origin})")
            self.preset_combo.setCurrentIndex(-1)

    def preset_caption(self) -> str:
        """What the preset picker shows: a preset's name or "custom (from ...)"."""
        if self.preset_combo.currentIndex() < 0:
            return self.preset_combo.placeholderText()
        return str(self.preset_combo.currentData(PRESET_ROLE))

    def _preset_chosen(self, row: int) -> None:
        name = self.preset_combo.itemData(row, PRESET_ROLE)
        if not name:
            return
        spec = preset(name)
        self._origin = name
        self.set_spec(spec)
        self.edited.emit(spec, "")
