"""Export a converted model to LiteRT (``.tflite``) or ONNX (``.onnx``) and check it in its own runtime.

The export itself is Keras' own ``model.export(path, format="litert" | "onnx")``; this module adds what a
practitioner does around it: refuse what cannot export before anything is written, write the file atomically,
run the artifact in the runtime that will serve it (the ``ai-edge-litert`` interpreter, onnxruntime) against
the Keras model, and, for microcontrollers, full-integer (int8) post-training quantization calibrated on the
user's data laid out the way the model was converted.

None of the export packages (``pip install 'conv1dify[export]'``: ai-edge-litert, onnx, tf2onnx, onnxruntime)
is imported before an export asks for it, so ``import conv1dify`` never pays for them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ConversionError, Problem
from .._files import atomic_write

__all__ = ["Export", "OutputCheck", "export", "export_problems", "format_of", "refuse_unexportable"]

FORMATS = {".tflite": "litert", ".onnx": "onnx"}
RUNTIMES = {"litert": "ai-edge-litert", "onnx": "onnxruntime"}
# What each format needs to export (under TensorFlow) and to run; the `export` extra installs all of them.
_EXPORT_NEEDS = {"litert": (), "onnx": ("tf2onnx", "onnx")}
_RUNTIME_MODULES = {"litert": "ai_edge_litert", "onnx": "onnxruntime"}
_EXTRA = "pip install 'conv1dify[export]'"
_UNDER_TF = "export under TensorFlow: KERAS_BACKEND=tensorflow conv1dify export ..."
# NOTE: a dynamic axis (other than the batch) needs a size to run; 64 steps is long enough for the strides of
# the keras.applications nets at small sizes, and the report prints the shape that ran.
DYNAMIC_SIZE = 64


# Results -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorInfo:
    """An input or output of the exported artifact as its runtime sees it."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str
    quantization: tuple[float, int] | None = None  # int8 (scale, zero point)


@dataclass(frozen=True)
class OutputCheck:
    """One output of the artifact against the Keras model on one set of inputs.

    ``status`` is ``match``/``mismatch`` for a float artifact (``atol``/``rtol`` as in `conv1dify.verify`,
    NaN/inf masks included) and ``agrees``/``disagrees`` for an int8 one: the mean over examples of the cosine
    similarity between the artifact's and the Keras model's outputs, against ``min_cosine``; ``worst_cosine`` is
    the smallest example's (quantization may flip an example near a decision boundary).
    """

    data: str
    samples: int
    output: str
    shape_keras: tuple[int, ...]
    shape_runtime: tuple[int, ...]
    dtype_runtime: str
    max_abs: float
    max_rel: float
    cosine: float
    worst_cosine: float
    status: str

    @property
    def ok(self) -> bool:
        return self.status in ("match", "agrees")


@dataclass
class Export:
    """What `export` wrote and how the artifact compared with the Keras model in its runtime."""

    path: str
    format: str
    runtime: str
    backend: str
    int8: bool
    size: int
    float_size: int | None
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    checks: list[OutputCheck]
    atol: float
    rtol: float
    min_cosine: float
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["ok"] = self.ok
        return out


# Refusals, before anything is written ------------------------------------------------------------------


def format_of(path: str | os.PathLike[str]) -> str:
    """The export format a path asks for by its suffix: ``"litert"`` (``.tflite``) or ``"onnx"``.

    >>> format_of("model_1d.tflite")
    'litert'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ConversionError(
            "Unknown export format. Expected a file ending in .tflite (LiteRT) or .onnx (ONNX). "
            f"Received: path={str(path)!r}. Fix: name the output model_1d.tflite or model_1d.onnx."
        )
    return FORMATS[suffix]


def export_problems(model: Any, fmt: str, int8: bool = False, backend: str | None = None) -> list[Problem]:
    """Everything that stops ``model`` from exporting to ``fmt`` and running in its runtime, all at once.

    Each entry was probed with Keras 3.15 (see docs/deploy.md): the backend's own exporter, the packages it
    needs, and layers whose exported graph the runtime cannot load.
    """
    import keras

    backend = backend or keras.backend.backend()
    name = getattr(model, "name", "model")
    problems = [Problem(name, type(model).__name__, *p) for p in _backend_problems(fmt, int8, backend)]
    for layer in _layers(model):
        found = _layer_problem(layer, fmt, int8, backend)
        if found is not None:
            problems.append(Problem(layer.path if hasattr(layer, "path") else layer.name, type(layer).__name__, *found))
    return problems


def _backend_problems(fmt: str, int8: bool, backend: str) -> list[tuple[str, dict[str, Any], str]]:
    out: list[tuple[str, dict[str, Any], str]] = []
    if int8 and fmt != "litert":
        out.append(
            (
                "int8 quantization is for LiteRT",
                {"format": fmt},
                "export to a .tflite file, or drop --int8 for a float ONNX model.",
            )
        )
    if fmt == "litert" and backend == "jax":
        out.append(("the JAX backend cannot export LiteRT (Keras refuses it)", {"backend": backend}, _UNDER_TF))
    elif fmt == "litert" and backend == "torch" and (int8 or not _installed("litert_torch")):
        what = "int8 export runs under TensorFlow only" if int8 else "LiteRT export under PyTorch needs litert-torch"
        out.append((what, {"backend": backend}, _UNDER_TF))
    elif fmt == "onnx" and backend == "jax" and not _installed("jax2onnx"):
        out.append(
            ("ONNX export under JAX needs jax2onnx", {"backend": backend}, f"{_UNDER_TF} (or pip install jax2onnx).")
        )
    elif backend == "tensorflow":
        missing = [m for m in _EXPORT_NEEDS[fmt] if not _installed(m)]
        if missing:
            out.append((f"{fmt} export needs {', '.join(missing)}", {"missing": missing}, _EXTRA))
    if backend not in ("tensorflow", "jax", "torch"):
        out.append(
            ("Keras exports LiteRT and ONNX from TensorFlow, JAX and PyTorch only", {"backend": backend}, _UNDER_TF)
        )
    runtime = _RUNTIME_MODULES[fmt]
    if not _installed(runtime):
        out.append(
            (f"the check runs the artifact in {RUNTIMES[fmt]}, which is not installed", {"missing": runtime}, _EXTRA)
        )
    return out


# NOTE: keras.layers.Random* image augmentations run a random op even in inference mode (and pick the identity);
# tf2onnx has no ONNX op for StatelessRandomUniformV2 and writes a graph onnxruntime refuses to load (probed with
# RandomFlip, RandomTranslation, RandomZoom; LiteRT, float and int8, exports them and matches).
_RANDOM_AUGMENTATION_PREFIX = "Random"


def refuse_unexportable(model: Any, path: str | os.PathLike[str], int8: bool = False, calibration: bool = True) -> None:
    """Raise a `ConversionError` with every reason ``model`` cannot export to ``path`` (one line each)."""
    path = Path(path)
    problems = export_problems(model, format_of(path), int8=int8)
    if int8 and not calibration:
        problems.append(
            Problem(
                model.name,
                type(model).__name__,
                "int8 quantization needs calibration data",
                {},
                "pass calibration data (--calibration DATA.npy): a few hundred inputs like those the model will see.",
            )
        )
    if problems:
        raise _refusal(f"Cannot export model '{model.name}' to {path.name}:", problems)
    if not path.parent.is_dir():
        raise ConversionError(f"The output folder does not exist. Received: path={str(path)!r}. Fix: create it first.")


def _refusal(head: str, problems: Sequence[Problem]) -> ConversionError:
    """One line per reason; a single reason stays on the line that names the model."""
    if len(problems) > 1:
        return ConversionError(head, problems)
    error = ConversionError(f"{head} {problems[0]}")
    error.problems = tuple(problems)
    return error


def _layer_problem(layer: Any, fmt: str, int8: bool, backend: str) -> tuple[str, dict[str, Any], str] | None:
    cls = type(layer).__name__
    module = type(layer).__module__
    random_op = cls.startswith(_RANDOM_AUGMENTATION_PREFIX) and "preprocessing" in module
    if random_op and fmt == "onnx" and backend == "tensorflow":
        return (
            "a random augmentation runs a random op even at inference, which tf2onnx cannot export",
            {},
            "remove training-time augmentation from the model before export (it is the identity at "
            "inference), e.g. convert a 2D model built without it.",
        )
    if cls == "LayoutTransform" and backend == "torch" and fmt == "onnx":
        # NOTE: probed: PyTorch's ONNX tracer hands the layer tensor sizes where it needs ints (litert-torch does not).
        return (
            "conv1dify's LayoutTransform does not trace for PyTorch's ONNX exporter",
            {"backend": backend},
            "export under TensorFlow (KERAS_BACKEND=tensorflow), or convert with keep_input=False and lay "
            "the data out with conv1dify.data.to_1d before it reaches the model.",
        )
    if (backend, fmt) in _LIFTED_FAILS and _is_lifted(layer):
        return (
            f"a layer run on the signal as a one-pixel-wide image does not export to {fmt} under {backend} "
            f"({_LIFTED_FAILS[backend, fmt]})",
            {"backend": backend},
            "export under TensorFlow (KERAS_BACKEND=tensorflow), where it exports and matches.",
        )
    return None


# NOTE: probed with a lifted Resizing (Reshape -> Resizing -> Reshape), one model per process: jax2onnx cannot
# resize along a symbolic batch axis; TensorFlow and PyTorch export both formats to float32 rounding.
_LIFTED_FAILS = {("jax", "onnx"): "jax2onnx needs a constant batch size there"}


def _is_lifted(layer: Any) -> bool:
    """A 2D layer fed by a Reshape to a one-pixel-wide (or -tall) map: how conv1dify runs it on a signal."""
    try:
        tensor = layer.input
        source = tensor._keras_history.operation
    except (AttributeError, ValueError):  # not built, or called on several inputs
        return False
    shape = tuple(getattr(tensor, "shape", ()))
    return len(shape) == 4 and 1 in shape[1:3] and type(source).__name__ == "Reshape"


def _layers(model: Any) -> Iterator[Any]:
    """Every layer of ``model``, nested models' layers included."""
    for layer in getattr(model, "layers", ()):
        yield layer
        if hasattr(layer, "layers"):
            yield from _layers(layer)


def _installed(module: str) -> bool:
    # NOTE: find_spec looks the package up without importing it (tf2onnx and onnxruntime take seconds).
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# Data laid out as the model reads it -------------------------------------------------------------------


def prepared_inputs(model: Any, x: Any, layout: str | None = None, order: str | None = None) -> np.ndarray:
    """``x`` as ``model`` reads it: images ``(N, H, W, C)`` for a 1D model are laid out with `conv1dify.data`.

    The layout and pixel order default to those the model was converted with (its conversion record); data
    that does not fit raises `conv1dify.data.check_fits`' error, which says why and how to fix it.
    """
    from .. import data as layouts

    if len(model.inputs) != 1:
        raise ConversionError(
            f"Calibration and check data are for models with one input. Received: {len(model.inputs)} inputs "
            f"({', '.join(t.name for t in model.inputs)}). Fix: export without --calibration/--data; the random "
            "check covers every input."
        )
    array = np.asarray(x)
    record = getattr(model, "_conv1dify_record", None) or {}
    layout = layout or record.get("layout")
    order = order or record.get("order")
    want = len(model.inputs[0].shape)
    if array.ndim == want + 1 and want == 3 and layout is not None:
        array = layouts.to_1d(array, layout, order=order)
    layouts.check_fits(model, array, layout=layout, order=order)
    return np.asarray(array, dtype="float32")


def random_inputs(model: Any, samples: int, seed: int, like: np.ndarray | None = None) -> list[np.ndarray]:
    """Standard normal float32 inputs, one array per model input; dynamic axes get ``like``'s size or 64."""
    rng = np.random.default_rng(seed)
    arrays = []
    for tensor in model.inputs:
        shape = [samples]
        for axis, size in enumerate(tuple(tensor.shape)[1:], 1):
            shape.append(size if size is not None else (like.shape[axis] if like is not None else DYNAMIC_SIZE))
        arrays.append(rng.standard_normal(shape).astype("float32"))
    return arrays


def read_array(path: str | os.PathLike[str], what: str = "--calibration") -> np.ndarray:
    """The array in a ``.npy`` file, or in a ``.npz`` file (its only array, or the one named ``x``)."""
    path = Path(path)
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConversionError(
            f"Cannot read {what} data. Expected a .npy or .npz file of numbers. Received: {what} {str(path)!r} "
            f"({exc}). Fix: save it with numpy.save or numpy.savez."
        ) from None
    if isinstance(loaded, np.ndarray):
        return loaded
    with loaded:
        keys = list(loaded.keys())
        if len(keys) == 1 or "x" in keys:
            return loaded["x" if "x" in keys else keys[0]]
    raise ConversionError(
        f"Cannot tell which array of {what} data holds the inputs. Expected one array, or one named 'x'. "
        f"Received: arrays {keys}. Fix: numpy.savez(path, x=inputs)."
    )


# The export --------------------------------------------------------------------------------------------


def export(
    model: Any,
    path: str | os.PathLike[str],
    *,
    int8: bool = False,
    calibration: Any = None,
    data: Any = None,
    layout: str | None = None,
    order: str | None = None,
    atol: float = 1e-4,
    rtol: float = 1e-4,
    min_cosine: float = 0.95,
    samples: int = 8,
    seed: int = 0,
) -> Export:
    """Export ``model`` with Keras' ``model.export`` and check the artifact in its own runtime.

    The format comes from the suffix: ``.tflite`` is LiteRT, checked in the ``ai-edge-litert`` interpreter;
    ``.onnx`` is ONNX, checked in onnxruntime. The artifact runs ``samples`` standard normal inputs, and
    ``data`` when given, beside the Keras model; a float artifact must match within ``atol``/``rtol``. With
    ``int8=True`` (LiteRT only), weights and activations are quantized to int8 (inputs and outputs too, as
    microcontrollers need) from ``calibration``, and its outputs must keep a mean cosine similarity of at least
    ``min_cosine`` with the float model's; a float export is made beside it to report both sizes.

    Calibration and check data may be images ``(N, H, W, C)``: they are laid out with `conv1dify.data.to_1d`
    in the layout and pixel order the model was converted with (``layout``/``order``, or its conversion
    record). What cannot export raises a `ConversionError` listing every reason before any file is written.

    Args:
        model: A Keras model, usually a converted one.
        path: Where to write: ``*.tflite`` or ``*.onnx``. Written whole or not at all.
        int8: Full-integer post-training quantization (LiteRT, TensorFlow backend).
        calibration: Representative inputs for ``int8`` (a few hundred examples is typical).
        data: Inputs to check the artifact on, beside the random ones.
        layout: The layout of image data; defaults to the model's conversion record.
        order: The pixel order of ``flatten`` image data; defaults to the record's.
        atol: Absolute tolerance of a float artifact.
        rtol: Relative tolerance of a float artifact.
        min_cosine: Smallest mean cosine similarity the int8 outputs may have with the float model's.
        samples: Number of random inputs.
        seed: Seed of the random inputs.

    Returns:
        An `Export`: sizes, the artifact's inputs and outputs, and one `OutputCheck` per data set and output.

    >>> import keras, conv1dify
    >>> from conv1dify.keras._export import export
    >>> model = conv1dify.convert(keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3)]),
    ...                           layout="width")
    >>> export(model, "/tmp/model_1d.onnx").ok  # doctest: +SKIP
    True
    """
    import keras

    started = time.perf_counter()
    fmt = format_of(path)
    path = Path(path)
    refuse_unexportable(model, path, int8=int8, calibration=calibration is not None)
    calibration_x = prepared_inputs(model, calibration, layout, order) if calibration is not None else None
    data_x = prepared_inputs(model, data, layout, order) if data is not None else None

    inputs = random_inputs(model, samples, seed, like=data_x if data_x is not None else calibration_x)
    check_sets: list[tuple[str, list[np.ndarray]]] = [(f"random normal (seed {seed})", inputs)]
    if data_x is not None:
        check_sets.append(("data", [data_x]))
    if int8 and calibration_x is not None:
        # NOTE: int8 ranges come from the calibration data, so random normal inputs need not be in range;
        # agreement is judged on data like the calibration data (held to the first `samples` examples).
        check_sets = [("calibration", [calibration_x[: max(samples, 32)]]), *check_sets[1:]]

    kwargs = _int8_options(calibration_x) if int8 else {}
    # NOTE: the Keras outputs come first: Keras' ONNX export also needs a model that has been called once.
    references = [_keras_outputs(model, arrays) for _, arrays in check_sets]
    result: dict[str, Any] = {}

    def write(tmp: str) -> None:
        with _constants_inlined(model, fmt):
            model.export(tmp, format=fmt, verbose=False, **kwargs)
        runner = _runner(fmt, tmp)
        if len(runner.inputs) != len(model.inputs):
            extra = [t.name for t in runner.inputs[len(model.inputs) :]]
            raise ConversionError(
                f"The exported {fmt} model takes {len(runner.inputs)} inputs, the Keras model {len(model.inputs)}; "
                f"nothing was written. Received: extra inputs {extra}. Fix: export to .tflite, or report the layer "
                "these names point at."
            )
        result["runner"] = runner
        result["checks"] = [
            check
            for (label, arrays), want in zip(check_sets, references, strict=True)
            for check in _compare(label, runner, arrays, want, int8, atol, rtol, min_cosine)
        ]

    atomic_write(path, write)
    float_size = None
    if int8:
        with tempfile.TemporaryDirectory() as folder:
            float_path = Path(folder) / "float.tflite"
            model.export(str(float_path), format=fmt, verbose=False)
            float_size = float_path.stat().st_size
    runner = result["runner"]
    return Export(
        path=str(path),
        format=fmt,
        runtime=f"{RUNTIMES[fmt]} {_version(_RUNTIME_MODULES[fmt])}",
        backend=keras.backend.backend(),
        int8=int8,
        size=path.stat().st_size,
        float_size=float_size,
        inputs=runner.inputs,
        outputs=runner.outputs,
        checks=result["checks"],
        atol=atol,
        rtol=rtol,
        min_cosine=min_cosine,
        seconds=time.perf_counter() - started,
    )


@contextlib.contextmanager
def _constants_inlined(model: Any, fmt: str) -> Iterator[None]:
    """Under TensorFlow, hold layers' constant tensors as numpy arrays while Keras exports ONNX.

    NOTE: tf2onnx turns an eager tensor that a traced function captures into an extra graph input instead of a
    constant (seen on the Normalization layer of EfficientNetB0, whose statistics are eager tensors, not
    variables); a numpy array is traced as a constant. The layers get their tensors back afterwards.
    """
    import keras

    if fmt != "onnx" or keras.backend.backend() != "tensorflow":
        yield
        return
    import tensorflow as tf

    swapped = []
    for layer in _layers(model):
        for name, value in list(vars(layer).items()):
            if isinstance(value, tf.Tensor) and not isinstance(value, tf.Variable) and hasattr(value, "numpy"):
                swapped.append((layer, name, value))
                setattr(layer, name, value.numpy())
    try:
        yield
    finally:
        for layer, name, value in swapped:
            setattr(layer, name, value)


def _int8_options(calibration: np.ndarray | None) -> dict[str, Any]:
    """``model.export(..., format="litert")`` converter settings for full-integer quantization.

    Keras passes them to ``tf.lite.TFLiteConverter``; only int8 builtin kernels are allowed, so an op without
    one fails the export instead of falling back to float, and inputs and outputs are int8 too.
    """
    # NOTE: the LiteRT converter lives in TensorFlow; export_problems() has refused other backends for int8.
    import tensorflow as tf

    assert calibration is not None

    def representative_dataset() -> Iterator[list[np.ndarray]]:
        for i in range(len(calibration)):
            yield [calibration[i : i + 1]]

    return {
        "optimizations": [tf.lite.Optimize.DEFAULT],
        "representative_dataset": representative_dataset,
        "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]},
        "inference_input_type": tf.int8,
        "inference_output_type": tf.int8,
    }


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module.replace("_", "-"))
    except PackageNotFoundError:
        return "?"


# Runtimes ----------------------------------------------------------------------------------------------


class _Runner:
    """The artifact loaded in its runtime: float inputs in, float outputs out (int8 (de)quantized at the edge)."""

    inputs: list[TensorInfo]
    outputs: list[TensorInfo]

    def __call__(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError


class _LiteRTRunner(_Runner):
    def __init__(self, path: str) -> None:
        from ai_edge_litert.interpreter import Interpreter

        self._interpreter = Interpreter(model_path=path)
        signatures = self._interpreter.get_signature_list()
        self._key = next(iter(signatures))
        self._runner = self._interpreter.get_signature_runner(self._key)
        self._input_details = self._runner.get_input_details()
        self._output_details = self._runner.get_output_details()
        # NOTE: Keras names a signature's inputs after the model's inputs and its outputs output_0, output_1, ...
        self._input_names = list(signatures[self._key]["inputs"])
        self._output_names = sorted(self._output_details, key=_output_number)
        self.inputs = [_litert_info(n, self._input_details[n]) for n in self._input_names]
        self.outputs = [_litert_info(n, self._output_details[n]) for n in self._output_names]

    def __call__(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        feed = {}
        for name, array in zip(self._input_names, arrays, strict=True):
            feed[name] = _quantize(array, self._input_details[name])
        got = self._runner(**feed)
        return [_dequantize(got[name], self._output_details[name]) for name in self._output_names]


def _output_number(name: str) -> tuple[int, str]:
    digits = name.rpartition("_")[2]
    return (int(digits), name) if digits.isdigit() else (sys.maxsize, name)


def _litert_info(name: str, details: Mapping[str, Any]) -> TensorInfo:
    signature = details.get("shape_signature", details["shape"])
    shape = tuple(None if int(s) < 0 else int(s) for s in signature)
    scale, zero = details.get("quantization", (0.0, 0))
    quantized = np.dtype(details["dtype"]).kind in "iu" and scale != 0.0
    return TensorInfo(name, shape, np.dtype(details["dtype"]).name, (float(scale), int(zero)) if quantized else None)


def _quantize(array: np.ndarray, details: Mapping[str, Any]) -> np.ndarray:
    dtype = np.dtype(details["dtype"])
    scale, zero = details.get("quantization", (0.0, 0))
    if dtype.kind not in "iu" or scale == 0.0:
        return array.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(array / scale + zero), info.min, info.max).astype(dtype)


def _dequantize(array: np.ndarray, details: Mapping[str, Any]) -> np.ndarray:
    scale, zero = details.get("quantization", (0.0, 0))
    if np.dtype(details["dtype"]).kind not in "iu" or scale == 0.0:
        return np.asarray(array)
    return (np.asarray(array).astype("float32") - zero) * np.float32(scale)


class _OnnxRunner(_Runner):
    def __init__(self, path: str) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        self.inputs = [_onnx_info(t) for t in self._session.get_inputs()]
        self.outputs = [_onnx_info(t) for t in self._session.get_outputs()]

    def __call__(self, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
        feed = {t.name: a.astype(t.dtype) for t, a in zip(self.inputs, arrays, strict=True)}
        return [np.asarray(y) for y in self._session.run(None, feed)]


def _onnx_info(tensor: Any) -> TensorInfo:
    shape = tuple(s if isinstance(s, int) else None for s in tensor.shape)
    # NOTE: onnxruntime names element types the ONNX way: tensor(float) is float32, tensor(double) float64.
    name = tensor.type.removeprefix("tensor(").removesuffix(")")
    return TensorInfo(tensor.name, shape, {"float": "float32", "double": "float64"}.get(name, name))


def _runner(fmt: str, path: str) -> _Runner:
    """The artifact in its runtime; an artifact the runtime refuses is an export failure (nothing is kept)."""
    try:
        return _LiteRTRunner(path) if fmt == "litert" else _OnnxRunner(path)
    except Exception as exc:  # the runtime's own error types; what matters to the user is that it does not load
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConversionError(
            f"The exported {fmt} model does not load in {RUNTIMES[fmt]}; nothing was written. Received: "
            f"{type(exc).__name__}: {first[:300]}. Fix: export to the other format, or report the layer the "
            "message names."
        ) from None


# Comparison --------------------------------------------------------------------------------------------


def _keras_outputs(model: Any, arrays: list[np.ndarray]) -> list[np.ndarray]:
    """The Keras model's outputs, flattened in the order of its outputs."""
    import keras

    outputs = model.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0, batch_size=32)
    return [np.asarray(y) for y in keras.tree.flatten(outputs)]


def _compare(
    label: str,
    runner: _Runner,
    arrays: list[np.ndarray],
    want: list[np.ndarray],
    int8: bool,
    atol: float,
    rtol: float,
    min_cosine: float,
) -> list[OutputCheck]:
    got = runner(arrays)
    samples = len(arrays[0])
    checks = []
    for info, y, ref in zip(runner.outputs, got, want, strict=True):
        max_abs, max_rel, close = _errors(y, ref, atol, rtol)
        cosines = _cosines(y, ref)
        cosine = float(cosines.mean()) if cosines.size else 1.0
        status = ("agrees" if cosine >= min_cosine else "disagrees") if int8 else ("match" if close else "mismatch")
        checks.append(
            OutputCheck(
                data=label,
                samples=samples,
                output=info.name,
                shape_keras=tuple(ref.shape),
                shape_runtime=tuple(y.shape),
                dtype_runtime=info.dtype,
                max_abs=max_abs,
                max_rel=max_rel,
                cosine=cosine,
                worst_cosine=float(cosines.min()) if cosines.size else 1.0,
                status=status,
            )
        )
    return checks


def _errors(got: np.ndarray, want: np.ndarray, atol: float, rtol: float) -> tuple[float, float, bool]:
    """Max absolute and relative error, and whether ``got`` is within tolerance with the same NaN/inf masks."""
    if got.shape != want.shape:
        return float("inf"), float("inf"), False
    finite = np.isfinite(got) & np.isfinite(want)
    masks = np.array_equal(np.isnan(got), np.isnan(want)) and np.array_equal(np.isinf(got), np.isinf(want))
    diff = np.abs(got[finite].astype("float64") - want[finite].astype("float64"))
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(want[finite]).max()) if diff.size else 0.0
    close = bool(np.allclose(got[finite], want[finite], atol=atol, rtol=rtol))
    return max_abs, (max_abs / scale if scale > 0 else max_abs), close and bool(masks)


def _cosines(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """The cosine similarity of each example's outputs (1.0 where both are zero; -inf for a shape mismatch)."""
    if got.shape != want.shape:
        return np.array([-np.inf])
    a = got.reshape(len(got), -1).astype("float64")
    b = want.reshape(len(want), -1).astype("float64")
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    both_zero = (np.linalg.norm(a, axis=1) == 0) & (np.linalg.norm(b, axis=1) == 0)
    cos = np.where(norms > 0, (a * b).sum(axis=1) / np.where(norms > 0, norms, 1.0), 0.0)
    return np.where(both_zero, 1.0, cos)


# Presentation ------------------------------------------------------------------------------------------


def export_table(result: Export) -> Any:
    """A rich table in the style of the verification table: one row per data set and output."""
    from rich.table import Table

    sizes = f"{_megabytes(result.size)}"
    if result.float_size is not None:
        ratio = result.float_size / result.size if result.size else float("nan")
        sizes += f" (float {_megabytes(result.float_size)}, {ratio:.1f}x smaller)"
    criterion = (
        f"min mean cosine={result.min_cosine:g}" if result.int8 else f"atol={result.atol:g}  rtol={result.rtol:g}"
    )
    table = Table(
        title=f"export   {result.path}  format={result.format}{' int8' if result.int8 else ''}  "
        f"runtime={result.runtime}  {criterion}",
        title_justify="left",
        caption=f"size {sizes}; inputs {_tensors(result.inputs)}" + ("" if result.ok else "   MISMATCH"),
        caption_justify="left",
    )
    columns = ("data", "n", "output", "Keras shape", "runtime shape", "runtime dtype", "max abs", "max rel", "cosine",
               "worst cos")  # fmt: skip
    for column in (*columns, "status"):
        justify = "right" if column in ("n", "max abs", "max rel", "cosine", "worst cos") else "left"
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    style = {"match": "green", "agrees": "green", "mismatch": "red", "disagrees": "red"}
    for c in result.checks:
        table.add_row(
            c.data,
            str(c.samples),
            c.output,
            str(c.shape_keras),
            str(c.shape_runtime),
            c.dtype_runtime,
            f"{c.max_abs:.2e}",
            f"{c.max_rel:.2e}",
            f"{c.cosine:.4f}",
            f"{c.worst_cosine:.4f}",
            f"[{style[c.status]}]{c.status}[/]",
        )
    return table


def _tensors(infos: Sequence[TensorInfo]) -> str:
    return ", ".join(f"{t.name} {_shape_text(t.shape)} {t.dtype}" for t in infos)


def _shape_text(shape: Sequence[int | None]) -> str:
    return "(" + ", ".join("None" if s is None else str(s) for s in shape) + ")"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB" if size >= 10_000 else f"{size / 1e3:.1f} kB"


@contextlib.contextmanager
def held_native_output() -> Iterator[Callable[[], str]]:
    """Hold back what TensorFlow's converter and tf2onnx print (to the file descriptors, past Python).

    Yields a function that returns the held text; it is written out again if the block raises, or always
    with ``CONV1DIFY_DEBUG=1``.
    """
    if os.environ.get("CONV1DIFY_DEBUG"):
        yield lambda: ""
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile() as captured:

        def text() -> str:
            captured.seek(0)
            return captured.read().decode(errors="replace")

        for fd in saved:
            os.dup2(captured.fileno(), fd)
        try:
            yield text
        except BaseException:
            _restore(saved)
            sys.stderr.write(text())
            raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            _restore(saved)


def _restore(saved: dict[int, int]) -> None:
    for fd, copy in list(saved.items()):
        os.dup2(copy, fd)
        os.close(copy)
        del saved[fd]
