"""Export to LiteRT and ONNX: export time, file sizes (float and int8), CPU latency, and int8 accuracy on UCR data.

Every model is a converted one (random weights and BatchNorm statistics, ``layout="width"`` at 32x32, or the
seed's first case). Latency is
the median time of one example (batch 1) through: Keras' ``model.predict_on_batch`` (a compiled function), the
``ai-edge-litert`` interpreter (float and int8 artifacts, its default XNNPACK delegate) and onnxruntime (CPU).
The UCR part trains the converted FCN of ``examples/ucr_fcn.py`` on GunPoint (bundled with aeon, no download),
exports it float and int8 (calibrated on the training series) and reports test accuracy in each runtime.

Run: ``python -m benchmarks export`` (about 10 min on 2 CPUs; needs ``pip install -e '.[export,examples]'``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._common import RESULTS, describe_machine, machine, write

MODELS = ("seed case 1", "MobileNetV2", "EfficientNetB0", "ResNet50")


def build(name: str) -> Any:
    import keras

    import conv1dify

    keras.utils.set_random_seed(0)
    if name == "seed case 1":
        from .handwritten import case1_2d

        return conv1dify.convert(case1_2d(), layout="flatten", sizes="first")
    factory = getattr(keras.applications, name)
    model_2d = factory(weights=None, include_top=False, input_shape=(32, 32, 3), pooling="avg")
    return conv1dify.convert(trained_looking(model_2d), layout="width")


def trained_looking(model: Any) -> Any:
    """BatchNorm statistics and affine weights away from their defaults.

    NOTE: with freshly initialised BatchNorm (mean 0, variance 1) MobileNetV2 and EfficientNetB0 at 32x32 give
    outputs near 1e-13, where every artifact matches and int8 has nothing to represent.
    """
    import keras

    rng = np.random.default_rng(1)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            for variable, low, high in (
                (layer.gamma, 0.8, 1.2),
                (layer.beta, -0.1, 0.1),
                (layer.moving_mean, -0.1, 0.1),
                (layer.moving_variance, 0.5, 1.5),
            ):
                if variable is not None:
                    variable.assign(rng.uniform(low, high, variable.shape).astype("float32"))
    return model


def median_seconds(fn: Any, repeat: int, min_seconds: float = 0.2) -> float:
    """Median seconds per call over ``repeat`` timings of enough calls to last ``min_seconds``."""
    fn()  # warm-up: graph tracing, delegate set-up
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_seconds:
        fn()
        calls += 1
    calls = max(1, calls)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def litert_call(path: Path, x: np.ndarray) -> Any:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    given = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(given["index"], x.shape)
    interpreter.allocate_tensors()
    given = interpreter.get_input_details()[0]
    scale, zero = given["quantization"]
    feed = np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8) if given["dtype"] == np.int8 else x
    out = interpreter.get_output_details()[0]

    def call() -> np.ndarray:
        interpreter.set_tensor(given["index"], feed)
        interpreter.invoke()
        y = interpreter.get_tensor(out["index"])
        if out["dtype"] == np.int8:
            o_scale, o_zero = out["quantization"]
            return (y.astype(np.float32) - o_zero) * o_scale
        return y

    return call


def onnx_call(path: Path, x: np.ndarray) -> Any:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda: session.run(None, {name: x})[0]


def export_row(name: str, folder: Path, repeat: int) -> dict[str, Any]:
    from conv1dify.keras._export import export, held_native_output

    model = build(name)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, *model.input_shape[1:])).astype("float32")
    calibration = rng.uniform(-1, 1, (64, *model.input_shape[1:])).astype("float32")
    row: dict[str, Any] = {"model": name, "params": model.count_params(), "input": list(model.input_shape[1:])}
    paths = {"litert": folder / f"{name}.tflite", "onnx": folder / f"{name}.onnx", "int8": folder / f"{name}_8.tflite"}
    for kind, path in paths.items():
        options = {"int8": True, "calibration": calibration} if kind == "int8" else {}
        start = time.perf_counter()
        with held_native_output():
            result = export(model, path, samples=4, **options)
        row[f"{kind}_seconds"] = time.perf_counter() - start
        row[f"{kind}_bytes"] = result.size
        row[f"{kind}_ok"] = result.ok
        row[f"{kind}_max_abs"] = max(c.max_abs for c in result.checks)
        row[f"{kind}_cosine"] = min(c.cosine for c in result.checks)
    row["latency"] = {
        "keras": median_seconds(lambda: model.predict_on_batch(x), repeat),
        "litert": median_seconds(litert_call(paths["litert"], x), repeat),
        "litert_int8": median_seconds(litert_call(paths["int8"], x), repeat),
        "onnxruntime": median_seconds(onnx_call(paths["onnx"], x), repeat),
    }
    return row


def ucr_row(dataset: str, epochs: int, folder: Path) -> dict[str, Any]:
    """Train the converted FCN, export float and int8, and score the test set in each runtime."""
    import keras

    import conv1dify
    from conv1dify.keras._export import export, held_native_output

    examples = Path(__file__).resolve().parent.parent / "examples"
    sys.path.insert(0, str(examples))
    import _ucr
    import ucr_fcn

    data = _ucr.load_ucr(dataset)
    keras.utils.set_random_seed(0)
    model = conv1dify.convert(
        ucr_fcn.fcn_2d(data.channels, data.n_classes), layout="width", input_length=data.length, weights=None
    )
    run = _ucr.train(model, data, epochs=epochs, seed=0)
    row: dict[str, Any] = {"dataset": dataset, "epochs": epochs, "train_seconds": run.seconds, "length": data.length}
    row["keras_accuracy"] = float(np.mean(model.predict(data.x_test, verbose=0).argmax(-1) == data.y_test))
    row["keras_bytes"] = sum(int(np.prod(v.shape)) * 4 for v in model.weights)
    for kind, path in (("litert", folder / "fcn.tflite"), ("int8", folder / "fcn_int8.tflite")):
        options = {"int8": True, "calibration": data.x_train} if kind == "int8" else {}
        with held_native_output():
            result = export(model, path, data=data.x_test, **options)
        predict = litert_call(path, data.x_test)
        row[f"{kind}_accuracy"] = float(np.mean(predict().argmax(-1) == data.y_test))
        row[f"{kind}_bytes"] = result.size
        row[f"{kind}_cosine"] = min(c.cosine for c in result.checks)
        row[f"{kind}_worst_cosine"] = min(c.worst_cosine for c in result.checks)
    return row


def run(models: list[str], repeat: int, dataset: str | None, epochs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = []
        for name in models:
            print(f"export: {name}...", file=sys.stderr, flush=True)
            rows.append(export_row(name, folder, repeat))
        ucr = ucr_row(dataset, epochs, folder) if dataset else None
    return {"machine": machine(), "repeat": repeat, "rows": rows, "ucr": ucr}


def _mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:.2f} MB"


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def markdown(result: dict[str, Any]) -> str:
    header = (
        "| model | params | .tflite | .tflite int8 | .onnx | export LiteRT / int8 / ONNX | max abs (float) "
        "| int8 cosine | Keras | LiteRT | LiteRT int8 | onnxruntime |"
    )
    lines = [
        "# Export: sizes, export time and CPU latency (batch 1)",
        "",
        header,
        "|---|" + "---:|" * 4 + "---|" + "---:|" * 6,
    ]
    for r in result["rows"]:
        lat = r["latency"]
        sizes = f"{_mb(r['litert_bytes'])} | {_mb(r['int8_bytes'])} | {_mb(r['onnx_bytes'])}"
        seconds = f"{r['litert_seconds']:.0f} / {r['int8_seconds']:.0f} / {r['onnx_seconds']:.0f} s"
        latency = " | ".join(_ms(lat[k]) for k in ("keras", "litert", "litert_int8", "onnxruntime"))
        error = max(r["litert_max_abs"], r["onnx_max_abs"])
        lines.append(
            f"| {r['model']} {tuple(r['input'])} | {r['params']:,} | {sizes} | {seconds} | {error:.1e} "
            f"| {r['int8_cosine']:.3f} | {latency} |"
        )
    ucr = result.get("ucr")
    if ucr:
        lines += [
            "",
            f"## UCR {ucr['dataset']}: the converted FCN ({ucr['epochs']} epochs, series of length {ucr['length']})",
            "",
            "| | weights / file | test accuracy | cosine vs Keras (mean / worst example) |",
            "|---|---:|---:|---:|",
            f"| Keras float32 | {_mb(ucr['keras_bytes'])} | {ucr['keras_accuracy']:.3f} | |",
            f"| LiteRT float32 | {_mb(ucr['litert_bytes'])} | {ucr['litert_accuracy']:.3f} | "
            f"{ucr['litert_cosine']:.4f} / {ucr['litert_worst_cosine']:.4f} |",
            f"| LiteRT int8 | {_mb(ucr['int8_bytes'])} | {ucr['int8_accuracy']:.3f} | "
            f"{ucr['int8_cosine']:.4f} / {ucr['int8_worst_cosine']:.4f} |",
        ]
    lines += ["", describe_machine(result["machine"])]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks export",
        description="Export sizes, time and latency; int8 accuracy on UCR. Example: python -m benchmarks export "
        "--models MobileNetV2 --dataset GunPoint --epochs 100",
    )
    parser.add_argument("--models", nargs="*", default=list(MODELS), help=f"default: {', '.join(MODELS)}")
    parser.add_argument("--repeat", type=int, default=7, help="latency timings per runtime (default: 7)")
    parser.add_argument("--dataset", default="GunPoint", help="aeon-bundled UCR data set, or 'none' (GunPoint)")
    parser.add_argument("--epochs", type=int, default=100, help="FCN training epochs (default: 100)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output directory (default: benchmarks/results)")
    args = parser.parse_args(argv)
    unknown = [m for m in args.models if m not in MODELS]
    if unknown or args.repeat < 1:
        parser.error(f"--models takes {', '.join(MODELS)} and --repeat at least 1; received {unknown}")
    dataset = None if args.dataset.lower() == "none" else args.dataset
    result = run(args.models, args.repeat, dataset, args.epochs)
    write(args.out, "export", markdown(result), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
