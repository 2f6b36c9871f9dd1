"""conv1dify.torch.convert on small modules: identities against the 2D module on lifted inputs, modes, errors."""

from __future__ import annotations

import copy
import gc

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import fx, nn

import conv1dify.torch as ct
from conv1dify import ConversionError
from conv1dify.core.layout import Layout
from conv1dify.torch._trace import run_for_shape

from .torch_helpers import randomise_norms

torch.manual_seed(0)


def lift(x: torch.Tensor, layout: str, size: int) -> torch.Tensor:
    """A 1D input ``(N, C, L)`` repeated along the axis the layout drops: the image the ``sum`` identity reads."""
    dim = 2 if layout == "width" else 3
    return x.unsqueeze(dim).repeat_interleave(size, dim=dim)


def middle(y: torch.Tensor, layout: str) -> torch.Tensor:
    dim = 2 if layout == "width" else 3
    return y.select(dim, y.shape[dim] // 2)


CONVS = [
    # (kernel, stride, padding, dilation, groups)
    ((3, 3), 1, 1, 1, 1),
    ((3, 5), 2, (1, 2), 1, 1),
    ((5, 3), 1, 0, 1, 1),
    ((3, 3), 1, 2, 2, 1),
    ((3, 3), 2, 1, 1, 4),  # depthwise-like
    ((1, 7), 1, (0, 3), 1, 1),
    ((7, 1), 1, (3, 0), 1, 1),
]


@pytest.mark.parametrize("layout", ["width", "height"])
@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation", "groups"), CONVS)
def test_conv_sum_identity(layout, kernel, stride, padding, dilation, groups):
    conv = nn.Conv2d(4, 8, kernel, stride=stride, padding=padding, dilation=dilation, groups=groups)
    conv_1d = ct.convert(conv, example_input=(4, 20, 20), layout=layout, weights="sum")
    x = torch.randn(2, 4, 20)
    with torch.no_grad():
        want = middle(conv(lift(x, layout, 41)), layout)
        got = conv_1d(x)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(("kernel", "padding"), [((3, 3), 1), ((5, 5), 2), ((3, 3), 0)])
def test_conv_center_one_row_identity(kernel, padding):
    conv = nn.Conv2d(3, 5, kernel, padding=padding)
    conv_1d = ct.convert(conv, example_input=(3, 16, 16), layout="width", weights="center")
    x = torch.randn(2, 3, 16)
    rows = 1 if padding else kernel[0]
    image = torch.zeros(2, 3, rows, 16)
    image[:, :, (rows - 1) // 2] = x  # the signal on the one row the centre tap meets
    with torch.no_grad():
        want = conv(image)[:, :, 0]
        got = conv_1d(x)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_flatten_layout_keeps_one_by_one_convs_exact():
    net = randomise_norms(nn.Sequential(nn.Conv2d(3, 6, 1), nn.BatchNorm2d(6), nn.ReLU(), nn.Conv2d(6, 4, 1))).eval()
    net_1d = ct.convert(net, example_input=(3, 6, 5), layout="flatten").eval()
    image = torch.randn(2, 3, 6, 5)
    with torch.no_grad():
        torch.testing.assert_close(net_1d(image.flatten(2)), net(image).flatten(2), atol=1e-5, rtol=1e-5)


def test_flatten_weights_lay_out_every_tap():
    conv = nn.Conv2d(2, 3, (3, 3), padding=1)
    conv_1d = ct.convert(conv, example_input=(2, 8, 8), layout="flatten", weights="flatten")
    inner = conv_1d.get_submodule("0")  # a bare module is converted as the one child of a Sequential
    assert inner.kernel_size == (9,) and inner.padding == (4,)
    # the 9 taps, row-major, are the 2D kernel's, as they are (no identity: a row-major window is no 2D window)
    torch.testing.assert_close(inner.weight, conv.weight.reshape(3, 2, 9))


def test_batchnorm_stays_batchnorm_with_its_state_in_train_and_eval():
    bn = randomise_norms(nn.BatchNorm2d(4, eps=1e-3, momentum=0.3))
    net_1d = ct.convert(nn.Sequential(bn), example_input=(4, 8, 8), layout="width")
    bn_1d = net_1d.get_submodule("0")
    assert isinstance(bn_1d, nn.BatchNorm1d)
    assert (bn_1d.eps, bn_1d.momentum, bn_1d.training) == (1e-3, 0.3, True)
    torch.testing.assert_close(bn_1d.running_mean, bn.running_mean)
    reference, var_before = copy.deepcopy(bn), bn.running_var.clone()
    x = torch.randn(3, 4, 8)
    # train mode: the batch statistics of the lifted input are the 1D input's, so the outputs agree ...
    got, want = net_1d(x), middle(reference(lift(x, "width", 5)), "width")
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(bn_1d.running_mean, reference.running_mean)
    # ... and the running variance takes the 1D batch's unbiased variance (n = 3 * 8 values per channel)
    expected_var = 0.7 * var_before + 0.3 * x.permute(1, 0, 2).reshape(4, -1).var(dim=1, unbiased=True)
    torch.testing.assert_close(bn_1d.running_var, expected_var, atol=1e-5, rtol=1e-5)
    # eval mode: the running statistics as converted (the source's), exactly
    source_1d = ct.convert(nn.Sequential(bn), example_input=(4, 8, 8), layout="width").eval()
    with torch.no_grad():
        torch.testing.assert_close(source_1d(x), middle(bn.eval()(lift(x, "width", 5)), "width"))


@pytest.mark.parametrize(
    "options",
    [
        dict(layout="width", weights=None),  # no load at all
        dict(layout="flatten", sizes="area", weights="sum"),  # the load raises: 3 summed taps for a 9-tap kernel
    ],
)
def test_a_module_whose_weights_are_not_loaded_is_initialised_as_torch_would(options):
    # The 1D conv and norm are built without initialisation for a load that overwrites it; without one it must be reset:
    # uninitialised memory is zeros or garbage, torch's default is uniform in +-1/sqrt(fan_in).
    net = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32))
    net_1d = ct.convert(randomise_norms(net), example_input=(16, 8, 8), **options)
    conv_1d, bn_1d = net_1d.get_submodule("0"), net_1d.get_submodule("1")
    assert type(conv_1d) is nn.Conv1d and type(bn_1d) is nn.BatchNorm1d  # built empty as themselves
    bound = 1 / (16 * conv_1d.kernel_size[0]) ** 0.5
    for tensor in (conv_1d.weight, conv_1d.bias):
        assert torch.isfinite(tensor).all() and tensor.abs().max() <= bound and tensor.std() > bound / 4
    if options["weights"] is None:  # a fresh BatchNorm1d: gamma 1, beta 0, statistics 0 and 1
        for name, value in nn.BatchNorm1d(32).state_dict().items():
            torch.testing.assert_close(bn_1d.state_dict()[name], value, rtol=0, atol=0)


def test_modules_keep_the_source_dtype_and_mode():
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)).double().eval()
    net_1d = ct.convert(net, example_input=(3, 8, 8), layout="height")
    assert all(p.dtype == torch.float64 for p in net_1d.parameters())
    assert not net_1d.training and not net_1d.get_submodule("1").training
    assert net_1d(torch.randn(2, 3, 8, dtype=torch.float64)).dtype == torch.float64


def test_the_source_is_never_changed():
    net = randomise_norms(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    ct.convert(net, example_input=(3, 8, 8), layout="width")
    assert all(m.training for m in net.modules())
    for key, value in net.state_dict().items():
        torch.testing.assert_close(value, before[key], rtol=0, atol=0)


def test_a_value_the_trace_computes_from_a_buffer_is_not_left_on_the_source():
    # fx stows a tensor a forward computes while tracing (here the buffer's mean) on the traced module as
    # `_tensor_constant0`; conversion takes it off again, and the 1D module and its verification still read it
    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, (1, 3), padding=(0, 1))
            self.register_buffer("scale", torch.rand(4, 1, 1) + 0.5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x) * self.scale.mean()

    net = Scaled().eval()
    attributes = set(vars(net))
    conversion = ct.orchestrate(net, example_input=(3, 5, 8), layout="width")
    assert set(vars(net)) == attributes and not hasattr(net, "_tensor_constant0")
    x = torch.randn(2, 3, 8)
    with torch.no_grad():
        torch.testing.assert_close(conversion.module(x), net(lift(x, "width", 5))[:, :, 2])
    result = ct.verify(net, conversion)
    assert result.ok and [c.status for c in result.checks if c.class_2d == "operator.mul"] == ["exact"]


@pytest.mark.parametrize("layout", ["width", "flatten"])
def test_the_1d_weights_share_no_memory_with_the_2d_module(layout):
    # a mapped kernel becomes the 1D weight's memory when it is a fresh array; under flatten the core hands a
    # Linear after Flatten the 2D weight itself (the rows keep their order), which must be copied, not adopted
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 3, padding=1), nn.Flatten(), nn.Linear(4 * 5 * 6, 3))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    net_1d = ct.convert(net, example_input=(3, 5, 6), layout=layout)
    with torch.no_grad():
        for weight in net_1d.parameters():
            weight.add_(1.0)
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key


@pytest.mark.parametrize("layout, dropped_size", [("width", 8), ("height", 7)])
def test_linear_after_flatten_reads_the_summed_rows(layout, dropped_size):
    # no padding along either axis, so the whole net follows the `sum` identity through the flatten, whichever
    # axis is dropped (the Linear's weight is summed over rows (height) or over columns (width))
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 6 * 5, 5))
    net_1d = ct.convert(net, example_input=(2, 8, 7), layout=layout)
    x = torch.randn(2, 2, 15 - dropped_size)
    with torch.no_grad():
        torch.testing.assert_close(net_1d(x), net(lift(x, layout, dropped_size)), atol=1e-4, rtol=1e-4)


def test_functional_ops_and_channels_last_blocks():
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(4, 4, (1, 3), padding=(0, 1))
            self.norm = nn.LayerNorm(4)
            self.scale = nn.Parameter(torch.rand(4, 1, 1) + 0.5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            torch._assert(x.ndim == 4, "a 2D map")  # rank checks as timm writes them (19 traced timm graphs)
            y = self.norm(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
            gate = torch.sigmoid(y.mean((2, 3), keepdim=True))
            return torch.cat([x, self.scale * y * gate], dim=1)

    block = Block()
    block_1d = ct.convert(block, example_input=(4, 5, 6), layout="width")
    x = torch.randn(2, 4, 6)
    with torch.no_grad():
        # the gate means over the whole (constant along the height) map: exact on a lifted input
        torch.testing.assert_close(block_1d(x), middle(block(lift(x, "width", 5)), "width"), atol=1e-5, rtol=1e-5)


def test_channels_adapt_the_first_conv():
    conv = nn.Conv2d(3, 4, 3, padding=1)
    conv_1d = ct.convert(conv, example_input=(3, 8, 8), layout="width", channels=1)
    assert conv_1d.get_submodule("").__class__.__name__.endswith("1D")
    x = torch.randn(2, 1, 8)
    with torch.no_grad():  # one channel: an RGB filter on a grey image, the signal repeated over the 3 channels
        want = middle(conv(lift(x.repeat(1, 3, 1), "width", 9)), "width")
        torch.testing.assert_close(conv_1d(x), want, atol=1e-5, rtol=1e-5)


def test_every_unsupported_module_and_call_is_listed_at_once():
    class Odd(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.up = nn.PixelShuffle(2)
            self.fold = nn.Fold((4, 4), 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.roll(self.up(x), 1, 2)

    with pytest.raises(ConversionError, match="2 module class") as info:
        ct.convert(Odd(), example_input=(4, 8, 8), layout="width")
    text = str(info.value)
    assert "layer 'up' (torch.nn.modules.pixelshuffle.PixelShuffle)" in text
    assert "torch.roll" in text and "register_converter" in text
    assert "fold" not in text  # never called: not part of the graph


def test_a_frozen_train_branch_is_refused():
    class TrainOnly(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x) * 2 if self.training else self.conv(x)

    with pytest.raises(ConversionError, match="differs in train and eval mode"):
        ct.convert(TrainOnly(), example_input=(3, 8, 8), layout="width")


def test_a_flag_passed_on_stays_live_in_both_modes():
    # timm's heads call F.dropout(x, p, training=self.training) in a forward fx traces through: a trace would bake
    # in the flag of the mode it ran in, so the 1D module must read its own flag instead
    class Head(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv, self.fc = nn.Conv2d(3, 8, 3, padding=1), nn.Linear(8, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(torch.nn.functional.dropout(self.conv(x).mean((2, 3)), 0.5, self.training))

    net = nn.Sequential(nn.Identity(), Head())
    for mode in (True, False):  # the source's mode while converting does not matter
        net_1d = ct.convert(net.train(mode), example_input=(3, 8, 8), layout="width", weights="center")
        x = torch.randn(16, 3, 8)
        net_1d.eval()
        assert torch.equal(net_1d(x), net_1d(x))
        net_1d.train()
        torch.manual_seed(1)
        got = net_1d(x)
        torch.manual_seed(1)
        want = net.train()(x.unsqueeze(2))  # the same dropout mask: the source on a one-row image
        assert not torch.equal(got, net_1d(x))
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (dict(example_input=None), r"example input.*Received: example_input=None.*Fix"),
        (dict(example_input=(3, 8)), r"Received: example_input shape \(3, 8\)"),
        (dict(example_input=(3, 8, 8), weights="flatten", layout="width"), r"weights='flatten'.*sizes='area'"),
        (dict(example_input=(3, 8, 8), sizes="kept"), r"Size policy 'kept'"),
    ],
)
def test_bad_options_are_refused_with_a_fix(kwargs, pattern):
    with pytest.raises(ConversionError, match=pattern):
        ct.convert(nn.Conv2d(3, 3, 1), **kwargs)


def test_a_too_short_input_names_the_module():
    net = nn.Sequential(nn.Conv2d(3, 3, 3), nn.Conv2d(3, 3, 3))
    with pytest.raises(ConversionError, match=r"layer '1' \(Conv2d\): its 1D counterpart cannot run"):
        ct.convert(net, example_input=(3, 16, 16), layout="width", input_length=4)


def test_registering_twice_warns_and_a_custom_module_is_a_leaf(restore_torch_registry):
    class Twice(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * 2 if x.sum() > -1e30 else x  # data-dependent: fx could not trace it

    @ct.register_converter(Twice)
    def twice(module, ctx):
        return Twice()

    with pytest.warns(UserWarning, match="already registered"):
        ct.register_converter(Twice)(lambda module, ctx: Twice())
    ct.register_converter(Twice, override=True)(twice)
    net_1d = ct.convert(nn.Sequential(nn.Conv2d(3, 3, 1), Twice()), example_input=(3, 8, 8), layout="width")
    assert isinstance(net_1d.get_submodule("1"), Twice)
    assert "tests.torch.test_convert" in " ".join(ct.registered()) or any("Twice" in n for n in ct.registered())


def small_image_net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.Conv2d(6, 4, 1))
    return randomise_norms(net).eval()


@pytest.mark.parametrize("layout", ["flatten", "height", "width", "fold", Layout("flatten", "snake")], ids=str)
def test_keep_input_reads_the_images_the_source_read(layout):
    # the reference: the same conversion without keep_input, fed the images laid out by conv1dify.data.to_1d (numpy)
    from conv1dify.data import to_1d

    net = small_image_net()
    kept = ct.orchestrate(net, example_input=(3, 6, 8), layout=layout, keep_input=True)
    plain = ct.convert(net, example_input=(3, 6, 8), layout=layout)
    images = torch.randn(2, 3, 6, 8)
    sequences = torch.from_numpy(to_1d(images.permute(0, 2, 3, 1).numpy(), layout)).transpose(1, 2)
    with torch.no_grad():
        torch.testing.assert_close(kept.module(images), plain(sequences.contiguous()))
    assert kept.input_shape == (1, 3, 6, 8) and kept.module.meta["conv1dify"]["keep_input"] is True


def test_keep_input_verifies_the_whole_model_on_lifted_images_and_saves(tmp_path):
    net = small_image_net()
    conversion = ct.orchestrate(net, example_input=(3, 12, 8), layout="width", keep_input=True)
    result = ct.verify(net, conversion, whole_model=True)
    assert result.ok and result.checks[-1].status == "exact"  # the image constant along the height: exact
    path = ct.save(conversion.module, tmp_path / "net.pt2")
    images = torch.randn(5, 3, 12, 8)
    with torch.no_grad():
        torch.testing.assert_close(ct.load(path)(images), conversion.module.eval()(images))
    with pytest.raises(ConversionError, match=r"keep_input=True.*dynamic_length=True\. Fix"):
        ct.save(conversion.module, tmp_path / "dyn.pt2", dynamic_length=True)


def test_keep_input_cannot_also_change_the_input():
    with pytest.raises(ConversionError, match=r"keep_input=True keeps the 2D input shape.*input_length=20"):
        ct.convert(small_image_net(), example_input=(3, 6, 8), layout="width", keep_input=True, input_length=20)


def test_copied_modules_are_independent_of_their_source():
    from conv1dify.torch.converters._common import copy_module

    act = nn.Hardtanh(-2.0, 3.0).eval()
    new = copy_module(act)
    assert type(new) is nn.Hardtanh and (new.min_val, new.max_val, new.training) == (-2.0, 3.0, False)
    new.train()
    new.register_forward_hook(lambda *args: None)
    assert not act.training and not act._forward_hooks  # fresh flag and hook tables, not the source's
    x = torch.linspace(-4, 4, 9)
    torch.testing.assert_close(new(x), act(x))
    # state, a mutable attribute or a hook: a deep copy, so nothing is shared
    act.extra = [1]
    deep = copy_module(act)
    assert deep.extra == [1] and deep.extra is not act.extra
    hooked = nn.ReLU()
    hooked.register_forward_pre_hook(lambda module, args: (args[0] + 1,))
    torch.testing.assert_close(copy_module(hooked)(x), torch.relu(x + 1))
    prelu = nn.PReLU(3)
    assert copy_module(prelu).weight.data_ptr() != prelu.weight.data_ptr()


def test_the_trace_reads_parameters_as_fx_names_them():
    from conv1dify.torch._trace import _Tracer

    class Scaled(nn.Module):  # a layer scale read in the forward, a parameter shared under two names, a buffer
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.gamma = nn.Parameter(torch.ones(4, 1, 1))
            self.inner = nn.Module()
            self.inner.gamma = self.gamma
            self.register_buffer("shift", torch.zeros(4, 1, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.conv(x) * self.gamma + self.shift
            return y * self.inner.gamma + self.gamma

    def nodes(graph: torch.fx.Graph) -> list[tuple[str, str]]:
        return [(n.op, str(n.target)) for n in graph.nodes]

    module = Scaled()
    ours = nodes(_Tracer().trace(module))
    assert ours == nodes(torch.fx.Tracer().trace(module))
    assert ours.count(("get_attr", "gamma")) == 1 and ("get_attr", "inner.gamma") not in ours


@st.composite
def _conv_calls(draw):  # type: ignore[no-untyped-def]
    """A plain Conv1d or Conv2d and an input for it: any window, padding, dilation, groups and memory layout, and
    sometimes one the conv refuses (wrong channels, a window larger than the padded input, another padding mode)."""
    dims = draw(st.sampled_from([1, 2]))
    axes = st.lists(st.integers(1, 4), min_size=dims, max_size=dims).map(tuple)
    groups = draw(st.sampled_from([1, 2]))
    kernel, dilation = draw(axes), draw(axes)
    stride = draw(axes) if draw(st.booleans()) else (1,) * dims
    padding = draw(
        st.sampled_from(["same", "valid", "ints"]) if stride == (1,) * dims else st.sampled_from(["valid", "ints"])
    )
    if padding == "ints":
        padding = tuple(draw(st.lists(st.integers(0, 3), min_size=dims, max_size=dims)))
    mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "circular"]))
    conv = {1: nn.Conv1d, 2: nn.Conv2d}[dims](
        2 * groups, 2 * groups, kernel, stride, padding, dilation, groups, padding_mode=mode
    ).double()
    channels = 2 * groups if draw(st.integers(0, 9)) else 3
    sizes = draw(st.lists(st.integers(1, 9), min_size=dims, max_size=dims))
    x = torch.randn(draw(st.integers(1, 2)), channels, *sizes, dtype=torch.float64)
    if draw(st.booleans()):  # channels last: a permuted tensor, as ConvNeXt's blocks pass on
        x = x.movedim(1, -1).contiguous().movedim(-1, 1)
    return conv, x


@st.composite
def _norm_calls(draw):  # type: ignore[no-untyped-def]
    """A plain BatchNorm1d or BatchNorm2d in train or eval mode, with or without running statistics, and an input
    of any rank, batch and memory layout, sometimes of the wrong features or empty."""
    two_d = draw(st.booleans())
    norm = (nn.BatchNorm2d if two_d else nn.BatchNorm1d)(
        3, affine=draw(st.booleans()), track_running_stats=draw(st.integers(0, 3)) > 0
    ).double()
    norm.train(draw(st.integers(0, 3)) == 0)
    rank = draw(st.sampled_from([4, 3] if two_d else [3, 2, 4]))
    channels = 3 if draw(st.integers(0, 9)) else 2
    sizes = draw(
        st.lists(st.integers(0 if draw(st.integers(0, 9)) == 0 else 1, 4), min_size=rank - 2, max_size=rank - 2)
    )
    x = torch.randn(draw(st.integers(1, 2)), channels, *sizes, dtype=torch.float64)
    if rank > 2 and draw(st.booleans()):
        x = x.movedim(1, -1).contiguous().movedim(-1, 1)
    return norm, x


@settings(max_examples=300, deadline=None)
@given(_conv_calls(), st.booleans())
def test_a_convolution_the_shape_passes_skip_has_torchs_output_shape_and_errors(call, strides):
    """The conversion's shape passes give zeros for a plain convolution instead of running it: torch's own forward
    is the reference for the shape, the memory layout (the 1D pass, ``strides=True``) and the refusals."""
    _same_as_torch(*call, strides)


@settings(max_examples=300, deadline=None)
@given(_norm_calls(), st.booleans())
@example((nn.BatchNorm2d(3).eval(), torch.randn(1, 3, 4, 5).to(memory_format=torch.channels_last)), True)
def test_a_batchnorm_the_shape_passes_skip_has_torchs_output_shape_and_errors(call, strides):
    """The same for an eval-mode BatchNorm with running statistics (it normalises by them: any batch runs)."""
    _same_as_torch(*call, strides)


_ACTIVATIONS = [
    lambda: nn.Identity(),
    lambda: nn.Dropout(0.5),
    lambda: nn.ReLU(inplace=True),
    lambda: nn.ReLU6(),
    lambda: nn.SiLU(),
    lambda: nn.Sigmoid(),
    lambda: nn.Tanh(),
    lambda: nn.GELU(approximate="tanh"),
    lambda: nn.GELU(approximate="cubic"),  # refused when it runs
    lambda: nn.Hardswish(),
    lambda: nn.Hardsigmoid(),
    lambda: nn.LeakyReLU(0.1),  # no shape rule: runs
]


@st.composite
def _activation_calls(draw, x: torch.Tensor | None = None):  # type: ignore[no-untyped-def]
    """An activation, dropout or Identity in train or eval mode, and an input of any dtype, rank and layout."""
    module = draw(st.sampled_from(_ACTIVATIONS))().train(draw(st.booleans()))
    if x is None:
        sizes = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
        dtype = draw(st.sampled_from([torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64]))
        x = torch.randn(*sizes).to(dtype)
        if x.ndim > 2 and draw(st.booleans()):
            x = x.movedim(1, -1).contiguous().movedim(-1, 1)
    return module, x


@st.composite
def _sequential_calls(draw):  # type: ignore[no-untyped-def]
    """A plain ``nn.Sequential`` of a convolution, a BatchNorm (sometimes of the wrong rank or features) and an
    activation, as timm's BatchNormAct2d becomes in 1D, sometimes nested, and an input for it."""
    conv, x = draw(_conv_calls())
    dims = len(conv.kernel_size)
    two_d = (dims == 2) != (draw(st.integers(0, 9)) == 0)
    features = conv.out_channels if draw(st.integers(0, 9)) else conv.out_channels + 1
    norm = (nn.BatchNorm2d if two_d else nn.BatchNorm1d)(features).double().eval()
    activation, _ = draw(_activation_calls(x))
    body = nn.Sequential(norm, activation.double())
    return (nn.Sequential(conv, body) if draw(st.booleans()) else nn.Sequential(conv, *body)), x


@settings(max_examples=300, deadline=None)
@given(_activation_calls(), st.booleans())
def test_an_activation_the_shape_passes_skip_has_torchs_output_shape_and_errors(call, strides):
    """An elementwise module (activation, dropout, Identity) given by its shape, against torch's own forward."""
    _same_as_torch(*call, strides)


@settings(max_examples=200, deadline=None)
@given(_sequential_calls(), st.booleans())
def test_a_sequential_the_shape_passes_skip_has_torchs_output_shape_and_errors(call, strides):
    """A Sequential passes its input through its children for their shapes, against torch's own forward."""
    _same_as_torch(*call, strides)


@st.composite
def _layer_norm_calls(draw):  # type: ignore[no-untyped-def]
    """A LayerNorm (torch's over trailing dims; conv1dify's LayerNorm1d, timm's and torchvision's LayerNorm2d over
    the channels of a map) of any affine switches and dtype, and an input of any rank, dtype and memory layout,
    sometimes of the wrong size or rank."""
    from timm.layers import LayerNorm2d as TimmLayerNorm2d
    from torchvision.models.convnext import LayerNorm2d as TorchvisionLayerNorm2d

    from conv1dify.torch.modules import LayerNorm1d

    channels = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["torch", "torch2", "1d", "timm", "torchvision"]))
    affine = draw(st.booleans())
    if kind == "torch":
        norm: nn.Module = nn.LayerNorm(channels, elementwise_affine=affine, bias=draw(st.booleans()))
    elif kind == "torch2":
        norm = nn.LayerNorm((2, channels), elementwise_affine=affine)
    elif kind == "1d":
        norm = LayerNorm1d(channels, elementwise_affine=affine)
    elif kind == "timm":
        norm = TimmLayerNorm2d(channels, affine=affine)
    else:
        norm = TorchvisionLayerNorm2d(channels, elementwise_affine=affine)
    norm = norm.double() if draw(st.booleans()) else norm
    rank = draw(st.integers(2, 5))
    sizes = draw(st.lists(st.integers(1, 4), min_size=rank, max_size=rank))
    at = draw(st.sampled_from(["last", "channels", "none"]))
    if at == "last":
        sizes[-1] = channels
        if kind == "torch2" and rank > 1:
            sizes[-2] = 2
    elif at == "channels":
        sizes[1] = channels
    dtype = draw(st.sampled_from([torch.float64, torch.float32, torch.float16]))
    x = torch.randn(*sizes).to(dtype)
    if rank > 2 and draw(st.booleans()):
        x = x.movedim(1, -1).contiguous().movedim(-1, 1)
    return norm, x


@settings(max_examples=400, deadline=None)
@given(_layer_norm_calls(), st.booleans())
def test_a_layer_norm_the_shape_passes_skip_has_torchs_output_shape_and_errors(call, strides):
    """The LayerNorms given by their shape (channels-last ones as the moved-back view torch returns), against
    torch's own forward: shape, dtype, memory layout and refusals."""
    _same_as_torch(*call, strides)


def test_a_module_with_forward_hooks_runs_in_the_shape_passes():
    """A hook may change what a module returns: a hooked module (or any module under a global hook) runs."""
    conv = nn.Conv2d(3, 4, 3)
    x = torch.randn(1, 3, 8, 8)
    handle = conv.register_forward_hook(lambda module, args, out: out[:, :1])
    assert run_for_shape(conv, (x,), {}, strides=False).shape == (1, 1, 6, 6)
    handle.remove()
    net = nn.Sequential(nn.ReLU(), nn.Identity())
    net[1].register_forward_pre_hook(lambda module, args: (args[0].flatten(1),))
    assert run_for_shape(net, (x,), {}, strides=True).shape == (1, 3 * 8 * 8)
    handle = nn.modules.module.register_module_forward_hook(lambda module, args, out: out[..., :2])
    try:
        assert run_for_shape(nn.ReLU(), (x,), {}, strides=False).shape == (1, 3, 8, 2)
    finally:
        handle.remove()


def _same_as_torch(module: nn.Module, x: torch.Tensor, strides: bool) -> None:
    try:
        expected = module(x)
    except (RuntimeError, ValueError, IndexError) as error:
        with pytest.raises(type(error)):
            run_for_shape(module, (x,), {}, strides=strides)
        return
    out = run_for_shape(module, (x,), {}, strides=strides)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    if strides:
        assert out.stride() == expected.stride()


def test_the_collector_is_paused_while_converting_and_the_conversions_garbage_freed_at_its_end():
    """`collector_paused`: one young collection, at the end, frees the traced 2D graph (cyclic garbage); a collector
    the caller turned off stays off."""
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    gc.collect()
    graphs = sum(type(o) is fx.Graph for o in gc.get_objects())
    collections: list[int] = []

    def note(phase: str, info: dict) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.callbacks.append(note)
    try:
        net_1d = ct.convert(net, example_input=(3, 16, 16), layout="width")
    finally:
        gc.callbacks.remove(note)
    assert collections == [0] and gc.isenabled()
    assert sum(type(o) is fx.Graph for o in gc.get_objects()) == graphs + 1  # the 1D module's own graph
    assert isinstance(net_1d.graph, fx.Graph)
    gc.disable()
    try:
        ct.convert(net, example_input=(3, 16, 16), layout="width")
        assert not gc.isenabled()
    finally:
        gc.enable()


class _TwoInputs(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.conv(x)


class _Unnamed(_TwoInputs):
    def forward(self, *xs: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.conv(xs[0])


class _Required(_TwoInputs):
    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return self.conv(x) * mask


@pytest.mark.parametrize("cls", [_TwoInputs, _Unnamed, _Required])
def test_a_module_with_more_than_one_input_is_refused_by_name_with_a_fix(cls):
    """An extra input, with a default or without, or ``*args``: one clear error naming the inputs, before any shape
    pass runs (a required second input made the 2D pass raise torch's own error)."""
    with pytest.raises(ConversionError, match=r"one image input. Received: inputs \[.*\]. Fix: wrap the module"):
        ct.convert(cls(), example_input=(3, 16, 16), layout="width")
