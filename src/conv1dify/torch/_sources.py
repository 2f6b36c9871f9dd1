"""2D torch modules by name: ``timm:resnet18``, ``torchvision:resnet18``, or a user's ``path/to/file.py:factory``.

Zoo models are built with ``pretrained=False`` (nothing is downloaded) under a fixed seed, so one name gives the
same weights in every run: ``conv1dify verify timm:resnet18 resnet18_1d.pt2`` rebuilds the model the file was
converted from. Trained weights come from a state dict (``weights_2d=``: ``.safetensors``, or ``.pt``/``.pth``
read with ``torch.load(weights_only=True)``), never from pickled code.
"""

from __future__ import annotations

import difflib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._errors import ConversionError

ZOOS = ("timm", "torchvision")
#: ``file.py:factory``: a Python file and the name of a function (or class) in it that returns the module
_FILE_SOURCE = re.compile(r"^(?P<file>.+\.py):(?P<name>[A-Za-z_]\w*)$")
SEED = 0
#: models whose train-only auxiliary heads the converter refuses (train and eval graphs differ)
_NO_AUX = ("googlenet", "inception_v3")


def is_torch_source(source: str) -> bool:
    """Whether ``source`` names a torch module (``timm:``/``torchvision:`` or ``file.py:factory``), not a Keras one.

    >>> is_torch_source("timm:resnet18"), is_torch_source("my_net.py:build"), is_torch_source("VGG16")
    (True, True, False)
    """
    return source.split(":", 1)[0] in ZOOS or bool(_FILE_SOURCE.match(source))


def build_source(source: str, *, unsafe: bool = False, weights_2d: str | None = None, seed: int = SEED) -> nn.Module:
    """The 2D module ``source`` names, in eval mode, built with random weights under ``seed`` (never downloaded).

    Args:
        source: ``timm:NAME`` (any ``timm.list_models()`` name), ``torchvision:NAME`` (a classification model
            of ``torchvision.models.list_models``) or ``path/to/file.py:factory``, a function or class in that
            file called without arguments that returns the ``nn.Module``.
        unsafe: Required for ``file.py:factory``, which runs the file's code.
        weights_2d: A state dict to load into the module: ``.safetensors``, or ``.pt``/``.pth`` of tensors only.
        seed: The seed the random weights are drawn with (the global random state is left as it was).

    >>> build_source("torchvision:resnet18").fc.out_features
    1000
    """
    zoo, _, name = source.partition(":")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        if zoo == "timm":
            module = _timm(name, source)
        elif zoo == "torchvision":
            module = _torchvision(name, source)
        else:
            module = _from_file(source, unsafe)
    if weights_2d is not None:
        load_weights(module, weights_2d, source)
    return module.eval()


def _zoo(zoo: str, source: str) -> Any:
    """``import timm`` or ``import torchvision``, refused in one line where it is missing or does not load."""
    try:
        return importlib.import_module(zoo)
    except Exception as exc:  # ImportError, or a torchvision built for another torch ("torchvision::nms")
        reason = (str(exc).strip().splitlines() or [""])[0]
        raise ConversionError(
            f"{source!r} needs {zoo}, which does not import here ({type(exc).__name__}: {reason}). "
            "Fix: pip install 'conv1dify[torch]' (torch, torchvision and timm that fit each other)."
        ) from None


def _timm(name: str, source: str) -> nn.Module:
    timm = _zoo("timm", source)

    known = timm.list_models()
    arch, dot, _ = name.partition(".")  # a pretrained tag (resnet18.a1_in1k) names the same architecture
    if arch not in known:
        raise ConversionError(f"Unknown timm model. Received: {source!r}.{_did_you_mean(name, known, 'timm')}")
    if dot and name not in (tags := timm.list_pretrained(f"{arch}.*")):
        raise ConversionError(
            f"Unknown pretrained tag of timm's {arch}. Received: {source!r}.{_did_you_mean(name, tags, 'timm')}"
        )
    return timm.create_model(name, pretrained=False)


def _torchvision(name: str, source: str) -> nn.Module:
    torchvision = _zoo("torchvision", source)

    known = torchvision.models.list_models(module=torchvision.models)  # classification models only
    if name not in known:
        raise ConversionError(
            f"Unknown torchvision classification model. Received: {source!r}."
            f"{_did_you_mean(name, known, 'torchvision')}"
        )
    kwargs: dict[str, Any] = {"weights": None}
    if name in _NO_AUX:
        # NOTE: the auxiliary heads run in train mode only, so the traced train and eval graphs would differ
        kwargs.update(aux_logits=False, init_weights=True)
    return torchvision.models.get_model(name, **kwargs)


def _did_you_mean(name: str, known: list[str], zoo: str) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(f'{zoo}:{c}' for c in close)}?" if close else ""
    return f"{hint} Fix: pick a name from {zoo}'s list ({_listing(zoo)})."


def _listing(zoo: str) -> str:
    if zoo == "timm":
        return "python -c 'import timm; print(timm.list_models())'"
    return "python -c 'import torchvision; print(torchvision.models.list_models(module=torchvision.models))'"


def _from_file(source: str, unsafe: bool) -> nn.Module:
    match = _FILE_SOURCE.match(source)
    if match is None:
        raise ConversionError(
            f"Expected a torch source as timm:NAME, torchvision:NAME or path/to/file.py:factory. Received: {source!r}."
        )
    path, name = Path(match["file"]), match["name"]
    if not path.is_file():
        raise ConversionError(f"Python file not found. Received: {source!r}. Fix: check the path before the ':'.")
    if not unsafe:
        raise ConversionError(
            f"Building {source!r} runs the code in {str(path)!r}. Received: no --unsafe. Fix: pass --unsafe "
            "(unsafe=True) if you trust that file."
        )
    spec = importlib.util.spec_from_file_location(f"conv1dify_source_{path.stem}", path)
    assert spec is not None and spec.loader is not None  # a .py path always has a loader
    code = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.resolve().parent))  # its own imports of modules beside it
    try:
        spec.loader.exec_module(code)
    except Exception as exc:
        raise ConversionError(
            f"Running {str(path)!r} failed: {type(exc).__name__}: {exc}. Fix: check that `python {path}` runs."
        ) from None
    finally:
        sys.path.remove(str(path.resolve().parent))
    factory = getattr(code, name, None)
    if not callable(factory):
        names = [n for n in vars(code) if not n.startswith("_") and callable(getattr(code, n))]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" Did you mean {path}:{close[0]}?" if close else ""
        raise ConversionError(
            f"{str(path)!r} defines no function or class {name!r}. Received: {source!r}.{hint} "
            f"Fix: name one of {', '.join(names) or 'its functions'} after the ':'."
        )
    try:
        module = factory()
    except Exception as exc:
        raise ConversionError(
            f"{source} raised {type(exc).__name__}: {exc}. Fix: the factory is called without arguments; give "
            "its arguments defaults."
        ) from None
    if not isinstance(module, nn.Module):
        raise ConversionError(
            f"{source} must return a torch.nn.Module. Received: {type(module).__name__}. Fix: return the model."
        )
    return module


def load_weights(module: nn.Module, path_text: str, source: str) -> None:
    """Load a state dict file into ``module``: ``.safetensors``, or ``.pt``/``.pth`` read with ``weights_only=True``."""
    path = Path(path_text)
    if path_text == "imagenet":
        raise ConversionError(
            "conv1dify never downloads weights. Received: --weights-2d imagenet. Fix: save the pretrained state "
            "dict to a file (timm.create_model(name, pretrained=True).state_dict()) and pass that file."
        )
    if not path.is_file():
        raise ConversionError(f"Weights file not found. Received: --weights-2d {path_text!r}. Fix: check the path.")
    state: Any
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ConversionError(
            f"Cannot read {path_text!r} as a state dict ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
            "Fix: pass a .safetensors file, or a .pt/.pth file of tensors only (torch.save(model.state_dict(), f))."
        ) from None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):  # a training checkpoint
        state = state["state_dict"]
    try:
        module.load_state_dict(state)
    except Exception as exc:
        first = str(exc).splitlines()
        raise ConversionError(
            f"{path_text!r} does not fit {source}: {' '.join(line.strip() for line in first[:3])[:400]}. "
            "Fix: pass the state dict of this architecture (same name, same number of classes)."
        ) from None
