"""One core `LayerPlan` per torch call: made while converting, read by verify, with the Keras frontend's rules.

The identities come from `conv1dify.core.identities` through `conv1dify.torch._geometry.spec_of`; these tests
pin what the torch side adds: explicit paddings, plans carried by the converted module (verify never plans
again), converters that declare their claim, and the lifted checks against each 2D module itself.
"""

from __future__ import annotations

import operator

import pytest
import torch
from torch import nn

import conv1dify.torch as ct
from conv1dify import ConversionError
from conv1dify.core.plan import Identity, LayerPlan, Status
from conv1dify.torch import _convert, _verify

from .torch_helpers import randomise_norms


def net_with_explicit_paddings() -> nn.Module:
    return randomise_norms(
        nn.Sequential(
            nn.Conv2d(3, 8, (3, 5), stride=(2, 1), padding=(2, 1)),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, stride=2, padding=3, dilation=2),
            nn.MaxPool2d(3, stride=2, padding=1),
            nn.Flatten(),
            nn.Dropout(0.5),
            nn.Linear(8 * 4 * 6, 4),
        )
    ).eval()


@pytest.mark.parametrize("weights", ["sum", "center"])
@pytest.mark.parametrize("layout", ["width", "height"])
def test_explicit_paddings_verify_exact_under_both_identities(layout, weights):
    net = net_with_explicit_paddings()
    conversion = ct.orchestrate(net, example_input=(3, 21, 21), layout=layout, weights=weights)
    result = ct.verify(net, conversion)
    assert result.counts["mismatch"] == 0, result.mismatches
    statuses = {c.path: c.status for c in result.checks}
    assert statuses["0"] == statuses["3"] == Status.EXACT  # the padded convolutions
    if weights == "center":
        assert statuses["4"] == Status.EXACT  # a max pool follows `repeat` whatever the weights
    # the Linear reads a flattened map: exact under sum (rows add up); under center nothing is claimed
    linear = next(c for c in result.checks if c.path == "7")
    if weights == "sum":
        assert linear.status == Status.EXACT and linear.identity == "repeat"
    else:
        assert linear.identity == "none (repeat)" and linear.status != Status.MISMATCH


def test_each_call_has_a_core_plan_in_channels_last_shapes():
    net = net_with_explicit_paddings()
    conversion = ct.orchestrate(net, example_input=(3, 21, 21), layout="width", weights="sum")
    plans = {r.path: r.plan for r in conversion.records}
    conv = plans["0"]
    assert isinstance(conv, LayerPlan)
    assert conv.inputs_2d == [(21, 21, 3)] and conv.inputs_1d == [(21, 3)]
    assert conv.shape_2d == (12, 19, 8) and conv.shape_1d == (19, 8)
    assert conv.claim is not None and conv.claim.identity == Identity.REPEAT and conv.claim.exact
    assert conv.weights == "sum" and conv.fresh is None
    linear = plans["7"]
    assert linear.flattened_from == ((4, 6, 8), (6, 8))


def test_verify_reads_the_plans_the_module_carries_and_never_converts_again(monkeypatch):
    net = net_with_explicit_paddings()
    net_1d = ct.convert(net, example_input=(3, 21, 21), layout="height", weights="center")

    def refuse(*args, **kwargs):
        raise AssertionError("verify planned the conversion again")

    monkeypatch.setattr(_verify, "orchestrate", refuse)
    result = ct.verify(net, net_1d)
    assert result.verdict == "verified" and result.weights == "center"


def test_options_that_differ_from_the_plans_are_refused():
    net = net_with_explicit_paddings()
    net_1d = ct.convert(net, example_input=(3, 21, 21), layout="width")
    with pytest.raises(ConversionError, match=r"differ from the ones module_1d was converted with.*layout"):
        ct.verify(net, net_1d, layout="height")
    assert ct.verify(net, net_1d, layout="width").ok  # the same options are fine


def test_an_edited_1d_module_is_a_mismatch():
    net = net_with_explicit_paddings()
    net_1d = ct.convert(net, example_input=(3, 21, 21), layout="width")
    with torch.no_grad():
        net_1d.get_submodule("3").weight[0, 0, 0] += 0.5
    result = ct.verify(net, net_1d)
    assert [c.path for c in result.mismatches] == ["3"]


class Residual(nn.Module):
    """A conv, a gate and a residual add: calls kept as they were, which verify replays one by one."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.gate = nn.Conv2d(4, 4, 3, padding=1), nn.Conv2d(4, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        y = y * torch.sigmoid(self.gate(y.mean((2, 3), keepdim=True)))
        return torch.relu(x + y)


@pytest.mark.parametrize("layout", ["width", "flatten"])
def test_calls_kept_as_they_were_are_checked_one_by_one_against_the_source_function(layout):
    net = Residual().eval()
    conversion = ct.orchestrate(net, example_input=(4, 12, 12), layout=layout)
    result = ct.verify(net, conversion)
    calls = {c.class_2d: c.status for c in result.checks if c.path in ("sigmoid", "mul", "add", "relu")}
    assert calls == {"torch.sigmoid": "exact", "operator.mul": "exact", "operator.add": "exact", "torch.relu": "exact"}
    # an edit to a call in the 1D graph: the 2D side runs the source's function, by the name its plan keeps
    (add,) = [n for n in conversion.module.graph.nodes if n.target is operator.add]
    add.target = operator.sub
    conversion.module.recompile()
    assert [c.class_2d for c in ct.verify(net, conversion).mismatches] == ["operator.add"]


class Rewritten(nn.Module):
    """Calls that a converter rewrites by the lifted identity: a mean over both spatial dims, a permute to
    channels last and back, a pooling with a window and a pad, a flatten of a map."""

    def __init__(self) -> None:
        super().__init__()
        self.conv, self.norm = nn.Conv2d(4, 6, 3, padding=1), nn.LayerNorm(6)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)
        y = y * y.mean((2, 3), keepdim=True).sigmoid()
        y = self.norm(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        y = nn.functional.max_pool2d(nn.functional.pad(y, (1, 1, 1, 1)), 3, stride=2, padding=1)
        return torch.flatten(y, 1)


REWRITTEN = (
    "Tensor.mean", "Tensor.permute", "torch.nn.functional.pad", "torch.nn.functional.max_pool2d", "torch.flatten",
)  # fmt: skip


@pytest.mark.parametrize("layout", ["width", "height"])
def test_calls_a_converter_rewrote_are_checked_with_the_source_arguments(layout):
    torch.manual_seed(0)
    net = Rewritten().double().eval()
    conversion = ct.orchestrate(net, example_input=(4, 12, 12), layout=layout)
    records = {r.target: r for r in conversion.records if r.target in REWRITTEN}
    assert set(records) == set(REWRITTEN) and all(r.node_1d for r in records.values())
    # torch.flatten(y, 1) is the same call in 1D: replayed with its 1D node's arguments
    assert [name for name, r in records.items() if r.call_2d is None] == ["torch.flatten"]
    assert records["Tensor.mean"].call_2d == ((_convert.Slot(0), (2, 3)), {"keepdim": True})  # the 2D dims
    result = ct.verify(net, conversion, atol=1e-10, rtol=1e-10)
    checked = {c.class_2d: c.status for c in result.checks}
    assert all(checked[name] == "exact" for name in REWRITTEN), checked
    assert result.ok and set(checked.values()) == {"exact"}
    # an edited rewritten call is a mismatch: the 2D side runs the source's function with the source's arguments
    (pool,) = [n for n in conversion.module.graph.nodes if n.target is nn.functional.max_pool1d]
    pool.args = (pool.args[0], 1, 2, 0)  # a 1-wide window: every other position, not the maximum of three
    conversion.module.recompile()
    assert [c.class_2d for c in ct.verify(net, conversion).mismatches] == ["torch.nn.functional.max_pool2d"]


class Scaled(nn.Module):
    """A conv, then ConvNeXt's layer scale ``x.mul(gamma.reshape(1, -1, 1, 1))``, a per-channel shift, and a mask
    that differs from one position to the next along the kept axis (``mask``: its shape)."""

    def __init__(self, mask: tuple[int, ...]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 6, 3, padding=1)
        self.gamma = nn.Parameter(torch.rand(6) + 0.5)
        self.beta = nn.Parameter(torch.randn(6))
        self.mask = nn.Parameter(torch.rand(mask))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x).mul(self.gamma.reshape(1, -1, 1, 1)) + self.beta.view(1, -1, 1, 1)
        return y, y * self.mask


@pytest.mark.parametrize("layout", ["width", "height"])
def test_calls_reading_a_per_channel_constant_are_checked_with_each_side_s_constant(layout):
    torch.manual_seed(0)
    net = Scaled((1, 1, 1, 10) if layout == "width" else (1, 1, 10, 1)).double().eval()
    conversion = ct.orchestrate(net, example_input=(4, 10, 10), layout=layout)
    records = {r.target: r for r in conversion.records if r.module_2d is None}
    scale, shift, mask = records["Tensor.mul"], records["operator.add"], records["operator.mul"]
    assert scale.node_1d and shift.node_1d and scale.constants and shift.constants
    # the source's constant is made again from the source module: the parameter, then the call on it
    assert scale.constants[1][:2] == ("call", "call_method") and scale.constants[1][4] == [("attr", "gamma")]
    assert mask.node_1d is None  # a constant that differs along the map: the lifted identity does not hold
    result = ct.verify(net, conversion, atol=1e-10, rtol=1e-10)
    checked = {c.class_2d: c.status for c in result.checks}
    assert checked["Tensor.mul"] == checked["operator.add"] == "exact", checked
    # a layer scale edited in the 1D module is a mismatch at the call that reads it, not only in the whole model
    with torch.no_grad():
        conversion.module.gamma.mul_(1.5)
    assert "Tensor.mul" in [c.class_2d for c in ct.verify(net, conversion).mismatches]


class Padded(nn.Module):
    """Valid convolutions around a functional pad: only the pad reaches the dropped axis' borders."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(nn.functional.pad(self.a(x), (1, 1, 1, 1)))


def test_a_functional_pad_of_the_dropped_axis_is_seen_by_the_whole_model_claim():
    net = Padded().eval()
    whole = ct.verify(net, ct.convert(net, example_input=(3, 16, 16), layout="width"), whole_model=True).checks[-1]
    # `sum` composes repeats only where no layer pads the dropped axis: the pad's amounts are read from its call
    assert whole.identity == "none (repeat)"  # compared for information, not claimed
    plain = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3)).eval()
    check = ct.verify(plain, ct.convert(plain, example_input=(3, 16, 16), layout="width"), whole_model=True).checks[-1]
    assert check.identity == "repeat" and check.status == "exact"


class Blur(nn.Module):
    """A 3x3 box blur per channel: a module with a window and no converter of its own."""

    def forward(self, x):
        return nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


def test_a_converter_declares_its_module_approximate(restore_torch_registry):
    @ct.register_converter(Blur)
    def blur(module, ctx):
        ctx.approximate("blurs the kept axis only; the dropped axis' blur is lost")
        return nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False)

    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), Blur())
    conversion = ct.orchestrate(net, example_input=(3, 12, 12), layout="width")
    plan = conversion.records[1].plan
    assert plan.claim is not None and not plan.claim.exact
    assert plan.claim.reason == "blurs the kept axis only; the dropped axis' blur is lost"
    assert plan.expected == Status.APPROXIMATE
    check = ct.verify(net, conversion).checks[1]
    # compared for information through the identity the geometry gives, never counted as a mismatch
    assert check.status in (Status.EXACT, Status.APPROXIMATE) and check.identity == "none (repeat)"


def test_the_older_exact_flag_still_declares_and_takes_the_reason_from_the_notes(restore_torch_registry):
    @ct.register_converter(Blur, override=True)
    def blur(module, ctx):
        ctx.exact = False
        ctx.note("an older converter's note")
        return nn.AvgPool1d(3, stride=1, padding=1, count_include_pad=False)

    net = nn.Sequential(Blur())
    plan = ct.orchestrate(net, example_input=(3, 12, 12), layout="width").records[0].plan
    assert plan.claim is not None and not plan.claim.exact and plan.claim.reason == "an older converter's note"


def test_a_block_kept_whole_is_read_from_its_windows():
    """A leaf block's children set its spec: under flatten a block with a 3x3 window claims no identity."""
    from conv1dify.torch._geometry import spec_of

    block = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, padding=1))
    spec = spec_of(block)
    assert spec.has_extent and spec.kernel_span(0) == 5 and spec.padding == "same"
    assert not spec_of(nn.Sequential(nn.Conv2d(4, 4, 1), nn.ReLU())).has_extent


@pytest.mark.parametrize("order", ["snake", "hilbert", "column"])
def test_pixel_orders_under_flatten_match_the_2d_module_on_reordered_images(order):
    """1x1 convolutions, BatchNorm and a Linear after Flatten: the 1D network on the image read in ``order``
    is the 2D network on the image, end to end (the reference: the 2D module and numpy's reordering)."""
    from conv1dify.core.layout import Layout, order_indices

    net = randomise_norms(
        nn.Sequential(nn.Conv2d(3, 6, 1), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 6 * 5, 3))
    ).eval()
    net_1d = ct.convert(net, example_input=(3, 6, 5), layout=Layout("flatten", order)).eval()
    images = torch.randn(4, 3, 6, 5)
    sequence = images.flatten(2)[:, :, torch.tensor(order_indices(order, 6, 5))]
    with torch.no_grad():
        torch.testing.assert_close(net_1d(sequence), net(images), atol=1e-5, rtol=1e-5)
    result = ct.verify(net, net_1d)
    assert result.verdict == "verified" and result.layout == f"flatten/{order}"


def folded(images: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` spectrograms as fold's ``(N, W*C, H)``: channels ``w*C + c``, as the core lays them out."""
    n, c, h, w = images.shape
    return images.permute(0, 3, 1, 2).reshape(n, w * c, h)


def spectrogram_net(first_width: int, first_padding: tuple[int, int]) -> nn.Module:
    return randomise_norms(
        nn.Sequential(
            nn.ReLU(),  # a module without weights before the first layer keeps the input folded
            nn.Conv2d(2, 8, (3, first_width), padding=first_padding),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(8, 3),
        )
    ).eval()


def test_fold_reads_every_frequency_with_a_first_kernel_that_spans_them():
    """A first kernel over all 12 frequencies (valid along them): the 1D network on the folded spectrogram is
    the 2D network on the spectrogram, end to end (``center``: later 3x3 kernels meet a one-column map)."""
    net = spectrogram_net(12, (1, 0))
    net_1d = ct.convert(net, example_input=(2, 20, 12), layout="fold", weights="center").eval()
    images = torch.randn(4, 2, 20, 12)
    with torch.no_grad():
        torch.testing.assert_close(net_1d(folded(images)), net(images), atol=1e-5, rtol=1e-5)
    result = ct.verify(net, net_1d)
    assert result.verdict == "verified", result.mismatches
    first = next(c for c in result.checks if c.path == "1")
    assert first.identity == "unfold" and first.status == Status.EXACT


def test_fold_spreads_a_narrow_first_kernel_and_says_so():
    net = spectrogram_net(3, (1, 1))
    conversion = ct.orchestrate(net, example_input=(2, 20, 12), layout="fold")
    plan = next(r.plan for r in conversion.records if r.path == "1")
    assert plan.folded and plan.claim is not None and not plan.claim.exact and "spread evenly" in plan.claim.reason
    assert ct.verify(net, conversion).counts["mismatch"] == 0


def test_fold_refuses_a_first_layer_with_weights_that_is_no_convolution():
    net = nn.Sequential(nn.BatchNorm2d(2), nn.Conv2d(2, 4, 3)).eval()
    with pytest.raises(ConversionError, match=r"(?s)'0'.*BatchNorm2d.*first layer with weights must be a Conv2d"):
        ct.convert(net, example_input=(2, 20, 12), layout="fold")


def stack(padding: int) -> nn.Module:
    return randomise_norms(
        nn.Sequential(
            nn.Conv2d(3, 6, 3, padding=padding),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.MaxPool2d((2, 1)) if padding else nn.Conv2d(6, 6, 3, stride=2),  # pools the kept axis only
            nn.Conv2d(6, 4, 3, padding=padding),
        )
    ).eval()


def test_whole_model_center_on_one_row_of_a_padded_network():
    net = stack(padding=1)
    net_1d = ct.convert(net, example_input=(3, 16, 16), layout="height", weights="center")
    whole = ct.verify(net, net_1d, whole_model=True).checks[-1]
    assert whole.path == "Sequential (whole model)" and (whole.identity, whole.status) == ("one-row", "exact")


def test_whole_model_sum_holds_without_padding_and_catches_an_edit():
    net = stack(padding=0)
    net_1d = ct.convert(net, example_input=(3, 20, 20), layout="width", weights="sum")
    result = ct.verify(net, net_1d, whole_model=True)
    assert (result.checks[-1].identity, result.checks[-1].status) == ("repeat", "exact") and result.ok
    with torch.no_grad():
        net_1d.get_submodule("4").bias[0] += 0.1
    whole = ct.verify(net, net_1d, whole_model=True).checks[-1]
    assert whole.status == Status.MISMATCH


def test_whole_model_sum_with_padding_claims_no_identity():
    net = stack(padding=1)
    net_1d = ct.convert(net, example_input=(3, 16, 16), layout="width", weights="sum")
    whole = ct.verify(net, net_1d, whole_model=True).checks[-1]
    assert whole.identity == "none (repeat)" and whole.status != Status.MISMATCH
