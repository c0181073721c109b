"""The app and the command line read each default from one definition in the core."""

from __future__ import annotations

from explorer.cli import build_parser
from explorer.cli.bench import bench_config
from explorer.core.benchtypes import BenchConfig
from explorer.core.presets import SCREENSHOT_PRESET
from explorer.core.render.export import DEFAULT_DPI, MAX_DPI
from explorer.gui.main_window import MainWindow


def test_the_benchmark_defaults_are_the_same_in_the_app_and_the_command_line(window: MainWindow) -> None:
    options = window.show_tab("Benchmark").options
    parser, _ = build_parser()
    cli = bench_config(parser.parse_args(["bench"]), 1)
    app = options.config()
    assert (
        (app.iterations, app.warmup)
        == (cli.iterations, cli.warmup)
        == (
            BenchConfig().iterations,
            BenchConfig().warmup,
        )
    )


def test_the_diagram_dpi_is_the_same_in_the_app_and_the_command_line(window: MainWindow) -> None:
    dpi_box = window.show_tab("Diagram").dpi_box
    assert dpi_box.value() == DEFAULT_DPI and dpi_box.maximum() == MAX_DPI
    _, commands = build_parser()
    assert f"default {DEFAULT_DPI}" in commands["diagram"].format_help()


def test_the_screenshot_default_is_named_in_the_help() -> None:
    _, commands = build_parser()
    assert f"default: {SCREENSHOT_PRESET}" in commands["screenshot"].format_help()
