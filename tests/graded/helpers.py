"""What several graded tests share: a module with named children for randomized models, pixel checks, and spies
that student code is handed (they run in its process, so they report through a file it may write)."""
import json
import warnings
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn as nn

from tbcourse.grading.student import read_back, writable_path
from tbcourse.i18n import _


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
    assert got.shape == want.shape, _("{case}: expected a {want_shape} picture, found {got_shape}").format(case=case,
                                        want_shape=want.shape, got_shape=got.shape)
    diff = np.abs(got.astype(int) - want.astype(int))
    worst = np.unravel_index(diff.argmax(), diff.shape)
    assert diff.max() <= 1, _("{case}: at pixel {pixel} expected {want_worst}, found {got_worst}").format(case=case,
                                pixel=tuple(map(int, worst)), want_worst=want[worst], got_worst=got[worst])


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


class ImageSpy:
    """Stands in for a SummaryWriter: each add_image appends a line to a file, with the image's shape and the
    step and dataformats it was logged with, so that a test sees the call itself, not only the stored picture."""

    def __init__(self, path):
        self.path = str(path)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"tag": tag, "shape": list(img_tensor.shape), "step": global_step,
                                  "dataformats": dataformats}) + "\n")

    def flush(self):
        pass


JIT_DEPRECATION = "`torch.jit.trace` is deprecated. Please switch to `torch.compile` or `torch.export`."


class WarningSpy:
    """A forward hook that, while the model runs (add_graph traces it), notes which warnings would reach the
    user: 'D' for torch's jit deprecation FutureWarning, 'O' for another FutureWarning, '-' for neither."""

    def __init__(self, path):
        self.path = str(path)

    def __call__(self, module, inputs, output):
        with warnings.catch_warnings(record=True) as shown:  # the filters in force, copied; nothing printed
            warnings.warn(JIT_DEPRECATION, FutureWarning)
            warnings.warn("another FutureWarning, which must still be shown", FutureWarning)
        seen = "".join("D" if "jit" in str(w.message) else "O" for w in shown) or "-"
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(seen + "\n")
