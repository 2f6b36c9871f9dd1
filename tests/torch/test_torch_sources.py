"""Torch sources by name (timm:, torchvision:, file.py:factory): built without downloads, the same weights every run,
refusals with the value received and a fix."""

from __future__ import annotations

import textwrap

import pytest
import torch
from safetensors.torch import save_file

from conv1dify import ConversionError
from conv1dify.torch._sources import build_source, is_torch_source


@pytest.mark.parametrize("source", ["timm:resnet10t", "torchvision:squeezenet1_0"])
def test_zoo_names_build_the_same_random_weights_every_time_and_leave_the_global_seed_alone(source):
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    first = build_source(source)
    assert torch.equal(torch.rand(3), before)  # the global random state is untouched
    second = build_source(source)
    assert not first.training
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    other = build_source(source, seed=1)
    assert not all(torch.equal(a, b) for a, b in zip(first.parameters(), other.parameters(), strict=True))


def test_a_timm_pretrained_tag_names_its_architecture_and_downloads_nothing(monkeypatch):
    import timm.models._builder

    def no_download(*args, **kwargs):
        raise AssertionError("downloaded")

    monkeypatch.setattr(timm.models._builder, "load_pretrained", no_download)
    assert type(build_source("timm:resnet10t.c3_in1k")).__name__ == "ResNet"


@pytest.mark.parametrize(
    ("source", "match"),
    [
        ("timm:resnet19", r"Unknown timm model\. Received: 'timm:resnet19'\. Did you mean timm:resnet18.*Fix: pick"),
        ("timm:resnet10t.in1k", r"Unknown pretrained tag of timm's resnet10t\. .*Did you mean timm:resnet10t\.c3_in1k"),
        ("torchvision:resnt18", r"Unknown torchvision classification model\. .*Did you mean torchvision:resnet18"),
        ("torchvision:fasterrcnn_resnet50_fpn", r"Unknown torchvision classification model"),
    ],
)
def test_unknown_names_are_refused_with_close_matches(source, match):
    with pytest.raises(ConversionError, match=match):
        build_source(source)


def test_is_torch_source():
    assert [is_torch_source(s) for s in ("timm:a", "torchvision:b", "x/net.py:build", "VGG16", "m.keras", "a:b")] == [
        True, True, True, False, False, False,
    ]  # fmt: skip


NET_PY = """
import torch
from torch import nn

RAN = []


def build(channels=4):
    return nn.Sequential(nn.Conv2d(3, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU())


def not_a_module():
    return 3
"""


@pytest.fixture
def net_py(tmp_path):
    path = tmp_path / "my_net.py"
    path.write_text(textwrap.dedent(NET_PY))
    return path


def test_a_file_source_runs_only_with_unsafe(net_py):
    with pytest.raises(ConversionError, match=r"runs the code in .*my_net\.py'\. Received: no --unsafe\. Fix: pass"):
        build_source(f"{net_py}:build")
    module = build_source(f"{net_py}:build", unsafe=True)
    assert isinstance(module[0], torch.nn.Conv2d) and module[0].out_channels == 4


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("biuld", r"defines no function or class 'biuld'\. Received: .*Did you mean .*my_net\.py:build\?"),
        ("not_a_module", r"must return a torch\.nn\.Module\. Received: int"),
    ],
)
def test_a_file_source_that_gives_no_module_is_refused(net_py, name, match):
    with pytest.raises(ConversionError, match=match):
        build_source(f"{net_py}:{name}", unsafe=True)


def test_a_missing_file_is_refused_before_the_unsafe_question(tmp_path):
    with pytest.raises(ConversionError, match=r"Python file not found\. Received: '.*nowhere\.py:build'"):
        build_source(f"{tmp_path}/nowhere.py:build")


def test_weights_2d_load_a_state_dict_without_unpickling_code(tmp_path, net_py):
    trained = build_source(f"{net_py}:build", unsafe=True, seed=7)
    safetensors_file = tmp_path / "w.safetensors"
    save_file(trained.state_dict(), str(safetensors_file))
    pt_file = tmp_path / "w.pt"
    torch.save({"state_dict": trained.state_dict()}, pt_file)  # a training checkpoint
    for path in (safetensors_file, pt_file):
        loaded = build_source(f"{net_py}:build", unsafe=True, weights_2d=str(path))
        assert torch.equal(loaded[0].weight, trained[0].weight)
        assert torch.equal(loaded[1].running_var, trained[1].running_var)

    with pytest.raises(ConversionError, match=r"'.*w\.pt' does not fit timm:resnet10t: .*Fix: pass the state dict"):
        build_source("timm:resnet10t", weights_2d=str(pt_file))
    with pytest.raises(ConversionError, match=r"never downloads weights\. Received: --weights-2d imagenet"):
        build_source("timm:resnet10t", weights_2d="imagenet")

    code = tmp_path / "code.pt"
    torch.save({"layer": torch.nn.Linear(2, 2)}, code)  # pickled module objects, not tensors
    with pytest.raises(ConversionError, match=r"Cannot read '.*code\.pt' as a state dict .*Fix: pass a \.safetensors"):
        build_source(f"{net_py}:build", unsafe=True, weights_2d=str(code))


def test_a_zoo_that_does_not_import_is_one_line_naming_the_extra(monkeypatch):
    import importlib

    real = importlib.import_module

    def broken(name, *args, **kwargs):
        if name == "torchvision":  # what a CUDA torchvision beside a CPU torch raises
            raise RuntimeError("operator torchvision::nms does not exist\nmore")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(importlib, "import_module", broken)
    expected = (
        r"^'torchvision:resnet18' needs torchvision, which does not import here \(RuntimeError: operator "
        r"torchvision::nms does not exist\)\. Fix: pip install 'conv1dify\[torch\]'"
    )
    with pytest.raises(ConversionError, match=expected):
        build_source("torchvision:resnet18")
