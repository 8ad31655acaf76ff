"""Lesson 03: AlexNet's kernels. Expectations come from torchvision's make_grid on randomized
convolutions (small random nets and a seeded random AlexNet, never a download) and from event files
that the tests write themselves, decoded with Pillow and compared pixel by pixel."""
import copy

import pytest
import torch
import torch.nn as nn
from helpers import check_pixels
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from tbcourse.grading.student import StudentLesson
from tbcourse.kit.events import accumulator, decode_png

lesson = StudentLesson("03_alexnet_kernels")


def generator(rng):
    return torch.Generator().manual_seed(rng.randrange(2**31))


def spread_weights(conv, gen):
    """Give every (out, in) kernel slice its own scale and offset, so per-kernel and whole-grid scaling differ."""
    c_out, c_in = conv.weight.shape[:2]
    scale = torch.exp(torch.empty(c_out, c_in, 1, 1).uniform_(-4, 2, generator=gen))
    offset = torch.empty(c_out, c_in, 1, 1).uniform_(-1, 1, generator=gen)
    with torch.no_grad():
        conv.weight.mul_(scale).add_(offset * scale)
    return conv


def random_conv(rng, c_in, c_out):
    kernel = (rng.randint(1, 6), rng.randint(1, 6))  # not always square: kh and kw must keep their order
    conv = nn.Conv2d(c_in, c_out, kernel)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator(rng)))
    return spread_weights(conv, generator(rng))


def random_net(rng, divisible=False):
    """(net, its Conv2d in order): Conv2d layers with random channels, some nested, among other modules."""
    c_in, modules, convs = rng.choice([1, 3, 4]), [], []
    for _ in range(rng.randint(2, 5)):
        c_out = rng.randint(1, 9)
        while divisible and (c_in * c_out) % 3:
            c_out = rng.randint(1, 9)
        conv = random_conv(rng, c_in, c_out)
        convs.append(conv)
        block = [conv, nn.ReLU()]
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


def split_grid(conv, o):
    w = conv.weight.detach()
    return make_grid(w[o].unsqueeze(1).clone(), nrow=w.shape[1], normalize=True, scale_each=True)


def all_grid(conv, nrow=8):
    w = conv.weight.detach()
    return make_grid(w.reshape(-1, 3, *w.shape[2:]).clone(), nrow=nrow, normalize=True, scale_each=True)


def check_grid(got, want, case):
    assert isinstance(got, torch.Tensor), f"{case}: expected a tensor, got {type(got).__name__}"
    assert tuple(got.shape) == tuple(want.shape), f"{case}: make_grid gives shape {tuple(want.shape)}, " \
                                                  f"you returned {tuple(got.shape)}"
    diff = (got.detach().float() - want).abs()
    assert diff.max() <= 1e-5, (f"{case}: differs from the expected grid by up to "
                                f"{diff.max():.3g} (was every kernel scaled to its own min and max?)")


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
    assert not changed, f"log_kernels changed the net it was given: {changed[:3]}"


def check_logged_tags(found, want_steps):
    assert set(found) == set(want_steps), f"expected image tags {sorted(want_steps)}, found {sorted(found)}"
    for tag, steps in want_steps.items():
        got = sorted(found[tag])
        assert got == steps, (f"tag {tag!r}: expected steps {steps[0]}..{steps[-1]} ({len(steps)} of them), "
                              f"found {len(got)}: {got[:5]}{' ...' if len(got) > 5 else ''}")


# 03.1 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("03.1", points=1)
@pytest.mark.parametrize("case", range(4))
def test_conv_layers_in_module_order(rng, case):
    net, convs = random_net(rng)
    got = lesson.conv_layers(net)
    assert isinstance(got, list), f"expected a list, got {type(got).__name__}"
    assert len(got) == len(convs), f"the net holds {len(convs)} nn.Conv2d (nested ones too, no ConvTranspose2d " \
                                   f"or Conv1d), you returned {len(got)}"
    assert all(a is b for a, b in zip(got, convs)), "expected the net's own nn.Conv2d modules in modules() order"


# 03.2 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("03.2", points=2)
@pytest.mark.parametrize("case", range(6))
def test_kernel_grid_split(rng, case):
    conv = random_conv(rng, 1 if case == 0 else rng.randint(2, 12), rng.randint(1, 8))
    before = conv.weight.detach().clone()
    o = rng.randrange(conv.out_channels)
    want = split_grid(conv, o)
    got = lesson.kernel_grid_split(conv, o)
    check_grid(got, want, f"kernel_grid_split of weight {tuple(conv.weight.shape)}, out_idx={o}")
    assert torch.equal(conv.weight.detach(), before), "kernel_grid_split must not modify the weights"


# 03.3 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("03.3", points=2)
@pytest.mark.parametrize("case", range(6))
def test_kernel_grid_all(rng, case):
    c_in = rng.choice([3, 6]) if case < 2 else rng.randint(1, 10)
    c_out = rng.randint(1, 12)
    while (c_in * c_out) % 3:
        c_out = rng.randint(1, 12)
    conv = random_conv(rng, c_in, c_out)
    before = conv.weight.detach().clone()
    if case == 0:
        got, want, nrow = lesson.kernel_grid_all(conv), all_grid(conv), 8
    else:
        nrow = rng.randint(1, 10)
        got, want = lesson.kernel_grid_all(conv, nrow=nrow), all_grid(conv, nrow)
    check_grid(got, want, f"kernel_grid_all of weight {tuple(conv.weight.shape)}, nrow={nrow}")
    assert torch.equal(conv.weight.detach(), before), "kernel_grid_all must not modify the weights"


@pytest.mark.exercise("03.3", points=1)
@pytest.mark.parametrize("case", range(3))
def test_kernel_grid_all_indivisible_raises_value_error(rng, case):
    c_in, c_out = rng.choice([1, 2, 4, 5, 7, 8]), rng.choice([1, 2, 4, 5, 7, 8])
    conv = random_conv(rng, c_in, c_out)
    try:
        lesson.kernel_grid_all(conv)
    except ValueError as err:
        assert str(err).strip(), "the ValueError should say why (c_out * c_in is not a multiple of 3)"
    except Exception as err:
        pytest.fail(f"weight {tuple(conv.weight.shape)}: expected a ValueError, got {type(err).__name__}: {err}")
    else:
        pytest.fail(f"weight {tuple(conv.weight.shape)}: {c_out} x {c_in} slices cannot be grouped in threes; "
                    "expected a ValueError")


# 03.4 --------------------------------------------------------------------------------------------

def expected_log(convs, vis_max, wanted=lambda tag, step: True):
    """(tag, step) -> the grid that log_kernels should log there, for the (tag, step) pairs ``wanted``."""
    grids = {}
    for i, conv in enumerate(convs[: vis_max + 1]):
        tag = f"{i}_Convlayer_split_in_channel"
        grids.update({(tag, o): split_grid(conv, o) for o in range(conv.out_channels) if wanted(tag, o)})
        if wanted(f"{i}_all", 322):
            grids[(f"{i}_all", 322)] = all_grid(conv)
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
        check_pixels(decode_png(found[tag][step]), pixels, f"vis_max={vis_max}, tag {tag!r} step {step}")


@pytest.mark.exercise("03.4", points=2)
def test_log_kernels_alexnet(writer, logdir, truth, rng, alexnet):
    # The run's AlexNet, its convolutions copied to be spread here, its classifier (nine tenths of it) shared
    model = copy.deepcopy(alexnet, memo={id(alexnet.classifier): alexnet.classifier})
    convs = [model.features[0], model.features[3]]
    for conv in convs:
        spread_weights(conv, generator(rng))
    sample = [(f"{i}_Convlayer_split_in_channel", o) for i, conv in enumerate(convs)
              for o in rng.sample(range(conv.out_channels), 3)]
    grids = expected_log(convs, 1, lambda tag, step: (tag, step) in sample or step == 322)
    want, before = stored_grids(truth, grids), copy.deepcopy(model.features.state_dict())
    lesson.log_kernels(writer, model)
    writer.flush()
    check_unchanged(model.features, before)
    found = logged_images(logdir)
    check_logged_tags(found, {"0_Convlayer_split_in_channel": list(range(64)), "0_all": [322],
                              "1_Convlayer_split_in_channel": list(range(192)), "1_all": [322]})
    for (tag, step), pixels in want.items():
        check_pixels(decode_png(found[tag][step]), pixels, f"AlexNet, tag {tag!r} step {step}")
