"""What lesson 03's demo logs: AlexNet's conv1 and conv2 kernels in both views, and an untrained conv1."""
import pytest

from tbcourse.kit.events import accumulator, decode_png


@pytest.fixture(scope="module")
def logged(demo_logs):
    """tag -> {step: encoded PNG}, read once."""
    acc = accumulator(demo_logs["03_alexnet_kernels"])
    return {tag: {e.step: e.encoded_image_string for e in acc.Images(tag)} for tag in acc.Tags()["images"]}


def test_kernel_tags_and_steps(logged):
    steps = {tag: sorted(by_step) for tag, by_step in logged.items()}
    assert steps == {"0_Convlayer_split_in_channel": list(range(64)), "1_Convlayer_split_in_channel": list(range(192)),
                     "0_all": [322], "1_all": [322], "untrained/0_all": [322]}


def test_grid_shapes(logged):
    """conv1: 3 tiles of 11x11 per step, 64 RGB tiles 8 per row; conv2: 64 tiles of 5x5, 4096 RGB tiles."""
    shapes = {tag: decode_png(logged[tag][step]).shape
              for tag, step in [("0_Convlayer_split_in_channel", 0), ("1_Convlayer_split_in_channel", 191),
                                ("0_all", 322), ("1_all", 322), ("untrained/0_all", 322)]}
    assert shapes == {"0_Convlayer_split_in_channel": (15, 41, 3), "1_Convlayer_split_in_channel": (9, 450, 3),
                      "0_all": (106, 106, 3), "1_all": (3586, 58, 3), "untrained/0_all": (106, 106, 3)}
