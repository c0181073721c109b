"""The main window: the editor dock, the totals, the tabs, menus and remembered state.

Adding a tab is one line in ``TABS``: a title and the panel's ``module:Class``; the
class is called with the ``Session`` the first time the tab is shown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QMargins,
    QMimeData,
    QObject,
    QRect,
    QSettings,
    QSize,
    Qt,
    QThreadPool,
    QTimer,
    QUrl,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QGridLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSpacerItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from explorer.core.presets import FAMILIES, preset_name_of, presets_in
from explorer.core.spec import SpecError
from explorer.core.wording import counted
from explorer.gui import icons
from explorer.gui.panels.layer_view import LayerView
from explorer.gui.panels.totals import TotalsPanel
from explorer.gui.plain_text import plain
from explorer.gui.session import Session
from explorer.gui.settings import (
    CURRENT_TAB,
    GEOMETRY,
    WINDOW_STATE,
    RemembersOptions,
    remember_document,
    saved_tab,
    saved_window,
)
from explorer.gui.style import set_style_property, styled
from explorer.gui.tabs import LazyTab, preload_modules
from explorer.gui.verifier import Verification, Verifier

if TYPE_CHECKING:  # imported when first used: they are not on the way to the first picture
    from explorer.gui.cross_check import CrossCheckAction
    from explorer.gui.documents import Documents
    from explorer.gui.model_export import ModelExportDialog
    from explorer.gui.panels.spec_editor import SpecEditor
    from explorer.gui.workspace import Workspace

TABS: list[tuple[str, str]] = [
    ("Layers", "explorer.gui.panels.layer_view:LayerView"),
    ("Diagram", "explorer.gui.panels.diagram:DiagramPanel"),
    ("Charts", "explorer.gui.panels.charts:ChartsPanel"),
    ("Benchmark", "explorer.gui.panels.benchmark:BenchmarkPanel"),
    ("Compare", "explorer.gui.panels.compare:ComparePanel"),
    ("Memory", "explorer.gui.panels.memory:MemoryPanel"),
    ("Profile", "explorer.gui.panels.profile:ProfilePanel"),
]
# Tabs whose content does not show the spec being edited: they stay usable while it is invalid.
SPEC_INDEPENDENT_TABS = frozenset({"Compare"})

WORKER_GRACE_MS = 3000


def _finish_workers() -> None:
    """Let running analyses end before the window goes, so none reports into a deleted object."""
    QThreadPool.globalInstance().waitForDone(WORKER_GRACE_MS)


STATUS_MESSAGE_MS = 5000
MENU_TITLES = ("&File", "&Edit", "&View", "&Tools", "&Help")
# A staged window builds the rest after the table's first paint, or after this at the latest.
FINISH_BUILDING_AT_LATEST_MS = 1000
WORKER_MODULE = "superqt.utils"  # explorer.gui.workers imports it on first use
PRELOAD_DELAY_MS = 800  # after the first picture, while the person is still looking at it
# The View menu's diagram zoom: title, keys (the first one shown), the view's method.
DIAGRAM_ZOOM = (
    ("Zoom in", (QKeySequence.StandardKey.ZoomIn, "Ctrl+="), "zoom_in"),
    ("Zoom out", (QKeySequence.StandardKey.ZoomOut,), "zoom_out"),
    ("Fit the diagram", ("Ctrl+0",), "fit"),
    ("Actual size", ("Ctrl+Alt+0",), "actual_size"),
)
PREFERRED_SIZE = QSize(1280, 800)
# What a window manager adds around the window (title bar, borders), not known before the
# window is first shown: the window is placed that far inside the screen's free area.
FRAME_ALLOWANCE = QMargins(8, 40, 8, 8)
TITLE_BAR_BUTTONS = 160  # a title bar's icon and its buttons, beside the title
TITLE_FONT_SCALE = 1.25  # title bars' fonts, against the application's
ABOUT_ICON_ROOM = 120  # the About box's icon and margins, beside its text


def fitted_geometry(wanted: QRect, available: QRect, centre: bool = False) -> QRect:
    """The window's ``wanted`` geometry, no larger than the screen's free area ``available``
    (the frame allowed for) and moved inside it; with ``centre``, in its middle."""
    room = available.marginsRemoved(FRAME_ALLOWANCE)
    fitted = QRect(wanted.topLeft(), wanted.size().boundedTo(room.size()))
    if centre:
        fitted.moveCenter(room.center())
    fitted.moveLeft(min(max(fitted.left(), room.left()), room.right() + 1 - fitted.width()))
    fitted.moveTop(min(max(fitted.top(), room.top()), room.bottom() + 1 - fitted.height()))
    return fitted


def title_bar_width(window: QWidget) -> int:
    """How wide a title bar shows ``window``'s whole title: the window manager adds the
    application's name, draws it larger and bold, and puts an icon and buttons beside it."""
    font = QFont(window.font())
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * TITLE_FONT_SCALE)
    title = f"{window.windowTitle()} — {QGuiApplication.applicationDisplayName()}"
    return QFontMetrics(font).horizontalAdvance(title) + TITLE_BAR_BUTTONS


class _AfterFirstPaint(QObject):
    """Calls ``then`` once the layer table has painted for the first time."""

    def __init__(self, window: MainWindow, then: Callable[[], None]) -> None:
        super().__init__(window)
        self.then = then
        self.watched = window.layer_view.tree.viewport()
        self.watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.watched and event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            # Once this paint has reached the screen, on the next turn of the event loop.
            QTimer.singleShot(0, self, self.then)
        return False


def _rows_a_screen_shows(widget: QWidget) -> int:
    """At most how many rows of a table a screen shows: all a staged window makes at first."""
    heights = [screen.availableGeometry().height() for screen in QGuiApplication.screens()]
    return max(heights, default=2160) // max(widget.fontMetrics().height(), 1) + 1


def _dropped_file(mime: QMimeData) -> Path | None:
    """The one local .json file (a spec or a comparison) being dragged, if that is what it is."""
    urls = mime.urls() if mime.hasUrls() else []
    if len(urls) == 1 and urls[0].isLocalFile() and urls[0].toLocalFile().lower().endswith(".json"):
        return Path(urls[0].toLocalFile())
    return None


class MainWindow(QMainWindow):
    """The window. With ``staged``, what the first picture needs (the table, the totals, the
    dock's frame and the menu bar's titles) is built first, and the rest (the editor, the
    menus' actions, documents and workspace) once the table has painted; any use of the rest
    before then builds it at once (``finish_building``)."""

    editor: SpecEditor
    documents: Documents
    workspace: Workspace
    cross_check: CrossCheckAction

    def __init__(
        self,
        session: Session,
        settings: QSettings,
        verify: bool = True,
        staged: bool = False,
        recently_used: Path | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.settings = settings
        # The desktop's recent files, which the files opened and saved here join (None: none).
        self.recently_used = recently_used
        self.setWindowIcon(icons.app_icon())
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)

        self.editor_dock = QDockWidget("Architecture", self, objectName="ArchitectureDock")
        self.editor_dock.setWidget(QWidget())  # the editor's place until it is built
        # Closable, or Qt disables View > Architecture (the dock's own show/hide action).
        self.editor_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.editor_dock)
        styled(self.editor_dock)

        self.banner = plain(QLabel(objectName="Banner", wordWrap=True))
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        styled(self.banner)
        self.totals = styled(TotalsPanel(session))
        self.tabs = QTabWidget(documentMode=False)
        styled(self.tabs.tabBar())
        self.tab_pages: dict[str, QWidget] = {}
        for title, target in TABS:
            page: QWidget = (
                LayerView(session, first_rows=_rows_a_screen_shows(self) if staged else None)
                if title == "Layers"
                else LazyTab(target, session, on_built=self._panel_built, prepare=self.finish_building)
            )
            self.tab_pages[title] = page
            self.tabs.addTab(page, title)
        self.layer_view: LayerView = self.tab_pages["Layers"]  # type: ignore[assignment]
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(8, 8, 8, 4)
        column.setSpacing(8)
        column.addWidget(self.banner)
        column.addWidget(self.totals)
        column.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        # The menus' titles now, so that the menu bar has its height in the first picture.
        self.menus = {title: self.menuBar().addMenu(title) for title in MENU_TITLES}

        self.verification_label = QLabel(objectName="Verification")
        self.statusBar().addPermanentWidget(self.verification_label)
        styled(self.statusBar())
        self.verifier = Verifier(self)
        self.verifier.changed.connect(self._show_verification)
        self._verify = verify
        self._preloaded = False
        self.setAcceptDrops(True)
        session.spec_changed.connect(self._spec_changed)
        session.spec_error_changed.connect(lambda _error: self._update_banner())
        session.analysis_changed.connect(lambda _analysis: self._update_banner())
        session.analysis_failed.connect(self._analysis_failed)
        session.modified_changed.connect(lambda _modified: self._update_title())
        session.path_changed.connect(lambda _path: self._update_title())
        self._mismatch: Verification | None = None
        self._failure = ""
        self._built = False
        self._show_verification(self.verifier.last)
        self.setGeometry(
            fitted_geometry(QRect(0, 0, *PREFERRED_SIZE.toTuple()), self._free_area(), centre=True)
        )
        if staged:
            self._first_paint = _AfterFirstPaint(self, self.finish_building)
            # Also if nothing paints (a window started minimised): the menus must work.
            QTimer.singleShot(FINISH_BUILDING_AT_LATEST_MS, self, self.finish_building)
        else:
            self.finish_building()
        self._update_title()

    def finish_building(self) -> None:
        """Build what the first picture does not need (once; at once if not built yet)."""
        if self._built:
            return
        self._built = True
        from explorer.gui.documents import Documents
        from explorer.gui.panels.spec_editor import SpecEditor
        from explorer.gui.workspace import Workspace, workspace_path

        session = self.session
        self.layer_view.model.finish_rows()
        self.documents = Documents(self, session, self.settings)
        self.documents.recently_used = self.recently_used
        # The comparison lives beside the window's settings, so a window on throw-away
        # settings (pictures, tests) never reads or changes the user's workspace.
        self.workspace = Workspace(workspace_path(self.settings), parent=session)
        self.documents.open_comparison = self.open_comparison
        self.editor = SpecEditor(session.spec)
        placeholder = self.editor_dock.widget()
        self.editor_dock.setWidget(self.editor)
        placeholder.deleteLater()
        self._build_menus()
        self.documents.message.connect(lambda text: self.statusBar().showMessage(text, STATUS_MESSAGE_MS))
        self.editor.edited.connect(self._edited)
        self.editor.typing_finished.connect(session.end_burst)
        session.spec_loaded.connect(self.editor.set_spec)
        session.spec_restored.connect(lambda spec: self.editor.set_spec(spec, keep_origin=True))
        self._update_title()
        self._update_banner()

    # Menus

    def _build_menus(self) -> None:
        from explorer.gui.documents import EXPORTS

        docs = self.documents
        file_menu = self.menus["&File"]
        new_menu = file_menu.addMenu("&New from preset")
        for family in FAMILIES:
            new_menu.addSection(family.title)
            for name in presets_in(family.key):
                new_menu.addAction(name.split("/")[-1], lambda n=name: docs.new_from_preset(n))
        self._action(
            file_menu,
            "&New (resnet18)",
            QKeySequence.StandardKey.New,
            lambda: docs.new_from_preset("resnet18"),
        )
        self._action(file_menu, "&Open…", QKeySequence.StandardKey.Open, docs.open)
        docs.recent_menu = file_menu.addMenu("Open &Recent")
        docs.fill_recent_menu()
        file_menu.addSeparator()
        self._action(file_menu, "&Save", QKeySequence.StandardKey.Save, docs.save)
        self._action(file_menu, "Save &As…", QKeySequence("Ctrl+Shift+S"), docs.save_as)
        export_menu = file_menu.addMenu("&Export table")
        keys = {"csv": "Ctrl+E", "markdown": "Ctrl+Shift+E", "torchsummary": "Ctrl+Alt+E"}
        for kind, (title, *_rest) in EXPORTS.items():
            self._action(
                export_menu, f"{title}…", QKeySequence(keys[kind]), lambda k=kind: docs.export_table(k)
            )
        self._action(file_menu, "Export &model…", QKeySequence("Ctrl+Shift+M"), self.export_model)
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", QKeySequence("Ctrl+Q"), self.close)

        edit_menu = self.menus["&Edit"]
        self.undo_action = self._action(edit_menu, "&Undo", QKeySequence.StandardKey.Undo, self.session.undo)
        self.redo_action = self._action(edit_menu, "&Redo", QKeySequence.StandardKey.Redo, self.session.redo)
        for action, key in (
            (self.undo_action, QKeySequence.StandardKey.Undo),
            (self.redo_action, QKeySequence.StandardKey.Redo),
        ):
            action.setShortcuts(key)  # every key the platform knows for it (Ctrl+Y and Ctrl+Shift+Z)
            # Also from the editor dock once it floats in a window of its own.
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.session.history_changed.connect(self._update_history_actions)
        self._update_history_actions()

        view_menu = self.menus["&View"]
        view_menu.addAction(self.editor_dock.toggleViewAction())
        self._action(view_menu, "Go to the architecture", QKeySequence("Ctrl+Shift+A"), self.focus_editor)
        view_menu.addSeparator()
        self._action(view_menu, "Expand all layers", QKeySequence("Ctrl+]"), self.layer_view.expand_all)
        self._action(view_menu, "Collapse all layers", QKeySequence("Ctrl+["), self.layer_view.collapse_all)
        view_menu.addAction(self.layer_view.filter_action)
        view_menu.addSeparator()
        for number, (title, _target) in enumerate(TABS, start=1):
            self._action(
                view_menu, f"{title} tab", QKeySequence(f"Ctrl+{number}"), lambda t=title: self.show_tab(t)
            )
        # The diagram's zoom, from anywhere in the window while the Diagram tab is on show.
        view_menu.addSection("Diagram")
        self.diagram_zoom_actions = []
        for text, zoom_keys, method in DIAGRAM_ZOOM:
            action = self._action(view_menu, text, None, lambda m=method: self._zoom_diagram(m))
            action.setShortcuts([QKeySequence(key) for key in zoom_keys])
            self.diagram_zoom_actions.append(action)
        self.tabs.currentChanged.connect(lambda _index: self._enable_diagram_zoom())
        self._enable_diagram_zoom()

        tools_menu = self.menus["&Tools"]
        from explorer.gui.bench_runner import shared_runner
        from explorer.gui.cross_check import CrossCheckAction

        self.cross_check = CrossCheckAction(self, lambda: self.session.spec, shared_runner(self.session))
        tools_menu.addAction(self.cross_check.action)

        help_menu = self.menus["&Help"]
        shortcuts = self._action(help_menu, "&Keyboard shortcuts", None, self.show_shortcuts)
        shortcuts.setShortcuts([QKeySequence(QKeySequence.StandardKey.HelpContents), QKeySequence("Ctrl+/")])
        help_menu.addAction("&About ResNet Explorer", self.show_about)

    def _action(self, menu, text: str, shortcut, slot) -> QAction:  # type: ignore[no-untyped-def]
        action = menu.addAction(text)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _zoom_diagram(self, method: str) -> None:
        panel = self.show_tab("Diagram")
        getattr(panel.view, method)()  # type: ignore[attr-defined]

    def _enable_diagram_zoom(self) -> None:
        on_show = self.tabs.currentWidget() is self.tab_pages["Diagram"]
        for action in self.diagram_zoom_actions:
            action.setEnabled(on_show)
        # Ctrl+F finds in the diagram while it is on show (the tab's own action): two actions on
        # one key would leave the key doing nothing.
        find_keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Find)
        self.layer_view.filter_action.setShortcuts([] if on_show else find_keys)

    def focus_editor(self) -> None:
        """Show the architecture dock (in front, if tabbed or floating) with the focus in it."""
        self.editor_dock.show()
        self.editor_dock.raise_()
        focus = QApplication.focusWidget()
        if focus is None or not self.editor.isAncestorOf(focus):
            self.editor.preset_combo.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _update_history_actions(self) -> None:
        self.undo_action.setEnabled(self.session.can_undo())
        self.redo_action.setEnabled(self.session.can_redo())

    def export_model(self) -> ModelExportDialog:
        """File > Export model…: one dialog per window, kept while it works."""
        from explorer.gui.bench_runner import shared_runner
        from explorer.gui.model_export import ModelExportDialog

        dialog = getattr(self, "model_export_dialog", None)
        if dialog is None:
            folder = self.session.path.parent if self.session.path is not None else ""
            dialog = ModelExportDialog(
                self, lambda: self.session.spec, shared_runner(self.session), str(folder)
            )
            self.model_export_dialog = dialog
        dialog.open()
        return dialog

    def show_about(self) -> None:
        self.about_box().exec()

    def where_files_live(self) -> dict[str, Path]:
        """The files the app keeps between launches, by what they hold."""
        self.finish_building()
        return {
            "Settings": Path(self.settings.fileName()),
            "Comparison workspace (its variants and their timings)": self.workspace.path,
        }

    def about_box(self) -> QMessageBox:
        from explorer.gui.about import about_html

        box = QMessageBox(self)
        box.setWindowTitle("About ResNet Explorer")
        box.setIconPixmap(icons.app_icon().pixmap(64, 64))
        box.setTextFormat(Qt.TextFormat.RichText)
        places = self.where_files_live()
        box.setText(about_html(places))
        # A message box wraps its text to a width of its own: no narrower than the longest
        # path (and its icon beside it), so that no path is broken across lines.
        layout = box.layout()
        if isinstance(layout, QGridLayout):
            metrics = QFontMetrics(box.font())
            width = max(metrics.horizontalAdvance(str(path)) for path in places.values()) + ABOUT_ICON_ROOM
            layout.addItem(QSpacerItem(width, 0), layout.rowCount(), 0, 1, layout.columnCount())
        box.setStandardButtons(QMessageBox.StandardButton.Close)
        folder = places["Settings"].parent
        open_folder = box.addButton("&Open the settings folder", QMessageBox.ButtonRole.ActionRole)
        open_folder.clicked.connect(lambda _checked=False: self.open_folder(folder))
        return box

    def open_folder(self, folder: Path) -> bool:
        """Show ``folder`` in the desktop's file manager (made first if the app has not yet written there)."""
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def show_shortcuts(self) -> None:
        self.shortcuts_box().exec()

    def shortcuts_box(self) -> QMessageBox:
        from explorer.gui.about import shortcuts_html

        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(shortcuts_html(self.menuBar()))
        # A message box is as narrow as its text, and its title bar (where the window manager
        # adds the application's name) would be cut: no narrower than the whole title.
        layout = box.layout()
        if isinstance(layout, QGridLayout):
            width = title_bar_width(box)
            layout.addItem(QSpacerItem(width, 0), layout.rowCount(), 0, 1, layout.columnCount())
        return box

    def _panel_built(self, panel: QWidget) -> None:
        if isinstance(panel, RemembersOptions):
            panel.use_settings(self.settings)

    def show_tab(self, title: str) -> QWidget:
        """Switch to the tab ``title`` and return its panel (built if needed)."""
        page = self.tab_pages[title]
        self.tabs.setCurrentWidget(page)
        return page.ensure_panel() if isinstance(page, LazyTab) else page

    def open_comparison(self, path: Path) -> bool:
        """Show the comparison in ``path`` in the Compare tab (which asks before replacing one)."""
        open_file = getattr(self.show_tab("Compare"), "open_file", None)
        return open_file is not None and bool(open_file(str(path)))

    # Session events

    def _edited(self, result: object, field: str) -> None:
        if isinstance(result, SpecError):
            self.session.report_invalid(result, field)
        else:
            self.session.propose(result, field)  # type: ignore[arg-type]

    def _spec_changed(self, spec: object) -> None:
        self._failure = ""
        if self._verify:
            self.verifier.check(spec)  # type: ignore[arg-type]
        self._update_title()

    def _analysis_failed(self, message: str) -> None:
        self._failure = message
        self._update_banner()

    def _show_verification(self, result: Verification) -> None:
        marks = {"ok": "✔ ", "pending": "○ ", "mismatch": "✖ ", "unavailable": "⚠ "}
        self.verification_label.setText(marks[result.state] + result.message)
        self.verification_label.setToolTip("\n".join(result.details) or result.message)
        set_style_property(self.verification_label, "state", result.state)
        self._mismatch = result if result.state == "mismatch" else None
        self._update_banner()

    def _update_banner(self) -> None:
        error = self.session.spec_error
        if self._mismatch is not None:
            text, level = "✖ " + self._mismatch.message + "  (the analysis shown may be wrong)", "error"
        elif self._failure:
            text, level = f"✖ The analysis failed: {self._failure}", "error"
        elif error is not None:
            from explorer.gui.panels.editor_fields import describe_spec_error

            others = len(self.editor.problems) - 1 if self._built else 0
            more = f" ({counted(others, 'more field')} to fix, marked in the dock)" if others > 0 else ""
            text = (
                f"⚠ {describe_spec_error(error)}{more}. "
                "Showing the last valid architecture until this is fixed."
            )
            level = "warning"
        else:
            text, level = "", ""
        self.banner.setText(text)
        set_style_property(self.banner, "level", level)
        self.banner.setVisible(bool(text))
        # The last valid results stay on screen, greyed (disabled) until the fields are valid.
        stale = error is not None or bool(self._failure)
        dependent = [page for title, page in self.tab_pages.items() if title not in SPEC_INDEPENDENT_TABS]
        for widget in (*dependent, self.totals):
            widget.setEnabled(not stale)

    def _update_title(self) -> None:
        path = self.session.path
        if path is not None:
            name = path.name
        elif self._built:
            name = self.editor.preset_caption() or "untitled"
        else:  # the editor's "custom (from …)" comes with the editor
            name = preset_name_of(self.session.spec) or "untitled"
        self.setWindowTitle(f"{name}[*] — ResNet Explorer")
        self.setWindowModified(self.session.is_modified())

    # State

    def _free_area(self) -> QRect:
        """The free area (without panels and docks) of the screen the window is on."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def restore_state(self) -> None:
        geometry = saved_window(self.settings, GEOMETRY)
        if geometry is not None and self.restoreGeometry(geometry) and not self.isMaximized():
            # Saved on a larger screen, or at a smaller scale: no larger than this one.
            self.setGeometry(fitted_geometry(self.geometry(), self._free_area()))
        state = saved_window(self.settings, WINDOW_STATE)
        if state is not None:
            self.restoreState(state)
        index = saved_tab(self.settings)
        if 0 <= index < self.tabs.count():
            self.tabs.setCurrentIndex(index)

    def save_state(self, keep_edits: bool = True) -> None:
        """Remember the window and its document; without ``keep_edits``, the document as saved."""
        self.settings.setValue(GEOMETRY, self.saveGeometry())
        self.settings.setValue(WINDOW_STATE, self.saveState())
        self.settings.setValue(CURRENT_TAB, self.tabs.currentIndex())
        spec = self.session.spec if keep_edits else self.session.saved_spec
        remember_document(self.settings, spec, self.session.path)
        self.settings.sync()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._verify:
            # Start the torch process once the window is on screen, not before.
            QTimer.singleShot(0, self._start_verifier)
        if not self._preloaded:
            self._preloaded = True
            lazy = [target for title, target in TABS if isinstance(self.tab_pages[title], LazyTab)]
            # The thread workers too: else the first edit imports them on the GUI thread.
            QTimer.singleShot(PRELOAD_DELAY_MS, lambda: preload_modules([WORKER_MODULE, *lazy]))

    def _start_verifier(self) -> None:
        self.verifier.start()
        if self.verifier.last.spec is None:
            self.verifier.check(self.session.spec)

    # Dropping a spec or comparison file on the window opens it

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_file(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _dropped_file(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.finish_building()
            self.documents.open_path(path)

    def shutdown(self) -> None:
        """Quit now, without asking: the spec being edited is remembered as the last one."""
        self.save_state()
        self.verifier.stop()
        _finish_workers()
        QApplication.quit()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.finish_building()
        if not self.documents.may_discard():
            event.ignore()
            return
        # Edits still unsaved here were discarded by the person: the next launch must not bring them back.
        self.save_state(keep_edits=False)
        self.verifier.stop()
        _finish_workers()
        event.accept()
