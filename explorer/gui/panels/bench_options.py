"""The Benchmark tab's run options: what to time (a forward pass or a training step, with its
optimizer and mixed precision), device, batch, precision, layout, compile, timing, threads."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.core import benchtypes
from explorer.core.bench import sweep_batch_sizes
from explorer.core.benchtypes import DTYPES, OPTIMIZERS, BenchConfig
from explorer.core.machine import DeviceChoice, Machine

SETTINGS_GROUP = "benchmark/"
MODE_LABELS = {"inference": "Inference", "train": "Training"}


class BenchOptions(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.device_box = QComboBox(toolTip="Where the model runs")
        # The row is as wide as the column; the popup and the tooltip show the full names.
        self.device_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_box.setMinimumContentsLength(8)
        self.device_box.addItem("finding devices…")
        self.device_box.setEnabled(False)
        self.device_box.currentIndexChanged.connect(lambda _index: self._device_changed())
        self.mode_box = QComboBox(
            toolTip="Inference: a forward pass in eval mode. Training: a whole step "
            "(forward, cross-entropy loss, backward, optimizer step) in train mode"
        )
        for mode, label in MODE_LABELS.items():
            self.mode_box.addItem(label, mode)
        self.mode_box.currentIndexChanged.connect(lambda _index: self._mode_changed())
        self.optimizer_box = QComboBox(
            toolTip="The training step's update; sgd-momentum is SGD with momentum 0.9"
        )
        self.optimizer_box.addItems(list(OPTIMIZERS))
        self.optimizer_box.setCurrentText(BenchConfig().optimizer)
        self.amp_box = QCheckBox(
            "mixed precision",
            toolTip="Autocast: float16 with a GradScaler on CUDA, float16 on MPS, bfloat16 on the CPU; "
            "the weights stay float32",
        )
        self.batch_box = QSpinBox(minimum=1, maximum=65536, value=1, toolTip="Images a forward pass or step")
        self.dtype_box = QComboBox(toolTip="float16 and bfloat16 run through autocast")
        self.dtype_box.addItems(list(DTYPES))
        self.channels_last_box = QCheckBox("channels_last", toolTip="NHWC memory layout for model and input")
        self.compile_box = QCheckBox("torch.compile", toolTip="Compile the model first (slow first passes)")
        self.isolated_box = QCheckBox(
            "fresh for each run",
            toolTip="Run in a new worker process of its own, ended afterwards: nothing left over from "
            "earlier runs, and the peak memory is that process's own (slower to start: torch loads again)",
        )
        self.warmup_box = QSpinBox(
            minimum=0,
            maximum=benchtypes.MAX_WARMUP,
            value=benchtypes.DEFAULT_WARMUP,
            toolTip="Untimed passes first",
        )
        self.iterations_box = QSpinBox(
            minimum=1,
            maximum=benchtypes.MAX_ITERATIONS,
            value=benchtypes.DEFAULT_ITERATIONS,
            toolTip="Timed passes",
        )
        self.min_time_box = QDoubleSpinBox(
            minimum=0.0, maximum=benchtypes.MAX_MIN_TIME_S, value=0.0, decimals=1, singleStep=0.5, suffix=" s"
        )
        self.min_time_box.setSpecialValueText("off")
        self.min_time_box.setToolTip("Go on timing until the timed passes add up to this long")
        self.threads_box = QSpinBox(
            minimum=0, maximum=benchtypes.MAX_THREADS, value=0, toolTip="torch's CPU thread count"
        )
        self.threads_box.setSpecialValueText("torch default")
        self.sweep_limit_box = QSpinBox(
            minimum=1, maximum=65536, value=64, toolTip="The sweep's largest batch"
        )
        self.sweep_limit_box.valueChanged.connect(lambda _value: self._update_sweep_hint())
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setVerticalSpacing(6)
        form.addRow(QLabel("Device"))
        form.addRow(self.device_box)
        form.addRow("Time", self.mode_box)
        self.optimizer_label = QLabel("Optimizer")
        form.addRow(self.optimizer_label, self.optimizer_box)
        form.addRow("", self.amp_box)
        for label, widget in (
            ("Batch size", self.batch_box),
            ("Precision", self.dtype_box),
            ("Layout", self.channels_last_box),
            ("Compile", self.compile_box),
            ("Process", self.isolated_box),
            ("Warm-up", self.warmup_box),
            ("Iterations", self.iterations_box),
            ("At least", self.min_time_box),
            ("CPU threads", self.threads_box),
            ("Sweep up to", self.sweep_limit_box),
        ):
            form.addRow(label, widget)
        self.sweep_hint = QLabel(objectName="Hint", wordWrap=True)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(form)
        column.addWidget(self.sweep_hint)
        self._update_sweep_hint()
        self._settings: QSettings | None = None
        self._group = SETTINGS_GROUP
        self._wanted_device = ""  # a remembered device, chosen once the devices are found
        self._wanted_dtype = ""
        # Mixed precision is a training step's choice: unticked in inference, restored in training.
        self._amp_wanted = False
        self.amp_box.toggled.connect(self._amp_toggled)
        self._mode_changed()
        for key, box in self._remembered().items():
            signal = box.toggled if isinstance(box, QCheckBox) else box.valueChanged
            signal.connect(lambda _value, key=key: self._store(key))
        self.device_box.currentIndexChanged.connect(lambda _index: self._store("device"))
        self.dtype_box.currentIndexChanged.connect(lambda _index: self._store("dtype"))
        self.mode_box.currentIndexChanged.connect(lambda _index: self._store("mode"))
        self.optimizer_box.currentIndexChanged.connect(lambda _index: self._store("optimizer"))

    def _amp_toggled(self, checked: bool) -> None:
        if self.training():  # inference's unticked box is no choice of the person's
            self._amp_wanted = checked
            self._store("amp")

    def _remembered(self) -> dict[str, QSpinBox | QDoubleSpinBox | QCheckBox]:
        return {
            "batch_size": self.batch_box,
            "channels_last": self.channels_last_box,
            "compile": self.compile_box,
            "isolated": self.isolated_box,
            "warmup": self.warmup_box,
            "iterations": self.iterations_box,
            "min_time_s": self.min_time_box,
            "threads": self.threads_box,
            "sweep_limit": self.sweep_limit_box,
        }

    def use_settings(self, settings: QSettings, group: str = SETTINGS_GROUP) -> None:
        """Show the options stored in ``settings`` under ``group`` and store every later change there."""
        self._group = group
        self._settings = None  # what is read back is not written again
        for key, box in self._remembered().items():
            stored = settings.value(self._group + key)
            if stored is None:
                continue
            if isinstance(box, QCheckBox):
                box.setChecked(str(stored).lower() == "true")
            elif isinstance(box, QSpinBox):
                with contextlib.suppress(
                    TypeError, ValueError, OverflowError
                ):  # hand-edited: keep the default
                    box.setValue(int(float(stored)))  # spin boxes clamp to their range
            else:
                with contextlib.suppress(TypeError, ValueError):
                    box.setValue(float(stored))
        self._amp_wanted = str(settings.value(self._group + "amp", "false")).lower() == "true"
        mode = self.mode_box.findData(str(settings.value(self._group + "mode", "") or ""))
        if mode >= 0:
            self.mode_box.setCurrentIndex(mode)
        self._mode_changed()
        optimizer = str(settings.value(self._group + "optimizer", "") or "")
        if optimizer in OPTIMIZERS:
            self.optimizer_box.setCurrentText(optimizer)
        self._wanted_device = str(settings.value(self._group + "device", "") or "")
        self._wanted_dtype = str(settings.value(self._group + "dtype", "") or "")
        self._choose_wanted()
        self._settings = settings

    def _choose_wanted(self) -> None:
        """The remembered device and precision, once the devices are known (where still offered)."""
        if self.device() is None:
            return
        if self._wanted_device:
            self.select_device(self._wanted_device)
        device = self.device()
        if device is not None and self._wanted_dtype in device.dtypes:
            self.dtype_box.setCurrentText(self._wanted_dtype)
        self._wanted_device = self._wanted_dtype = ""

    def _store(self, key: str) -> None:
        if self._settings is None:
            return
        if key == "device":
            device = self.device()
            if device is not None:
                self._settings.setValue(self._group + key, device.key)
        elif key == "dtype":
            self._settings.setValue(self._group + key, self.dtype_box.currentText())
        elif key == "mode":
            self._settings.setValue(self._group + key, self.mode())
        elif key == "optimizer":
            self._settings.setValue(self._group + key, self.optimizer_box.currentText())
        elif key == "amp":
            self._settings.setValue(self._group + key, self._amp_wanted)
        else:
            box = self._remembered()[key]
            value = box.isChecked() if isinstance(box, QCheckBox) else box.value()
            self._settings.setValue(self._group + key, value)

    def show_machine(self, machine: Machine) -> None:
        # Filling the list in is not the person's choice: nothing is stored meanwhile.
        settings, self._settings = self._settings, None
        self.device_box.blockSignals(True)
        self.device_box.clear()
        for device in machine.devices:
            self.device_box.addItem(device.label, device)
            self.device_box.setItemData(
                self.device_box.count() - 1, device.full_label, Qt.ItemDataRole.ToolTipRole
            )
        self.device_box.blockSignals(False)
        self.device_box.view().setMinimumWidth(self.device_box.view().sizeHintForColumn(0) + 24)
        self.device_box.setEnabled(True)
        self.threads_box.setMaximum(max(machine.cpu_count, machine.default_threads))
        self.threads_box.setSpecialValueText(f"torch default ({machine.default_threads})")
        self._device_changed()
        self._choose_wanted()
        self._settings = settings

    def show_no_devices(self) -> None:
        self.device_box.setItemText(0, "no devices")

    def device(self) -> DeviceChoice | None:
        data = self.device_box.currentData()
        return data if isinstance(data, DeviceChoice) else None

    def select_device(self, key: str) -> None:
        for index in range(self.device_box.count()):
            data = self.device_box.itemData(index)
            if isinstance(data, DeviceChoice) and data.key == key:
                self.device_box.setCurrentIndex(index)

    def _device_changed(self) -> None:
        device = self.device()
        if device is None:
            return
        self.device_box.setToolTip(f"Where the model runs: {device.full_label}")
        model = self.dtype_box.model()
        assert isinstance(model, QStandardItemModel)
        for row, dtype in enumerate(DTYPES):
            item = model.item(row)
            supported = dtype in device.dtypes
            item.setEnabled(supported)
            item.setToolTip("" if supported else f"Not on {device.key}: {device.reason(dtype)}")
        if self.dtype_box.currentText() not in device.dtypes:
            self.dtype_box.setCurrentText(device.dtypes[0])

    def mode(self) -> str:
        return str(self.mode_box.currentData())

    def training(self) -> bool:
        return self.mode() == "train"

    def _mode_changed(self) -> None:
        """A training step keeps float32 weights: its precision is the mixed-precision switch."""
        training = self.training()
        self.optimizer_box.setEnabled(training)
        self.amp_box.setEnabled(training)
        self.amp_box.setChecked(training and self._amp_wanted)
        self.dtype_box.setEnabled(not training)
        self.dtype_box.setToolTip(
            "A training step's weights stay float32: choose mixed precision instead"
            if training
            else "float16 and bfloat16 run through autocast"
        )

    def config(self) -> BenchConfig:
        """The configuration on show (raises BenchError for one that cannot be)."""
        device = self.device()
        min_time = self.min_time_box.value()
        training = self.training()
        return BenchConfig(
            device=device.key if device is not None else "auto",
            batch_size=self.batch_box.value(),
            dtype="float32" if training else self.dtype_box.currentText(),
            channels_last=self.channels_last_box.isChecked(),
            compile=self.compile_box.isChecked(),
            warmup=self.warmup_box.value(),
            iterations=self.iterations_box.value(),
            min_time_s=min_time if min_time > 0 else None,
            threads=self.threads_box.value() or None,
            mode=self.mode(),
            optimizer=self.optimizer_box.currentText(),
            amp=training and self.amp_box.isChecked(),
            isolated=self.isolated_box.isChecked(),
        )

    def sweep_sizes(self) -> tuple[int, ...]:
        return sweep_batch_sizes(self.sweep_limit_box.value())

    def set_running(self, running: bool) -> None:
        """While a job runs, the choices that would change what it means are locked."""
        for box in (self.batch_box, self.sweep_limit_box, self.mode_box):
            box.setEnabled(not running)
        self.device_box.setEnabled(not running and self.device() is not None)

    def _update_sweep_hint(self) -> None:
        sizes = self.sweep_sizes()
        shown = ", ".join(map(str, sizes)) if len(sizes) <= 5 else f"1, 2, 4, … {sizes[-1]}"
        self.sweep_hint.setText(f"Sweep: batch {shown}, stopping at the first that fails.")
