"""The 2D layer classes that convert, as ``conv1dify layers`` prints them, without loading a backend.

``LAYERS`` is the built-in registry written out for the Keras release named in ``KERAS_VERSION``;
`tests/cli/test_cli_fast.py` checks it against the live registry (`live_rows`), so a new converter or a Keras
release that changes the list fails a test rather than the CLI. Under another Keras release the CLI reads the
live registry instead (slower, but never wrong). Regenerate with ``python -m conv1dify._layer_names``.
"""

from __future__ import annotations

#: The Keras release the list below was generated with.
KERAS_VERSION = "3.15.1"

#: ``(public class name, where its converter lives)``, in the order the CLI prints them.
LAYERS: tuple[tuple[str, str], ...] = (
    ("keras.layers.Activation", "rebuilt from its config"),
    ("keras.layers.ActivityRegularization", "rebuilt from its config"),
    ("keras.layers.Add", "converters.merging.merge"),
    ("keras.layers.AlphaDropout", "converters.core.dropout"),
    ("keras.layers.AugMix", "converters.preprocessing.augmentation"),
    ("keras.layers.Average", "converters.merging.merge"),
    ("keras.layers.AveragePooling2D", "converters.pooling.average_pooling2d"),
    ("keras.layers.BatchNormalization", "converters.normalization.batch_normalization"),
    ("keras.layers.CenterCrop", "converters.preprocessing.center_crop"),
    ("keras.layers.Concatenate", "converters.merging.concatenate"),
    ("keras.layers.Conv2D", "converters.conv.conv2d"),
    ("keras.layers.Conv2DTranspose", "converters.conv.conv2d_transpose"),
    ("keras.layers.ConvLSTM2D", "converters.recurrent.conv_lstm2d"),
    ("keras.layers.Cropping2D", "converters.reshaping.cropping2d"),
    ("keras.layers.CutMix", "converters.preprocessing.augmentation"),
    ("keras.layers.Dense", "converters.core.dense"),
    ("keras.layers.DepthwiseConv2D", "converters.conv.depthwise_conv2d"),
    ("keras.layers.Dropout", "converters.core.dropout"),
    ("keras.layers.ELU", "rebuilt from its config"),
    ("keras.layers.Flatten", "converters.reshaping.flatten"),
    ("keras.layers.GaussianDropout", "rebuilt from its config"),
    ("keras.layers.GaussianNoise", "rebuilt from its config"),
    ("keras.layers.GlobalAveragePooling2D", "converters.pooling.global_average_pooling2d"),
    ("keras.layers.GlobalMaxPooling2D", "converters.pooling.global_max_pooling2d"),
    ("keras.layers.GroupNormalization", "converters.normalization.group_normalization"),
    ("keras.layers.Identity", "rebuilt from its config"),
    ("keras.layers.LayerNormalization", "converters.normalization.layer_normalization"),
    ("keras.layers.LeakyReLU", "rebuilt from its config"),
    ("keras.layers.Maximum", "converters.merging.merge"),
    ("keras.layers.MaxNumBoundingBoxes", "converters.preprocessing.max_num_bounding_boxes"),
    ("keras.layers.MaxPooling2D", "converters.pooling.max_pooling2d"),
    ("keras.layers.Minimum", "converters.merging.merge"),
    ("keras.layers.MixUp", "converters.preprocessing.augmentation"),
    ("keras.layers.Multiply", "converters.merging.merge"),
    ("keras.layers.Normalization", "converters.preprocessing.normalization"),
    ("keras.layers.Permute", "converters.reshaping.permute"),
    ("keras.layers.PReLU", "converters.core.prelu"),
    ("keras.layers.RandAugment", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomBrightness", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomColorDegeneration", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomColorJitter", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomContrast", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomCrop", "converters.preprocessing.random_crop"),
    ("keras.layers.RandomElasticTransform", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomErasing", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomFlip", "converters.preprocessing.random_flip"),
    ("keras.layers.RandomGaussianBlur", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomGrayscale", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomHue", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomInvert", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomPerspective", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomPosterization", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomRotation", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomSaturation", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomSharpness", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomShear", "converters.preprocessing.augmentation"),
    ("keras.layers.RandomTranslation", "converters.preprocessing.random_translation"),
    ("keras.layers.RandomZoom", "converters.preprocessing.random_zoom"),
    ("keras.layers.ReLU", "rebuilt from its config"),
    ("keras.layers.Rescaling", "converters.preprocessing.rescaling"),
    ("keras.layers.Reshape", "converters.reshaping.reshape"),
    ("keras.layers.Resizing", "converters.preprocessing.resizing"),
    ("keras.layers.RMSNormalization", "converters.normalization.layer_normalization"),
    ("keras.layers.SeparableConv2D", "converters.conv.separable_conv2d"),
    ("keras.layers.Softmax", "converters.core.softmax"),
    ("keras.layers.Solarization", "converters.preprocessing.augmentation"),
    ("keras.layers.SpatialDropout2D", "converters.regularization.spatial_dropout2d"),
    ("keras.layers.SpectralNormalization", "converters.normalization.spectral_normalization"),
    ("keras.layers.Subtract", "converters.merging.merge"),
    ("keras.layers.UnitNormalization", "converters.normalization.unit_normalization"),
    ("keras.layers.UpSampling2D", "converters.reshaping.up_sampling2d"),
    ("keras.layers.ZeroPadding2D", "converters.reshaping.zero_padding2d"),
    ("conv1dify.keras._trace.LayerWeight", "converters.ops_extra.layer_weight"),
    ("keras.ops.abs", "converters.ops._rebuild"),
    ("keras.ops.absolute", "converters.ops._rebuild"),
    ("keras.ops.add", "converters.ops._rebuild"),
    ("keras.ops.all", "converters.ops._rewrite_axis"),
    ("keras.ops.amax", "converters.ops._rewrite_axis"),
    ("keras.ops.amin", "converters.ops._rewrite_axis"),
    ("keras.ops.any", "converters.ops._rewrite_axis"),
    ("keras.ops.arctan", "converters.ops._rebuild"),
    ("keras.ops.argmax", "converters.ops._rewrite_axis"),
    ("keras.ops.argmin", "converters.ops._rewrite_axis"),
    ("keras.ops.cast", "converters.ops._rebuild"),
    ("keras.ops.ceil", "converters.ops._rebuild"),
    ("keras.ops.celu", "converters.ops._rebuild"),
    ("keras.ops.clip", "converters.ops._rebuild"),
    ("keras.ops.concatenate", "converters.ops._rewrite_axis"),
    ("keras.ops.cos", "converters.ops._rebuild"),
    ("keras.ops.cosh", "converters.ops._rebuild"),
    ("keras.ops.divide", "converters.ops._rebuild"),
    ("keras.ops.elu", "converters.ops._rebuild"),
    ("keras.ops.equal", "converters.ops._rebuild"),
    ("keras.ops.erf", "converters.ops._rebuild"),
    ("keras.ops.exp", "converters.ops._rebuild"),
    ("keras.ops.exp2", "converters.ops._rebuild"),
    ("keras.ops.expm1", "converters.ops._rebuild"),
    ("keras.ops.floor", "converters.ops._rebuild"),
    ("keras.ops.floor_divide", "converters.ops._rebuild"),
    ("keras.ops.gelu", "converters.ops._rebuild"),
    ("keras.ops.glu", "converters.ops._rewrite_axis"),
    ("keras.ops.greater", "converters.ops._rebuild"),
    ("keras.ops.greater_equal", "converters.ops._rebuild"),
    ("keras.ops.hard_shrink", "converters.ops._rebuild"),
    ("keras.ops.hard_sigmoid", "converters.ops._rebuild"),
    ("keras.ops.hard_silu", "converters.ops._rebuild"),
    ("keras.ops.hard_tanh", "converters.ops._rebuild"),
    ("keras.ops.leaky_relu", "converters.ops._rebuild"),
    ("keras.ops.less", "converters.ops._rebuild"),
    ("keras.ops.less_equal", "converters.ops._rebuild"),
    ("keras.ops.log", "converters.ops._rebuild"),
    ("keras.ops.log10", "converters.ops._rebuild"),
    ("keras.ops.log1p", "converters.ops._rebuild"),
    ("keras.ops.log2", "converters.ops._rebuild"),
    ("keras.ops.log_sigmoid", "converters.ops._rebuild"),
    ("keras.ops.log_softmax", "converters.ops._rewrite_axis"),
    ("keras.ops.logical_and", "converters.ops._rebuild"),
    ("keras.ops.logical_not", "converters.ops._rebuild"),
    ("keras.ops.logical_or", "converters.ops._rebuild"),
    ("keras.ops.logsumexp", "converters.ops._rewrite_axis"),
    ("keras.ops.max", "converters.ops._rewrite_axis"),
    ("keras.ops.maximum", "converters.ops._rebuild"),
    ("keras.ops.mean", "converters.ops._rewrite_axis"),
    ("keras.ops.min", "converters.ops._rewrite_axis"),
    ("keras.ops.minimum", "converters.ops._rebuild"),
    ("keras.ops.mod", "converters.ops._rebuild"),
    ("keras.ops.multiply", "converters.ops._rebuild"),
    ("keras.ops.negative", "converters.ops._rebuild"),
    ("keras.ops.not_equal", "converters.ops._rebuild"),
    ("keras.ops.pad", "converters.ops_extra.pad"),
    ("keras.ops.power", "converters.ops._rebuild"),
    ("keras.ops.prod", "converters.ops._rewrite_axis"),
    ("keras.ops.reciprocal", "converters.ops._rebuild"),
    ("keras.ops.relu", "converters.ops._rebuild"),
    ("keras.ops.relu6", "converters.ops._rebuild"),
    ("keras.ops.round", "converters.ops._rebuild"),
    ("keras.ops.rsqrt", "converters.ops._rebuild"),
    ("keras.ops.selu", "converters.ops._rebuild"),
    ("keras.ops.sigmoid", "converters.ops._rebuild"),
    ("keras.ops.sign", "converters.ops._rebuild"),
    ("keras.ops.silu", "converters.ops._rebuild"),
    ("keras.ops.sin", "converters.ops._rebuild"),
    ("keras.ops.sinh", "converters.ops._rebuild"),
    ("keras.ops.soft_shrink", "converters.ops._rebuild"),
    ("keras.ops.softmax", "converters.ops._rewrite_axis"),
    ("keras.ops.softplus", "converters.ops._rebuild"),
    ("keras.ops.softsign", "converters.ops._rebuild"),
    ("keras.ops.split", "converters.ops_extra.split"),
    ("keras.ops.sqrt", "converters.ops._rebuild"),
    ("keras.ops.square", "converters.ops._rebuild"),
    ("keras.ops.std", "converters.ops._rewrite_axis"),
    ("keras.ops.subtract", "converters.ops._rebuild"),
    ("keras.ops.sum", "converters.ops._rewrite_axis"),
    ("keras.ops.tan", "converters.ops._rebuild"),
    ("keras.ops.tanh", "converters.ops._rebuild"),
    ("keras.ops.true_divide", "converters.ops._rebuild"),
    ("keras.ops.var", "converters.ops._rewrite_axis"),
    ("keras.ops.where", "converters.ops._rebuild"),
    ("keras.src.applications.convnext.LayerScale", "converters.applications.layer_scale"),
    ("keras.src.applications.convnext.StochasticDepth", "rebuilt from its config"),
    ("keras.src.applications.inception_resnet_v2.CustomScaleLayer", "rebuilt from its config"),
)


def rows() -> list[tuple[str, str]] | None:
    """The static list, or ``None`` when the installed Keras is not the release it was generated with."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("keras")
    except PackageNotFoundError:
        return None
    return list(LAYERS) if installed == KERAS_VERSION else None


def live_rows() -> list[tuple[str, str]]:
    """The list read from the live registry (imports Keras and every built-in converter)."""
    from .keras import _convert  # noqa: F401  (registers the built-in converters)
    from .keras._registry import get_converter, public_name, registered_classes

    found = []
    for cls in registered_classes():
        converter = get_converter(cls)
        name = getattr(converter, "__name__", "?")
        where = (
            "rebuilt from its config"
            if name == "carry_over"
            else f"converters.{getattr(converter, '__module__', '?').rpartition('.')[2]}.{name}"
        )
        found.append((public_name(cls), where))
    return sorted(found, key=lambda row: (not row[0].startswith("keras.layers."), row[0].lower()))


def _source() -> str:
    """This module's text with ``LAYERS`` and ``KERAS_VERSION`` rewritten from the live registry."""
    import re
    from importlib.metadata import version
    from pathlib import Path

    text = Path(__file__).read_text()
    body = "".join(f'    ("{name}", "{where}"),\n' for name, where in live_rows())
    text = re.sub(r'KERAS_VERSION = "[^"]*"', f'KERAS_VERSION = "{version("keras")}"', text, count=1)
    return re.sub(r"(LAYERS: tuple\[tuple\[str, str\], \.\.\.\] = \(\n).*?(^\)\n)", lambda m: m.group(1) + body +
                  m.group(2), text, count=1, flags=re.S | re.M)  # fmt: skip


if __name__ == "__main__":
    from pathlib import Path

    Path(__file__).write_text(_source())
