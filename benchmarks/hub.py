"""Conversion cost of two keras-hub backbones built from subclassed blocks, against the clone floor.

EfficientNetV2-S's block stack (fused and unfused MBConv blocks, squeeze-excite) and MobileNetV3-Small's
(inverted residuals, squeeze-excite) at 224x224, built from their constructors with random weights (never
``from_preset``). ``conv1dify.convert(model, layout="width", weights="sum")`` includes tracing every subclassed
block into its graph; the floor is ``keras.models.clone_model`` + ``set_weights`` of the same model, which
Keras can do here because keras-hub's blocks have configs. The target is the suite's: at most 1.3 times it.

    python -m benchmarks.hub [--repeat 3] [--out benchmarks/results]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ._common import RESULTS, describe_machine, fmt_stats, machine, stats, timed, write

RATIO_TARGET = 1.3


def efficientnet_v2_s() -> Any:
    import keras_hub

    return keras_hub.models.EfficientNetBackbone(
        stackwise_width_coefficients=[1.0] * 6,
        stackwise_depth_coefficients=[1.0] * 6,
        stackwise_kernel_sizes=[3] * 6,
        stackwise_num_repeats=[2, 4, 4, 6, 9, 15],
        stackwise_input_filters=[24, 24, 48, 64, 128, 160],
        stackwise_output_filters=[24, 48, 64, 128, 160, 256],
        stackwise_expansion_ratios=[1, 4, 4, 4, 6, 6],
        stackwise_squeeze_and_excite_ratios=[0.0, 0.0, 0, 0.25, 0.25, 0.25],
        stackwise_strides=[1, 2, 2, 2, 1, 2],
        stackwise_block_types=["fused"] * 3 + ["unfused"] * 3,
        stackwise_force_input_filters=[0] * 6,
        stackwise_nores_option=[False] * 6,
        input_shape=(224, 224, 3),
    )


def mobilenet_v3_small() -> Any:
    import keras_hub

    return keras_hub.models.MobileNetBackbone(
        stackwise_expansion=[[40, 56], [64, 144, 144], [72, 72], [144, 288, 288]],
        stackwise_num_blocks=[2, 3, 2, 3],
        stackwise_num_filters=[[16, 16], [24, 24, 24], [24, 24], [48, 48, 48]],
        stackwise_kernel_size=[[3, 3], [5, 5, 5], [5, 5], [5, 5, 5]],
        stackwise_num_strides=[[2, 1], [2, 1, 1], [1, 1], [2, 1, 1]],
        stackwise_se_ratio=[[None, None], [0.25] * 3, [0.3, 0.3], [0.3, 0.25, 0.25]],
        stackwise_activation=[["relu", "relu"], ["hard_swish"] * 3, ["hard_swish"] * 2, ["hard_swish"] * 3],
        stackwise_padding=[[1, 1], [2, 2, 2], [2, 2], [2, 2, 2]],
        output_num_filters=288,
        depthwise_filters=8,
        depthwise_stride=2,
        depthwise_residual=False,
        last_layer_filter=288,
        squeeze_and_excite=0.5,
        image_shape=(224, 224, 3),
        input_num_filters=16,
    )


MODELS = {"EfficientNetV2-S blocks": efficientnet_v2_s, "MobileNetV3-Small": mobilenet_v3_small}


def run(repeat: int) -> dict[str, Any]:
    import keras

    import conv1dify

    rows = []
    for name, build in MODELS.items():
        model = build()
        conv1dify.convert(model, layout="width", weights="sum")  # warm-up: imports, kernels

        def floor(model: Any = model) -> Any:
            clone = keras.models.clone_model(model)
            clone.set_weights(model.get_weights())
            return clone

        convert = [timed(lambda m=model: conv1dify.convert(m, layout="width", weights="sum"))[1] for _ in range(repeat)]
        clone = [timed(floor)[1] for _ in range(repeat)]
        ratio = stats(convert)["median"] / stats(clone)["median"]
        rows.append({"model": name, "params": model.count_params(), "layers": len(model.layers),
                     "convert": stats(convert), "floor": stats(clone), "ratio": ratio})
    return {"machine": machine(), "repeat": repeat, "ratio_target": RATIO_TARGET, "rows": rows}


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Conversion cost: keras-hub backbones with subclassed blocks",
        "",
        "`conv1dify.convert(model, layout='width', weights='sum')` (tracing included) against "
        "`keras.models.clone_model` + `set_weights`; median (min-max) of "
        f"{result['repeat']} runs. Target: at most {result['ratio_target']}x the floor.",
        "",
        "| model | parameters | top-level layers | convert | clone + set_weights | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        lines.append(
            f"| {row['model']} | {row['params']:,} | {row['layers']} | {fmt_stats(row['convert'])} | "
            f"{fmt_stats(row['floor'])} | {row['ratio']:.2f} |"
        )
    return "\n".join([*lines, "", describe_machine(result["machine"]), ""])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hub", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run(args.repeat)
    write(args.out, "hub", markdown(result), result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
