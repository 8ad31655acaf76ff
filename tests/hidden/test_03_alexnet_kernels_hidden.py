"""Lesson 03's hidden checks: 03.2 and 03.3 against make_grid itself, on plain random weights (the public checks'
weights are made from their grids)."""
import pytest
import torch
import torch.nn as nn
from torchvision.utils import make_grid

from tbcourse.grading.student import StudentLesson
from hidden_messages import _

lesson = StudentLesson("03_alexnet_kernels")


def random_conv(rng, c_in, c_out):
    conv = nn.Conv2d(c_in, c_out, (rng.randint(2, 7), rng.randint(2, 7)))
    gen = torch.Generator().manual_seed(rng.randrange(2**31))
    with torch.no_grad():
        conv.weight.mul_(torch.exp(torch.empty(c_out, c_in, 1, 1).uniform_(-3, 3, generator=gen)))
    return conv


def check(got, want, case):
    assert isinstance(got, torch.Tensor) and tuple(got.shape) == tuple(want.shape), \
        _("{case}: expected a tensor of shape {want_shape}").format(case=case, want_shape=tuple(want.shape))
    assert (got.detach().float() - want).abs().max() <= 1e-5, _("{case}: not the grid make_grid gives").format(
                                                                  case=case)


@pytest.mark.exercise("03.2", points=1)
@pytest.mark.parametrize("case", range(3))
def test_kernel_grid_split_is_make_grids(rng, case):
    conv = random_conv(rng, rng.randint(1, 16), rng.randint(1, 16))
    o, w = rng.randrange(conv.out_channels), conv.weight.detach().clone()
    want = make_grid(w[o].unsqueeze(1), nrow=w.shape[1], normalize=True, scale_each=True)
    check(lesson.kernel_grid_split(conv, o), want, _("weight {shape}, out_idx={o}").format(shape=tuple(w.shape), o=o))


@pytest.mark.exercise("03.3", points=1)
@pytest.mark.parametrize("case", range(3))
def test_kernel_grid_all_is_make_grids(rng, case):
    c_in = rng.choice([3, 6, 9])
    conv = random_conv(rng, c_in, rng.randint(1, 16))
    nrow, w = rng.randint(1, 12), conv.weight.detach().clone()
    want = make_grid(w.reshape(-1, 3, *w.shape[2:]), nrow=nrow, normalize=True, scale_each=True)
    check(lesson.kernel_grid_all(conv, nrow=nrow), want, _("weight {shape}, nrow={nrow}").format(
        shape=tuple(w.shape), nrow=nrow))
