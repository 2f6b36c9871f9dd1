"""timm blocks, each checked against the 2D block itself on a lifted input: the ones that reach conv1dify whole (timm
marks them not traceable: NFNet's NormFreeBlock, VGG's ConvMlp, EfficientViT's LiteMLA) and the ones fx traces
through (BlurPool2d, ResNeSt's SplitAttn, MixNet's MixedConv2d)."""

from __future__ import annotations

import pytest
import timm
import torch
from timm.layers import BlurPool2d, MixedConv2d, ScaledStdConv2d, SEModule, SplitAttn
from timm.models.efficientvit_mit import LiteMLA
from timm.models.nfnet import NormFreeBlock
from timm.models.vgg import ConvMlp
from torch import nn

import conv1dify.torch as ct
from conv1dify import ConversionError

from .torch_helpers import randomise_norms


def lifted(x: torch.Tensor, rows: int) -> torch.Tensor:
    """``(N, C, L)`` repeated along a new height: the image the ``sum`` identity of ``width`` reads."""
    return x.unsqueeze(2).repeat_interleave(rows, dim=2)


def assert_middle_row(block: nn.Module, module_1d: nn.Module, x: torch.Tensor, rows: int, tol: float) -> None:
    """The 1D module on ``x`` is the middle row of the 2D block on ``x`` lifted to ``rows`` rows."""
    with torch.no_grad():
        image = block(lifted(x, rows))
        torch.testing.assert_close(module_1d(x), image[:, :, image.shape[2] // 2], rtol=tol, atol=tol)


def norm_free_block(stride: int, attn: type | None = None) -> nn.Module:
    torch.manual_seed(0)
    block = NormFreeBlock(
        8, 16, stride=stride, alpha=0.2, beta=0.7, attn_layer=attn, act_layer=nn.ReLU,
        conv_layer=ScaledStdConv2d, skipinit=True,
    )  # fmt: skip
    return randomise_norms(block).eval()  # NOTE: the last conv's gain and the skip-init gain start at zero


@pytest.mark.parametrize("stride", [1, 2])
def test_norm_free_block_under_width_is_the_middle_row_of_the_2d_block(stride):
    block = norm_free_block(stride).double()  # float64: the identity to rounding, not to float32's 1e-5
    conversion = ct.orchestrate(block, example_input=(8, 12, 12), layout="width")
    assert_middle_row(block, conversion.module, torch.randn(3, 8, 12, dtype=torch.float64), 15, 1e-10)
    result = ct.verify(block, conversion, atol=1e-10, rtol=1e-10)
    # the block as one module, then each module and call inside it under the block's path
    block_check, *inner = result.checks
    assert block_check.path == "0" and block_check.class_2d == "NormFreeBlock"
    assert {"0.conv1", "0.conv2", "0.conv3", "0:add"} <= {c.path for c in inner}
    assert result.ok and result.counts["exact"] == len(result.checks)


def test_a_mismatch_inside_a_block_converted_whole_names_the_module_inside():
    block = norm_free_block(1)
    conversion = ct.orchestrate(block, example_input=(8, 12, 12), layout="width")
    with torch.no_grad():
        conversion.module.get_submodule("0.conv2").weight.add_(0.5)  # an edit inside the 1D block
    check, *inner = ct.verify(block, conversion).checks
    assert check.status == "mismatch" and check.detail.startswith("inside the block: 0.conv2 (ScaledStdConv2d, max abs")
    assert [c.path for c in inner if c.status == "mismatch"] == ["0.conv2"]  # its own row says so too


def test_norm_free_block_with_a_gate_over_padded_rows_is_claimed_approximate():
    # the squeeze-excite gate averages every row of a lifted map, including the rows the 3x3 conv's padding
    # changed: the 2D block on a lifted input is no stack of 1D blocks
    block = norm_free_block(1, SEModule).double()
    conversion = ct.orchestrate(block, example_input=(8, 12, 12), layout="width")
    # float64 and tight tolerances: the gate's error (about 1e-5) is no rounding, and a claim would be a mismatch
    check = ct.verify(block, conversion, atol=1e-10, rtol=1e-10).checks[0]
    assert check.status == "approximate" and check.max_abs is not None and check.max_abs > 1e-7


def test_norm_free_block_under_flatten_is_claimed_approximate_and_runs_in_train_mode():
    block = norm_free_block(2)
    conversion = ct.orchestrate(block, example_input=(8, 8, 8), layout="flatten")
    result = ct.verify(block, conversion)
    assert result.checks[0].path == "0" and result.checks[0].status == "approximate"
    module = conversion.module.train()
    assert module(torch.randn(2, 8, 64)).shape == (2, 16, 16)


@pytest.mark.parametrize(("width", "pooled"), [(1, True), (10, False)])
def test_conv_mlp_pools_a_short_sequence_up_to_its_kernel_like_the_2d_block(width, pooled):
    torch.manual_seed(0)
    mlp = ConvMlp(8, 16, kernel_size=7, drop_rate=0.5).eval()
    conversion = ct.orchestrate(mlp, example_input=(8, 1, width), layout="width")
    x = torch.randn(2, 8, width)
    with torch.no_grad():
        got = conversion.module(x)
        image = mlp(lifted(x, 9))  # 9 rows: the 7x7 kernel's middle output row reads real rows only
    assert got.shape == (2, 16, max(width, 7) - 6)
    torch.testing.assert_close(got, image[:, :, image.shape[2] // 2], rtol=1e-4, atol=1e-5)
    assert ct.verify(mlp, conversion).ok


def test_conv_mlp_under_flatten_pools_a_one_pixel_map_to_the_kernel_area():
    torch.manual_seed(0)
    mlp = ConvMlp(8, 16, kernel_size=7).eval()
    conversion = ct.orchestrate(mlp, example_input=(8, 1, 1), layout="flatten")
    x = torch.randn(2, 8, 1)
    with torch.no_grad():  # a 1x1 map is pooled to a constant 7x7 map in 2D, to 49 equal steps in 1D
        torch.testing.assert_close(conversion.module(x), mlp(x.unsqueeze(3)).flatten(2), rtol=1e-4, atol=1e-5)


def lite_mla() -> nn.Module:
    torch.manual_seed(0)
    return randomise_norms(LiteMLA(16, 16, dim=8, scales=(3, 5))).eval()


def test_lite_mla_attends_over_the_1d_positions_like_the_2d_block_over_a_one_row_map():
    # `center` keeps each kernel's middle row, which is all a one-row map meets in 2D: the attention over the
    # W positions of that row is the 1D attention, so the two agree exactly
    module = lite_mla()
    conversion = ct.orchestrate(module, example_input=(16, 6, 10), layout="width", weights="center")
    x = torch.randn(2, 16, 10)
    with torch.no_grad():
        torch.testing.assert_close(conversion.module(x), module(x.unsqueeze(2))[:, :, 0], rtol=1e-4, atol=1e-5)


def test_lite_mla_is_claimed_approximate_where_padded_rows_enter_the_global_attention():
    module = lite_mla()
    conversion = ct.orchestrate(module, example_input=(16, 6, 10), layout="width")
    assert [c.status for c in ct.verify(module, conversion).checks] == ["approximate"]


def test_an_unconvertible_module_inside_a_block_is_named_under_the_block(restore_torch_registry):
    class Roll(nn.Module):
        def forward(self, x):
            return torch.roll(x, (1, 1), dims=(2, 3))

    block = norm_free_block(1)
    block.attn = Roll()  # a module the frontend cannot convert (a roll over both axes), inside the block
    model = nn.Sequential(nn.Conv2d(8, 8, 1), block)
    with pytest.raises(ConversionError, match=r"layer '1\.attn:roll' \(torch\.roll\)"):
        ct.orchestrate(model, example_input=(8, 8, 8), layout="width")


# Blocks fx traces through, converted piece by piece -------------------------------------------------------------


@pytest.mark.parametrize(
    ("filt_size", "stride", "pad_mode"), [(3, 2, "reflect"), (4, 2, "constant"), (5, 1, "reflect")]
)
@pytest.mark.parametrize("weights", ["sum", None])
def test_blur_pool_is_the_middle_row_of_the_2d_blur(filt_size, stride, pad_mode, weights):
    # BlurPool2d convolves with F.conv2d and a buffer: the fixed filter is mapped once (under weights=None too: it
    # is no learned weight to start afresh) and read by F.conv1d
    blur = BlurPool2d(8, filt_size=filt_size, stride=stride, pad_mode=pad_mode).double().eval()
    conversion = ct.orchestrate(blur, example_input=(8, 16, 16), layout="width", weights=weights)
    assert_middle_row(blur, conversion.module, torch.randn(3, 8, 16, dtype=torch.float64), 21, 1e-12)
    assert not any(name == "filt" for name, _ in conversion.module.named_buffers())  # only the mapped filter


def test_a_fixed_filter_read_again_after_its_mapped_conv_stays_in_the_1d_module():
    # the mapped F.conv2d no longer reads `filt`, the scale after it still does (one get_attr node for both: fx
    # reads a parameter once per trace), so the 1D module keeps it; only an attribute nothing reads is dropped
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.filt = nn.Parameter(torch.rand(4, 1, 3, 3, dtype=torch.float64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.conv2d(x, self.filt, padding=(0, 1), groups=4) * self.filt.mean()

    net = Scaled()
    conversion = ct.orchestrate(net, example_input=(4, 9, 12), layout="width")
    assert "filt" in dict(conversion.module.named_parameters())
    assert_middle_row(net, conversion.module, torch.randn(2, 4, 12, dtype=torch.float64), 9, 1e-12)


def test_a_conv2d_call_with_a_weight_made_from_the_input_is_refused():
    class Dynamic(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.nn.functional.conv2d(x, torch.sigmoid(x))  # a weight (2, 2, 8, 8) for a batch of 2

    with pytest.raises(ConversionError, match=r"convolves with a weight computed from the input.*Fix: register"):
        ct.convert(nn.Sequential(nn.Conv2d(2, 2, 1), Dynamic()), example_input=(2, 8, 8), layout="width")


def test_resnetblur_converts_and_verifies_exact():
    model = randomise_norms(timm.create_model("resnetblur18", pretrained=False)).eval()
    conversion = ct.orchestrate(model, example_input=(3, 64, 64), layout="width")
    result = ct.verify(model, conversion)
    assert result.ok and result.counts["mismatch"] == 0 and result.counts["exact"] >= 70


def test_split_attention_modules_are_exact_and_the_block_is_not_claimed_whole():
    # ResNeSt's SplitAttn gates with a global mean over rows a 3x3 conv padded: each module is exact on its own,
    # the block as a whole is no stack of rows, and the whole-model check must not claim it is
    torch.manual_seed(0)
    attn = randomise_norms(SplitAttn(8, 16, kernel_size=3, radix=2, norm_layer=nn.BatchNorm2d)).double().eval()
    conversion = ct.orchestrate(attn, example_input=(8, 16, 16), layout="width")
    result = ct.verify(attn, conversion, atol=1e-10, rtol=1e-10, whole_model=True)
    *modules, whole = result.checks
    assert modules and {c.status for c in modules} == {"exact"}
    assert result.ok and whole.path.endswith("(whole model)") and whole.status == "approximate"
    x = torch.randn(3, 8, 16, dtype=torch.float64)
    with torch.no_grad():
        image = attn(lifted(x, 21))
        assert (conversion.module(x) - image[:, :, image.shape[2] // 2]).abs().max() > 1e-6  # why it is not claimed


@pytest.mark.parametrize(("kernels", "depthwise", "stride"), [([3, 5, 7], False, 1), ([3, 5], True, 2)])
def test_mixed_conv_splits_and_convolves_like_the_2d_block(kernels, depthwise, stride):
    torch.manual_seed(0)
    mixed = MixedConv2d(12, 12, kernel_size=kernels, depthwise=depthwise, stride=stride).double().eval()
    conversion = ct.orchestrate(mixed, example_input=(12, 16, 16), layout="width")
    assert_middle_row(mixed, conversion.module, torch.randn(3, 12, 16, dtype=torch.float64), 21, 1e-12)
    result = ct.verify(mixed, conversion, atol=1e-10, rtol=1e-10)
    # each conv on its own, and the concatenation of their outputs (torch.cat, replayed on the lifted maps)
    assert result.ok and result.counts["exact"] == len(kernels) + 1
    assert [c.class_2d for c in result.checks][-1] == "torch.cat"
