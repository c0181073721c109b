"""File > Export model…: the export runs in the worker process, its verification is shown, and a
failure is shown inline with no file written."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from explorer.core.benchtypes import BenchConfig, BenchError
from explorer.core.export.result import ExportError
from explorer.core.export.source_export import export_source
from explorer.core.run_setup import run_conditions
from explorer.core.spec import ArchSpec
from explorer.gui.app_wording import FLAG_PHRASES, in_app_words
from explorer.gui.model_export import CHECKPOINT
from tests.gui.conftest import open_window

SMALL = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16), num_classes=3)


def _open_dialog(qtbot, settings):  # type: ignore[no-untyped-def]
    window = open_window(qtbot, settings, SMALL)
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    action = next(a for a in file_menu.actions() if a.text() == "Export &model…")
    action.trigger()
    dialog = window.model_export_dialog
    assert dialog.isVisible()
    return dialog


def test_export_model_writes_the_file_and_shows_what_was_verified(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = _open_dialog(qtbot, settings)
    path = tmp_path / "model.py"
    dialog.path_edit.setText(str(path))
    assert not dialog.opset.isEnabled()  # an opset is for ONNX only
    dialog.export_button.click()
    assert dialog.running and dialog.busy.isVisible() and not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert "verified: max abs difference 0 at batch 1 and 3" in dialog.status.text()
    assert path.read_text().startswith("# custom_resnet: ")
    assert dialog.export_result is not None and dialog.export_result.path == path


def test_a_mismatched_checkpoint_is_shown_inline_and_nothing_is_written(
    qtbot, settings, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dialog = _open_dialog(qtbot, settings)
    checkpoint = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(2, 2)}, checkpoint)
    path = tmp_path / "model.pt2"
    dialog.path_edit.setText(str(path))
    dialog.weights.setCurrentText(CHECKPOINT)
    assert dialog.checkpoint_edit.isEnabled()
    dialog.checkpoint_edit.setText(str(checkpoint))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert "does not match the spec" in dialog.status.text()
    assert "b00020" in dialog.status.styleSheet()
    assert not path.exists()


def test_a_name_without_a_known_extension_is_refused_before_any_work(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = _open_dialog(qtbot, settings)
    dialog.path_edit.setText(str(tmp_path / "model.h5"))
    dialog.export_button.click()
    assert not dialog.running
    assert ".onnx" in dialog.status.text()


def test_a_failed_export_says_why_and_writes_nothing(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = _open_dialog(qtbot, settings)
    dialog.path_edit.setText(str(tmp_path / "model.py"))
    dialog.weights.setCurrentText(CHECKPOINT)
    dialog.checkpoint_edit.setText(str(tmp_path / "w.pth"))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert "holds the code, not the weights" in dialog.status.text()
    assert "choose Weights “random” or “zero-init”" in dialog.status.text()
    assert "--" not in dialog.status.text()  # the app's control, not the command line's flag
    assert not (tmp_path / "model.py").exists()


def test_a_text_file_given_as_a_checkpoint_is_said_so_in_the_dialog(qtbot, settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dialog = _open_dialog(qtbot, settings)
    notes = tmp_path / "notes.pth"
    notes.write_text("not weights\n")
    dialog.path_edit.setText(str(tmp_path / "model.pt2"))
    dialog.weights.setCurrentText(CHECKPOINT)
    dialog.checkpoint_edit.setText(str(notes))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert "is a text file, not a PyTorch checkpoint" in dialog.status.text()
    assert "weights_only" not in dialog.status.text()


def test_the_flags_the_app_rewords_are_what_the_core_says(tmp_path: Path) -> None:
    # A core message reworded without its app wording would show the flag in the app again.
    messages = []
    with pytest.raises(ExportError) as export_error:
        export_source(SMALL, tmp_path / "model.py", str(tmp_path / "w.pth"), lambda _step: None)
    messages.append(str(export_error.value))
    with (
        pytest.raises(BenchError) as bench_error,
        run_conditions(replace(SMALL, num_classes=0), BenchConfig(device="cpu", mode="train")),
    ):
        pass
    messages.append(str(bench_error.value))
    for (flag, control), message in zip(FLAG_PHRASES, messages, strict=True):
        assert flag in message
        assert control in in_app_words(message) and "--" not in in_app_words(message)


def test_the_menu_entry_does_not_load_torch_when_the_window_starts() -> None:
    script = "import sys, explorer.gui.main_window; sys.exit('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_an_export_too_large_for_the_free_memory_is_refused_unless_the_check_is_skipped(
    qtbot, settings, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import explorer.gui.model_export as model_export

    monkeypatch.setattr(model_export, "cpu_free_memory", lambda: 1024)
    dialog = _open_dialog(qtbot, settings)
    path = tmp_path / "model.py"
    dialog.path_edit.setText(str(path))
    dialog.export_button.click()
    assert not dialog.running and not path.exists()
    assert "needs about" in dialog.status.text() and "1.00 KiB free" in dialog.status.text()
    assert "Skip the memory check" in dialog.status.text() and "--no-memory-check" not in dialog.status.text()
    dialog.skip_memory_check.setChecked(True)
    dialog.export_button.click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    assert dialog.export_result is not None and path.exists()
