"""Readable text of a per-layer profile: the stage table, the slowest layers, the check."""

from __future__ import annotations

from explorer.core.presets import preset_name_of
from explorer.core.profile import AGREEMENT_TOLERANCE, GroupTime, LayerTime, Profile
from explorer.core.units import format_macs, format_shape
from explorer.core.wording import counted


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


def _speed(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:,.2f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _title(result: Profile) -> str:
    name = preset_name_of(result.spec)
    shape = f"{result.spec.block} [{','.join(map(str, result.spec.depths))}]"
    return f"{name} ({shape})" if name else shape


def slowest_layers(result: Profile, count: int) -> list[LayerTime]:
    """The ``count`` timed layers that took longest, slowest first."""
    leaves = [layer for layer in result.layers if layer.leaf]
    return sorted(leaves, key=lambda layer: (-layer.time_s, layer.index))[:count]


def _split(row: LayerTime | GroupTime, training: bool) -> str:
    """A train-mode profile's forward and backward columns (nothing in inference)."""
    if not training:
        return ""
    return f" {_ms(row.forward_s):>10} {_ms(row.backward_s or 0.0):>10}"


def _split_header(training: bool) -> str:
    return f" {'forward ms':>10} {'backward ms':>10}" if training else ""


def _group_line(group: GroupTime, training: bool = False) -> str:
    return (
        f"{group.name:<10}{_split(group, training)} {_ms(group.time_s):>10} {group.share:>7.1%} "
        f"{format_macs(group.macs):>13} {_speed(group.gmacs_per_s):>9} {_ratio(group.speed_ratio):>8}"
    )


def _training_lines(result: Profile) -> list[str]:
    parts = result.train
    if parts is None:
        return []
    return [
        f"loss       {_ms(parts.loss_s)} ms, forward and backward (in the check)",
        f"backward   {_ms(parts.backward_other_s)} ms of the backward pass's {_ms(parts.backward_s)} ms "
        "ran outside the layers (gradient accumulation, the engine, the clocks)",
        f"optimizer  {_ms(parts.optimizer_s)} ms a step ({result.config.optimizer}, on the profile's own "
        "model; not in the check)",
    ]


def check_text(result: Profile) -> str:
    """The sum-to-total check in words."""
    verdict = "agree" if result.agrees else f"differ by more than {AGREEMENT_TOLERANCE:.0%}"
    plain = "training step's forward, loss and backward" if result.training else "pass's"
    return (
        f"per-layer sum {_ms(result.layer_sum_s)} ms against a plain {plain} "
        f"{_ms(result.end_to_end.median_s)} ms (medians): {result.agreement:.1%}, they {verdict}"
    )


def profile_text(result: Profile, top: int = 10) -> str:
    card = result.card
    average = result.average_gmacs_per_s
    training = result.training
    kind = "training-step profile" if training else "profile"
    lines = [
        f"{_title(result)}: {kind}, batch {card.batch_size}, {card.dtype}, {card.layout}, "
        f"input {format_shape(card.input_shape)}, on {card.device} ({card.device_name}), "
        f"{counted(card.threads, 'thread')}",
        "",
    ]
    header = (
        f"{'stage':<10}{_split_header(training)} {'time ms':>10} {'share':>7} {'MACs/image':>13} "
        f"{'GMAC/s':>9} {'vs avg':>8}"
    )
    lines += [header, "-" * len(header), *(_group_line(group, training) for group in result.stages), ""]
    header = (
        f"{'layer':<28} {'type':<18}{_split_header(training)} {'time ms':>10} {'share':>7} "
        f"{'MACs/image':>13} {'GMAC/s':>9} {'vs avg':>8}"
    )
    slowest = slowest_layers(result, top)
    lines.append(f"the {counted(len(slowest), 'slowest layer')}")
    lines += [header, "-" * len(header)]
    for layer in slowest:
        lines.append(
            f"{layer.name:<28} {layer.type:<18}{_split(layer, training)} {_ms(layer.time_s):>10} "
            f"{layer.share:>7.1%} "
            f"{format_macs(layer.macs):>13} {_speed(layer.gmacs_per_s):>9} {_ratio(layer.speed_ratio):>8}"
        )
    speed_of = "forward passes" if training else "layers"
    lines += [
        "",
        *_training_lines(result),
        f"model      {_speed(average)} GMAC/s on average over its {speed_of} "
        "('vs avg': each one's speed to it)",
        f"check      {check_text(result)}",
        f"overhead   a profiled pass took {result.overhead:+.1%} against a plain one "
        f"({card.warmup} warm-up + {counted(card.iterations, 'pass', 'passes')} of each)",
        f"software   torch {card.torch_version}, Python {card.python_version}, {card.platform}",
    ]
    if not result.agrees:
        lines.append(
            "warning    other work on the machine or the clocks' own cost distort the shares; run again"
        )
    return "\n".join(lines) + "\n"
