"""The CLI on PyTorch sources (timm:, torchvision:, file.py:factory): convert to a .pt2 that plain torch loads,
inspect, verify; one-line errors; Keras never imported (TensorFlow and torch's CUDA build crash in one process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from conv1dify.cli import main

ROOT = Path(__file__).resolve().parents[2]


def conv1dify(*argv: str, cwd: Path | None = None, prelude: str = "") -> subprocess.CompletedProcess:
    """``python -m conv1dify ARGV`` in this venv; ``prelude`` runs first, and the Keras modules loaded are printed
    to stderr at exit."""
    code = (
        f"import atexit, sys\n{prelude}\n"
        "atexit.register(lambda: print('loaded:', sorted(m for m in ('keras', 'tensorflow') if m in sys.modules), "
        "file=sys.stderr))\n"
        "import runpy\nrunpy.run_module('conv1dify', run_name='__main__')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=300
    )


def test_convert_a_timm_name_writes_a_program_plain_torch_loads_and_never_imports_keras(tmp_path, capsys):
    out = tmp_path / "resnet10t_1d.pt2"
    args = ("convert", "timm:resnet10t", "-o", str(out), "--layout", "width", "--input-shape", "32,32,3")
    done = conv1dify(*args, "--verify", "--json")
    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stderr and "Traceback" not in done.stderr
    report = json.loads(done.stdout)  # the Keras side's report: shapes channels last, as the core reads them
    assert report["output"] == str(out) and report["source"] == "timm:resnet10t"
    assert report["input_shape_1d"] == [[None, 32, 3]] and report["output_shape_1d"] == [[None, 1000]]
    assert report["verification"]["verdict"] == "verified" and report["verification"]["counts"]["mismatch"] == 0
    program = torch.export.load(str(out))
    assert program.module()(torch.randn(3, 3, 32)).shape == (3, 1000)

    size = out.stat().st_size
    assert main(list(args)) == 2  # no overwrite without --force: one line, the file kept (in-process: cheaper)
    assert capsys.readouterr().err == (
        f"conv1dify: error: {str(out)!r} already exists. Fix: pass --force to overwrite it.\n"
    )
    assert out.stat().st_size == size

    checked = conv1dify("verify", "timm:resnet10t", str(out))  # the table: the shared report code, still no Keras
    assert checked.returncode == 0, checked.stderr
    assert "loaded: []" in checked.stderr
    assert "exact: 58, mismatch: 0, approximate: 0, fresh: 0" in checked.stdout  # 54 modules, 4 residual adds
    assert "resnet10t_1d.pt2 matches the conversion of timm:resnet10t" in checked.stdout


NET_PY = """
import torch
from torch import nn


def build():
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 4, 3, padding=1))
    with torch.no_grad():  # trained-looking statistics, not the fresh (0, 1)
        net[1].running_mean.uniform_(-0.5, 0.5)
        net[1].running_var.uniform_(0.5, 1.5)
        net[1].weight.uniform_(0.5, 1.5)
    return net


def build_other():
    torch.manual_seed(1)  # the same architecture with other weights
    return build()
"""


def test_a_file_source_needs_unsafe_and_its_program_is_the_middle_row_of_the_2d_module(tmp_path, capsys, monkeypatch):
    (tmp_path / "net.py").write_text(textwrap.dedent(NET_PY))
    out = tmp_path / "net_1d.pt2"
    args = ("convert", "net.py:build", "-o", str(out), "--layout", "width", "--input-shape", "16,16,3")
    monkeypatch.chdir(tmp_path)
    assert main(list(args)) == 2 and not out.exists()
    assert "runs the code in 'net.py'. Received: no --unsafe. Fix: pass --unsafe" in capsys.readouterr().err

    done = conv1dify(*args, "--unsafe", "--summary", "--report", "net.html", "--plot", "net.svg", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("conv1dify: warning: --unsafe runs the code of 'net.py'")
    lines = done.stdout.splitlines()
    assert lines[0] == "Sequential -> Sequential1D   layout=width  sizes=kept  weights=sum"
    assert "  parameters  532 -> 196" in lines
    assert lines[-3:] == [
        f"wrote {out} (196 parameters; load it with torch.export.load)",
        "wrote net.html",
        "wrote net.svg",
    ]
    assert "<table" in (tmp_path / "net.html").read_text() and (tmp_path / "net.svg").read_text().startswith("<?xml")

    # the 2D module as the user builds it, on a lifted input: its middle row is the 1D program's output
    from conv1dify.torch._sources import build_source

    net = build_source(f"{tmp_path}/net.py:build", unsafe=True)
    x = torch.randn(2, 3, 16)
    with torch.no_grad():
        want = net(x.unsqueeze(2).repeat_interleave(9, dim=2))[:, :, 4]
        got = torch.export.load(str(out)).module()(x)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)

    other = conv1dify("verify", "net.py:build_other", str(out), "--unsafe", "-q", cwd=tmp_path)
    assert other.returncode == 1, other.stderr
    assert "net_1d.pt2 DOES NOT MATCH the conversion of net.py:build_other" in other.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["inspect", "timm:resnet19"], r"Unknown timm model\. Received: 'timm:resnet19'\. Did you mean timm:resnet18"),
        (["inspect", "torchvision:resnt18"], r"Did you mean torchvision:resnet18"),
        (["convert", "timm:resnet10t", "-o", "OUT.keras"], r"must end in \.pt2\. Received: -o 'OUT\.keras'\. Fix"),
        (["convert", "timm:resnet10t", "-o", "o.pt2", "--export", "o.onnx"], r"--export is not available for PyTorch"),
        (["inspect", "timm:resnet10t", "--report", "r.txt"], r"--report takes a file ending in \.md, \.json, \.html"),
        (["plot", "timm:resnet10t", "-o", "f.txt"], r"--plot takes a file ending in \.png, \.svg, \.pdf"),
        (["verify", "timm:resnet10t", "m.keras"], r"checked against a \.pt2 file .*Received: MODEL_1D 'm\.keras'"),
        (["inspect", "timm:resnet10t", "--channels", "6"], r"--channels 6 describe sequence data.*Fix: --layout"),
        (["inspect", "my_net.py:build"], r"Python file not found\. Received: 'my_net\.py:build'"),
    ],
)
def test_bad_input_is_one_line_with_the_value_and_the_fix(argv, message, capsys, tmp_path, monkeypatch):
    import re

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("conv1dify: error: "), err
    assert re.search(message, err), err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_inspect_prints_the_modules_as_json_and_writes_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["inspect", "torchvision:squeezenet1_0", "--layout", "width", "--input-shape", "48,48,3", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["layout"] == "width" and report["input_shape_2d"] == [[None, 48, 48, 3]]
    first = report["layers"][0]
    assert (first["path"], first["class_2d"], first["classes_1d"]) == ("features.0", "Conv2d", ["Conv1d"])
    assert (first["sizes_1d"], first["receptive_field_1d"], first["expected"]) == (
        {"kernel_size": [7], "strides": [2]}, 7.0, "exact",
    )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_keep_input_writes_a_program_that_reads_the_images(tmp_path):
    out = tmp_path / "r.pt2"
    argv = ["convert", "timm:resnet10t", "-o", str(out), "--layout", "fold", "--input-shape", "16,8,3", "--keep-input"]
    assert main([*argv, "-q"]) == 0
    assert torch.export.load(str(out)).module()(torch.randn(2, 3, 16, 8)).shape == (2, 1000)


def test_plot_draws_both_modules(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["plot", "timm:resnet10t", "-o", "rf.svg", "--layout", "width", "--input-shape", "32,32,3"]) == 0
    assert capsys.readouterr().out.startswith("wrote rf.svg: receptive field and feature-map length of ResNet (2D)")
    assert (tmp_path / "rf.svg").read_text().startswith("<?xml")


BLOCK_TORCH = """
import importlib.abc, sys
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError(f"No module named {name!r}")
sys.meta_path.insert(0, _Block())
"""


def test_without_torch_a_torch_source_is_one_line_naming_the_extra():
    done = conv1dify("convert", "timm:resnet18", "-o", "r.pt2", prelude=BLOCK_TORCH)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if not line.startswith("loaded:")]
    assert lines == [
        "conv1dify: error: 'timm:resnet18' is a PyTorch source, which needs torch, torchvision and timm "
        "(ImportError: No module named 'torch'). Fix: pip install 'conv1dify[torch]'"
    ]
