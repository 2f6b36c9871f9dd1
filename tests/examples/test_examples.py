"""Every example script runs end to end with tiny settings (one seed, one epoch).

The examples need the optional ``examples`` extra (aeon for the bundled UCR data, scikit-learn for digits);
without it these tests skip. ``examples/distributed.py`` runs in ``tests/keras/test_distributed.py``.
"""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

pytest.importorskip("aeon", reason="the UCR examples need aeon (pip install 'conv1dify[examples]')")
pytest.importorskip("sklearn", reason="the transfer example needs scikit-learn (pip install 'conv1dify[examples]')")


@pytest.fixture
def example(monkeypatch):
    """Import an example script as a module, with examples/ on sys.path for its shared ``_ucr`` helper."""
    monkeypatch.syspath_prepend(str(EXAMPLES))

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    yield load
    sys.modules.pop("_ucr", None)


def test_ucr_fcn_and_its_plot(example, tmp_path):
    out = tmp_path / "fcn.json"
    results = example("ucr_fcn").main(["ItalyPowerDemand", "--seeds", "1", "--epochs", "1", "--json", str(out)])
    result = results["ItalyPowerDemand"]
    assert result["epochs"] == 1 and result["seeds"] == [0]
    assert 0.0 <= result["mean_best_loss"] <= 1.0
    assert result["reference"] == {"FCN": 0.963, "ResNet": 0.962}
    assert len(json.loads(out.read_text())["ItalyPowerDemand"]["runs"][0]["test_acc"]) == 1

    png = tmp_path / "curves.png"
    example("plot_curves").main(["ucr", str(out), "-o", str(png)])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_transfer_digits_and_its_plot(example, tmp_path, capsys):
    out = tmp_path / "transfer.json"
    payload = example("transfer_digits").main(
        [
            "ItalyPowerDemand",
            "--seeds", "1",
            "--epochs", "1",
            "--pretrain-epochs", "1",
            "--configs", "width / sum,fresh (3 taps)",
            "--json", str(out),
        ]
    )  # fmt: skip
    runs = payload["results"]["ItalyPowerDemand"]
    assert set(runs) == {"width / sum", "fresh (3 taps)"}
    assert all(len(r[0]["test_acc"]) == 1 for r in runs.values())

    png = tmp_path / "transfer.png"
    example("plot_curves").main(["transfer", str(out), "-o", str(png)])
    assert png.stat().st_size > 0

    capsys.readouterr()
    example("transfer_digits").main(["--report", str(out), str(out)])  # the same seed twice: runs add up
    table = capsys.readouterr().out
    assert "| ItalyPowerDemand | width / sum | 2 |" in table


def test_transfer_configs_name_real_strategies(example):
    from conv1dify.core.weights import STRATEGIES

    module = example("transfer_digits")
    assert {weights for *_, weights in module.CONFIGS} == {*STRATEGIES} - {"auto"} | {None}


@pytest.mark.slow
def test_ucr_applications_mobilenet(example):
    results = example("ucr_applications").main(["ItalyPowerDemand", "--seeds", "1", "--epochs", "1"])
    assert results["ItalyPowerDemand"]["epochs"] == 1
