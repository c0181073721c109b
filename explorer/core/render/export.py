"""DOT text -> SVG, PNG or PDF bytes through graphviz's ``dot`` program, and files.

``dot`` runs as a subprocess with a time limit. When it is not installed,
``GraphvizNotFound`` says how to install it on this platform; ``graphviz_status``
lets a caller ask beforehand without raising.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from explorer.core.files import atomic_write_bytes
from explorer.core.fold import Fold
from explorer.core.graph import Level, graph_from_spec
from explorer.core.quoting import quote_value
from explorer.core.render.colour_by import ColourBy
from explorer.core.render.dot import Rankdir, Style, Wrap, graph_to_dot
from explorer.core.spec import ArchSpec

Format = Literal["svg", "png", "pdf", "dot"]
FORMATS: tuple[Format, ...] = ("svg", "png", "pdf", "dot")
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_DPI = 150
# dot's memory and time grow with the square of the dpi: 1200 draws a layer-level ResNet-152 in
# seconds; far past it, dot runs for minutes and gigabytes before cairo scales the image back.
MIN_DPI = 36
MAX_DPI = 1200

_INSTALL_HINTS = {
    "linux": "on Debian/Ubuntu run 'sudo apt install graphviz' (Fedora: 'sudo dnf install graphviz')",
    "darwin": "on macOS run 'brew install graphviz'",
    "win32": (
        "on Windows run 'winget install graphviz' or 'choco install graphviz', or use the installer "
        "from https://graphviz.org/download/, and add its bin folder to PATH"
    ),
}
_OTHER_HINT = "install Graphviz from https://graphviz.org/download/ and put 'dot' on PATH"


class GraphvizError(RuntimeError):
    """Rendering through graphviz failed; the message says why and what to do."""


class GraphvizNotFound(GraphvizError):
    def __init__(self) -> None:
        super().__init__(
            f"Graphviz's 'dot' program was not found on PATH, so diagrams cannot be drawn: "
            f"{install_hint()}, then try again (the .dot format needs no Graphviz)"
        )


class GraphvizFailed(GraphvizError):
    pass


def install_hint(platform: str | None = None) -> str:
    """How to install graphviz on ``platform`` (``sys.platform`` by default)."""
    platform = sys.platform if platform is None else platform
    key = "linux" if platform.startswith("linux") else platform
    return _INSTALL_HINTS.get(key, _OTHER_HINT)


def install_instructions() -> str:
    """Every platform's way to install graphviz, one per line (for a help panel)."""
    return "\n".join(
        [
            "Debian/Ubuntu: sudo apt install graphviz",
            "Fedora: sudo dnf install graphviz",
            "macOS (Homebrew): brew install graphviz",
            "Windows: winget install graphviz  (or: choco install graphviz)",
            "Any platform: https://graphviz.org/download/  (then put 'dot' on PATH)",
        ]
    )


@dataclass(frozen=True, slots=True)
class GraphvizStatus:
    available: bool
    path: str | None
    version: str
    message: str


def find_dot() -> str | None:
    return shutil.which("dot")


def graphviz_status(timeout_s: float = 10.0) -> GraphvizStatus:
    """Whether ``dot`` can be run, its path and version, or how to install it."""
    path = find_dot()
    if path is None:
        return GraphvizStatus(False, None, "", str(GraphvizNotFound()))
    try:
        done = subprocess.run([path, "-V"], capture_output=True, timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return GraphvizStatus(False, path, "", f"'{path}' could not be run ({exc}): {install_hint()}")
    version = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
    return GraphvizStatus(True, path, version, version)


def format_from_path(path: Path) -> Format:
    suffix = Path(path).suffix.lower().lstrip(".")
    for fmt in FORMATS:
        if suffix == fmt:
            return fmt
    known = ", ".join(f".{fmt}" for fmt in FORMATS)
    raise ValueError(f"cannot tell the format of {str(path)!r}: name it {known} or give the format")


@dataclass(frozen=True, slots=True)
class Rendered:
    """What dot drew, and what it warned about (e.g. a PNG scaled down to fit cairo's limit)."""

    format: Format
    data: bytes
    warnings: tuple[str, ...] = ()


def check_dpi(dpi: int | None) -> None:
    """Raise ValueError unless ``dpi`` is None (the default) or within the limits."""
    if dpi is None:
        return
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"dpi {quote_value(dpi)}: give a whole number from {MIN_DPI} to {MAX_DPI}, e.g. 150")


def render(
    dot_text: str, fmt: Format, dpi: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> Rendered:
    """``dot_text`` laid out and drawn as ``fmt`` (``dot`` is the text itself)."""
    if fmt == "dot":
        return Rendered(fmt, dot_text.encode("utf-8"))
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    check_dpi(dpi)
    path = find_dot()
    if path is None:
        raise GraphvizNotFound()
    command = [path, f"-T{fmt}"]
    if fmt == "png":
        command.append(f"-Gdpi={dpi or DEFAULT_DPI}")
    try:
        done = subprocess.run(
            command, input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout_s, check=False
        )
    except FileNotFoundError:
        raise GraphvizNotFound() from None
    except subprocess.TimeoutExpired:
        raise GraphvizFailed(
            f"'dot' did not finish within {timeout_s:g} s: try a coarser level (block or stage)"
        ) from None
    messages = [line.strip() for line in done.stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    if done.returncode != 0 or not done.stdout:
        reason = messages[-1] if messages else f"exit code {done.returncode}"
        raise GraphvizFailed(f"'dot' could not draw the diagram as {fmt}: {reason}")
    return Rendered(fmt, done.stdout, tuple(_explained(message) for message in messages))


def _explained(message: str) -> str:
    if "too large for cairo" in message:
        return f"{message}: lower the dpi, or export svg or pdf for full resolution"
    return message


def render_dot(
    dot_text: str, fmt: Format, dpi: int | None = None, timeout_s: float = DEFAULT_TIMEOUT_S
) -> bytes:
    """``dot_text`` drawn as ``fmt`` bytes; warnings are dropped (see ``render``)."""
    return render(dot_text, fmt, dpi, timeout_s).data


def write_rendered(dot_text: str, path: Path, fmt: Format | None = None, dpi: int | None = None) -> Rendered:
    """Render ``dot_text`` into ``path`` atomically; the format follows the suffix unless given."""
    rendered = render(dot_text, fmt or format_from_path(path), dpi)
    atomic_write_bytes(Path(path), rendered.data)
    return rendered


def diagram_dot(
    spec: ArchSpec,
    level: Level = "block",
    style: Style = "paper",
    rankdir: Rankdir = "TB",
    colour_by: ColourBy | None = None,
    fold: Fold = "none",
    wrap: Wrap = "none",
    unfolded: frozenset[str] = frozenset(),
) -> str:
    """The DOT text of ``spec``'s diagram; ``fold``, ``unfolded`` and ``wrap`` as
    ``graph_from_spec`` and ``graph_to_dot`` take them."""
    graph = graph_from_spec(spec, level, fold, unfolded)
    colouring = None if colour_by is None else colour_by.colouring(graph)
    return graph_to_dot(graph, style, rankdir, colouring, wrap)


def render_svg_bytes(
    spec: ArchSpec,
    level: Level = "block",
    style: Style = "paper",
    rankdir: Rankdir = "TB",
    fold: Fold = "none",
    wrap: Wrap = "none",
    unfolded: frozenset[str] = frozenset(),
) -> bytes:
    """The diagram of ``spec`` as SVG for a viewer.

    Each node's ``<g id=...>`` is its graph node id; ``element_target`` in
    ``explorer.core.render.dot`` maps any element id back to its node, edge or box.
    """
    return render_dot(diagram_dot(spec, level, style, rankdir, None, fold, wrap, unfolded), "svg")


def export_diagram(
    spec: ArchSpec,
    path: Path,
    level: Level = "block",
    style: Style = "paper",
    rankdir: Rankdir = "TB",
    fmt: Format | None = None,
    dpi: int | None = None,
    colour_by: ColourBy | None = None,
    fold: Fold = "none",
    wrap: Wrap = "none",
    unfolded: frozenset[str] = frozenset(),
) -> Rendered:
    """Draw ``spec`` into ``path`` (svg, png, pdf or dot) and say what was written; with
    ``colour_by``, its boxes coloured by a metric and the scale drawn in the picture; with
    ``fold="repeats"``, alike blocks drawn once (but the groups in ``unfolded``); with
    ``wrap="stages"``, each stage a column of its own."""
    text = diagram_dot(spec, level, style, rankdir, colour_by, fold, wrap, unfolded)
    return write_rendered(text, Path(path), fmt, dpi)
