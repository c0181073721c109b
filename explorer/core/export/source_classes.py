"""The classes of a generated network, each written from the plan's steps.

One class is written for the network and one for each class of module that the plan's
containers name (a block's or an attention module's: the ``class_name`` of the part that
planned it), from all of its instances at once, as a person would write it:

- its layers are made in the order the plan lists them, so that a seeded generated
  network draws the same initial weights as ``build_model``, each by its op's module
  recipe (``explorer.core.ops``); a holder of several (``shortcut.0``, ``shortcut.1``) is
  an ``nn.Sequential``;
- a number that is the same in every instance stays literal; one that varies becomes a
  constructor argument, named after the block's quantity it equals (``in_channels``,
  ``width``, ``stride`` ...), else after the layer and the argument it sets;
- a layer that only some instances have is made where a ``use_...`` argument says so and
  is ``nn.Identity()`` elsewhere, or ``None`` where the steps after it then read another
  value than its input;
- ``forward`` is the plan's steps, one statement each: a module's call (a holder's, where
  its layers run one after another), or the op's declared arithmetic.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from explorer.core import blocks, parts
from explorer.core.export.pyformat import (
    INDENT,
    Atom,
    Call,
    Choice,
    Expr,
    Keyword,
    Repeated,
    block,
    fits,
    lines_of,
)
from explorer.core.ops import OPS
from explorer.core.plan import CONTAINER_OPS, NETWORK_INPUT, LayerPlan, PlannedLayer, block_layouts

# A block's quantities in the order its constructor takes them; a varying number is named
# after the first of ``_PREFERENCE`` that it equals in every block (where a basic block's
# inner width is its output width, ``out_channels`` says what it is).
_SIGNATURE = (
    "channels",
    "in_channels",
    "width",
    "out_channels",
    "stride",
    "dilation",
    "first_dilation",
    "drop_rate",
)
_PREFERENCE = (
    "channels",
    "in_channels",
    "out_channels",
    "width",
    "stride",
    "dilation",
    "first_dilation",
    "drop_rate",
)
_BRANCH_ROLE = "shortcut"
"""The role whose steps ``forward`` keeps in a variable of that name, beside the main ``out``."""
_INPUT = "x"
_MAIN = "out"
_IDENTITY = "nn.Identity()"
_MISSING = "None"
_REPEAT_FROM = 3
"""Alike blocks in a row from this many on are made in a loop."""


class SourceLayoutError(RuntimeError):
    """The plan lays out a part in a way that the source generator cannot write as a class."""


@dataclass(frozen=True)
class Instance:
    """One module of a class as the plan runs it."""

    row: int
    """The container's step (``NETWORK_INPUT`` for the network itself)."""
    prefix: str
    source: int
    """The step whose output is its input."""
    output: int
    """The step whose output it returns."""
    steps: tuple[int, ...]
    """The steps it runs itself; a container within it stands for its members."""
    quantities: dict[str, object]
    """What it is made with, by name: the numbers its arguments may be named after."""


@dataclass
class _Slot:
    """A step of the class: the steps of one name (and call of it) across its instances."""

    name: str
    occurrence: int
    steps: list[int | None]
    """The slot's step in each instance, ``None`` where it has none."""

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))


@dataclass
class _Member:
    """A module attribute, or an entry of a holder; a holder has ``children``."""

    path: tuple[str, ...]
    slot: int | None = None
    children: dict[str, _Member] = field(default_factory=dict)

    def leaves(self) -> list[int]:
        if self.slot is not None:
            return [self.slot]
        return [leaf for child in self.children.values() for leaf in child.leaves()]

    @property
    def sequential(self) -> bool:
        return all(key.isdigit() for key in self.children)


@dataclass
class _Site:
    """A statement of ``forward``: a module's call (a holder's, for a chain) or an op's arithmetic."""

    slots: list[int]
    callee: str
    """``self.conv1``, ``self.shortcut[1]``; ``""`` for arithmetic."""
    top: str
    """The attribute that holds the callee (or the step's name, for arithmetic)."""
    role: str
    expression: str = ""
    present: list[bool] = field(default_factory=list)
    inputs: list[tuple[int | None, ...]] = field(default_factory=list)
    """By instance, the sites (``None``: the class's input) whose outputs it reads."""
    reads: tuple[int | None, ...] = ()
    """What it reads in every instance (where a site it reads is missing, what stands in)."""
    stand_in: int | None = None
    """Where it is missing, what its readers read instead."""
    read_where_missing: bool = False
    guarded: bool = False
    """Missing in some instances and not passing its input on: ``forward`` tests for it."""
    flag: str = ""


class _Required:
    """The default of an argument that has none."""

    def __repr__(self) -> str:
        return "required"


REQUIRED = _Required()


@dataclass
class Param:
    """A constructor argument and its value in each instance (missing where no layer of the
    instance takes it)."""

    name: str
    values: dict[int, object]
    flag: bool = False
    order: tuple[int, ...] = ()
    """Where the layer a flag makes sits in the class."""
    feeds: list[object] = field(default_factory=list)
    """The defaults of the arguments it is passed to (``REQUIRED`` for one without)."""

    def default(self, count: int) -> object:
        """A flag's default is ``False``; an argument's, that of every argument it is passed
        to (``stride=1``), where they agree; one that only some instances use, ``None``."""
        if self.flag:
            return False
        if len(self.values) < count:
            return None
        defaults = {_typed(default) for default in self.feeds}
        if len(defaults) == 1 and REQUIRED not in self.feeds:
            return self.feeds[0]
        return REQUIRED

    def declaration(self, count: int) -> str:
        kinds = {type(value).__name__ for value in self.values.values()}
        kind = kinds.pop() if len(kinds) == 1 else "float"
        default = self.default(count)
        if default is REQUIRED:
            return f"{self.name}: {kind}"
        if default is None:
            return f"{self.name}: {kind} | None = None"
        return f"{self.name}: {kind} = {default!r}"


@dataclass(frozen=True)
class WrittenClass:
    name: str
    lines: list[str]
    params: tuple[Param, ...]
    defaults: dict[str, object]
    arguments: dict[int, dict[str, object]]
    """By container step, the value of each argument (``None``: left out)."""


def _typed(value: object) -> tuple[str, object]:
    """A value and its type: ``1``, ``1.0`` and ``True`` are different arguments."""
    return type(value).__name__, value


def _merged_order(sequences: list[list[tuple[str, int]]]) -> list[tuple[str, int]]:
    """Every key of ``sequences`` once, in an order that keeps the order of each (where
    that leaves a choice, the key seen first comes first)."""
    first: dict[tuple[str, int], tuple[int, int]] = {}
    after: dict[tuple[str, int], set[tuple[str, int]]] = {}
    waiting: Counter[tuple[str, int]] = Counter()
    for s, sequence in enumerate(sequences):
        for p, key in enumerate(sequence):
            first.setdefault(key, (s, p))
            after.setdefault(key, set())
        for a, b in itertools.pairwise(sequence):
            if b not in after[a]:
                after[a].add(b)
                waiting[b] += 1
    ready = [(first[key], key) for key in first if waiting[key] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, key = heapq.heappop(ready)
        order.append(key)
        for following in after[key]:
            waiting[following] -= 1
            if waiting[following] == 0:
                heapq.heappush(ready, (first[following], following))
    if len(order) != len(first):
        raise SourceLayoutError("the instances of a class run their steps in different orders")
    return order


def _grouped_order(sequences: list[list[tuple[str, int]]]) -> list[tuple[str, int]]:
    """``_merged_order``, keeping the steps of a holder (``shortcut.0``, ``shortcut.1``)
    together: the holders are ordered among the other steps, then their steps."""

    def group(key: tuple[str, int]) -> tuple[str, int]:
        top, dot, _ = key[0].partition(".")
        return (top + dot, 0) if dot else key

    grouped = [list(dict.fromkeys(group(key) for key in sequence)) for sequence in sequences]
    order = []
    for outer in _merged_order(grouped):
        if outer[0].endswith("."):
            order += _merged_order([[key for key in keys if group(key) == outer] for keys in sequences])
        else:
            order.append(outer)
    return order


def _identifier(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def access(path: Iterable[str]) -> str:
    """How code reaches a member from its owner: ``shortcut[1]`` for ``("shortcut", "1")``."""
    text = ""
    for key in path:
        if not text:
            text = key
        else:
            text += f"[{key}]" if key.isdigit() else f'["{key}"]'
    return text


class ClassWriter:
    """Writes one class from its instances, given the classes of the containers within it."""

    def __init__(
        self,
        plan: LayerPlan,
        name: str,
        doc: str,
        instances: list[Instance],
        written: dict[str, WrittenClass],
    ) -> None:
        self.layers = plan.layers
        self.name = name
        self.doc = doc
        self.instances = instances
        self.count = len(instances)
        self.written = written
        self.params: list[Param] = []
        self._make_slots()
        self._make_members()
        self._make_sites()
        self._agree()

    # Slots: each named step of the class, across its instances.

    def _make_slots(self) -> None:
        sequences = []
        for instance in self.instances:
            counts: Counter[str] = Counter()
            keys = []
            for step in instance.steps:
                name = self._relative(instance, step)
                keys.append((name, counts[name]))
                counts[name] += 1
            sequences.append(keys)
        order = _grouped_order(sequences)
        position = {key: i for i, key in enumerate(order)}
        self.slots = [_Slot(name, occurrence, [None] * self.count) for name, occurrence in order]
        for i, (instance, keys) in enumerate(zip(self.instances, sequences, strict=True)):
            for step, key in zip(instance.steps, keys, strict=True):
                self.slots[position[key]].steps[i] = step
        for slot in self.slots:
            if len({self.layers[step].functional for step in self._steps(slot)}) > 1:
                raise SourceLayoutError(f"{self.name}: {slot.name} is a module in some instances only")

    def _relative(self, instance: Instance, step: int) -> str:
        name = self.layers[step].name
        if not name.startswith(instance.prefix):
            raise SourceLayoutError(f"{name} runs in {instance.prefix[:-1]} but is not named under it")
        return name[len(instance.prefix) :]

    @staticmethod
    def _steps(slot: _Slot) -> list[int]:
        return [step for step in slot.steps if step is not None]

    def _layer(self, slot: _Slot) -> PlannedLayer:
        return self.layers[self._steps(slot)[0]]

    def _present(self, slots: Iterable[int]) -> list[bool]:
        steps = [self.slots[slot].steps for slot in slots]
        return [any(each[i] is not None for each in steps) for i in range(self.count)]

    # Members: the module attributes, holders holding theirs.

    def _make_members(self) -> None:
        self.top: dict[str, _Member] = {}
        made = []
        for index, slot in enumerate(self.slots):
            if slot.occurrence or self._layer(slot).functional:
                continue
            made.append(index)
            children = self.top
            for depth, key in enumerate(slot.path):
                node = children.setdefault(key, _Member(slot.path[: depth + 1]))
                if node.slot is not None or (depth == len(slot.path) - 1 and node.children):
                    raise SourceLayoutError(f"{self.name}: {slot.name} is a module and holds modules")
                if depth == len(slot.path) - 1:
                    node.slot = index
                children = node.children
        for member in self.top.values():
            self._sort_holder(member)
        if [leaf for member in self.top.values() for leaf in member.leaves()] != made:
            # A holder is made at once: its modules must come one after another, in its order.
            raise SourceLayoutError(f"{self.name}: a holder's modules are not made one after another")

    def _sort_holder(self, member: _Member) -> None:
        if member.children and member.sequential:
            member.children = dict(sorted(member.children.items(), key=lambda item: int(item[0])))
        for child in member.children.values():
            self._sort_holder(child)

    # Sites: the statements of forward.

    def _make_sites(self) -> None:
        chains = {key for key, member in self.top.items() if member.children and self._chain(member)}
        self.sites: list[_Site] = []
        site_of_top: dict[str, _Site] = {}
        for index, slot in enumerate(self.slots):
            layer = self._layer(slot)
            top = slot.path[0]
            if layer.functional:
                if len({self.layers[step].op for step in self._steps(slot)}) > 1:
                    raise SourceLayoutError(f"{self.name}: {slot.name} computes different things")
                expression = OPS[layer.op].expression
                if not expression:
                    raise SourceLayoutError(f"{slot.name}: op {layer.op!r} declares no arithmetic")
                self.sites.append(_Site([index], "", slot.name, layer.role, expression))
            elif top in site_of_top:
                site_of_top[top].slots.append(index)
            else:
                callee = f"self.{access([top] if top in chains else slot.path)}"
                self.sites.append(_Site([index], callee, top, layer.role))
                if top in chains:
                    site_of_top[top] = self.sites[-1]
        self.site_of: list[dict[int, int]] = [{} for _ in self.instances]
        for s, site in enumerate(self.sites):
            for member in site.slots:
                for i, step in enumerate(self.slots[member].steps):
                    if step is not None:
                        self.site_of[i][step] = s
        for site in self.sites:
            site.present = self._present(site.slots)
            for i, instance in enumerate(self.instances):
                steps = [step for slot in site.slots if (step := self.slots[slot].steps[i]) is not None]
                reads = self.layers[steps[0]].inputs if steps else ()
                site.inputs.append(tuple(self._resolve(i, instance, step) for step in reads))

    def _chain(self, member: _Member) -> bool:
        """Whether a holder's modules run one after another on its input, each once, and
        only the last one's output is read elsewhere: then ``forward`` calls the holder."""
        if not self._all_sequential(member):
            return False
        prefix = f"{member.path[0]}."
        if any(
            slot.name.startswith(prefix) and (slot.occurrence or self._layer(slot).functional)
            for slot in self.slots
        ):
            return False
        leaves = member.leaves()
        for i, instance in enumerate(self.instances):
            run = [step for leaf in leaves if (step := self.slots[leaf].steps[i]) is not None]
            if not run:
                continue
            start = instance.steps.index(run[0])
            if list(instance.steps[start : start + len(run)]) != run or len(self.layers[run[0]].inputs) != 1:
                return False
            for before, after in itertools.pairwise(run):
                reads = self.layers[after].inputs
                if len(reads) != 1 or not self._output_of(reads[0], before):
                    return False
            inner = run[:-1]
            elsewhere = [step for step in instance.steps if step not in run]
            outside = [instance.output, *(ref for step in elsewhere for ref in self.layers[step].inputs)]
            if any(self._output_of(ref, step) for ref in outside for step in inner):
                return False
        return True

    def _output_of(self, ref: int, step: int) -> bool:
        """Whether reading step ``ref`` reads step ``step``'s output (a container's is its last member's)."""
        layer = self.layers[step]
        return ref == step or (layer.op in CONTAINER_OPS and layer.first <= ref < step)

    def _all_sequential(self, member: _Member) -> bool:
        return member.sequential and all(
            self._all_sequential(child) for child in member.children.values() if child.children
        )

    def _resolve(self, i: int, instance: Instance, step: int) -> int | None:
        """The site whose output is step ``step``'s output (``None``: the class's input)."""
        if step == instance.source:
            return None
        if step in self.site_of[i]:
            return self.site_of[i][step]
        for member in instance.steps:  # a container's output is its last member's
            layer = self.layers[member]
            if layer.op in CONTAINER_OPS and layer.first <= step < member:
                return self.site_of[i][member]
        raise SourceLayoutError(f"{self.layers[step].name} is read where it does not run")

    # How the instances agree: what each step reads, and what stands in for a missing one.

    def _agree(self) -> None:
        outputs = [self._resolve(i, instance, instance.output) for i, instance in enumerate(self.instances)]
        everywhere = [True] * self.count
        for site in self.sites:
            width = max(len(reads) for reads in site.inputs)
            site.reads = tuple(
                self._agreed([reads[k] if len(reads) > k else None for reads in site.inputs], site.present)
                for k in range(width)
            )
        self.output = self._agreed(outputs, everywhere)
        stand_ins: dict[int, set[int | None]] = {}
        readers = [(site.reads, site.inputs, site.present) for site in self.sites]
        readers.append(((self.output,), [(ref,) for ref in outputs], everywhere))
        for agreed, inputs, present in readers:
            for k, ref in enumerate(agreed):
                for i in range(self.count):
                    if present[i] and ref is not None and not self.sites[ref].present[i]:
                        stand_ins.setdefault(ref, set()).add(inputs[i][k])
        missing_tops = set()
        for s, site in enumerate(self.sites):
            if all(site.present):
                continue
            read = stand_ins.get(s, set())
            if len(read) > 1:
                raise SourceLayoutError(f"{self.name}: where {site.top} is missing, its readers differ")
            site.read_where_missing = bool(read)
            site.stand_in = next(iter(read)) if read else None
            passes_on = not site.expression and len(site.reads) == 1
            if not passes_on or (read and site.stand_in != site.reads[0]):
                site.guarded = True
                missing_tops.add(site.top)
        for site in self.sites:
            if site.top in missing_tops and not all(site.present) and not site.expression:
                if site.callee != f"self.{site.top}":
                    raise SourceLayoutError(f"{self.name}: {site.top} is missing in a way it cannot say")
                site.guarded = True
        self.missing_tops = missing_tops

    def _agreed(self, refs: list[int | None], present: list[bool]) -> int | None:
        """The site that every instance reads, but where it is missing."""
        candidates = [ref for ref, here in zip(refs, present, strict=True) if here]
        for candidate in dict.fromkeys(candidates):
            if all(
                ref == candidate or (candidate is not None and not self.sites[candidate].present[i])
                for i, (ref, here) in enumerate(zip(refs, present, strict=True))
                if here
            ):
                return candidate
        raise SourceLayoutError(f"{self.name}: its instances read different steps")

    # Arguments.

    def _number(self, values: dict[int, object], hint: str, default: object = REQUIRED) -> Atom:
        """A number in the class, passed to an argument with ``default``: literal where its
        instances agree, else an argument of the class."""
        if len({_typed(value) for value in values.values()}) == 1:
            return Atom(repr(next(iter(values.values()))))
        quantities = self.instances[0].quantities
        param = None
        for name in [*_PREFERENCE, *quantities]:
            if name in quantities and all(
                _typed(self.instances[i].quantities[name]) == _typed(value) for i, value in values.items()
            ):
                param = self._param(name, {i: q.quantities[name] for i, q in enumerate(self.instances)})
                break
        else:
            for known in self.params:
                if not known.flag and all(
                    i in known.values and _typed(known.values[i]) == _typed(value)
                    for i, value in values.items()
                ):
                    param = known
                    break
            else:
                param = self._param(self._fresh(_identifier(hint)), dict(values))
        param.feeds.append(default)
        return Atom(param.name)

    def _param(self, name: str, values: dict[int, object], flag: bool = False) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        self.params.append(Param(name, values, flag))
        return self.params[-1]

    def _fresh(self, name: str) -> str:
        taken = {param.name for param in self.params} | set(self.instances[0].quantities)
        taken |= {_INPUT, _MAIN, _BRANCH_ROLE, "self"}
        candidate, n = name, 2
        while candidate in taken:
            candidate, n = f"{name}_{n}", n + 1
        return candidate

    def _flag(self, hint: str, present: list[bool], order: tuple[int, ...]) -> str:
        """A new argument that says where a layer is made."""
        flag = self._param(self._fresh(f"use_{_identifier(hint)}"), dict(enumerate(present)), flag=True)
        flag.order = order
        return flag.name

    def _constructor(self, slot: int, where: list[int]) -> Call:
        """The call that makes slot ``slot``'s module in the instances ``where``."""
        steps = {i: step for i in where if (step := self.slots[slot].steps[i]) is not None}
        layer = self.layers[steps[where[0]]]
        hint = "_".join(self.slots[slot].path)
        if layer.op in CONTAINER_OPS:
            return self._nested(layer.type_name, steps, hint)
        recipe = OPS[layer.op].module
        if recipe is None:
            raise SourceLayoutError(f"{layer.name}: op {layer.op!r} has no module")
        positional: list[Expr] = []
        keywords: list[Expr] = []
        for arg in recipe.args:
            values = {i: arg.value(self.layers[step]) for i, step in steps.items()}
            distinct = {_typed(value) for value in values.values()}
            if arg.keyword and len(distinct) == 1 and next(iter(values.values())) == arg.default:
                continue  # left at its default, as ``ModuleRecipe.call_text`` leaves it
            default = arg.default if arg.keyword and arg.default is not None else REQUIRED
            number = self._number(values, f"{hint}_{arg.source or arg.keyword or 'value'}", default)
            if arg.keyword:
                keywords.append(Keyword(arg.keyword, number))
            else:
                positional.append(number)
        return Call(recipe.class_name, (*positional, *keywords))

    def _nested(self, class_name: str, steps: dict[int, int], hint: str) -> Call:
        """The call that makes a container of a class already written."""
        nested = self.written[class_name]
        keywords: list[Expr] = []
        for param in nested.params:
            default = nested.defaults[param.name]
            values = {i: nested.arguments[step][param.name] for i, step in steps.items()}
            if default is not REQUIRED and all(_typed(value) == _typed(default) for value in values.values()):
                continue
            given = {i: value for i, value in values.items() if value is not None}
            keywords.append(Keyword(param.name, self._number(given, f"{hint}_{param.name}", default)))
        return Call(class_name, tuple(keywords))

    # __init__

    def _choices(
        self, member: _Member, around: list[bool], placeholder: str
    ) -> tuple[list[tuple[Expr, str]], Expr]:
        """What makes ``member`` where its holder (present in ``around``) is made: options, each
        with the argument that chooses it, and what is made otherwise."""
        if member.slot is not None:
            present = self._present([member.slot])
            variants: dict[str, list[int]] = {}
            for i, step in enumerate(self.slots[member.slot].steps):
                if step is not None:
                    variants.setdefault(self.layers[step].op, []).append(i)
            made: list[tuple[str, Expr, list[int]]] = [
                (op, self._constructor(member.slot, where), where) for op, where in variants.items()
            ]
        else:
            present = self._present(member.leaves())
            where = [i for i, here in enumerate(present) if here]
            made = [("", self._holder(member, present), where)]
        always = all(here for here, holder in zip(present, around, strict=True) if holder)
        options: list[tuple[Expr, str]] = []
        first = member.leaves()[0]
        for k, (op, expr, where) in enumerate(made):
            if always and k == len(made) - 1:
                return options, expr
            nested = len(member.path) > 1 and member.slot is not None
            hint = "_".join(member.path[:1] if nested else member.path)
            if nested or len(made) > 1:
                hint = f"{hint}_{op}" if op else hint
            present_here = [i in where for i in range(self.count)]
            options.append((expr, self._flag(hint, present_here, (first, len(member.path), k))))
        return options, Atom(placeholder)

    def _holder(self, member: _Member, present: list[bool]) -> Call:
        entries: list[Expr] = []
        if member.sequential:
            for position in range(max(int(key) for key in member.children) + 1):
                child = member.children.get(str(position))
                if child is None:
                    entries.append(Atom(_IDENTITY))
                    continue
                options, otherwise = self._choices(child, present, _IDENTITY)
                entries.append(Choice(tuple(options), otherwise) if options else otherwise)
            return Call("nn.Sequential", tuple(self._runs(entries)))
        for key, child in member.children.items():
            options, otherwise = self._choices(child, present, _IDENTITY)
            entry = Choice(tuple(options), otherwise) if options else otherwise
            entries.append(Keyword(f'"{key}"', entry, ": "))
        return Call("nn.ModuleDict", (Call("", tuple(entries), "{}"),))

    def _runs(self, entries: list[Expr]) -> list[Expr]:
        """Alike blocks in a row, made in a loop."""
        result: list[Expr] = []
        i = 0
        while i < len(entries):
            j = i
            while j < len(entries) and entries[j] == entries[i]:
                j += 1
            entry = entries[i]
            if j - i >= _REPEAT_FROM and isinstance(entry, Call) and entry.head in self.written:
                result.append(Repeated(entry, j - i))
            else:
                result += entries[i:j]
            i = j
        return result

    def _init_lines(self) -> list[str]:
        """The body of ``__init__`` after ``super().__init__()``, at indent 2."""
        lines: list[str] = []
        pad = INDENT * 2
        for site in self.sites:
            if site.guarded and site.expression:
                site.flag = self._flag(site.top, site.present, (site.slots[0], 0, 0))
                lines.append(f"{pad}self.{site.flag} = {site.flag}")
        for key, member in self.top.items():
            placeholder = _MISSING if key in self.missing_tops else _IDENTITY
            options, otherwise = self._choices(member, [True] * self.count, placeholder)
            target = f"self.{key}"
            if not options:
                lines += lines_of(2, otherwise, f"{target} = ")
                continue
            one_line = f"{pad}{target} = {Choice(tuple(options), otherwise).flat()}"
            if fits(one_line):
                lines.append(one_line)
                continue
            stand_in_first = otherwise.flat() == placeholder
            if stand_in_first:
                kind = "nn.Module | None" if placeholder == _MISSING else "nn.Module"
                lines.append(f"{pad}{target}: {kind} = {placeholder}")
            for k, (expr, flag) in enumerate(options):
                lines.append(f"{pad}{'elif' if k else 'if'} {flag}:")
                lines += lines_of(3, expr, f"{target} = ")
            if not stand_in_first:
                lines += [f"{pad}else:", *lines_of(3, otherwise, f"{target} = ")]
        return lines

    # forward

    def _forward_lines(self) -> list[str]:
        """``forward``, at indent 0: one statement a site, each output in ``out`` (a shortcut's
        in ``shortcut``), or in a name of its own where it is read after ``out`` moves on."""
        last_read: dict[int, int] = {}

        def read(ref: int | None, at: int) -> None:
            if ref is not None:
                last_read[ref] = max(last_read.get(ref, at), at)

        for p, site in enumerate(self.sites):
            for ref in site.reads:
                read(ref, p)
            if site.guarded and site.read_where_missing:
                read(site.stand_in, p)
        read(self.output, len(self.sites))
        names = [""] * len(self.sites)
        taken = {_INPUT, _MAIN, _BRANCH_ROLE}
        for p in reversed(range(len(self.sites))):
            site = self.sites[p]
            name = _BRANCH_ROLE if site.role == _BRANCH_ROLE else _MAIN
            if name in names[p + 1 : last_read.get(p, p)]:
                base = f"{_identifier(self.slots[site.slots[0]].name)}_out"
                name, n = base, 2
                while name in taken:
                    name, n = f"{base}_{n}", n + 1
                taken.add(name)
            names[p] = name

        def value(ref: int | None) -> str:
            return _INPUT if ref is None else names[ref]

        lines = [f"def forward(self, {_INPUT}: torch.Tensor) -> torch.Tensor:"]
        for p, site in enumerate(self.sites):
            arguments = [value(ref) for ref in site.reads]
            call = site.expression.format(*arguments) if site.expression else f"{site.callee}({arguments[0]})"
            statement = f"{names[p]} = {call}"
            if not site.guarded:
                lines.append(f"{INDENT}{statement}")
                continue
            test = f"self.{site.flag}" if site.expression else f"{site.callee} is not None"
            lines += [f"{INDENT}if {test}:", f"{INDENT * 2}{statement}"]
            if site.read_where_missing and value(site.stand_in) != names[p]:
                lines += [f"{INDENT}else:", f"{INDENT * 2}{names[p]} = {value(site.stand_in)}"]
        return [*lines, f"{INDENT}return {value(self.output)}"]

    def write(self, extra_init: list[str] | None = None) -> WrittenClass:
        """The class, with ``extra_init`` (at indent 2) ending its ``__init__``."""
        init = self._init_lines()
        forward = self._forward_lines()
        quantities = [p for name in _SIGNATURE for p in self.params if p.name == name and not p.flag]
        others = [p for p in self.params if p not in quantities and not p.flag]
        flags = sorted((p for p in self.params if p.flag), key=lambda p: p.order)
        params = tuple(
            sorted([*quantities, *others, *flags], key=lambda p: p.default(self.count) is not REQUIRED)
        )
        signature = Call("def __init__", (Atom("self"), *(Atom(p.declaration(self.count)) for p in params)))
        lines = [f"class {self.name}(nn.Module):", f'{INDENT}"""{_docstring(self.doc)}"""', ""]
        lines += lines_of(1, signature, tail=" -> None:")
        lines += [f"{INDENT * 2}super().__init__()", *init, *(extra_init or [])]
        lines += ["", *block(1, forward)]
        arguments = {
            instance.row: {p.name: p.values.get(i) for p in params}
            for i, instance in enumerate(self.instances)
        }
        defaults = {p.name: p.default(self.count) for p in params}
        return WrittenClass(self.name, lines, params, defaults, arguments)


def _docstring(text: str) -> str:
    text = text.strip().replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return f"{text} " if text.endswith('"') else text


def _owners(plan: LayerPlan) -> list[int]:
    """The container step that runs each step (``NETWORK_INPUT``: the network), as ``build`` assigns them."""
    owner = [NETWORK_INPUT] * len(plan.layers)
    for index, layer in enumerate(plan.layers):
        if layer.op in CONTAINER_OPS:
            for member in range(layer.first, index):
                if owner[member] == NETWORK_INPUT:
                    owner[member] = index
    return owner


def _block_quantities(plan: LayerPlan) -> dict[str, dict[str, object]]:
    """Each block's quantities, by its name."""
    if not plan.blocks:
        return {}
    layouts = block_layouts(plan.spec, plan.blocks[0].in_channels)
    return {
        block.name: {
            "in_channels": layout.in_channels,
            "width": layout.inner_channels,
            "out_channels": layout.out_channels,
            "stride": layout.stride,
            "dilation": layout.dilation,
            "first_dilation": layout.first_dilation,
            "drop_rate": layout.drop_path,
        }
        for block, layout in zip(plan.blocks, layouts, strict=True)
    }


def _container_quantities(layers: list[PlannedLayer]) -> list[dict[str, object]]:
    """A container's channels (``channels`` where each keeps its count)."""
    if all(layer.in_channels == layer.out_channels for layer in layers):
        return [{"channels": layer.in_channels} for layer in layers]
    return [{"in_channels": layer.in_channels, "out_channels": layer.out_channels} for layer in layers]


def part_doc(plan: LayerPlan, class_name: str) -> str:
    """The tooltip of the spec's part that names the class, else the class's docstring."""
    for field_name, kinds in parts.FIELD_KINDS.items():
        kind = kinds.get(getattr(plan.spec, field_name))
        if kind is not None and getattr(kind, "class_name", None) == class_name:
            return kind.tooltip
    return (blocks.container_class(class_name).__doc__ or class_name).strip()


def written_classes(
    plan: LayerPlan, network_name: str, network_doc: str, network_init: list[str]
) -> list[WrittenClass]:
    """The container classes of ``plan`` (those within others first), then the network's."""
    layers = plan.layers
    owner = _owners(plan)
    rows: dict[str, list[int]] = {}
    runs: dict[int, list[int]] = {}
    for index, layer in enumerate(layers):
        if layer.op in CONTAINER_OPS:
            rows.setdefault(layer.type_name, []).append(index)
        runs.setdefault(owner[index], []).append(index)
    block_quantities = _block_quantities(plan)
    written: dict[str, WrittenClass] = {}

    def write(class_name: str) -> None:
        containers = [layers[row] for row in rows[class_name]]
        if all(layer.name in block_quantities for layer in containers):
            quantities = [block_quantities[layer.name] for layer in containers]
        else:
            quantities = _container_quantities(containers)
        instances = [
            Instance(row, f"{layer.name}.", layer.inputs[0], row - 1, tuple(runs.get(row, ())), numbers)
            for row, layer, numbers in zip(rows[class_name], containers, quantities, strict=True)
        ]
        for instance in instances:
            for step in instance.steps:
                inner = layers[step]
                if inner.op in CONTAINER_OPS and inner.type_name not in written:
                    write(inner.type_name)
        doc = part_doc(plan, class_name)
        written[class_name] = ClassWriter(plan, class_name, doc, instances, written).write()

    for class_name in rows:
        if class_name not in written:
            write(class_name)
    network = Instance(
        NETWORK_INPUT, "", NETWORK_INPUT, len(layers) - 1, tuple(runs.get(NETWORK_INPUT, ())), {}
    )
    root = ClassWriter(plan, network_name, network_doc, [network], written).write(network_init)
    return [*written.values(), root]
