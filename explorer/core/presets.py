"""Named specs: the notebook's family, torchvision's family, the CIFAR paper's family and
timm's ResNet variants."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from typing import Any

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
    Family(
        "timm",
        "timm",
        "timm's ResNet variants (timm.create_model): Bag of Tricks, SE, ECA, anti-aliasing, RS, v2",
    ),
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


_D = {"stem": "deep", "stem_width": 32, "shortcut": "avg-down"}
_R50 = {"block": "bottleneck", "depths": (3, 4, 6, 3)}
# timm's model names and the spec fields that make each one (all at 224x224, 1000 classes).
_TIMM: dict[str, dict[str, Any]] = {
    "resnet18d": {"block": "basic", "depths": (2, 2, 2, 2), **_D},
    "resnet34d": {"block": "basic", "depths": (3, 4, 6, 3), **_D},
    "resnet26d": {"block": "bottleneck", "depths": (2, 2, 2, 2), **_D},
    "resnet50d": {**_R50, **_D},
    "resnet101d": {"block": "bottleneck", "depths": (3, 4, 23, 3), **_D},
    "resnet50c": {**_R50, "stem": "deep", "stem_width": 32},
    "resnet50s": {**_R50, "stem": "deep", "stem_width": 64},
    "resnet50t": {**_R50, **_D, "stem": "deep-tiered"},
    "seresnet50": {**_R50, "stem": "imagenet", "attention": "se"},
    "ecaresnet50d": {**_R50, **_D, "attention": "eca"},
    "resnetaa50d": {**_R50, **_D, "anti_alias": "avgpool"},
    "resnetblur50": {**_R50, "stem": "imagenet", "anti_alias": "blur"},
    "seresnext50_32x4d": {**_R50, "stem": "imagenet", "groups": 32, "width_per_group": 4, "attention": "se"},
    "resnetrs50": {**_R50, **_D, "stem_pool": "conv", "attention": "se", "se_ratio": 0.25},
    "resnetv2_50": {"block": "preact-bottleneck", "depths": (3, 4, 6, 3), "stem": "imagenet"},
    "resnetv2_50d": {"block": "preact-bottleneck", "depths": (3, 4, 6, 3), **_D},
}


def _preset_fields() -> dict[str, tuple[str, dict[str, Any]]]:
    """Each preset's family and the fields of its spec (every preset names its depths)."""
    presets: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, (block, depths) in _NOTEBOOK_DEPTHS.items():
        presets[name] = ("notebook", {"block": block, "depths": depths})
    for name, (block, depths) in _NOTEBOOK_DEPTHS.items():
        presets[f"torchvision/{name}"] = (
            "torchvision",
            {"block": block, "depths": depths, "stem": "imagenet", "num_classes": 1000},
        )
    for name, (depths, groups, width_per_group) in _TORCHVISION_EXTRA.items():
        presets[f"torchvision/{name}"] = (
            "torchvision",
            {
                "block": "bottleneck",
                "depths": depths,
                "stem": "imagenet",
                "num_classes": 1000,
                "groups": groups,
                "width_per_group": width_per_group,
            },
        )
    for name, n in _CIFAR_BLOCKS_PER_STAGE.items():
        presets[f"cifar/{name}"] = (
            "cifar",
            {
                "block": "basic",
                "depths": (n, n, n),
                "widths": (16, 32, 64),
                "stem_width": 16,
                "num_classes": 10,
                "shortcut": "zero-pad",
            },
        )
    for name, fields in _TIMM.items():
        presets[f"timm/{name}"] = ("timm", {"num_classes": 1000, **fields})
    return presets


_PRESETS = _preset_fields()


@cache
def _spec_of(name: str) -> ArchSpec:
    # Made when first asked for: checking an anti-aliased spec runs its analysis.
    return ArchSpec(**_PRESETS[name][1])


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
    if name not in _PRESETS:
        raise UnknownPresetError(name)
    return _spec_of(name)


def preset_family(name: str) -> str:
    return _PRESETS[name][0]


def presets_in(family: str) -> tuple[str, ...]:
    return tuple(name for name, (fam, _) in _PRESETS.items() if fam == family)


def preset_name_of(spec: ArchSpec) -> str | None:
    """The preset ``spec`` equals, if any."""
    for name, (_, fields) in _PRESETS.items():
        if fields["depths"] == spec.depths and _spec_of(name) == spec:
            return name
    return None


def spec_title(spec: ArchSpec) -> str:
    """What a spec is called where a run or a figure names it: its preset, or its block and depths."""
    name = preset_name_of(spec)
    shape = f"{spec.block} [{','.join(map(str, spec.depths))}]"
    return f"{name} ({shape})" if name else shape
