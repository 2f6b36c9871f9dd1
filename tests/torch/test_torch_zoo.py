"""The zoos: the smallest variant of timm's CNN families and torchvision's classification models convert under
``width`` and ``flatten``, run in eval and train mode, and verify module by module (exact under ``width``).

Models are built with random weights (never downloaded), their BatchNorm statistics and gammas randomised first:
timm zero-initialises the last gamma of each block, which would make a weak check look perfect. CI
(``make test-pytorch``) runs every family; ``make test-pytorch-fast`` only those above the ``slow`` line.
"""

from __future__ import annotations

import pytest
import timm
import torch
import torchvision

import conv1dify.torch as ct
from conv1dify import ConversionError

from .torch_helpers import randomise_norms

# (source, name, input size): the smallest variant of each family; sizes above 32 where the net needs them
CI = [
    ("timm", "resnet10t", 32),
    ("timm", "efficientnet_b0", 32),
    ("timm", "mobilenetv3_small_050", 32),
    ("timm", "convnext_atto", 32),
    ("timm", "lcnet_035", 32),
    ("timm", "ecaresnet26t", 32),
    ("torchvision", "resnet18", 32),
    ("torchvision", "mobilenet_v3_small", 32),
    ("torchvision", "shufflenet_v2_x0_5", 32),
    ("torchvision", "squeezenet1_0", 48),
    ("torchvision", "densenet121", 32),
    ("torchvision", "convnext_tiny", 32),
]
SLOW = [
    ("timm", "resnetv2_18", 32),
    ("timm", "resnext26ts", 32),
    ("timm", "seresnet18", 32),
    ("timm", "regnetx_002", 32),
    ("timm", "mobilenetv2_035", 32),
    ("timm", "mobilenetv4_conv_small_035", 32),
    ("timm", "densenet121", 32),
    ("timm", "inception_v3", 96),
    ("timm", "legacy_xception", 64),
    ("timm", "cs3darknet_s", 32),
    ("timm", "dla46_c", 32),
    ("timm", "dpn48b", 32),
    ("timm", "ghostnet_050", 32),
    ("timm", "rexnet_100", 32),
    ("timm", "res2net50_14w_8s", 32),
    ("timm", "resnest14d", 32),
    ("timm", "hrnet_w18_small", 64),
    ("timm", "nf_resnet26", 32),
    ("timm", "mixnet_s", 32),
    ("timm", "tinynet_e", 32),
    ("timm", "fbnetc_100", 32),
    ("timm", "repvgg_a0", 32),
    ("timm", "vgg11", 32),
    ("timm", "efficientvit_b0", 64),  # 26 s for both layouts; LiteMLA's own tests run in CI (test_torch_timm_blocks)
    ("timm", "tf_efficientnet_b0", 32),
    ("torchvision", "alexnet", 64),
    ("torchvision", "vgg11", 32),
    ("torchvision", "googlenet", 32),
    ("torchvision", "inception_v3", 96),
    ("torchvision", "mnasnet0_5", 32),
    ("torchvision", "mobilenet_v2", 32),
    ("torchvision", "efficientnet_b0", 32),
    ("torchvision", "regnet_x_400mf", 32),
    ("torchvision", "resnext50_32x4d", 32),
    ("torchvision", "wide_resnet50_2", 32),
]
# (name, layout) -> what the refusal names: a conversion that has no 1D form is refused, all at once, with a fix
REFUSED = {
    ("timm", "hrnet_w18_small", "flatten"): r"\(Upsample\): upsamples rows and columns.*Fix: use layout=",
}
# module classes claimed approximate under `width` (their numbers follow no identity a lifted input can check):
# LiteMLA attends over every position, the rows its padded aggregation changed included
APPROXIMATE_UNDER_WIDTH = {("timm", "efficientvit_b0"): {"LiteMLA"}}

CASES = [pytest.param(*case, id=f"{case[0]}:{case[1]}") for case in CI] + [
    pytest.param(*case, id=f"{case[0]}:{case[1]}", marks=pytest.mark.slow) for case in SLOW
]


def build(source: str, name: str) -> torch.nn.Module:
    """A zoo model with random weights; GoogLeNet and Inception without their train-only auxiliary heads."""
    torch.manual_seed(0)
    if source == "timm":
        return timm.create_model(name, pretrained=False, num_classes=10)
    kwargs: dict = {"weights": None, "num_classes": 10}
    if name in ("googlenet", "inception_v3"):
        kwargs.update(aux_logits=False, init_weights=False)
    return torchvision.models.get_model(name, **kwargs)


@pytest.mark.parametrize("layout", ["width", "flatten"])
@pytest.mark.parametrize(("source", "name", "size"), CASES)
def test_zoo_model_converts_runs_and_verifies(source, name, size, layout):
    model = randomise_norms(build(source, name)).eval()
    if (source, name, layout) in REFUSED:
        with pytest.raises(ConversionError, match=REFUSED[source, name, layout]):
            ct.orchestrate(model, example_input=(3, size, size), layout=layout)
        return
    conversion = ct.orchestrate(model, example_input=(3, size, size), layout=layout)
    module_1d = conversion.module
    x = torch.randn(2, *conversion.input_1d[1:])
    with torch.no_grad():
        out = module_1d(x)
    assert out.shape == (2, 10) and bool(torch.isfinite(out).all())

    result = ct.verify(model, conversion)
    assert result.counts["mismatch"] == 0, result.mismatches
    if layout == "width":
        # every module follows the `sum` identity along the kept axis: all checked exact, none approximate
        allowed = APPROXIMATE_UNDER_WIDTH.get((source, name), set())
        assert result.ok and all(c.status == "exact" or c.class_2d in allowed for c in result.checks), [
            (c.path, c.status, c.detail) for c in result.checks if c.status != "exact"
        ]
    else:
        # 1x1 convs, norms and activations are exact under flatten where the 1D map is a reshape of the 2D one
        # (a `valid` stem under `area` shortens the sequence more than the map: SqueezeNet checks nothing exact)
        assert result.verdict in ("verified", "unverified")

    # last, as it updates the running statistics: BatchNorm1d on batch statistics, dropout and drop-path live
    module_1d.train()
    assert module_1d(x).shape == (2, 10)
