"""Errata for lesson 01: add_image scales by dtype, not by value. The notes' cond2 was never torch's rule:
in 2021 a float image was ×255 and cast to uint8 unclipped, so ones * 1.1 wrapped to a dark pixel."""
import inspect
import math

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter, summary

from tbcourse.kit.events import decode_png, images


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


def test_in_2021_ones_times_1_1_wrapped_to_a_dark_pixel():
    """torch 1.7 did (img * 255).astype(np.uint8), unclipped. Casting 280.5 to uint8 is undefined in C; x86
    kept the low 8 bits. Shown with explicit arithmetic, since the cast itself differs by platform."""
    scaled = np.float32(1.1) * np.float32(255)
    assert scaled == np.float32(280.5)
    assert int(scaled) % 256 == 24, "the old step 3: 24 of 255 in every channel, nearly black"


def test_today_summary_image_scales_by_dtype_and_clips():
    """The rule lives in torch.utils.tensorboard.summary.image: _calc_scale_factor, then clip, then the cast."""
    assert summary._calc_scale_factor(np.ones(1, np.float64)) == 255
    assert summary._calc_scale_factor(np.ones(1, np.uint8)) == 1
    assert ".clip(0, 255).astype(np.uint8)" in inspect.getsource(summary.image)
    png = summary.image("img", torch.ones(3, 2, 2) * 1.1, dataformats="CHW").value[0].image.encoded_image_string
    assert (decode_png(png) == 255).all()


def test_randn_zeroes_half_the_channels_but_blackens_one_pixel_in_eight(tmp_path):
    """Notes' step 1. A channel value is 0 when below 1/255 (p just over 1/2); a pixel is black when all 3 are."""
    torch.manual_seed(0)
    px = shown(tmp_path, torch.randn(3, 512, 512))
    p = 0.5 * (1 + math.erf(1 / 255 / math.sqrt(2)))
    zero, black = (px == 0).mean(), (px == 0).all(axis=2).mean()
    assert abs(zero - p) < 0.005, f"expected {p:.3f} of the channel values at 0, got {zero:.3f}"
    assert abs(black - p**3) < 0.005, f"expected {p**3:.3f} of the pixels black, got {black:.3f}"
