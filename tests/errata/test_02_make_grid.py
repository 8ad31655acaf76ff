"""Errata for lesson 02: make_grid's `range` is now `value_range`, `nrow` counts images per row,
normalize maps to [0, 1] (add_image's ×255 does the rest), not to 0–255, and the default pad_value 0 is
black, not colourless."""
import inspect

import pytest
import torch
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from tbcourse.kit.events import images


def test_range_keyword_raises_type_error():
    """Notes: make_grid(..., range=...). Today that keyword is gone."""
    with pytest.raises(TypeError, match="range"):
        make_grid(torch.rand(4, 3, 8, 8), normalize=True, range=(0, 1))


def test_value_range_clamps_then_scales():
    """The notes' example: values over [-1000, 2000], window (-600, 500)."""
    img = torch.tensor([-1000.0, -600.0, 0.0, 500.0, 2000.0]).reshape(1, 1, 1, 5).expand(1, 3, 1, 5)
    grid = make_grid(img, normalize=True, value_range=(-600, 500), padding=0)
    want = torch.tensor([0.0, 0.0, 600 / 1100, 1.0, 1.0])
    assert torch.allclose(grid[0, 0], want), f"expected {want.tolist()}, make_grid gave {grid[0, 0].tolist()}"


def test_nrow_is_images_per_row():
    """Notes: nrow = number of rows. 10 images with nrow=4 give 3 rows of 4 columns, not 4 rows."""
    grid = make_grid(torch.zeros(10, 3, 8, 8), nrow=4, padding=2)
    rows, cols = (grid.shape[1] - 2) // 10, (grid.shape[2] - 2) // 10
    assert (rows, cols) == (3, 4), f"expected 3 rows of 4 images, got {rows} rows of {cols}"


def test_normalize_maps_to_unit_range_and_add_image_scales(tmp_path):
    """Notes: normalize maps to 0–255. It maps to [0, 1]; add_image's float rule then multiplies by 255."""
    batch = torch.randn(6, 3, 8, 8) * 1000
    grid = make_grid(batch, normalize=True)
    assert grid.min() == 0 and grid.max() == 1, f"expected [0, 1], got [{grid.min()}, {grid.max()}]"
    with SummaryWriter(log_dir=str(tmp_path)) as w:
        w.add_image("grid", grid, 0)
    px = images(tmp_path, "grid")[0]
    assert px.min() == 0 and px.max() == 255, f"expected the PNG to span [0, 255], got [{px.min()}, {px.max()}]"


def test_default_pad_value_0_draws_black_lines(tmp_path):
    """Notes: pad_value 通常默认0，无色 (default 0, colourless). 0 is black: white images get black lines."""
    assert inspect.signature(make_grid).parameters["pad_value"].default == 0
    grid = make_grid(torch.ones(4, 3, 4, 4))  # padding 2: lines at rows 0-1 and columns 0-1, 6-7, ...
    with SummaryWriter(log_dir=str(tmp_path)) as w:
        w.add_image("grid", grid, 0)
    px = images(tmp_path, "grid")[0]
    assert px.shape == (8, 26, 3) and (px[:2] == 0).all() and (px[:, 6:8] == 0).all(), "padding is black"
    assert (px[2:6, 2:6] == 255).all(), "the images themselves stay white"
