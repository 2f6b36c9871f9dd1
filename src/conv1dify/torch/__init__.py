"""The PyTorch frontend: 2D torch modules (timm, torchvision, your own) become 1D modules, verified.

Importing ``conv1dify`` never imports torch; ``import conv1dify.torch`` does.

>>> import torch
>>> from torch import nn
>>> import conv1dify.torch
>>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
>>> net_1d = conv1dify.torch.convert(net, example_input=(3, 16, 16), layout="width")
>>> conv1dify.torch.verify(net, net_1d, layout="width", example_input=(3, 16, 16)).ok
True
"""

from __future__ import annotations

from ._convert import Conversion, NodeRecord, convert, orchestrate
from ._inspect import inspect, inspection_of
from ._registry import CallContext, ModuleContext, register_converter, registered
from ._save import conversion_record, load, save
from ._verify import verify

__all__ = [
    "CallContext",
    "Conversion",
    "ModuleContext",
    "NodeRecord",
    "conversion_record",
    "convert",
    "inspect",
    "inspection_of",
    "load",
    "orchestrate",
    "register_converter",
    "registered",
    "save",
    "verify",
]
