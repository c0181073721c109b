"""timm as an oracle for the tests, importable without a working torchvision.

``import timm`` imports torchvision, whose wheels on some machines are CUDA builds that
fail to load beside a CPU torch. timm's model code needs only torch; at import time it
asks torchvision for a handful of names (``InterpolationMode``, ``FrozenBatchNorm2d``,
transform and dataset classes). Where torchvision does not import, a stand-in package
that answers any such name with an inert placeholder is put in ``sys.modules`` first;
likewise for Pillow, whose version and resampling constants timm's data package reads.

``timm_or_skip()`` returns the ``timm`` module, or skips the calling test when timm is
not installed (the test set-up installs it with ``pip install --no-deps``).
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import sys
import types
from typing import Any

import pytest

_STUB_MODULES = (
    "torchvision",
    "torchvision.ops",
    "torchvision.ops.misc",
    "torchvision.transforms",
    "torchvision.transforms.functional",
    "torchvision.transforms.v2",
    "torchvision.datasets",
    "torchvision.models",
    "torchvision.models.feature_extraction",
    "torchvision.utils",
)


class InterpolationMode(enum.Enum):
    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


def _placeholder(module: str, name: str) -> type:
    def unavailable(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"{module}.{name} is a test stand-in: torchvision is not usable here")

    return type(name, (), {"__init__": unavailable, "__module__": module})


def _stub_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = []  # a package, so that submodules import

    def attribute(attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        if attr == "InterpolationMode":
            return InterpolationMode
        value = _placeholder(name, attr)
        setattr(module, attr, value)
        return value

    module.__getattr__ = attribute  # type: ignore[method-assign]
    return module


class _Resampling(enum.IntEnum):
    NEAREST = 0
    LANCZOS = 1
    BILINEAR = 2
    BICUBIC = 3
    BOX = 4
    HAMMING = 5


def _install_pil_stand_in() -> None:
    """timm's data package reads Pillow's version and resampling constants at import."""
    if "PIL" in sys.modules or importlib.util.find_spec("PIL") is not None:
        return
    names = ("PIL", "PIL.Image", "PIL.ImageOps", "PIL.ImageEnhance", "PIL.ImageChops", "PIL.ImageFilter")
    modules = {name: _stub_module(name) for name in names}
    modules["PIL"].__version__ = "10.0.0"  # type: ignore[attr-defined]
    image = modules["PIL.Image"]
    image.Resampling = _Resampling  # type: ignore[attr-defined]
    for member in _Resampling:
        setattr(image, member.name, member)
    for name, module in modules.items():
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(modules[parent], child, module)
        sys.modules[name] = module


def _install_torchvision_stand_in() -> None:
    try:
        importlib.import_module("torchvision")
        importlib.import_module("torchvision.ops")
        return
    except Exception:
        for name in [key for key in sys.modules if key == "torchvision" or key.startswith("torchvision.")]:
            del sys.modules[name]
    modules = {name: _stub_module(name) for name in _STUB_MODULES}
    for name, module in modules.items():
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(modules[parent], child, module)
        sys.modules[name] = module


def timm_or_skip() -> Any:
    """The timm module, with a torchvision stand-in where needed; skips when timm is absent."""
    if importlib.util.find_spec("timm") is None:
        pytest.skip("timm is not installed (pip install --no-deps timm huggingface_hub safetensors pyyaml)")
    _install_pil_stand_in()
    _install_torchvision_stand_in()
    return importlib.import_module("timm")
