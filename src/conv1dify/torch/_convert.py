"""The torch orchestrator: trace the 2D module, convert node by node, and build the 1D ``fx.GraphModule``.

Each node of the traced graph is converted by the converter registered for its module class, function or
tensor method, then run once on a 1D example tensor, so the next converter sees real 1D shapes and a 1D
module that cannot run is reported against the 2D module that made it (a plain convolution's or eval-mode
BatchNorm's output there is zeros of the shape torch gives: `run_for_shape`).
"""

from __future__ import annotations

import functools
import gc
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from . import converters as _converters  # noqa: F401  (registers the built-in converters)
from ._core import (
    Claim,
    ConversionError,
    Identity,
    LayerPlan,
    LayerSpec,
    Layout,
    Problem,
    SizePolicy,
    check_policy,
    claim_for,
    get_layout,
    resolve_strategy,
)
from ._geometry import call_spec, spec_of
from ._registry import (
    CallContext,
    ModuleContext,
    Shape,
    attribute,
    get_converter,
    has_weights,
    qualified,
    state_tensors,
    tensor_shape,
)
from ._trace import input_dependent, modes_kept, propagate_shapes, run_for_shape, submodules, trace
from .modules import LayoutTransform

SPATIAL = "NCHW"
CHANNELS_LAST = "NHWC"  # a map permuted to channels last (ConvNeXt's LayerNorm): the core's own order
#: The name of ``keep_input``'s `LayoutTransform` in the 1D module.
INPUT_TRANSFORM = "conv1dify_input"


@dataclass
class NodeRecord:
    """One call of one 2D module or function in the traced graph: the torch objects around its core `LayerPlan`.

    The plan (`conv1dify.core.plan.LayerPlan`) says what the call became and what verification may promise
    about it, with shapes as the core reads them (without the batch axis, channels last); the record adds what
    only torch has: the modules themselves, the shapes in torch's order, and how the dims read.

    Attributes:
        path: The module's qualified name in the source (``layer1.0.conv1``), or ``<owner>:<node>`` for a
            function or method call made in the forward of ``owner``.
        target: The 2D module class or the function, by qualified name.
        module_2d: The 2D module (``None`` for a function call).
        module_1d: The 1D module that replaces it (``None`` for a function call).
        inputs_2d, inputs_1d: Shapes of the tensor arguments, with the batch axis, in torch's order.
        shape_2d, shape_1d: Shapes of the output, with the batch axis (``None`` when not a tensor).
        plan: The call's plan: sizes, notes, weights moved or why they are fresh, and the claim.
        role_in, role_out: How the first input's and the output's dims read (``"NCHW"``, ``"NHWC"``, ``None``).
        sources: For each input, the index in ``Conversion.records`` of the call that made it, ``-1`` for the
            model's input, ``None`` for a constant or an attribute (receptive fields follow these links).
        node_1d: For a function or method call on maps only, the name of its node in the 1D graph, which
            `verify` runs on the 1D inputs (``None``: the call is not checked on its own).
        call_2d: For such a call that its converter rewrote (a mean over both spatial dims, a flatten, a permute),
            the source call's own ``(args, kwargs)``, each input a `Slot`: `verify` runs the source's function with
            them on the lifted inputs. ``None`` for a call kept as it was (its 1D node's arguments are the source's).
        constants: For such a call that also reads constants (a per-channel layer scale), each one's recipe by
            input index (`_recipe`): `verify` makes the 2D constant from the source module, and reads the 1D one
            from the 1D graph. ``None`` for a call on maps only.
    """

    path: str
    target: str
    module_2d: nn.Module | None
    module_1d: nn.Module | None
    inputs_2d: list[Shape | None]
    inputs_1d: list[Shape | None]
    shape_2d: Shape | None
    shape_1d: Shape | None
    plan: LayerPlan
    role_in: str | None = None
    role_out: str | None = None
    sources: list[int | None] = field(default_factory=list)
    node_1d: str | None = None
    call_2d: tuple[tuple[Any, ...], dict[str, Any]] | None = None
    constants: dict[int, Any] | None = None


@dataclass(frozen=True)
class Slot:
    """The place of a call's ``index``-th input (``node.all_input_nodes`` order) in its arguments (`NodeRecord`)."""

    index: int


_LITERAL = (bool, int, float, str, type(None), torch.dtype, torch.device, torch.memory_format, torch.layout)


def _template(node: fx.Node) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    r"""``node``'s arguments with its inputs as `Slot`\ s, or ``None`` when anything else in them is not a plain value
    (a module, a function, a slice), which a replay could not be trusted with."""
    slots = {n: Slot(i) for i, n in enumerate(node.all_input_nodes)}
    mapped: Any = fx.map_arg((node.args, node.kwargs), slots.__getitem__)  # type: ignore[arg-type]
    args, kwargs = mapped

    def plain(value: Any) -> bool:
        if isinstance(value, (tuple, list)):
            return all(plain(v) for v in value)
        if isinstance(value, dict):
            return all(plain(v) for v in value.values())
        return isinstance(value, (Slot, *_LITERAL))

    return (tuple(args), dict(kwargs)) if plain(args) and plain(kwargs) else None


def channels_last(shape: Shape | None, role: str | None) -> tuple[int | None, ...]:
    """A torch shape as the core reads it: without the batch axis, channels last.

    >>> channels_last((8, 3, 32, 32), "NCHW"), channels_last((8, 3, 32), "NCHW"), channels_last((8, 10), None)
    ((32, 32, 3), (32, 3), (10,))
    """
    if shape is None:
        return ()
    dims = tuple(shape[1:])
    if role == SPATIAL and len(dims) in (2, 3):
        return (*dims[1:], dims[0])
    return dims


@dataclass
class Conversion:
    """A torch conversion: the 1D module, its source, the options, and one record per converted call."""

    module: fx.GraphModule
    source: nn.Module
    layout: Layout
    sizes: SizePolicy
    weights: str | None
    records: list[NodeRecord]
    input_2d: Shape
    input_1d: Shape
    keep_input: bool = False

    @property
    def input_shape(self) -> Shape:
        """What the 1D module reads: ``input_1d``, or the image ``input_2d`` with ``keep_input``."""
        return self.input_2d if self.keep_input else self.input_1d


def floating_state(module: nn.Module) -> torch.Tensor | None:
    """The module's first floating parameter or buffer: where and in what dtype it runs (``None``: no state).

    NOTE: buffers too: a module whose only state is buffers (BlurPool2d's filter) runs in their dtype.
    """
    return next((t for t in _state(module) if t.is_floating_point()), None)


def _state(module: nn.Module) -> Iterator[torch.Tensor]:
    """The module's parameters, then its buffers (`state_tensors`)."""
    return itertools.chain(state_tensors(module, "_parameters"), state_tensors(module, "_buffers"))


def placement(module: nn.Module) -> tuple[torch.dtype, torch.device]:
    """The dtype and device inputs of ``module`` take: its floating state's, or float32 on the CPU."""
    ref = floating_state(module)
    return (ref.dtype, ref.device) if ref is not None else (torch.float32, torch.device("cpu"))


def _example(module: nn.Module, example_input: Any) -> torch.Tensor:
    """The 2D example as a tensor ``(N, C, H, W)`` in the module's dtype and device; a shape ``(C, H, W)`` is a
    random batch of one (both conversion passes run it once; at batch 2 a small convolution splits across threads,
    and the passes took 10-25% longer)."""
    dtype, device = placement(module)
    if isinstance(example_input, torch.Tensor):
        x = example_input
    elif isinstance(example_input, (tuple, list)) and all(isinstance(d, int) for d in example_input):
        shape = tuple(example_input)
        x = torch.randn((1, *shape) if len(shape) == 3 else shape, dtype=dtype, device=device)
    else:
        raise ConversionError(
            "convert() needs an example input to trace the module and read its shapes. Expected a tensor "
            f"(N, C, H, W) or a shape (C, H, W). Received: example_input={example_input!r}. "
            "Fix: pass example_input=(3, 64, 64), say."
        )
    if x.ndim != 4:
        raise ConversionError(
            "The torch frontend converts modules on 2D feature maps (N, C, H, W). "
            f"Received: example_input shape {tuple(x.shape)}. Fix: pass a 4D tensor or a (C, H, W) shape."
        )
    return x


def input_shape_1d(layout: Layout, shape_2d: Shape, input_length: int | None, channels: int | None) -> Shape:
    """The 1D input ``(N, C', L)`` of a 2D input ``(N, C, H, W)`` under a layout."""
    n, c, h, w = shape_2d
    length, ch = layout.shape_1d((h, w, c))
    return (
        n,
        int(channels if channels is not None else ch or 0),
        int(input_length if input_length is not None else length or 0),
    )


def _path(node: fx.Node) -> str:
    """A module's qualified name, or ``owner:node`` for a function call inside ``owner``'s forward."""
    if node.op == "call_module":
        return str(node.target)
    stack = node.meta.get("nn_module_stack") or {}
    owner = next(reversed(stack.values()), ("", None))[0] if stack else ""
    owner = owner.removeprefix("L['self'].") if isinstance(owner, str) else ""
    return f"{owner}:{node.name}" if owner else node.name


def _scan(lookup: Callable[[str], nn.Module], graph: fx.Graph) -> list[Problem]:
    """Every module, function and method in the graph without a converter, so one run reports all of them
    (``lookup``: the traced module's submodules by path, `submodules`)."""
    problems: list[Problem] = []
    seen: set[Any] = set()
    for node in graph.nodes:
        if node.op == "call_module":
            cls = type(lookup(str(node.target)))
            if get_converter(cls) is None and cls not in seen:
                seen.add(cls)
                base = next((b.__name__ for b in cls.__mro__[1:] if get_converter(b) is not None), None)
                hint = f"; it subclasses {base}, whose converter may fit" if base else ""
                problems.append(
                    Problem(
                        str(node.target),
                        f"{cls.__module__}.{cls.__qualname__}",
                        "no converter is registered for this module class" + hint,
                        fix=f"register one with @conv1dify.torch.register_converter({cls.__name__}).",
                    )
                )
        elif node.op in ("call_function", "call_method") and get_converter(node.target) is None:
            if node.target in seen:
                continue
            seen.add(node.target)
            name = qualified(node.target)
            method = node.op == "call_method"
            problems.append(
                Problem(
                    _path(node),
                    name,
                    f"the {'method' if method else 'function'} call has no 1D converter",
                    fix=f"register one with @conv1dify.torch.register_converter("
                    f"{repr(node.target) if method else name}).",
                )
            )
    return problems


def _one_input(graph: fx.Graph) -> None:
    """Refuse a forward with more than one input (even with defaults), or one ``*args`` input."""
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1 or str(placeholders[0].target).startswith("*"):
        raise ConversionError(
            "The torch frontend converts modules with one image input. Received: inputs "
            f"{[str(p.target) for p in placeholders]}. Fix: wrap the module so that it takes one tensor."
        )


def _set_submodule(root: nn.Module, path: str, module: nn.Module) -> None:
    """Install ``module`` at the dotted ``path`` of ``root``, creating plain containers on the way."""
    *parents, name = path.split(".")
    _owner(root, parents).add_module(name, module)


def _drop(root: nn.Module, path: str) -> None:
    """Remove the tensor at the dotted ``path`` of ``root``, and the containers it leaves empty."""
    *parents, name = path.split(".")
    owners = [root]
    for part in parents:
        owners.append(getattr(owners[-1], part))
    delattr(owners[-1], name)
    for owner, parent, part in reversed(list(zip(owners[1:], owners[:-1], parents, strict=True))):
        if owner._parameters or owner._buffers or owner._modules:
            break
        delattr(parent, part)


def _like(module: nn.Module, new: nn.Module) -> nn.Module:
    """``new`` on the source module's device and floating dtype, in its train/eval mode."""
    ref = floating_state(module)
    if ref is not None and any(
        t.is_floating_point() and (t.dtype, t.device) != (ref.dtype, ref.device) for t in _state(new)
    ):
        new = new.to(device=ref.device, dtype=ref.dtype)
    return new.train(module.training)


class _Builder:
    """Builds the 1D graph node by node from the traced 2D graph and its propagated values."""

    def __init__(
        self,
        module: nn.Module,
        graph: fx.Graph,
        values_2d: dict[str, Any],
        layout: Layout,
        policy: SizePolicy,
        strategy: str | None,
        strict: bool,
        adapter: nn.Module | None,
        lookup: Callable[[str], nn.Module],
    ) -> None:
        self.module, self.traced, self.values_2d = module, graph, values_2d
        self.lookup = lookup  # the 2D submodules by path (`submodules`)
        self.adapter = adapter  # keep_input's LayoutTransform: the graph's input is the image, then this
        self.layout, self.policy, self.strategy, self.strict = layout, policy, strategy, strict
        self.graph = fx.Graph()
        self.root = fx.GraphModule(nn.Module(), fx.Graph(), class_name=f"{type(module).__name__}1D")
        self.env: dict[fx.Node, fx.Node] = {}
        self.values_1d: dict[fx.Node, Any] = {}
        self.values_new: dict[fx.Node, Any] = {}  # the same values, by 1D node
        self.contexts: dict[str, ModuleContext] = {}  # a module's context from its first call
        self.roles: dict[fx.Node, str | None] = {}
        self.flat_from: dict[fx.Node, tuple[Shape, Shape]] = {}
        self.installed: dict[str, nn.Module] = {}
        self.records: list[NodeRecord] = []
        self.made_by: dict[fx.Node, int] = {}  # the index of the record of the call that made a node's value
        self.folded: set[fx.Node] = set()  # nodes whose 1D value is fold's folded input (channels w*C + c)
        self.variable = input_dependent(graph)  # nodes whose value depends on the model's input
        self.problems: list[Problem] = []

    # --------------------------------------------------------------------------------------------

    def build(self, x_1d: torch.Tensor) -> fx.GraphModule | None:
        for node in self.traced.nodes:
            if node.op == "placeholder":  # the one input (`_one_input`)
                new = self.graph.placeholder(node.name)
                if self.adapter is not None:
                    self.root.add_module(INPUT_TRANSFORM, self.adapter)
                    new = self.graph.call_module(INPUT_TRANSFORM, (new,))
                self.made_by[node] = -1
                shape_2d = tensor_shape(self.values_2d.get(node.name))
                if self.layout.folds and shape_2d is not None and x_1d.shape[1] == shape_2d[1] * shape_2d[3]:
                    self.folded.add(node)  # channels=N replaces the folded input by adapted channels
                self._bind(node, new, x_1d, SPATIAL)
            elif node.op == "get_attr":
                self._get_attr(node)
            elif node.op == "output":
                if all(n in self.env for n in node.all_input_nodes):
                    self.graph.output(fx.map_arg(node.args[0], self.env.__getitem__))
            elif all(n in self.env for n in node.all_input_nodes):
                self._call(node)
        if self.problems or not any(n.op == "output" for n in self.graph.nodes):
            return None
        for node in [n for n in self.graph.nodes if n.op == "get_attr" and not n.users]:
            self.graph.erase_node(node)  # a weight a converter mapped (F.conv2d's): the 1D module keeps only the map
            _drop(self.root, str(node.target))
        self.root.graph = self.graph
        return self.root

    def _bind(self, node: fx.Node, new: fx.Node, value: Any, role: str | None) -> None:
        self.env[node], self.values_1d[node], self.values_new[new], self.roles[node] = new, value, value, role

    def _role(self, node: fx.Node, inputs: list[fx.Node]) -> str | None:
        """How the 2D output's dims read: a 4D output keeps its first input's dims, or is ``NCHW``."""
        shape = tensor_shape(self.values_2d.get(node.name))
        if shape is None or len(shape) != 4:
            return None
        first = next((r for r in (self.roles.get(n) for n in inputs) if r and len(r) == 4), None)
        return first or SPATIAL

    def _constant(self, name: str, value: torch.Tensor) -> fx.Node:
        """``value`` kept in the 1D module under a fresh top-level name; the node that reads it."""
        target, n = name, 0
        while hasattr(self.root, target):
            n += 1
            target = f"{name}_{n}"
        if isinstance(value, nn.Parameter):
            self.root.register_parameter(target, value)
        else:
            self.root.register_buffer(target, value)
        node = self.graph.get_attr(target)
        self.values_new[node] = value
        return node

    def _get_attr(self, node: fx.Node) -> None:
        # a tensor the trace stowed (see `trace`), or the attribute
        value = node.meta["constant"] if "constant" in node.meta else attribute(self.module, str(node.target))
        if isinstance(value, nn.Parameter):
            _set_submodule_param(self.root, str(node.target), value)
        elif isinstance(value, torch.Tensor):
            _set_submodule_buffer(self.root, str(node.target), value)
        else:  # a module's training flag (see `trace`): its owner must exist, train()/eval() keep it current
            _owner(self.root, str(node.target).split(".")[:-1])
        self._bind(node, self.graph.get_attr(str(node.target)), value, None)

    # --------------------------------------------------------------------------------------------

    def _call(self, node: fx.Node) -> None:
        inputs = [n for n in node.all_input_nodes]
        inputs_2d = [tensor_shape(self.values_2d.get(n.name)) for n in inputs]
        inputs_1d = [tensor_shape(self.values_1d.get(n)) for n in inputs]
        common: dict[str, Any] = dict(
            path=_path(node),
            layout=self.layout,
            sizes=self.policy,
            strategy=self.strategy,
            inputs_2d=inputs_2d,
            inputs_1d=inputs_1d,
            output_2d=tensor_shape(self.values_2d.get(node.name)),
        )
        role = self._role(node, inputs)
        module_2d: nn.Module | None = None
        module_1d: nn.Module | None = None
        replay = False
        call_2d: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        recipes: dict[int, Any] | None = None
        flat = self.flat_from.get(inputs[0]) if inputs else None
        try:
            if node.op == "call_module":
                module_2d = self.lookup(str(node.target))
                module_ctx = ModuleContext(
                    **common,
                    roles=[self.roles.get(n) for n in inputs],
                    module=module_2d,
                    flattened_from=flat,
                    folded=bool(inputs) and inputs[0] in self.folded,
                    strict=self.strict,
                )
                self._check_fold(module_ctx, module_2d)
                ctx: ModuleContext | CallContext = module_ctx
                module_1d, ctx = self._module(node, module_2d, ctx)  # type: ignore[arg-type]
                new = self.graph.create_node("call_module", str(node.target), *self._mapped(node), name=node.name)
                run: Callable[..., Any] = module_1d
            else:
                if any(n in self.folded for n in inputs):
                    problem = self._fold_problem(_path(node), qualified(node.target))
                    raise ConversionError("Cannot convert the module:", [problem])
                args, kwargs = self._mapped(node)
                info = {self.env[n]: (tensor_shape(self.values_2d.get(n.name)), self.roles.get(n)) for n in inputs}
                constants = {self.env[n]: self.values_2d.get(n.name) for n in inputs if n not in self.variable}
                ctx = CallContext(
                    **common,
                    target=node.target,
                    args=args,
                    kwargs=kwargs,
                    roles=[self.roles.get(n) for n in inputs],
                    info=info,
                    constants=constants,
                    add_constant=self._constant,
                )
                converter = get_converter(node.target)
                assert converter is not None  # _scan refused the graph otherwise
                same = (node.target, args, kwargs)
                target, args, kwargs = converter(ctx)
                if node.op == "call_method" and isinstance(target, str):
                    new = self.graph.create_node("call_method", target, args, kwargs, name=node.name)
                    run = _method(target)
                else:
                    new = self.graph.create_node("call_function", target, args, kwargs, name=node.name)
                    run = target
                # NOTE: a call on maps can be replayed by verify: the 1D node on 1D inputs, the source's function
                # on lifted ones, with the source's own arguments when the converter rewrote them (and the 1D node
                # reads the same inputs, in the same order). A constant it also reads (a per-channel layer scale)
                # comes from each module: the 1D graph's, and the source's by its recipe (`_recipe`).
                recipes = self._constants(inputs)
                replay = recipes is not None
                if replay and (target, args, kwargs) != same:
                    call_2d = _template(node)
                    replay = call_2d is not None and new.all_input_nodes == [self.env[n] for n in inputs]
        except ConversionError as exc:
            self.problems.extend(exc.problems or [Problem(_path(node), str(node.target), str(exc))])
            return
        mapped: Any = fx.map_arg((new.args, new.kwargs), self._value)
        args_1d, kwargs_1d = mapped
        try:
            value = self._run(node, module_1d, run, args_1d, kwargs_1d)
        except Exception as exc:  # torch's own shape errors, reported against the 2D module or call
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.problems.append(
                Problem(
                    ctx.path,
                    ctx.cls,
                    "its 1D counterpart cannot run on the converted input",
                    {"input_shapes": inputs_1d},
                    f"check the layout, sizes and input_length options (torch: {message})",
                )
            )
            return
        out_role = ctx.out_role
        if out_role is None:
            shape = tensor_shape(value) if isinstance(value, torch.Tensor) else None
            out_role = role if shape is not None and len(shape) == 3 else None
        self._bind(node, new, value, out_role)
        self._track_flatten(node, inputs)
        if isinstance(ctx, ModuleContext) and ctx.folded and not has_weights(module_2d):
            self.folded.add(node)  # an activation before the first layer: its output is still folded
        roles = [self.roles.get(n) for n in inputs]
        replay = replay and tensor_shape(value) is not None
        specs = (LayerSpec(), LayerSpec(axes=1))
        if isinstance(ctx, CallContext):
            specs = (call_spec(ctx.target, ctx.args, ctx.kwargs), call_spec(new.target, new.args, new.kwargs, 1))
        plan = self._plan(ctx, module_2d, module_1d, roles, (out_role or role, out_role), value, flat, replay, specs)
        maps = [i for i in range(len(inputs)) if i not in (recipes or {})]
        replayed = replay and _replayable(
            plan, [roles[i] for i in maps], [inputs_2d[i] for i in maps], [inputs_1d[i] for i in maps]
        )
        self.records.append(
            NodeRecord(
                ctx.path,
                qualified(type(module_2d)) if module_2d is not None else ctx.cls,
                module_2d,
                module_1d,
                inputs_2d,
                inputs_1d,
                common["output_2d"],
                tensor_shape(value),
                plan,
                role_in=roles[0] if roles else None,
                role_out=out_role,
                sources=[self.made_by.get(n) for n in inputs],
                node_1d=new.name if replayed else None,
                call_2d=call_2d if replayed else None,
                constants=(recipes or None) if replayed else None,
            )
        )
        self.made_by[node] = len(self.records) - 1

    def _run(self, node: fx.Node, module_1d: nn.Module | None, run: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        """The 1D value of a call: a module runs in eval mode, for its output's shape alone when its input depends
        on the model's (`run_for_shape`).

        NOTE: only the module that runs goes to eval, its flags restored after (statistics untouched); the whole
        root per node was quadratic in the number of modules. A module made for an eval-mode source is in eval
        mode already, all of it (`_like`).
        """
        if module_1d is None:
            return run(*args, **kwargs)
        if module_1d.training:
            with modes_kept(module_1d):
                module_1d.eval()
                return self._run(node, module_1d, run, args, kwargs)
        if node in self.variable:
            return run_for_shape(module_1d, args, kwargs, strides=True)
        return module_1d(*args, **kwargs)

    def _constants(self, inputs: list[fx.Node]) -> dict[int, Any] | None:
        """The recipe (`_recipe`) of each constant input of a call on maps, by input index: ``{}`` for a call on maps
        only; ``None`` when it cannot be replayed: its first input is a constant, or a constant has no recipe or
        differs from one position of the map to another (only a value the same at every position, a per-channel
        scale or a scalar, leaves the lifted identity intact)."""
        if all(n in self.variable for n in inputs):
            return {}
        if inputs[0] not in self.variable:
            return None
        recipes: dict[int, Any] = {}
        for i, n in enumerate(inputs):
            if n in self.variable:
                continue
            shape, recipe = tensor_shape(self.values_2d.get(n.name)), _recipe(n)
            if shape is None or recipe is None or not _same_at_every_position(shape, self.roles.get(inputs[0])):
                return None
            recipes[i] = recipe
        return recipes

    def _plan(
        self,
        ctx: ModuleContext | CallContext,
        module_2d: nn.Module | None,
        module_1d: nn.Module | None,
        roles: list[str | None],
        out_roles: tuple[str | None, str | None],
        value: Any,
        flat: tuple[Shape, Shape] | None,
        replay: bool = False,
        specs: tuple[LayerSpec, LayerSpec] = (LayerSpec(), LayerSpec(axes=1)),
    ) -> LayerPlan:
        """The plan of one call: what it became, and the identity verification may rely on.

        ``out_roles``: how the 2D and the 1D output's dims read; ``replay``: a function call verify can replay;
        ``specs``: a function call's windows before and after (`call_spec`: a pooling's, a pad's).
        """
        inputs_2d = [channels_last(s, r) for s, r in zip(ctx.inputs_2d, roles, strict=True)]
        inputs_1d = [channels_last(s, r) for s, r in zip(ctx.inputs_1d, roles, strict=True)]
        flattened = None
        if flat is not None:
            flattened = (channels_last((0, *flat[0]), SPATIAL), channels_last((0, *flat[1]), SPATIAL))
        weighted = has_weights(module_2d)
        folded = isinstance(ctx, ModuleContext) and ctx.folded
        claim = claim_for(
            self.layout,
            self.strategy,
            spec_of(module_2d) if module_2d is not None else specs[0],
            spec_of(module_1d, 1) if module_1d is not None else specs[1],
            inputs_2d=inputs_2d,
            inputs_1d=inputs_1d,
            # NOTE: an elementwise call (a residual add, a gate's multiply) claims what its geometry gives, as a
            # Keras Add layer does, and so does a call verify can replay, which its converter rewrote by the lifted
            # identity (a mean over both spatial dims, a flatten, a permute); any other call claims nothing
            is_layer=module_2d is not None or replay or (ctx.output_2d is not None and ctx.output_2d in ctx.inputs_2d),
            weighted=weighted,
            flattened=flattened is not None,
            folded=folded,
            sizes=ctx.chosen,
        )
        declared = ctx.declared if isinstance(ctx, ModuleContext) else None
        if declared is not None:  # what the converter said wins: it knows its module
            reason = declared.reason or "; ".join(ctx.notes) or "the converter declared it approximate"
            identity = declared.identity if declared.identity != Identity.NONE else claim.identity
            claim = Claim(identity, declared.exact, reason)
        fresh = None
        if isinstance(ctx, ModuleContext) and weighted and ctx.weights is None:
            said = (n.removeprefix("freshly initialised: ") for n in ctx.notes if n.startswith("freshly initialised"))
            fresh = "weights=None" if self.strategy is None else next(said, "the converter carries no weights")
        names_1d = [ctx.path] if module_1d is not None else []
        return LayerPlan(
            path=ctx.path,
            class_2d=type(module_2d).__name__ if module_2d is not None else ctx.cls,
            names_1d=names_1d,
            classes_1d=[type(module_1d).__name__] if module_1d is not None else [],
            shape_2d=channels_last(ctx.output_2d, out_roles[0]),
            shape_1d=channels_last(tensor_shape(value), out_roles[1]),
            inputs_2d=inputs_2d,
            inputs_1d=inputs_1d,
            sizes=dict(ctx.chosen),
            folded=folded,
            flattened_from=flattened,
            weighted=weighted,
            weights=self.strategy if weighted and fresh is None else None,
            fresh=fresh,
            claim=claim,
            notes=list(ctx.notes),
        )

    def _check_fold(self, ctx: ModuleContext, module: nn.Module) -> None:
        """A folded input is read by a convolution (or by modules without weights before it), nothing else."""
        if ctx.folded and has_weights(module) and not isinstance(module, nn.Conv2d):
            raise ConversionError("Cannot convert the module:", [self._fold_problem(ctx.path, ctx.cls)])

    def _fold_problem(self, path: str, cls: str) -> Problem:
        return Problem(
            path,
            cls,
            "reads fold's folded input (N, W*C, H) first; under fold the first layer with weights must be a Conv2d",
            {"layout": "fold"},
            "use layout='height' (the time axis kept, the frequencies dropped), or put the convolution first.",
        )

    def _module(self, node: fx.Node, module_2d: nn.Module, ctx: ModuleContext) -> tuple[nn.Module, ModuleContext]:
        path = str(node.target)
        if path in self.installed:  # a module called twice stays one module
            return self.installed[path], self.contexts[path]
        converter = get_converter(type(module_2d))
        assert converter is not None
        result = converter(module_2d, ctx)
        module_1d = nn.Sequential(*result) if isinstance(result, (list, tuple)) else result
        module_1d = _like(module_2d, module_1d)
        loaded = False
        if ctx.weights is not None and self.strategy is not None:
            try:
                with torch.no_grad():
                    ctx.weights()
                loaded = True
            except NotImplementedError as exc:
                reason = str(exc).strip().splitlines()[0]
                if self.strict:
                    raise ctx.fail(
                        "its weights cannot be carried over",
                        {"weights": self.strategy},
                        f"pass strict=False to keep fresh weights ({reason})",
                    ) from None
                ctx.note(f"freshly initialised: {reason}")
                ctx.weights = None
        elif has_weights(module_2d):
            ctx.weights = None
            if self.strategy is not None:
                ctx.note("freshly initialised: the converter carries no weights")
        if not loaded:
            for empty in ctx.deferred:  # built without initialisation for a load that did not happen
                empty.reset_parameters()
        _set_submodule(self.root, path, module_1d)
        self.installed[path], self.contexts[path] = module_1d, ctx
        return module_1d, ctx

    def _mapped(self, node: fx.Node) -> tuple[tuple[Any, ...], dict[str, Any]]:
        mapped: Any = fx.map_arg((node.args, node.kwargs), self.env.__getitem__)
        args, kwargs = mapped
        return tuple(args), dict(kwargs)

    def _value(self, new: fx.Node) -> Any:
        return self.values_new[new]

    def _track_flatten(self, node: fx.Node, inputs: list[fx.Node]) -> None:
        """Remember which map a vector was flattened from, so a Linear reading it can be re-indexed."""
        if not inputs:
            return
        x, y = tensor_shape(self.values_2d.get(inputs[0].name)), tensor_shape(self.values_2d.get(node.name))
        if x is None or y is None:
            return
        if len(x) == 4 and len(y) == 2 and y[1] == math.prod(x[1:]) and self.roles.get(inputs[0]) == SPATIAL:
            x_1d = tensor_shape(self.values_1d.get(inputs[0]))
            if x_1d is not None:
                self.flat_from[node] = (x[1:], x_1d[1:])
        elif inputs[0] in self.flat_from and x == y:
            self.flat_from[node] = self.flat_from[inputs[0]]


def _replayable(plan: LayerPlan, roles: list[str | None], inputs_2d: list[Any], inputs_1d: list[Any]) -> bool:
    """Whether verify can replay a call: it claims an identity, and its inputs are all maps ``(N, C, H, W)`` ->
    ``(N, C, L)`` (or channels-last ``(N, H, W, C)`` -> ``(N, L, C)``), or all tensors of one shape in both
    (vectors, gates of a kept shape)."""
    if plan.claim is None or plan.claim.identity == Identity.NONE or None in inputs_2d or None in inputs_1d:
        return False
    if all(r in (SPATIAL, CHANNELS_LAST) for r in roles) and len(set(roles)) == 1:
        return all(len(a) == 4 and len(b) == 3 for a, b in zip(inputs_2d, inputs_1d, strict=True))
    return all(r is None for r in roles) and inputs_2d == inputs_1d and plan.shape_2d == plan.shape_1d


def _recipe(node: fx.Node) -> tuple[Any, ...] | None:
    """How a constant of the traced graph is made from the source module, for `verify` to make it again:
    ``("attr", path)``, ``("value", tensor)`` for a tensor the trace computed (see `trace`), or ``("call", op,
    target, (args, kwargs), [recipes of its inputs])`` with each input a `Slot`; ``None`` when it reads anything
    else (the model's input, a value that is not plain)."""
    if node.op == "get_attr":
        return ("value", node.meta["constant"]) if "constant" in node.meta else ("attr", str(node.target))
    if node.op not in ("call_function", "call_method"):
        return None
    template = _template(node)
    inputs = [_recipe(n) for n in node.all_input_nodes]
    if template is None or None in inputs:
        return None
    return ("call", node.op, qualified(node.target) if node.op == "call_function" else node.target, template, inputs)


def _same_at_every_position(shape: Shape, role: str | None) -> bool:
    """Whether a tensor of ``shape``, broadcast against a map whose dims read as ``role``, holds one value for all
    its positions: ``(C, 1, 1)`` against ``(N, C, H, W)``, ``(C,)`` against ``(N, H, W, C)``; any against a
    vector ``(N, C)``, which has no positions."""
    if role is None:
        return True
    if len(shape) > 4:
        return False
    if role == CHANNELS_LAST:
        return all(d == 1 for d in shape[:-1])
    return all(d == 1 for d in shape[-2:]) if len(shape) >= 2 else math.prod(shape) == 1


def _method(name: str) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return getattr(self, name)(*args, **kwargs)

    return call


def _set_submodule_param(root: nn.Module, path: str, value: nn.Parameter) -> None:
    *parents, name = path.split(".")
    owner = _owner(root, parents)
    owner.register_parameter(name, nn.Parameter(value.detach().clone(), requires_grad=value.requires_grad))


def _set_submodule_buffer(root: nn.Module, path: str, value: torch.Tensor) -> None:
    *parents, name = path.split(".")
    _owner(root, parents).register_buffer(name, value.detach().clone())


def _owner(root: nn.Module, parents: list[str]) -> nn.Module:
    owner = root
    for part in parents:
        if not hasattr(owner, part):
            owner.add_module(part, nn.Module())
        owner = getattr(owner, part)
    return owner


def as_root(module: nn.Module) -> nn.Module:
    """The module the graph is traced from: a module whose class has a converter is the one child of a
    Sequential (fx traces into the root's forward even when its class is a leaf), so its path is ``"0"``."""
    return nn.Sequential(module) if get_converter(type(module)) is not None else module


def collector_paused(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` run with Python's cyclic garbage collector off, and the objects it left young collected once at its
    end (when the collector was on; a caller that turned it off keeps it off).

    NOTE: a conversion makes tens of thousands of short-lived objects (fx nodes and proxies, contexts, plans). The
    collector scanned them again and again, and moved those alive at the time to the oldest generation, whose full
    collections (the whole heap of torch, timm and torchvision: 400 k objects, about 0.35 s each on the two-core
    machine) then came every 20-60 conversions: 8.5 ms of ResNet-18's 82 ms. The one young collection at the end
    frees the conversion's cyclic garbage (the traced 2D graph) at once, so memory does not pile up either.
    """

    @functools.wraps(fn)
    def paused(*args: Any, **kwargs: Any) -> Any:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()
                gc.collect(0)

    return paused


@collector_paused
def orchestrate(
    module: nn.Module,
    *,
    example_input: Any,
    layout: str | Layout = "flatten",
    sizes: SizePolicy | None = None,
    weights: str | None = "auto",
    input_length: int | None = None,
    channels: int | None = None,
    strict: bool = False,
    keep_input: bool = False,
) -> Conversion:
    """`convert`, returning the whole `Conversion` (records for `verify` and reports)."""
    if not isinstance(module, nn.Module):
        raise ConversionError(f"conv1dify.torch.convert() takes a torch.nn.Module. Received: {type(module).__name__}")
    layout = get_layout(layout)
    policy = check_policy(sizes, layout)
    strategy = resolve_strategy(weights, layout, policy)
    x_2d = _example(module, example_input)
    module = as_root(module)
    graph = trace(module)
    _one_input(graph)
    lookup = submodules(module)
    problems = _scan(lookup, graph)
    if problems:
        raise ConversionError(
            f"Cannot convert module '{type(module).__name__}': {len(problems)} module class(es) or call(s) "
            "have no 1D converter.",
            problems,
        )
    values_2d = propagate_shapes(module, graph, x_2d, lookup)
    shape_1d = input_shape_1d(layout, tuple(x_2d.shape), input_length, channels)
    adapter = None
    if keep_input:
        if input_length is not None or channels is not None:
            raise ConversionError(
                "keep_input=True keeps the 2D input shape, so it cannot also change the input length or "
                f"channels. Received: input_length={input_length}, channels={channels}. Fix: drop one of them."
            )
        _, c, h, w = x_2d.shape
        adapter = _like(module, LayoutTransform(layout, (int(c), int(h), int(w))))
        with torch.no_grad():
            x_1d = adapter(torch.randn_like(x_2d))
    else:
        x_1d = torch.randn(shape_1d, dtype=x_2d.dtype, device=x_2d.device)
    builder = _Builder(module, graph, values_2d, layout, policy, strategy, strict, adapter, lookup)
    with torch.no_grad():  # the shape pass and the weight loads
        new = builder.build(x_1d)
    if builder.problems or new is None:
        raise ConversionError(
            f"Cannot convert module '{type(module).__name__}': {len(builder.problems)} module(s) or call(s) failed.",
            builder.problems,
        )
    new.train(module.training)
    new.meta["conv1dify"] = dict(  # the options, and the plans `verify` reads instead of planning again
        layout=layout,
        sizes=policy,
        weights=strategy,
        input_length=input_length,
        channels=channels,
        keep_input=keep_input,
        example_input=tuple(x_2d.shape[1:]),
        records=[
            dict(
                plan=r.plan.to_dict(),
                role_in=r.role_in,
                role_out=r.role_out,
                node_1d=r.node_1d,
                call_2d=r.call_2d,
                constants=r.constants,
            )
            for r in builder.records
        ],
    )
    if any(m.training != module.training for m in module.modules()):  # the source's own mix of modes
        for record in builder.records:
            if record.module_1d is not None and record.module_2d is not None:
                record.module_1d.train(record.module_2d.training)
    return Conversion(new, module, layout, policy, strategy, builder.records, tuple(x_2d.shape), shape_1d, keep_input)


def convert(
    module: nn.Module,
    *,
    example_input: Any,
    layout: str | Layout = "flatten",
    sizes: SizePolicy | None = None,
    weights: str | None = "auto",
    input_length: int | None = None,
    channels: int | None = None,
    strict: bool = False,
    keep_input: bool = False,
) -> fx.GraphModule:
    """Convert a 2D torch module (timm, torchvision, your own) into a new 1D module. The source is never changed.

    The module is traced with ``torch.fx`` (every class with a converter is a leaf, so train/eval branches stay
    live), each module and call is rewritten by its registered converter with the same layouts, size
    policies and weight strategies as the Keras frontend, and the result is an ``fx.GraphModule`` whose
    submodules keep their source's qualified names, dtype and train/eval mode (BatchNorm2d becomes
    BatchNorm1d with its running statistics, momentum and eps).

    Args:
        module: A 2D module on ``(N, C, H, W)`` inputs.
        example_input: A tensor ``(N, C, H, W)`` or a shape ``(C, H, W)``: traced shapes come from it.
        layout: ``"flatten"`` ``(N, C, H*W)`` row-major, ``"height"`` ``(N, C, H)`` or ``"width"`` ``(N, C, W)``.
        sizes: ``"area"``, ``"first"``, ``"kept"`` or a callable ``(module, key, value) -> int | None``
            (see `conv1dify.convert`); ``None``: ``area`` for flatten, ``kept`` for axis layouts.
        weights: ``"sum"``, ``"center"``, ``"mean"``, ``"flatten"``, ``"auto"`` or ``None`` (fresh).
        input_length: Sequence length of the 1D input (the layout's by default).
        channels: Channel count of the 1D input (the first conv is adapted, see `adapt_channels`).
        strict: Raise instead of keeping a fresh initialisation when weights cannot be mapped.
        keep_input: Keep the 2D input ``(N, C, H, W)``: the 1D module starts with the layout's data transform
            (`conv1dify.torch.modules.LayoutTransform`, named ``conv1dify_input``), so it reads the images or
            spectrograms the source read.

    Returns:
        A ``torch.fx.GraphModule`` on ``(N, C', L)`` inputs (``(N, C, H, W)`` with ``keep_input=True``).

    Raises:
        ConversionError: listing every module and call that cannot be converted, with its path, class and a fix.

    >>> import torch
    >>> from torch import nn
    >>> import conv1dify.torch
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    >>> net_1d = conv1dify.torch.convert(net, example_input=(3, 32, 32), layout="width")
    >>> net_1d(torch.randn(2, 3, 32)).shape
    torch.Size([2, 8, 1])
    """
    return orchestrate(
        module,
        example_input=example_input,
        layout=layout,
        sizes=sizes,
        weights=weights,
        input_length=input_length,
        channels=channels,
        strict=strict,
        keep_input=keep_input,
    ).module
