"""How fast the window follows an edit, and whether the GUI thread ever stalls.

From a depth change on resnet152 at 3x224x224 (typed into the stage's spin box, as a
person would) to the layer table showing the new rows, painted. Meanwhile a QTimer
probe ticking every 2 ms on the GUI thread records the longest gap between ticks:
that is the longest time the window could not respond. Targets: median <= 100 ms,
longest stall <= 50 ms. The module check runs in its own process as in real use.

    .venv/bin/python benchmarks/gui_latency.py [--edits 40]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, QSettings, QTimer

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.gui.app import application, create_window
from explorer.gui.screenshot import wait_until

PROBE_MS = 2


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


def _wait(condition, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Spin a real event loop (so the probe keeps ticking) until ``condition`` holds."""
    loop = QEventLoop()
    check = QTimer(interval=1)
    check.timeout.connect(lambda: condition() and loop.quit())
    check.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    check.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=40)
    args = parser.parse_args()

    application()
    folder = tempfile.mkdtemp(prefix="gui-latency-")
    settings = QSettings(str(Path(folder) / "settings.ini"), QSettings.Format.IniFormat)
    spec = preset("torchvision/resnet152")
    window = create_window(settings, spec)
    window.resize(1280, 800)
    window.show()
    wait_until(lambda: window.verifier.last.state != "pending", 60)  # the child has imported torch
    view = window.layer_view
    spin = window.editor.stage_rows[2].depth
    probe = StallProbe()

    # Every edit is a depth never seen before, so no cached analysis helps.
    depths = [37 + i for i in range(args.edits)]
    latencies, stalls, analysis_ms = [], [], []
    for depth in depths:
        _wait(lambda: True, 0.05)  # idle between edits, as between keystrokes
        probe.start()
        start = time.perf_counter()
        spin.setValue(depth)
        _wait(lambda d=depth: view.model.analysis is not None and view.model.analysis.spec.depths[2] == d)
        view.tree.viewport().repaint()  # the new rows, on screen
        latencies.append(time.perf_counter() - start)
        _wait(lambda: True, 0.02)
        stalls.append(probe.longest)
        probe.timer.stop()
        t0 = time.perf_counter()
        analyze.__wrapped__(window.session.spec)  # the analysis alone, uncached, for scale
        analysis_ms.append((time.perf_counter() - t0) * 1000)

    rows = len(window.session.analysis.rows)
    probe.start()
    t0 = time.perf_counter()
    window.show_tab("Charts")
    window.tabs.currentWidget().repaint()
    charts_ms = (time.perf_counter() - t0) * 1000
    _wait(lambda: True, 0.05)
    charts_stall = probe.longest * 1000
    probe.timer.stop()

    median = statistics.median(latencies) * 1000
    p90 = statistics.quantiles(latencies, n=10)[-1] * 1000
    worst_stall = max(stalls) * 1000
    typical_stall = statistics.median(stalls) * 1000
    analysis_alone = statistics.median(analysis_ms)
    t0 = time.perf_counter()
    wait_until(lambda: window.verifier.last.state != "pending", 60)
    check_s = time.perf_counter() - t0
    verdict = {True: "OK", False: "MISSED"}
    print(f"resnet152 at 3x224x224, {args.edits} depth edits of layer3 ({rows} analysis rows at the end)")
    print(
        f"  edit -> new rows painted: median {median:.1f} ms, p90 {p90:.1f} ms, "
        f"max {max(latencies) * 1000:.1f} ms"
        f"   (target <= 100 ms median: {verdict[median <= 100]})"
    )
    print(
        f"  longest GUI-thread stall during edits: {worst_stall:.1f} ms, "
        f"median per edit {typical_stall:.1f} ms"
        f"   (target <= 50 ms: {verdict[worst_stall <= 50]})"
    )
    print(
        f"  for scale: analyze() alone, uncached: median {analysis_alone:.1f} ms "
        f"(latency / analysis = {median / analysis_alone:.1f}x)"
    )
    print(f"  first opening of the Charts tab: {charts_ms:.0f} ms, longest stall {charts_stall:.0f} ms")
    print(
        f"  module check (own process) done {check_s:.1f} s after that: "
        f"{window.verifier.last.state}: {window.verifier.last.message}"
    )
    window.session.load(window.session.spec)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
