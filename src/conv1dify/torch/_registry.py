"""The torch registry: a 2D module class, a function or a tensor method maps to the converter that rewrites it."""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.plan import Claim, Declares, Identity
from ._core import ConversionError, Layout, Problem, SizePolicy, resolve_size

if TYPE_CHECKING:
    import torch
    from torch import nn

#: Key of a converter: a module class, a function (``torch.flatten``, ``operator.add``) or a method name (``"mean"``).
Target = type | Callable[..., Any] | str
Converter = Callable[..., Any]

_CONVERTERS: dict[Any, Converter] = {}


def register_converter(*targets: Target, override: bool = False) -> Callable[[Converter], Converter]:
    """Register a function that converts a 2D module class, a function, or a tensor method (by name).

    A module converter is called as ``fn(module, ctx)`` with a `ModuleContext` and returns the 1D module (or
    a list of modules run in sequence). A function or method converter is called as ``fn(ctx)`` with a
    `CallContext` and returns ``(target, args, kwargs)`` for the 1D graph. Registering a target twice warns
    unless ``override=True``.

    >>> from torch import nn
    >>> from conv1dify.torch import register_converter
    >>> class Twice(nn.Module):
    ...     def forward(self, x):
    ...         return 2 * x
    >>> @register_converter(Twice)
    ... def twice(module, ctx):
    ...     return Twice()
    """
    if not targets:
        raise TypeError("register_converter() needs at least one module class, function or method name.")

    def decorator(fn: Converter) -> Converter:
        for target in targets:
            if not (isinstance(target, (type, str)) or callable(target)):
                raise TypeError(f"register_converter() takes classes, functions or method names. Received: {target!r}")
            if target in _CONVERTERS and not override and _CONVERTERS[target] is not fn:
                warnings.warn(
                    f"A converter for {qualified(target)} is already registered ({_CONVERTERS[target].__name__}); "
                    f"{fn.__name__} replaces it. Pass override=True to silence this warning.",
                    stacklevel=2,
                )
            _CONVERTERS[target] = fn
        return fn

    return decorator


def get_converter(target: Any) -> Converter | None:
    """The converter registered for exactly ``target``, or ``None``."""
    try:
        return _CONVERTERS.get(target)
    except TypeError:  # an unhashable target
        return None


def registered() -> list[str]:
    """Every registered module class, function and method, by qualified name, sorted."""
    return sorted(qualified(t) for t in _CONVERTERS)


def qualified(target: Any) -> str:
    """``torch.nn.Conv2d``, ``torch.flatten``, ``Tensor.mean``: how messages and listings name a target."""
    if isinstance(target, str):
        return f"Tensor.{target}"
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or getattr(target, "__name__", None) or repr(target)
    if "<locals>" in name:  # a function made by a factory (F.max_pool2d is boolean_dispatch's fn): its public name
        namespace = getattr(sys.modules.get(module), "__dict__", {})
        name = next((key for key, value in namespace.items() if value is target), name)
    if name.startswith("_VariableFunctionsClass."):  # torch.roll, torch.conv2d, ...: C functions of `torch`
        module, name = "torch", name.split(".", 1)[1]
    if module in ("torch.nn.modules.conv", "torch.nn.modules.batchnorm") or module.startswith("torch.nn.modules"):
        module = "torch.nn"
    elif module == "torch._C._nn" or module.startswith("torch.nn.functional"):
        module = "torch.nn.functional"
    elif module.startswith("torch._C") or module == "torch.functional":
        module = "torch"
    elif module == "_operator":
        module = "operator"
    return f"{module}.{name}" if module else name


Shape = tuple[int, ...]


@dataclass
class _Context:
    """What every converter knows: where it is, the conversion's options, and the shapes around it.

    ``roles`` says, for each input node, how its dims read (``"NCHW"`` for a 2D feature map, ``"NHWC"`` after a
    permute to channels-last, ``"shape:NCHW"`` for its shape, ``None`` for anything else); a converter that
    changes how dims read sets ``out_role``.
    """

    path: str
    layout: Layout
    sizes: SizePolicy
    strategy: str | None
    inputs_2d: list[Shape | None]
    inputs_1d: list[Shape | None]
    output_2d: Shape | None
    notes: list[str] = field(default_factory=list)
    chosen: dict[str, int] = field(default_factory=dict)
    roles: list[str | None] = field(default_factory=list)
    out_role: str | None = None

    @property
    def is_spatial(self) -> bool:
        """Whether the first input is a 2D feature map ``(N, C, H, W)``."""
        return bool(self.inputs_2d) and self.inputs_2d[0] is not None and len(self.inputs_2d[0]) == 4

    def note(self, text: str) -> None:
        """Record something the user should know about this conversion (reports show it beside the module)."""
        self.notes.append(text)

    def error(self, cls: str, what: str, received: dict[str, Any] | None = None, fix: str = "") -> ConversionError:
        """A `ConversionError` naming this module or call; ``raise ctx.error(...)``."""
        return ConversionError("Cannot convert the module:", [Problem(self.path, cls, what, received or {}, fix)])

    def dropped_letter(self) -> str:
        """The letter of a map's dims that the 1D map does not have (``W`` is merged into ``H`` under flatten)."""
        return "W" if self.layout.kept_axis in (None, 0) else "H"

    def dim_1d(self, role: str, dim: int) -> int | None:
        """The 1D position of dim ``dim`` of a map whose dims read ``role`` (``"NCHW"``, ``"NHWC"``, ...).

        N and C stay, the kept axis stays, the dropped axis has none (``None``); under ``flatten``, ``H`` is the
        one sequence dim and ``W`` has none. Dims are mapped by position, so repeated letters are fine.
        """
        dim %= len(role)
        drop = self.dropped_letter()
        if role[dim] == drop:
            return None
        return dim - role[:dim].count(drop)

    def permutation_1d(self, role: str, dims: list[int]) -> list[int]:
        """The 1D form of ``permute(*dims)`` of a map whose dims read ``role``."""
        out = [self.dim_1d(role, d) for d in dims]
        return [d for d in out if d is not None]


_UNINITIALISED: dict[type, type] = {}


def _uninitialised(cls: type[nn.Module]) -> type[nn.Module]:
    """``cls`` with a ``reset_parameters()`` that does nothing (one subclass per class, made once)."""
    if cls not in _UNINITIALISED:
        _UNINITIALISED[cls] = type(cls.__name__, (cls,), {"reset_parameters": lambda self: None})
    return _UNINITIALISED[cls]


@dataclass
class ModuleContext(Declares, _Context):
    """What a module converter knows about the 2D module it converts.

    Attributes:
        module: The 2D module.
        weights: Set by the converter: a function that loads the 2D weights into the 1D module once built
            (``None``: the 1D module keeps its own initialisation, which conv1dify reports as fresh).
        flattened_from: For a module reading a flattened map: the ``((C, H, W), (C', L))`` map shapes.
        folded: The module reads ``fold``'s folded input ``(N, W*C, H)``, channels ``w*C + c``.
        strict: The conversion's ``strict`` (a block converted with `converters._common.convert_nested` passes
            it on).
        declared: The claim the converter made about its module's numbers (`approximate`, `claim`, from
            `conv1dify.core.plan.Declares`); ``None``
            lets conv1dify derive it from the modules' geometry and the weight strategy
            (`conv1dify.core.identities.claim_for`), as for a Keras layer.
        deferred: Modules made by `build_empty`, initialised only if their weights are not loaded.
    """

    module: Any = None
    flattened_from: tuple[Shape, Shape] | None = None
    weights: Callable[[], None] | None = None
    declared: Claim | None = None
    folded: bool = False
    strict: bool = False
    deferred: list[Any] = field(default_factory=list)

    @property
    def cls(self) -> str:
        return type(self.module).__name__

    def build_empty(self, cls: type[nn.Module], *args: Any, **kwargs: Any) -> Any:
        """``cls(*args, **kwargs)`` without its random initialisation, for a module whose parameters the
        converter's `weights` loader writes, every one of them.

        When the weights are not loaded (``weights=None``, or the mapping raised `NotImplementedError`), the
        orchestrator calls the module's ``reset_parameters()``, so it ends initialised as torch would have made
        it. Initialising a kernel only to overwrite it was a fifth of a conversion's time.
        """
        if not callable(getattr(cls, "reset_parameters", None)):
            raise TypeError(f"build_empty() needs a module class with reset_parameters(). Received: {cls.__name__}")
        # NOTE: built as a subclass whose reset_parameters() does nothing, then given its own class back: the
        # parameters are torch.empty's. Half the cost of a plain build for a small module, a third of the meta
        # device (torch.nn.utils.skip_init's way) for any module.
        module = _uninitialised(cls)(*args, **kwargs)
        module.__class__ = cls
        self.deferred.append(module)
        return module

    @property
    def exact(self) -> bool:
        """``False`` once the converter declared its module approximate (``ctx.exact = False`` says so too)."""
        return self.declared is None or self.declared.exact

    @exact.setter
    def exact(self, value: bool) -> None:
        if not value:
            # NOTE: the reason is read from the notes when the plan is made, so a note written after this line
            # (the usual order in older converters) still explains it.
            self.declared = Claim(Identity.NONE, False)
        elif self.declared is not None and not self.declared.exact:
            self.declared = None

    def size(self, key: str, value: Any) -> int:
        """The 1D value for a per-axis ``(h, w)`` module attribute under the size policy (``key``: Keras' name)."""
        config = {"kernel_size": getattr(self.module, "kernel_size", 1)}
        chosen = resolve_size(self.sizes, self.layout, self.module, key, value, config)
        self.chosen[key] = chosen
        return chosen

    def fail(self, what: str, received: dict[str, Any] | None = None, fix: str = "") -> ConversionError:
        return self.error(self.cls, what, received, fix)


@dataclass
class CallContext(_Context):
    """What a function or method converter knows: the call's target, its 1D arguments, and the input shapes.

    Attributes:
        target: The function, or the method name.
        args, kwargs: The call's arguments, graph nodes already replaced by their 1D nodes.
        info: For each 1D argument node, the 2D shape and role of the value it stands for (see `about`).
        constants: For each 1D argument node whose value does not depend on the model's input (a fixed filter
            made from a buffer, a parameter), that value in the 2D module, so a converter can map it once.
        add_constant: Puts a tensor into the 1D module and returns the graph node that reads it (see `constant`).
    """

    target: Any = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    info: dict[Any, tuple[Shape | None, str | None]] = field(default_factory=dict)
    constants: dict[Any, Any] = field(default_factory=dict)
    add_constant: Callable[[str, Any], Any] | None = None

    def constant(self, name: str, value: torch.Tensor) -> Any:
        """A graph node reading ``value``, kept in the 1D module as a parameter if ``value`` is one, else a buffer."""
        assert self.add_constant is not None, "the orchestrator sets add_constant"
        return self.add_constant(name, value)

    def about(self, arg: Any) -> tuple[Shape | None, str | None]:
        """The 2D shape and the role of an argument (a 1D graph node), ``(None, None)`` for a constant."""
        try:
            return self.info.get(arg, (None, None))
        except TypeError:
            return None, None

    @property
    def cls(self) -> str:
        return qualified(self.target)

    def fail(self, what: str, received: dict[str, Any] | None = None, fix: str = "") -> ConversionError:
        return self.error(self.cls, what, received, fix)

    def same(self) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
        """The call as it is (elementwise ops, channel ops, ops on vectors)."""
        return self.target, self.args, self.kwargs


def module_class(module: nn.Module) -> str:
    cls = type(module)
    return f"{cls.__module__}.{cls.__qualname__}"


def tensor_shape(value: torch.Tensor | Any) -> Shape | None:
    shape = getattr(value, "shape", None)
    return tuple(int(d) for d in shape) if shape is not None else None


def attribute(root: Any, path: str) -> Any:
    """The attribute at the dotted ``path`` of ``root`` (``"stages.0.gamma"``): what an fx ``get_attr`` reads."""
    return functools.reduce(getattr, path.split("."), root)


def has_weights(module: nn.Module | None) -> bool:
    """Whether the module or a submodule holds a parameter."""
    return module is not None and next(state_tensors(module), None) is not None


def state_tensors(module: nn.Module, table: str = "_parameters") -> Iterator[torch.Tensor]:
    """The tensors in ``module``'s and its submodules' ``_parameters`` (or ``_buffers``) table, the module's first.

    NOTE: ``parameters()`` goes through ``named_modules()`` and a memo of seen tensors, 5-30 us a module; a
    conversion asks this of each module a few times (a sixth of ResNet-18's build). A tensor shared by two modules
    comes twice here, which no caller minds.
    """
    yield from (t for t in getattr(module, table).values() if t is not None)
    for child in module._modules.values():
        if child is not None:
            yield from state_tensors(child, table)
