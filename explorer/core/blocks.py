"""The residual blocks and the network module.

The class names are the notebook's (``ResidualBlock``, ``BottleneckBlock``), because
torchsummary names its rows after them. Each block owns one ``ReLU`` module and calls
it more than once, and the stem's ReLU and the flatten are functional, as in the
notebook, so the module tree and its torchsummary text match the notebook's exactly.
The blocks take their layers ready-made: ``build.py`` makes them from the layer plan.
"""

from __future__ import annotations

import torch
import torch.nn.functional as functional
from torch import nn


class ZeroPadShortcut(nn.Module):
    """The CIFAR paper's option A: a strided identity padded with zero channels."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        extra = self.out_channels - self.in_channels
        return functional.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class ResidualBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut around them (expansion 1)."""

    expansion = 1

    def __init__(
        self,
        conv1: nn.Module,
        bn1: nn.Module,
        conv2: nn.Module,
        bn2: nn.Module,
        shortcut: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = conv1
        self.bn1 = bn1
        self.conv2 = conv2
        self.bn2 = bn2
        self.shortcut = shortcut if shortcut is not None else nn.Sequential()
        self.relu = nn.ReLU(inplace=True)

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        assert isinstance(self.bn2, nn.BatchNorm2d)
        return self.bn2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        result: torch.Tensor = self.relu(out)
        return result


class BottleneckBlock(nn.Module):
    """1x1 reduce, 3x3 (carrying the stride, "v1.5"), 1x1 expand, plus a shortcut."""

    expansion = 4

    def __init__(
        self,
        conv1: nn.Module,
        bn1: nn.Module,
        conv2: nn.Module,
        bn2: nn.Module,
        conv3: nn.Module,
        bn3: nn.Module,
        shortcut: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.conv1 = conv1
        self.bn1 = bn1
        self.conv2 = conv2
        self.bn2 = bn2
        self.conv3 = conv3
        self.bn3 = bn3
        self.shortcut = shortcut if shortcut is not None else nn.Sequential()
        self.relu = nn.ReLU(inplace=True)

    @property
    def last_bn(self) -> nn.BatchNorm2d:
        assert isinstance(self.bn3, nn.BatchNorm2d)
        return self.bn3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += self.shortcut(x)
        result: torch.Tensor = self.relu(out)
        return result


class ResNet(nn.Module):
    """Stem, any number of stages (``layer1`` ...), global average pool, optional ``fc``."""

    def __init__(
        self,
        conv1: nn.Module,
        bn1: nn.Module,
        maxpool: nn.Module | None,
        stages: list[nn.Sequential],
        avgpool: nn.Module,
        fc: nn.Module | None,
    ) -> None:
        super().__init__()
        self.conv1 = conv1
        self.bn1 = bn1
        if maxpool is not None:
            self.maxpool = maxpool
        self.stage_names = [f"layer{i + 1}" for i in range(len(stages))]
        for name, stage in zip(self.stage_names, stages, strict=True):
            self.add_module(name, stage)
        self.avgpool = avgpool
        if fc is not None:
            self.fc = fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = functional.relu(self.bn1(self.conv1(x)))
        if hasattr(self, "maxpool"):
            out = self.maxpool(out)
        for name in self.stage_names:
            out = getattr(self, name)(out)
        out = self.avgpool(out)
        out = torch.flatten(out, 1)
        if hasattr(self, "fc"):
            out = self.fc(out)
        return out
