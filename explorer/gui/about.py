"""Help > About: the versions of the app and what it runs on, without importing torch."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from html import escape
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMenuBar

from explorer import __version__


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _dot_version() -> str:
    dot = shutil.which("dot")
    if dot is None:
        return "not found (install Graphviz for diagrams)"
    try:
        done = subprocess.run([dot, "-V"], capture_output=True, text=True, timeout=3)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    text = (done.stderr or done.stdout).strip()
    return text.split("version", 1)[-1].strip() if "version" in text else text


def versions() -> dict[str, str]:
    return {
        "resnet-explorer": __version__,
        "torch": _package_version("torch"),
        "Qt": qVersion(),
        "PySide6": pyside_version,
        "pyqtgraph": _package_version("pyqtgraph"),
        "graphviz (Python)": _package_version("graphviz"),
        "Graphviz dot": _dot_version(),
    }


def about_html(places: Mapping[str, Path] | None = None) -> str:
    """The About box's text: the versions, and where the files the app keeps live."""
    rows = "".join(
        f"<tr><td><b>{name}</b></td><td>&nbsp;&nbsp;{value}</td></tr>" for name, value in versions().items()
    )
    kept = ""
    if places:
        # Each path on a line of its own, never broken: the box grows to show it whole.
        lines = "".join(
            f"{escape(name)}:<br>&nbsp;&nbsp;<nobr>{escape(str(path))}</nobr><br>"
            for name, path in places.items()
        )
        kept = f"<p><b>Where your files live</b><br>{lines}</p>"
    return (
        "<h3>ResNet Explorer</h3>"
        "<p>See what a residual network really is: layers, shapes, parameters, MACs.</p>"
        f"<table>{rows}</table>{kept}"
    )


def shortcuts_html(menu_bar: QMenuBar) -> str:
    """Every menu action that has a keyboard shortcut, menu by menu."""
    sections = []
    for menu_action in menu_bar.actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        rows = []
        pending = list(menu.actions())
        while pending:
            action = pending.pop(0)
            if action.menu() is not None:
                pending[:0] = action.menu().actions()
                continue
            native = QKeySequence.SequenceFormat.NativeText
            keys = ", ".join(key.toString(native) for key in action.shortcuts())
            if keys:
                name = action.text().replace("&", "").rstrip("…").strip()
                rows.append(f"<tr><td>{name}</td><td>&nbsp;&nbsp;<b>{keys}</b></td></tr>")
        if rows:
            title = menu_action.text().replace("&", "")
            sections.append(f"<p><b>{title}</b></p><table>{''.join(rows)}</table>")
    sections.append(
        "<p><b>Layer table</b></p><table><tr><td>Copy the selected rows</td>"
        f"<td>&nbsp;&nbsp;<b>{QKeySequence(QKeySequence.StandardKey.Copy).toString()}</b></td></tr></table>"
    )
    return "".join(sections)
