"""Lesson 04: AlexNet's feature maps. Expectations come from a seeded random AlexNet (never a download),
torchvision's transforms and make_grid on random PNGs, maps and images written here, and event files
the tests write themselves, decoded with Pillow and compared pixel by pixel."""
import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from helpers import check_pixels, spy
from PIL import Image
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from tbcourse.grading.student import StudentLesson
from tbcourse.i18n import _
from tbcourse.kit.events import images

lesson = StudentLesson("04_feature_maps")

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
CONVS = [0, 3, 6, 8, 10]  # AlexNet's convolutions in model.features, each followed by ReLU(inplace=True)


@pytest.fixture
def model(alexnet):
    """The run's random AlexNet, in eval mode (conftest). Its convolutional part, which the exercises run, must
    be as it was after the test: a change made in place would come back to the checks' own copy."""
    before = {name: value.clone() for name, value in alexnet.features.state_dict().items()}
    yield alexnet
    changed = [name for name, value in alexnet.features.state_dict().items() if not torch.equal(value, before[name])]
    if changed:
        alexnet.features.load_state_dict(before)  # for the tests after this one
        pytest.fail(_("the model's weights changed during the call ({changed}): only read them").format(
                        changed=', '.join(changed[:3])),
                    pytrace=False)


def generator(rng):
    return torch.Generator().manual_seed(rng.randrange(2**31))


def random_input(rng, size=None):
    size = size or rng.randint(63, 160)
    return torch.randn(1, 3, size, size, generator=generator(rng))


def check_close(got, want, case, atol=1e-4):
    assert isinstance(got, torch.Tensor), _("{case}: expected a tensor, got {got_type}").format(case=case,
                                              got_type=type(got).__name__)
    assert tuple(got.shape) == tuple(want.shape), _("{case}: expected shape {want_shape}, got {got_shape}").format(
                                                      case=case, want_shape=tuple(want.shape),
                                                      got_shape=tuple(got.shape))
    diff = (got.detach().float() - want).abs().max().item()
    assert diff <= atol, _("{case}: values differ from the expected ones by up to {diff:.3g}").format(case=case,
                             diff=diff)


def check_unchanged(tensor, before, what):
    shape, stride, values = before
    assert tuple(tensor.shape) == shape and tensor.stride() == stride, \
        _("{what} was changed in place: shape {shape} became {tensor_shape} (transpose_ instead of transpose?)").format(
            what=what, shape=shape, tensor_shape=tuple(tensor.shape))
    assert torch.equal(tensor, values), _("{what} must not be modified").format(what=what)


def snapshot(tensor):
    return tuple(tensor.shape), tensor.stride(), tensor.clone()


# 04.1 --------------------------------------------------------------------------------------------

def write_png(path, rng, mode):
    h, w = rng.sample(range(20, 90), 2)  # never square: Resize((size, size)) is not Resize(size)
    pixels = np.random.default_rng(rng.randrange(2**32)).integers(0, 256, (h, w, 4), dtype=np.uint8)
    picture = Image.fromarray(pixels, "RGBA")
    if mode == "P":
        picture = picture.convert("RGB").quantize(colors=64)
    elif mode != "RGBA":
        picture = picture.convert(mode)
    picture.save(path)


@pytest.mark.exercise("04.1", points=2)
@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "RGB, default size"])
def test_load_image(tmp_path, rng, mode):
    path = tmp_path / "picture.png"
    write_png(path, rng, mode.split(",")[0])
    size = 224 if "default" in mode else rng.randint(16, 80)
    with Image.open(path) as written:
        stored_mode, rgb = written.mode, written.convert("RGB")
    want = TF.normalize(TF.to_tensor(TF.resize(rgb, [size, size])), IMAGENET_MEAN, IMAGENET_STD).unsqueeze(0)
    got = lesson.load_image(path) if "default" in mode else lesson.load_image(path, size=size)
    case = _("a {mode} PNG of {width}x{height}, size={size}").format(mode=stored_mode, width=rgb.size[0],
                                                                    height=rgb.size[1], size=size)
    check_close(got, want, _("{case} (RGB, resized to size x size, ToTensor, ImageNet's mean and std, a batch "
                             "dimension)").format(case=case), atol=0.05)
    assert got.dtype == torch.float32, _("{case}: expected float32, got {got_dtype}").format(case=case,
                                           got_dtype=got.dtype)


# 04.2 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("04.2", points=2)
@pytest.mark.parametrize("size", [224, None])
def test_conv1_feature_maps(model, tmp_path, rng, size):
    img = random_input(rng, size)
    before = snapshot(img)
    with torch.no_grad():
        want = model.features[0](img)
    with spy(model.features[0], "runs") as runs:
        got = lesson.conv1_feature_maps(model, img)
    check_close(got, want, _("conv1 maps of a {shape} input").format(shape=tuple(img.shape)))
    assert not got.requires_grad and got.grad_fn is None, _("expected a result without a gradient graph")
    assert runs(), _("expected a call of model.features[0] on the image")
    assert "1" not in runs(), _("model.features[0] ran with gradient tracking on, expected it off (torch.no_grad): "
                                "detaching afterwards still builds the graph")
    check_unchanged(img, before, _("the input image"))


# 04.3 --------------------------------------------------------------------------------------------

def random_maps(rng, c, h, w):
    """(1, c, h, w) maps, each with its own scale and offset, so per-map and whole-grid scaling differ."""
    gen = generator(rng)
    scale = torch.exp(torch.empty(1, c, 1, 1).uniform_(-3, 3, generator=gen))
    return (torch.randn(1, c, h, w, generator=gen) + torch.empty(1, c, 1, 1).uniform_(-2, 2, generator=gen)) * scale


def check_grid(fmap, nrow=None):
    before = snapshot(fmap)
    want = make_grid(fmap.clone().transpose(0, 1), nrow=nrow or 8, normalize=True, scale_each=True)
    got = lesson.feature_map_grid(fmap) if nrow is None else lesson.feature_map_grid(fmap, nrow=nrow)
    check_unchanged(fmap, before, _("the fmap argument"))
    check_close(got, want, _("grid of {shape} maps, nrow={nrow}").format(shape=tuple(fmap.shape), nrow=nrow or 8),
                atol=1e-5)
    return got


@pytest.mark.exercise("04.3", points=3)
@pytest.mark.parametrize("case", range(5))
def test_feature_map_grid(rng, case):
    c = 1 if case == 0 else rng.randint(2, 70)
    fmap = random_maps(rng, c, rng.randint(3, 30), rng.randint(3, 30))
    check_grid(fmap, None if case == 1 else rng.randint(1, 12))


@pytest.mark.exercise("04.3", points=1)
def test_feature_map_grid_of_conv1(rng):
    grid = check_grid(random_maps(rng, 64, 55, 55))
    assert tuple(grid.shape) == (3, 458, 458), _("64 maps of 55x55, 8 per row: expected (3, 458, 458), got "
                                                 "{grid_shape}").format(grid_shape=grid.shape)


# 04.4 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("04.4", points=2)
def test_log_feature_maps(model, writer, logdir, truth, rng):
    img = random_input(rng)
    before = snapshot(img)
    with torch.no_grad():
        grid = make_grid(model.features[0](img.clone()).transpose(0, 1), nrow=8, normalize=True, scale_each=True)
    with SummaryWriter(log_dir=str(truth)) as reference:  # where student code cannot read it
        reference.add_image("feature map in conv1", grid, 322)
    want = images(truth, "feature map in conv1")[322]
    lesson.log_feature_maps(writer, model, img)
    writer.flush()
    check_unchanged(img, before, _("the input image"))
    found = images(logdir, "feature map in conv1")
    assert sorted(found) == [322], _("expected tag 'feature map in conv1' at step 322, found steps {found}").format(
                                       found=sorted(found))
    check_pixels(found[322], want, _("'feature map in conv1' of a {shape} input").format(
        shape=tuple(img.shape)))


# 04.5 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("04.5", points=3)
@pytest.mark.parametrize("case", range(3))
def test_feature_maps_one_pass(model, tmp_path, rng, case):
    conv = rng.choice(CONVS)  # with a later layer too, so the in-place ReLU after it runs
    n = len(model.features)
    picked = {conv, rng.randrange(conv + 1, n), *rng.sample(range(n), rng.randint(0, 2))}
    layers = [f"features.{k}" for k in rng.sample(sorted(picked), len(picked))]
    img = random_input(rng, rng.randint(63, 127))
    before = snapshot(img)
    with torch.no_grad():
        want = {f"features.{k}": model.features[: k + 1](img.clone()) for k in picked}
    with spy(model.features[0], "runs") as runs:
        got = lesson.feature_maps(model, img, layers)
    assert isinstance(got, dict), _("expected a dict, got {got_type}").format(got_type=type(got).__name__)
    assert set(got) == set(layers), _("expected the keys {layers}, got {got}").format(layers=layers, got=list(got))
    for name in layers:
        case = _("{name} on a {shape} input (the in-place ReLU after it overwrites the tensor you kept: store a "
                 "clone)") if int(name.split(".")[1]) in CONVS else _("{name} on a {shape} input")
        check_close(got[name], want[name], case.format(name=name, shape=tuple(img.shape)))
    assert len(runs()) == 1, _("expected one forward pass, model.features[0] ran {n_runs} times").format(
                                 n_runs=len(runs()))
    check_unchanged(img, before, _("the input image"))
