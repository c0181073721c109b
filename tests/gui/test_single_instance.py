"""One window: a launch while the app runs hands its files to the running window, which
opens them and comes to the front; a stale socket never blocks a start; --new-window opts out."""

from __future__ import annotations

import importlib
import os
import socket
import threading
from pathlib import Path

from explorer.cli import main
from explorer.core.compare import Comparison
from explorer.core.presets import preset
from explorer.gui import single_instance
from explorer.gui.app import take_request
from explorer.gui.main_window import MainWindow
from explorer.gui.single_instance import InstanceClaim, NoAnswer, Opening, Request, hand_over_or_claim

from .conftest import open_window


def _serve(window: MainWindow) -> InstanceClaim:
    claim = hand_over_or_claim(Request())
    assert claim is not None and claim.path is not None  # no window runs yet: this one is the first
    server = claim.serve(window, lambda request: take_request(window, request))
    assert server is not None
    return claim


def _launch(qtbot, request: Request) -> list[object]:  # type: ignore[no-untyped-def]
    """A later launch, in a thread of its own (it waits for the answer the window's event
    loop gives, which the test keeps turning): what hand_over_or_claim returned or raised."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(hand_over_or_claim(request))
        except NoAnswer as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=60_000)
    thread.join()
    return outcome


def _files(folder: Path) -> tuple[Path, Path, Comparison]:
    spec = folder / "first.resnet.json"
    preset("cifar/resnet20").save(spec)
    comparison = Comparison().add("small", preset("cifar/resnet20")).add("big", preset("cifar/resnet56"))
    compared = folder / "pair.resnet-compare.json"
    comparison.save(compared)
    return spec, compared, comparison


def test_a_later_launch_hands_its_files_to_the_running_window(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("resnet18"))
    _serve(window)
    spec, compared, comparison = _files(tmp_path)
    outcome = _launch(qtbot, Request((Opening(path=spec), Opening(path=compared))))
    assert outcome == [None]  # handed over: this launch opens no window
    qtbot.waitUntil(lambda: window.workspace.comparison == comparison, timeout=10_000)
    assert window.session.path == spec and window.session.spec == preset("cifar/resnet20")
    assert window.tabs.currentWidget() is window.tab_pages["Compare"]
    outcome = _launch(qtbot, Request((Opening(preset="torchvision/resnet50"),)))
    assert outcome == [None]
    qtbot.waitUntil(lambda: window.session.spec == preset("torchvision/resnet50"), timeout=10_000)


def test_a_launch_without_files_brings_the_window_to_the_front(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("resnet18"))
    _serve(window)
    window.showMinimized()
    qtbot.waitUntil(window.isMinimized, timeout=5_000)
    assert _launch(qtbot, Request(activation={"XDG_ACTIVATION_TOKEN": "token-1"})) == [None]
    qtbot.waitUntil(lambda: not window.isMinimized(), timeout=10_000)
    assert window.isVisible()
    assert os.environ.pop("XDG_ACTIVATION_TOKEN", None) == "token-1"  # for Qt to hand to the desktop


def test_a_stale_socket_of_a_crashed_window_does_not_block_the_start(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    path = single_instance.socket_path()
    assert path is not None
    crashed = socket.socket(socket.AF_UNIX)
    crashed.bind(os.fsencode(path))
    crashed.close()  # the file stays, and nothing listens on it: what a killed app leaves
    assert path.exists()
    window = open_window(qtbot, settings, preset("resnet18"))
    _serve(window)
    assert _launch(qtbot, Request((Opening(preset="cifar/resnet32"),))) == [None]
    qtbot.waitUntil(lambda: window.session.spec == preset("cifar/resnet32"), timeout=10_000)


def test_a_launch_waits_for_one_that_is_starting(qtbot, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The first launch holds the lock from its look for a window until it listens: a launch
    # in between waits, then hands over rather than opening a second window.
    first = hand_over_or_claim(Request())
    assert first is not None and first.path is not None
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(hand_over_or_claim(Request())))
    thread.start()
    window = open_window(qtbot, settings, preset("resnet18"))
    assert thread.is_alive()  # waiting on the lock, not claiming
    server = first.serve(window, lambda request: take_request(window, request))
    assert server is not None
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=60_000)
    assert outcome == [None]
    server.close()


def test_garbage_on_the_socket_is_dropped_and_the_window_keeps_listening(qtbot, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("resnet18"))
    claim = _serve(window)
    assert claim.path is not None
    intruder = socket.socket(socket.AF_UNIX)
    intruder.connect(os.fsencode(claim.path))
    intruder.sendall(b"\xff\xfe not json\n")
    intruder.settimeout(10)
    answers: list[bytes] = []
    reader = threading.Thread(target=lambda: answers.append(intruder.recv(16)))
    reader.start()
    qtbot.waitUntil(lambda: not reader.is_alive(), timeout=20_000)
    intruder.close()
    assert answers == [b""]  # closed without an answer
    spec, _compared, _comparison = _files(tmp_path)
    assert _launch(qtbot, Request((Opening(path=spec),))) == [None]
    qtbot.waitUntil(lambda: window.session.path == spec, timeout=10_000)


def test_a_window_that_does_not_answer_is_one_clear_line_and_exit_1(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    path = single_instance.socket_path()
    assert path is not None
    hung = socket.socket(socket.AF_UNIX)
    hung.bind(os.fsencode(path))
    hung.listen(1)  # accepts, never answers: a window stuck in a long step
    monkeypatch.setattr(single_instance, "ANSWER_WAIT_S", 0.5)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    try:
        assert main(["gui", "resnet18"]) == 1
    finally:
        hung.close()
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "did not take the files" in err and "--new-window" in err


def test_new_window_opens_one_of_its_own_while_the_app_runs(qtbot, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("resnet18"))
    _serve(window)
    started = []
    gui_app = importlib.import_module("explorer.gui.app")
    monkeypatch.setattr(gui_app, "main", lambda *args: started.append(args) or 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert main(["gui", "--new-window", "cifar/resnet44"]) == 0
    assert started == [(preset("cifar/resnet44"), None, [], None)]  # no claim: not the one window
    assert window.session.spec == preset("resnet18")


def test_a_request_says_only_what_it_may(tmp_path: Path) -> None:
    request = Request.decode(
        b'{"open": [{"preset": "resnet18"}, {"path": "relative.json"}, {"path": "/a/b.resnet.json"}, 3],'
        b' "activation": {"XDG_ACTIVATION_TOKEN": "t", "LD_PRELOAD": "/evil.so"}}\n'
    )
    assert request == Request(
        (Opening(preset="resnet18"), Opening(path=Path("/a/b.resnet.json"))), {"XDG_ACTIVATION_TOKEN": "t"}
    )
    assert Request.decode(b"[1, 2]\n") is None and Request.decode(b"\xff\n") is None
    assert Request.decode(request.encode()) == request


def test_each_display_and_settings_folder_has_its_own_window(tmp_path_factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Short folders: a socket's path holds at most 107 bytes.
    monkeypatch.setattr(single_instance.tempfile, "tempdir", str(tmp_path_factory.mktemp("t")))
    tmp_path = tmp_path_factory.mktemp("h")
    runtime = tmp_path_factory.mktemp("r")
    runtime.chmod(0o700)
    base = {"XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path), "DISPLAY": ":1"}
    paths = {
        single_instance.socket_path(base),
        single_instance.socket_path({**base, "DISPLAY": ":2"}),
        single_instance.socket_path({**base, "XDG_CONFIG_HOME": str(tmp_path / "other")}),
    }
    assert len(paths) == 3 and all(path is not None and path.parent.parent == runtime for path in paths)
    assert single_instance.socket_path(base) in paths  # the same for the same launch
    # A runtime folder others may enter is not used; nor is a path too long for a socket.
    open_runtime = tmp_path_factory.mktemp("o")
    open_runtime.chmod(0o755)
    elsewhere = single_instance.socket_path({**base, "XDG_RUNTIME_DIR": str(open_runtime)})
    assert elsewhere is not None and open_runtime not in elsewhere.parents
    deep = tmp_path / ("d" * 100)
    deep.mkdir(mode=0o700)  # too deep for a socket: the private folder in /tmp instead
    elsewhere = single_instance.socket_path({**base, "XDG_RUNTIME_DIR": str(deep)})
    assert elsewhere is not None and len(os.fsencode(elsewhere)) <= single_instance.MAX_SOCKET_PATH_BYTES
