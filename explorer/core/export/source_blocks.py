"""The source of the one block class a spec uses, with only the options it uses.

Layers are created in the order the plan lists them (``explorer.core.parts.blocks``), so
that a seeded generated network draws the same initial weights as ``build_model``."""

from __future__ import annotations

from explorer.core.export.features import SourceFeatures
from explorer.core.export.pyformat import INDENT, call

_DOCS = {
    "basic": "Two 3x3 convolutions with a shortcut around them (expansion 1).",
    "bottleneck": "1x1 reduce, 3x3, 1x1 expand, plus a shortcut (expansion 4).",
    "preact-basic": "BN-ReLU before each of two 3x3 convolutions, a clean identity path.",
    "preact-bottleneck": "BN-ReLU before each 1x1, 3x3, 1x1 conv, a clean identity path.",
}


def block_parameters(f: SourceFeatures) -> list[str]:
    """The block's constructor parameters (after ``self``)."""
    params = ["in_channels: int"]
    if f.bottleneck:
        params.append("width: int")
    params += ["out_channels: int", "stride: int = 1"]
    if f.dilated:
        params += ["dilation: int = 1", "first_dilation: int = 1"]
    if f.drop_path:
        params.append("drop_rate: float = 0.0")
    if f.project_every_stage:
        params.append("project: bool = False")
    return params


def _in_init(head: str, args: list[str]) -> list[str]:
    """``call`` laid out in ``__init__``'s body, returned relative to it (the line length
    counts the body's own two levels)."""
    return [line[len(INDENT) * 2 :] for line in call(2, head, args)]


def _conv(
    f: SourceFeatures, name: str, source: str, out: str, kernel: int, stride: str = "", first: bool = False
) -> list[str]:
    """A conv of the block; ``first``: the conv that strides (and may dilate less)."""
    args = [source, out, f"kernel_size={kernel}"]
    if stride:
        args.append(f"stride={'1 if use_aa else stride' if f.block_anti_alias else 'stride'}")
    if kernel == 3:
        dilation = ("first_dilation" if first else "dilation") if f.dilated else ""
        args.append(f"padding={dilation or 1}")
        if dilation:
            args.append(f"dilation={dilation}")
        if f.bottleneck and f.groups != 1:
            args.append(f"groups={f.groups}")
    args.append("bias=False")
    return _in_init(f"self.{name} = nn.Conv2d", args)


def _anti_alias(f: SourceFeatures, channels: str) -> list[str]:
    layer = "nn.AvgPool2d(stride)" if f.block_anti_alias == "avgpool" else f"BlurPool2d({channels}, stride)"
    return [f"self.aa = {layer} if use_aa else nn.Identity()"]


def _attention_and_drop(f: SourceFeatures) -> list[str]:
    lines = []
    if f.attention == "se":
        lines.append("self.se = SEModule(out_channels)")
    elif f.attention == "eca":
        lines.append("self.se = EcaModule(out_channels)")
    if f.drop_path:
        lines.append("self.drop_path = DropPath(drop_rate) if drop_rate > 0 else nn.Identity()")
    return lines


def _shortcut(f: SourceFeatures) -> list[str]:
    if f.shortcut is None:
        return []
    condition = "project" if f.project_every_stage else "stride != 1 or in_channels != out_channels"
    if f.preact:
        lines = ["self.shortcut: nn.Module | None = None"]
    else:
        lines = ["self.shortcut: nn.Module = nn.Identity()"]
    lines.append(f"if {condition}:")
    body: list[str]
    if f.shortcut == "zero-pad":
        body = ["self.shortcut = ZeroPadShortcut(in_channels, out_channels, stride)"]
    elif f.shortcut == "projection":
        members = ["nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)"]
        if not f.preact:
            members.append("nn.BatchNorm2d(out_channels)")
        body = _sequential(members)
    else:
        body = ["pool: nn.Module = nn.Identity()", "if stride > 1:"]
        body.append(f"{INDENT}pool = nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)")
        if f.dilated:
            body += ["elif dilation > 1:", f"{INDENT}pool = AvgPool2dSame()"]
        members = ["pool", "nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False)"]
        if not f.preact:
            members.append("nn.BatchNorm2d(out_channels)")
        body += _sequential(members)
    return lines + [f"{INDENT}{line}" for line in body]


def _sequential(members: list[str]) -> list[str]:
    """``self.shortcut = nn.Sequential(...)`` one member a line (the members fit at indent 4+12)."""
    lines = ["self.shortcut = nn.Sequential("]
    for member in members:
        head, _, rest = member.partition("(")
        if not rest:
            lines.append(f"{INDENT}{member},")
            continue
        # Laid out at its true depth (the body, the ``if``, the member), kept relative to the ``if``.
        lines += [line[len(INDENT) * 3 :] for line in call(4, head, rest[:-1].split(", "), ",")]
    return [*lines, ")"]


def _init_body(f: SourceFeatures) -> list[str]:
    lines = ["super().__init__()"]
    if f.block_anti_alias:
        extra = " or first_dilation != dilation" if f.dilated else ""
        lines.append(f"use_aa = stride == 2{extra}")
    relu = "self.relu = nn.ReLU(inplace=True)"
    if f.preact and f.bottleneck:
        lines += ["self.bn1 = nn.BatchNorm2d(in_channels)", relu]
        lines += _conv(f, "conv1", "in_channels", "width", 1, stride="s" if f.stride_on_1x1 else "")
        if f.block_anti_alias and f.stride_on_1x1:
            lines += _anti_alias(f, "width")
        lines.append("self.bn2 = nn.BatchNorm2d(width)")
        lines += _conv(f, "conv2", "width", "width", 3, stride="" if f.stride_on_1x1 else "s", first=True)
        if f.block_anti_alias and not f.stride_on_1x1:
            lines += _anti_alias(f, "width")
        lines.append("self.bn3 = nn.BatchNorm2d(width)")
        lines += _conv(f, "conv3", "width", "out_channels", 1)
    elif f.preact:
        lines += ["self.bn1 = nn.BatchNorm2d(in_channels)", relu]
        lines += _conv(f, "conv1", "in_channels", "out_channels", 3, stride="s", first=True)
        if f.block_anti_alias:
            lines += _anti_alias(f, "out_channels")
        lines.append("self.bn2 = nn.BatchNorm2d(out_channels)")
        lines += _conv(f, "conv2", "out_channels", "out_channels", 3)
    elif f.bottleneck:
        lines += _conv(f, "conv1", "in_channels", "width", 1, stride="s" if f.stride_on_1x1 else "")
        lines += ["self.bn1 = nn.BatchNorm2d(width)", relu]
        if f.block_anti_alias and f.stride_on_1x1:
            lines += _anti_alias(f, "width")
        lines += _conv(f, "conv2", "width", "width", 3, stride="" if f.stride_on_1x1 else "s", first=True)
        lines.append("self.bn2 = nn.BatchNorm2d(width)")
        if f.block_anti_alias and not f.stride_on_1x1:
            lines += _anti_alias(f, "width")
        lines += _conv(f, "conv3", "width", "out_channels", 1)
        lines.append("self.bn3 = nn.BatchNorm2d(out_channels)")
    else:
        lines += _conv(f, "conv1", "in_channels", "out_channels", 3, stride="s", first=True)
        lines += ["self.bn1 = nn.BatchNorm2d(out_channels)", relu]
        if f.block_anti_alias:
            lines += _anti_alias(f, "out_channels")
        lines += _conv(f, "conv2", "out_channels", "out_channels", 3)
        lines.append("self.bn2 = nn.BatchNorm2d(out_channels)")
    return lines + _attention_and_drop(f) + _shortcut(f)


def _forward_body(f: SourceFeatures) -> list[str]:
    aa = ["out = self.aa(out)"] if f.block_anti_alias else []
    aa_1x1 = aa if f.stride_on_1x1 else []
    aa_3x3 = [] if f.stride_on_1x1 else aa
    if f.preact:
        lines = ["pre = self.relu(self.bn1(x))", "out = self.conv1(pre)"]
        if f.bottleneck:
            lines += [*aa_1x1, "out = self.conv2(self.relu(self.bn2(out)))", *aa_3x3]
            lines.append("out = self.conv3(self.relu(self.bn3(out)))")
        else:
            lines += [*aa, "out = self.conv2(self.relu(self.bn2(out)))"]
    else:
        lines = ["out = self.relu(self.bn1(self.conv1(x)))"]
        if f.bottleneck:
            lines += [*aa_1x1, "out = self.relu(self.bn2(self.conv2(out)))", *aa_3x3]
            lines.append("out = self.bn3(self.conv3(out))")
        else:
            lines += [*aa, "out = self.bn2(self.conv2(out))"]
    if f.attention:
        lines.append("out = self.se(out)")
    if f.drop_path:
        lines.append("out = self.drop_path(out)")
    if f.shortcut is None:
        shortcut = "x"
    elif f.preact:
        lines.append("shortcut = x if self.shortcut is None else self.shortcut(pre)")
        shortcut = "shortcut"
    else:
        shortcut = "self.shortcut(x)"
    lines.append(f"return out + {shortcut}" if f.preact else f"return self.relu(out + {shortcut})")
    return lines


def block_source(f: SourceFeatures) -> list[str]:
    """The block class, at indent 0."""
    lines = [
        f"class {f.class_name}(nn.Module):",
        f'{INDENT}"""{_DOCS[f.block]}"""',
        "",
    ]
    lines += call(1, "def __init__", ["self", *block_parameters(f)], " -> None:")
    lines += [INDENT * 2 + line for line in _init_body(f)]
    lines += ["", f"{INDENT}def forward(self, x: torch.Tensor) -> torch.Tensor:"]
    lines += [INDENT * 2 + line for line in _forward_body(f)]
    return lines


def block_zero_init(f: SourceFeatures) -> str:
    """The layer whose weight ``zero_init_residual`` zeroes: the last norm, or the last conv
    of a pre-activation block."""
    if f.preact:
        return "conv3" if f.bottleneck else "conv2"
    return "bn3" if f.bottleneck else "bn2"
