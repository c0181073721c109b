"""The modules a network is built of: containers that run their part of the layer plan,
and the few layers torch does not have (zero-pad shortcut, BlurPool, drop-path, 'same' pool).

A block, an attention module and the network itself are ``PlannedModule``s: each holds
its own layers as children and runs the steps the plan gives it, in the plan's order,
feeding each step the outputs the plan names as its inputs. So the module that runs is
the plan, and the analysis made from the same plan cannot drift from it. Classes are
named as torchsummary should show them (the notebook's ``ResidualBlock`` and
``BottleneckBlock``, timm's ``SEModule``, ``PreActBottleneck`` ...): the name a part's
definition gives (``explorer.core.parts``) becomes the class of its module.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from explorer.core.ops import OPS


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
        return F.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, stride={self.stride}"


class BlurPool2d(nn.Module):
    """Anti-aliased downsampling (Zhang 2019): a fixed 3x3 binomial filter per channel,
    applied with reflect padding and the stride. The filter is a buffer, not a
    parameter."""

    def __init__(self, channels: int, stride: int = 2, filt_size: int = 3) -> None:
        super().__init__()
        self.channels = channels
        self.stride = stride
        self.filt_size = filt_size
        self.padding = [((stride - 1) + (filt_size - 1)) // 2] * 4
        taps = [math.comb(filt_size - 1, k) for k in range(filt_size)]
        coeffs = torch.tensor(taps, dtype=torch.float32, device="cpu") / sum(taps)
        blur = (coeffs[:, None] * coeffs[None, :])[None, None, :, :]
        blur = blur.repeat(channels, 1, 1, 1)
        self.filt: torch.Tensor
        self.register_buffer("filt", torch.empty(blur.shape), persistent=False)
        if self.filt.device.type != "meta":
            with torch.no_grad():
                self.filt.copy_(blur)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.padding, mode="reflect")
        return F.conv2d(x, self.filt, stride=self.stride, groups=self.channels)

    def extra_repr(self) -> str:
        return f"{self.channels}, stride={self.stride}"


class AvgPool2dSame(nn.AvgPool2d):
    """A stride-1 average pool with TensorFlow-style 'same' padding (timm's, in the
    avg-down shortcut of a dilated stage): the extra row and column go after the
    input."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = self.kernel_size
        total = (kernel if isinstance(kernel, int) else kernel[0]) - 1
        x = F.pad(x, [total // 2, total - total // 2] * 2)
        return F.avg_pool2d(x, total + 1, 1, 0, self.ceil_mode, self.count_include_pad)


class DropPath(nn.Module):
    """Stochastic depth: in training, drops the whole branch of a sample with
    probability ``rate``."""

    def __init__(self, rate: float) -> None:
        super().__init__()
        self.rate = rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.rate == 0.0:
            return x
        keep = 1.0 - self.rate
        mask = torch.empty_like(x[:, :1, :1, :1]).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"rate={self.rate:.3f}"


def initialise_weights(model: nn.Module) -> None:
    """He initialisation for the convolutions, norms that start as the identity."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.constant_(module.weight, 1)
            nn.init.constant_(module.bias, 0)


@dataclass(frozen=True, slots=True)
class Step:
    """One step a container runs: the plan index it produces, its op, its module (or
    ``None`` for tensor arithmetic) and the plan indices of its inputs."""

    index: int
    op: str
    module: nn.Module | None
    inputs: tuple[int, ...]
    aliases: tuple[int, ...] = ()
    """Other plan indices whose output this step's output is (a container's last member)."""


# The few layers torch lacks, by the names the op declarations give them.
_OWN_LAYERS: dict[str, type[nn.Module]] = {
    cls.__name__: cls for cls in (ZeroPadShortcut, BlurPool2d, AvgPool2dSame, DropPath)
}


def module_class(class_name: str) -> type[nn.Module]:
    """The class an op's recipe names: ``nn.Conv2d`` from torch, else one of ours."""
    if class_name.startswith("nn."):
        return getattr(nn, class_name.removeprefix("nn."))  # type: ignore[no-any-return]
    return _OWN_LAYERS[class_name]


def _compiled(expression: str) -> Callable[..., torch.Tensor]:
    """The op's declared arithmetic as a function of its inputs (compiled once, as fast as
    one written by hand)."""
    arguments = ", ".join(f"x{i}" for i in range(expression.count("{1}") + 1))
    text = expression.format(*(f"x{i}" for i in range(2)))
    function: Callable[..., torch.Tensor] = eval(f"lambda {arguments}: {text}", {"torch": torch, "F": F})
    return function


_ARITHMETIC: dict[str, Callable[..., torch.Tensor]] = {
    op: _compiled(rule.expression) for op, rule in OPS.items() if rule.expression
}


def run_step(step: Step, values: dict[int, torch.Tensor]) -> torch.Tensor:
    """One step's output from the outputs it names (kept in ``values`` by plan index)."""
    if step.module is not None:
        return step.module(values[step.inputs[0]])  # type: ignore[no-any-return]
    return _ARITHMETIC[step.op](*(values[index] for index in step.inputs))


def run_steps(source: int, steps: list[Step], x: torch.Tensor) -> torch.Tensor:
    """Runs ``steps`` on ``x`` (the output of plan step ``source``), each on the outputs it names."""
    values = {source: x}
    out = x
    for step in steps:
        out = run_step(step, values)
        values[step.index] = out
        for alias in step.aliases:
            values[alias] = out
    return out


class PlannedModule(nn.Module):
    """A module that runs its steps of the layer plan (its input is ``source``)."""

    def __init__(self) -> None:
        super().__init__()
        self._source = -1
        self._steps: list[Step] = []

    def set_steps(self, source: int, steps: list[Step]) -> None:
        self._source = source
        self._steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_steps(self._source, self._steps, x)


class PlannedSequential(nn.Sequential):
    """A holder of layers without a row of its own (a stage, a shortcut, a deep stem's
    convs): torchsummary skips it as it skips any ``nn.Sequential``, and it runs its
    members' steps so that per-module counters see the stage around its blocks."""

    def __init__(self) -> None:
        super().__init__()
        self._source = -1
        self._steps: list[Step] = []

    def set_steps(self, source: int, steps: list[Step]) -> None:
        self._source = source
        self._steps = steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return run_steps(self._source, self._steps, x)


class ResNet(PlannedModule):
    """The network: stem, any number of stages (``layer1`` ...), global pool, optional ``fc``."""


class ResidualBlock(PlannedModule):
    """Two 3x3 convolutions with a shortcut around them (expansion 1)."""


class BottleneckBlock(PlannedModule):
    """1x1 reduce, 3x3, 1x1 expand, plus a shortcut (expansion 4)."""


_CLASSES: dict[str, type[PlannedModule]] = {
    "ResidualBlock": ResidualBlock,
    "BottleneckBlock": BottleneckBlock,
}


def container_class(name: str) -> type[PlannedModule]:
    """The class torchsummary will show as ``name`` (one class per name)."""
    if name not in _CLASSES:
        _CLASSES[name] = type(
            name, (PlannedModule,), {"__module__": __name__, "__doc__": f"A planned {name}."}
        )
    return _CLASSES[name]
