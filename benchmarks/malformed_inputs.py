"""A malformed-input campaign over every command of resnet-explorer, with its tally.

Each case is a real process of the command line given something wrong: bad, huge, negative
or not-a-number numbers, unknown choices, long strings, missing files, folders, FIFOs,
symlinks to /dev/zero, JSON with huge integers or deep nesting, outputs that cannot be
written, empty strings. Every case must end with exit code 2 (1 where the run itself fails),
exactly one line on stderr, no traceback, nothing on stdout, no file left behind and no hang.

Each case runs in an empty folder of its own, under a memory limit (a loader that reads
/dev/zero fails there instead of filling the machine) and a time limit. Special files are
made inside the campaign's own folder: no case ever points at the system's devices.

    .venv/bin/python benchmarks/malformed_inputs.py [--jobs 2] [--timeout 60] [--only TEXT] [--list]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MEMORY_LIMIT_BYTES = 4 << 30
DEFAULT_TIMEOUT_S = 60.0
LONG = "a" * 10_000
HUGE_DIGITS = "9" * 5_000
# The real command line in a child that cannot take more than MEMORY_LIMIT_BYTES of memory.
CHILD = (
    "import resource, runpy, sys\n"
    "resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))\n"
    "sys.argv = ['resnet-explorer', *sys.argv[1:]]\n"
    "runpy.run_module('explorer', run_name='__main__', alter_sys=True)\n"
)
# A tiny network and quick timing options: should a case run by mistake, it ends quickly.
TINY = ("--depths", "1,1", "--widths", "8,16", "--stem-width", "8", "--input", "3x16x16")
QUICK = ("--device", "cpu", "--warmup", "0", "--iters", "1")
# Checkpoints for `export --weights`, written by torch in a child: one of another spec, and
# one of TINY's own keys with a weight stored as integers.
CHECKPOINTS = (
    "import sys, torch\n"
    "from explorer.core.build import build_model\n"
    "from explorer.core.spec import ArchSpec\n"
    "tiny = ArchSpec(depths=(1, 1), widths=(8, 16), stem_width=8, input_size=(16, 16))\n"
    "state = build_model(tiny).state_dict()\n"
    "torch.save({'weight': torch.zeros(3)}, sys.argv[1])\n"
    "torch.save({**state, 'conv1.weight': state['conv1.weight'].to(torch.int64)}, sys.argv[2])\n"
)


@dataclass(frozen=True)
class Case:
    group: str
    label: str
    argv: tuple[str, ...]
    codes: frozenset[int] = frozenset({2})
    says: str = ""
    """Words the one line on stderr must hold (none: any clear line will do)."""

    @property
    def name(self) -> str:
        return f"{self.group}: {self.label}"


@dataclass
class Outcome:
    case: Case
    code: int | None
    stderr: str
    seconds: float
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def make_fixtures(folder: Path) -> dict[str, str]:
    """The broken inputs, made inside ``folder``: name -> path."""
    folder.mkdir(parents=True, exist_ok=True)

    def text(name: str, content: str) -> str:
        path = folder / name
        path.write_text(content, encoding="utf-8")
        return str(path)

    (folder / "dir").mkdir()
    (folder / "dir.json").mkdir()
    os.mkfifo(folder / "fifo.json")
    os.mkfifo(folder / "out-fifo")
    (folder / "zero.json").symlink_to("/dev/zero")
    (folder / "zero-out.svg").symlink_to("/dev/zero")
    (folder / "dangling-out").symlink_to(folder / "missing-folder" / "out")
    (folder / "binary.json").write_bytes(bytes(range(256)) * 64)
    subprocess.run(
        [sys.executable, "-c", CHECKPOINTS, str(folder / "other.pth"), str(folder / "integers.pth")],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    (folder / "picture.json").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    comparison = {
        "format_version": 1,
        "kind": "comparison",
        "baseline": 0,
        "variants": [{"name": "a", "spec": {"depths": [1, 1]}, "bench": None}],
    }
    return {
        "missing file": str(folder / "missing.json"),
        "missing preset": "resnet9",
        "long name": LONG,
        "long .json name": LONG + ".json",
        "name with a newline": "resnet\n18",
        "name with a terminal escape": "\x1b[31mresnet18",
        "directory": str(folder / "dir"),
        "directory named .json": str(folder / "dir.json"),
        "FIFO": str(folder / "fifo.json"),
        "symlink to /dev/zero": str(folder / "zero.json"),
        "empty file": text("empty.json", ""),
        "binary file": str(folder / "binary.json"),
        "PNG named .json": str(folder / "picture.json"),
        "white space only": text("blank.json", " \n\t\n"),
        "plain text named .json": text("words.json", "resnet50 with 4 stages\n"),
        "invalid JSON": text("broken.json", '{"depths": [2, 2'),
        "JSON array": text("array.json", "[1, 2, 3]"),
        "JSON string": text("string.json", '"resnet18"'),
        "JSON null": text("null.json", "null"),
        "huge integer": text("huge-int.json", '{"depths": [' + HUGE_DIGITS + "]}"),
        "huge negative integer": text("huge-neg.json", '{"stem_width": -' + HUGE_DIGITS + "}"),
        "float overflow": text("float.json", '{"depths": [1e400, 2]}'),
        "NaN": text("nan.json", '{"depths": [NaN, 2]}'),
        "deep nesting": text("deep.json", "[" * 100_000 + "]" * 100_000),
        "deep nesting in a field": text("deep-field.json", '{"depths": ' + "[" * 50_000 + "]" * 50_000 + "}"),
        "unknown block": text("block.json", '{"block": "pyramid"}'),
        "unknown field": text("field.json", '{"frobnicate": 1}'),
        "long string value": text("long-value.json", json.dumps({"block": LONG * 10})),
        "bool as a depth": text("bool.json", '{"depths": [true, 2]}'),
        "depths as text": text("depths-text.json", '{"depths": "3,4,6,3"}'),
        "future format version": text("version.json", '{"format_version": 99}'),
        "huge format version": text("version-huge.json", '{"format_version": ' + HUGE_DIGITS + "}"),
        "comparison file": text("comparison.json", json.dumps(comparison)),
        "not JSON, no .json suffix": text("notes.txt", "hello"),
        "checkpoint of another spec": str(folder / "other.pth"),
        "checkpoint with integer weights": str(folder / "integers.pth"),
    }


# What the message says of a file that holds no spec, whichever command reads it.
FIXTURE_WORDS = {
    "empty file": "is empty",
    "white space only": "is empty",
    "binary file": "is not a text file",
    "PNG named .json": "is not a text file",
    "plain text named .json": "is text, not JSON",
}


def _values(group: str, flag_args: Sequence[str], values: Iterable[str], prefix: Sequence[str]) -> list[Case]:
    return [Case(group, repr(value)[:40], (*prefix, *flag_args, value)) for value in values]


# Digits of other scripts, which Python's int() and float() read as numbers: 18, 3, 0.5.
UNICODE_WHOLE = ("١٨", "３")
UNICODE_REAL = "٠.٥"
POSITIVE_BAD = (
    "", " ", "abc", "0", "-1", f"-{HUGE_DIGITS}", "1.5", "1e30", "nan", "inf", "-inf",
    "99999999999", HUGE_DIGITS, "0x10", "--", "½", *UNICODE_WHOLE,
)  # fmt: skip
COUNT_BAD = tuple(value for value in POSITIVE_BAD if value != "0")
FLOAT_BAD = (
    "", "abc", "0", "-1", "nan", "inf", "-inf", "1e30", "99999999999", "1e-400", HUGE_DIGITS, UNICODE_REAL,
)  # fmt: skip
LIST_BAD = (
    "", ",", "1,,2", "a,b", "0", "0,0", "-1,2", "1e30", "99999999999", HUGE_DIGITS,
    ",".join(["1"] * 10_000), "1;2", "nan", "1.5,2",
)  # fmt: skip
INPUT_BAD = (
    "", "3x", "3x224", "0x0x0", "3x0x224", "3x99999999999x2", "axbxc", "3x-1x2", "3x224x224x3",
    HUGE_DIGITS + "x1x1", "1e3x1x1", "٣x٣٢x٣٢",
)  # fmt: skip
# Spec lists whose numbers are written in other scripts' digits (the stage lists only:
# --sweep, which takes the same form, is checked by its own command).
UNICODE_LISTS = ("١,١", "３,３")
CHOICE_BAD = ("", "nope", LONG, "BASIC")


def make_cases(fx: dict[str, str]) -> list[Case]:
    cases: list[Case] = []
    for label, source in fx.items():
        says = FIXTURE_WORDS.get(label, "")
        cases += [
            Case("summary SOURCE", label, ("summary", source), says=says),
            Case("diagram SOURCE", label, ("diagram", source, "-o", "out.svg"), says=says),
            Case("bench SOURCE", label, ("bench", source, *QUICK), says=says),
            Case("compare SPEC SOURCE", label, ("compare", "resnet18", source), says=says),
            Case("compare --open SOURCE", label, ("compare", "--open", source, "resnet18"), says=says),
            Case("gui SOURCE", label, ("gui", source), says=says),
            Case("screenshot SOURCE", label, ("screenshot", source, "--out", "shots"), says=says),
        ]

    bench = ("bench", *TINY, *QUICK)
    cases += _values("bench --batch", ("--batch",), POSITIVE_BAD, bench)
    cases += _values("bench --warmup", ("--warmup",), COUNT_BAD, ("bench", *TINY, "--device", "cpu"))
    cases += _values("bench --iters", ("--iters",), POSITIVE_BAD, ("bench", *TINY, "--device", "cpu"))
    cases += _values("bench --min-time", ("--min-time",), FLOAT_BAD, bench)
    cases += _values("bench --threads", ("--threads",), POSITIVE_BAD, bench)
    sweeps = (*(value for value in LIST_BAD if value != ",".join(["1"] * 10_000)), "0,1")
    cases += _values("bench --sweep", ("--sweep",), sweeps, bench)
    cases += _values("bench --device", ("--device",), ("", "gpu", "cuda:99", "cuda:-1", "cpu:0", LONG), bench)

    compare = ("compare", "resnet18", "resnet34", "--bench", *QUICK)
    for flag, values in (
        ("--batch", POSITIVE_BAD[:10]),
        ("--threads", POSITIVE_BAD[:10]),
        ("--min-time", FLOAT_BAD[:8]),
        ("--warmup", COUNT_BAD[:8]),
    ):
        cases += _values(f"compare --bench {flag}", (flag,), values, compare)
    cases += _values(
        "compare --baseline", ("--baseline",), ("0", "3", "-1", "abc", HUGE_DIGITS, ""), compare[:3]
    )

    cases += _values("diagram --dpi", ("--dpi",), POSITIVE_BAD, ("diagram", "resnet18", "-o", "out.png"))
    for flag in ("--stem-width", "--groups", "--width-per-group"):
        cases += _values(f"summary {flag}", (flag,), POSITIVE_BAD, ("summary", "resnet50"))
    cases += _values("summary --classes", ("--classes",), COUNT_BAD, ("summary",))
    for flag in ("--depths", "--widths", "--strides"):
        cases += _values(f"summary {flag}", (flag,), (*LIST_BAD, *UNICODE_LISTS), ("summary",))
    cases += _values("summary --se-ratio", ("--se-ratio",), FLOAT_BAD, ("summary", "--attention", "se"))
    cases += _values("summary --output-stride", ("--output-stride",), UNICODE_WHOLE, ("summary",))
    export = ("export", *TINY, "-o", "model.onnx")
    cases += _values("export --opset", ("--opset",), POSITIVE_BAD, export)
    to_pt2 = ("export", *TINY, "-o", "model.pt2", "--weights")
    cases += [
        Case(
            "export --weights",
            "another spec's",
            (*to_pt2, fx["checkpoint of another spec"]),
            says="does not match",
        ),
        Case(
            "export --weights",
            "integer weights",
            (*to_pt2, fx["checkpoint with integer weights"]),
            says="stores conv1.weight as torch.int64",
        ),
        Case(
            "export --weights",
            "a JSON spec",
            (*to_pt2, fx["comparison file"]),
            says="is a text file, not a PyTorch checkpoint",
        ),
        Case("export --weights", "empty", (*to_pt2, fx["empty file"])),
        Case("export --weights", "a FIFO", (*to_pt2, fx["FIFO"])),
        Case("export --weights", "a symlink to /dev/zero", (*to_pt2, fx["symlink to /dev/zero"])),
    ]
    # A prediction takes batches up to 2**40: a larger one, not 99999999999, is out of range.
    memory_batches = (*(value for value in POSITIVE_BAD if value != "99999999999"), str(2**40 + 1))
    cases += _values("memory --batch", ("--batch",), memory_batches, ("memory", *TINY))
    sizes = ("", "lots", "24G", "1ZiB", "2EiB", "-1GiB", "nanGiB", "1e400", HUGE_DIGITS, "٢٤GiB")
    cases += _values("memory --fit", ("--fit",), sizes, ("memory", *TINY))
    cases += _values("summary --input", ("--input",), INPUT_BAD, ("summary",))
    shot = ("screenshot", "cifar/resnet20", "--out", "shots")
    cases += _values(
        "screenshot --size",
        ("--size",),
        ("", "big", "0x0", "99999999999x2", "1e3x1e3", LONG, "١٢٨٠x٨٠٠"),
        shot,
    )

    for command, flag in (
        ("summary", "--block"),
        ("summary", "--stem"),
        ("summary", "--shortcut"),
        ("summary", "--format"),
        ("presets", "--format"),
        ("bench", "--dtype"),
    ):
        cases += _values(f"{command} {flag}", (flag,), CHOICE_BAD, (command,))
    for flag in ("--level", "--style", "--rankdir", "--format"):
        cases += _values(f"diagram {flag}", (flag,), CHOICE_BAD, ("diagram", "resnet18", "-o", "out.svg"))
    cases += _values("compare --format", ("--format",), CHOICE_BAD, ("compare", "resnet18", "resnet34"))

    outputs = {
        "empty": "",
        "missing folder": "/nonexistent-folder/out.{ext}",
        "long name": LONG + ".{ext}",
        "a folder": fx["directory"],
        "the current folder": ".",
        "a FIFO": str(Path(fx["FIFO"]).with_name("out-fifo")),
        "a symlink to /dev/zero": str(Path(fx["FIFO"]).with_name("zero-out.svg")),
        "inside a file": fx["empty file"] + "/out.{ext}",
        "a link whose folder is missing": str(Path(fx["FIFO"]).with_name("dangling-out")),
        # Folders that take no new file (nothing is made there: the check finds that out).
        "under /proc": "/proc/out.{ext}",
        "under /sys": "/sys/out.{ext}",
    }
    for label, target in outputs.items():
        cases += [
            Case(
                "diagram -o",
                label,
                ("diagram", "resnet18", "--format", "svg", "-o", target.format(ext="svg")),
            ),
            Case("bench --save", label, ("bench", *TINY, *QUICK, "--save", target.format(ext="json"))),
            Case(
                "compare --save",
                label,
                ("compare", "resnet18", "resnet34", "--save", target.format(ext="json")),
            ),
            Case("profile --trace", label, ("profile", *TINY, *QUICK, "--trace", target.format(ext="json"))),
            Case("export -o", label, ("export", *TINY, "-o", target.format(ext="py"))),
        ]
    cases += [
        Case("diagram -o", "unknown extension", ("diagram", "resnet18", "-o", "out.jpeg")),
        Case("screenshot --out", "empty", ("screenshot", "cifar/resnet20", "--out", "")),
        Case("screenshot --out", "long name", ("screenshot", "cifar/resnet20", "--out", LONG)),
        Case(
            "screenshot --out",
            "inside a file",
            ("screenshot", "cifar/resnet20", "--out", fx["empty file"] + "/x"),
        ),
    ]

    cases += [
        Case("arguments", "unknown command", ("frobnicate",)),
        Case("arguments", "long unknown command", (LONG,)),
        Case("arguments", "empty command", ("",)),
        Case("arguments", "unknown top-level option", ("--frobnicate",)),
        Case("arguments", "diagram without -o", ("diagram", "resnet18")),
        Case("arguments", "screenshot without --out", ("screenshot", "resnet18")),
        Case("arguments", "compare without specs", ("compare",)),
        Case("arguments", "compare with one spec", ("compare", "resnet18")),
        Case("arguments", "summary with two sources", ("summary", "resnet18", "resnet34")),
        Case("arguments", "gui --new-window with a value", ("gui", "--new-window=yes", "resnet18")),
        Case("arguments", "desktop without an action", ("desktop",)),
        Case("arguments", "desktop with an unknown action", ("desktop", "frobnicate")),
        Case("arguments", "desktop with a long action", ("desktop", LONG)),
        Case("arguments", "bench --batch with --sweep", ("bench", *TINY, "--batch", "2", "--sweep", "1,2")),
        Case("arguments", "--dpi on svg", ("diagram", "resnet18", "-o", "out.svg", "--dpi", "150")),
        Case("arguments", "option without its value", ("summary", "--depths")),
        Case("arguments", "many unknown arguments", ("summary", *(f"--x{i}" for i in range(500)))),
        Case("arguments", "unknown option with a long value", ("summary", f"--frob={LONG}")),
    ]
    # A flag that does nothing as the command is given is refused, even at its default value.
    profile = ("profile", *TINY, *QUICK)
    unused = {
        "bench --optimizer in inference": (*bench, "--optimizer", "adamw"),
        "bench --optimizer at its default in inference": (*bench, "--optimizer", "sgd-momentum"),
        "profile --optimizer in inference": (*profile, "--optimizer", "sgd"),
        "profile --top with --json": (*profile, "--json", "--top", "3"),
        "compare --iters without --bench": ("compare", "resnet18", "resnet34", "--iters", "3"),
        "compare --mode without --bench": ("compare", "resnet18", "resnet34", "--mode", "train"),
        "compare --bench --optimizer in inference": (*compare, "--optimizer", "adamw"),
        "diagram --device without a profiled colour": (
            "diagram",
            "resnet18",
            "-o",
            "out.dot",
            "--device",
            "auto",
        ),
        "export --opset to .py": ("export", *TINY, "-o", "model.py", "--opset", "18"),
    }
    cases += [Case("unused flags", label, argv, says="drop it") for label, argv in unused.items()]
    # --amp outside train mode: the message says what to use instead.
    for label, argv in (("bench", bench), ("compare --bench", compare)):
        cases.append(
            Case("unused flags", f"{label} --amp in inference", (*argv, "--amp"), says="--amp is for")
        )
    cases += _values("compare --bench --mode", ("--mode",), CHOICE_BAD, compare)
    cases += _values("compare --bench --optimizer", ("--mode", "train", "--optimizer"), CHOICE_BAD, compare)
    # A device name of the wrong form is refused before any spec is read (the second is missing).
    cases.append(
        Case(
            "compare --bench --device",
            "a bad name before a missing spec",
            ("compare", "resnet18", fx["missing file"], "--bench", "--device", "bogus"),
            says="is not a device name",
        )
    )
    # Valid inputs too large for any machine: the memory check refuses them, exit 1 everywhere.
    huge = ("--batch", "1000000000")
    too_large = {
        "bench": (*bench, *huge),
        "bench --mode train": (*bench, "--classes", "4", "--mode", "train", *huge),
        "profile": (*profile, *huge),
        "compare --bench": ("compare", "cifar/resnet20", "cifar/resnet32", "--bench", *QUICK, *huge),
        "diagram --color-by latency": ("diagram", *TINY, "-o", "o.dot", "--color-by", "latency", *huge),
        "export": (
            "export", "--stem", "cifar", "--depths", "1,1", "--widths", "512,512", "--strides", "1,1",
            "--input", "3x4096x4096", "-o", "model.onnx",
        ),
        "summary --cross-check": (
            "summary", "--cross-check", "--stem", "cifar", "--depths", "1,1", "--widths", "512,512",
            "--strides", "1,1", "--input", "3x4096x4096",
        ),
    }  # fmt: skip
    cases += [
        Case("memory check", label, argv, codes=frozenset({1}), says="free")
        for label, argv in too_large.items()
    ]

    for command in ("summary", "diagram", "bench", "compare", "presets", "gui", "screenshot", "desktop"):
        cases.append(Case("arguments", f"{command} --frobnicate", (command, "--frobnicate")))
    return cases


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def run_case(case: Case, folder: Path, home: Path, timeout_s: float) -> Outcome:
    """Run ``case`` in an empty ``folder`` of its own and say what, if anything, went wrong."""
    folder.mkdir(parents=True)
    # No display of any kind: a case that would open the app's window fails instead of waiting on it.
    hidden = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    env = {key: value for key, value in os.environ.items() if key not in hidden}
    env.update(PYTHONPATH=str(REPO), HOME=str(home), XDG_CONFIG_HOME=str(home))
    command = [sys.executable, "-c", CHILD.format(limit=MEMORY_LIMIT_BYTES), *case.argv]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        out, err = process.communicate(timeout=timeout_s)
        code: int | None = process.returncode
    except subprocess.TimeoutExpired:
        _stop(process)
        out, err = process.communicate()
        code = None
    stderr = err.decode("utf-8", "replace")
    outcome = Outcome(case, code, stderr, time.perf_counter() - started)
    if code is None:
        outcome.problems.append(f"no answer within {timeout_s:g} s")
    elif code not in case.codes:
        outcome.problems.append(f"exit {code}, not {' or '.join(map(str, sorted(case.codes)))}")
    if "Traceback (most recent call last)" in stderr:
        outcome.problems.append("a traceback")
    lines = stderr.count("\n")
    if code is not None and (lines != 1 or not stderr.endswith("\n")):
        outcome.problems.append(f"{lines} lines on stderr, not 1")
    if case.says and case.says not in stderr:
        outcome.problems.append(f"the message does not say {case.says!r}")
    if out:
        outcome.problems.append("output on stdout")
    left = sorted(path.name for path in folder.iterdir())
    if left:
        outcome.problems.append(f"left behind: {', '.join(left)[:80]}")
    shutil.rmtree(folder, ignore_errors=True)
    return outcome


def run_campaign(cases: Sequence[Case], jobs: int = 2, timeout_s: float = DEFAULT_TIMEOUT_S) -> list[Outcome]:
    """Every case in fresh folders under a temporary directory, ``jobs`` at a time."""
    with tempfile.TemporaryDirectory(prefix="resnet-explorer-malformed-") as temp:
        root = Path(temp)
        home = root / "home"
        home.mkdir()

        def one(numbered: tuple[int, Case]) -> Outcome:
            number, case = numbered
            return run_case(case, root / "cases" / str(number), home, timeout_s)

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            outcomes = list(pool.map(one, enumerate(cases)))
        if any(home.iterdir()):
            outcomes[-1].problems.append(f"settings written: {sorted(p.name for p in home.iterdir())}")
    return outcomes


def snapshot(folder: Path) -> list[tuple[str, int, int]]:
    """Name, kind and size of everything in ``folder``: the inputs must come out as they went in."""
    return [(entry.name, entry.lstat().st_mode, entry.lstat().st_size) for entry in sorted(folder.rglob("*"))]


def cases_for(folder: Path) -> list[Case]:
    return make_cases(make_fixtures(folder))


def tally(outcomes: Sequence[Outcome]) -> str:
    failed = [outcome for outcome in outcomes if not outcome.ok]
    lines = [f"{len(outcomes)} cases, {len(outcomes) - len(failed)} passed, {len(failed)} failed"]
    kinds = Counter(problem.split(":")[0].split(" within")[0] for o in failed for problem in o.problems)
    for kind, count in kinds.most_common():
        lines.append(f"  {count:4d}  {kind}")
    groups = Counter(o.case.group for o in outcomes)
    failed_groups = Counter(o.case.group for o in failed)
    if failed:
        lines.append("failing groups (failed/cases):")
        lines += [f"  {failed_groups[g]:3d}/{groups[g]:<3d} {g}" for g in sorted(failed_groups)]
        lines.append("failures:")
        for outcome in failed:
            first = outcome.stderr.strip().splitlines()[-1:] or [""]
            lines.append(f"  {outcome.case.name}: {'; '.join(outcome.problems)} | {first[0][:150]}")
    slowest = max(outcomes, key=lambda o: o.seconds, default=None)
    if slowest is not None:
        lines.append(f"slowest case: {slowest.case.name} ({slowest.seconds:.1f} s)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds a case may take")
    parser.add_argument("--only", metavar="TEXT", help="only the cases whose name contains TEXT")
    parser.add_argument("--list", action="store_true", help="list the cases instead of running them")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="resnet-explorer-fixtures-") as temp:
        cases = cases_for(Path(temp))
        if args.only:
            cases = [case for case in cases if args.only in case.name]
        if args.list:
            for case in cases:
                print(case.name)
            return 0
        started = time.perf_counter()
        before = snapshot(Path(temp))
        outcomes = run_campaign(cases, args.jobs, args.timeout)
        changed = sorted(set(before) ^ set(snapshot(Path(temp))))
    print(tally(outcomes))
    if changed:
        print(f"the broken inputs themselves changed: {changed[:5]}")
    print(f"{time.perf_counter() - started:.0f} s with {args.jobs} jobs")
    return 0 if all(outcome.ok for outcome in outcomes) and not changed else 1


if __name__ == "__main__":
    sys.exit(main())
