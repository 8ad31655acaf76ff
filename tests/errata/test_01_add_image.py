"""Errata for lesson 01: add_image scales by dtype, not by value (the notes' cond2 is out of date)."""
import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from tbcourse.kit.events import images


def shown(tmp_path, img, dataformats="CHW"):
    with SummaryWriter(log_dir=str(tmp_path)) as w:
        w.add_image("img", img, 0, dataformats=dataformats)
    return images(tmp_path, "img")[0]


def test_values_above_one_are_not_left_unchanged(tmp_path):
    """Notes: 'any value > 1 means the image is in [0, 255], left as it is'. Today: ×255 and clipped."""
    assert (shown(tmp_path / "a", torch.ones(3, 4, 4) * 1.1) == 255).all()
    assert (shown(tmp_path / "b", torch.full((3, 4, 4), 100.0)) == 255).all()


def test_uint8_is_stored_as_it_is(tmp_path):
    assert (shown(tmp_path, torch.full((3, 4, 4), 100, dtype=torch.uint8)) == 100).all()


def test_floats_in_unit_range_are_scaled_and_truncated(tmp_path):
    px = shown(tmp_path, torch.full((3, 2, 2), 0.5))
    assert (px == 127).all(), "0.5 * 255 = 127.5 is truncated to 127, not rounded"


def test_negative_values_are_clipped_to_black(tmp_path):
    assert (shown(tmp_path, -torch.rand(3, 4, 4) - 0.01) == 0).all()


def test_one_channel_becomes_grey_rgb(tmp_path):
    px = shown(tmp_path, torch.rand(5, 6), "HW")
    assert px.shape == (5, 6, 3) and np.array_equal(px[..., 0], px[..., 2])
