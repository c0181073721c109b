"""Tabs that build their panel the first time they are shown.

A panel's module (and what it imports, such as pyqtgraph) is loaded only when a
person opens its tab, which keeps those imports off the path to the first picture.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from explorer.gui.session import Session
from explorer.gui.style import styled
from explorer.gui.workers import describe_error


def load_factory(target: str) -> Callable[[Session], QWidget]:
    """``"package.module:Name"`` -> the class or function it names."""
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)  # type: ignore[no-any-return]


def preload_modules(targets: Iterable[str]) -> threading.Thread:
    """Import the tabs' modules on a background thread, so that opening a tab later
    only builds its panel. Python's import lock makes a tab opened meanwhile wait for
    the import instead of doing it twice; a module that fails is reported when its tab opens."""

    def run() -> None:
        for target in targets:
            try:
                importlib.import_module(target.partition(":")[0])
            except Exception:  # LazyTab shows the error when the tab is opened
                continue

    thread = threading.Thread(target=run, name="preload-tabs", daemon=True)
    thread.start()
    return thread


class LazyTab(QWidget):
    def __init__(
        self,
        target: str,
        session: Session,
        parent: QWidget | None = None,
        on_built: Callable[[QWidget], None] | None = None,
        prepare: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.target = target
        self.session = session
        self.on_built = on_built  # called with the panel as soon as it exists
        self.prepare = prepare  # called before the panel is built (what it needs of the window)
        self.panel: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def ensure_panel(self) -> QWidget:
        if self.panel is None:
            if self.prepare is not None:
                self.prepare()
            # The style sheet is parsed for the page when it is first opened, not for six
            # hidden pages on the way to the first picture.
            styled(self)
            try:
                self.panel = load_factory(self.target)(self.session)
                if self.on_built is not None:
                    self.on_built(self.panel)
            except Exception as exc:  # a broken panel must not take the window down
                self.panel = QLabel(f"This tab could not be opened: {describe_error(exc)}")
                self.panel.setWordWrap(True)
            # In a scroll area, a panel with a wide minimum size cannot force the whole
            # window wider than the screen; it scrolls instead.
            scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.Shape.NoFrame)
            scroll.setWidget(self.panel)
            self.layout().addWidget(scroll)
        return self.panel

    def showEvent(self, event: QShowEvent) -> None:
        self.ensure_panel()
        super().showEvent(event)
