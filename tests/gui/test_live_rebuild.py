"""Live rebuild: rapid edits settle on the final spec; a stale result never wins."""

from __future__ import annotations

import random
import threading
import time

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.core.spec import ArchSpec
from explorer.gui.session import Session

from .conftest import expected_layers, table_layers, wait_current


def test_200_rapid_edits_end_with_the_final_spec(qtbot, window) -> None:  # type: ignore[no-untyped-def]
    editor = window.editor
    chooser = random.Random(20151210)
    for step in range(200):
        row = editor.stage_rows[chooser.randrange(len(editor.stage_rows))]
        kind = chooser.choice(("depth", "width", "stride", "classes"))
        if kind == "depth":
            row.depth.setValue(chooser.randint(1, 6))
        elif kind == "width":
            row.width.setValue(chooser.choice((16, 32, 48, 64, 96, 128)))
        elif kind == "stride":
            row.stride.setValue(chooser.randint(1, 2))
        else:
            editor.classes_spin.setValue(chooser.randint(0, 20))
        if step % 25 == 0:
            qtbot.wait(1)  # let some analyses start and finish in between
    final = editor.current()
    assert isinstance(final, ArchSpec)
    assert window.session.spec == final
    wait_current(qtbot, window)
    analysis = analyze(final)
    assert window.layer_view.model.analysis == analysis
    assert table_layers(window) == expected_layers(analysis)
    assert (
        window.totals.cards["params"].toolTip().startswith(f"Total params: {analysis.totals.total_params:,}")
    )


def test_a_slow_stale_analysis_never_overwrites_a_newer_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    """One analysis runs at a time: a newer edit's waits for the one running, which is
    shown on the way (as with a held key), and then replaced; never the other way round."""
    first, second = preset("resnet18"), preset("resnet34")
    release = threading.Event()
    started: list[ArchSpec] = []

    def analyze_slowly(spec: ArchSpec):  # type: ignore[no-untyped-def]
        if spec in (first, second):  # not the document's own first analysis
            started.append(spec)
        if spec == first:
            release.wait(5)
        return analyze(spec)

    session = Session(preset("cifar/resnet20"), analyze_fn=analyze_slowly, debounce_ms=0)
    shown = []
    session.analysis_changed.connect(lambda analysis: shown.append(analysis.spec))
    session.propose(first)
    qtbot.waitUntil(lambda: started == [first], timeout=5000)
    session.propose(second)
    qtbot.wait(50)
    assert started == [first] and shown == []  # the newest waits for the one running
    release.set()
    qtbot.waitUntil(lambda: shown == [first, second], timeout=5000)
    qtbot.wait(100)
    assert shown == [first, second]
    assert session.analysis.spec == second and session.is_current


def test_a_failing_analysis_is_reported_inline(qtbot) -> None:  # type: ignore[no-untyped-def]
    def analyze_or_fail(spec: ArchSpec):  # type: ignore[no-untyped-def]
        if spec.num_classes == 7:
            raise RuntimeError("no rule for this layer")
        return analyze(spec)

    session = Session(preset("resnet18"), analyze_fn=analyze_or_fail, debounce_ms=0)
    failures = []
    session.analysis_failed.connect(failures.append)
    session.propose(ArchSpec(num_classes=7))
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert failures == ["RuntimeError: no rule for this layer"]
    assert session.analysis.spec == preset("resnet18")  # the last good result stays


def test_the_selection_is_shared_through_the_session(qtbot) -> None:  # type: ignore[no-untyped-def]
    session = Session(preset("resnet18"))
    seen = []
    session.selection_changed.connect(seen.append)
    session.select_rows([5, 3, 5])
    session.select_rows((3, 5))  # the same selection: no signal
    session.select_rows(())
    assert seen == [(3, 5), ()]
    assert session.selected_rows == ()


def test_no_analysis_runs_while_the_window_shows_one(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A worker running Python while the GUI thread shows a result would take the
    interpreter from it every millisecond: an edit made meanwhile is analysed after."""
    base = preset("cifar/resnet20")
    first, second = base.with_depths((4, 3, 3)), base.with_depths((5, 3, 3))
    running: list[ArchSpec] = []
    first_started, first_shown = threading.Event(), threading.Event()

    def analyze_marked(spec: ArchSpec):  # type: ignore[no-untyped-def]
        running.append(spec)
        try:
            if spec == first:
                first_started.set()
                time.sleep(0.05)  # the second edit is made meanwhile
            if spec == second:
                first_shown.wait(5)
            return analyze(spec)
        finally:
            running.remove(spec)

    session = Session(base, analyze_fn=analyze_marked, debounce_ms=0)
    overlapped: list[list[ArchSpec]] = []

    def show(analysis) -> None:  # type: ignore[no-untyped-def]
        overlapped.append(list(running))
        if analysis.spec == first:
            first_shown.set()

    session.analysis_changed.connect(show)
    session.propose(first)
    qtbot.waitUntil(first_started.is_set, timeout=5000)
    session.propose(second)
    qtbot.waitUntil(lambda: session.analysis.spec == second, timeout=5000)
    assert overlapped == [[], []]


def test_an_edit_starts_its_analysis_before_the_window_paints_it(qtbot) -> None:  # type: ignore[no-untyped-def]
    """With no debounce the worker starts at once, not a turn of the event loop later: it
    runs while the window paints the edited field."""
    started = threading.Event()

    def analyze_marked(spec: ArchSpec):  # type: ignore[no-untyped-def]
        started.set()
        return analyze(spec)

    session = Session(preset("cifar/resnet20"), analyze_fn=analyze_marked, debounce_ms=0)
    started.clear()
    session.propose(preset("cifar/resnet20").with_depths((4, 3, 3)))
    assert started.wait(5)  # no event processed since the edit
    qtbot.waitUntil(lambda: session.is_current, timeout=5000)
