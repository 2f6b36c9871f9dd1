"""Helpers of the torch frontend's tests."""

from __future__ import annotations

import torch


def randomise_norms(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Random BatchNorm statistics, gammas and betas (timm zero-inits the last gamma of each block), and random
    gains of standardised convolutions and skip-init blocks (NFNet zero-inits the last conv's gain of a block)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.running_mean is not None:
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=generator) - 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=generator) + 0.5)
            if isinstance(m, (torch.nn.modules.batchnorm._BatchNorm, torch.nn.GroupNorm, torch.nn.LayerNorm)):
                if getattr(m, "weight", None) is not None:
                    m.weight.copy_(torch.rand(m.weight.shape, generator=generator) + 0.5)
                if getattr(m, "bias", None) is not None:
                    m.bias.copy_(torch.rand(m.bias.shape, generator=generator) - 0.5)
            for name in ("gain", "skipinit_gain"):
                gain = getattr(m, name, None)
                if isinstance(gain, torch.nn.Parameter):
                    gain.copy_(torch.rand(gain.shape, generator=generator) + 0.5)
    return module
