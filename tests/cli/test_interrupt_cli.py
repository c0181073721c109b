"""Ctrl-C in a real command line process: one line on stderr and exit status 130."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = ["--depths", "1,1", "--widths", "8,16", "--stem-width", "8", "--input", "3x16x16"]
# Far more passes than the test waits for: the run is still going when Ctrl-C comes.
ENDLESS = ["--device", "cpu", "--warmup", "0", "--iters", "100000"]
# Generous bounds for a loaded machine; the test never measures how long anything takes.
WAIT_S = 240.0


def first_progress(process: subprocess.Popen[bytes], marker: bytes) -> bytes:
    """What stderr said up to ``marker`` (the progress line's label), read as it comes."""
    assert process.stderr is not None
    seen = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + WAIT_S
        while marker not in seen:
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail(f"no progress from the command: {seen!r}")
            if selector.select(timeout=1.0):
                chunk = os.read(process.stderr.fileno(), 4096)
                seen += chunk
    return seen


@pytest.mark.parametrize(
    ("argv", "label"),
    [
        (["bench", *TINY, *ENDLESS], b"bench:"),
        (["profile", *TINY, *ENDLESS], b"profile:"),
        (["compare", "cifar/resnet20", "cifar/resnet32", "--bench", *ENDLESS], b"timing:"),
    ],
)
def test_ctrl_c_after_the_first_progress_says_one_line_and_exits_130(argv: list[str], label: bytes) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "explorer", *argv],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        seen = first_progress(process, label)
        process.send_signal(signal.SIGINT)
        out, rest = process.communicate(timeout=WAIT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    err = (seen + rest).decode()
    assert process.returncode == 130
    assert out == b""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.rstrip().endswith(f"resnet-explorer {argv[0]}: interrupted")
    assert "Traceback" not in err
