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

# %% [markdown] en="410b292b" lang="zh"
# # 第 01 课 — `add_image()` 和它的缩放规则
#
# 第 1 部分记录的是数：标量和直方图。这一课记录**图片**。在有东西决定张量里的数怎样变成像素之前，
# 图片只是一个张量；而这个决定，正是 `add_image` 最容易让人栽跟头的地方。你要记录笔记中的五张测试图像，
# 准确预测 TensorBoard 对任意张量保存哪些像素，并修正一个会被错误显示的张量。
#
# 用 `make run LESSON=01` 运行本课（没有 make 时：`.venv/bin/python -m tbcourse run --lesson 01`，
# 在 Windows 上：`.venv\Scripts\python -m tbcourse run --lesson 01`）；练习还没做完的演示步骤会打印
# `skipped:` 和它的 TODO，其余步骤照常运行。每次运行都记录到一个新文件夹
# `runs/01_add_image/<date>_<time>/`，在 TensorBoard 中是单独的一次 run，所以以前的运行都保留着，重新运行
# 也不会把同样的 step 再叠一份。然后 `make tensorboard`，打开 **Images** 标签页。

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

# %% [markdown] en="e82c730d" lang="zh"
# ## 4. add_image() — 记录图像
#
# ```python
# SummaryWriter.add_image(tag, img_tensor, global_step=None, walltime=None, dataformats="CHW")
# ```
#
# - `tag` — 图像的标签名；同一个标签的所有 step 在 TensorBoard 中是一个滑块。
# - `img_tensor` — 图像数据。**注意尺度**：见下文。
# - `global_step` — 滑块的位置（x 轴）。
# - `dataformats` — 通道在哪一维：`"CHW"`（torch 的习惯）、`"HWC"`（numpy/PIL 的习惯）
#   或 `"HW"`（单个灰度通道）。
#
# ### 笔记中的五个步骤（The notes' five steps）
#
# 笔记在同一个标签 `fake_img` 下、step 1 到 5 记录了五张图像：
#
# | step | 张量 | `dataformats` | 看到的是 |
# |---|---|---|---|
# | 1 | `torch.randn(3, 512, 512)` | CHW | 彩色噪声；大约八分之一的像素是黑的 |
# | 2 | `torch.ones(3, 512, 512)` | CHW | 白色 |
# | 3 | `torch.ones(3, 512, 512) * 1.1` | CHW | 白色，**和 step 2 一样**（2021 年时是黑色，见下文） |
# | 4 | `torch.rand(512, 512)` | HW | 灰色噪声 |
# | 5 | `torch.rand(512, 512, 3)` | HWC | 彩色噪声 |
#
# 原课程在两步之间 sleep 一秒，好让记录时间（wall time）不同；这没有必要：step 就是滑块的位置。

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

# %% [markdown] en="22dc0c73" lang="zh"
# ### 缩放规则（注意尺度）——以及笔记中的 cond2 从何而来（The scaling rule）
#
# 笔记给出两个条件：
#
# - cond1：图片像素值都在[0~1]之间，则默认在此基础上×255；
# - cond2：图片像素一般为[0~255]，因此如果有像素值有大于1的，则落在此范围，不作改动。
#
# **cond2 从来不是 torch 的规则。** `add_image` 从来不看数值，只看 dtype。
# 笔记写成时（2021 年 1 月，torch 1.7），每张浮点图像都乘以 255，再**不做截断**地转换为 `uint8`。
# step 3 的 `ones * 1.1` 变成 1.1 × 255 = 280.5，这个数 `uint8` 存不下。C 语言对这样的转换没有定义其结果；
# 在常见的 x86 机器上，它保留低 8 位，280 − 256 = 24，一个几乎全黑的像素。这就是原课程代码的注释说
# step 3 是黑色的原因，也是笔记看到一张数值大于 1 的黑色图像、便猜出 cond2 的原因。
# 2022 年 12 月，pytorch issue 90419 指出这些转换是未定义行为，torch 随后加上了截断。
# 今天的规则（`torch/utils/tensorboard/summary.py` 中的 `image` 函数，由其中的
# `_calc_scale_factor` 选出缩放因子）仍然**只看 dtype，从不看数值**：
#
# 1. `uint8` 图像原样保存；
# 2. 其他所有 dtype（float16、float32、float64……）都先转换为 float32，**乘以 255，截断到 [0, 255]**，
#    再转换为 `uint8`（转换会截去小数：127.9 变成 127）。
#
# 所以 step 3 是白色的，和 step 2 完全一样；而一张数值在 [0, 255] 内的浮点图像，显示出来几乎全是白色。
# 小于 1/255 的值，包括所有负值，都变成 0：step 1 的通道值有一半是这样。但只有三个通道都是 0 的像素才是黑的，
# 所以只有大约八分之一（½ × ½ × ½）的像素是黑的；演示会数一数。
#
# 形状按 `dataformats` 处理：图像被移成 高 × 宽 × 通道；单个通道（`HW`，或 `C == 1`）复制成三个相同的通道
# （灰色）；3 个通道是 RGB，4 个是 RGBA。然后 TensorBoard 把结果存成一张 PNG。
#
# 课程自己的测试会在已安装的 torch 上验证这些，所以将来规则一旦改变，表现为一个失败的测试，而不是一节讲错的课。

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

# %% [markdown] en="45994964" lang="zh"
# ### 显示一张已经在 [0, 255] 内的图像（Showing an image that is already in [0, 255]）
#
# 从文件解码出来的图像，或撤销了标准化的图像，常常是 [0, 255] 内的浮点数。原样记录的话，凡是大于 1 的地方
# 都显示成白色。有两种正当的修正，两者都要先四舍五入：除以 255，或者转换为 `uint8`，让 dtype 表明“已经是像素值”。
# 不四舍五入的话，两种做法都会截去小数（`add_image` 在 × 255 之后转换类型，转换为 `uint8` 也是如此）：
# 127.6 会显示为 127，而不是 128。

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

# %% [markdown] en="6886595e" lang="zh"
# ## 运行（Run it）
#
# 演示记录这五个步骤，从事件文件中读回 step 1，数出其中的零。它把一张 [0, 255] 内的图像记录两次：原样记录
# （白色），以及经过 `as_displayable` 后记录（正确）。它打印 `displayed_pixels` 对本课已经回答过的几种情况的预测
# （step 3 的 `ones * 1.1`、浮点数 128、`uint8` 的 128），以及它是否预测对了那张 [0, 255] 图像保存下来的每个像素。

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
