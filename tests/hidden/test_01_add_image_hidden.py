"""Lesson 01's hidden check: 01.2 on images whose values are whole pixel values k / 255, on the edge between two
pixels (float16 holds most of them a little below it): a prediction that rounds, or any other arithmetic than
add_image's, lands on the other side. The public checks keep their values clear of these edges."""
import numpy as np
import pytest
import torch
from torch.utils.tensorboard import SummaryWriter

from tbcourse.grading.student import StudentLesson
from tbcourse.kit.events import images

lesson = StudentLesson("01_add_image")


@pytest.mark.exercise("01.2", points=1)
@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_displayed_pixels_on_whole_pixel_values(truth, rng, dtype):
    gen = torch.Generator().manual_seed(rng.randrange(2**31))
    layout = rng.choice(["CHW", "HWC"])
    shape = (3, rng.randint(4, 20), rng.randint(4, 20))
    img = (torch.randint(0, 256, shape, generator=gen, dtype=torch.float64) / 255).to(dtype)
    img = img if layout == "CHW" else img.permute(1, 2, 0).contiguous()
    with SummaryWriter(log_dir=str(truth)) as w:
        w.add_image("img", img.clone(), 0, dataformats=layout)
    want = images(truth, "img")[0]
    got = lesson.displayed_pixels(img.numpy() if rng.random() < 0.5 else img, dataformats=layout)
    assert isinstance(got, np.ndarray) and got.shape == want.shape, f"expected a uint8 array of shape {want.shape}"
    wrong = np.argwhere(got != want)
    assert not len(wrong), (f"{dtype} {layout}, values k/255: at pixel {tuple(map(int, wrong[0]))} TensorBoard "
                            f"stores {want[tuple(wrong[0])]}, you predicted {got[tuple(wrong[0])]}")
