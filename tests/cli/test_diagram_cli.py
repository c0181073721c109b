"""resnet-explorer diagram: formats, options, and one-line errors with exit code 2."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path
from xml.etree import ElementTree

import pytest

from explorer.cli import main
from explorer.core.render import export
from explorer.core.spec import ArchSpec

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")
MAGIC = {"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF-"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diagram", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_format_follows_the_extension(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    path = tmp_path / f"net.{fmt}"
    code, out, err = run(capsys, "cifar/resnet20", "-o", str(path), "--level", "layer")
    assert (code, err) == (0, "")
    assert path.read_bytes().startswith(MAGIC[fmt])
    assert str(path) in out


def test_dot_output_with_options_and_spec_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "net.dot"
    code, _, err = run(
        capsys,
        "torchvision/resnet50",
        "--depths",
        "1,1",
        "-o",
        str(path),
        "--level",
        "layer",
        "--style",
        "detailed",
        "--rankdir",
        "LR",
    )
    assert (code, err) == (0, "")
    text = path.read_text(encoding="utf-8")
    assert text.startswith('digraph "layer_detailed"')
    assert 'rankdir="LR"' in text
    assert '"layer2.0.add"' in text and "layer3" not in text


def test_explicit_format_overrides_the_extension(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "net.txt"
    code, _, _ = run(capsys, "resnet18", "-o", str(path), "--format", "dot", "--level", "stage")
    assert code == 0
    assert path.read_text(encoding="utf-8").startswith('digraph "stage_paper"')


def test_config_file_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "net.json"
    ArchSpec(block="bottleneck", depths=(1, 2)).save(config)
    path = tmp_path / "net.dot"
    assert run(capsys, str(config), "-o", str(path))[0] == 0
    assert '"layer2.1"' in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["resnet18", "-o", "{tmp}/net.jpeg"], "cannot tell the format"),
        (["resnet18", "-o", "{tmp}/net.svg", "--dpi", "150"], "--dpi applies to PNG only"),
        (["resnet18", "-o", "{tmp}/net.png", "--dpi", "0"], "--dpi 0"),
        (["resnet9", "-o", "{tmp}/net.svg"], "unknown preset 'resnet9'"),
        (["resnet18", "--depths", "2,x", "-o", "{tmp}/net.svg"], "--depths"),
        (["resnet18", "--widths", "0,1,2,3", "-o", "{tmp}/net.svg"], "stage 1 width"),
        (["resnet18", "-o", "{tmp}/missing/net.svg"], "does not exist"),
    ],
)
def test_mistakes_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, out, err = run(capsys, *(arg.format(tmp=tmp_path) for arg in argv))
    assert code == 2
    assert words in err
    assert err.startswith("resnet-explorer diagram: error:") and err.count("\n") == 1
    assert out == ""
    assert not [p for p in tmp_path.iterdir() if p.is_file()]


@pytest.mark.parametrize(
    "argv",
    [
        ["resnet18", "-o", "x.svg", "--level", "layers"],
        ["resnet18", "-o", "x.svg", "--style", "fancy"],
        ["resnet18", "-o", "x.svg", "--rankdir", "BT"],
        ["resnet18"],
    ],
)
def test_bad_choices_and_missing_output_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["diagram", *argv])
    assert caught.value.code == 2


def test_missing_dot_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export.shutil, "which", lambda name: None)
    code, out, err = run(capsys, "resnet18", "-o", str(tmp_path / "net.png"))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "'dot' program was not found" in err and "graphviz" in err
    assert not list(tmp_path.iterdir())
    # The DOT text itself needs no graphviz.
    assert run(capsys, "resnet18", "-o", str(tmp_path / "net.dot"))[0] == 0


def test_dot_warnings_reach_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "fake-dot"
    fake.write_text(
        "#!/bin/sh\ncat > /dev/null\n"
        "echo 'dot: graph is too large for cairo-renderer bitmaps. Scaling by 0.78 to fit' >&2\n"
        "printf 'PNG'\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setattr(export, "find_dot", lambda: str(fake))
    path = tmp_path / "net.png"
    code, out, err = run(capsys, "resnet152", "--level", "layer", "-o", str(path), "--dpi", "300")
    assert code == 0 and path.read_bytes() == b"PNG"
    assert err.startswith("resnet-explorer diagram: warning: dot: graph is too large")
    assert "lower the dpi" in err
    assert str(path) in out


def test_a_long_diagram_is_folded_by_default_and_the_line_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "net.dot"
    code, out, err = run(capsys, "cifar/resnet1202", "-o", str(path))
    assert (code, err) == (0, "")
    assert "folded by default, as unfolded it would be about " in out
    assert "598 blocks drawn as 3" in out
    text = path.read_text(encoding="utf-8")
    assert "<b>×200</b>" in text and "<b>×199</b>" in text and "layer1.57" not in text
    code, out, _ = run(capsys, "cifar/resnet1202", "-o", str(path), "--fold", "none")
    assert code == 0 and "not folded" in out and "by default" not in out
    assert '"layer1.57"' in path.read_text(encoding="utf-8")


def test_a_short_diagram_is_not_folded_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "net.dot"
    code, out, _ = run(capsys, "resnet18", "-o", str(path))
    assert code == 0 and "not folded by default, as it is about " in out
    assert "×" not in path.read_text(encoding="utf-8")
    code, out, _ = run(capsys, "resnet18", "-o", str(path), "--fold", "repeats")
    assert code == 0 and "folded: 2 blocks drawn as 1" in out
    assert "<b>×2</b>" in path.read_text(encoding="utf-8")
    # Folding has nothing to do at the stage level, and the line does not speak of it.
    code, out, _ = run(capsys, "resnet18", "-o", str(path), "--level", "stage", "--fold", "repeats")
    assert code == 0 and "fold" not in out


def test_wrap_by_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "net.dot"
    code, out, _ = run(capsys, "torchvision/resnet50", "-o", str(path), "--wrap", "stages", "--rankdir", "LR")
    assert code == 0 and "a row per stage" in out
    assert '{rank=same; "layer1.0"; "layer2.0"; "layer3.0"; "layer4.0";' in path.read_text(encoding="utf-8")


@needs_dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_folded_exports_are_valid_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    path = tmp_path / f"net.{fmt}"
    argv = [
        "torchvision/resnet152",
        "-o",
        str(path),
        "--level",
        "layer",
        "--fold",
        "repeats",
        "--wrap",
        "stages",
    ]
    code, _, err = run(capsys, *argv, "--color-by", "macs", "--show-values")
    assert (code, err) == (0, "")
    data = path.read_bytes()
    assert data.startswith(MAGIC[fmt])
    if fmt == "svg":
        root = ElementTree.fromstring(data)
        ids = {group.get("id") for group in root.iter("{http://www.w3.org/2000/svg}g")}
        assert {"cluster_layer3.1-35", "layer3.1-35.conv2", "legend"} <= ids
        assert "in all 35" in data.decode("utf-8")
    elif fmt == "png":
        width, height = struct.unpack(">II", data[16:24])
        assert data[12:16] == b"IHDR" and min(width, height) > 1000
    else:
        assert data.rstrip().endswith(b"%%EOF") and b"/MediaBox" in data


@needs_dot
def test_page_scales_to_the_text_width(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "net.svg"
    code, out, err = run(capsys, "torchvision/resnet34", "-o", str(path), "--page", "letter")
    assert (code, err) == (0, "")
    assert "Letter text width: scaled to " in out
    assert ElementTree.fromstring(path.read_bytes()).get("width") == "468.00pt"


@needs_dot
def test_page_refuses_unreadable_text_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "net.pdf"
    argv = ["torchvision/resnet152", "-o", str(path), "--level", "layer", "--wrap", "stages", "--page", "a4"]
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("resnet-explorer diagram: error: at A4 text width") and err.count("\n") == 1
    assert "under 6 pt" in err and "--wrap none" in err
    assert not path.exists()


@pytest.mark.parametrize("fmt", ["png", "dot"])
def test_page_fits_svg_or_pdf_only(tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code, _, err = run(capsys, "resnet18", "-o", str(tmp_path / f"net.{fmt}"), "--page", "a4")
    assert code == 2 and f"--page fits an SVG or PDF to a page, not {fmt}" in err


@pytest.mark.parametrize(
    "argv", [["resnet18", "-o", "x.svg", "--fold", "all"], ["resnet18", "-o", "x.svg", "--wrap", "rows"]]
)
def test_bad_fold_and_wrap_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["diagram", *argv])
    assert caught.value.code == 2
