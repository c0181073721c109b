"""resnet-explorer bench on a tiny network on the CPU."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from explorer.cli import main
from explorer.cli.bench import ProgressBar
from explorer.cli.parser import end_line

TINY = ["--depths", "1,1", "--widths", "8,16", "--stem-width", "8", "--input", "3x16x16", "--device", "cpu"]
QUICK = [*TINY, "--warmup", "1", "--iters", "3"]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["bench", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_output_parses_and_carries_the_card(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *QUICK, "--batch", "2", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "ok"
    assert len(data["stats"]["samples_s"]) == 3
    assert data["card"]["batch_size"] == 2 and data["card"]["input_shape"] == [2, 3, 16, 16]
    assert data["images_per_s"] == pytest.approx(2 / data["stats"]["median_s"])


def test_the_text_card_names_the_figures_and_the_setting(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *QUICK, "--threads", "1", "--dtype", "bfloat16", "--channels-last")
    assert code == 0
    assert "images/s" in out and "GMAC/s achieved" in out and "median" in out
    assert "cpu (" in out and ", 1 thread\n" in out
    assert "batch 1, bfloat16, channels_last, input 1x3x16x16, eager, 1 warm-up + 3 timed" in out
    assert err.startswith("bench:") and err.rstrip().endswith("100%")  # the plain progress line


def test_a_sweep_prints_one_row_per_batch_size(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *QUICK, "--sweep", "1,2,4", "--json")
    assert code == 0
    data = json.loads(out)
    assert [point["card"]["batch_size"] for point in data["points"]] == [1, 2, 4]
    assert data["stopped_by"] is None


def test_a_sweep_that_reaches_the_memory_limit_stops_there(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *QUICK, "--sweep", "1,1000000000,2")
    assert code == 0
    assert "stopped at batch 1000000000: batch 1000000000 needs about" in out
    rows = [line.split()[0] for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert rows == ["1"]


def test_an_absurd_batch_is_refused_with_both_figures(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *QUICK, "--batch", "1000000000")
    assert code == 1 and out == ""  # nothing was measured: no result card
    last = err.strip().splitlines()[-1]
    assert last.startswith("resnet-explorer bench: error: batch 1000000000 needs about")
    assert "free" in last


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dtype", "float16"], "float16 is not supported on cpu"),
        (["--device", "gpu"], "device 'gpu' is not a device name"),
        (["--batch", "0"], "--batch 0"),
        (["--batch", "2", "--sweep", "1,2"], "either --batch or --sweep"),
        (["--sweep", "1,x"], "--sweep '1,x'"),
        (["--iters", "0"], "--iters 0"),
    ],
)
def test_bad_options_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *TINY, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("resnet-explorer bench: error:") and message in err


def test_save_writes_the_same_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "result.json"
    code, out, _ = run(capsys, *QUICK, "--json", "--save", str(target))
    assert code == 0
    assert json.loads(target.read_text()) == json.loads(out)


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_in_place_on_a_terminal() -> None:
    stream = FakeTerminal()
    bar = ProgressBar(stream, "bench")
    bar(1, 4)
    bar(4, 4)
    bar.close()
    text = stream.getvalue()
    assert text.count("\r") == 2 and text.endswith("\n")
    assert "[" + "#" * 30 + "] 4/4" in text and "4/4" in text and "1/4" in text


def test_an_unfinished_bar_is_erased_on_a_terminal_and_left_to_the_message_elsewhere(
    capsys: pytest.CaptureFixture[str],
) -> None:
    terminal = FakeTerminal()
    bar = ProgressBar(terminal, "bench")
    bar(1, 4)
    bar.close()
    assert terminal.getvalue().endswith("\r\x1b[2K")  # the message that follows has the line
    plain = io.StringIO()
    bar = ProgressBar(plain, "bench")
    bar(2, 4)
    bar.close()
    end_line("resnet-explorer bench: interrupted")
    assert plain.getvalue() == "bench: 10% 20% 30% 40% 50%"
    assert capsys.readouterr().err == " - resnet-explorer bench: interrupted\n"


def test_the_plain_progress_line_counts_in_tenths() -> None:
    stream = io.StringIO()
    bar = ProgressBar(stream, "bench")
    for done in range(1, 6):
        bar(done, 5)
    bar.close()
    assert stream.getvalue() == "bench: 10% 20% 30% 40% 50% 60% 70% 80% 90% 100%\n"


def test_a_sweep_whose_first_size_cannot_run_is_a_failed_run(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *QUICK, "--sweep", "1000000000")
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("resnet-explorer bench: error: batch 1000000000 needs about")


TRAIN = [*QUICK, "--classes", "10", "--mode", "train"]


def test_train_mode_prints_the_step_its_parts_and_memory(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *TRAIN, "--batch", "2", "--optimizer", "adamw", "--amp")
    assert code == 0
    assert "samples/s" in out and "GMAC/s" not in out
    assert "no synchronisation inside a step" in out
    assert "breakdown  forward " in out and "each part synchronised" in out
    assert "predicted " in out and "saved for backward: predicted " in out and ", measured " in out
    assert "train step (adamw, cross-entropy), batch 2, mixed precision (autocast bfloat16" in out


def test_train_mode_json_carries_the_breakdown_and_both_memory_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, *TRAIN, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["config"]["mode"] == "train" and data["config"]["optimizer"] == "sgd-momentum"
    assert data["card"]["mode"] == "train" and data["card"]["grad_scaler"] is False
    parts = data["breakdown"]
    assert parts["forward_s"] + parts["backward_s"] + parts["optimizer_s"] == pytest.approx(
        parts["step_s"], rel=0.05
    )
    assert data["predicted_saved_bytes"] > 0 and data["measured_saved_bytes"] > 0
    assert data["estimated_memory_bytes"] > data["predicted_saved_bytes"]


def test_a_train_sweep_stops_where_the_prediction_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *TRAIN, "--iters", "1", "--sweep", "1,1000000000")
    assert code == 0
    assert "batch sweep of training steps" in out
    assert "stopped at batch 1000000000: a training step at batch 1000000000 needs about" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mode", "train"], "train mode needs a classifier"),
        (["--amp"], "--amp is for train mode"),
        (["--mode", "train", "--classes", "10", "--dtype", "bfloat16"], "--dtype bfloat16 in train mode"),
        (["--optimizer", "adamw"], "--optimizer applies to --mode train only: drop it or add --mode train"),
        (["--mode", "inference", "--optim", "sgd-momentum"], "--optimizer applies to --mode train only"),
    ],
)
def test_bad_train_options_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = run(capsys, *TINY, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_isolated_runs_in_a_fresh_process_and_reports_its_own_peak(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, *QUICK, "--isolated", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["config"]["isolated"] is True
    assert data["process_peak_bytes"] > 10 * 2**20  # torch's libraries alone are more
    code, out, _ = run(capsys, *QUICK)
    assert code == 0 and "process peak" not in out and "a fresh process of its own" not in out
    code, out, _ = run(capsys, *QUICK, "--isolated")
    assert "process peak" in out and "a fresh process of its own" in out
