"""A spec's network as one standalone, readable PyTorch file that needs only torch.

The file holds the layers torch lacks that the spec uses, its one block class, the
network class ``ResNet`` and a factory named after the variant (``resnet50d()``, or
``custom_resnet()`` for a spec that is no preset). Its ``state_dict`` has the keys and
shapes of ``build_model(spec)``, and its layers are created and initialised in the same
order with the same functions, so that ``torch.manual_seed(s); resnet50d()`` equals
``torch.manual_seed(s); build_model(spec)`` weight for weight and output for output.
The text is laid out as ``ruff format`` would lay it out and is the same bytes every time.
"""

from __future__ import annotations

import json
import re

from explorer.core import parts
from explorer.core.analysis import analyze
from explorer.core.export.features import SourceFeatures, features_of
from explorer.core.export.pyformat import INDENT, call, exploded
from explorer.core.export.source_blocks import block_parameters, block_source, block_zero_init
from explorer.core.export.source_layers import (
    AVG_POOL_SAME,
    BLUR_POOL,
    DROP_PATH,
    ECA_MODULE,
    ZERO_PAD_SHORTCUT,
    se_module,
)
from explorer.core.plan import LayerPlan, layer_plan, stage_dilations
from explorer.core.presets import preset_name_of
from explorer.core.spec import ArchSpec
from explorer.core.units import format_shape
from explorer.core.wording import counted

CUSTOM_NAME = "custom_resnet"


def factory_name(spec: ArchSpec) -> str:
    """The generated factory's name: the preset's own name, else ``custom_resnet``."""
    name = preset_name_of(spec)
    if name is None:
        return CUSTOM_NAME
    return re.sub(r"\W", "_", name.rpartition("/")[2])


def pytorch_source(spec: ArchSpec) -> str:
    """The standalone module's text."""
    plan = layer_plan(spec)
    f = features_of(plan)
    name = factory_name(spec)
    sections = [_header(spec, name), _imports(spec, f)]
    sections += [text.strip("\n").split("\n") for text in _layer_classes(spec, f)]
    sections += [block_source(f), _model_class(spec, plan, f), _factory(name)]
    lines: list[str] = []
    for i, section in enumerate(sections):
        if i > 1:
            lines += ["", ""]
        elif i == 1:
            lines.append("")
        lines += section
    return "\n".join(lines) + "\n"


def _header(spec: ArchSpec, name: str) -> list[str]:
    totals = analyze(spec).totals
    lines = [
        f"# {name}: a residual network as standalone PyTorch code (needs only torch).",
        "#",
        f"# At its input of {format_shape(spec.input_shape)}: {totals.total_params:,} parameters, "
        f"{totals.macs:,} multiply-accumulates.",
        "#",
        "# The architecture it was made from:",
    ]
    fields = [f"{json.dumps(key)}: {json.dumps(value)}" for key, value in spec.to_dict().items()]
    lines.append("# {")
    lines += [f"#   {field}," for field in fields[:-1]]
    return [*lines, f"#   {fields[-1]}", "# }"]


def _imports(spec: ArchSpec, f: SourceFeatures) -> list[str]:
    lines = ["import math", ""] if f.attention == "eca" else []
    lines.append("import torch")
    if _uses_functional(spec, f):
        lines.append("import torch.nn.functional as F")
    lines.append("from torch import nn")
    return lines


def _uses_blur(spec: ArchSpec, f: SourceFeatures) -> bool:
    stem_aa = parts.STEMS[spec.stem].pools and spec.stem_pool != "none"
    return spec.anti_alias == "blur" and (stem_aa or f.block_anti_alias is not None)


def _uses_functional(spec: ArchSpec, f: SourceFeatures) -> bool:
    pool_same = f.shortcut == "avg-down" and f.dilated
    return f.shortcut == "zero-pad" or pool_same or _uses_blur(spec, f)


def _layer_classes(spec: ArchSpec, f: SourceFeatures) -> list[str]:
    texts = []
    if f.shortcut == "zero-pad":
        texts.append(ZERO_PAD_SHORTCUT)
    if _uses_blur(spec, f):
        texts.append(BLUR_POOL)
    if f.shortcut == "avg-down" and f.dilated:
        texts.append(AVG_POOL_SAME)
    if f.drop_path:
        texts.append(DROP_PATH)
    if f.attention == "se":
        texts.append(se_module(spec.se_ratio))
    elif f.attention == "eca":
        texts.append(ECA_MODULE)
    return texts


def _stem(spec: ArchSpec, f: SourceFeatures) -> list[str]:
    """``__init__`` lines of the stem and its pool, relative to the body."""
    width = spec.stem_width
    conv = "nn.Conv2d"
    if spec.stem == "cifar":
        lines = call(
            2,
            "self.conv1 = nn.Conv2d",
            [str(spec.in_channels), str(width), "kernel_size=3", "padding=1", "bias=False"],
        )
    elif spec.stem == "imagenet":
        args = [str(spec.in_channels), str(width), "kernel_size=7", "stride=2", "padding=3", "bias=False"]
        lines = call(2, "self.conv1 = nn.Conv2d", args)
    else:
        first, second = (width, width) if spec.stem == "deep" else (3 * (width // 4), width)
        members = [
            f"{conv}({spec.in_channels}, {first}, kernel_size=3, stride=2, padding=1, bias=False)",
            f"nn.BatchNorm2d({first})",
            "nn.ReLU(inplace=True)",
            f"{conv}({first}, {second}, kernel_size=3, padding=1, bias=False)",
            f"nn.BatchNorm2d({second})",
            "nn.ReLU(inplace=True)",
            f"{conv}({second}, {2 * width}, kernel_size=3, padding=1, bias=False)",
        ]
        lines = _sequential(2, "self.conv1 = nn.Sequential", members)
    channels = spec.stem_out_channels
    if not f.preact:
        lines.append(f"{INDENT * 2}self.bn1 = nn.BatchNorm2d({channels})")
    lines += _stem_pool(spec, channels)
    return lines


def _anti_alias_layer(spec: ArchSpec, channels: int) -> str:
    return "nn.AvgPool2d(2)" if spec.anti_alias == "avgpool" else f"BlurPool2d({channels}, 2)"


def _stem_pool(spec: ArchSpec, channels: int) -> list[str]:
    if not parts.STEMS[spec.stem].pools or spec.stem_pool == "none":
        return []
    max_pool = "nn.MaxPool2d(kernel_size=3, stride={}, padding=1)"
    if spec.stem_pool == "max":
        if spec.anti_alias == "none":
            return [f"{INDENT * 2}self.maxpool = {max_pool.format(2)}"]
        if spec.anti_alias == "avgpool":
            return [f"{INDENT * 2}self.maxpool = nn.AvgPool2d(2)"]
        members = [max_pool.format(1), _anti_alias_layer(spec, channels)]
        return _sequential(2, "self.maxpool = nn.Sequential", members)
    aa = spec.anti_alias != "none"
    stride = 1 if aa else 2
    members = [f"nn.Conv2d({channels}, {channels}, kernel_size=3, stride={stride}, padding=1, bias=False)"]
    if aa:
        members.append(_anti_alias_layer(spec, channels))
    members += [f"nn.BatchNorm2d({channels})", "nn.ReLU(inplace=True)"]
    return _sequential(2, "self.maxpool = nn.Sequential", members)


def _sequential(indent: int, head: str, members: list[str]) -> list[str]:
    """``head(`` one member a line ``)``; a member is a call without nested brackets."""
    pad = INDENT * indent
    lines = [f"{pad}{head}("]
    for member in members:
        name, _, rest = member.partition("(")
        lines += call(indent + 1, name, rest[:-1].split(", ") if rest[:-1] else [], ",")
    return [*lines, f"{pad})"]


def _stage_lines(spec: ArchSpec, plan: LayerPlan, f: SourceFeatures) -> list[str]:
    lines = []
    if f.drop_path:
        total = sum(spec.depths)
        rate = f"{spec.drop_path!r} * i / {total - 1}"
        lines.append(f"{INDENT * 2}rates = [{rate} for i in range({total})]")
    in_channels = spec.stem_out_channels
    first_block = 0
    for stage, ((stride, dilation, previous), depth) in enumerate(
        zip(stage_dilations(spec), spec.depths, strict=True)
    ):
        out_channels = spec.stage_out_channels(stage)
        args = [f"in_channels={in_channels}"]
        if f.bottleneck:
            args.append(f"width={spec.inner_width(stage)}")
        args += [f"out_channels={out_channels}", f"depth={depth}", f"stride={stride}"]
        if f.dilated:
            args += [f"dilation={dilation}", f"first_dilation={previous}"]
        if f.drop_path:
            args.append(f"drop_rates=rates[{first_block}:{first_block + depth}]")
        lines += call(2, f"self.layer{stage + 1} = self._make_stage", args)
        in_channels = out_channels
        first_block += depth
    return lines


def _head(spec: ArchSpec, f: SourceFeatures) -> list[str]:
    channels = spec.stage_out_channels(spec.num_stages - 1)
    pad = INDENT * 2
    lines = []
    if f.preact:
        lines += [f"{pad}self.norm = nn.BatchNorm2d({channels})", f"{pad}self.act = nn.ReLU(inplace=True)"]
    lines.append(f"{pad}self.avgpool = nn.AdaptiveAvgPool2d((1, 1))")
    if spec.num_classes:
        fc = (
            f"nn.Conv2d({channels}, {spec.num_classes}, kernel_size=1)"
            if f.preact
            else (f"nn.Linear({channels}, {spec.num_classes})")
        )
        lines.append(f"{pad}self.fc = {fc}")
    return lines


def _initialisation(spec: ArchSpec, f: SourceFeatures) -> list[str]:
    pad = INDENT * 2
    lines = [
        f"{pad}for module in self.modules():",
        f"{pad}{INDENT}if isinstance(module, nn.Conv2d):",
        *call(4, "nn.init.kaiming_normal_", ["module.weight", 'mode="fan_out"', 'nonlinearity="relu"']),
        f"{pad}{INDENT}elif isinstance(module, nn.BatchNorm2d):",
        f"{pad}{INDENT * 2}nn.init.constant_(module.weight, 1)",
        f"{pad}{INDENT * 2}nn.init.constant_(module.bias, 0)",
    ]
    if spec.zero_init_residual:
        lines += [
            f"{pad}for module in self.modules():",
            f"{pad}{INDENT}if isinstance(module, {f.class_name}):",
            f"{pad}{INDENT * 2}nn.init.constant_(module.{block_zero_init(f)}.weight, 0)",
        ]
    return lines


def _make_stage(f: SourceFeatures) -> list[str]:
    params = ["in_channels: int"]
    if f.bottleneck:
        params.append("width: int")
    params += ["out_channels: int", "depth: int", "stride: int"]
    if f.dilated:
        params += ["dilation: int", "first_dilation: int"]
    if f.drop_path:
        params.append("drop_rates: list[float]")
    args = ["in_channels if first else out_channels"]
    if f.bottleneck:
        args.append("width")
    args += ["out_channels", "stride if first else 1"]
    names = [param.partition(":")[0] for param in block_parameters(f)]
    if f.dilated:
        args += ["dilation=dilation", "first_dilation=first_dilation if first else dilation"]
    if f.drop_path:
        args.append("drop_rate=drop_rates[index]")
    if "project" in names:
        args.append("project=first")
    pad = INDENT * 2
    lines = [f"{INDENT}@staticmethod"]
    lines += call(1, "def _make_stage", params, " -> nn.Sequential:")
    lines += [
        f"{pad}blocks: list[nn.Module] = []",
        f"{pad}for index in range(depth):",
        f"{pad}{INDENT}first = index == 0",
        f"{pad}{INDENT}blocks.append(",
        *exploded(4, f.class_name, args),
        f"{pad}{INDENT})",
        f"{pad}return nn.Sequential(*blocks)",
    ]
    return lines


def _forward(spec: ArchSpec, plan: LayerPlan, f: SourceFeatures) -> list[str]:
    pad = INDENT * 2
    lines = [f"{INDENT}def forward(self, x: torch.Tensor) -> torch.Tensor:"]
    lines.append(f"{pad}x = self.conv1(x)" if f.preact else f"{pad}x = torch.relu(self.bn1(self.conv1(x)))")
    if parts.STEMS[spec.stem].pools and spec.stem_pool != "none":
        lines.append(f"{pad}x = self.maxpool(x)")
    lines += [f"{pad}x = self.layer{stage + 1}(x)" for stage in range(spec.num_stages)]
    if f.preact:
        lines.append(f"{pad}x = self.avgpool(self.act(self.norm(x)))")
        if spec.num_classes:
            lines.append(f"{pad}x = self.fc(x)")
        lines.append(f"{pad}return torch.flatten(x, 1)")
    elif spec.num_classes:
        lines += [f"{pad}x = torch.flatten(self.avgpool(x), 1)", f"{pad}return self.fc(x)"]
    else:
        lines.append(f"{pad}return torch.flatten(self.avgpool(x), 1)")
    return lines


def _model_class(spec: ArchSpec, plan: LayerPlan, f: SourceFeatures) -> list[str]:
    lines = [
        "class ResNet(nn.Module):",
        f'{INDENT}"""{_model_doc(spec)}"""',
        "",
        f"{INDENT}def __init__(self) -> None:",
        f"{INDENT * 2}super().__init__()",
    ]
    lines += _stem(spec, f) + _stage_lines(spec, plan, f) + _head(spec, f) + _initialisation(spec, f)
    return [*lines, "", *_make_stage(f), "", *_forward(spec, plan, f)]


def _model_doc(spec: ArchSpec) -> str:
    head = f"a {spec.num_classes}-class classifier" if spec.num_classes else "pooled features"
    return f"A stem, {counted(spec.num_stages, 'stage')} of {parts.BLOCKS[spec.block].paper} blocks, {head}."


def _factory(name: str) -> list[str]:
    return [f"def {name}() -> ResNet:", f"{INDENT}return ResNet()"]
