"""Every mistake on the command line: one line on stderr naming the command, exit 2, nothing written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from explorer.cli import build_parser, main
from explorer.cli.parser import real_number, whole_number
from explorer.core.quoting import MAX_QUOTED_CHARS

TINY = ["--depths", "1,1", "--widths", "8,16", "--stem-width", "8", "--input", "3x16x16", "--device", "cpu"]
LONG = "a" * 10_000
# The longest line a message may take: the message itself plus a value cut by quote_value.
LINE_LIMIT = 300


def one_error_line(capsys: pytest.CaptureFixture[str], argv: list[str], code: int = 2) -> str:
    """Run ``argv``; check it failed with ``code`` and a single short error line; return that line."""
    try:
        returned = main(argv)
    except SystemExit as exc:  # argparse's own exit, as a real process sees it
        returned = exc.code  # type: ignore[assignment]
    out, err = capsys.readouterr()
    assert returned == code, err
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(f"resnet-explorer {argv[0]}: error: "), err
    assert "Traceback" not in err and "usage:" not in err
    assert len(err) < LINE_LIMIT, err
    return err


@pytest.mark.parametrize(
    "argv",
    [
        ["summary", LONG],
        ["summary", LONG + ".json"],
        ["diagram", "resnet18", "-o", f"{LONG}.svg"],
        ["diagram", "resnet18", "-o", f"/tmp/{LONG}/net.svg"],
        ["compare", "resnet18", LONG],
        ["compare", "--open", f"{LONG}.json", "resnet18"],
        ["bench", *TINY, "--save", f"{LONG}.json"],
    ],
)
def test_a_path_too_long_for_the_system_is_one_short_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    err = one_error_line(capsys, argv)
    assert "…" in err  # the value is quoted, cut to a readable length


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["bench", *TINY, "--threads", "99999999999"], "--threads 99999999999"),
        (["compare", "resnet18", "resnet34", "--bench", "--threads", "99999999999"], "--threads"),
        (["bench", *TINY, "--warmup", "1000000000"], "--warmup 1000000000"),
        (["bench", *TINY, "--iters", "1000000000"], "--iters 1000000000"),
        (["bench", *TINY, "--min-time", "nan"], "--min-time nan"),
        (["bench", *TINY, "--min-time", "inf"], "--min-time inf"),
        (["bench", *TINY, "--sweep", "1,100000000000000000000"], "--sweep"),
        (["bench", *TINY, "--batch", "9" * 5000], "is not a whole number"),
        (["diagram", "resnet18", "-o", "net.png", "--dpi", "100000"], "--dpi 100000"),
        (["diagram", "resnet18", "-o", "net.png", "--dpi", "1e30"], "'1e30' is not a whole number"),
    ],
)
def test_huge_numbers_are_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
    words: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert words in one_error_line(capsys, argv)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["bench", *TINY, "--save", "/nonexistent/r.json"], "'/nonexistent' does not exist"),
        (["bench", *TINY, "--save", ""], "--save '': give a file name"),
        (["bench", *TINY, "--save", "."], "is a folder"),
        (["bench", *TINY, "--save", "fifo"], "special file"),
        (["compare", "resnet18", "resnet34", "--save", ""], "--save '': give a file name"),
        (["compare", "resnet18", "resnet34", "--save", "/nonexistent/c.json"], "does not exist"),
        (["diagram", "resnet18", "-o", ""], "-o '': give a file name"),
        (["diagram", "resnet18", "-o", "fifo", "--format", "svg"], "special file"),
        (["screenshot", "resnet18", "--out", ""], "--out '': give a folder"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_the_run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
    words: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    # A FIFO of our own stands for every special file: a test never aims at the system's devices.
    os.mkfifo(tmp_path / "fifo")
    # one_error_line checks stderr holds the error alone: no progress line, so nothing was timed.
    assert words in one_error_line(capsys, argv)
    assert [path.name for path in tmp_path.iterdir()] == ["fifo"]


# /proc and /sys look writable to root, but no file can be made there; only a folder is
# named, nothing in it is touched.
@pytest.mark.parametrize("system_folder", ["/proc", "/sys"])
@pytest.mark.parametrize(
    ("command", "flag", "name"),
    [
        (["bench", *TINY, "--iters", "1"], "--save", "r.json"),
        (["profile", *TINY, "--iters", "1"], "--trace", "t.json"),
        (["compare", "resnet18", "resnet34"], "--save", "c.json"),
        (["diagram", "resnet18", "--format", "dot"], "-o", "d.dot"),
        (["export", *TINY[:-2]], "-o", "m.py"),
    ],
)
def test_an_output_where_no_file_can_be_made_is_refused_naming_the_users_path(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    system_folder: str,
    command: list[str],
    flag: str,
    name: str,
) -> None:
    if not Path(system_folder).is_dir():
        pytest.skip(f"no {system_folder} here")
    monkeypatch.chdir(tmp_path)
    # Through a link that leads nowhere yet (its folder is missing), and straight into the folder.
    (tmp_path / "dangling").symlink_to(tmp_path / "missing" / name)
    for target, words in (
        ("dangling", "'dangling' (a link to "),
        (f"{system_folder}/{name}", "choose another"),
    ):
        line = one_error_line(capsys, [*command, flag, target])
        assert f"{flag} '{target}'" in line and words in line
        assert ".tmp" not in line
    assert [path.name for path in tmp_path.iterdir()] == ["dangling"]


@pytest.mark.parametrize(
    "argv",
    [
        ["summary", "--format", "yaml"],
        ["summary", "--frobnicate"],
        ["summary", "--depths"],
        ["summary", "--stem-width", "wide"],
        ["diagram", "resnet18"],
        ["diagram", "resnet18", "-o", "x.svg", "--level", "layers"],
        ["bench", "--dtype", "float64"],
        ["bench", "--batch", "1.5"],
        ["compare", "resnet18", "resnet34", "--format", "xml"],
        ["compare", "resnet18", "resnet34", "--baseline", "first"],
        ["presets", "--format", "csv"],
        ["screenshot", "resnet18"],
        ["gui", "resnet18", "extra"],
    ],
)
def test_argument_mistakes_are_one_line_without_the_usage_block(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    one_error_line(capsys, argv)


def test_an_unknown_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate", "--x"])
    err = capsys.readouterr().err
    assert caught.value.code == 2
    assert err.startswith("resnet-explorer: error: ") and err.count("\n") == 1
    assert "summary" in err  # the commands to choose from


def test_a_long_bad_choice_is_quoted_short(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_error_line(capsys, ["summary", "--format", LONG])
    assert "a" * (MAX_QUOTED_CHARS + 1) not in err
    assert "choose from table" in err


# Sixteen and one half in Arabic-Indic and in full-width digits: Python's int() and float()
# read them all, so a flag that trusted them would take a number the person may not have meant.
UNICODE_WHOLE = ("١٦", "１６")
UNICODE_REAL = ("٠.٥", "０.５")


def _number_options() -> list[tuple[str, str, str]]:
    """(command, flag, value) for every option of every command that takes one number."""
    _, commands = build_parser()
    options = []
    for command, parser in commands.items():
        for action in parser._actions:
            if not action.option_strings:
                continue
            if action.type in (whole_number, int):
                options += [(command, action.option_strings[0], value) for value in UNICODE_WHOLE]
            elif action.type in (real_number, float):
                options += [(command, action.option_strings[0], value) for value in UNICODE_REAL]
    return options


def test_every_number_option_is_found() -> None:
    found = {(command, flag) for command, flag, _ in _number_options()}
    assert {("export", "--opset"), ("bench", "--batch"), ("summary", "--se-ratio")} <= found
    assert {("summary", "--classes"), ("summary", "--output-stride"), ("memory", "--batch")} <= found


@pytest.mark.parametrize(("command", "flag", "value"), _number_options())
def test_numbers_are_ascii_digits_only(
    capsys: pytest.CaptureFixture[str], command: str, flag: str, value: str
) -> None:
    err = one_error_line(capsys, [command, flag, value])
    assert "digits 0-9" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["summary", "--depths", "١,١"],
        ["summary", "--widths", "８,１６"],
        ["summary", "--strides", "1,٢"],
        ["summary", "--input", "٣x٣٢x٣٢"],
        ["summary", "--input", "3x３２x32"],
        ["memory", "resnet18", "--fit", "٢٤GiB"],
        ["bench", "resnet18", "--sweep", "١,٢"],
        ["screenshot", "resnet18", "--out", "shots", "--size", "١٢٨٠x٨٠٠"],
    ],
)
def test_numbers_inside_a_value_are_ascii_digits_only(
    capsys: pytest.CaptureFixture[str], argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    one_error_line(capsys, argv)
    assert list(tmp_path.iterdir()) == []
