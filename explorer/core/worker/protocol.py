"""The worker's pipe: length-prefixed frames, each one pickled message.

Pickle carries the core's frozen records (results, profiles, errors) without a second
serialisation of each; it is safe here because both ends are this program. The reading
side still refuses any class outside the project and a few standard modules: a frame that
names one is not a result, and unpickling it must not import torch into the window's
process (or anything else).
"""

from __future__ import annotations

import io
import pickle
import struct
from typing import Any, BinaryIO

MAGIC = b"RXW1"
_HEADER = struct.Struct(">4sQ")
# A profile of the deepest network is a few MiB; far past that, a length is noise, not a frame.
MAX_FRAME_BYTES = 1 << 30
_ALLOWED_MODULES = frozenset({"builtins", "collections", "copyreg", "datetime", "pathlib", "_codecs"})


class BadFrame(Exception):
    """The bytes on the pipe are not one of our frames."""


class _ProjectUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith("explorer.") or module in _ALLOWED_MODULES:
            return super().find_class(module, name)
        raise BadFrame(f"a frame names {module}.{name}, which is not one of the project's records")


def encode(message: Any) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(MAGIC, len(payload)) + payload


def write_frame(stream: BinaryIO, message: Any) -> None:
    stream.write(encode(message))
    stream.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    chunks: list[bytes] = []
    remaining = size
    while remaining:
        chunk = stream.read(remaining)
        if not chunk:
            if chunks:
                raise BadFrame(f"the pipe ended {remaining} bytes into a frame")
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(stream: BinaryIO) -> Any:
    """The next message; ``EOFError`` at a clean end of the pipe; ``BadFrame`` for anything else."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        raise EOFError
    magic, size = _HEADER.unpack(header)
    if magic != MAGIC:
        raise BadFrame(f"the pipe carried {header[:16]!r}, not a frame")
    if size > MAX_FRAME_BYTES:
        raise BadFrame(f"a frame claims {size:,} bytes")
    payload = _read_exactly(stream, size)
    if payload is None:
        raise BadFrame("the pipe ended after a frame's header")
    try:
        return _ProjectUnpickler(io.BytesIO(payload)).load()
    except BadFrame:
        raise
    except Exception as exc:  # any way a payload can be broken
        raise BadFrame(f"a frame could not be read ({type(exc).__name__}: {exc})") from None
