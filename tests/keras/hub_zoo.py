"""keras-hub CNN backbones on small configurations, built from their constructors (random weights, no download).

Each entry builds one model; ``SIZE`` is the image side the CI tests use. Configurations cover each block
family the issue lists: ResNet v1/v2/vd with basic and bottleneck blocks, CSPNet's csp/cs3/dark stages,
EfficientNet v1 and v2 (fused and unfused), MobileNetV3, and the detection/segmentation backbones on a small
ResNet encoder.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SIZE = 64


def _hub() -> Any:
    import keras_hub

    return keras_hub.models


def resnet(block: str = "basic_block", pre: bool = False, shape: tuple[Any, ...] = (SIZE, SIZE, 3)) -> Any:
    return _hub().ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[7],
        stackwise_num_filters=[64, 16, 16, 16],
        stackwise_num_blocks=[1, 1, 1, 1],
        stackwise_num_strides=[1, 2, 2, 2],
        block_type=block,
        use_pre_activation=pre,
        image_shape=shape,
    )


def cspnet(stage: str, block: str) -> Any:
    return _hub().CSPNetBackbone(
        stem_filters=16,
        stem_kernel_size=3,
        stem_strides=2,
        stackwise_depth=[1, 1],
        stackwise_strides=[1, 2],
        stackwise_num_filters=[16, 32],
        block_type=block,
        stage_type=stage,
        expand_ratio=[2.0] if stage != "dark" else [1.0],
        bottle_ratio=[0.5] if stage != "dark" else [1.0],
        image_shape=(SIZE, SIZE, 3),
    )


def efficientnet(version: int) -> Any:
    blocks = [["unfused", "unfused"], ["fused", "unfused"]][version - 1]
    return _hub().EfficientNetBackbone(
        stackwise_width_coefficients=[1.0, 1.0],
        stackwise_depth_coefficients=[1.0, 1.0],
        stackwise_kernel_sizes=[3, 3],
        stackwise_num_repeats=[1, 1],
        stackwise_input_filters=[8, 8],
        stackwise_output_filters=[8, 16],
        stackwise_expansion_ratios=[1, 4],
        stackwise_squeeze_and_excite_ratios=[0.25, 0.25],
        stackwise_strides=[1, 2],
        stackwise_block_types=blocks,
        stackwise_force_input_filters=[0, 0],
        stackwise_nores_option=[False, False],
        input_shape=(SIZE, SIZE, 3),
        num_features=32,
    )


def mobilenet() -> Any:
    return _hub().MobileNetBackbone(
        stackwise_expansion=[[16, 24], [32]],
        stackwise_num_blocks=[2, 1],
        stackwise_num_filters=[[8, 8], [16]],
        stackwise_kernel_size=[[3, 3], [5]],
        stackwise_num_strides=[[2, 1], [2]],
        stackwise_se_ratio=[[None, 0.25], [0.25]],
        stackwise_activation=[["relu", "relu"], ["hard_swish"]],
        stackwise_padding=[[1, 1], [2]],
        output_num_filters=32,
        depthwise_filters=8,
        depthwise_stride=2,
        depthwise_residual=False,
        last_layer_filter=32,
        squeeze_and_excite=0.5,
        image_shape=(SIZE, SIZE, 3),
        input_num_filters=8,
    )


def vgg() -> Any:
    return _hub().VGGBackbone(stackwise_num_repeats=[1, 2], stackwise_num_filters=[8, 16],
                              image_shape=(SIZE, SIZE, 3))


def xception() -> Any:
    return _hub().XceptionBackbone(stackwise_conv_filters=[[8, 16], [16, 32], [32, 32]],
                                   stackwise_pooling=[True, True, False], image_shape=(SIZE, SIZE, 3))


def densenet() -> Any:
    return _hub().DenseNetBackbone(stackwise_num_repeats=[1, 2], growth_rate=8, image_shape=(SIZE, SIZE, 3))


def hgnetv2(lightweight: bool = False, affine: bool = False) -> Any:
    return _hub().HGNetV2Backbone(
        depths=[1, 1],
        embedding_size=16,
        hidden_sizes=[32, 64],
        stem_channels=[3, 8, 16],
        hidden_act="relu",
        use_learnable_affine_block=affine,
        stackwise_stage_filters=[(16, 8, 32, 1, 2, 3), (32, 16, 64, 1, 2, 3)],
        apply_downsample=[False, True],
        use_lightweight_conv_block=[lightweight, lightweight],
        image_shape=(SIZE, SIZE, 3),
    )


def deeplab() -> Any:
    return _hub().DeepLabV3Backbone(
        image_encoder=resnet(),
        spatial_pyramid_pooling_key="P4",
        low_level_feature_key="P2",
        upsampling_size=4,
        dilation_rates=[2, 4],
        projection_filters=8,
        image_shape=(SIZE, SIZE, 3),
    )


def retinanet() -> Any:
    return _hub().RetinaNetBackbone(image_encoder=resnet(), min_level=3, max_level=5, use_p5=False,
                                    image_shape=(SIZE, SIZE, 3))


def basnet() -> Any:
    return _hub().BASNetBackbone(image_encoder=resnet(shape=(None, None, 3)), num_classes=1,
                                 image_shape=(SIZE, SIZE, 3), projection_filters=64)


def vit() -> Any:
    return _hub().ViTBackbone(image_shape=(32, 32, 3), patch_size=8, num_layers=1, num_heads=2, hidden_dim=16,
                              mlp_dim=32)


def mit() -> Any:
    return _hub().MiTBackbone(
        layerwise_depths=[1, 1],
        num_layers=2,
        layerwise_num_heads=[1, 2],
        layerwise_sr_ratios=[4, 2],
        max_drop_path_rate=0.1,
        layerwise_patch_sizes=[7, 3],
        layerwise_strides=[4, 2],
        hidden_dims=[8, 16],
        image_shape=(32, 32, 3),
    )


# Transformers with Conv2D patch embeddings: refused with every layer listed, never a crash.
TRANSFORMERS: dict[str, Callable[[], Any]] = {"vit": vit, "mit": mit}

BACKBONES: dict[str, Callable[[], Any]] = {
    "resnet-v1-basic": lambda: resnet("basic_block"),
    "resnet-v1-bottleneck": lambda: resnet("bottleneck_block"),
    "resnet-v2-basic": lambda: resnet("basic_block", pre=True),
    "resnet-v2-bottleneck": lambda: resnet("bottleneck_block", pre=True),
    "resnet-vd-basic": lambda: resnet("basic_block_vd"),
    "resnet-vd-bottleneck": lambda: resnet("bottleneck_block_vd"),
    "cspnet-csp": lambda: cspnet("csp", "bottleneck_block"),
    "cspnet-cs3": lambda: cspnet("cs3", "bottleneck_block"),
    "cspnet-dark": lambda: cspnet("dark", "dark_block"),
    "densenet": densenet,
    "efficientnet-v1": lambda: efficientnet(1),
    "efficientnet-v2": lambda: efficientnet(2),
    "mobilenet-v3": mobilenet,
    "vgg": vgg,
    "xception": xception,
    "hgnetv2": hgnetv2,
    "hgnetv2-light-affine": lambda: hgnetv2(True, True),
    "deeplabv3": deeplab,
    "retinanet": retinanet,
    "basnet": basnet,
}
