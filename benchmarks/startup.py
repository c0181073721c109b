"""Cold start: from launching resnet-explorer to the window showing the layer table.

Each run is a fresh process of the real entry point (``resnet-explorer gui``, as a
bare ``resnet-explorer`` runs it) with the settings an earlier launch left: the last spec
resnet152, the window closed on the Layers tab. The time ends when the layer table's
first paint has finished; the whole window's (the editor's first paint) is reported too. For scale, the same
run measures ``import torch, PySide6.QtWidgets, pyqtgraph`` in fresh processes:
torch must not be on the path to the first picture, nor pyqtgraph or superqt (the
child reports which of them were imported by then). Target: at most 0.3 s.

    .venv/bin/python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Runs inside the child: the real command line, plus a watcher for the first paint.
CHILD = r"""
import os, sys, time
launched = float(sys.argv[1])
from PySide6.QtCore import QEvent, QObject, QTimer
import explorer.gui.app as app_module

# Reports the table's first paint, then the whole window's: the editor's first paint (a
# window that opens as it was left builds the editor after the table has painted).
class Watch(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.table = window.layer_view.tree.viewport()
        self.table.installEventFilter(self)
        self.staged = not hasattr(window, "editor")
        window.editor_dock.installEventFilter(self)
        self.table_shown = 0.0
        self.editor = None
    def eventFilter(self, watched, event):
        kind = event.type()
        if watched is self.window.editor_dock and kind == QEvent.Type.ChildAdded:
            if hasattr(event.child(), "viewport"):  # the editor, as it is put in the dock
                self.editor = [event.child(), event.child().viewport(), event.child().widget()]
                for part in self.editor:
                    part.installEventFilter(self)
        elif kind == QEvent.Type.Paint and watched is self.table:
            if self.window.layer_view.model.rowCount() > 0:
                watched.removeEventFilter(self)
                QTimer.singleShot(0, self.table_painted)  # once this paint has finished
        elif kind == QEvent.Type.Paint and self.editor and watched in self.editor:
            for part in self.editor:
                part.removeEventFilter(self)
            self.editor = None
            QTimer.singleShot(0, self.report)
        return False
    def table_painted(self):
        self.table_shown = time.time() - launched
        if not self.staged:
            self.report()
    def report(self):
        complete = time.time() - launched
        rows = len(self.window.session.analysis.rows)
        print(f"shown {self.table_shown:.4f} rows {rows} complete {complete:.4f}", flush=True)
        heavy = [name for name in ("torch", "pyqtgraph", "superqt") if name in sys.modules]
        print("imported " + (",".join(heavy) or "-"), flush=True)
        self.window.verifier.stop()
        # The app's socket goes as at a clean quit: the next run starts as a first launch.
        from PySide6.QtNetwork import QLocalServer
        for server in self.window.findChildren(QLocalServer):
            server.close()
        os._exit(0)

make_window = app_module.create_window
def create_window(*args, **kwargs):
    window = make_window(*args, **kwargs)
    window.startup_watch = Watch(window)
    return window
app_module.create_window = create_window

from explorer.cli import main
sys.exit(main(["gui"]))
"""

# The settings a launch leaves: the last spec, and the window as it was closed (its
# geometry, its dock's width, the Layers tab).
LEAVE_SETTINGS = r"""
import sys
from explorer.gui.app import application, create_window
from explorer.gui.settings import user_settings
app = application()
window = create_window(user_settings(), verify=False)
window.show()
app.processEvents()
window.save_state()
"""

# For scale, Qt's own floor: a bare window with a dock and a tree of as many rows (565),
# launched the same way and timed to the end of the tree's first paint.
BARE_WINDOW = r"""
import os, sys, time
launched = float(sys.argv[1])
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QTreeView

app = QApplication(sys.argv[:1])
window, tree, model = QMainWindow(), QTreeView(), QStandardItemModel()
def row(text):
    return [QStandardItem(text)] + [QStandardItem("1,234") for _ in range(5)]
for stage in range(5):
    stage_row = row(f"layer{stage + 1}")
    for block in range(10):
        block_row = row(f"layer{stage + 1}.{block}")
        for layer in range(10):
            block_row[0].appendRow(row("conv"))
        stage_row[0].appendRow(block_row)
    model.invisibleRootItem().appendRow(stage_row)
tree.setModel(model)
tree.expandAll()
window.setCentralWidget(tree)
dock = QDockWidget("Architecture")
dock.setWidget(QLabel("fields"))
window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)

class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self.report)
        return False
    def report(self):
        print(f"{time.time() - launched:.4f}", flush=True)
        os._exit(0)

watch = FirstPaint()
tree.viewport().installEventFilter(watch)
window.resize(1280, 800)
window.show()
app.exec()
"""

IMPORTS = (
    "import time; t = time.perf_counter(); import torch, PySide6.QtWidgets, pyqtgraph; "
    "print(time.perf_counter() - t)"
)


def _prepare_settings(config: Path, env: dict[str, str]) -> None:
    from explorer.core.presets import preset

    folder = config / "resnet-explorer"
    folder.mkdir(parents=True, exist_ok=True)
    spec_json = preset("torchvision/resnet152").to_json()
    # QSettings' INI format: a quoted string with escaped newlines and quotes.
    escaped = spec_json.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    (folder / "resnet-explorer.ini").write_text(f'[document]\nspec="{escaped}"\npath=\n')
    leave = [sys.executable, "-c", LEAVE_SETTINGS]
    subprocess.run(leave, env=env, check=True, capture_output=True, timeout=120)


def _startup(env: dict[str, str]) -> tuple[float, float, str, str]:
    launched = time.time()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, repr(launched)], env=env, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("shown")]
    if not lines:
        raise SystemExit(f"the window did not show:\n{done.stderr[-2000:]}")
    _, seconds, _, rows, _, complete = lines[0].split()
    imported = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("imported")]
    return float(seconds), float(complete), rows, (imported or ["?"])[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="startup-"))
    # Bytecode is cached as after any earlier launch (set-up compiles the package too).
    inherited = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    env = {
        **inherited,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_RUNTIME_DIR": str(runtime),  # where the running window listens
        "QT_QPA_PLATFORM": os.environ.get(
            "QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen"
        ),
    }
    _prepare_settings(home / "config", env)
    _startup(env)  # warm the disk cache once, for both measurements alike
    starts, completes, imports, bare, rows, heavy = [], [], [], [], "", ""
    # The app and the bare window alternate, so both see the machine in the same state; the
    # torch import, seconds of work that leaves the CPU hot, is timed after them.
    for _ in range(args.runs):
        seconds, complete, rows, heavy = _startup(env)
        starts.append(seconds)
        completes.append(complete)
        launched = time.time()
        command = [sys.executable, "-c", BARE_WINDOW, repr(launched)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        bare.append(float(done.stdout.strip()))
    for _ in range(min(args.runs, 3)):
        done = subprocess.run(
            [sys.executable, "-c", IMPORTS], env=env, capture_output=True, text=True, check=True
        )
        imports.append(float(done.stdout.strip()))
    start, imported = statistics.median(starts), statistics.median(imports)
    print(f"cold start to the layer table of the last spec (resnet152, {rows} rows), "
          f"platform {env['QT_QPA_PLATFORM']}, {args.runs} runs on {os.cpu_count()} CPUs:")  # fmt: skip
    print(f"  launch -> table painted: median {start:.2f} s (min {min(starts):.2f}, max {max(starts):.2f})"
          f"   target <= 0.3 s: {'OK' if start <= 0.3 else 'MISSED'}")  # fmt: skip
    print("    each run: " + " ".join(f"{seconds:.3f}" for seconds in starts))
    whole = statistics.median(completes)
    print(f"  launch -> the whole window painted (the editor too): median {whole:.2f} s "
          f"(min {min(completes):.2f})")  # fmt: skip
    floor = statistics.median(bare)
    print(f"  a bare Qt window with a dock and a 565-row tree, to its first paint: median {floor:.2f} s "
          f"(min {min(bare):.2f}); startup / that: {start / floor:.2f}x")  # fmt: skip
    print("    each run: " + " ".join(f"{seconds:.3f}" for seconds in bare))
    print(f"  imported by the first paint, of torch, pyqtgraph and superqt: {heavy}")
    print(f"  import torch, PySide6.QtWidgets, pyqtgraph alone: median {imported:.2f} s "
          f"(min {min(imports):.2f}, max {max(imports):.2f})")  # fmt: skip
    print(f"  startup / that import: {start / imported:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
