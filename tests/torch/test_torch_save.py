"""conv1dify.torch.save/load: a torch.export program (.pt2) that plain torch loads without unpickling anything, checked
against the 2D module on a lifted input; refusals (overwrite, suffix, unexportable module, pickled payloads)."""

from __future__ import annotations

import doctest
import json
import pickle

import pytest
import timm
import torch
from torch import nn

import conv1dify.torch as ct
from conv1dify import ConversionError
from conv1dify.torch import _save

from .torch_helpers import randomise_norms


def small_net() -> nn.Module:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, (3, 5), padding=(1, 2))
    )
    return randomise_norms(net).eval()


def test_saved_program_loads_in_plain_torch_and_matches_the_2d_module_on_a_lifted_input(tmp_path, monkeypatch):
    net = small_net()
    net_1d = ct.convert(net, example_input=(3, 16, 16), layout="width")
    path = ct.save(net_1d, tmp_path / "net_1d.pt2", dynamic_length=True)

    # nothing is unpickled: torch.export.load must not need pickle for a file conv1dify wrote
    def refuse(*args, **kwargs):
        raise AssertionError("unpickled")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    program = torch.export.load(str(path))
    monkeypatch.undo()

    # another batch size and another length than the conversion's: the sum identity along the kept axis
    x = torch.randn(5, 3, 24, dtype=torch.float64).float()
    lifted = x.unsqueeze(2).repeat_interleave(9, dim=2)  # rows repeated: (N, C, 9, L)
    with torch.no_grad():
        expected = net(lifted)[:, :, 4, :]  # the middle row, out of the padding's reach
        got = program.module()(x)
    assert got.shape == expected.shape == (5, 4, 24)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_by_default_the_length_is_fixed_and_the_batch_is_not(tmp_path):
    net_1d = ct.convert(small_net(), example_input=(3, 16, 16), layout="width")
    module = ct.load(ct.save(net_1d, tmp_path / "n.pt2"))
    assert module(torch.randn(7, 3, 16)).shape == (7, 4, 16)
    with pytest.raises(RuntimeError, match=r"shape\[2\] to be equal to 16, but got 24"):
        module(torch.randn(7, 3, 24))


def test_save_leaves_train_mode_as_it_was_and_saves_the_eval_graph(tmp_path):
    net = small_net()
    net_1d = ct.convert(net, example_input=(3, 16, 16), layout="height")
    net_1d.train()
    path = ct.save(net_1d, tmp_path / "n.pt2")
    assert net_1d.training and all(m.training for m in net_1d.modules())
    x = torch.randn(3, 3, 16)
    with torch.no_grad():
        # eval: the running statistics, not the batch's (which a train-mode graph would use)
        torch.testing.assert_close(ct.load(path)(x), net_1d.eval()(x))


def test_timm_model_round_trip_and_record(tmp_path):
    torch.manual_seed(0)
    model = randomise_norms(timm.create_model("resnet10t", pretrained=False, num_classes=5)).eval()
    model_1d = ct.convert(model, example_input=(3, 32, 32), layout="width")
    path = ct.save(model_1d, tmp_path / "resnet10t_1d.pt2", source="timm:resnet10t")
    x = torch.randn(3, 3, 32)
    with torch.no_grad():
        torch.testing.assert_close(ct.load(path)(x), model_1d(x), rtol=1e-5, atol=1e-5)
    record = ct.conversion_record(path)
    assert record is not None
    assert {k: record[k] for k in ("format", "source", "layout", "sizes", "weights", "input_1d", "example_input")} == {
        "format": "conv1dify.torch/1",
        "source": "timm:resnet10t",
        "layout": "width",
        "sizes": "kept",
        "weights": "sum",
        "input_1d": [3, 32],
        "example_input": [3, 32, 32],
    }


def test_an_existing_file_is_kept_unless_forced(tmp_path):
    net_1d = ct.convert(small_net(), example_input=(3, 8, 8), layout="width")
    path = tmp_path / "n.pt2"
    path.write_bytes(b"keep me")
    with pytest.raises(ConversionError, match=r"already exists\. Fix: pass force=True"):
        ct.save(net_1d, path)
    assert path.read_bytes() == b"keep me"
    ct.save(net_1d, path, force=True)
    assert ct.load(path)(torch.randn(2, 3, 8)).shape == (2, 4, 8)


@pytest.mark.parametrize(
    ("name", "match"),
    [
        ("n.pt", r"must end in \.pt2\. Received: path='.*n\.pt'\. Fix: give a file name ending in \.pt2"),
        ("missing/n.pt2", r"output folder does not exist\. Received: path='.*missing/n\.pt2'"),
    ],
)
def test_bad_paths_are_refused_before_any_work(tmp_path, name, match):
    net_1d = ct.convert(small_net(), example_input=(3, 8, 8), layout="width")
    with pytest.raises(ConversionError, match=match):
        ct.save(net_1d, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


class DataDependent(nn.Module):
    def forward(self, x):
        if x.sum() > 0:  # a branch on a value: torch.export cannot trace it
            return x
        return -x


def test_a_module_that_cannot_export_leaves_no_file(tmp_path):
    with pytest.raises(ConversionError, match=r"torch\.export could not export the module on an input of shape"):
        ct.save(DataDependent(), tmp_path / "d.pt2", example_input=(3, 8))
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary one


def test_save_of_a_plain_module_needs_its_input_shape(tmp_path):
    with pytest.raises(ConversionError, match=r"needs the 1D input's shape.*Received: example_input=None"):
        ct.save(nn.Conv1d(3, 4, 3), tmp_path / "c.pt2")
    path = ct.save(nn.Conv1d(3, 4, 3), tmp_path / "c.pt2", example_input=(3, 10))
    assert ct.conversion_record(path)["input_1d"] == [3, 10]


def test_load_refuses_pickled_payloads_and_files_that_are_no_archive(tmp_path):
    program = torch.export.export(nn.Conv1d(3, 4, 3), (torch.randn(2, 3, 10),))
    pickled = tmp_path / "pickled.pt2"
    torch.export.save(program, str(pickled))  # torch's own save pickles the example inputs
    with pytest.raises(ConversionError, match=r"Refusing to load .*pickled payloads.*sample_inputs"):
        ct.load(pickled)
    text = tmp_path / "text.pt2"
    text.write_text("not a model")
    with pytest.raises(ConversionError, match=r"not a \.pt2 archive .*11 bytes"):
        ct.load(text)
    with pytest.raises(ConversionError, match=r"File not found\. Received: '.*nothing\.pt2'"):
        ct.load(tmp_path / "nothing.pt2")


def test_record_is_json_in_the_archive(tmp_path):
    net_1d = ct.convert(small_net(), example_input=(3, 8, 8), layout="flatten")
    path = ct.save(net_1d, tmp_path / "f.pt2")
    extra = {_save.RECORD: ""}
    torch.export.load(str(path), extra_files=extra)
    assert json.loads(extra[_save.RECORD])["layout"] == "flatten"


def test_docstring_examples_run():
    result = doctest.testmod(_save)
    assert result.attempted >= 10 and result.failed == 0
