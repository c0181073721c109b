"""build_model(spec, device): the real nn.Module, made layer by layer from the plan."""

from __future__ import annotations

from collections import defaultdict

import torch
from torch import nn

from explorer.core.blocks import BottleneckBlock, ResidualBlock, ResNet, ZeroPadShortcut
from explorer.core.plan import PlannedLayer, layer_plan
from explorer.core.spec import ArchSpec


def _module(layer: PlannedLayer) -> nn.Module:
    if layer.op == "conv":
        return nn.Conv2d(
            layer.in_channels,
            layer.out_channels,
            kernel_size=layer.kernel_size,
            stride=layer.stride,
            padding=layer.padding,
            groups=layer.groups,
            bias=layer.bias,
        )
    if layer.op == "bn":
        return nn.BatchNorm2d(layer.out_channels)
    if layer.op == "maxpool":
        return nn.MaxPool2d(kernel_size=layer.kernel_size, stride=layer.stride, padding=layer.padding)
    if layer.op == "avgpool":
        return nn.AdaptiveAvgPool2d((1, 1))
    if layer.op == "linear":
        return nn.Linear(layer.in_channels, layer.out_channels, bias=layer.bias)
    if layer.op == "zeropad":
        return ZeroPadShortcut(layer.in_channels, layer.out_channels, layer.stride)
    raise ValueError(f"{layer.name}: op {layer.op!r} has no module of its own")


_OWN_MODULE_OPS = frozenset({"conv", "bn", "maxpool", "avgpool", "linear", "zeropad"})


def _initialise(model: nn.Module, zero_init_residual: bool) -> None:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.constant_(module.weight, 1)
            nn.init.constant_(module.bias, 0)
    if zero_init_residual:
        for module in model.modules():
            if isinstance(module, (ResidualBlock, BottleneckBlock)):
                nn.init.constant_(module.last_bn.weight, 0)


def build_model(spec: ArchSpec, device: str | torch.device = "cpu") -> ResNet:
    """A freshly initialised model of ``spec`` on ``device`` (``"meta"`` allocates nothing)."""
    plan = layer_plan(spec)
    with torch.device(device):
        modules = {layer.name: _module(layer) for layer in plan.layers if layer.op in _OWN_MODULE_OPS}
        block_parts: dict[str, dict[str, nn.Module]] = defaultdict(dict)
        for name, module in modules.items():
            if name.startswith("layer"):
                stage, index, part = name.split(".", 2)
                block_parts[f"{stage}.{index}"][part] = module

        stages: list[list[nn.Module]] = [[] for _ in spec.depths]
        for block in plan.blocks:
            parts = block_parts[block.name]
            if block.shortcut == "projection":
                parts["shortcut"] = nn.Sequential(parts.pop("shortcut.0"), parts.pop("shortcut.1"))
            block_class = ResidualBlock if spec.block == "basic" else BottleneckBlock
            stages[block.stage].append(block_class(**parts))

        model = ResNet(
            conv1=modules["conv1"],
            bn1=modules["bn1"],
            maxpool=modules.get("maxpool"),
            stages=[nn.Sequential(*blocks) for blocks in stages],
            avgpool=modules["avgpool"],
            fc=modules.get("fc"),
        )
    if torch.device(device).type != "meta":
        _initialise(model, spec.zero_init_residual)
    return model
