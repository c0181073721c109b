"""How fast the window follows an edit, and whether the GUI thread ever stalls.

From a depth change (typed into a stage's spin box, as a person would) to the end of
the window's first paint of the layer table that shows the new rows (its own paint: a
repaint forced by the benchmark would be a second one, and a stall of its own).
Meanwhile a QTimer probe ticking every 2 ms on the GUI thread records the longest gap
between ticks: that is the longest time the window could not respond. The edited stage
is the third (or the last, in a network with fewer), and every edit is a depth never
seen before, so no cached analysis helps.
Targets: median <= 20 ms on torchvision/resnet152 and <= 30 ms on cifar/resnet1202,
longest stall <= 10 ms. The module check runs in its own process as in real use.

Several ``--preset`` options measure each in the same run (the same load on the
machine) and print the ratios of their figures to the first one's.

    .venv/bin/python benchmarks/gui_latency.py [--preset NAME ...] [--edits 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QEventLoop, QObject, QSettings, QTimer

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.gui.app import application, create_window
from explorer.gui.screenshot import wait_until

PROBE_MS = 2
MEDIAN_TARGETS_MS = {"torchvision/resnet152": 20.0, "cifar/resnet1202": 30.0}
STALL_TARGET_MS = 10.0


class StallProbe:
    """Ticks on the GUI thread; the longest gap between ticks is the longest stall."""

    def __init__(self) -> None:
        self.timer = QTimer(interval=PROBE_MS)
        self.timer.timeout.connect(self._tick)
        self.last = time.perf_counter()
        self.longest = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.last - PROBE_MS / 1000)
        self.last = now

    def start(self) -> None:
        self.last = time.perf_counter()
        self.longest = 0.0
        self.timer.start()


class PaintWatch(QObject):
    """Notes when the first paint of a widget after ``arm(shown)`` (once ``shown()`` holds)
    has finished: the window's own paint, not one the benchmark forces."""

    def __init__(self, widget: QObject) -> None:
        super().__init__(widget)
        self.shown = lambda: False
        self.painted_at: float | None = None
        widget.installEventFilter(self)

    def arm(self, shown) -> None:  # type: ignore[no-untyped-def]
        self.shown, self.painted_at = shown, None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self.painted_at is None and self.shown():
            self.shown = lambda: False
            QTimer.singleShot(0, self._painted)  # runs once this paint has finished
        return False

    def _painted(self) -> None:
        self.painted_at = time.perf_counter()


def _wait(condition, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Spin a real event loop (so the probe keeps ticking) until ``condition`` holds."""
    loop = QEventLoop()
    check = QTimer(interval=1)
    check.timeout.connect(lambda: condition() and loop.quit())
    check.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    check.stop()


def _idle(seconds: float) -> None:
    """Spin a real event loop for ``seconds``: whatever the window does meanwhile (work an
    edit left for later) falls within the probe's watch."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def measure(name: str, edits: int) -> dict[str, Any]:
    """Edit the depth of one stage of preset ``name`` ``edits`` times; the figures in ms."""
    folder = tempfile.mkdtemp(prefix="gui-latency-")
    settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
    spec = preset(name)
    window = create_window(settings, spec)
    window.resize(1280, 800)
    window.show()
    wait_until(lambda: window.verifier.last.state != "pending", 60)  # the child has imported torch
    view = window.layer_view
    stage = min(2, spec.num_stages - 1)
    spin = window.editor.stage_rows[stage].depth
    probe = StallProbe()
    painted = PaintWatch(view.tree.viewport())

    depths = [spec.depths[stage] + 1 + i for i in range(edits)]
    latencies, stalls, analysis_ms = [], [], []
    for depth in depths:
        _idle(0.05)  # between edits, as between keystrokes
        probe.start()
        painted.arm(
            lambda d=depth: view.model.analysis is not None and view.model.analysis.spec.depths[stage] == d
        )
        start = time.perf_counter()
        spin.setValue(depth)
        _wait(lambda: painted.painted_at is not None)  # the new rows, on screen
        latencies.append(painted.painted_at - start)
        _idle(0.05)  # work left after the paint stalls the window too
        stalls.append(probe.longest)
        probe.timer.stop()
        t0 = time.perf_counter()
        analyze.__wrapped__(window.session.spec)  # the full analysis alone, uncached, for scale
        analysis_ms.append((time.perf_counter() - t0) * 1000)

    rows = len(window.session.analysis.rows)
    probe.start()
    t0 = time.perf_counter()
    window.show_tab("Charts")
    window.tabs.currentWidget().repaint()
    charts_ms = (time.perf_counter() - t0) * 1000
    _idle(0.05)
    charts_stall = probe.longest * 1000
    probe.timer.stop()
    t0 = time.perf_counter()
    wait_until(lambda: window.verifier.last.state != "pending", 60)
    check_s = time.perf_counter() - t0
    figures = {
        "preset": name,
        "input_size": list(spec.input_shape),
        "stage": stage,
        "edits": edits,
        "rows": rows,
        "median_ms": statistics.median(latencies) * 1000,
        "p90_ms": statistics.quantiles(latencies, n=10)[-1] * 1000 if edits > 1 else latencies[0] * 1000,
        "max_ms": max(latencies) * 1000,
        "worst_stall_ms": max(stalls) * 1000,
        "median_stall_ms": statistics.median(stalls) * 1000,
        "analysis_ms": statistics.median(analysis_ms),
        "charts_first_ms": charts_ms,
        "charts_stall_ms": charts_stall,
        "module_check_s": check_s,
        "module_check": f"{window.verifier.last.state}: {window.verifier.last.message}",
    }
    window.session.load(window.session.spec)
    window.close()
    window.deleteLater()
    return figures


def _report(figures: dict[str, Any]) -> None:
    verdict = {True: "OK", False: "MISSED"}
    shape = "x".join(map(str, figures["input_size"]))
    target = MEDIAN_TARGETS_MS.get(figures["preset"])
    median = figures["median_ms"]
    print(
        f"{figures['preset']} at {shape}, {figures['edits']} depth edits of layer{figures['stage'] + 1} "
        f"({figures['rows']} analysis rows at the end)"
    )
    target_text = f"   (target <= {target:.0f} ms median: {verdict[median <= target]})" if target else ""
    print(
        f"  edit -> new rows painted: median {median:.1f} ms, p90 {figures['p90_ms']:.1f} ms, "
        f"max {figures['max_ms']:.1f} ms{target_text}"
    )
    stall = figures["worst_stall_ms"]
    print(
        f"  longest GUI-thread stall during edits: {stall:.1f} ms, "
        f"median per edit {figures['median_stall_ms']:.1f} ms"
        f"   (target <= {STALL_TARGET_MS:.0f} ms: {verdict[stall <= STALL_TARGET_MS]})"
    )
    print(
        f"  for scale: analyze() from scratch, uncached: median {figures['analysis_ms']:.1f} ms "
        f"(latency / analysis = {median / figures['analysis_ms']:.1f}x)"
    )
    print(
        f"  first opening of the Charts tab: {figures['charts_first_ms']:.0f} ms, "
        f"longest stall {figures['charts_stall_ms']:.0f} ms"
    )
    check = figures["module_check"]
    print(f"  module check (own process) done {figures['module_check_s']:.1f} s after that: {check}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--preset",
        action="append",
        help="a preset to edit (repeat to compare; default torchvision/resnet152)",
    )
    parser.add_argument("--edits", type=int, default=40)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()
    names = args.preset or ["torchvision/resnet152"]

    application()
    runs = [measure(name, args.edits) for name in names]
    first = runs[0]
    for run in runs[1:]:
        run["ratio_to_first"] = {
            key: run[key] / first[key] if first[key] else None
            for key in ("rows", "median_ms", "p90_ms", "worst_stall_ms", "analysis_ms")
        }
    if args.json:
        print(json.dumps(runs[0] if len(runs) == 1 else {"runs": runs}, indent=2))
        return 0
    for run in runs:
        _report(run)
        if "ratio_to_first" in run:
            ratios = ", ".join(
                f"{key} {value:.2f}x" for key, value in run["ratio_to_first"].items() if value is not None
            )
            print(f"  against {first['preset']}: {ratios}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
