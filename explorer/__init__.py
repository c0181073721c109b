"""resnet-explorer: see what a residual network really is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from explorer.core.analysis import Analysis, analyze
from explorer.core.spec import ArchSpec, SpecError

__version__ = "0.1.0"
__all__ = ["Analysis", "ArchSpec", "SpecError", "__version__", "analyze", "build_model"]

if TYPE_CHECKING:
    from explorer.core.build import build_model


def __getattr__(name: str) -> Any:
    # torch takes seconds to import; only building a real model needs it.
    if name == "build_model":
        from explorer.core.build import build_model

        return build_model
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
