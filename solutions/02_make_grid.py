# %% [markdown]
# # Lesson 02 — `make_grid` and reviewing data
#
# Lesson 01 logged one picture per tag and step. A batch of 16 images is 16 pictures, and clicking
# through 16 sliders is no way to look at data. `torchvision.utils.make_grid` tiles a batch into one
# image, so a whole batch, or a whole class folder, fits on one TensorBoard card. You will predict
# the grid's shape, load a batch from an `ImageFolder`, re-implement `make_grid`'s normalisation,
# log the notes' grid and its options, and then use grids to **review a data set**: this course's
# small face / not-face set has a few faults planted in it, and you will find them.
#
# Run your lesson with `make run LESSON=02` (without make: `.venv/bin/python -m tbcourse run --lesson 02`,
# on Windows `.venv\Scripts\python -m tbcourse run --lesson 02`); a demo step whose exercise you have not
# done yet prints `skipped:` and its TODO, and the others still run: the review grids of the last
# exercise need none of the others. Each run logs to a new folder, `runs/02_make_grid/<date>_<time>/`, a
# run of its own in TensorBoard, so earlier runs stay and a rerun never stacks a second copy of the same
# steps. Then `make tensorboard` and open the **Images** tab.

# %% [markdown] en="afa2dcb2" lang="zh"
# # 第 02 课 — `make_grid` 与审查数据
#
# 第 01 课每个标签、每个 step 记录一张图片。一个 batch 的 16 张图像就是 16 张图片，点 16 个滑块可不是看数据的
# 办法。`torchvision.utils.make_grid` 把一个 batch 拼成一张图像，于是整个 batch、甚至整个类别文件夹，都能放在
# TensorBoard 的一张卡片上。你要预测网格的形状，从 `ImageFolder` 载入一个 batch，重新实现 `make_grid` 的标准化，
# 记录笔记中的网格图像及其各个选项，然后用网格图像**审查数据集**：本课程的小型人脸 / 非人脸数据集里埋了
# 几处错误，由你来找出来。
#
# 用 `make run LESSON=02` 运行本课（没有 make 时：`.venv/bin/python -m tbcourse run --lesson 02`，
# 在 Windows 上：`.venv\Scripts\python -m tbcourse run --lesson 02`）；练习还没做完的演示步骤会打印
# `skipped:` 和它的 TODO，其余步骤照常运行：最后一个练习要用的审查网格不依赖其他任何练习。每次运行都记录到
# 一个新文件夹 `runs/02_make_grid/<date>_<time>/`，在 TensorBoard 中是单独的一次 run，所以以前的运行都保留着，
# 重新运行也不会把同样的 step 再叠一份。然后 `make tensorboard`，打开 **Images** 标签页。

# %%
import math
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter
from torchvision.datasets import ImageFolder
from torchvision.transforms import Compose, Resize, ToTensor
from torchvision.utils import make_grid

from tbcourse.kit.demo import section
from tbcourse.kit.paths import FACES, run_dir

# %% [markdown]
# ## torchvision.utils.make_grid — 制作网格图像
#
# ```python
# make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0)
# ```
#
# - `tensor` — the images (图像数据), a B×C×H×W batch (or a list of C×H×W images of one size).
# - `nrow` — **the number of images in each row**. The notes say 行数 (number of rows, the columns
#   worked out automatically); that is backwards. The grid has `min(nrow, B)` columns and as many rows
#   as it takes: 10 images with `nrow=4` give 3 rows of 4, 4 and 2.
# - `padding` — the gap between images and around the border, in pixels (图像间距).
# - `normalize` — rescale the pixel values (see the next section).
# - `value_range` — the (low, high) to rescale from. **The notes call it `range`**; torchvision
#   renamed it, and today `make_grid(..., range=(0, 1))` raises
#   `TypeError: make_grid() got an unexpected keyword argument 'range'`.
# - `scale_each` — with `normalize`, rescale every image by its own min and max instead of the
#   whole batch's (单张图维度标准化).
# - `pad_value` — the value of the padding pixels (网格线的颜色): 0 is black, 1.0 white. The notes
#   call the default 0 colourless (通常默认0，无色); it is not: 0 is black, and a default grid has
#   black lines between its images.
#
# ### The shape of a grid
#
# Every image gets `padding` pixels on its top and left, and the grid gets one more `padding` strip
# at the bottom and the right; `nrow` images make a row, and a last row that is not full still takes a
# row's height. Worked through once: 10 images of 3 × 20 × 30 with `nrow=4` and `padding=1` make rows of
# 4, 4 and 2, so three rows of 21 pixels plus the bottom strip, 64, and four columns of 31 plus the
# right strip, 125: a `(3, 64, 125)` grid. With `nrow=12` the same 10 images make one row. Two special cases, both
# straight from the source of `make_grid`: a single-channel batch is repeated into 3 channels (so it
# shows grey), and a batch of **one** image is returned as that image, with no padding at all.

# %% [markdown] en="7c4c007c" lang="zh"
# ## torchvision.utils.make_grid — 制作网格图像
#
# ```python
# make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0)
# ```
#
# - `tensor` — 图像数据，B×C×H×W 形式的一个 batch（或由同样大小的 C×H×W 图像组成的列表）。
# - `nrow` — **每行的图像数**。笔记说是“行数（列数自动计算）”；这说反了。网格有 `min(nrow, B)` 列，
#   行数按需要来定：10 张图像、`nrow=4`，得到 3 行，分别是 4、4、2 张。
# - `padding` — 图像之间以及四周边框的间距（图像间距），以像素为单位。
# - `normalize` — 重新缩放像素值（见下一节）。
# - `value_range` — 从哪个 (low, high) 区间缩放。**笔记把它叫作 `range`**；torchvision 已把它改名，
#   今天调用 `make_grid(..., range=(0, 1))` 会抛出
#   `TypeError: make_grid() got an unexpected keyword argument 'range'`。
# - `scale_each` — 与 `normalize` 一起使用时，每张图像按它自己的最小值和最大值缩放，而不是按整个 batch 的
#   （单张图维度标准化）。
# - `pad_value` — 间距像素的值（网格线的颜色）：0 是黑色，1.0 是白色。笔记说默认的 0 是无色
#   （通常默认0，无色）；并非如此：0 是黑色，默认的网格图像在图像之间有黑色的线。
#
# ### 网格的形状（The shape of a grid）
#
# 每张图像在上边和左边各有 `padding` 个像素，整个网格在下边和右边再多一条 `padding`；每 `nrow` 张图像排成
# 一行，最后一行即使没排满，也占一整行的高度。完整地算一遍：10 张 3 × 20 × 30 的图像，`nrow=4`、`padding=1`，
# 排成 4、4、2 张的三行，高是三行各 21 像素再加底部的一条，共 64；宽是四列各 31 像素再加右边的一条，共 125：
# 得到一张 `(3, 64, 125)` 的网格图像。`nrow=12` 时，同样的 10 张图像排成一行。有两种特殊情况，都直接来自
# `make_grid` 的源码：单通道的 batch 会被复制成 3 个通道（所以显示为灰色）；只有**一张**图像的 batch
# 原样返回那张图像，完全不加间距。

# %%
def grid_shape(n, c, h, w, nrow=8, padding=2):
    """The (C, H, W) shape make_grid returns for a batch of shape (n, c, h, w), without calling it."""
    ### BEGIN SOLUTION 02.1: return the (C, H, W) shape make_grid gives for these arguments, its special cases included, without building a grid (section 'The shape of a grid')
    channels = 3 if c == 1 else c
    if n == 1:
        return (channels, h, w)
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    return (channels, rows * (h + padding) + padding, cols * (w + padding) + padding)
    ### END SOLUTION


# %% [markdown]
# ### Loading a batch to look at
#
# The notes review the RMB banknote set; this course ships a stand-in in the same layout:
# `data/faces/{train,valid}/{face,not_face}/*.png`, 25×25 grey crops from scikit-image's LFW subset
# (`data/README.md`). `torchvision.datasets.ImageFolder(root)` turns such a folder into a data set:
# each subfolder is a class (in sorted order: `face` is 0, `not_face` is 1), each file a sample, and
# its default loader opens every file with Pillow and converts it to **RGB**, so grey files come out
# with three equal channels. A `transform` turns each picture into a tensor: `Resize(size)` with an
# `(h, w)` pair scales to exactly that size, and `ToTensor()` gives a float C×H×W tensor in [0, 1].
#
# A shuffled `DataLoader` draws its order from a random generator. Give it its own
# `torch.Generator().manual_seed(seed)` and the order depends on `seed` alone, not on whatever else
# used the global random state before: the same seed gives the same batch, every time.

# %% [markdown] en="af812efc" lang="zh"
# ### 载入一个 batch 来看（Loading a batch to look at）
#
# 笔记审查的是人民币（RMB）纸币数据集；本课程附带了一个目录结构相同的替代品：
# `data/faces/{train,valid}/{face,not_face}/*.png`，是从 scikit-image 的 LFW 子集中裁出的 25×25 灰度图
# （见 `data/README.md`）。`torchvision.datasets.ImageFolder(root)` 把这样的文件夹变成一个数据集：
# 每个子文件夹是一个类别（按名称排序：`face` 是 0，`not_face` 是 1），每个文件是一个样本；它默认的 loader
# 用 Pillow 打开每个文件并转换为 **RGB**，所以灰度文件会得到三个相同的通道。`transform` 把每张图片变成张量：
# 参数为 `(h, w)` 对的 `Resize(size)` 精确缩放到这个大小，`ToTensor()` 给出 [0, 1] 内的浮点 C×H×W 张量。
#
# 打乱顺序的 `DataLoader` 从一个随机数生成器中抽取顺序。给它一个自己的
# `torch.Generator().manual_seed(seed)`，顺序就只取决于 `seed`，而与之前别处如何使用全局随机状态无关：
# 同样的种子每次都给出同样的 batch。

# %%
def load_batch(root, batch_size=16, size=(32, 32), seed=0):
    """The first batch (images, labels) of a shuffled, seeded DataLoader over ImageFolder(root)."""
    ### BEGIN SOLUTION 02.2: return the first (images, labels) batch of the image folder root, each picture resized to size, in an order that depends only on seed (section 'Loading a batch to look at')
    dataset = ImageFolder(root, transform=Compose([Resize(size), ToTensor()]))
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)
    return next(iter(loader))
    ### END SOLUTION


# %% [markdown]
# ### normalize and value_range — 标准化 and 标准化范围
#
# With `normalize=True`, `make_grid` first **clamps** the values to `(low, high)` and then maps that
# interval onto **[0, 1]**, in a straight line: `low` to 0, `high` to 1, the middle to 0.5. An
# interval of width 0 (a constant image) would divide by zero; `make_grid` divides by no less than
# `1e-5` instead, so such an image comes out all 0. `(low, high)` is `value_range` when you give one,
# otherwise the tensor's own min and max: the whole batch's, or with `scale_each=True` each image's.
#
# The notes say normalisation maps the values "to 0–255". It does not: `make_grid` stops at [0, 1],
# and it is `add_image` that multiplies a float image by 255 on the way to the PNG (lesson 01's
# rule). The result on screen is the same; the tensor you hold is not.
#
# The notes' worked example is right about the clamping. An image whose values span
# [-1000, 2000], normalised with `value_range=(-600, 500)`: everything below -600 becomes -600 and
# everything above 500 becomes 500, and then -600 maps to 0, 500 to 1 and 0 to 600 / 1100 ≈ 0.545.
# That is how you look at a window of values, a CT scan's soft tissue say, without the extremes
# squeezing everything else into one grey.
#
# `make_grid` works on a copy (`tensor.clone()` before its in-place `clamp_`); your version must not
# change its input either.

# %% [markdown] en="4ecb3b98" lang="zh"
# ### normalize 与 value_range — 标准化与标准化范围（normalize and value_range）
#
# `normalize=True` 时，`make_grid` 先把数值**截断**到 `(low, high)`，再把这个区间按直线映射到 **[0, 1]**：
# `low` 变成 0，`high` 变成 1，正中间变成 0.5。宽度为 0 的区间（像素值全相同的图像）本会除以零；`make_grid`
# 的除数至少取 `1e-5`，所以这样的图像结果全是 0。给了 `value_range` 时
# `(low, high)` 就是它，否则是张量自身的最小值和最大值：整个 batch 的，或在 `scale_each=True` 时每张图像的。
#
# 笔记说标准化把数值映射“到 0-255 之间”。并非如此：`make_grid` 止于 [0, 1]，是 `add_image` 在生成 PNG 的路上
# 把浮点图像乘以 255（第 01 课的规则）。屏幕上的结果一样，你手里的张量却不一样。
#
# 笔记中的例子关于截断的部分是对的。一张数值跨越 [-1000, 2000] 的图像，用 `value_range=(-600, 500)` 标准化：
# 小于 -600 的都变成 -600，大于 500 的都变成 500，然后 -600 映射到 0，500 映射到 1，0 映射到 600 / 1100 ≈ 0.545。
# 这就是只看某一段数值窗口的办法，比如 CT 图像中的软组织，而不让极端值把其余一切都挤成同一种灰。
#
# `make_grid` 在副本上操作（在原地 `clamp_` 之前先 `tensor.clone()`）；你的版本也不能改动它的输入。

# %%
def normalize_image(img, value_range=None):
    """What make_grid(normalize=True, value_range=value_range) does to one image, as a new tensor."""
    ### BEGIN SOLUTION 02.3: return a new tensor: img as make_grid's normalize shows it, over value_range or else the image's own range, img left unchanged (section 'normalize and value_range')
    low, high = value_range if value_range is not None else (float(img.min()), float(img.max()))
    return (img.clamp(low, high) - low) / max(high - low, 1e-5)
    ### END SOLUTION


# %% [markdown]
# ### The notes' grid and its options
#
# The notes log one batch with `nrow=4, normalize=True, scale_each=True` under the tag
# `"input img"`. Log that, and next to it one grid per option, all at step 0, so that you can compare
# them in TensorBoard:
#
# | tag | `make_grid` arguments |
# |---|---|
# | `"input img"` | `nrow=4, normalize=True, scale_each=True` |
# | `"make_grid/default"` | none (defaults: `nrow=8, padding=2`) |
# | `"make_grid/nrow_4"` | `nrow=4` |
# | `"make_grid/padding_8_pad_value_1"` | `padding=8, pad_value=1.0` |
# | `"make_grid/normalize"` | `normalize=True` |
# | `"make_grid/value_range"` | `normalize=True, value_range=(0.2, 0.8)` |
#
# On the shipped faces, whose pixels already fill [0, 1], `default` and `normalize` barely differ;
# `value_range` raises the contrast (all below 0.2 goes black, all above 0.8 white), and
# `scale_each` stretches every face to full contrast on its own, which helps with dark crops.

# %% [markdown] en="89734847" lang="zh"
# ### 笔记中的网格及其选项（The notes' grid and its options）
#
# 笔记用 `nrow=4, normalize=True, scale_each=True` 在标签 `"input img"` 下记录一个 batch。把它记录下来，
# 并在旁边为每个选项各记录一张网格图像，都在 step 0，以便在 TensorBoard 中比较：
#
# | 标签 | `make_grid` 参数 |
# |---|---|
# | `"input img"` | `nrow=4, normalize=True, scale_each=True` |
# | `"make_grid/default"` | 无（默认值：`nrow=8, padding=2`） |
# | `"make_grid/nrow_4"` | `nrow=4` |
# | `"make_grid/padding_8_pad_value_1"` | `padding=8, pad_value=1.0` |
# | `"make_grid/normalize"` | `normalize=True` |
# | `"make_grid/value_range"` | `normalize=True, value_range=(0.2, 0.8)` |
#
# 在附带的人脸图像上，像素本来就铺满了 [0, 1]，所以 `default` 和 `normalize` 几乎没有区别；
# `value_range` 提高了对比度（低于 0.2 的都变黑，高于 0.8 的都变白），而 `scale_each` 把每张人脸各自拉伸到
# 完整的对比度，这对较暗的图像有帮助。

# %%
def log_grid_options(writer, images):
    """Log one make_grid of `images` per tag of the table above, all at step 0."""
    ### BEGIN SOLUTION 02.4: log one grid of images per tag of the table in section 'The notes' grid and its options', made with that row's options, all at step 0
    writer.add_image("input img", make_grid(images, nrow=4, normalize=True, scale_each=True), 0)
    writer.add_image("make_grid/default", make_grid(images), 0)
    writer.add_image("make_grid/nrow_4", make_grid(images, nrow=4), 0)
    writer.add_image("make_grid/padding_8_pad_value_1", make_grid(images, padding=8, pad_value=1.0), 0)
    writer.add_image("make_grid/normalize", make_grid(images, normalize=True), 0)
    writer.add_image("make_grid/value_range", make_grid(images, normalize=True, value_range=(0.2, 0.8)), 0)
    ### END SOLUTION


# %% [markdown]
# ## Reviewing data — 审查数据集
#
# The notes end the section with the point of all this: `add_image` with `make_grid` gives a quick,
# basic review of a data set: whether the training samples overlap (训练数据样本之间是否有交叉), and
# whether their labels are right (这些样本的标签是否正确). Overlap means the same sample twice
# among the training samples, and also a training sample that turns up again in the validation
# set. Grids are how you find the faults no loss curve will show you.
#
# The demo below logs every class folder of both splits as one grid, `review/<split>/<class>`, ten
# images per row, with white grid lines (`pad_value=1.0`) and no normalisation, so that you see the
# pixels as they are. It logs them first, before it calls any exercise, so they are there for you
# however many exercises are still to do. Grid position (row `r`, column `k`, both from 0) is image `10 * r + k` of the
# folder in sorted file-name order, which is `ImageFolder`'s order too; the demo prints the file
# numbers row by row so that you can name what you see.
#
# Two kinds of fault are planted in `data/faces`:
#
# - **mislabeled**: images filed under the wrong class (a face among the non-faces, or the other way);
#   look at the grids of `train/`. The non-faces were cut from the backgrounds of the same photos, so
#   a few of them honestly show a bit of a person, an eye or a shoulder; a misfiled image is a whole
#   face, centred like those in `face/`, or a background patch among the faces.
# - **leaked**: images of `valid/` that are also in `train/`. A model that has trained on them
#   scores them too well, and the validation score is too kind. Comparing 43 images against 160 by eye
#   is slow; compare the pixels instead.

# %% [markdown] en="81908bcc" lang="zh"
# ## 审查数据集（Reviewing data）
#
# 笔记在这一节的结尾点明了这一切的用处：`add_image` 结合 `make_grid` 可以对数据集做一个快速、基本的审查：
# 训练数据样本之间是否有交叉，这些样本的标签是否正确。交叉是指同一个样本在训练样本中出现两次，也包括
# 一个训练样本又出现在验证集中。任何 loss 曲线都不会给你看的错误，要靠网格图像来找。
#
# 下面的演示把两个划分（split）的每个类别文件夹各记录成一张网格图像 `review/<split>/<class>`，每行十张图像，
# 网格线是白色的（`pad_value=1.0`），不做标准化，让你看到像素本来的样子。它最先记录这些网格，在调用任何练习
# 之前，所以无论你还有多少练习没做，它们都在那里。网格中的位置（第 `r` 行、第 `k` 列，都从 0 开始）是该文件夹
# 按文件名排序后的第 `10 * r + k` 张图像，这也是 `ImageFolder` 的顺序；演示逐行打印文件编号，以便你说出看到的是哪张。
#
# `data/faces` 中埋了两种错误：
#
# - **mislabeled（标错的）**：放错类别的图像（非人脸中的一张人脸，或者反过来）；看 `train/` 的网格。
#   非人脸是从同一批照片的背景中裁出来的，所以其中有几张确实露出一点人，一只眼睛或一个肩膀；
#   放错的图像是一张完整的人脸，像 `face/` 中的那样居中，或者是人脸中混进的一块背景。
# - **leaked（泄漏的）**：`valid/` 中同时也在 `train/` 中的图像。在它们上训练过的模型给它们的分数太好，
#   验证分数就偏宽松了。凭肉眼拿 43 张图像和 160 张比对太慢；改为比较像素。

# %%
def find_duplicates(a, b):
    """Every (i, j), sorted, for which image a[i] is exactly equal to image b[j]."""
    ### BEGIN SOLUTION 02.5: return every (i, j) for which image a[i] is exactly equal to image b[j], as a sorted list of tuples of ints (section 'Reviewing data')
    same = (a.flatten(1)[:, None, :] == b.flatten(1)[None, :, :]).all(dim=2)
    return [tuple(pair) for pair in same.nonzero().tolist()]
    ### END SOLUTION


# %% [markdown]
# `find_duplicates` checks **exact** equality, which finds copied files. It misses near-duplicates:
# the same photo re-encoded, resized, brightened or cropped by a pixel, and even two different but
# nearly identical images (two dark, featureless background patches can differ by less than 1 %).
# Catching those takes a looser measure, such as the mean absolute pixel difference under a
# threshold, or a perceptual hash, and then a human look at each candidate pair, since a near
# duplicate is not always a copy.
#
# `find_duplicates(train, valid)` finds the leaks; `find_duplicates(train, train)` answers the notes'
# other question, copies within the training set: every image pairs with itself, `(i, i)`, so the
# copies are the pairs with `i < j`. The demo prints how many copies there are within train, and
# nothing about valid: the leaks are yours to find.
#
# ### Your findings
#
# Run the demo, open `review/train/face` and `review/train/not_face` in TensorBoard and look for
# the images filed under the wrong class. For the leaks, run your `find_duplicates` on the two
# splits yourself (in a notebook cell, or for a moment at the end of the demo); the demo's
# `whole_split` gives each split as one batch and its `ImageFolder`, whose `samples[k][0]` is the
# file of image `k`. Then write down what you found: paths relative to the data set's root, like
# `"train/face/img_0000.png"`, each list sorted.

# %% [markdown] en="1a7863eb" lang="zh"
# `find_duplicates` 检查的是**完全**相等，能找出复制的文件。它会漏掉近似重复：同一张照片经过重新编码、缩放、
# 调亮或裁掉一个像素，甚至两张不同但几乎一样的图像（两块暗的、没有特征的背景可能相差不到 1 %）。要抓住这些，
# 需要更宽松的度量，比如平均绝对像素差低于某个阈值，或感知哈希，然后再人工看一看每一对候选，
# 因为近似重复并不总是复制品。
#
# `find_duplicates(train, valid)` 找出泄漏；`find_duplicates(train, train)` 回答笔记的另一个问题，即训练集内部
# 的副本：每张图像都和它自己配对 `(i, i)`，所以副本是满足 `i < j` 的那些对。演示打印训练集内有多少副本，
# 而对 valid 只字不提：泄漏要由你来找。
#
# ### 你的发现（Your findings）
#
# 运行演示，在 TensorBoard 中打开 `review/train/face` 和 `review/train/not_face`，找出放错类别的图像。
# 至于泄漏，自己在两个划分上运行你的 `find_duplicates`（在 notebook 的一个单元格中，或临时放在演示的末尾）；
# 演示中的 `whole_split` 把每个划分作为一个 batch 连同它的 `ImageFolder` 一起给出，其中 `samples[k][0]` 是
# 第 `k` 张图像的文件。然后写下你的发现：相对于数据集根目录的路径，如
# `"train/face/img_0000.png"`，每个列表都排好序。

# %%
def review_findings():
    """What you found in data/faces: {"mislabeled": [...], "leaked": [...]}, sorted relative paths."""
    ### BEGIN SOLUTION 02.6: return what your review found, {"mislabeled": [...], "leaked": [...]}, each a sorted list of paths relative to the data set's root (section 'Your findings')
    return {
        "mislabeled": ["train/face/img_0113.png", "train/not_face/img_0061.png", "train/not_face/img_0151.png"],
        "leaked": ["valid/face/img_0145.png", "valid/face/img_0174.png", "valid/not_face/img_0036.png"],
    }
    ### END SOLUTION


# %% [markdown]
# ## Run it
#
# The demo logs the review grids of both splits first, then loads a batch of the shipped faces (twice,
# to show that the same seed gives the same batch) and logs the notes' grid and the option grids,
# checks `grid_shape` against `make_grid`, works the notes' [-1000, 2000] example at the values worked
# above, and prints how many copies `find_duplicates` finds within train.

# %% [markdown] en="3a062b40" lang="zh"
# ## 运行（Run it）
#
# 演示先记录两个划分的审查网格，再载入一个 batch 的附带人脸（载入两次，以表明同样的种子给出同样的 batch），
# 记录笔记中的网格图像和各个选项的网格图像，用 `make_grid` 核对 `grid_shape`，按上文算过的数值重演笔记中
# [-1000, 2000] 的例子，并打印 `find_duplicates` 在训练集内找到多少副本。

# %%
REVIEW_NROW = 10


def whole_split(split):
    """Every image of one split as one batch (at its own 25x25 size), and the ImageFolder behind it."""
    dataset = ImageFolder(FACES / split, transform=ToTensor())
    return torch.stack([img for img, _ in dataset]), dataset


# %%
if __name__ == "__main__":
    logdir = run_dir("02_make_grid")
    with SummaryWriter(log_dir=str(logdir)) as writer:
        for split in ["train", "valid"]:
            batch, dataset = whole_split(split)
            targets = torch.tensor(dataset.targets)
            for label, name in enumerate(dataset.classes):
                tag = f"review/{split}/{name}"
                writer.add_image(tag, make_grid(batch[targets == label], nrow=REVIEW_NROW, pad_value=1.0), 0)
                numbers = [Path(path).stem[-4:] for path, target in dataset.samples if target == label]
                print(f"{tag}: {len(numbers)} images, img_NNNN numbers row by row:")
                for row in range(0, len(numbers), REVIEW_NROW):
                    print(f"  row {row // REVIEW_NROW}: " + " ".join(numbers[row:row + REVIEW_NROW]))
        writer.flush()  # the review grids are on disk now, whatever the exercises below do

        with section():
            images, _ = load_batch(FACES / "train", batch_size=16, size=(32, 32), seed=0)
            again, _ = load_batch(FACES / "train", batch_size=16, size=(32, 32), seed=0)
            print(f"a batch: images {tuple(images.shape)} {images.dtype}; "
                  f"loaded again with the same seed, the same images: {torch.equal(images, again)}")
            log_grid_options(writer, images)

    with section():
        for args in [{}, {"nrow": 4}, {"padding": 8}]:
            shape = tuple(make_grid(torch.zeros(16, 3, 32, 32), **args).shape)
            print(f"make_grid(16 images of 3x32x32, **{args}) -> {shape}, "
                  f"grid_shape agrees: {grid_shape(16, 3, 32, 32, **args) == shape}")

    with section():
        ramp = torch.tensor([-1000.0, -600.0, 0.0, 500.0, 2000.0]).reshape(1, 1, 5)
        print(f"the notes' example, value_range=(-600, 500): {ramp.flatten().tolist()} -> "
              f"{[round(v, 3) for v in normalize_image(ramp, (-600, 500)).flatten().tolist()]}")

    with section():
        train, _ = whole_split("train")
        within = [(i, j) for i, j in find_duplicates(train, train) if i < j]
        print(f"{len(within)} exact duplicates within train")
    print(f"logs written to {logdir}")
