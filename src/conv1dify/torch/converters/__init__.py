"""The built-in torch converters, one module per family; importing this package registers them all."""

import contextlib

from . import activation, conv, functional, normalization, pooling  # noqa: F401

# the zoo layers register only where their library is installed
with contextlib.suppress(ImportError):
    from . import timm_layers  # noqa: F401
with contextlib.suppress(ImportError):
    from . import timm_efficientvit, timm_nfnet, timm_vgg  # noqa: F401
with contextlib.suppress(ImportError):
    from . import torchvision_layers  # noqa: F401
