"""The document being edited: its spec, its analysis, where it is saved, its undo history.

Every accepted edit (after a short debounce) starts the analysis on a worker thread: it
starts from the analysis shown and recomputes only what the edit changed, and works out
there, too, what changes in the layer table (``tree_change``), so that the GUI thread
only swaps in the rows that differ. An analysis is shown unless a newer edit's is shown
already, so a slow, stale analysis can never overwrite a newer one, and a fast run of
edits (a held arrow key) shows the steps on the way instead of nothing until it ends.

Typing is one undo step, not one per keystroke: edits that name the same field one
after the other (a "burst", ended by ``end_burst`` or an edit of another field) share
one step. A keystroke is a step on the way, not a state to keep: when a burst reaches
an invalid value, the last valid spec shown is the one from before the burst.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from explorer.core.analysis import Analysis, analyze, analyze_after
from explorer.core.spec import ArchSpec, SpecError
from explorer.gui.latest import Latest
from explorer.gui.models.layer_tree import TreeChange, free_tree, prepare_looks, tree_change
from explorer.gui.workers import run_in_thread

# None: an edit's analysis costs what the edit changes (a few ms), and results a newer
# edit has overtaken are dropped anyway. The timer still joins the steps of one keystroke
# (a stem that brings its own input size), which all arrive before it fires.
DEBOUNCE_MS = 0
MAX_UNDO = 200


class Session(QObject):
    spec_loaded = Signal(object)  # ArchSpec the fields must show: a new document
    spec_restored = Signal(object)  # ArchSpec the fields must show: an undo or a redo of this one
    spec_changed = Signal(object)  # ArchSpec: the current valid spec, at every accepted edit
    analysis_changed = Signal(object)  # Analysis of the current spec
    spec_error_changed = Signal(object)  # SpecError, or None once the fields are valid again
    analysis_failed = Signal(str)
    modified_changed = Signal(bool)
    path_changed = Signal(object)  # Path | None
    history_changed = Signal()  # what undo and redo can do changed
    # tuple[int, ...]: the analysis rows selected in any view (layer table, diagram), sorted.
    # Views show it and propose changes through ``select_rows``; an unchanged selection is
    # never re-emitted, so views that echo each other cannot loop.
    selection_changed = Signal(object)

    def __init__(
        self,
        spec: ArchSpec,
        parent: QObject | None = None,
        analyze_fn: Callable[[ArchSpec], Analysis] | None = None,
        debounce_ms: int = DEBOUNCE_MS,
    ) -> None:
        """``analyze_fn`` replaces the incremental analysis (the tests slow it down or fail it)."""
        super().__init__(parent)
        prepare_looks()  # the rows its worker makes share icons made on this thread
        self._analyze_fn = analyze_fn
        self._spec = spec
        self._saved_spec = spec
        self._path: Path | None = None
        self._spec_error: SpecError | None = None
        self._generation = 0
        self._undo: list[ArchSpec] = []
        self._redo: list[ArchSpec] = []
        self._burst_field: str | None = None  # the field being typed into, while its edits merge
        self._burst_start = spec  # the spec from before that typing
        self._burst_has_step = False  # whether the undo stack holds ``_burst_start`` for it
        self._selected_rows: tuple[int, ...] = ()
        # The first analysis runs at once (about 2 ms) so the first picture already shows it.
        self._analysis = (analyze_fn or analyze)(spec)
        self._tree_change: TreeChange | None = None
        self._timer = QTimer(self, singleShot=True, interval=debounce_ms)
        self._timer.timeout.connect(self._start_analysis)
        # Each edit's analysis starts at once, from the analysis shown, unless one is running:
        # then the newest edit's waits for it. One that a newer edit has overtaken is still
        # shown if nothing newer is shown yet: a held arrow key gives a table that follows
        # the spin box, not one that waits for the key's release. The next one starts once
        # the table shows this one: a worker running Python meanwhile would take the
        # interpreter from the GUI thread every millisecond, and showing would take twice as long.
        self._analyses: Latest[ArchSpec] = Latest(self._start_work, one_at_a_time=True)
        self._shown_ticket = 0

    # State

    @property
    def spec(self) -> ArchSpec:
        return self._spec

    @property
    def analysis(self) -> Analysis:
        """The analysis of the newest valid spec that has finished (may lag ``spec``)."""
        return self._analysis

    @property
    def tree_change(self) -> TreeChange | None:
        """How the layer table changes from the analysis shown before to ``analysis``
        (None when it was not worked out, as for the first analysis)."""
        change = self._tree_change
        return change if change is not None and change.analysis is self._analysis else None

    @property
    def spec_error(self) -> SpecError | None:
        return self._spec_error

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def generation(self) -> int:
        return self._generation

    @property
    def is_current(self) -> bool:
        """Whether the analysis shown belongs to the spec being edited."""
        return self._analysis.spec == self._spec and self._spec_error is None

    @property
    def saved_spec(self) -> ArchSpec:
        """What the document's file holds (or what it was opened as, if it has no file)."""
        return self._saved_spec

    def is_modified(self) -> bool:
        return self._spec != self._saved_spec

    @property
    def selected_rows(self) -> tuple[int, ...]:
        """Indices into ``analysis.rows`` selected in any view (empty: nothing selected)."""
        return self._selected_rows

    def select_rows(self, rows: Iterable[int]) -> None:
        selected = tuple(sorted(set(rows)))
        if selected != self._selected_rows:
            self._selected_rows = selected
            self.selection_changed.emit(selected)

    # Edits

    def propose(self, spec: ArchSpec, field: str = "") -> None:
        """A valid spec from the editor; ``field`` names the field being typed into, if any."""
        self._set_error(None)
        if spec == self._spec:
            return
        self._continue_burst(field)
        self._redo = []
        self._replace(spec)
        self._sync_burst_step()
        self.history_changed.emit()

    def _continue_burst(self, field: str) -> None:
        if not field or field != self._burst_field:
            self._burst_field = field or None
            self._burst_start = self._spec
            self._burst_has_step = False

    def _sync_burst_step(self) -> None:
        """Keep exactly one undo step for the burst: none once it is back where it began."""
        if self._spec == self._burst_start and self._burst_has_step:
            self._undo.pop()
            self._burst_has_step = False
        elif self._spec != self._burst_start and not self._burst_has_step:
            self._undo = [*self._undo[-(MAX_UNDO - 1) :], self._burst_start]
            self._burst_has_step = True

    def end_burst(self) -> None:
        """The typing in a field is over: its next edit is a step of its own."""
        self._burst_field = None

    def _replace(self, spec: ArchSpec) -> None:
        was_modified = self.is_modified()
        self._spec = spec
        self._generation += 1
        self.spec_changed.emit(spec)
        if self.is_modified() != was_modified:
            self.modified_changed.emit(self.is_modified())
        self._schedule_analysis()

    # Undo and redo

    def can_undo(self) -> bool:
        return bool(self._undo) or self._spec_error is not None

    def can_redo(self) -> bool:
        return bool(self._redo)

    def undo(self) -> None:
        """Back to the previous valid spec; first, from invalid fields to the last valid one."""
        self.end_burst()
        if self._spec_error is not None:
            self._set_error(None)
            self.spec_restored.emit(self._spec)
        elif self._undo:
            self._redo.append(self._spec)
            spec = self._undo.pop()
            self.spec_restored.emit(spec)
            self._replace(spec)
        self.history_changed.emit()

    def redo(self) -> None:
        if not self._redo:
            return
        self.end_burst()
        self._set_error(None)
        self._undo.append(self._spec)
        spec = self._redo.pop()
        self.spec_restored.emit(spec)
        self._replace(spec)
        self.history_changed.emit()

    def report_invalid(self, error: SpecError, field: str = "") -> None:
        """The editor's fields do not make a valid spec; the last valid results stay.

        Typing that reaches an invalid value went through values that were never meant
        (99 on the way to 99999): the valid spec kept is the one from before the typing.
        """
        self._set_error(error)
        self._continue_burst(field)
        if self._spec != self._burst_start:
            self._replace(self._burst_start)
            self._sync_burst_step()
            self.history_changed.emit()

    def load(self, spec: ArchSpec, path: Path | None = None, saved_spec: ArchSpec | None = None) -> None:
        """Start a new document (New, Open, restore); ``saved_spec`` is what ``path`` holds."""
        self._path = path
        self._saved_spec = spec if saved_spec is None else saved_spec
        self._undo, self._redo = [], []
        self.end_burst()
        self.history_changed.emit()
        self._set_error(None)
        self.spec_loaded.emit(spec)
        if spec != self._spec:
            self._spec = spec
            self._generation += 1
            self.spec_changed.emit(spec)
            self._schedule_analysis()
        self.path_changed.emit(path)
        self.modified_changed.emit(self.is_modified())

    def mark_saved(self, path: Path) -> None:
        self._path = path
        self._saved_spec = self._spec
        self.path_changed.emit(path)
        self.modified_changed.emit(False)

    def _set_error(self, error: SpecError | None) -> None:
        if error is None and self._spec_error is None:
            return
        self._spec_error = error
        self.spec_error_changed.emit(error)
        self.history_changed.emit()

    # The analysis

    def _schedule_analysis(self) -> None:
        if self._timer.interval() > 0:
            self._timer.start()
        else:  # at once: the worker runs while the window paints the edited field
            self._start_analysis()

    def _start_analysis(self) -> None:
        self._analyses.request(self._spec)

    def _start_work(self, spec: ArchSpec, ticket: int) -> None:
        def failed(message: str) -> None:
            if self._analyses.finished(ticket):
                self._fail(message)

        def finished(result: Analysis | TreeChange | None) -> None:
            self._analyses.finished(ticket, resume=False)
            try:
                if result is not None:
                    self._finished(ticket, result)
            finally:
                self._analyses.resume()

        request = (spec, self._analysis, ticket)
        run_in_thread(self._work, request, on_result=finished, on_error=failed, context=self)

    def _finished(self, ticket: int, result: Analysis | TreeChange) -> None:
        if ticket <= self._shown_ticket:
            self._drop_unshown(result)  # a newer edit's analysis is shown already
            return
        if isinstance(result, TreeChange) and result.base is not self._analysis:
            self._drop_unshown(result)
            # Made from an analysis that another has replaced since: work the table's change
            # out again, from the one shown, away from the GUI thread too.
            run_in_thread(
                tree_change,
                self._analysis,
                result.analysis,
                on_result=lambda change: self._finished(ticket, change),
                on_error=self._fail,
                context=self,
            )
            return
        self._shown_ticket = ticket
        self._accept(result, newest=ticket == self._analyses.newest)

    def _work(self, request: tuple[ArchSpec, Analysis, int]) -> Analysis | TreeChange | None:
        """On the worker thread: the analysis of ``spec``, from the one shown; None if a
        newer edit was made before this work could start (the newer one's work follows, so
        edits faster than the analysis never queue up work nobody will see)."""
        spec, shown, ticket = request
        if ticket != self._analyses.newest:
            return None
        if self._analyze_fn is not None:
            return self._analyze_fn(spec)
        return tree_change(shown, analyze_after(shown, spec))

    def _accept(self, result: Analysis | TreeChange, newest: bool = True) -> None:
        """Show an analysis: the newest edit's, or one an edit made since has overtaken
        (shown all the same, the newest one's is on its way), but not one older than the
        analysis shown."""
        if not newest and self._spec_error is not None:
            self._drop_unshown(result)
            return
        change = result if isinstance(result, TreeChange) else None
        analysis = result.analysis if isinstance(result, TreeChange) else result
        previous, self._analysis, self._tree_change = self._analysis, analysis, change
        # Row indices of the old analysis may mean other layers now: keep those that
        # still name the same layer, silently, so that the views show it after their update.
        before = self._selected_rows
        self._selected_rows = _same_layers(previous, analysis, before)
        self.analysis_changed.emit(analysis)
        if self._selected_rows != before:
            self.selection_changed.emit(self._selected_rows)

    @staticmethod
    def _drop_unshown(result: Analysis | TreeChange) -> None:
        """Free a change never shown now, by reference counting, not at a garbage collection."""
        if isinstance(result, TreeChange):
            free_tree(result.root)

    def _fail(self, message: str) -> None:
        if not self._timer.isActive():
            self.analysis_failed.emit(message)


def _same_layers(before: Analysis, after: Analysis, rows: tuple[int, ...]) -> tuple[int, ...]:
    """The rows of ``after`` that are the layers ``rows`` were in ``before``: the same row
    where an edit left it, or shifted by the rows the edit added or removed before it."""
    if not rows:
        return ()
    shift = len(after.rows) - len(before.rows)
    kept = []
    for index in rows:
        old = before.rows[index]
        for candidate in (index, index + shift):
            if 0 <= candidate < len(after.rows):
                new = after.rows[candidate]
                if new is old or (new.name == old.name and new.op == old.op and new.type == old.type):
                    kept.append(candidate)
                    break
    return tuple(sorted(set(kept)))
