"""The Benchmark tab's cost to the window: its stalls, and the memory of both processes.

Each round starts a fresh interpreter with the app's window on torchvision/resnet50; a QTimer
probe ticking every 2 ms on the GUI thread records the longest gap while the tab first finds
the devices (the worker process starting: torch is imported there, not in the window) and
while resnet50 is timed. Beside the stalls: the window process's resident memory after start
and after the run, the worker processes' after the run, and whether the window's process
imported torch. Target: longest stall <= 100 ms.

    .venv/bin/python benchmarks/benchmark_tab.py [--rounds 3]
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

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import rss_mb, run_child


def _children_rss_mb() -> float:
    """The resident memory of this process's children (the worker processes), in MiB."""
    total = 0.0
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if fields[1] == me:
                total += int((entry / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, IndexError, ValueError):
            continue
    return total


def child() -> None:
    from gui_latency import StallProbe, _wait
    from PySide6.QtCore import QSettings

    from explorer.core.presets import preset
    from explorer.gui.app import application, create_window

    application()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat)
    window = create_window(settings, preset("torchvision/resnet50"), verify=False)
    window.resize(1280, 800)
    window.show()
    _wait(lambda: False, 1.5)  # the tab modules' background preload is over
    started_mb = rss_mb()
    probe = StallProbe()
    probe.start()
    start = time.perf_counter()
    panel = window.show_tab("Benchmark")
    _wait(panel.is_ready, 120)
    ready_s = time.perf_counter() - start
    discovery_stall = probe.longest
    panel.options.iterations_box.setValue(20)
    probe.start()
    panel.run()
    _wait(lambda: panel.result is not None and not panel.busy, 300)
    run_stall = probe.longest
    probe.timer.stop()
    report = {
        "ready_s": ready_s,
        "discovery_ms": discovery_stall * 1e3,
        "run_ms": run_stall * 1e3,
        "window_start_mb": started_mb,
        "window_after_mb": rss_mb(),
        "workers_mb": _children_rss_mb(),
        "torch_in_window": "torch" in sys.modules,
    }
    window.session.load(window.session.spec)
    window.close()
    print(json.dumps(report), flush=True)
    # Ends here: this script never runs the event loop, and a teardown of the window's Qt objects
    # by the interpreter's finalization sometimes crashes PySide (the app itself quits cleanly).
    os._exit(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        child()
        return 0
    rounds = [run_child(__file__, "--child") for _ in range(args.rounds)]

    def median(key: str) -> float:
        return statistics.median(float(r[key]) for r in rounds)

    print(f"first opening of the Benchmark tab and a run of resnet50, {args.rounds} fresh processes")
    print(
        f"longest stall while the devices are found {median('discovery_ms'):6.0f} ms (tab ready after "
        f"{median('ready_s'):.2f} s); during the run {median('run_ms'):6.0f} ms"
    )
    print(
        f"window process: {median('window_start_mb'):.0f} MiB after start, "
        f"{median('window_after_mb'):.0f} MiB after the run; workers {median('workers_mb'):.0f} MiB; "
        f"torch imported in the window: {any(r['torch_in_window'] for r in rounds)}"
    )
    verdict = "OK" if max(median("discovery_ms"), median("run_ms")) <= 100 else "MISSED"
    print(f"target: longest stall <= 100 ms: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
