"""The check against the built module: in its own process, loud when it disagrees."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import pytest

from explorer.core.analysis import analyze
from explorer.core.presets import preset
from explorer.gui import module_check
from explorer.gui.module_check import NICENESS
from explorer.gui.verifier import Verification, Verifier

from .conftest import open_window


def test_the_built_module_agrees_with_the_analysis(qtbot) -> None:  # type: ignore[no-untyped-def]
    verifier = Verifier()
    results = []
    verifier.changed.connect(results.append)
    verifier.start()
    try:
        verifier.check(preset("cifar/resnet20"))
        verifier.check(preset("resnet18"))  # replaces the one not yet sent
        qtbot.waitUntil(lambda: verifier.last.state != "pending", timeout=60_000)
    finally:
        verifier.stop()
    assert verifier.last.state == "ok", verifier.last.message
    assert verifier.last.spec == preset("resnet18")
    assert "11,168,832 params" in verifier.last.message
    assert [r.state for r in results if r.state != "pending"] == ["ok"]


def test_a_disagreement_is_found(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Pretend the analysis were of a different network than the one built.
    monkeypatch.setattr(module_check, "analyze", lambda spec: analyze(preset("resnet34")))
    result = module_check.check_module(preset("resnet18"))
    assert not result["ok"]
    assert "11,168,832 parameters" in result["problems"][0]
    assert any("layer" in problem and "gave" in problem for problem in result["problems"])


def test_a_mismatch_is_shown_loudly(qtbot, settings) -> None:  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, preset("resnet18"))
    message = "MISMATCH with the built module: the built module has 1 parameters"
    window.verifier.changed.emit(Verification("mismatch", window.session.spec, message, (message,)))
    assert window.banner.isVisible() and message in window.banner.text()
    assert window.banner.property("level") == "error"
    assert window.verification_label.property("state") == "mismatch"
    window.verifier.changed.emit(Verification("ok", window.session.spec, "verified against the built module"))
    assert not window.banner.isVisible()
    assert "verified against the built module" in window.verification_label.text()


def test_bad_requests_get_an_answer_not_a_traceback() -> None:
    requests = '{"id": 1, "spec": {"format_version": 1, "depths": [0]}}\nnot json\n'
    done = subprocess.run(
        [sys.executable, "-m", "explorer.gui.module_check"],
        input=requests,
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and done.stderr == ""
    assert '"ready": true' in lines[0]
    assert "invalid spec: stage 1 depth: must be >= 1" in lines[1]
    assert "bad request" in lines[2]


def test_the_window_never_imports_torch() -> None:
    code = (
        "import sys\n"
        "from PySide6.QtCore import QSettings\n"
        "from explorer.gui.app import application, create_window\n"
        "app = application()\n"
        "w = create_window(QSettings(sys.argv[1], QSettings.Format.IniFormat))\n"
        "w.show(); app.processEvents()\n"
        "w.show_tab('Charts'); app.processEvents()\n"
        "from explorer.gui.about import about_html\n"
        "assert 'torch' in about_html()\n"
        "w.verifier.stop()\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "/nonexistent-dir/settings.ini"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.stdout.strip() == "False", done.stderr


def test_a_broken_module_check_says_so(qtbot) -> None:  # type: ignore[no-untyped-def]
    broken = ["-c", "import sys; sys.stderr.write('ImportError: no torch here\\n'); sys.exit(3)"]
    verifier = Verifier(child_args=broken)
    verifier.start()
    qtbot.waitUntil(lambda: verifier.last.state == "unavailable", timeout=20_000)
    assert verifier.last.message == "module check stopped: ImportError: no torch here"


def test_a_last_feature_map_of_one_pixel_is_verified() -> None:
    # Batch-norm in training mode refuses one value per channel; the check must not build it so.
    for spec in (
        replace(preset("torchvision/resnet18"), input_size=(32, 32)),
        replace(preset("cifar/resnet20"), input_size=(1, 1)),
    ):
        result = module_check.check_module(spec)
        assert result["ok"], result
        assert result["params"] == analyze(spec).totals.total_params


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="process priorities are POSIX")
def test_the_module_check_yields_the_cpu_to_the_window(qtbot) -> None:  # type: ignore[no-untyped-def]
    verifier = Verifier()
    verifier.start()
    try:
        process = verifier._process
        assert process is not None and process.waitForStarted(10_000)
        window_priority = os.getpriority(os.PRIO_PROCESS, 0)
        qtbot.waitUntil(lambda: verifier._ready, timeout=60_000)  # it has lowered itself by then
        lowest = 19  # the most a process can be niced on Linux
        assert os.getpriority(os.PRIO_PROCESS, process.processId()) == min(window_priority + NICENESS, lowest)
    finally:
        verifier.stop()
