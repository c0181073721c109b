"""The ops of the layer plan, each declared once with everything the program knows of it.

A layer of the plan is one op (a convolution, a norm, the residual add ...). Its
declaration here says how it changes a shape, how many parameters and multiply-adds it
holds, how it grows the receptive field, what a training step keeps of it for the
backward pass, which module builds it (or, for tensor arithmetic, which expression
computes it), its buffers, and how a diagram draws and labels it. The analysis, the
builder, the training-memory model, the graph, the diagrams and the exported source all
read these declarations; adding an op means adding its declaration (``OPS`` must hold
one for every name of ``Op``, which a test checks) and, only for a new way of keeping
tensors or being drawn, a case in the ``match`` that the type checker holds complete.

Nothing here imports torch: a module is named by its class and arguments, and the
builder and the exporter each make what they need of that recipe.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NoReturn, Protocol, get_args

from explorer.core.spec_error import SpecError

Op = Literal[
    "conv",
    "conv1d",
    "bn",
    "relu",
    "sigmoid",
    "maxpool",
    "pool",
    "poolsame",
    "blur",
    "avgpool",
    "mean",
    "to_seq",
    "to_map",
    "flatten",
    "linear",
    "zeropad",
    "droppath",
    "add",
    "mul",
    "module",
    "block",
]
OP_NAMES: tuple[Op, ...] = get_args(Op)

Shape = tuple[int, ...]
Field = tuple[int, int]
"""A receptive field and its jump (the input pixels between two neighbouring outputs)."""

OpKind = Literal["module", "functional", "container"]
"""A module of its own; tensor arithmetic in the forward pass (no module, no torchsummary
row); or a module that holds the steps before it (a block, an attention module)."""

Keeps = Literal[
    "container",
    "weighted",
    "norm",
    "relu",
    "output",
    "input",
    "input_and_indices",
    "same_padded",
    "blur",
    "mask",
    "both_inputs",
    "nothing",
    "view",
]
"""What a training step keeps of the op for its backward pass (``training_memory`` says
what each means in bytes)."""

Drawn = Literal["box", "thin", "merge"]
"""A box with its label; a thin box (a norm or activation between the layers that matter);
a small circle holding the sign of a merge."""


class LayerFacts(Protocol):
    """What the rules read of a planned layer."""

    @property
    def name(self) -> str: ...
    @property
    def in_channels(self) -> int: ...
    @property
    def out_channels(self) -> int: ...
    @property
    def kernel_size(self) -> int: ...
    @property
    def stride(self) -> int: ...
    @property
    def padding(self) -> int: ...
    @property
    def dilation(self) -> int: ...
    @property
    def groups(self) -> int: ...
    @property
    def bias(self) -> bool: ...
    @property
    def ceil_mode(self) -> bool: ...
    @property
    def rate(self) -> float: ...


class RowFacts(Protocol):
    """What a label reads of an analysed row."""

    @property
    def output_shape(self) -> Shape: ...
    @property
    def kernel_size(self) -> int | None: ...
    @property
    def stride(self) -> int | None: ...
    @property
    def groups(self) -> int | None: ...
    @property
    def dilation(self) -> int | None: ...
    @property
    def rate(self) -> float | None: ...


@dataclass(frozen=True)
class Arg:
    """One argument of a module's constructor: a layer's field (``source``), or a value
    made from the layer (``make``), or a constant; keyword arguments equal to ``default``
    are left out of exported code."""

    source: str = ""
    keyword: str = ""
    make: Callable[[LayerFacts], object] | None = None
    constant: object = None
    default: object = None

    def value(self, layer: LayerFacts) -> object:
        if self.make is not None:
            return self.make(layer)
        if self.source:
            return getattr(layer, self.source)
        return self.constant


@dataclass(frozen=True)
class ModuleRecipe:
    """The module that builds a layer: a class of ``torch.nn`` (``nn.Conv2d``) or one of the
    few layers torch lacks (``explorer.core.blocks``), and its arguments."""

    class_name: str
    args: tuple[Arg, ...] = ()

    def arguments(self, layer: LayerFacts) -> tuple[tuple[object, ...], dict[str, object]]:
        """The positional and keyword arguments for ``layer``."""
        positional = tuple(arg.value(layer) for arg in self.args if not arg.keyword)
        keywords = {arg.keyword: arg.value(layer) for arg in self.args if arg.keyword}
        return positional, keywords

    def call_text(self, layer: LayerFacts) -> str:
        """The constructor call as Python source, without keywords left at their default."""
        positional, keywords = self.arguments(layer)
        texts = [repr(value) for value in positional]
        defaults = {arg.keyword: arg.default for arg in self.args if arg.keyword}
        texts += [f"{key}={value!r}" for key, value in keywords.items() if value != defaults[key]]
        return f"{self.class_name}({', '.join(texts)})"


@dataclass(frozen=True)
class OpRule:
    """Everything the program knows of one op."""

    op: Op
    kind: OpKind
    type_name: str
    """The class torchsummary shows for the op's module ("" where the part names it)."""
    shape: Callable[[LayerFacts, Shape], Shape]
    keeps: Keeps
    drawn: Drawn
    label: Callable[[RowFacts], str]
    """The op in the paper's words: "3x3 conv, 64, /2", "fc 1000"."""
    module: ModuleRecipe | None = None
    expression: str = ""
    """The forward pass's tensor arithmetic as Python source over its inputs ``{0}``,
    ``{1}`` (``torch`` and ``F`` for ``torch.nn.functional`` in scope), for an op that runs
    without a module of its own."""
    params: Callable[[LayerFacts], int] = field(default=lambda layer: 0)
    macs: Callable[[LayerFacts, Shape], int] = field(default=lambda layer, output: 0)
    receptive: Callable[[LayerFacts, Field, Shape], Field] = field(
        default=lambda layer, source, shape: source
    )
    """The field after the op from its input's field (the widest input's) and input shape."""
    details: Callable[[LayerFacts], tuple[int | None, int | None, int | None, int | None]] = field(
        default=lambda layer: (None, None, None, None)
    )
    """(kernel, stride, padding, groups) as the layer table shows them."""
    buffer_values: Callable[[LayerFacts], tuple[int, int]] = field(default=lambda layer: (0, 0))
    """The (float32, int64) values of the module's buffers."""
    merge_sign: str = ""
    whole_map: bool = False
    """The op reduces each channel's whole map to one value (a global pool)."""
    has_rate: bool = False
    """The op's ``rate`` is a figure of its own (a drop-path's), shown in its row."""


def pooled_side(side: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool) -> int:
    """torch's output size for a conv or pool along one side."""
    span = side + 2 * padding - dilation * (kernel - 1) - 1
    out = (span + (stride - 1 if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= side + padding:
        out -= 1
    return out


# Shapes


def _same(layer: LayerFacts, shape: Shape) -> Shape:
    return shape


def _spatial(layer: LayerFacts, shape: Shape) -> Shape:
    k, s, p, d = layer.kernel_size, layer.stride, layer.padding, layer.dilation
    return (
        layer.out_channels,
        pooled_side(shape[1], k, s, p, d, layer.ceil_mode),
        pooled_side(shape[2], k, s, p, d, layer.ceil_mode),
    )


def _too_small(layer: LayerFacts, shape: Shape) -> SpecError:
    return SpecError(
        "anti_alias",
        f"{layer.name} would anti-alias a {shape[1]}x{shape[2]} feature map, too small for it: "
        "use a larger input_size or anti_alias 'none'",
    )


def _blurred(layer: LayerFacts, shape: Shape) -> Shape:
    if min(shape[1], shape[2]) < 2:  # reflection padding needs two pixels
        raise _too_small(layer, shape)
    return _spatial(layer, shape)


def _pooled(layer: LayerFacts, shape: Shape) -> Shape:
    if not layer.ceil_mode and min(shape[1], shape[2]) < layer.kernel_size:  # must leave one
        raise _too_small(layer, shape)
    return _spatial(layer, shape)


def _zero_padded(layer: LayerFacts, shape: Shape) -> Shape:
    s = layer.stride
    return (layer.out_channels, (shape[1] - 1) // s + 1, (shape[2] - 1) // s + 1)


def _global(layer: LayerFacts, shape: Shape) -> Shape:
    return (shape[0], 1, 1)


def _conv1d_shape(layer: LayerFacts, shape: Shape) -> Shape:
    return (layer.out_channels, pooled_side(shape[1], layer.kernel_size, 1, layer.padding, 1, False))


# Parameters and multiply-adds (per sample), as torchsummary and torch's FLOP counter count them


def _conv_params(layer: LayerFacts, dimensions: int) -> int:
    weight = (
        layer.out_channels
        * (layer.in_channels // layer.groups)
        * math.prod((layer.kernel_size,) * dimensions)
    )
    return weight + (layer.out_channels if layer.bias else 0)


def _linear_params(layer: LayerFacts) -> int:
    return layer.in_channels * layer.out_channels + (layer.out_channels if layer.bias else 0)


def _conv_macs(layer: LayerFacts, output: Shape) -> int:
    return math.prod(output) * (layer.in_channels // layer.groups) * layer.kernel_size**2


def _conv1d_macs(layer: LayerFacts, output: Shape) -> int:
    return math.prod(output) * (layer.in_channels // layer.groups) * layer.kernel_size


# Receptive fields


def _spatial_field(layer: LayerFacts, source: Field, shape: Shape) -> Field:
    rf, jump = source
    return rf + layer.dilation * (layer.kernel_size - 1) * jump, jump * layer.stride


def _same_padded_field(layer: LayerFacts, source: Field, shape: Shape) -> Field:
    rf, jump = source
    return rf + (layer.kernel_size - 1) * jump, jump


def _global_field(layer: LayerFacts, source: Field, shape: Shape) -> Field:
    rf, jump = source
    return rf + (max(shape[1], shape[2]) - 1) * jump, jump


# Table details


def _windowed(grouped: bool) -> Callable[[LayerFacts], tuple[int | None, int | None, int | None, int | None]]:
    def details(layer: LayerFacts) -> tuple[int | None, int | None, int | None, int | None]:
        return layer.kernel_size, layer.stride, layer.padding, layer.groups if grouped else None

    return details


# Labels


def stride_suffix(stride: int | None) -> str:
    return f", /{stride}" if stride and stride > 1 else ""


def _conv_label(row: RowFacts) -> str:
    k = row.kernel_size
    groups = f", {row.groups} groups" if row.groups and row.groups > 1 else ""
    dilation = f", dilation {row.dilation}" if row.dilation and row.dilation > 1 else ""
    return f"{k}x{k} conv, {row.output_shape[0]}{stride_suffix(row.stride)}{groups}{dilation}"


def _words(text: str) -> Callable[[RowFacts], str]:
    return lambda row: text


def _kernel_words(words: str) -> Callable[[RowFacts], str]:
    return lambda row: f"{row.kernel_size}x{row.kernel_size} {words}{stride_suffix(row.stride)}"


_CONV_ARGS = (
    Arg("in_channels"),
    Arg("out_channels"),
    Arg("kernel_size", keyword="kernel_size"),
    Arg("stride", keyword="stride", default=1),
    Arg("padding", keyword="padding", default=0),
    Arg("dilation", keyword="dilation", default=1),
    Arg("groups", keyword="groups", default=1),
    Arg("bias", keyword="bias", default=True),
)


def _rules() -> tuple[OpRule, ...]:
    return (
        OpRule(
            "conv",
            "module",
            "Conv2d",
            shape=_spatial,
            keeps="weighted",
            drawn="box",
            label=_conv_label,
            module=ModuleRecipe("nn.Conv2d", _CONV_ARGS),
            params=lambda layer: _conv_params(layer, 2),
            macs=_conv_macs,
            receptive=_spatial_field,
            details=_windowed(grouped=True),
        ),
        OpRule(
            "conv1d",
            "module",
            "Conv1d",
            shape=_conv1d_shape,
            keeps="weighted",
            drawn="box",
            label=lambda row: f"1-d conv, k={row.kernel_size}",
            module=ModuleRecipe(
                "nn.Conv1d",
                (
                    Arg("in_channels"),
                    Arg("out_channels"),
                    Arg("kernel_size"),
                    Arg("padding", keyword="padding", default=0),
                    Arg("bias", keyword="bias", default=True),
                ),
            ),
            params=lambda layer: _conv_params(layer, 1),
            macs=lambda layer, output: (
                math.prod(output) * (layer.in_channels // layer.groups) * layer.kernel_size
            ),
            details=_windowed(grouped=True),
        ),
        OpRule(
            "bn",
            "module",
            "BatchNorm2d",
            shape=_same,
            keeps="norm",
            drawn="thin",
            label=_words("BN"),
            module=ModuleRecipe("nn.BatchNorm2d", (Arg("out_channels"),)),
            params=lambda layer: 2 * layer.out_channels,
            buffer_values=lambda layer: (2 * layer.out_channels, 1),  # running mean, var; batches seen
        ),
        OpRule(
            "relu",
            "module",
            "ReLU",
            shape=_same,
            keeps="relu",
            drawn="thin",
            label=_words("ReLU"),
            module=ModuleRecipe("nn.ReLU", (Arg(keyword="inplace", constant=True, default=False),)),
            expression="F.relu({0})",
        ),
        OpRule(
            "sigmoid",
            "module",
            "Sigmoid",
            shape=_same,
            keeps="output",
            drawn="box",
            label=_words("sigmoid"),
            module=ModuleRecipe("nn.Sigmoid"),
        ),
        OpRule(
            "maxpool",
            "module",
            "MaxPool2d",
            shape=_spatial,
            keeps="input_and_indices",
            drawn="box",
            label=_kernel_words("max pool"),
            module=ModuleRecipe(
                "nn.MaxPool2d",
                (
                    Arg("kernel_size", keyword="kernel_size"),
                    Arg("stride", keyword="stride"),
                    Arg("padding", keyword="padding", default=0),
                ),
            ),
            receptive=_spatial_field,
            details=_windowed(grouped=False),
        ),
        OpRule(
            "pool",
            "module",
            "AvgPool2d",
            shape=_pooled,
            keeps="input",
            drawn="box",
            label=_kernel_words("avg pool"),
            module=ModuleRecipe(
                "nn.AvgPool2d",
                (
                    Arg("kernel_size"),
                    Arg("stride"),
                    Arg("ceil_mode", keyword="ceil_mode", default=False),
                    Arg(keyword="count_include_pad", make=lambda layer: not layer.ceil_mode, default=True),
                ),
            ),
            receptive=_spatial_field,
            details=_windowed(grouped=False),
        ),
        OpRule(
            "poolsame",
            "module",
            "AvgPool2dSame",
            shape=_same,
            keeps="same_padded",
            drawn="box",
            label=_kernel_words("avg pool"),
            module=ModuleRecipe(
                "AvgPool2dSame",
                (
                    Arg("kernel_size"),
                    Arg("stride"),
                    Arg(keyword="ceil_mode", constant=True, default=False),
                    Arg(keyword="count_include_pad", constant=False, default=True),
                ),
            ),
            receptive=lambda layer, source, shape: (
                source[0] + (layer.kernel_size - 1) * source[1],
                source[1],
            ),
            details=_windowed(grouped=False),
        ),
        OpRule(
            "blur",
            "module",
            "BlurPool2d",
            shape=_blurred,
            keeps="blur",
            drawn="box",
            label=_kernel_words("blur pool"),
            module=ModuleRecipe("BlurPool2d", (Arg("out_channels"), Arg("stride"), Arg("kernel_size"))),
            # A fixed depthwise filter: one multiply-add per filter tap and output value.
            macs=lambda layer, output: math.prod(output) * layer.kernel_size**2,
            receptive=_spatial_field,
            details=_windowed(grouped=True),
            buffer_values=lambda layer: (layer.out_channels * layer.kernel_size**2, 0),
        ),
        OpRule(
            "avgpool",
            "module",
            "AdaptiveAvgPool2d",
            shape=_global,
            keeps="nothing",
            drawn="box",
            label=_words("avg pool"),
            module=ModuleRecipe("nn.AdaptiveAvgPool2d", (Arg(constant=(1, 1)),)),
            receptive=_global_field,
            whole_map=True,
        ),
        OpRule(
            "mean",
            "functional",
            "",
            shape=_global,
            keeps="nothing",
            drawn="box",
            label=_words("global avg pool"),
            expression="{0}.mean((2, 3), keepdim=True)",
            receptive=_global_field,
            whole_map=True,
        ),
        OpRule(
            "to_seq",
            "functional",
            "",
            shape=lambda layer, shape: (1, shape[0]),
            keeps="view",
            drawn="box",
            label=_words("to 1-d"),
            expression="{0}.view({0}.shape[0], 1, -1)",
        ),
        OpRule(
            "to_map",
            "functional",
            "",
            shape=lambda layer, shape: (shape[1], 1, 1),
            keeps="view",
            drawn="box",
            label=_words("to map"),
            expression="{0}.view({0}.shape[0], -1, 1, 1)",
        ),
        OpRule(
            "flatten",
            "functional",
            "Flatten",
            shape=lambda layer, shape: (math.prod(shape),),
            keeps="view",
            drawn="thin",
            label=_words("flatten"),
            expression="torch.flatten({0}, 1)",
        ),
        OpRule(
            "linear",
            "module",
            "Linear",
            shape=lambda layer, shape: (layer.out_channels,),
            keeps="weighted",
            drawn="box",
            label=lambda row: f"fc {row.output_shape[0]}",
            module=ModuleRecipe(
                "nn.Linear",
                (Arg("in_channels"), Arg("out_channels"), Arg("bias", keyword="bias", default=True)),
            ),
            params=_linear_params,
            macs=lambda layer, output: layer.in_channels * layer.out_channels,
        ),
        OpRule(
            "zeropad",
            "module",
            "ZeroPadShortcut",
            shape=_zero_padded,
            keeps="nothing",
            drawn="box",
            label=lambda row: f"zero-pad, {row.output_shape[0]}{stride_suffix(row.stride)}",
            module=ModuleRecipe("ZeroPadShortcut", (Arg("in_channels"), Arg("out_channels"), Arg("stride"))),
            receptive=lambda layer, source, shape: (source[0], source[1] * layer.stride),
            details=lambda layer: (1, layer.stride, 0, None),
        ),
        OpRule(
            "droppath",
            "module",
            "DropPath",
            shape=_same,
            keeps="mask",
            drawn="box",
            label=lambda row: f"drop-path {row.rate or 0:.3g}",
            module=ModuleRecipe("DropPath", (Arg("rate"),)),
            has_rate=True,
        ),
        OpRule(
            "add",
            "functional",
            "Add",
            shape=_same,
            keeps="nothing",
            drawn="merge",
            label=_words("+"),
            expression="{0} + {1}",
            merge_sign="+",
        ),
        OpRule(
            "mul",
            "functional",
            "Mul",
            shape=_same,
            keeps="both_inputs",
            drawn="merge",
            label=_words("x"),
            expression="{0} * {1}",
            merge_sign="×",
        ),
        OpRule(
            "module", "container", "", shape=_same, keeps="container", drawn="box", label=_words("module")
        ),
        OpRule("block", "container", "", shape=_same, keeps="container", drawn="box", label=_words("block")),
    )


OPS: dict[Op, OpRule] = {rule.op: rule for rule in _rules()}

_BY_NAME: dict[str, OpRule] = {rule.op: rule for rule in OPS.values()}

CONTAINER_OPS = frozenset(op for op, rule in OPS.items() if rule.kind == "container")
"""Steps that hold other steps: their row follows their members, as the hooks fire."""
FUNCTIONAL_OPS = frozenset(op for op, rule in OPS.items() if rule.kind == "functional")
"""Steps that are tensor arithmetic in the forward pass, never a module."""
MODULE_TYPE_NAMES = {op: rule.type_name for op, rule in OPS.items() if rule.type_name}


def declared(name: str) -> OpRule | None:
    """The declaration of the op called ``name``, if it is one (a diagram's node may stand
    for a stage or the input instead)."""
    return _BY_NAME.get(name)


def assert_never(value: NoReturn) -> NoReturn:
    """The end of a ``match`` over a declared choice that the type checker holds complete
    (``typing.assert_never`` is Python 3.11's)."""
    raise AssertionError(f"an undeclared case: {value!r}")
