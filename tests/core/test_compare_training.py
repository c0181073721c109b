"""The comparison's training columns: the step time from a train-mode run, the predicted step memory."""

from __future__ import annotations

import csv
import io
import json

import pytest

from explorer.core.benchtypes import BenchConfig, BenchResult, ReproCard, TimingStats
from explorer.core.compare import (
    TRAIN_MEMORY_BATCH,
    BenchFigures,
    Comparison,
    ComparisonError,
    shown_metrics,
)
from explorer.core.presets import preset
from explorer.core.render.compare_text import COMPARISON_FORMATTERS
from explorer.core.training_memory import predict_training_memory

STEP = BenchFigures("cpu", 8, 120.0, 4.0, 66.7)


def _pair() -> Comparison:
    return Comparison().add("r20", preset("cifar/resnet20")).add("r56", preset("cifar/resnet56"))


def test_the_train_memory_column_is_the_prediction_at_its_batch() -> None:
    rows = _pair().table()
    totals = [
        predict_training_memory(row.variant.spec, TRAIN_MEMORY_BATCH, "sgd-momentum", "float32").total_bytes
        for row in rows
    ]
    cells = [row.cells["train_memory_mib"] for row in rows]
    assert [cell.value for cell in cells] == pytest.approx([total / 2**20 for total in totals])
    assert cells[1].delta == pytest.approx((totals[1] - totals[0]) / 2**20)
    assert cells[1].value is not None and cells[0].value is not None and cells[1].value > cells[0].value


def test_the_train_step_column_shows_once_a_variant_has_a_train_timing() -> None:
    comparison = _pair()
    keys = [metric.key for metric in shown_metrics(comparison)]
    assert "train_memory_mib" in keys and "train_step_ms" not in keys and "latency_ms" not in keys
    timed = comparison.with_train_bench(1, STEP)
    assert "train_step_ms" in [metric.key for metric in shown_metrics(timed)]
    assert "latency_ms" not in [metric.key for metric in shown_metrics(timed)]
    rows = timed.table()
    assert rows[1].cells["train_step_ms"].value == 120.0 and rows[0].cells["train_step_ms"].value is None
    assert timed.variants[1].bench is None  # a step time is not a forward pass's latency
    text = COMPARISON_FORMATTERS["table"](timed)
    assert "Train step (ms)" in text and f"Train memory b{TRAIN_MEMORY_BATCH} (MiB)" in text


def test_train_timings_survive_a_file_and_older_files_still_load() -> None:
    comparison = _pair().with_train_bench(0, STEP).duplicate(0)
    data = json.loads(comparison.to_json())
    assert data["variants"][0]["train_bench"]["median_ms"] == 120.0
    assert Comparison.from_dict(data) == comparison
    assert comparison.variants[1].train_bench == STEP  # a duplicate keeps its timings
    for entry in data["variants"]:
        del entry["train_bench"]
    older = Comparison.from_dict(data)
    assert all(variant.train_bench is None for variant in older.variants)


def test_a_broken_train_timing_is_refused_by_name() -> None:
    data = json.loads(_pair().to_json())
    data["variants"][1]["train_bench"] = 7
    message = r"variant 2 \('r56'\): 'train_bench' must be an object or null"
    with pytest.raises(ComparisonError, match=message):
        Comparison.from_dict(data)


def _train_result() -> BenchResult:
    spec = preset("cifar/resnet20")
    config = BenchConfig(
        device="cpu", batch_size=8, mode="train", optimizer="adamw", amp=True, channels_last=True
    )
    card = ReproCard(
        torch_version="2.13.0",
        python_version="3.11",
        platform="Linux",
        device="cpu",
        device_name="Test CPU",
        threads=4,
        dtype="bfloat16",
        layout="channels_last",
        batch_size=8,
        input_shape=(8, 3, 32, 32),
        compiled=True,
        warmup=1,
        iterations=3,
        cudnn_benchmark=None,
        mode="train",
        optimizer="adamw",
        grad_scaler=False,
    )
    return BenchResult(spec, config, card, "ok", TimingStats.from_samples([0.1, 0.12, 0.11]))


def test_a_training_timing_keeps_every_condition_wherever_it_goes() -> None:
    figures = BenchFigures.from_result(_train_result())
    assert (figures.mode, figures.optimizer) == ("train", "adamw")
    assert (figures.amp, figures.dtype) == (True, "bfloat16")
    assert (figures.layout, figures.threads, figures.compiled) == ("channels_last", 4, True)
    words = figures.conditions()
    for part in ("training step (adamw)", "autocast bfloat16", "channels_last", "batch 8", "Test CPU"):
        assert part in words
    assert "4 threads" in words and "torch.compile" in words and "not recorded" not in words
    comparison = _pair().with_train_bench(1, figures)
    assert Comparison.from_dict(json.loads(comparison.to_json())) == comparison
    for name in ("table", "markdown"):
        assert "r56 training step timed under: training step (adamw)" in COMPARISON_FORMATTERS[name](
            comparison
        ).replace("\\", "")
    rows = list(csv.DictReader(io.StringIO(COMPARISON_FORMATTERS["csv"](comparison))))
    assert rows[1]["train_bench_optimizer"] == "adamw" and rows[1]["train_bench_amp"] == "yes"
    assert rows[1]["train_bench_dtype"] == "bfloat16" and rows[1]["train_bench_layout"] == "channels_last"
    assert rows[1]["train_bench_threads"] == "4" and rows[1]["train_bench_compiled"] == "yes"
    assert rows[0]["train_bench_optimizer"] == ""
    exported = json.loads(COMPARISON_FORMATTERS["json"](comparison))["variants"][1]["train_bench"]
    assert exported["optimizer"] == "adamw" and exported["amp"] is True and exported["mode"] == "train"


def test_a_timing_from_an_older_file_says_its_conditions_are_unknown() -> None:
    older = {"device": "cpu", "batch_size": 8, "median_ms": 120.0, "iqr_ms": 4.0, "images_per_s": 66.7}
    figures = BenchFigures.from_dict(older)
    assert figures.mode is None and figures.optimizer is None and figures.amp is None
    assert figures.conditions() == ("batch 8, cpu (mode, precision, layout, threads, compile not recorded)")


def test_size_columns_are_named_for_their_unit() -> None:
    comparison = _pair()
    header = COMPARISON_FORMATTERS["csv"](comparison).splitlines()[0].split(",")
    table = json.loads(COMPARISON_FORMATTERS["json"](comparison))["table"][0]
    for key in ("train_memory_mib", "forward_backward_mib", "params_mib", "total_mib"):
        assert key in header and key in table
    assert not [name for name in [*header, *table] if "_mb" in name]


def test_a_timings_conditions_from_a_file_are_checked() -> None:
    data = json.loads(_pair().with_train_bench(1, STEP).to_json())
    for name, bad in (("mode", "sideways"), ("amp", 1), ("threads", 0), ("layout", "NHWC")):
        broken = json.loads(json.dumps(data))
        broken["variants"][1]["train_bench"][name] = bad
        with pytest.raises(ComparisonError, match=rf"variant 2 \('r56'\): {name} "):
            Comparison.from_dict(broken)
