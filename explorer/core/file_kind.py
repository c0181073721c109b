"""The kinds of file the app works with: what a path holds, and the names and MIME types
that let a desktop recognise them.

The app saves a spec as ``NAME.resnet.json`` and a comparison as ``NAME.resnet-compare.json``,
so that a file manager can tell them from other JSON and offer the app to open them; a file
saved under a plain ``.json`` name before still opens, its content deciding what it is. The
same declarations give the desktop's MIME types, the menu entry's list of them and the file
dialogs' filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from explorer.core.files import read_user_bytes
from explorer.core.jsonable import parse_json_file

COMPARISON_KIND = "comparison"
# What a file that is neither says it is not, after the words saying what it is ("is empty").
NOT_A_DOCUMENT = "so it is not a spec or comparison saved by resnet-explorer"

SPEC_SUFFIX = ".resnet.json"
COMPARISON_SUFFIX = ".resnet-compare.json"
# Specs and comparisons saved before they had names of their own: still opened, by content.
PLAIN_JSON_SUFFIX = ".json"
JSON_MIME_TYPE = "application/json"


@dataclass(frozen=True)
class FileType:
    """A kind of file as a desktop knows it: its MIME type, what it is called, its names."""

    mime_type: str
    description: str
    suffixes: tuple[str, ...]
    # The more general type it is a kind of (a desktop falls back on that type's programs).
    sub_class_of: str | None = None
    # A file the app itself saves: shown with the app's icon.
    saved_by_the_app: bool = False

    @property
    def globs(self) -> tuple[str, ...]:
        return tuple(f"*{suffix}" for suffix in self.suffixes)


SPEC_TYPE = FileType(
    "application/x-resnet-explorer-spec",
    "ResNet Explorer architecture spec",
    (SPEC_SUFFIX,),
    sub_class_of=JSON_MIME_TYPE,
    saved_by_the_app=True,
)
COMPARISON_TYPE = FileType(
    "application/x-resnet-explorer-comparison",
    "ResNet Explorer comparison",
    (COMPARISON_SUFFIX,),
    sub_class_of=JSON_MIME_TYPE,
    saved_by_the_app=True,
)
# Checkpoints a file manager offers to open with the app. The desktop's shared MIME database
# has no types for them, so the app declares them; it cannot read a network from one yet and
# says so (a checkpoint's weights go into an exported model with export's --weights).
CHECKPOINT_TYPES = (
    # torch.save has written a zip archive since torch 1.6.
    FileType(
        "application/x-pytorch-checkpoint", "PyTorch checkpoint", (".pth",), sub_class_of="application/zip"
    ),
    FileType("application/x-safetensors", "safetensors tensors", (".safetensors",)),
    FileType("application/x-onnx", "ONNX model", (".onnx",)),
)
FILE_TYPES = (SPEC_TYPE, COMPARISON_TYPE, *CHECKPOINT_TYPES)


def _has_suffix(path: str | Path, suffix: str) -> bool:
    return Path(path).name.lower().endswith(suffix) and len(Path(path).name) > len(suffix)


def checkpoint_type(path: str | Path) -> FileType | None:
    """The checkpoint type that ``path``'s name says it holds, if any."""
    return next(
        (kind for kind in CHECKPOINT_TYPES if any(_has_suffix(path, suffix) for suffix in kind.suffixes)),
        None,
    )


def mime_type_by_name(path: str | Path) -> str | None:
    """The MIME type a desktop gives ``path`` from its name (the app's own or a checkpoint's;
    any other ``.json`` is plain JSON); None for a name the app has nothing to say about."""
    for kind in FILE_TYPES:
        if any(_has_suffix(path, suffix) for suffix in kind.suffixes):
            return kind.mime_type
    return JSON_MIME_TYPE if _has_suffix(path, PLAIN_JSON_SUFFIX) else None


def named_as(path: Path, suffix: str) -> Path:
    """``path`` as a name the person typed in a save dialog becomes: one that ends in ``.json``
    is kept as typed (an existing file's name, or a choice); any other gets ``suffix``
    (``SPEC_SUFFIX`` or ``COMPARISON_SUFFIX``), so that the desktop recognises the file."""
    name = path.name
    if name.lower().endswith(PLAIN_JSON_SUFFIX):
        return path
    stem = suffix[: -len(PLAIN_JSON_SUFFIX)]  # ".resnet": "net.resnet" needs only ".json"
    return path.with_name(name + (PLAIN_JSON_SUFFIX if name.lower().endswith(stem) else suffix))


def suggested_name(current: Path | None, suffix: str, untitled: str) -> str:
    """The name a save dialog suggests: the current file's, renamed to ``suffix`` if it has a
    plain ``.json`` name (the copy gets a name the desktop recognises); else ``untitled`` + ``suffix``."""
    if current is None:
        return untitled + suffix
    name = current.name
    if name.lower().endswith(suffix):
        return name
    if name.lower().endswith(PLAIN_JSON_SUFFIX):
        name = name[: -len(PLAIN_JSON_SUFFIX)]
    return name + suffix


def is_comparison_file(path: str | Path) -> bool:
    """Whether ``path`` is a regular file of JSON that says it holds a comparison.

    Anything else (a spec, a broken or unreadable file, a special file) is False: the
    spec loader then explains what is wrong with it.
    """
    try:
        data = parse_json_file(read_user_bytes(path))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("kind") == COMPARISON_KIND
