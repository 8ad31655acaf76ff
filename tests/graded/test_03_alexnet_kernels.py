"""Lesson 03: AlexNet's kernels. Randomized convolutions (small random nets and the run's random AlexNet, never a
download) get weights made from the grids they must show, chosen first (``Kernels``); make_grid lays those out, and
event files that the tests write themselves, decoded with Pillow, say what TensorBoard stores."""
import copy

import pytest
import torch
import torch.nn as nn
from helpers import check_pixels
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from tbcourse.grading.student import StudentLesson
from tbcourse.i18n import _
from tbcourse.kit.events import accumulator, decode_png

lesson = StudentLesson("03_alexnet_kernels")


def generator(rng):
    return torch.Generator().manual_seed(rng.randrange(2**31))


class Kernels:
    """A convolution whose weights are made from the grids they must give, chosen first (nothing here normalizes
    a weight): ``split`` holds each (out, in) slice as make_grid's scale_each shows it alone, ``grouped`` each
    run of three slices as it shows them as one RGB kernel. Each slice's pixels run from exactly 0 to 1, then
    are stretched by a scale and offset of their group's own, so per-kernel and whole-grid scaling differ."""

    def __init__(self, rng, conv):
        self.conv = conv
        c_out, c_in, kh, kw = conv.weight.shape
        gen, n = generator(rng), c_out * c_in
        tiles = torch.rand(n, kh * kw, generator=gen, dtype=torch.float64)
        rows = torch.arange(n)
        if kh * kw > 1:  # each slice has its own 0 and 1: alone or in its three, it shows the same
            first = torch.randint(0, kh * kw, (n,), generator=gen)
            second = (first + torch.randint(1, kh * kw, (n,), generator=gen)) % (kh * kw)
            tiles[rows, first], tiles[rows, second] = 0.0, 1.0
        elif n % 3 == 0:  # 1x1 slices: a single value shows black alone; each three has its own 0 and 1
            groups = tiles.view(n // 3, 3)
            first = torch.randint(0, 3, (n // 3,), generator=gen)
            second = (first + torch.randint(1, 3, (n // 3,), generator=gen)) % 3
            groups[torch.arange(n // 3), first], groups[torch.arange(n // 3), second] = 0.0, 1.0
        scale = torch.exp(torch.empty(-(-n // 3), 1, dtype=torch.float64).uniform_(-4, 2, generator=gen))
        offset = torch.empty(-(-n // 3), 1, dtype=torch.float64).uniform_(-1, 1, generator=gen) * scale
        scale, offset = scale.repeat_interleave(3, 0)[:n], offset.repeat_interleave(3, 0)[:n]
        with torch.no_grad():
            conv.weight.copy_((tiles * scale + offset).view(conv.weight.shape))
        self.split = (tiles if kh * kw > 1 else torch.zeros_like(tiles)).view(c_out, c_in, kh, kw).float()
        self.grouped = tiles.view(-1, 3, kh, kw).float() if n % 3 == 0 else None


def random_conv(rng, c_in, c_out):
    kernel = (rng.randint(1, 6), rng.randint(1, 6))  # not always square: kh and kw must keep their order
    return Kernels(rng, nn.Conv2d(c_in, c_out, kernel))


def random_net(rng, divisible=False):
    """(net, the Kernels of its Conv2d in order): Conv2d layers with random channels, some nested, among others."""
    c_in, modules, convs = rng.choice([1, 3, 4]), [], []
    for _unused in range(rng.randint(2, 5)):
        c_out = rng.randint(1, 9)
        while divisible and (c_in * c_out) % 3:
            c_out = rng.randint(1, 9)
        kernels = random_conv(rng, c_in, c_out)
        convs.append(kernels)
        block = [kernels.conv, nn.ReLU()]
        if rng.random() < 0.4:
            block.append(nn.ConvTranspose2d(c_out, c_out, 2))  # not an nn.Conv2d
        if rng.random() < 0.5:
            modules.append(nn.Sequential(*block))
        else:
            modules += block
        if rng.random() < 0.3:
            modules.append(nn.Conv1d(2, 2, 3))  # not an nn.Conv2d either
        c_in = c_out
    modules += [nn.ConvTranspose2d(c_in, 2, 2), nn.Flatten(), nn.Linear(4, 2)]
    return nn.Sequential(*modules), convs


def split_layout(kernels, o):
    """The split grid of output channel ``o``: its slices, as chosen, laid out by make_grid (one row, grey)."""
    return make_grid(kernels.split[o].unsqueeze(1), nrow=kernels.split.shape[1])


def grouped_layout(kernels, nrow=8):
    """The grid of all slices in threes: the RGB kernels, as chosen, laid out by make_grid."""
    return make_grid(kernels.grouped, nrow=nrow)


def check_grid(got, want, case):
    assert isinstance(got, torch.Tensor), _("{case}: expected a tensor, got {got_type}").format(case=case,
                                              got_type=type(got).__name__)
    assert tuple(got.shape) == tuple(want.shape), _("{case}: make_grid gives shape {want_shape}, you returned "
                                                    "{got_shape}").format(case=case, want_shape=tuple(want.shape),
                                                      got_shape=tuple(got.shape))
    diff = (got.detach().float() - want).abs()
    assert diff.max() <= 1e-5, (_("{case}: differs from the expected grid by up to {diff_max:.3g} (was every kernel "
                                  "scaled to its own min and max?)").format(case=case, diff_max=diff.max()))


def logged_images(logdir):
    """tag -> {step: pixels} for every image tag under logdir."""
    acc = accumulator(logdir)
    return {tag: {e.step: e.encoded_image_string for e in acc.Images(tag)} for tag in acc.Tags()["images"]}


def stored_grids(folder, grids):
    """What add_image stores for each {(tag, step): grid}: logged into ``folder`` (the private ``truth``), read
    back, decoded."""
    logdir = folder / "grids"
    with SummaryWriter(log_dir=str(logdir)) as w:
        for (tag, step), grid in grids.items():
            w.add_image(tag, grid, step)
    stored = logged_images(logdir)
    return {(tag, step): decode_png(stored[tag][step]) for tag, step in grids}


def check_unchanged(net, before):
    """The net's parameters and buffers are as they were before the call (log_kernels only reads them)."""
    changed = [name for name, value in net.state_dict().items() if not torch.equal(value, before[name])]
    assert not changed, _("log_kernels changed the net it was given: {changed}").format(changed=changed[:3])


def check_logged_tags(found, want_steps):
    assert set(found) == set(want_steps), _("expected image tags {want_steps}, found {found}").format(
                                              want_steps=sorted(want_steps), found=sorted(found))
    for tag, steps in want_steps.items():
        got = sorted(found[tag])
        assert got == steps, (_("tag {tag!r}: expected steps {first_step}..{last_step} ({n_steps} of them), found "
                                "{n_got}: {got_5}{more}").format(tag=tag, first_step=steps[0], last_step=steps[-1],
                                  n_steps=len(steps), n_got=len(got), got_5=got[:5],
                                  more=' ...' if len(got) > 5 else ''))


# 03.1 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("03.1", points=1)
@pytest.mark.parametrize("case", range(4))
def test_conv_layers_in_module_order(rng, case):
    net, convs = random_net(rng)
    got = lesson.conv_layers(net)
    assert isinstance(got, list), _("expected a list, got {got_type}").format(got_type=type(got).__name__)
    assert len(got) == len(convs), _("the net holds {n_convs} nn.Conv2d (nested ones too, no ConvTranspose2d or "
                                     "Conv1d), you returned {n_got}").format(n_convs=len(convs), n_got=len(got))
    assert all(a is b.conv for a, b in zip(got, convs)), _("expected the net's own nn.Conv2d modules in modules() "
                                                           "order")


# 03.2 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("03.2", points=2)
@pytest.mark.parametrize("case", range(6))
def test_kernel_grid_split(rng, case):
    kernels = random_conv(rng, 1 if case == 0 else rng.randint(2, 12), rng.randint(1, 8))
    conv = kernels.conv
    before = conv.weight.detach().clone()
    o = rng.randrange(conv.out_channels)
    want = split_layout(kernels, o)
    got = lesson.kernel_grid_split(conv, o)
    check_grid(got, want, _("kernel_grid_split of weight {shape}, out_idx={o}").format(
        shape=tuple(conv.weight.shape), o=o))
    assert torch.equal(conv.weight.detach(), before), _("kernel_grid_split must not modify the weights")


# 03.3 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("03.3", points=2)
@pytest.mark.parametrize("case", range(6))
def test_kernel_grid_all(rng, case):
    c_in = rng.choice([3, 6]) if case < 2 else rng.randint(1, 10)
    c_out = rng.randint(1, 12)
    while (c_in * c_out) % 3:
        c_out = rng.randint(1, 12)
    kernels = random_conv(rng, c_in, c_out)
    conv = kernels.conv
    before = conv.weight.detach().clone()
    nrow = 8 if case == 0 else rng.randint(1, 10)
    want = grouped_layout(kernels, nrow)
    got = lesson.kernel_grid_all(conv) if case == 0 else lesson.kernel_grid_all(conv, nrow=nrow)
    check_grid(got, want, _("kernel_grid_all of weight {shape}, nrow={nrow}").format(
        shape=tuple(conv.weight.shape), nrow=nrow))
    assert torch.equal(conv.weight.detach(), before), _("kernel_grid_all must not modify the weights")


@pytest.mark.exercise("03.3", points=1)
@pytest.mark.parametrize("case", range(3))
def test_kernel_grid_all_indivisible_raises_value_error(rng, case):
    c_in, c_out = rng.choice([1, 2, 4, 5, 7, 8]), rng.choice([1, 2, 4, 5, 7, 8])
    conv = random_conv(rng, c_in, c_out).conv
    try:
        lesson.kernel_grid_all(conv)
    except ValueError as err:
        assert str(err).strip(), _("the ValueError should say why (c_out * c_in is not a multiple of 3)")
    except Exception as err:
        pytest.fail(_("weight {conv_weight_shape}: expected a ValueError, got {err_type}: {err}").format(
                        conv_weight_shape=tuple(conv.weight.shape), err_type=type(err).__name__, err=err))
    else:
        pytest.fail(_("weight {conv_weight_shape}: {c_out} x {c_in} slices cannot be grouped in threes; expected a "
                      "ValueError").format(conv_weight_shape=tuple(conv.weight.shape), c_out=c_out, c_in=c_in))


# 03.4 --------------------------------------------------------------------------------------------

def expected_log(convs, vis_max, wanted=lambda tag, step: True):
    """(tag, step) -> the grid that log_kernels should log there, for the (tag, step) pairs ``wanted``."""
    grids = {}
    for i, kernels in enumerate(convs[: vis_max + 1]):
        tag = f"{i}_Convlayer_split_in_channel"
        grids.update({(tag, o): split_layout(kernels, o) for o in range(len(kernels.split)) if wanted(tag, o)})
        if wanted(f"{i}_all", 322):
            grids[(f"{i}_all", 322)] = grouped_layout(kernels)
    return grids


@pytest.mark.exercise("03.4", points=3)
@pytest.mark.parametrize("case", range(3))
def test_log_kernels_small_nets(writer, logdir, truth, rng, case):
    net, convs = random_net(rng, divisible=True)
    vis_max = rng.randrange(len(convs) + 1)  # len(convs) - 1 or more: every layer
    want, before = stored_grids(truth, expected_log(convs, vis_max)), copy.deepcopy(net.state_dict())
    lesson.log_kernels(writer, net, vis_max=vis_max)
    writer.flush()
    check_unchanged(net, before)
    found = logged_images(logdir)
    steps = {}
    for tag, step in want:
        steps.setdefault(tag, []).append(step)
    check_logged_tags(found, steps)
    for (tag, step), pixels in want.items():
        check_pixels(decode_png(found[tag][step]), pixels, _("vis_max={vis_max}, tag {tag!r} step {step}").format(
            vis_max=vis_max, tag=tag, step=step))


@pytest.mark.exercise("03.4", points=2)
def test_log_kernels_alexnet(writer, logdir, truth, rng, alexnet):
    # The run's AlexNet, its convolutions copied to be spread here, its classifier (nine tenths of it) shared
    model = copy.deepcopy(alexnet, memo={id(alexnet.classifier): alexnet.classifier})
    convs = [Kernels(rng, model.features[0]), Kernels(rng, model.features[3])]
    sample = [(f"{i}_Convlayer_split_in_channel", o) for i, kernels in enumerate(convs)
              for o in rng.sample(range(len(kernels.split)), 3)]
    grids = expected_log(convs, 1, lambda tag, step: (tag, step) in sample or step == 322)
    want, before = stored_grids(truth, grids), copy.deepcopy(model.features.state_dict())
    lesson.log_kernels(writer, model)
    writer.flush()
    check_unchanged(model.features, before)
    found = logged_images(logdir)
    check_logged_tags(found, {"0_Convlayer_split_in_channel": list(range(64)), "0_all": [322],
                              "1_Convlayer_split_in_channel": list(range(192)), "1_all": [322]})
    for (tag, step), pixels in want.items():
        check_pixels(decode_png(found[tag][step]), pixels,
                     _("AlexNet, tag {tag!r} step {step}").format(tag=tag, step=step))
