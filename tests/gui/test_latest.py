"""The newest request wins: stale outcomes dropped, one at a time where asked, and the
newest request run after the one in flight."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject

from explorer.gui.app import application
from explorer.gui.latest import Latest, latest_in_thread


def recording(**options: object) -> tuple[Latest[str], list[tuple[str, int]]]:
    started: list[tuple[str, int]] = []
    latest: Latest[str] = Latest(lambda value, ticket: started.append((value, ticket)), **options)  # type: ignore[arg-type]
    return latest, started


def test_only_the_newest_outcome_is_used() -> None:
    latest, started = recording()
    latest.request("a")
    latest.request("b")
    assert [value for value, _ in started] == ["a", "b"]  # both run
    (_, first), (_, second) = started
    assert latest.outstanding == "b"
    assert latest.finished(second) is True
    assert latest.finished(first) is False  # older, and later: dropped
    assert latest.dropped == 1 and not latest.busy


def test_one_at_a_time_runs_the_newest_request_after_the_one_in_flight() -> None:
    latest, started = recording(one_at_a_time=True)
    latest.request("a")
    for value in ("b", "c", "d"):
        latest.request(value)
    assert [value for value, _ in started] == ["a"]  # the others wait, merged into the newest
    assert latest.finished(started[0][1]) is False
    assert [value for value, _ in started] == ["a", "d"]
    assert latest.busy and latest.outstanding == "d"
    assert latest.finished(started[1][1]) is True
    assert not latest.busy and latest.dropped == 1


def test_the_request_waiting_can_start_after_the_outcome_is_used() -> None:
    latest, started = recording(one_at_a_time=True)
    latest.request("a")
    latest.request("b")
    assert latest.finished(started[0][1], resume=False) is False
    assert [value for value, _ in started] == ["a"]  # the owner uses "a"'s outcome first
    latest.resume()
    assert [value for value, _ in started] == ["a", "b"]


def test_a_held_request_starts_on_resume() -> None:
    allowed = False
    latest, started = recording(may_start=lambda: allowed)
    latest.request("a")
    latest.request("b")
    assert started == []
    allowed = True
    latest.resume()
    assert [value for value, _ in started] == ["b"]


def test_abandoned_work_frees_the_way() -> None:
    latest, started = recording(one_at_a_time=True)
    latest.request("a")
    latest.abandon()
    latest.request("b")
    assert [value for value, _ in started] == ["a", "b"]


def test_in_a_thread_a_slow_stale_result_is_dropped(qtbot) -> None:  # type: ignore[no-untyped-def]
    application()
    release = threading.Event()

    def work(value: str) -> str:
        if value == "slow":
            release.wait(5)
        return value

    context = QObject()
    results: list[str] = []
    latest = latest_in_thread(work, results.append, results.append, context)
    latest.request("slow")
    latest.request("fast")
    qtbot.waitUntil(lambda: results == ["fast"], timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: latest.running == 0, timeout=5000)
    assert results == ["fast"] and latest.dropped == 1


def test_after_cancel_no_outcome_is_used() -> None:
    latest, started = recording()
    latest.request("a")
    latest.cancel()
    assert not latest.finished(started[0][1])
    assert latest.outstanding is None


def test_a_diff_still_drawing_when_the_variants_go_is_not_shown(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from explorer.core.compare import Comparison
    from explorer.core.presets import preset
    from explorer.gui.panels import compare_diff

    application()
    release = threading.Event()
    drawn = []
    draw = compare_diff.diff_svgs

    def slow_svgs(pair):  # type: ignore[no-untyped-def]
        release.wait(5)
        svgs = draw(pair)
        drawn.append(pair)
        return svgs

    monkeypatch.setattr(compare_diff, "diff_svgs", slow_svgs)
    view = compare_diff.DiffView()
    qtbot.addWidget(view)
    two = Comparison().add("a", preset("resnet18")).add("b", preset("resnet34"))
    view.set_comparison(two)
    view.set_comparison(Comparison().add("a", preset("resnet18")))  # one variant: nothing to draw
    release.set()
    qtbot.waitUntil(lambda: len(drawn) == 1, timeout=10_000)
    qtbot.wait(100)  # the finished drawing reaches the view, or is dropped
    assert view.first_diagram.svg.renderer().defaultSize().isEmpty()
