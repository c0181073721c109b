"""Each layer's part of a backward pass, clocked on the autograd nodes its forward step made.

While the profiled forward pass runs its steps one by one, each step's output ``grad_fn``
is taken right after the step, before a later in-place step (a ReLU) rebases the tensor's
history onto a node of its own. After the forward pass, the nodes of each step are those
reachable from its output's node that no earlier step claimed: a step made of several
operators (a linear layer's matmul and transpose, a blur pool's pad and convolution) owns
all of them, an in-place ReLU only its own. The parameters' ``AccumulateGrad`` nodes are
nobody's (they are cheap, and hooks on them are not supported everywhere); the nodes
reachable from the loss that no step claimed are the loss's.

Every claimed node gets a pre-hook and a hook that synchronise the device and read
``perf_counter``, so the node's time is the span between them; the engine's own work
between nodes (summing the gradients of a tensor used twice, the accumulation into
``.grad``) is left out, and is what the caller reports as the rest of backward.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from explorer.core.devices import synchronize

LOSS_ROW = -1
"""The row index of the loss's samples: it has no row in the analysis."""
FORWARD = "forward"
BACKWARD = "backward"
_UNCLAIMED_NODES = frozenset({"AccumulateGrad", "torch::autograd::AccumulateGrad"})


@dataclass(frozen=True, slots=True)
class StepSample:
    """One clock reading in one pass: whose it is (a row index, or ``LOSS_ROW``), which pass
    direction, seconds from the pass's start, and its length."""

    index: int
    start_s: float
    duration_s: float
    phase: str = FORWARD


def _new_nodes(node: Any, claimed: set[Any]) -> Iterator[Any]:
    """The nodes reachable from ``node`` not in ``claimed`` (which they join), ``AccumulateGrad`` aside."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current is None or current in claimed or current.name() in _UNCLAIMED_NODES:
            continue
        claimed.add(current)
        yield current
        stack.extend(following for following, _ in current.next_functions)


class BackwardClock:
    """Collects the steps' output nodes in a forward pass, then times their nodes in its backward."""

    def __init__(self, device_key: str) -> None:
        self._device_key = device_key
        self._outputs: list[tuple[int, Any]] = []
        self._samples: list[StepSample] = []
        self._origin = 0.0

    def begin(self, origin: float) -> None:
        """A new pass; ``origin`` is its start on ``perf_counter``."""
        self._outputs = []
        self._samples = []
        self._origin = origin

    def capture(self, index: int, output: Any) -> None:
        """Step ``index`` has just made ``output``."""
        node = getattr(output, "grad_fn", None)
        if node is not None:
            self._outputs.append((index, node))

    def arm(self, loss: Any) -> int:
        """Hooks every node of this pass's graph to its step (or the loss); returns how many."""
        claimed: set[Any] = set()
        owners = [*self._outputs, (LOSS_ROW, loss.grad_fn)]
        count = 0
        for index, node in owners:
            for member in _new_nodes(node, claimed):
                self._hook(member, index)
                count += 1
        self._outputs = []  # the graph goes with the backward pass
        return count

    def _hook(self, node: Any, index: int) -> None:
        started = [0.0]

        def before(grad_outputs: Any) -> None:
            synchronize(self._device_key)
            started[0] = time.perf_counter()

        def after(grad_inputs: Any, grad_outputs: Any) -> None:
            synchronize(self._device_key)
            ended = time.perf_counter()
            self._samples.append(StepSample(index, started[0] - self._origin, ended - started[0], BACKWARD))

        node.register_prehook(before)
        node.register_hook(after)

    def samples(self) -> tuple[StepSample, ...]:
        """The backward pass's node times, in the order the nodes ran."""
        return tuple(self._samples)
