"""Every tab, in a window on a 1024x700 screen, on a 1280x800 one and at scale 2, shows its
labels, buttons and combo boxes whole: none narrower (or, wrapped, shorter) than its text,
no tab hidden, no tab page scrolling sideways, the main buttons in sight."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QSettings
from PySide6.QtWidgets import QApplication, QScrollArea

from explorer.core.analysis import analyze
from explorer.core.backward_clock import StepSample
from explorer.core.benchtypes import BenchConfig, BenchResult, ReproCard, StepBreakdown, TimingStats
from explorer.core.profile import GroupTime, LayerTime, Profile, TrainParts
from explorer.core.spec import ArchSpec
from explorer.gui.main_window import TABS, MainWindow, title_bar_width
from tests.gui.clipping import clipped_plot_titles, clipped_text, scrolls_sideways, seen_whole
from tests.gui.conftest import open_window

# The free area of a 1024x700 screen, of a 1280x800 one under a 30-pixel panel, and of a
# 1920x1080 one at scale 2 (in the device-independent pixels the window is laid out in: at
# QT_SCALE_FACTOR=2 everything, fonts included, is drawn twice as large, so the layout is
# that of a 960x540 screen).
SCREENS = {
    "1024x700": QRect(0, 0, 1024, 700),
    "1280x800": QRect(0, 30, 1280, 770),
    "scale-2": QRect(0, 0, 960, 540),
}
# The longest choices of every combo box in the dock, on a network small enough to analyse at once.
LONGEST_LABELS = ArchSpec(
    block="preact-bottleneck",
    stem="deep-tiered",
    shortcut="avg-down",
    anti_alias="blur",
    attention="eca",
    depths=(1, 1),
    widths=(8, 16),
    stem_width=8,
    input_size=(16, 16),
    num_classes=10,
)
TRAINING = BenchConfig(mode="train", batch_size=32, warmup=1, iterations=3)


def _card(spec: ArchSpec, config: BenchConfig) -> ReproCard:
    return ReproCard(
        torch_version="2.13.0+cpu",
        python_version="3.11.7",
        platform="Linux-6.18.44-x86_64-with-glibc2.36",
        device="cpu",
        device_name="Intel(R) Xeon(R) Processor",
        threads=2,
        dtype="float32",
        layout="contiguous",
        batch_size=config.batch_size,
        input_shape=(config.batch_size, *spec.input_shape),
        compiled=False,
        warmup=config.warmup,
        iterations=config.iterations,
        cudnn_benchmark=None,
        mode=config.mode,
        optimizer=config.optimizer,
    )


def _training_step(spec: ArchSpec) -> BenchResult:
    """What a training step's run shows: every card filled, the long training details included."""
    return BenchResult(
        spec=spec,
        config=TRAINING,
        card=_card(spec, TRAINING),
        status="ok",
        stats=TimingStats.from_samples((0.0312, 0.0305, 0.0421)),
        macs_per_image=analyze(spec).totals.macs,
        memory_source="tensors alive at the step's peak",
        breakdown=StepBreakdown(
            forward_s=0.0107, backward_s=0.0162, optimizer_s=0.0031, step_s=0.031, steps=3
        ),
        predicted_saved_bytes=31_403_008,
        measured_saved_bytes=31_403_008,
    )


def _training_profile(spec: ArchSpec) -> Profile:
    """A training step's profile of ``spec`` (made-up times, real names and MACs): the widest tables."""
    analysis = analyze(spec)
    rows = [row for row in analysis.rows if row.op != "block"]
    total = 0.001 * len(rows)
    layers = tuple(
        LayerTime(
            index=row.index,
            name=row.name,
            type=row.type,
            stage=None,
            block=None,
            leaf=True,
            time_s=0.001,
            share=0.001 / total,
            macs=row.macs,
            gmacs_per_s=row.macs * TRAINING.batch_size / 0.001 / 1e9 if row.macs else None,
            speed_ratio=1.0 if row.macs else None,
            forward_s=0.0004,
            backward_s=0.0006,
        )
        for row in rows
    )
    stages = tuple(
        GroupTime(
            name=name,
            first_row=0,
            last_row=0,
            time_s=total / 4,
            share=0.25,
            macs=123_456_789,
            gmacs_per_s=1234.5,
            speed_ratio=1.25,
            forward_s=total / 10,
            backward_s=total * 0.15,
        )
        for name in ("stem", "layer1", "layer2", "head")
    )
    timing = TimingStats.from_samples((total, total * 1.02))
    return Profile(
        spec=spec,
        config=TRAINING,
        card=_card(spec, TRAINING),
        layers=layers,
        blocks=(),
        stages=stages,
        end_to_end=timing,
        profiled=timing,
        train=TrainParts(loss_s=0.0002, backward_other_s=0.0011, optimizer_s=0.0031, backward_s=0.0162),
        passes=(tuple(StepSample(layer.index, 0.0, layer.time_s) for layer in layers),),
    )


def _filled(window: MainWindow, title: str) -> None:
    """Put into the tab ``title`` what its longest texts come from."""
    panel = window.show_tab(title)
    spec = window.session.spec
    if title == "Benchmark":
        panel.options.mode_box.setCurrentIndex(panel.options.mode_box.findData("train"))  # type: ignore[attr-defined]
        panel._show_result(_training_step(spec))  # type: ignore[attr-defined]
    elif title == "Profile":
        panel.options.mode_box.setCurrentIndex(panel.options.mode_box.findData("train"))  # type: ignore[attr-defined]
        panel.show_profile(_training_profile(spec))  # type: ignore[attr-defined]
    elif title == "Compare":
        panel.add_current()  # type: ignore[attr-defined]
        panel.add_preset("timm/resnet50d")  # type: ignore[attr-defined]


def _settled() -> None:
    for _ in range(10):
        QApplication.processEvents()


@pytest.mark.parametrize("free", SCREENS.values(), ids=SCREENS.keys())
def test_every_tab_shows_its_text_whole(  # type: ignore[no-untyped-def]
    qtbot, settings: QSettings, monkeypatch: pytest.MonkeyPatch, free: QRect
) -> None:
    monkeypatch.setattr(MainWindow, "_free_area", lambda _window: QRect(free))
    window = open_window(qtbot, settings, LONGEST_LABELS)
    qtbot.waitUntil(lambda: window.session.is_current, timeout=10_000)
    problems = []
    for title, _target in TABS:
        _filled(window, title)
        _settled()
        problems += [
            f"{title} tab: {problem}" for problem in clipped_text(window) + clipped_plot_titles(window)
        ]
        page = window.tab_pages[title].findChild(QScrollArea)
        if page is not None and scrolls_sideways(page):
            problems.append(f"{title} tab: scrolls sideways")
        panel = window.show_tab(title)
        _settled()
        # What each tab is for stays in sight, however low the window.
        for needed in _in_sight(title, panel):
            if not seen_whole(needed):
                problems.append(
                    f"{title} tab: {type(needed).__name__} {needed.objectName()!r} is out of sight"
                )
    # Both profile tables show every column from 1280 pixels up.
    profile = window.show_tab("Profile")
    if free.width() >= 1280:
        for table in (profile.stage_table, profile.layer_table):  # type: ignore[attr-defined]
            if scrolls_sideways(table):
                problems.append(f"Profile tab: {table.horizontalHeader().count()} columns scroll sideways")
    assert not problems, "\n".join(problems)


def _in_sight(title: str, panel: object) -> list:  # type: ignore[type-arg]
    return {
        "Benchmark": lambda: [panel.run_button, panel.status],  # type: ignore[attr-defined]
        "Profile": lambda: [panel.run_button],  # type: ignore[attr-defined]
        "Memory": lambda: [panel.fit_size],  # type: ignore[attr-defined]
        "Diagram": lambda: [panel.zoom_label, panel.status],  # type: ignore[attr-defined]
    }.get(title, list)()


def test_the_shortcuts_dialog_is_as_wide_as_its_title(qtbot, settings: QSettings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, LONGEST_LABELS)
    box = window.shortcuts_box()
    qtbot.addWidget(box)
    box.show()
    _settled()
    assert box.width() >= title_bar_width(box)
