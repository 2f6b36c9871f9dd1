"""A 2D fully convolutional network, converted to 1D, trained on a UCR time series data set.

Wang et al. 2017 ("Time series classification from scratch with deep neural networks") set the FCN baseline
for time series: three conv blocks (128, 256, 128 filters; kernels 8, 5, 3), each with batch normalization
and ReLU, then global average pooling and a softmax. Here we write it the way an image model is written
(square 2D kernels), convert it with ``layout="width"`` and check that what comes out learns as well as the
published 1D FCN does.

Run (needs ``pip install 'conv1dify[examples]'``; the data ships inside aeon, nothing is downloaded)::

    python examples/ucr_fcn.py GunPoint --seeds 5 --epochs 300
    python examples/ucr_fcn.py ItalyPowerDemand ArrowHead --seeds 3 --epochs 200 --json fcn.json

Any equal-length data set aeon bundles works by name (GunPoint, ItalyPowerDemand, ArrowHead, OSULeaf,
BasicMotions, ...).
"""

from __future__ import annotations

import argparse

import _ucr
import keras
from keras import layers

import conv1dify


def fcn_2d(channels: int, n_classes: int) -> keras.Model:
    """Wang et al.'s FCN as an image model: 8x8, 5x5 and 3x3 kernels on images of any size.

    Square kernels are what a 2D design would use; under ``layout="width"`` the default size policy
    (``"kept"``) reads the kernel's width, so they become exactly the paper's 1D kernels 8, 5 and 3. A
    ``(1, 8)`` kernel would convert to the same 1D layer, but would not be a sensible image model.

    Batch normalization keeps its moving averages with momentum 0.9 rather than Keras' 0.99: GunPoint gives
    10 steps an epoch, and a 0.99 average still remembers its initial variance of 1 after hundreds of steps,
    so the model scores at chance in inference mode long after it fits the training set.
    """
    inp = keras.Input((None, None, channels))
    x = inp
    for filters, kernel in ((128, 8), (256, 5), (128, 3)):
        x = layers.Conv2D(filters, kernel, padding="same")(x)
        x = layers.BatchNormalization(momentum=0.9)(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inp, out, name="fcn_2d")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("datasets", nargs="+", help="aeon-bundled UCR data set names, e.g. GunPoint")
    parser.add_argument("--seeds", type=int, default=5, help="independent runs per data set (default 5)")
    parser.add_argument("--epochs", type=int, default=300, help="training epochs per run (default 300)")
    parser.add_argument("--json", help="write every run (accuracies, curves) to this JSON file")
    args = parser.parse_args(argv)

    results = {}
    for name in args.datasets:
        data = _ucr.load_ucr(name)
        print(
            f"{name}: {len(data.x_train)} train / {len(data.x_test)} test series, length {data.length}, "
            f"{data.channels} channel(s), {data.n_classes} classes"
        )
        runs = []
        for seed in range(args.seeds):
            keras.backend.clear_session()
            keras.utils.set_random_seed(seed)
            # NOTE: weights=None: the 2D model is untrained, and carrying its random kernels over by "sum" would
            # only give 1D kernels a larger initial scale than Keras' own 1D initialisation.
            model = conv1dify.convert(
                fcn_2d(data.channels, data.n_classes), layout="width", input_length=data.length, weights=None
            )
            run = _ucr.train(model, data, epochs=args.epochs, seed=seed)
            print(
                f"  seed {seed}: test accuracy {run.acc_best_loss:.3f} (last epoch {run.acc_last:.3f}), "
                f"{run.seconds:.0f} s"
            )
            print(f"    test accuracy every 10 epochs: {' '.join(f'{a:.2f}' for a in run.test_acc[9::10])}")
            runs.append(run)
        results[name] = _ucr.report("FCN (2D, converted with layout='width')", data, runs)
        _ucr.write_json(args.json, results)
    return results


if __name__ == "__main__":
    main()
