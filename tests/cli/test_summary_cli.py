"""resnet-explorer summary / presets / --version, in-process and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import __version__
from explorer.cli import main
from explorer.core.analysis import analyze
from explorer.core.presets import PRESET_NAMES, preset
from explorer.core.render.table import format_torchsummary
from explorer.core.spec import ArchSpec


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_torchvision_resnet50_summary_prints_published_totals(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "summary", "torchvision/resnet50")
    assert code == 0
    assert "25,557,032" in out
    assert "4.09 GMACs" in out
    assert "layer4.2.conv3" not in out  # the table shows short names under their block
    assert "layer4.2" in out


def test_torchsummary_format_is_exact(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "summary", "resnet18", "--format", "torchsummary")
    assert code == 0
    assert out == format_torchsummary(analyze(preset("resnet18")))


def test_flags_override_the_preset(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        "summary",
        "resnet50",
        "--depths",
        "1,1,1",
        "--input",
        "1x64x48",
        "--classes",
        "10",
        "--format",
        "json",
    )
    assert code == 0
    data = json.loads(out)
    assert data["spec"]["depths"] == [1, 1, 1]
    assert data["spec"]["in_channels"] == 1
    assert data["input_shape"] == [1, 64, 48]
    expected = ArchSpec(
        block="bottleneck", depths=(1, 1, 1), in_channels=1, input_size=(64, 48), num_classes=10
    )
    assert data["totals"]["total_params"] == analyze(expected).totals.total_params
    assert len(data["rows"]) == len(analyze(expected).rows)


def test_config_file_source(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "mine.json"
    preset("cifar/resnet56").save(path)
    code, out, _ = run(capsys, "summary", str(path), "--format", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("index,name,type,summary_id")
    assert len(lines) == 1 + len(analyze(preset("cifar/resnet56")).rows)


def test_markdown_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "summary", "cifar/resnet20", "--format", "markdown")
    assert code == 0
    assert out.startswith("| Layer | Type |")
    assert "269,722" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["summary", "resnet05"], "did you mean resnet50"),
        (["summary", "resnet50", "--depths", "3,0,1"], "stage 2 depth"),
        (["summary", "--depths", "1,1,1,1,1,1,1"], "got 7"),
        (["summary", "--depths", "3,x"], "whole numbers separated by commas"),
        (["summary", "--input", "224x224"], "channels x height x width"),
        (["summary", "--block", "basic", "--groups", "32"], "use block 'bottleneck'"),
        (["summary", "missing.json"], "cannot read"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert words in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "is not a text file (it is not UTF-8)"),
        (b"hello", "is text, not JSON"),
    ],
)
def test_a_file_that_holds_no_spec_is_named_in_words(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "picture.json"
    path.write_bytes(content)
    code, out, err = run(capsys, "summary", str(path))
    assert (code, out) == (2, "")
    assert f"{words}, so it is not a spec or comparison" in err
    assert len(err.strip().splitlines()) == 1


def test_malformed_config_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"format_version": 1, "depths": [2, 2')
    code, _, err = run(capsys, "summary", str(path))
    assert code == 2
    assert "not valid JSON" in err


def test_presets_lists_every_preset_with_its_params(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "presets", "--format", "json")
    assert code == 0
    entries = {entry["name"]: entry for entry in json.loads(out)}
    assert list(entries) == list(PRESET_NAMES)
    assert entries["torchvision/resnet152"]["params"] == 60_192_808
    code, out, _ = run(capsys, "presets")
    assert "torchvision/wide_resnet101_2" in out and "126,886,696" in out
    header, _rule, *rows = out.splitlines()
    assert header.split() == ["preset", "family", "block", "depths", "input", "params", "≈", "params", "MACs"]
    # Every row's columns start where the header's do, preact-bottleneck's block included.
    block_at, input_at = header.index("block"), header.index("input")
    for row in rows:
        assert row[block_at - 1] == " " and row[block_at] != " " and row[input_at - 1] == " "


def test_version_and_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "explorer", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"resnet-explorer {__version__}"
    result = subprocess.run(
        [sys.executable, "-m", "explorer", "summary", "nope"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "unknown preset 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_command_has_a_description_in_its_help() -> None:
    from explorer.cli import build_parser

    _, commands = build_parser()
    for name, parser in commands.items():
        assert parser.description, f"'resnet-explorer {name} --help' has no description"
