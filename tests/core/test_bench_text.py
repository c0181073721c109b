"""The readable text of results: the passes a run made, and warnings about noisy timings."""

from __future__ import annotations

from dataclasses import replace

from explorer.core.bench import TimingStats, run_benchmark, run_sweep
from explorer.core.benchtypes import NOISY_SPREAD, is_noisy
from explorer.core.render.bench_text import result_text, sweep_text
from tests.core.test_bench import TINY, quick

STEADY = [1.0, 1.0, 1.01, 0.99, 1.0]
SPREAD_OUT = [1.0, 3.0, 1.0, 3.0, 0.5]


def test_a_sweep_says_at_least_only_when_a_minimum_time_is_set() -> None:
    plain = sweep_text(run_sweep(TINY, quick(iterations=2), [1, 2]))
    assert "1 warm-up + 2 timed" in plain and "at least" not in plain
    timed = sweep_text(run_sweep(TINY, quick(iterations=2, min_time_s=0.01), [1]))
    assert "1 warm-up + at least 2 timed, for at least 0.01 s" in timed


def test_a_run_cancelled_during_the_warm_up_says_so_and_shows_no_statistics() -> None:
    text = result_text(run_benchmark(TINY, quick(warmup=3), should_stop=lambda: True))
    assert "cancelled during the warm-up (3 passes planned), nothing timed" in text
    assert "+ 0 timed" not in text and "latency" not in text and "peak" not in text


def test_noisy_timings_are_flagged_by_one_rule() -> None:
    steady, spread_out = TimingStats.from_samples(STEADY), TimingStats.from_samples(SPREAD_OUT)
    assert not steady.noisy and spread_out.noisy
    assert spread_out.iqr_s / spread_out.median_s > NOISY_SPREAD >= steady.iqr_s / steady.median_s
    assert is_noisy(spread_out.median_s * 1e3, spread_out.iqr_s * 1e3)  # the same in milliseconds
    result = run_benchmark(TINY, quick())
    noisy_text = result_text(replace(result, stats=spread_out))
    assert "noisy: the IQR is 200% of the median" in noisy_text
    assert "noisy" not in result_text(replace(result, stats=steady))


def test_a_sweep_marks_its_noisy_rows() -> None:
    sweep = run_sweep(TINY, quick(iterations=2), [1, 2])
    noisy = replace(sweep, points=(replace(sweep.points[0], stats=TimingStats.from_samples(SPREAD_OUT)),))
    rows = sweep_text(noisy).splitlines()
    assert rows[3].endswith("  noisy") and any(line.startswith("noisy ") for line in rows)
    steady = replace(sweep, points=(replace(sweep.points[0], stats=TimingStats.from_samples(STEADY)),))
    assert "noisy" not in sweep_text(steady)
