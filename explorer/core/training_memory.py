"""The memory of one training step, predicted from the plan before anything is allocated.

A pure-Python walk over the analysis rows (no torch), which follows every tensor of
the forward pass as PyTorch 2.x makes it: which storage each step writes (an in-place
ReLU writes into its input's storage, a view or a flatten makes none, a residual add
makes a new one) and which storages autograd saves for backward, each counted once
however many steps keep it:

- a convolution (2-d or 1-d) and a linear layer keep their input (the weight is a parameter);
- batch norm in training keeps its input and two float32 statistics per channel
  (``save_mean`` and ``save_invstd``; the running statistics are buffers);
- ReLU (in place or not) and sigmoid keep their output;
- max pooling keeps its input and its int64 indices; an average pool keeps its input
  (a "same" average pool, its padded input); the global average pool and the mean of
  an attention module keep only a shape;
- the residual add, the zero-pad shortcut, flatten and views keep nothing;
- a channel gate (SE/ECA) keeps both factors; drop-path keeps its per-sample mask;
- BlurPool's reflection padding keeps its input and its convolution the padded input;
- the cross-entropy loss keeps the float32 log-probabilities, the int64 labels and a
  scalar weight.

Mixed precision follows autocast's operator lists: convolutions and linear layers run
in float16/bfloat16, so the activations after them are half size; a float32 input
(the image) is copied to half precision and the copy is what is kept; the half copy
of each weight is kept too (``weight_copy_bytes``); batch norm is on no list, so it
runs in its input's dtype with float32 statistics; the loss runs in float32. On CUDA
(``device_type="cuda"``, the default) BlurPool's padding runs in half precision; on the
CPU, autocast runs reflection padding in float32, so a float32 copy of its input and
a half copy of the padded tensor are kept instead. The CPU rules are the ones checked
against a real forward pass in the tests.

Not counted: the allocator's caching and rounding, cuDNN workspaces, the CUDA context,
the half copies of biases autocast caches (autograd does not keep them), and the
AdamW step counters (on the CPU unless the optimizer is capturable or fused).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from explorer.core.analysis import LayerRow, analyze
from explorer.core.ascii_numbers import ascii_fullmatch
from explorer.core.ops import CONTAINER_OPS, OPS, assert_never
from explorer.core.plan import NETWORK_INPUT, layer_plan
from explorer.core.quoting import quote_value
from explorer.core.sizecache import size_bounded_cache
from explorer.core.spec import ArchSpec

OPTIMIZERS = ("sgd", "sgd-momentum", "adamw")
# Copies of the parameters each optimizer keeps: SGD none, momentum one buffer, AdamW two moments.
OPTIMIZER_STATE_COPIES = {"sgd": 0, "sgd-momentum": 1, "adamw": 2}
PRECISIONS = ("float32", "float16", "bfloat16")  # float16/bfloat16: autocast mixed precision
DEVICE_TYPES = ("cuda", "cpu")  # whose autocast rules mixed precision follows
MAX_BATCH = 2**40
# About three profiles of the largest spec allowed, as for the plan and the analysis.
MAX_CACHED_PROFILE_ROWS = 100_000

FLOAT32 = 4
INT64 = 8
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
COUNTED = (
    "Counted: parameters, their gradients, optimizer state, the tensors autograd saves for "
    "backward (activations, max-pool indices, batch-norm statistics, loss inputs, half-precision "
    "weight copies) and an estimate of the gradients alive at once during backward."
)
NOT_COUNTED = (
    "Not counted: the allocator's caching and rounding, cuDNN workspaces, the CUDA context, "
    "autocast's cached bias copies and AdamW's step counters."
)


class TrainingMemoryError(ValueError):
    """An optimizer, precision, batch or memory size the prediction cannot take."""


@dataclass(frozen=True, slots=True)
class SavedGroup:
    """The saved-activation bytes of one part: a stage ("stem", "layer1" ... or "head", with
    the loss) or a block ("layer1.0" ...)."""

    name: str
    saved_bytes: int


@dataclass(frozen=True, slots=True)
class TrainingMemory:
    spec: ArchSpec
    batch: int
    optimizer: str
    precision: str
    param_bytes: int
    grad_bytes: int
    optimizer_state_bytes: int
    saved_activation_bytes: int
    """What autograd keeps for backward, not parameters (nor their half copies)."""
    backward_peak_bytes: int
    """An estimate of the transient extra during backward on top of everything else:
    the activation gradients alive at once, less the saved tensors freed by then."""
    total_bytes: int
    layer_saved_bytes: tuple[int, ...]
    """Per analysis row (the order of ``analyze(spec).rows``): the saved bytes first kept there."""
    stages: tuple[SavedGroup, ...]
    buffer_bytes: int = 0
    """Batch-norm running statistics and BlurPool filters."""
    weight_copy_bytes: int = 0
    """Half-precision copies of the weights that autograd keeps under autocast."""
    input_bytes: int = 0
    """The float32 image batch where autograd keeps only its half copy (mixed precision)."""
    loss_saved_bytes: int = 0
    """Of the saved activations, what the cross-entropy loss keeps (none without a classifier)."""
    device_type: str = "cuda"
    blocks: tuple[SavedGroup, ...] = ()
    """The saved-activation bytes of each block ("layer1.0" ...), in order."""


@dataclass(frozen=True, slots=True)
class _Storage:
    per_sample: int
    fixed: int = 0

    def bytes(self, batch: int) -> int:
        return self.per_sample * batch + self.fixed


@dataclass(frozen=True, slots=True)
class _Profile:
    """What a step keeps, independent of the batch: per row, the storages first saved there."""

    row_saved: tuple[tuple[_Storage, ...], ...]
    loss_saved: tuple[_Storage, ...]
    weight_copy_bytes: int
    grad_per_sample: tuple[int, ...]
    """Per row, the activation-gradient bytes alive while its backward runs (per sample)."""
    param_count: int
    buffer_bytes: int
    image_per_sample: int
    image_saved: bool


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise TrainingMemoryError(f"{name} must be one of {', '.join(choices)}, got {quote_value(value)}")
    return value


def _check_batch(batch: object) -> int:
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise TrainingMemoryError(
            f"batch must be a whole number from 1 to {MAX_BATCH}, got {quote_value(batch)}"
        )
    return batch


def _numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


class _Walk:
    """Follows storages and their dtypes through the rows of one spec."""

    def __init__(self, rows: tuple[LayerRow, ...], spec: ArchSpec, precision: str, device_type: str) -> None:
        self.rows = rows
        self.spec = spec
        self.mixed = precision != "float32"
        self.half = DTYPE_BYTES[precision]
        self.cpu = device_type == "cpu"
        self.sizes: dict[object, _Storage] = {}
        self.saved: set[object] = set()
        self.storage: dict[int, object] = {NETWORK_INPUT: "image"}
        self.dtype: dict[int, int] = {NETWORK_INPUT: FLOAT32}
        self.sizes["image"] = _Storage(_numel(spec.input_shape) * FLOAT32)
        self.weight_copies = 0
        self.image_saved = False

    def new(self, key: object, per_sample: int, fixed: int = 0) -> object:
        self.sizes[key] = _Storage(per_sample, fixed)
        return key

    def keep(self, found: list[_Storage], key: object) -> None:
        if key not in self.saved:
            self.saved.add(key)
            found.append(self.sizes[key])
            if key == "image":
                self.image_saved = True

    def output(self, index: int, key: object, dtype: int) -> None:
        self.storage[index] = key
        self.dtype[index] = dtype

    def fresh(self, index: int, dtype: int) -> object:
        key = self.new(index, _numel(self.rows[index].output_shape) * dtype)
        self.output(index, key, dtype)
        return key

    def as_half(self, index: int, source: int, found: list[_Storage], tag: str) -> int:
        """Keeps ``source``'s output as a lower-precision op sees it (a half copy of a float32
        tensor under autocast); returns the dtype it computes in."""
        dtype = self.half if self.mixed else FLOAT32
        if self.dtype[source] == dtype:
            self.keep(found, self.storage[source])
        else:
            shape = self.spec.input_shape if source == NETWORK_INPUT else self.rows[source].output_shape
            self.keep(found, self.new((index, tag), _numel(shape) * dtype))
        return dtype

    def weight_copy(self, numel: int) -> None:
        if self.mixed:
            self.weight_copies += numel * self.half

    def step(self, index: int, row: LayerRow) -> tuple[_Storage, ...]:
        """What the step keeps for the backward pass, as its op declares (``Keeps``)."""
        found: list[_Storage] = []
        source = row.inputs[0]
        key, dtype = self.storage[source], self.dtype[source]
        keeps = OPS[row.op].keeps
        match keeps:
            case "container":
                self.output(index, self.storage[index - 1], self.dtype[index - 1])
            case "weighted":
                computed = self.as_half(index, source, found, "cast")
                self.weight_copy(row.params - (row.output_shape[0] if self._has_bias(index) else 0))
                self.fresh(index, computed)
            case "norm":
                self.keep(found, key)
                channels = row.output_shape[0]
                self.keep(found, self.new((index, "mean"), 0, channels * FLOAT32))
                self.keep(found, self.new((index, "invstd"), 0, channels * FLOAT32))
                self.fresh(index, dtype)
            case "relu":
                if self._in_place(index):
                    self.output(index, key, dtype)
                else:
                    self.fresh(index, dtype)
                self.keep(found, self.storage[index])
            case "output":
                self.keep(found, self.fresh(index, dtype))
            case "input_and_indices":
                self.keep(found, key)
                self.keep(found, self.new((index, "indices"), _numel(row.output_shape) * INT64))
                self.fresh(index, dtype)
            case "input":
                self.keep(found, key)
                self.fresh(index, dtype)
            case "same_padded":
                channels, height, width = row.input_shape
                grow = (row.kernel_size or 1) - 1  # 'same' padding: the extra row and column go after
                padded = channels * (height + grow) * (width + grow)
                self.keep(found, self.new((index, "padded"), padded * dtype))
                self.fresh(index, dtype)
            case "blur":
                self._blur(index, row, found)
            case "mask":
                self.keep(found, self.new((index, "mask"), dtype))
                self.fresh(index, dtype)
            case "both_inputs":
                other = row.inputs[1]
                self.keep(found, key)
                self.keep(found, self.storage[other])
                self.fresh(index, max(dtype, self.dtype[other]))
            case "nothing":
                self.fresh(index, dtype)
            case "view":
                self.output(index, key, dtype)
            case _:
                assert_never(keeps)
        return tuple(found)

    def _blur(self, index: int, row: LayerRow, found: list[_Storage]) -> None:
        source = row.inputs[0]
        channels, height, width = row.input_shape
        pad = row.padding or 0
        padded = channels * (height + 2 * pad) * (width + 2 * pad)
        if self.mixed and self.cpu:
            # CPU autocast pads by reflection in float32, then the convolution copies to half.
            if self.dtype[source] == FLOAT32:
                self.keep(found, self.storage[source])
            else:
                self.keep(found, self.new((index, "pad-input"), _numel(row.input_shape) * FLOAT32))
            self.keep(found, self.new((index, "padded"), padded * self.half))
            computed = self.half
        else:
            # Padding runs in its input's dtype; under autocast the convolution computes in
            # half precision, keeping a half copy of the padded tensor where it was float32.
            computed = self.half if self.mixed else FLOAT32
            self.keep(found, self.storage[source])
            self.keep(found, self.new((index, "padded"), padded * computed))
        self.weight_copy(channels * (row.kernel_size or 0) ** 2)
        self.fresh(index, computed)

    def _has_bias(self, index: int) -> bool:
        return layer_plan(self.spec).layers[index].bias

    def _in_place(self, index: int) -> bool:
        # A ReLU with a module of its own is nn.ReLU(inplace=True); the stem's is functional.
        return not layer_plan(self.spec).layers[index].functional


def _gradients_alive(spec: ArchSpec, rows: tuple[LayerRow, ...], dtypes: dict[int, int]) -> tuple[int, ...]:
    """Per row, the activation-gradient bytes (per sample) alive while its backward runs:
    the gradient of its output, the one it makes for its input and, inside a block's
    main branch, the shortcut's gradient waiting at the block's input (autograd runs
    the later-made shortcut branch first)."""
    waiting = [0] * len(rows)
    for block in layer_plan(spec).blocks:
        source = rows[block.first_layer].inputs[0]
        shape = spec.input_shape if source == NETWORK_INPUT else rows[source].output_shape
        for index in range(block.first_layer, block.merge_layer):
            waiting[index] += _numel(shape) * dtypes[source]
    alive = []
    for index, row in enumerate(rows):
        if row.op in CONTAINER_OPS:
            alive.append(0)
            continue
        source = row.inputs[0]
        made = 0 if source == NETWORK_INPUT else _numel(row.input_shape) * dtypes[source]
        alive.append(_numel(row.output_shape) * dtypes[index] + made + waiting[index])
    return tuple(alive)


def _loss_storages(spec: ArchSpec) -> tuple[_Storage, ...]:
    """Cross-entropy keeps float32 log-probabilities (autocast runs it in float32), the
    int64 labels and its scalar total weight."""
    if not spec.num_classes:
        return ()
    return (_Storage(spec.num_classes * FLOAT32), _Storage(INT64), _Storage(0, FLOAT32))


def _buffer_bytes(spec: ArchSpec) -> int:
    total = 0
    for layer in layer_plan(spec).layers:
        float_values, int_values = OPS[layer.op].buffer_values(layer)
        total += float_values * FLOAT32 + int_values * INT64
    return total


@size_bounded_cache(max_entries=32, max_size=MAX_CACHED_PROFILE_ROWS, size_of=lambda p: len(p.row_saved))
def _profile(spec: ArchSpec, precision: str, device_type: str) -> _Profile:
    analysis = analyze(spec)
    rows = analysis.rows
    walk = _Walk(rows, spec, precision, device_type)
    row_saved = tuple(walk.step(index, row) for index, row in enumerate(rows))
    return _Profile(
        row_saved=row_saved,
        loss_saved=_loss_storages(spec),
        weight_copy_bytes=walk.weight_copies,
        grad_per_sample=_gradients_alive(spec, rows, walk.dtype),
        param_count=analysis.totals.total_params,
        buffer_bytes=_buffer_bytes(spec),
        image_per_sample=_numel(spec.input_shape) * FLOAT32,
        image_saved=walk.image_saved,
    )


def _stage_name(row: LayerRow, seen_blocks: bool) -> str:
    if row.stage is not None:
        return f"layer{row.stage + 1}"
    return "head" if seen_blocks else "stem"


def predict_training_memory(
    spec: ArchSpec,
    batch: int = 1,
    optimizer: str = "sgd-momentum",
    precision: str = "float32",
    device_type: str = "cuda",
) -> TrainingMemory:
    """The memory one training step of ``spec`` needs at ``batch`` samples with
    ``optimizer``, in float32 or autocast mixed ``precision`` (as autocast does it on
    ``device_type``)."""
    _check_batch(batch)
    _check_choice("optimizer", optimizer, OPTIMIZERS)
    _check_choice("precision", precision, PRECISIONS)
    _check_choice("device type", device_type, DEVICE_TYPES)
    profile = _profile(spec, precision, device_type)
    rows = analyze(spec).rows

    layer_saved = tuple(sum(s.bytes(batch) for s in saved) for saved in profile.row_saved)
    loss_saved = sum(s.bytes(batch) for s in profile.loss_saved)
    saved = sum(layer_saved) + loss_saved

    groups: dict[str, int] = {}
    blocks: dict[str, int] = {}
    seen_blocks = False
    for row, row_bytes in zip(rows, layer_saved, strict=True):
        seen_blocks = seen_blocks or row.stage is not None
        name = _stage_name(row, seen_blocks)
        groups[name] = groups.get(name, 0) + row_bytes
        if row.stage is not None and row.block is not None:
            block = f"{name}.{row.block}"
            blocks[block] = blocks.get(block, 0) + row_bytes
    groups["head"] = groups.get("head", 0) + loss_saved

    # Backward frees a saved tensor once the earliest step that kept it is done, so while
    # row i runs, what rows 0..i (and nothing later) kept is still alive.
    still_saved = loss_saved
    peak = 0
    prefix = 0
    for row_bytes, grads in zip(layer_saved, profile.grad_per_sample, strict=True):
        prefix += row_bytes
        peak = max(peak, prefix + still_saved + grads * batch)
    backward_extra = max(peak - saved, 0)

    params = profile.param_count * FLOAT32
    state = OPTIMIZER_STATE_COPIES[optimizer] * params
    unsaved_input = 0 if profile.image_saved else profile.image_per_sample * batch
    total = (
        params
        + profile.buffer_bytes
        + params
        + state
        + saved
        + profile.weight_copy_bytes
        + unsaved_input
        + backward_extra
    )
    return TrainingMemory(
        spec=spec,
        batch=batch,
        optimizer=optimizer,
        precision=precision,
        param_bytes=params,
        grad_bytes=params,
        optimizer_state_bytes=state,
        saved_activation_bytes=saved,
        backward_peak_bytes=backward_extra,
        total_bytes=total,
        layer_saved_bytes=layer_saved,
        stages=tuple(SavedGroup(name, value) for name, value in groups.items()),
        buffer_bytes=profile.buffer_bytes,
        weight_copy_bytes=profile.weight_copy_bytes,
        input_bytes=unsaved_input,
        loss_saved_bytes=loss_saved,
        device_type=device_type,
        blocks=tuple(SavedGroup(name, value) for name, value in blocks.items()),
    )


def largest_batch_that_fits(
    spec: ArchSpec,
    memory_bytes: int,
    optimizer: str = "sgd-momentum",
    precision: str = "float32",
    device_type: str = "cuda",
) -> int:
    """The largest batch whose predicted step fits in ``memory_bytes``; 0 when even one sample does not."""
    if isinstance(memory_bytes, bool) or not isinstance(memory_bytes, int) or memory_bytes < 0:
        raise TrainingMemoryError(
            f"memory size must be a whole number of bytes >= 0, got {quote_value(memory_bytes)}"
        )

    def fits(batch: int) -> bool:
        return (
            predict_training_memory(spec, batch, optimizer, precision, device_type).total_bytes
            <= memory_bytes
        )

    if not fits(1):
        return 0
    low, high = 1, 2
    while high <= MAX_BATCH and fits(high):
        low, high = high, high * 2
    high = min(high, MAX_BATCH + 1)
    while high - low > 1:  # fits(low), not fits(high) (or past the limit)
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "pb": 10**15,
    "eb": 10**18,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
    "eib": 2**60,
}
MAX_MEMORY_SIZE = 2**60
MAX_MEMORY_SIZE_TEXT = "1 EiB"
_SIZE_PATTERN = r"\s*(\d*\.?\d+(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*"


def parse_memory_size(text: str) -> int:
    """Bytes from a size a person types: "24GiB", "512 MiB", "8GB", "1.5e9" (bytes)."""
    match = ascii_fullmatch(_SIZE_PATTERN, text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _SIZE_UNITS:
        raise TrainingMemoryError(
            f"memory size {quote_value(text)} is not a size: give a number with a unit such as "
            "24GiB, 512MiB or 8GB (KiB, MiB, GiB, TiB, PiB, EiB are powers of 1024; KB, MB, GB, "
            "TB, PB, EB of 1000)"
        )
    value = float(match.group(1)) * _SIZE_UNITS[unit]
    if not math.isfinite(value) or value > MAX_MEMORY_SIZE:
        raise TrainingMemoryError(
            f"memory size {quote_value(text)} is too large: give at most {MAX_MEMORY_SIZE_TEXT}"
        )
    return int(value)
