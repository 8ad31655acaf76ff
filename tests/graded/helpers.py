"""What several graded tests share: a module with named children for randomized models, and pixel checks."""
import numpy as np
import torch
import torch.nn as nn


class Chain(nn.Module):
    """Named children; forward calls them as listed in `order` (a name may come twice), then scales
    by a parameter of its own when `scale` is set."""

    def __init__(self, parts, order, scale=False):
        super().__init__()
        for name, module in parts:
            self.add_module(name, module)
        self.order = order
        self.scale = nn.Parameter(torch.ones(1)) if scale else None

    def forward(self, x):
        for name in self.order:
            x = getattr(self, name)(x)
        return x * self.scale if self.scale is not None else x


def check_pixels(got, want, case):
    """Two decoded pictures agree to within 1 of 255 (PNG round trips of floats), else say where they differ."""
    assert got.shape == want.shape, f"{case}: expected a {want.shape} picture, found {got.shape}"
    diff = np.abs(got.astype(int) - want.astype(int))
    worst = np.unravel_index(diff.argmax(), diff.shape)
    assert diff.max() <= 1, f"{case}: at pixel {tuple(map(int, worst))} expected {want[worst]}, found {got[worst]}"
