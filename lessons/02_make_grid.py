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

# %%
def grid_shape(n, c, h, w, nrow=8, padding=2):
    """The (C, H, W) shape make_grid returns for a batch of shape (n, c, h, w), without calling it."""
    raise NotImplementedError("TODO(02.1): return the (C, H, W) shape make_grid gives for these arguments, its special cases included, without building a grid (section 'The shape of a grid')")


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

# %%
def load_batch(root, batch_size=16, size=(32, 32), seed=0):
    """The first batch (images, labels) of a shuffled, seeded DataLoader over ImageFolder(root)."""
    raise NotImplementedError("TODO(02.2): return the first (images, labels) batch of the image folder root, each picture resized to size, in an order that depends only on seed (section 'Loading a batch to look at')")


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

# %%
def normalize_image(img, value_range=None):
    """What make_grid(normalize=True, value_range=value_range) does to one image, as a new tensor."""
    raise NotImplementedError("TODO(02.3): return a new tensor: img as make_grid's normalize shows it, over value_range or else the image's own range, img left unchanged (section 'normalize and value_range')")


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

# %%
def log_grid_options(writer, images):
    """Log one make_grid of `images` per tag of the table above, all at step 0."""
    raise NotImplementedError("TODO(02.4): log one grid of images per tag of the table in section 'The notes' grid and its options', made with that row's options, all at step 0")


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

# %%
def find_duplicates(a, b):
    """Every (i, j), sorted, for which image a[i] is exactly equal to image b[j]."""
    raise NotImplementedError("TODO(02.5): return every (i, j) for which image a[i] is exactly equal to image b[j], as a sorted list of tuples of ints (section 'Reviewing data')")


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

# %%
def review_findings():
    """What you found in data/faces: {"mislabeled": [...], "leaked": [...]}, sorted relative paths."""
    raise NotImplementedError('TODO(02.6): return what your review found, {"mislabeled": [...], "leaked": [...]}, each a sorted list of paths relative to the data set\'s root (section \'Your findings\')')


# %% [markdown]
# ## Run it
#
# The demo logs the review grids of both splits first, then loads a batch of the shipped faces (twice,
# to show that the same seed gives the same batch) and logs the notes' grid and the option grids,
# checks `grid_shape` against `make_grid`, works the notes' [-1000, 2000] example at the values worked
# above, and prints how many copies `find_duplicates` finds within train.

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

# %% [markdown]
# ## Check your work
#
# In Jupyter, save the notebook (Ctrl+S), then run the cell below, even while cells above still fail:
# it copies the notebook's code into its script, `02_make_grid.py` beside it (the file the grader
# reads), and prints this lesson's part of the scorecard. Run as a script, the cell does nothing:
# use `make test LESSON=02` there.

# %%
import sys

if __name__ == "__main__" and "ipykernel" in sys.modules:  # only in a notebook, not when run as a script
    from tbcourse.kit.check import check

    check("02_make_grid")
