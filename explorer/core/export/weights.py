"""The weights an exported network carries: freshly initialised, initialised with each
block's last norm at zero, or read from a checkpoint whose keys match the spec."""

from __future__ import annotations

import codecs
import contextlib
import os
import pickle
import stat
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

import torch
from torch import nn

from explorer.core.build import build_model
from explorer.core.export.choices import WEIGHT_CHOICES, ZERO_INIT
from explorer.core.export.result import WeightsError
from explorer.core.quoting import quote_value
from explorer.core.spec import ArchSpec
from explorer.core.units import format_bytes

# A checkpoint of the largest specs is a few GB; a file far beyond that is no checkpoint.
MAX_CHECKPOINT_BYTES = 16 * 1024**3
_LISTED_KEYS = 3


def spec_for_weights(spec: ArchSpec, weights: str) -> ArchSpec:
    """The spec whose initialisation ``weights`` asks for (``zero-init`` zeroes each block's last norm)."""
    return replace(spec, zero_init_residual=True) if weights == ZERO_INIT else spec


def model_with_weights(spec: ArchSpec, weights: str) -> nn.Module:
    """``build_model`` of ``spec`` in eval mode, initialised as ``weights`` says, or with the
    tensors of the checkpoint file ``weights`` (any other value than the two choices)."""
    if weights in WEIGHT_CHOICES:
        model = build_model(spec_for_weights(spec, weights))
    else:
        model = build_model(spec)
        state = read_checkpoint(Path(weights))
        check_keys(model.state_dict(), state, weights)
        check_dtypes(model.state_dict(), state, weights)
        model.load_state_dict(state, strict=True)
    return model.eval()


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a ``torch.save``-d state dict (or of its ``state_dict`` / ``model``
    entry), read without running any code the file may hold (``weights_only``)."""
    with _open_regular_file(path) as (handle, size):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's notes on pickle protocols: the check below decides
                loaded = torch.load(handle, map_location="cpu", weights_only=True)
        except Exception as exc:  # a hostile or broken pickle raises anything
            if _out_of_memory(exc):
                raise WeightsError(
                    f"{quote_value(str(path))} ({format_bytes(size)}) is too large for the memory this "
                    "process may use: free some memory or raise the limit (ulimit -v), then try again"
                ) from None
            handle.seek(0)
            raise _unreadable(path, handle.read(_HEAD_BYTES), exc) from None
    if isinstance(loaded, dict):
        for key in ("state_dict", "model"):
            if isinstance(loaded.get(key), dict):
                loaded = loaded[key]
                break
    if not isinstance(loaded, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in loaded.items()
    ):
        raise WeightsError(
            f"{quote_value(str(path))} holds no state dict (names to tensors): "
            "save one with torch.save(model.state_dict(), path)"
        )
    return loaded


_HEAD_BYTES = 512
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format since torch 1.6
_PICKLE_MAGIC = b"\x80"  # a pickle of protocol 2 or later: torch.save's older format


def _unreadable(path: Path, head: bytes, exc: Exception) -> WeightsError:
    """What the file is, in words, from its first bytes. torch's own message is not passed on:
    it suggests loading with ``weights_only=False``, which would run whatever code the file holds."""
    name = quote_value(str(path))
    if not head:
        return WeightsError(f"{name} is empty, not a PyTorch checkpoint")
    if head.startswith((_ZIP_MAGIC, _PICKLE_MAGIC)):
        if isinstance(exc, pickle.UnpicklingError):
            return WeightsError(
                f"{name} is a pickle that holds more than tensors (objects whose loading would run "
                "code), so it is refused: save the weights alone with torch.save(model.state_dict(), path)"
            )
        return WeightsError(f"{name} is a damaged or incomplete PyTorch checkpoint: save it again")
    if _is_text(head):
        return WeightsError(f"{name} is a text file, not a PyTorch checkpoint (a .pth file of torch.save)")
    return WeightsError(
        f"{name} is not a PyTorch checkpoint: it is neither torch.save's zip archive nor a pickle"
    )


def _is_text(head: bytes) -> bool:
    """Whether ``head``, a file's first bytes, reads as UTF-8 text (a character cut at the end allowed)."""
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _out_of_memory(exc: Exception) -> bool:
    """Whether reading failed for want of memory: Python's MemoryError, or torch's CPU
    allocator, which raises a RuntimeError that says "can't allocate memory"."""
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError) and "allocate memory" in str(exc).lower()
    )


@contextlib.contextmanager
def _open_regular_file(path: Path) -> Iterator[tuple[BinaryIO, int]]:
    """The open file ``path`` and its size, refused unless it is a regular file of a
    checkpoint's size. torch reads the file itself, as much as it holds: nothing is read
    ahead into a buffer of the largest size allowed."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise WeightsError(f"cannot read {quote_value(str(path))}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise WeightsError(f"{quote_value(str(path))} is not a regular file: give a .pth checkpoint")
        if info.st_size > MAX_CHECKPOINT_BYTES:
            raise WeightsError(f"{quote_value(str(path))} is larger than any checkpoint of a spec")
        handle = os.fdopen(os.dup(fd), "rb")
    except OSError as exc:
        raise WeightsError(f"cannot read {quote_value(str(path))}: {exc}") from None
    finally:
        os.close(fd)
    with handle:
        yield handle, info.st_size


def check_keys(expected: dict[str, torch.Tensor], given: dict[str, torch.Tensor], source: str) -> None:
    """Raises ``WeightsError`` naming the first keys that are missing, unexpected or of
    another shape in ``given``."""
    missing = [key for key in expected if key not in given]
    unexpected = [key for key in given if key not in expected]
    reshaped = [
        f"{key} {tuple(given[key].shape)} (the spec has {tuple(expected[key].shape)})"
        for key in expected
        if key in given and given[key].shape != expected[key].shape
    ]
    problems = []
    for label, keys in (("missing", missing), ("unexpected", unexpected), ("other shape", reshaped)):
        if keys:
            more = f" and {len(keys) - _LISTED_KEYS} more" if len(keys) > _LISTED_KEYS else ""
            problems.append(f"{label}: {', '.join(keys[:_LISTED_KEYS])}{more}")
    if problems:
        raise WeightsError(
            f"the checkpoint {quote_value(source)} does not match the spec ({'; '.join(problems)}): "
            "use the spec it was trained with"
        )


def _kind_of(tensor: torch.Tensor) -> str:
    if tensor.is_complex():
        return "complex numbers"
    if tensor.is_floating_point():
        return "floating-point numbers"
    return "true/false values" if tensor.dtype == torch.bool else "whole numbers"


def check_dtypes(expected: dict[str, torch.Tensor], given: dict[str, torch.Tensor], source: str) -> None:
    """Raises ``WeightsError`` naming the first tensor of ``given`` whose kind of number
    differs from the spec's: ``load_state_dict`` would cast integer weights to floats (or a
    float step count to an integer) without a word. Another precision of the same kind
    (float16 weights for a float32 model) keeps the values, and is taken."""
    for key, tensor in expected.items():
        stored = given[key]
        if _kind_of(stored) != _kind_of(tensor):
            raise WeightsError(
                f"the checkpoint {quote_value(source)} stores {key} as {stored.dtype} ({_kind_of(stored)}) "
                f"where the spec has {tensor.dtype} ({_kind_of(tensor)}), which loading would convert "
                "silently: save the trained model's own state_dict, its tensors unconverted"
            )
