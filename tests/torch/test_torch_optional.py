"""torch stays optional: ``import conv1dify`` never imports torch; the torch frontend and the numpy data helpers a
PyTorch user lays data out with never import Keras."""

from __future__ import annotations

import subprocess
import sys

import pytest


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)


def test_import_conv1dify_works_with_torch_blocked():
    # NOTE: None in sys.modules makes every `import torch` raise ImportError, as on a machine without torch
    result = _run(
        "import sys; sys.modules['torch'] = None\n"
        "import conv1dify, conv1dify.core.layout, conv1dify.core.weights, conv1dify.core.sizes\n"
        "print(conv1dify.__version__, conv1dify.ConversionError.__name__)\n"
        "assert not any(m == 'torch' or m.startswith('torch.') for m in sys.modules if sys.modules[m] is not None)"
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("blocked", ["keras", "tensorflow"])
def test_the_torch_frontend_imports_no_keras(blocked):
    # NOTE: TensorFlow in one process with the CUDA torch build's triton crashes it; the frontend must not need it
    result = _run(
        f"import sys; sys.modules[{blocked!r}] = None\n"
        "import torch, conv1dify.torch\n"
        "net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4))\n"
        "net_1d = conv1dify.torch.convert(net, example_input=(3, 8, 8), layout='width')\n"
        "print(conv1dify.torch.verify(net, net_1d).verdict)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "verified"


def test_the_numpy_data_helpers_work_without_keras():
    result = _run(
        "import sys; sys.modules['keras'] = None\n"
        "import numpy as np\n"
        "from conv1dify import data\n"
        "x = np.arange(2 * 4 * 4 * 3, dtype='float32').reshape(2, 4, 4, 3)\n"
        "flat = data.to_1d(x, 'flatten', order='snake')\n"
        "assert np.array_equal(data.to_2d(flat, 'flatten', (4, 4, 3), order='snake'), x)\n"
        "print(flat.shape, data.spectrogram_to_1d(x).shape)\n"
        "data.LayoutTransform"
    )
    assert result.stdout.strip() == "(2, 16, 3) (2, 4, 12)", result.stderr
    # NOTE: the Keras parts say what they need instead of failing at `import conv1dify.data`
    assert "ImportError: conv1dify.data.LayoutTransform is built from Keras layers. Received:" in result.stderr
    assert "Fix: pip install keras" in result.stderr
