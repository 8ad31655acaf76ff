# %% [markdown]
# # Lesson 01 — `add_image()` and its scaling rule
#
# Part 1 logged numbers: scalars and histograms. This lesson logs **pictures**. A picture is only a
# tensor until something decides how its numbers become pixels, and that decision is the one thing
# about `add_image` that trips people up. You will log the notes' five test images, predict exactly
# which pixels TensorBoard stores for any tensor, and fix a tensor that would be shown wrongly.
#
# Run your lesson with `make run LESSON=01` (without make: `.venv/bin/python -m tbcourse run --lesson 01`,
# on Windows `.venv\Scripts\python -m tbcourse run --lesson 01`); a demo step whose exercise you have not
# done yet prints `skipped:` and its TODO, and the others still run. Each run logs to a new folder,
# `runs/01_add_image/<date>_<time>/`, a run of its own in TensorBoard, so earlier runs stay and a rerun
# never stacks a second copy of the same steps. Then `make tensorboard` and open the **Images** tab.

# %%
import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter

from tbcourse.kit.demo import section
from tbcourse.kit.events import images
from tbcourse.kit.paths import run_dir

# %% [markdown]
# ## 4. add_image() — 记录图像
#
# ```python
# SummaryWriter.add_image(tag, img_tensor, global_step=None, walltime=None, dataformats="CHW")
# ```
#
# - `tag` — the image's name (图像的标签名); every step of one tag is one slider in TensorBoard.
# - `img_tensor` — the image data (图像数据). **Mind the scale (注意尺度)**: see below.
# - `global_step` — the slider position (x 轴).
# - `dataformats` — where the channels are: `"CHW"` (torch's habit), `"HWC"` (numpy/PIL's habit)
#   or `"HW"` (one grey channel).
#
# ### The notes' five steps
#
# The notes log five images under one tag, `fake_img`, at steps 1 to 5:
#
# | step | tensor | `dataformats` | what you see |
# |---|---|---|---|
# | 1 | `torch.randn(3, 512, 512)` | CHW | coloured noise; about one pixel in eight black |
# | 2 | `torch.ones(3, 512, 512)` | CHW | white |
# | 3 | `torch.ones(3, 512, 512) * 1.1` | CHW | white, **the same as step 2** (black in 2021, see below) |
# | 4 | `torch.rand(512, 512)` | HW | grey noise |
# | 5 | `torch.rand(512, 512, 3)` | HWC | coloured noise |
#
# The original course slept a second between steps so that the wall times differ; that is not
# needed: the step number is the slider.

# %%
def log_note_images(writer, size=512):
    """Log the notes' five images under the tag "fake_img" at steps 1..5 (see the table above)."""
    ### BEGIN SOLUTION 01.1: log the five images of the table in section 'The notes' five steps' under tag "fake_img" at steps 1 to 5, each in the layout its row names
    writer.add_image("fake_img", torch.randn(3, size, size), 1)
    writer.add_image("fake_img", torch.ones(3, size, size), 2)
    writer.add_image("fake_img", torch.ones(3, size, size) * 1.1, 3)
    writer.add_image("fake_img", torch.rand(size, size), 4, dataformats="HW")
    writer.add_image("fake_img", torch.rand(size, size, 3), 5, dataformats="HWC")
    ### END SOLUTION


# %% [markdown]
# ### The scaling rule (注意尺度) — and where the notes' cond2 came from
#
# The notes give two conditions:
#
# - cond1: pixel values all in [0, 1] → multiplied by 255 (图片像素值都在[0~1]之间，则默认在此基础上×255);
# - cond2: pixels are usually in [0, 255], so if any value is greater than 1 the image is taken to be
#   in that range and left unchanged (如果有像素值有大于1的，则落在此范围，不作改动).
#
# **cond2 was never torch's rule.** `add_image` has never looked at the values, only at the dtype.
# When the notes were written (January 2021, torch 1.7), every float image was multiplied by 255
# and cast to `uint8` **with no clipping**. Step 3's `ones * 1.1` became 1.1 × 255 = 280.5, a number
# `uint8` cannot hold. C leaves such a cast undefined; on the usual x86 machines it kept the low 8
# bits, 280 − 256 = 24, a nearly black pixel. That is why the original course code's comment calls
# step 3 black, and why the notes, seeing a black image whose values were above 1, guessed cond2. In
# December 2022 pytorch issue 90419 pointed out that these casts are undefined, and torch added the
# clip. Today's rule (`torch/utils/tensorboard/summary.py`, function `image`, where
# `_calc_scale_factor` picks the factor) still looks at the **dtype, never at the values**:
#
# 1. `uint8` images are stored as they are;
# 2. every other dtype (float16, float32, float64, …) is converted to float32, **multiplied by 255,
#    clipped to [0, 255]** and cast to `uint8` (the cast truncates: 127.9 becomes 127).
#
# So step 3 is white, exactly like step 2, and a float image holding values in [0, 255] comes out
# almost entirely white. Every value below 1/255, the negative ones included, becomes 0: that is
# half of step 1's channel values. But a pixel is black only when all three of its channels are 0,
# so only about one pixel in eight (½ × ½ × ½) is black; the demo counts them.
#
# Shapes follow `dataformats`: the image is moved to height × width × channels; a single channel
# (`HW`, or `C == 1`) is repeated into three equal channels (grey); 3 channels are RGB and 4 are
# RGBA. TensorBoard then stores the result as a PNG.
#
# The course's own tests prove this against the installed torch, so a future change of the rule shows
# up as a failing test rather than as a wrong lesson.

# %%
def displayed_pixels(img, dataformats="CHW"):
    """The uint8 pixels, (H, W, 3) or (H, W, 4), that add_image(tag, img, dataformats=...) stores."""
    ### BEGIN SOLUTION 01.2: return the uint8 (H, W, 3) or (H, W, 4) array that add_image stores for img with this dataformats, exact to the pixel (section 'The scaling rule')
    arr = img.detach().cpu().numpy() if isinstance(img, torch.Tensor) else np.asarray(img)
    fmt = dataformats.upper()
    if fmt == "HW":
        arr = arr[..., None]
    else:
        arr = arr.transpose([fmt.index(axis) for axis in "HWC"])
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.dtype == np.uint8:
        return arr.copy()
    return (arr.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    ### END SOLUTION


# %% [markdown]
# ### Showing an image that is already in [0, 255]
#
# Images decoded from files, or undone from a normalisation, are often floats in [0, 255]. Logged
# as they are, they come out white wherever a value exceeds 1. There are two honest fixes, and both
# round first: divide by 255, or convert to `uint8` so that the dtype says "already pixels". Without
# the rounding both truncate (`add_image` casts after its × 255, and so does a conversion to `uint8`):
# 127.6 would show as 127, not 128.

# %%
def as_displayable(img):
    """Return a tensor that add_image shows as the [0, 255]-valued float CHW image `img`."""
    ### BEGIN SOLUTION 01.3: return a new tensor that add_image shows as img rounded to whole pixel values, img left unchanged (section 'Showing an image that is already in [0, 255]')
    return img.round().clamp(0, 255).to(torch.uint8)
    ### END SOLUTION


# %% [markdown]
# ## Run it
#
# The demo logs the five steps, reads step 1 back from the event file and counts its zeros. It logs
# an image in [0, 255] twice: as it is (white) and through `as_displayable` (correct). It prints what
# `displayed_pixels` predicts for the cases this lesson has already answered (step 3's `ones * 1.1`, a
# float 128, a `uint8` 128), and whether it predicts every pixel stored for the image in [0, 255].

# %%
if __name__ == "__main__":
    logdir = run_dir("01_add_image")
    gradient = torch.linspace(0, 255, 256).expand(3, 64, 256).clone()
    with SummaryWriter(log_dir=str(logdir)) as writer:
        with section():
            log_note_images(writer)
            writer.flush()
            step1 = images(logdir, "fake_img")[1]  # the stored PNG, (512, 512, 3)
            print(f"step 1, randn: {(step1 == 0).mean():.1%} of the channel values are 0, "
                  f"{(step1 == 0).all(axis=2).mean():.1%} of the pixels are black")
        writer.add_image("pixels_0_255/as_float", gradient, 0)
        with section():
            writer.add_image("pixels_0_255/as_displayable", as_displayable(gradient), 0)

    with section():
        for name, tensor in [("ones * 1.1", torch.ones(3, 2, 2) * 1.1), ("float 128.0", torch.full((3, 2, 2), 128.0)),
                             ("uint8 128", torch.full((3, 2, 2), 128, dtype=torch.uint8))]:
            print(f"{name:>11}, CHW -> pixel {displayed_pixels(tensor)[0, 0].tolist()}")
        stored = images(logdir, "pixels_0_255/as_float")[0]
        print(f"displayed_pixels predicts every stored pixel of pixels_0_255/as_float: "
              f"{np.array_equal(displayed_pixels(gradient), stored)}")
    print(f"logs written to {logdir}")
