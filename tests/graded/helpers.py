"""What several graded tests share: a module with named children for randomized models, and pixel checks."""
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn as nn

from tbcourse.grading.student import read_back, writable_path


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


class RunSpy:
    """A forward hook that records each run of its module in a file: '1' with gradient tracking on, '0' off.
    Student code runs in another process, so the record is a file that process may write."""

    def __init__(self, path):
        self.path = str(path)

    def __call__(self, module, inputs, output):
        with open(self.path, "a", encoding="utf-8") as out:
            out.write("1" if torch.is_grad_enabled() else "0")


@contextmanager
def spy(module, name):
    """Spy on ``module`` while the block runs; yields a function that returns the runs recorded so far."""
    path = writable_path(name)
    handle = module.register_forward_hook(RunSpy(path))
    try:
        yield lambda: read_back(path)
    finally:
        handle.remove()
