"""What lesson 04's demo logs: the photo as AlexNet sees it, conv1's 64 maps, and conv2's and conv3's."""
import numpy as np
import pytest
from PIL import Image

from tbcourse.kit.events import accumulator, decode_png
from tbcourse.settings import PHOTO


@pytest.fixture(scope="module")
def logged(demo_logs):
    """tag -> {step: decoded pixels}, read once."""
    acc = accumulator(demo_logs["04_feature_maps"])
    return {tag: {e.step: decode_png(e.encoded_image_string) for e in acc.Images(tag)} for tag in acc.Tags()["images"]}


def test_feature_map_tags_and_shapes(logged):
    shapes = {tag: {step: px.shape for step, px in by_step.items()} for tag, by_step in logged.items()}
    assert shapes == {"input image": {322: (224, 224, 3)}, "feature map in conv1": {322: (458, 458, 3)},
                      "feature maps/features.3": {322: (350, 466, 3)},  # 192 maps of 27x27, 16 per row
                      "feature maps/features.6": {322: (362, 242, 3)}}  # 384 maps of 13x13


def test_input_image_is_the_photo(logged):
    """The normalisation undone: the logged input is the shipped photo resized to 224x224."""
    with Image.open(PHOTO) as photo:
        want = np.asarray(photo.convert("RGB").resize((224, 224), Image.BILINEAR)).astype(int)
    assert np.abs(logged["input image"][322].astype(int) - want).max() <= 1
