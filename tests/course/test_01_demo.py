"""What lesson 01's demo logs: the notes' five steps and the [0, 255] image shown two ways; what it prints
about step 1, and of displayed_pixels only what the lesson already answers."""
import re

from tbcourse.kit.events import images


def test_five_note_steps(demo_logs):
    steps = images(demo_logs["01_add_image"], "fake_img")
    assert sorted(steps) == [1, 2, 3, 4, 5]
    assert all(px.shape == (512, 512, 3) for px in steps.values())
    assert (steps[3] == 255).all(), "ones * 1.1 is white"


def test_float_pixels_white_until_made_displayable(demo_logs):
    raw = images(demo_logs["01_add_image"], "pixels_0_255/as_float")[0]
    fixed = images(demo_logs["01_add_image"], "pixels_0_255/as_displayable")[0]
    assert (raw[:, 2:] == 255).all(), "a float image in [0, 255] is white wherever a value exceeds 1"
    assert fixed[0, :, 0].tolist() == list(range(256)), "as_displayable shows the 0..255 ramp"


def test_step_1_has_half_its_channels_at_0_and_one_pixel_in_eight_black(demo_logs, demo_results):
    px = images(demo_logs["01_add_image"], "fake_img")[1]
    zero, black = (px == 0).mean(), (px == 0).all(axis=2).mean()
    assert abs(zero - 0.5) < 0.01, f"{zero:.3f} of the channel values are 0"
    assert abs(black - 0.125) < 0.01, f"{black:.3f} of the pixels are black"
    said = demo_results[1]["01_add_image"].stdout
    assert f"{zero:.1%} of the channel values are 0, {black:.1%} of the pixels are black" in said, said


def test_prints_only_the_predictions_the_lesson_gives(demo_results):
    """01.2 asks the student to predict pixels: the demo shows only the cases the lesson's text answers."""
    said = demo_results[1]["01_add_image"].stdout
    assert re.findall(r"^ *(.+) -> pixel (.+)$", said, re.M) == [("ones * 1.1, CHW", "[255, 255, 255]"),
                                                               ("float 128.0, CHW", "[255, 255, 255]"),
                                                               ("uint8 128, CHW", "[128, 128, 128]")], said
    assert "displayed_pixels predicts every stored pixel of pixels_0_255/as_float: True" in said, said
