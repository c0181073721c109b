"""resnet-explorer profile: where a forward pass's (or a training step's) time goes, stage by stage
and layer by layer."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from explorer.cli.bench import (
    ProgressBar,
    add_training_arguments,
    option_error,
    refuse_training_flags_outside_training,
)
from explorer.cli.errors import CliError, RunFailed
from explorer.cli.parser import refuse_unused, whole_number
from explorer.cli.paths import output_path, write_error_text
from explorer.cli.specargs import add_spec_arguments, spec_from_args
from explorer.core.benchtypes import (
    DTYPES,
    MAX_THREADS,
    MAX_WARMUP,
    MODES,
    BenchConfig,
    BenchError,
    InsufficientMemory,
)

DEFAULTS = BenchConfig()
DEFAULT_TOP = 10
DEFAULT_PASSES = 20  # more than a benchmark's: each layer's median needs them


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "profile",
        help="time every layer of a forward pass or training step: the stage table and the slowest layers",
        description=(
            "Build the spec's real model on a device and time each of its layers in every pass "
            "(eval mode, inference mode, random input), between plain passes of the whole model: "
            "the median time of each layer, stage and block, its share, its achieved GMAC/s "
            "against the model's average, and whether the layers add up to the plain pass. "
            "With --mode train a pass is a training step (train mode, cross-entropy loss on "
            "random labels): each layer's forward and backward time, the loss's, the rest of "
            "backward and the optimizer's step."
        ),
    )
    add_spec_arguments(parser)
    add_profile_arguments(parser)
    add_training_arguments(parser, "timed on its own row")
    output = parser.add_argument_group("output")
    output.add_argument(
        "--top",
        type=whole_number,
        default=DEFAULT_TOP,
        metavar="N",
        help=f"layers listed (default {DEFAULT_TOP})",
    )
    output.add_argument("--json", action="store_true", help="print the profile as one JSON object")
    output.add_argument("--save", metavar="FILE.json", help="also write the JSON profile to this file")
    output.add_argument(
        "--trace", metavar="FILE", help="write the passes as a Chrome trace (open it in Perfetto)"
    )
    parser.set_defaults(handler=run_profile)


def add_profile_arguments(parser: argparse.ArgumentParser, title: str = "profiling") -> None:
    """The options of a profile run, shared with diagram --color-by latency."""
    group = parser.add_argument_group(title)
    group.add_argument("--device", default="auto", metavar="auto|cpu|cuda|cuda:N|mps", help="default auto")
    group.add_argument("--batch", type=whole_number, default=1, metavar="N", help="images a pass (default 1)")
    group.add_argument("--dtype", choices=DTYPES, default="float32", help="reduced ones run through autocast")
    group.add_argument("--channels-last", action="store_true", help="NHWC memory layout for model and input")
    group.add_argument(
        "--mode",
        choices=MODES,
        default="inference",
        help="what a pass runs: a forward pass (default) or a training step (train)",
    )
    group.add_argument(
        "--warmup",
        type=whole_number,
        default=3,
        metavar="N",
        help=f"untimed passes (default 3, at most {MAX_WARMUP:,})",
    )
    group.add_argument(
        "--iters",
        type=whole_number,
        default=DEFAULT_PASSES,
        metavar="N",
        help=f"profiled passes, each after a plain one (default {DEFAULT_PASSES})",
    )
    group.add_argument(
        "--threads", type=whole_number, metavar="N", help=f"CPU threads for torch (at most {MAX_THREADS:,})"
    )


def profile_config(args: argparse.Namespace) -> BenchConfig:
    refuse_training_flags_outside_training(args)
    try:
        return BenchConfig(
            device=args.device,
            batch_size=args.batch,
            dtype=args.dtype,
            channels_last=args.channels_last,
            warmup=args.warmup,
            iterations=args.iters,
            threads=args.threads,
            mode=args.mode,
            optimizer=getattr(args, "optimizer", DEFAULTS.optimizer),
            amp=getattr(args, "amp", DEFAULTS.amp),
        )
    except BenchError as exc:
        raise CliError(option_error(str(exc))) from None


def run_profile_of(spec: Any, config: BenchConfig, label: str = "profile") -> Any:
    """A profile, its progress on stderr; Ctrl-C, a refused setting and a device failure said in a line."""
    from explorer.cli.worker_run import run_job
    from explorer.core.worker.jobs import profile_job

    bar = ProgressBar(sys.stderr, label)
    try:
        return run_job(
            profile_job(spec, config), bar, failed_prefix=f"the profile failed on {config.device}: "
        )
    except InsufficientMemory as exc:
        raise RunFailed(str(exc)) from None  # the machine's limit, as for every command
    except BenchError as exc:
        raise CliError(str(exc)) from None
    finally:
        bar.close()


def run_profile(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if args.top < 1:
        raise CliError(f"--top {args.top}: give a whole number from 1")
    if args.json:
        refuse_unused(getattr(args, "given", frozenset()), {"top": "--top"}, "the text output", "drop --json")
    config = profile_config(args)
    save_path = output_path(args.save, "--save") if args.save is not None else None
    trace_path = output_path(args.trace, "--trace") if args.trace is not None else None

    from explorer.core.files import atomic_write_text
    from explorer.core.render.profile_text import profile_text

    result = run_profile_of(spec, config)
    payload = result.to_json() + "\n"
    for path, text in ((save_path, payload), (trace_path, json.dumps(result.chrome_trace()) + "\n")):
        if path is None:
            continue
        try:
            atomic_write_text(path, text)
        except OSError as exc:
            raise RunFailed(f"cannot save {write_error_text(exc, path)}") from None
    sys.stdout.write(payload if args.json else profile_text(result, args.top))
    return 0
