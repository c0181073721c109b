"""Holding a depth spin box's arrow key: does the window keep up?

Run under a real X server (xdotool presses the key as a person would), for instance
``Xvfb :93 & DISPLAY=:93 QT_QPA_PLATFORM=xcb``. It opens the network, focuses the depth
of its second stage, holds Up for three seconds and reports how many analyses the table
showed meanwhile, how long after the release it showed the last one, and the longest
time the GUI thread did not answer (a timer ticking every 2 ms). ``--png`` saves the
window as it ends. ``six-stage`` is a network of 6 stages of 60 basic blocks.

    DISPLAY=:93 .venv/bin/python benchmarks/held_key.py cifar/resnet1202 [--png out.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "xcb")  # the key presses come through the X server

from PySide6.QtCore import QSettings

from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from explorer.gui.app import application, create_window
from explorer.gui.screenshot import wait_until

sys.path.insert(0, str(Path(__file__).parent))
from gui_latency import StallProbe, _wait

HOLD_S = 3
STAGE = 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network", help="a preset name, or six-stage")
    parser.add_argument("--png", type=Path, help="save the window, as it ends, to this file")
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") or shutil.which("xdotool") is None:
        print("needs an X server (DISPLAY) and xdotool: run it under Xvfb", file=sys.stderr)
        return 2
    app = application()
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "settings.ini"), QSettings.Format.IniFormat)
    spec = ArchSpec(block="basic", depths=(60,) * 6, stem="imagenet") if args.network == "six-stage" else None
    window = create_window(settings, spec or preset(args.network))
    window.resize(1280, 800)
    window.show()
    wait_until(lambda: window.verifier.last.state != "pending", 120)
    spin = window.editor.stage_rows[STAGE].depth
    view = window.layer_view
    window.activateWindow()
    spin.setFocus()
    _wait(lambda: False, 0.5)
    shown: list[int] = []
    window.session.analysis_changed.connect(lambda analysis: shown.append(analysis.spec.depths[STAGE]))
    probe = StallProbe()
    probe.start()
    start_depth = spin.value()
    keys = subprocess.Popen(["bash", "-c", f"xdotool keydown Up; sleep {HOLD_S}; xdotool keyup Up"])
    _wait(lambda: keys.poll() is not None, HOLD_S + 10)
    released = time.perf_counter()
    end_depth = spin.value()
    _wait(lambda: view.model.analysis is not None and view.model.analysis.spec.depths[STAGE] == end_depth, 20)
    caught_up_ms = (time.perf_counter() - released) * 1000
    probe.timer.stop()
    current = view.model.analysis is not None and view.model.analysis.spec == window.session.spec
    print(
        f"{args.network}: held Up {HOLD_S} s on layer{STAGE + 1}'s depth: {start_depth} -> {end_depth}, "
        f"{len(shown)} analyses shown on the way, {len(window.session.analysis.rows)} rows at the end"
    )
    print(
        f"  the table showed the last depth {caught_up_ms:.0f} ms after the release "
        f"({'current' if current else 'NOT current'}); longest GUI-thread stall {probe.longest * 1000:.0f} ms"
    )
    if args.png:
        app.processEvents()
        window.grab().save(str(args.png))
    window.session.load(window.session.spec)
    window.verifier.stop()
    window.close()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Straight out, as the app's own quit does not happen here: tearing the window's
    # frozen objects down at interpreter exit is not what this measures.
    os._exit(code)
