"""What lesson 01's demo logs: the notes' five steps and the [0, 255] image shown two ways."""
from tbcourse.kit.events import images


def test_five_note_steps(demo_runs):
    steps = images(demo_runs / "01_add_image", "fake_img")
    assert sorted(steps) == [1, 2, 3, 4, 5]
    assert all(px.shape == (512, 512, 3) for px in steps.values())
    assert (steps[3] == 255).all(), "ones * 1.1 is white"


def test_float_pixels_white_until_made_displayable(demo_runs):
    raw = images(demo_runs / "01_add_image", "pixels_0_255/as_float")[0]
    fixed = images(demo_runs / "01_add_image", "pixels_0_255/as_displayable")[0]
    assert (raw[:, 2:] == 255).all(), "a float image in [0, 255] is white wherever a value exceeds 1"
    assert fixed[0, :, 0].tolist() == list(range(256)), "as_displayable shows the 0..255 ramp"
