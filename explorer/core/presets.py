"""Named specs: the notebook's family, torchvision's family and the CIFAR paper's family."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from explorer.core.quoting import quote_value
from explorer.core.spec import ArchSpec


@dataclass(frozen=True)
class Family:
    key: str
    title: str
    description: str


FAMILIES = (
    Family("notebook", "Notebook", "3x3 stride-1 stem, no max-pool, pooled features (no classifier)"),
    Family("torchvision", "torchvision", "ImageNet stem (7x7/2 + max-pool), 1000-class classifier"),
    Family("cifar", "CIFAR paper", "He et al. 2015, Section 4.2: 16/32/64 widths, zero-pad shortcuts"),
)

_NOTEBOOK_DEPTHS = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
    "resnet152": ("bottleneck", (3, 8, 36, 3)),
}

_TORCHVISION_EXTRA = {
    "resnext50_32x4d": ((3, 4, 6, 3), 32, 4),
    "resnext101_32x8d": ((3, 4, 23, 3), 32, 8),
    "wide_resnet50_2": ((3, 4, 6, 3), 1, 128),
    "wide_resnet101_2": ((3, 4, 23, 3), 1, 128),
}

_CIFAR_BLOCKS_PER_STAGE = {
    "resnet20": 3,
    "resnet32": 5,
    "resnet44": 7,
    "resnet56": 9,
    "resnet110": 18,
    "resnet1202": 200,
}


def _build_presets() -> dict[str, tuple[str, ArchSpec]]:
    presets: dict[str, tuple[str, ArchSpec]] = {}
    for name, (block, depths) in _NOTEBOOK_DEPTHS.items():
        presets[name] = ("notebook", ArchSpec(block=block, depths=depths))  # type: ignore[arg-type]
    for name, (block, depths) in _NOTEBOOK_DEPTHS.items():
        presets[f"torchvision/{name}"] = (
            "torchvision",
            ArchSpec(block=block, depths=depths, stem="imagenet", num_classes=1000),  # type: ignore[arg-type]
        )
    for name, (depths, groups, width_per_group) in _TORCHVISION_EXTRA.items():
        presets[f"torchvision/{name}"] = (
            "torchvision",
            ArchSpec(
                block="bottleneck",
                depths=depths,
                stem="imagenet",
                num_classes=1000,
                groups=groups,
                width_per_group=width_per_group,
            ),
        )
    for name, n in _CIFAR_BLOCKS_PER_STAGE.items():
        presets[f"cifar/{name}"] = (
            "cifar",
            ArchSpec(
                block="basic",
                depths=(n, n, n),
                widths=(16, 32, 64),
                stem_width=16,
                num_classes=10,
                shortcut="zero-pad",
            ),
        )
    return presets


_PRESETS = _build_presets()

PRESET_NAMES: tuple[str, ...] = tuple(_PRESETS)
# What the app's screenshots show when no spec is named: a network with every kind of part.
SCREENSHOT_PRESET = "torchvision/resnet50"


class UnknownPresetError(KeyError):
    def __init__(self, name: str) -> None:
        close = difflib.get_close_matches(name, PRESET_NAMES, n=4, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "run 'resnet-explorer presets' for the list"
        super().__init__(name)
        self.name = name
        self.close_matches = tuple(close)
        self.message = f"unknown preset {quote_value(name)}: {hint}"

    def __str__(self) -> str:
        return self.message


def preset(name: str) -> ArchSpec:
    try:
        return _PRESETS[name][1]
    except KeyError:
        raise UnknownPresetError(name) from None


def preset_family(name: str) -> str:
    return _PRESETS[name][0]


def presets_in(family: str) -> tuple[str, ...]:
    return tuple(name for name, (fam, _) in _PRESETS.items() if fam == family)


def preset_name_of(spec: ArchSpec) -> str | None:
    """The preset ``spec`` equals, if any."""
    for name, (_, candidate) in _PRESETS.items():
        if candidate == spec:
            return name
    return None
