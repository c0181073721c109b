"""How long the window stops responding while the Benchmark tab finds devices and runs.

The first opening of the tab imports torch on a worker thread. Python maps an
extension's libraries while holding the GIL, so a plain import freezes the GUI thread;
the tab maps them first through ctypes, which releases it. Each round starts a fresh
interpreter (torch not yet imported) and a QTimer probe ticking every 2 ms on the GUI
thread records the longest gap: with the preload and without it, alternately, then
the longest stall while resnet50 is timed. Target: longest stall <= 100 ms.

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
from _measure import run_child


def child(preload: bool) -> None:
    from gui_latency import StallProbe, _wait
    from PySide6.QtCore import QSettings

    import explorer.gui.torch_preload
    from explorer.core.presets import preset
    from explorer.gui.app import application, create_window

    if not preload:
        explorer.gui.torch_preload.preload_torch_libraries = lambda: False
    application()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat)
    window = create_window(settings, preset("torchvision/resnet50"), verify=False)
    window.resize(1280, 800)
    window.show()
    _wait(lambda: False, 1.5)  # the tab modules' background preload is over
    assert "torch" not in sys.modules
    probe = StallProbe()
    probe.start()
    start = time.perf_counter()
    panel = window.show_tab("Benchmark")
    _wait(panel.is_ready, 60)
    ready_s = time.perf_counter() - start
    discovery_stall = probe.longest
    panel.options.iterations_box.setValue(20)
    probe.start()
    panel.run()
    _wait(lambda: panel.result is not None and not panel.busy, 120)
    run_stall = probe.longest
    probe.timer.stop()
    window.session.load(window.session.spec)
    window.close()
    print(json.dumps({"ready_s": ready_s, "discovery_ms": discovery_stall * 1e3, "run_ms": run_stall * 1e3}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=["preload", "plain"])
    args = parser.parse_args()
    if args.child:
        child(args.child == "preload")
        return 0
    found: dict[str, list[dict[str, float]]] = {"preload": [], "plain": []}
    for _ in range(args.rounds):
        for mode in found:
            found[mode].append(run_child(__file__, "--child", mode))
    print(
        f"first opening of the Benchmark tab (torch imported on a worker), {args.rounds} fresh processes each"
    )
    print(f"{'':24}{'longest stall':>14}{'tab ready':>11}{'stall in a run':>16}")
    medians = {}
    for mode, rounds in found.items():
        stall = statistics.median(r["discovery_ms"] for r in rounds)
        ready = statistics.median(r["ready_s"] for r in rounds)
        run = statistics.median(r["run_ms"] for r in rounds)
        medians[mode] = stall
        label = "libraries mapped first" if mode == "preload" else "plain import"
        print(f"{label:24}{stall:>11.0f} ms{ready:>9.2f} s{run:>13.0f} ms")
    ratio = medians["plain"] / max(medians["preload"], 1e-9)
    verdict = "OK" if medians["preload"] <= 100 else "MISSED"
    print(f"plain / mapped first: {ratio:.1f}x longer stall   (target <= 100 ms: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
