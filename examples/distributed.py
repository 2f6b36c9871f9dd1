"""Train a converted 1D model data-parallel on the engines Keras already has, across two CPU devices.

conv1dify returns a plain Keras model, so distributed training is Keras' and the backend's job:

* TensorFlow: ``tf.distribute.MirroredStrategy``. The model is converted *inside* ``strategy.scope()``, so the
  1D model's variables (with the 2D weights carried over) are created as mirrored variables, one copy per device.
* JAX: ``keras.distribution.DataParallel``, set before the model is converted, so every variable is created
  replicated across the devices and each batch is split between them.

This machine has one CPU device, so we split it into two logical devices (TensorFlow:
``tf.config.set_logical_device_configuration``; JAX: ``XLA_FLAGS=--xla_force_host_platform_device_count``).
Both must happen before the backend initialises, which is why the backend imports live inside ``main``.
On a machine with GPUs, drop that step and the same code uses them.

Run::

    python examples/distributed.py                        # TensorFlow, MirroredStrategy, 2 logical CPUs
    KERAS_BACKEND=jax python examples/distributed.py      # JAX, keras.distribution.DataParallel
    python examples/distributed.py --epochs 5 --devices 2 --json out.json

The data is synthetic (two classes of noisy waves, made here) so the example runs anywhere with no extra
package; the UCR examples next to this one show real data.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def waves(n: int, length: int, seed: int):
    """Two classes of noisy waves, 2 or 8 cycles a series: easy, but not solvable by the mean alone."""
    import numpy as np

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype("int32")
    t = np.linspace(0, 1, length, dtype="float32")
    freq = np.where(y == 0, 2.0, 8.0)[:, None] + rng.normal(0, 0.2, (n, 1))
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    x = np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.3, (n, length))
    return x[..., None].astype("float32"), y


def cnn_2d(keras):
    """A small image CNN (weights random here; any trained 2D model converts the same way)."""
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((16, 64, 1)),
            layers.Conv2D(16, 5, padding="same", activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2, activation="softmax"),
        ],
        name="cnn_2d",
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=2, help="logical CPU devices to train across (default 2)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    parser.add_argument("--samples", type=int, default=512, help="synthetic training series (default 512)")
    parser.add_argument("--length", type=int, default=128, help="series length (default 128)")
    parser.add_argument("--json", help="also write the result to this JSON file")
    args = parser.parse_args(argv)

    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if backend == "jax":
        # NOTE: read by XLA when JAX first initialises its CPU backend, so it must be set before any jax import.
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={args.devices}"
        ).strip()
    elif backend == "tensorflow":
        import tensorflow as tf

        # NOTE: raises RuntimeError once TensorFlow has initialised its devices: do it before any TF op.
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * args.devices)
    else:
        raise SystemExit(f"this example covers the tensorflow and jax backends. Received: KERAS_BACKEND={backend}")

    import keras

    import conv1dify

    x, y = waves(args.samples, args.length, seed=0)
    x_val, y_val = waves(256, args.length, seed=1)
    keras.utils.set_random_seed(0)
    # The global batch is split across the devices: keep it a multiple of their number.
    batch_size = 32 * args.devices
    training = {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}

    if backend == "tensorflow":
        strategy = tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
        replicas = strategy.num_replicas_in_sync
        with strategy.scope():
            # Converting in the scope creates the 1D variables as mirrored ones; compile belongs here too.
            model = conv1dify.convert(cnn_2d(keras), layout="width", input_length=args.length, channels=1)
            model.compile(optimizer=keras.optimizers.Adam(1e-2), **training)
        mirrored = all(isinstance(v.value, tf.distribute.DistributedValues) for v in model.weights)
        engine = f"tf.distribute.MirroredStrategy ({replicas} replicas)"
    else:
        devices = keras.distribution.list_devices("cpu")[: args.devices]
        keras.distribution.set_distribution(keras.distribution.DataParallel(devices=devices))
        replicas = len(devices)
        model = conv1dify.convert(cnn_2d(keras), layout="width", input_length=args.length, channels=1)
        model.compile(optimizer=keras.optimizers.Adam(1e-2), **training)
        # Every variable is laid out on all devices (replicated) by DataParallel.
        mirrored = all(len(v.value.sharding.device_set) == replicas for v in model.weights)
        engine = f"keras.distribution.DataParallel ({replicas} devices)"

    start = time.perf_counter()
    history = model.fit(x, y, batch_size=batch_size, epochs=args.epochs, validation_data=(x_val, y_val), verbose=2)
    seconds = time.perf_counter() - start
    result = {
        "backend": backend,
        "engine": engine,
        "replicas": replicas,
        "variables_on_every_device": mirrored,
        "model": model.name,
        "input_shape": list(model.input_shape),
        "epochs": args.epochs,
        "loss": [float(v) for v in history.history["loss"]],
        "val_accuracy": [float(v) for v in history.history["val_accuracy"]],
        "seconds": seconds,
    }
    print(
        f"{model.name} {tuple(model.input_shape)} trained with {engine}: loss "
        f"{result['loss'][0]:.3f} -> {result['loss'][-1]:.3f}, validation accuracy "
        f"{result['val_accuracy'][-1]:.3f}, {seconds:.1f} s"
    )
    print("RESULT " + json.dumps(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return result


if __name__ == "__main__":
    main()
