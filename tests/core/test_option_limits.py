"""The limits of benchmark and export options live in the core, so the app and the command line share them."""

from __future__ import annotations

import pytest

from explorer.core.benchtypes import (
    MAX_ITERATIONS,
    MAX_MIN_TIME_S,
    MAX_THREADS,
    MAX_WARMUP,
    BenchConfig,
    BenchError,
)
from explorer.core.quoting import quote_value
from explorer.core.render import export


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("warmup", MAX_WARMUP + 1),
        ("warmup", 10**9),
        ("iterations", MAX_ITERATIONS + 1),
        ("threads", MAX_THREADS + 1),
        ("threads", 99_999_999_999),
        ("threads", 10**5000),
        ("batch_size", 10**30),
        ("min_time_s", MAX_MIN_TIME_S * 2),
        ("min_time_s", float("nan")),
        ("min_time_s", float("inf")),
        ("warmup", 2.5),
        ("threads", True),
    ],
    ids=lambda value: quote_value(value, 20),
)
def test_a_setting_past_its_limit_is_a_bench_error_that_quotes_it_briefly(option: str, value: object) -> None:
    with pytest.raises(BenchError) as caught:
        BenchConfig(**{option: value})  # type: ignore[arg-type]
    assert len(str(caught.value)) < 120


def test_the_limits_themselves_are_accepted() -> None:
    config = BenchConfig(
        warmup=MAX_WARMUP, iterations=MAX_ITERATIONS, threads=MAX_THREADS, min_time_s=MAX_MIN_TIME_S
    )
    assert config.threads == MAX_THREADS


@pytest.mark.parametrize("dpi", [0, export.MIN_DPI - 1, export.MAX_DPI + 1, 10**30, 96.5])
def test_a_dpi_past_the_limit_is_refused_before_dot_runs(
    dpi: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[object] = []
    monkeypatch.setattr(export.subprocess, "run", lambda *args, **kwargs: ran.append(args))
    with pytest.raises(ValueError, match="dpi"):
        export.render("digraph {}", "png", dpi=dpi)  # type: ignore[arg-type]
    assert ran == []


def test_the_default_dpi_is_within_the_limits() -> None:
    export.check_dpi(export.DEFAULT_DPI)
    export.check_dpi(None)
