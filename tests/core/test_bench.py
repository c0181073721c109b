"""The timing engine on a tiny network on the CPU: fields, cancel, failures, memory check, sweep."""

from __future__ import annotations

import gc
import itertools
import json
import math
import statistics
import weakref

import pytest
import torch

import explorer.core.build as build_module
from explorer.core.analysis import analyze
from explorer.core.bench import (
    CPU_MEMORY_SOURCE,
    BenchConfig,
    BenchError,
    BenchResult,
    TimingStats,
    run_benchmark,
    run_sweep,
    sweep_batch_sizes,
    time_forward,
)
from explorer.core.blocks import ResNet
from explorer.core.devices import available_devices, free_memory, resolve_device, synchronize
from explorer.core.memory import LiveTensorPeak, estimate_memory, peak_live_activations
from explorer.core.spec import ArchSpec
from explorer.core.units import format_bytes

TINY = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16), num_classes=10)


def quick(**changes: object) -> BenchConfig:
    settings: dict[str, object] = {"device": "cpu", "warmup": 1, "iterations": 4}
    settings.update(changes)
    return BenchConfig(**settings)  # type: ignore[arg-type]


def failing_forward(exc: BaseException, from_batch: int = 1):  # type: ignore[no-untyped-def]
    original = ResNet.forward

    def forward(self: ResNet, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] >= from_batch:
            raise exc
        return original(self, x)

    return forward


def test_result_fields_agree_with_each_other() -> None:
    result = run_benchmark(TINY, quick(batch_size=3))
    assert result.ok and result.error is None
    stats = result.stats
    assert stats is not None
    assert len(stats.samples_s) == 4
    assert stats.median_s == statistics.median(stats.samples_s)
    assert stats.mean_s == pytest.approx(statistics.fmean(stats.samples_s))
    assert stats.min_s == min(stats.samples_s) and stats.max_s == max(stats.samples_s)
    assert stats.min_s <= stats.median_s <= stats.p90_s <= stats.max_s
    assert 0 <= stats.iqr_s <= stats.max_s - stats.min_s
    assert result.macs_per_image == analyze(TINY).totals.macs
    assert result.images_per_s == pytest.approx(3 / stats.median_s)
    assert result.gmacs_per_s == pytest.approx(result.macs_per_image * 3 / stats.median_s / 1e9)
    assert result.peak_memory_bytes is not None and result.peak_memory_bytes >= 0
    assert result.estimated_memory_bytes == estimate_memory(TINY, 3).total_bytes
    card = result.card
    assert (card.device, card.dtype, card.layout, card.batch_size) == ("cpu", "float32", "contiguous", 3)
    assert card.input_shape == (3, 3, 16, 16)
    assert card.torch_version == torch.__version__
    assert card.threads == torch.get_num_threads()
    assert (card.compiled, card.warmup, card.iterations) == (False, 1, 4)


def test_a_result_survives_json() -> None:
    result = run_benchmark(TINY, quick())
    data = json.loads(result.to_json())
    assert data["card"]["device"] == "cpu" and data["images_per_s"] == result.images_per_s
    assert BenchResult.from_dict(data) == result


def test_statistics_of_known_samples() -> None:
    stats = TimingStats.from_samples([4.0, 1.0, 3.0, 2.0, 5.0])
    assert stats.samples_s == (4.0, 1.0, 3.0, 2.0, 5.0)  # in the order they were taken
    assert (stats.median_s, stats.mean_s, stats.min_s, stats.max_s) == (3.0, 3.0, 1.0, 5.0)
    assert stats.iqr_s == pytest.approx(2.0)
    assert stats.p90_s == pytest.approx(4.6)


def test_progress_counts_every_iteration_warmup_included() -> None:
    calls: list[tuple[int, int]] = []
    run_benchmark(
        TINY, quick(warmup=2, iterations=3), progress=lambda done, total: calls.append((done, total))
    )
    assert [done for done, _ in calls] == [1, 2, 3, 4, 5]
    assert calls[-1] == (5, 5)


def test_on_sample_gets_each_timed_iteration_as_it_is_measured() -> None:
    seen: list[tuple[float, int]] = []
    progress: list[int] = []

    def on_sample(seconds: float) -> None:
        seen.append((seconds, len(progress)))

    result = run_benchmark(
        TINY,
        quick(warmup=2, iterations=5),
        progress=lambda done, _total: progress.append(done),
        on_sample=on_sample,
    )
    assert result.stats is not None
    assert tuple(seconds for seconds, _ in seen) == result.stats.samples_s  # warm-up left out
    # Each sample arrives during the run, right after its own pass, not all at the end.
    assert [passes_before for _, passes_before in seen] == [2, 3, 4, 5, 6]


def test_on_sample_stops_with_a_cancelled_run() -> None:
    seen: list[float] = []
    asked: list[int] = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) > 4

    result = run_benchmark(TINY, quick(iterations=1000), should_stop=should_stop, on_sample=seen.append)
    assert result.status == "cancelled" and result.stats is not None
    assert tuple(seen) == result.stats.samples_s and len(seen) == 3


def test_should_stop_ends_the_run_between_iterations() -> None:
    asked: list[int] = []

    def should_stop() -> bool:
        asked.append(1)
        return len(asked) > 3  # one warm-up and two timed passes, then stop

    result = run_benchmark(TINY, quick(iterations=1000), should_stop=should_stop)
    assert result.status == "cancelled" and not result.ok
    assert result.stats is not None and len(result.stats.samples_s) == 2
    assert result.card.iterations == 2


def test_cancel_before_the_first_timed_pass_has_no_statistics() -> None:
    result = run_benchmark(TINY, quick(), should_stop=lambda: True)
    assert result.status == "cancelled" and result.stats is None and result.images_per_s is None


def test_min_time_goes_on_until_the_passes_add_up() -> None:
    result = run_benchmark(TINY, quick(iterations=1, min_time_s=0.05))
    assert result.stats is not None
    assert sum(result.stats.samples_s) >= 0.05


def test_out_of_memory_becomes_an_error_result_and_the_model_is_released(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    models: list[weakref.ref[torch.nn.Module]] = []
    real_build = build_module.build_model

    def remembering_build(spec: ArchSpec, device: str = "cpu") -> ResNet:
        model = real_build(spec, device)
        models.append(weakref.ref(model))
        return model

    monkeypatch.setattr(build_module, "build_model", remembering_build)
    oom = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
    monkeypatch.setattr(ResNet, "forward", failing_forward(oom))
    result = run_benchmark(TINY, quick(batch_size=2))
    assert result.status == "error" and result.error_kind == "out-of-memory"
    assert (
        result.error is not None
        and "batch 2" in result.error
        and "Tried to allocate 20.00 GiB" in result.error
    )
    assert result.stats is None and result.images_per_s is None
    gc.collect()
    assert len(models) == 1 and models[0]() is None

    monkeypatch.undo()
    assert run_benchmark(TINY, quick(batch_size=2)).ok


def test_other_device_errors_become_error_results(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ResNet, "forward", failing_forward(RuntimeError("device-side assert triggered")))
    result = run_benchmark(TINY, quick())
    assert result.error_kind == "device"
    assert result.error == "RuntimeError on cpu: device-side assert triggered"


def test_programming_errors_are_not_swallowed(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ResNet, "forward", failing_forward(TypeError("a bug")))
    with pytest.raises(TypeError, match="a bug"):
        run_benchmark(TINY, quick())


def test_float16_on_the_cpu_is_refused_with_the_choices() -> None:
    with pytest.raises(BenchError, match=r"float16 is not supported on cpu .*float32, bfloat16"):
        run_benchmark(TINY, quick(dtype="float16"))


def test_bfloat16_and_channels_last_run_on_the_cpu() -> None:
    result = run_benchmark(TINY, quick(dtype="bfloat16", channels_last=True))
    assert result.ok
    assert (result.card.dtype, result.card.layout) == ("bfloat16", "channels_last")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"batch_size": 0}, "batch size 0"),
        ({"dtype": "float64"}, "dtype 'float64'"),
        ({"iterations": 0}, "iterations 0"),
        ({"warmup": -1}, "warm-up -1"),
        ({"threads": 0}, "threads 0"),
        ({"min_time_s": 0.0}, "minimum time"),
    ],
)
def test_impossible_configurations_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(BenchError, match=message):
        quick(**changes)


@pytest.mark.parametrize("name", ["gpu", "cuda:99"])
def test_devices_that_are_not_here_are_refused(name: str) -> None:
    with pytest.raises(BenchError, match=f"device '{name}'"):
        run_benchmark(TINY, quick(device=name))


def test_the_memory_check_refuses_an_absurd_batch_before_building(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def no_build(*_args: object) -> None:
        raise AssertionError("the model must not be built")

    monkeypatch.setattr(build_module, "build_model", no_build)
    result = run_benchmark(TINY, quick(batch_size=10**9))
    assert result.error_kind == "insufficient-memory"
    assert result.estimated_memory_bytes is not None and result.free_memory_bytes is not None
    assert result.estimated_memory_bytes > result.free_memory_bytes
    assert result.error is not None
    assert format_bytes(result.estimated_memory_bytes) in result.error
    assert format_bytes(result.free_memory_bytes) in result.error


def test_the_thread_count_is_set_for_the_run_and_restored() -> None:
    before = torch.get_num_threads()
    result = run_benchmark(TINY, quick(threads=1))
    assert result.card.threads == 1
    assert torch.get_num_threads() == before


def test_the_sweep_stops_at_the_first_failing_size(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    oom = torch.OutOfMemoryError("out of memory")
    monkeypatch.setattr(ResNet, "forward", failing_forward(oom, from_batch=4))
    seen: list[int] = []
    sweep = run_sweep(TINY, quick(), [1, 2, 4, 8], on_result=lambda result: seen.append(result.batch_size))
    assert [point.batch_size for point in sweep.points] == [1, 2]
    assert all(point.ok for point in sweep.points)
    assert sweep.stopped_by is not None and sweep.stopped_by.batch_size == 4
    assert sweep.stopped_by.error_kind == "out-of-memory"
    assert seen == [1, 2, 4] and not sweep.completed


def test_the_sweep_stops_at_a_memory_refusal_and_reports_progress_to_the_end() -> None:
    calls: list[tuple[int, int]] = []
    sweep = run_sweep(TINY, quick(), [1, 10**9, 2], progress=lambda d, t: calls.append((d, t)))
    assert [point.batch_size for point in sweep.points] == [1]
    assert sweep.stopped_by is not None and sweep.stopped_by.error_kind == "insufficient-memory"
    assert calls[-1] == (5, 15)  # the first of three sizes, 1 + 4 passes each
    assert json.loads(json.dumps(sweep.to_dict()))["stopped_by"]["card"]["batch_size"] == 10**9


def test_a_whole_sweep_completes() -> None:
    sweep = run_sweep(TINY, quick(iterations=2), sweep_batch_sizes(4))
    assert sweep.completed and [point.batch_size for point in sweep.points] == [1, 2, 4]


def test_sweep_sizes_are_powers_of_two() -> None:
    assert sweep_batch_sizes(10) == (1, 2, 4, 8)
    assert sweep_batch_sizes(1) == (1,)


def test_the_cpu_is_always_found() -> None:
    devices = available_devices()
    assert devices[0].key == "cpu" and devices[0].name
    assert resolve_device("auto") in devices
    assert resolve_device("CPU") == devices[0]
    synchronize("cpu")
    free = free_memory("cpu")
    assert free is None or free > 0


def test_the_activation_estimate_keeps_only_live_tensors() -> None:
    rows = analyze(TINY).rows
    outputs = [math.prod(row.output_shape) for row in rows if row.op != "block"]
    peak = peak_live_activations(TINY)
    # A layer's input and output are alive together; nothing like every output at once.
    assert max(a + b for a, b in itertools.pairwise(outputs)) <= peak < sum(outputs)
    one, four = estimate_memory(TINY, 1), estimate_memory(TINY, 4)
    assert four.weights_bytes == one.weights_bytes == analyze(TINY).totals.total_params * 4
    assert four.activation_bytes == pytest.approx(4 * one.activation_bytes, abs=4)
    assert estimate_memory(TINY, 1, "float16").activation_bytes == pytest.approx(
        one.activation_bytes / 2, abs=2
    )


def test_time_forward_times_the_callers_model_with_the_same_loop() -> None:
    model = build_module.build_model(TINY).eval()
    calls: list[int] = []

    def counting(x: torch.Tensor) -> torch.Tensor:
        calls.append(x.shape[0])
        return model(x)

    before = torch.get_num_threads()
    stats = time_forward(counting, torch.randn(2, 3, 16, 16), quick(threads=1))
    assert stats is not None and len(stats.samples_s) == 4
    assert calls == [2] * 5  # one warm-up and four timed passes
    assert torch.get_num_threads() == before
    assert time_forward(counting, torch.randn(2, 3, 16, 16), quick(), should_stop=lambda: True) is None


def test_cpu_peak_memory_is_the_tensors_of_a_pass_and_grows_with_the_batch() -> None:
    sweep = run_sweep(TINY, quick(iterations=1), [1, 2, 4, 8])
    peaks = [point.peak_memory_bytes for point in sweep.points]
    assert None not in peaks
    held = sum(p.numel() * 4 for p in build_module.build_model(TINY).state_dict().values())
    one, two, four, eight = (peak or 0 for peak in peaks)
    step = two - one  # every tensor of the pass but the weights scales with the batch
    assert one > held and step > 0
    assert (four - two, eight - four) == (2 * step, 4 * step)
    assert all(point.memory_source == CPU_MEMORY_SOURCE for point in sweep.points)


def test_live_tensor_peak_counts_what_is_alive_together() -> None:
    outside = torch.ones(1000)
    tracker = LiveTensorPeak(baseline_bytes=outside.untyped_storage().nbytes())
    with torch.inference_mode(), tracker.track():
        first = outside * 2
        second = first + 1
        view = second.view(10, 100)  # the same storage: nothing more
        del first
        third = second * 3
        del second, view, third
        fourth = outside * 4
        del fourth
    assert tracker.peak_bytes == 3 * 4000


def test_a_run_cancelled_during_the_warm_up_has_no_memory_figure() -> None:
    result = run_benchmark(TINY, quick(warmup=3), should_stop=lambda: True)
    assert result.stats is None and result.peak_memory_bytes is None
