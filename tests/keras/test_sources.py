"""The architecture names the CLI knows without a backend are keras.applications' own."""

import keras
import pytest

from conv1dify import ConversionError
from conv1dify._names import APPLICATION_NAMES, application_name


def test_the_static_list_is_keras_applications():
    live = sorted(n for n in dir(keras.applications) if n[:1].isupper() and callable(getattr(keras.applications, n)))
    assert sorted(APPLICATION_NAMES) == live


def test_a_typo_is_answered_with_the_closest_names():
    assert application_name("resnet50") == "ResNet50"
    with pytest.raises(ConversionError, match=r"Received: 'VGG61'\. Did you mean VGG19, VGG16\?"):
        application_name("VGG61")
