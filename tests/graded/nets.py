"""Building blocks of the randomized models that the graded tests of lessons 05 and 06 make."""
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
