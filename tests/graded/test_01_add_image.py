"""Lesson 01: add_image. Expected pixels come from a real event file, decoded with Pillow, logged before the
student's call from the test's own copy of the image, in a folder student code cannot read."""
import json
import time

import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter

from helpers import ImageSpy

from tbcourse.grading.student import StudentLesson, read_back, writable_path
from tbcourse.i18n import _
from tbcourse.kit.events import images

lesson = StudentLesson("01_add_image")

FLOATS = [torch.float16, torch.float32, torch.float64]
LAYOUTS = {"CHW": (0, 1, 2), "HWC": (1, 2, 0)}


def stored_pixels(folder, img, dataformats="CHW"):
    """What TensorBoard really stores: log `img`, read the event file back, decode the PNG."""
    logdir = folder / f"truth{len(list(folder.iterdir()))}"
    with SummaryWriter(log_dir=str(logdir)) as w:
        w.add_image("img", img, 0, dataformats=dataformats)
    return images(logdir, "img")[0]


def clear_of_whole_pixels(chw):
    """``chw`` with every value whose x 255 falls within 0.02 of a whole number moved to the middle between two:
    there float32's, float64's and float16's products agree on the pixel, so a prediction must be exact. Half
    the others lie above the middle, where rounding (instead of add_image's truncating cast) gives one more."""
    product = chw.double() * 255
    fraction = product - product.floor()
    near = (fraction < 0.02) | (fraction > 0.98)
    middle = ((product.round() + 0.5) / 255).to(chw.dtype)
    return torch.where(near, middle, chw)


def random_image(rng, dtype, layout, channels, low, high):
    """A random image tensor of `layout`; the pixel values span [low, high]."""
    h, w = rng.randint(2, 24), rng.randint(2, 24)
    gen = torch.Generator().manual_seed(rng.randrange(2**31))
    chw = torch.rand(channels, h, w, generator=gen, dtype=torch.float64) * (high - low) + low
    if dtype == torch.uint8:
        chw = chw.round().clamp(0, 255)
    chw = chw.to(dtype)
    if dtype != torch.uint8:
        chw = clear_of_whole_pixels(chw)
    if layout == "HW":
        return chw[0]
    return chw.permute(*LAYOUTS[layout]).contiguous()


def check_prediction(truth, img, fmt):
    """The prediction must be exact: every test value is clear of the whole pixels (``clear_of_whole_pixels``)."""
    own = img.clone() if isinstance(img, torch.Tensor) else img.copy()
    want = stored_pixels(truth, own.clone() if isinstance(own, torch.Tensor) else own.copy(), fmt)
    got = lesson.displayed_pixels(img, dataformats=fmt)
    case = f"{tuple(own.shape)} {own.dtype} {type(own).__module__.split('.')[0]} {fmt}"
    same = torch.equal(img, own) if isinstance(img, torch.Tensor) else np.array_equal(img, own)
    assert same and img.shape == own.shape, _("{case}: displayed_pixels changed the image it was given").format(
                                                case=case)
    assert isinstance(got, np.ndarray), _("{case}: expected a numpy array, got {got_type}").format(case=case,
                                            got_type=type(got).__name__)
    assert got.dtype == np.uint8, _("{case}: expected dtype uint8, got {got_dtype}").format(case=case,
                                      got_dtype=got.dtype)
    assert got.shape == want.shape, _("{case}: TensorBoard stores shape {want_shape}, you predicted "
                                      "{got_shape}").format(case=case, want_shape=want.shape, got_shape=got.shape)
    wrong = np.argwhere(got != want)
    where = tuple(map(int, wrong[0])) if len(wrong) else None
    if where is not None:
        one_more = int(got[where]) == int(want[where]) + 1
        pytest.fail((_("{case}: at pixel {where} TensorBoard stores {want}, you predicted {got}: one more, as rounding "
                       "gives; add_image's cast to uint8 truncates") if one_more else
                     _("{case}: at pixel {where} TensorBoard stores {want}, you predicted {got}")).format(
                         case=case, where=where, want=want[where], got=got[where]))


def check_grey_step(spied, size):
    """Step 4 as the table has it: one channel, a 2-D (H, W) tensor, logged with dataformats 'HW'. A (1, H, W) CHW
    tensor is stored as the same picture, so only the call itself shows which was logged."""
    calls = [json.loads(line) for line in spied.splitlines()]
    step4 = [call for call in calls if call["step"] == 4]
    assert len(step4) == 1, _("size={size}: expected one add_image at step 4, found {n_step4}").format(size=size,
                                n_step4=len(step4))
    shape, fmt = step4[0]["shape"], step4[0]["dataformats"]
    assert len(shape) == 2 and fmt == "HW", (_("size={size}, step 4: the table's image is a 2-D (H, W) tensor "
                                               "logged with dataformats 'HW'; yours has shape {shape}, logged "
                                               "as {fmt!r}").format(size=size, shape=tuple(shape), fmt=fmt))


def check_dataformats(logdir):
    """The five steps logged with size=4. There any dataformats but the table's (save one that only swaps H and W)
    still makes a picture, but a 4x3 or 3x4 one with 4 channels (RGBA) instead of 4x4 with 3: with a larger size the
    wrong reading has `size` channels, and add_image raises, naming no step."""
    shown = images(logdir, "fake_img")
    assert sorted(shown) == [1, 2, 3, 4, 5], _("size=4: expected tag 'fake_img' at steps 1..5, found {shown}").format(
                                                 shown=sorted(shown))
    for step, px in shown.items():
        (h, w, c), fmt = px.shape, "CHW" if step < 4 else ("HW", "HWC")[step - 4]
        assert (h, w, c) == (4, 4, 3), (_("size=4, step {step}: the table's tensor with dataformats {fmt!r} is "
                                          "stored as a 4x4 picture with 3 channels; yours came {h}x{w} with {c} "
                                          "channels, its dimensions read in another order than {fmt!r}").format(
                                            step=step, fmt=fmt, h=h, w=w, c=c))


@pytest.mark.exercise("01.1", points=2)
def test_log_note_images_five_steps(writer, logdir, tmp_path, rng, monkeypatch):
    monkeypatch.setattr(time, "sleep", lambda s: pytest.fail(_("no time.sleep needed: the step is the slider")))
    with SummaryWriter(log_dir=str(tmp_path / "size_4")) as small:
        lesson.log_note_images(small, size=4)
    check_dataformats(tmp_path / "size_4")
    record = writable_path("add_image")
    lesson.log_note_images(ImageSpy(record), size=5)
    check_grey_step(read_back(record), 5)
    size = rng.randint(16, 48)
    lesson.log_note_images(writer, size=size)
    writer.flush()
    shown = images(logdir, "fake_img")
    assert sorted(shown) == [1, 2, 3, 4, 5], _("expected tag 'fake_img' at steps 1..5, found steps {shown}").format(
                                                 shown=sorted(shown))
    for step, px in shown.items():
        assert px.shape == (size, size, 3), _("step {step}: expected a {size}x{size} RGB image, got {px_shape}").format(
                                                step=step, size=size, px_shape=px.shape)
    one, white, white_too, grey, colour = (shown[s].astype(float) for s in range(1, 6))
    assert (white == 255).all() and (white_too == 255).all(), _("steps 2 and 3 (ones, ones * 1.1) should be white")
    black = (one == 0).all(axis=2).mean()
    assert 0.04 < black < 0.22, (_("step 1 is randn: about one pixel in eight is black (all three channels "
                                   "negative); yours has {black:.0%}").format(black=black))
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all(), \
        _("step 4 is one HW channel, shown grey (three equal channels)")
    for step, px in ((4, grey), (5, colour)):
        assert 100 < px.mean() < 155 and px.std() > 50, _("step {step} is torch.rand: uniform noise over [0, "
                                                          "255]").format(step=step)
    assert (colour[..., 0] != colour[..., 1]).any(), \
        _("step 5 (the table's HWC noise) should be coloured noise, yours has equal channels (grey)")


@pytest.mark.exercise("01.2", points=3)
@pytest.mark.parametrize("case", range(12))
def test_displayed_pixels_matches_event_file(truth, rng, case):
    dtype = rng.choice([*FLOATS, torch.uint8])
    layout = rng.choice(["CHW", "HWC", "HW"])
    channels = 1 if layout == "HW" else rng.choice([1, 3, 4])
    low, high = (0, 255) if dtype == torch.uint8 else rng.choice([(0, 1), (-1, 2), (0, 255), (-3, 3)])
    img = random_image(rng, dtype, layout, channels, low, high)
    check_prediction(truth, img if rng.random() < 0.5 else img.numpy(), layout)


@pytest.mark.exercise("01.2", points=2)
@pytest.mark.parametrize("dtype", [*FLOATS, torch.uint8])
def test_displayed_pixels_scales_by_dtype_not_value(truth, rng, dtype):
    """The notes' rule (values > 1 are left alone) fails here: a float 128 is stored as 255."""
    img = random_image(rng, dtype, "CHW", 3, 1.5, 255)
    check_prediction(truth, img, "CHW")


@pytest.mark.exercise("01.3", points=2)
@pytest.mark.parametrize("case", range(4))
def test_as_displayable_shows_the_image_rounded(truth, rng, case):
    """About half the values have a fractional part in [.55, .95], where truncating (what a cast to uint8 and
    add_image's own x255 do) shows one less than rounding; the others in [.05, .45]. None is near a tie."""
    gen = torch.Generator().manual_seed(rng.randrange(2**31))
    shape = (rng.choice([1, 3]), rng.randint(2, 24), rng.randint(2, 24))
    whole, up = torch.randint(0, 255, shape, generator=gen).float(), torch.rand(shape, generator=gen) < 0.5
    img = whole + 0.5 * up + 0.05 + 0.4 * torch.rand(shape, generator=gen)
    before = img.clone()
    shown = stored_pixels(truth, lesson.as_displayable(img))
    assert torch.equal(img, before), _("as_displayable must not modify its input")
    want = (whole + up).permute(1, 2, 0).expand(-1, -1, 3).numpy()  # img rounded
    assert shown.shape == want.shape, _("expected a {want_shape} picture, add_image showed {shown_shape}").format(
                                          want_shape=want.shape, shown_shape=shown.shape)
    wrong = np.argwhere(shown != want)
    y, x, ch = wrong[0] if len(wrong) else (0, 0, 0)
    value = float(img[min(ch, shape[0] - 1), y, x])
    if len(wrong):
        truncated = shown[y, x, ch] == int(value)
        pytest.fail((_("at pixel {pixel} the image holds {value:.2f}, which rounds to {want:.0f}; add_image shows "
                       "{shown}: truncated, not rounded (a fractional part of .5 or more rounds up)") if truncated else
                     _("at pixel {pixel} the image holds {value:.2f}, which rounds to {want:.0f}; add_image shows "
                       "{shown}")).format(pixel=(int(y), int(x)), value=value, want=want[y, x, ch],
                                          shown=shown[y, x, ch]))
