"""What every kind of part has, and timm's channel rounding."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """What every kind of part has: its key in a spec, its label and its tooltip."""

    key: str
    label: str
    tooltip: str


def make_divisible(value: float, divisor: int = 8, round_limit: float = 0.9) -> int:
    """timm's channel rounding: the nearest multiple of ``divisor``, at least ``divisor``,
    and (with ``round_limit``) not more than that fraction below ``value``."""
    result = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if result < round_limit * value:
        result += divisor
    return result
