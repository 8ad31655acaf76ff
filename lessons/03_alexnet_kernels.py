# %% [markdown]
# # Lesson 03 — AlexNet's kernels
#
# Lesson 02 tiled a batch of images into one grid. A convolution layer's weights are a batch of
# small images too: `Conv2d(3, 64, 11)` holds 64 kernels, each 3 × 11 × 11, and a picture of them
# tells you what the first layer looks for. This lesson loads AlexNet, finds its convolution layers,
# turns their kernels into grids in the two ways the original course did, logs them to TensorBoard,
# and explains what you should (and should not) expect to see.
#
# Run your lesson with `make run LESSON=03` (without make: `.venv/bin/python -m tbcourse run --lesson 03`,
# on Windows `.venv\Scripts\python -m tbcourse run --lesson 03`); a demo step whose exercise you have not
# done yet prints `skipped:` and its TODO, and the others still run. Each run logs to a new folder,
# `runs/03_alexnet_kernels/<date>_<time>/`, a run of its own in TensorBoard, so earlier runs stay and a
# rerun never stacks a second copy of the same steps. Then `make tensorboard` and open the **Images** tab
# (`make tensorboard` passes `--samples_per_plugin images=1000`; section 4 says why).

# %%
import torch
import torch.nn as nn
from torch.utils.tensorboard import SummaryWriter
from torchvision.utils import make_grid

from tbcourse.kit.alexnet import load_alexnet
from tbcourse.kit.demo import section
from tbcourse.kit.paths import run_dir

# %% [markdown]
# ## 1. A trained AlexNet — alexnet中的可视化：加载预训练模型
#
# The notes (2021) load the model with `models.alexnet(pretrained=True)`. torchvision replaced that
# argument in 0.13 by **`weights=`**, which takes an enum naming the exact checkpoint:
#
# ```python
# from torchvision.models import alexnet, AlexNet_Weights
# model = alexnet(weights=AlexNet_Weights.IMAGENET1K_V1)   # ImageNet-trained; also AlexNet_Weights.DEFAULT
# model = alexnet(weights=None)                            # random initialisation
# ```
#
# On the installed torchvision `pretrained=` still works but warns that it is deprecated and "may be
# removed in the future" (the course's own tests pin this down). The weights
# enum also carries the checkpoint's metadata — its URL, its 1000 ImageNet categories, and the
# preprocessing it expects (`AlexNet_Weights.IMAGENET1K_V1.transforms()`, used in lesson 04).
#
# The weights (233 MB) are downloaded once into torch's cache. This course must also work on a
# laptop without internet, so every lesson gets its AlexNet from `tbcourse.kit.alexnet.load_alexnet()`:
#
# 1. if the environment variable `ALEXNET_WEIGHTS` names a file, that state dict is loaded
#    (download `alexnet-owt-7be5be79.pth` anywhere once and point the variable at it);
# 2. otherwise, torchvision's ImageNet weights, from the cache or downloaded into it;
# 3. if that is impossible (no network, or `COURSE_OFFLINE=1`), a **warning** and a random AlexNet,
#    the same on every call (a fixed seed). Everything below still runs; it just shows noise.
#
# torchvision's AlexNet is the "one weird trick" variant (Krizhevsky, 2014): its first layer has 64
# kernels of 3 × 11 × 11 (the 2012 paper had 96, split over two GPUs), its five convolutions are
# 3→64→192→384→256→256 channels.

# %% [markdown]
# ## 2. Finding the convolutions — 遍历 model.modules()
#
# `model.modules()` walks the model depth first: the model itself, then every submodule, nested ones
# included, in the order they were assigned. The original course keeps the `nn.Conv2d` among them
# and counts them from 0; that number is the `i` of the tags below.

# %%
def conv_layers(model):
    """Every nn.Conv2d of `model`, in model.modules() order."""
    raise NotImplementedError("TODO(03.1): return the model's nn.Conv2d layers, nested ones included, in the order the model lists its modules (section '2. Finding the convolutions')")


# %% [markdown]
# ## 3. Kernels as pictures — 卷积核可视化
#
# A `Conv2d` weight `w` has shape `(c_out, c_in, kh, kw)`: for each of the `c_out` output channels,
# one `kh × kw` slice per input channel. `make_grid` wants a batch `B × C × H × W`, so there are two
# ways to cut it.
#
# **Split by input channel** (the tag `i_Convlayer_split_in_channel`): take one output channel, of
# shape `(c_in, kh, kw)`, and give it the channel dimension make_grid needs: `c_in` one-channel
# pictures (make_grid needs BCHW, 这里拓展C维度). In one row, they sit side by side, one grey tile
# per input channel. This view is honest
# for every layer: each tile is exactly the weights that one input channel meets.
#
# **All kernels as RGB** (the tag `i_all`): regroup *every* slice of the layer, in the weight's own
# order, in threes, and show each three as one colour tile (a weight of 4 × 6 slices makes 8 tiles). For the first layer that is exactly right:
# its `c_in` is 3 and the input channels **are** red, green and blue, so every tile is one kernel in
# the colours it responds to. For any deeper layer it is a fiction: the 64 input channels of conv2
# are conv1's feature maps, not colours, and since 64 is not a multiple of 3 some tiles even mix the
# end of one kernel with the start of the next. Look at `1_all` as a texture, not as colours. When
# `c_out * c_in` is not a multiple of 3 (AlexNet's last convolution, 256 × 256) the view does not exist
# at all, and asking for it should say so (a `ValueError`) rather than fail inside `reshape`.
#
# Both views use `normalize=True, scale_each=True`: weights are small signed numbers (mostly far below 1 in size),
# which `add_image` would show almost black (lesson 01's rule: × 255, clipped). `scale_each` stretches
# every tile to its own min…max, so each kernel's **pattern** shows at full contrast; the price is that
# you cannot compare magnitudes between tiles (a nearly dead kernel looks as vivid as a strong one).
# Without `scale_each` the whole grid shares one min and max, and weak kernels fade to grey.
#
# One detail the original code gets backwards: it unpacks the shape as `c_out, c_in, k_w, k_h` and then
# reshapes to `(-1, 3, k_h, k_w)`, which swaps height and width. AlexNet's kernels are square, so
# nothing shows; read the shape as `(c_out, c_in, kh, kw)` and keep the order.

# %%
def kernel_grid_split(conv, out_idx):
    """One output channel's kernels, one grey tile per input channel, side by side."""
    raise NotImplementedError("TODO(03.2): return the grid of output channel out_idx: its kernel for each input channel as one grey tile, all in one row, each tile scaled to its own range (section '3. Kernels as pictures')")


def kernel_grid_all(conv, nrow=8):
    """Every kernel slice of the layer regrouped in threes as RGB tiles; ValueError when impossible."""
    raise NotImplementedError("TODO(03.3): return the grid of all the layer's kernel slices taken three at a time as RGB tiles, nrow tiles a row, each scaled to its own range; raise ValueError when the slices cannot be grouped in threes (section '3. Kernels as pictures')")


# %% [markdown]
# ## 4. Logging them — add_image() 记录图像: one step per kernel
#
# The original course logs, for the first `vis_max + 1` convolution layers (`vis_max=1`: conv1 and
# conv2), one split grid per output channel — the output channel is the `global_step`, so the
# TensorBoard slider walks through the kernels — and one all-kernels grid at step 322 (an arbitrary
# number the course kept). For AlexNet that is 64 steps under `0_Convlayer_split_in_channel`, 192
# under `1_Convlayer_split_in_channel`, plus `0_all` and `1_all`.
#
# **Where are my 192 steps?** TensorBoard does not keep every image it reads: by default its image
# dashboard keeps a random sample of **10 steps per tag** (always including the latest), to save
# memory. The event file holds all 192; to see them, start TensorBoard with
#
# ```bash
# tensorboard --logdir runs/03_alexnet_kernels --samples_per_plugin images=200
# ```
#
# (`make tensorboard` does this for every lesson.)
#
# The course's own tests read event files with `size_guidance` 0 (keep everything) for the same reason.
#
# `vis_max=4` would reach conv5, whose all-kernels view does not exist: `log_kernels` then stops with
# `kernel_grid_all`'s `ValueError`, after logging the layers before it.

# %%
def log_kernels(writer, model, vis_max=1):
    """Split grids (step = output channel) and the all-kernels grid (step 322) of conv layers 0..vis_max."""
    raise NotImplementedError("TODO(03.4): log, for conv layers 0 to vis_max, every output channel's split grid at the step of its index and the layer's whole grid at step 322, under the tags section '4. Logging them' names")


# %% [markdown]
# ## 5. What you should see — 训练前后的卷积核
#
# **Trained weights.** `0_all` is the famous picture: many of the 64 tiles are oriented edge and bar
# detectors (light–dark stripes at every angle, some fine, some coarse), most of the others colour
# blobs and colour-opponent edges (red against green, blue against yellow). Nobody programmed
# them: they are what gradient descent finds most useful for recognising objects in natural images,
# and they resemble the receptive fields of simple cells in the visual cortex (and Gabor filters).
# The split view of conv1 shows the same kernels channel by channel: for an edge detector the three
# tiles look alike (it ignores colour); for a colour kernel they differ. conv2's 5 × 5 tiles are much
# harder to read, because their inputs are conv1's maps, not pixels.
#
# **Random weights** (the offline fallback, or `alexnet(weights=None)`): every tile is salt-and-pepper
# noise with no orientation, no smoothness and no colour structure — PyTorch draws each weight
# independently from a uniform distribution, and `scale_each` stretches even that noise to full
# contrast, so it looks "vivid" without meaning anything. The demo logs an untrained conv1 (a fresh
# `nn.Conv2d(3, 64, 11, stride=4, padding=2)`, initialised as in `alexnet(weights=None)`) under
# `untrained/0_all` next to the loader's, so with the real weights you can see both side by side.
# Structure in kernels is evidence of learning; contrast is not.

# %% [markdown]
# ## Run it
#
# The demo loads AlexNet with the course's loader (it warns if it falls back to random weights),
# prints the shapes of its convolution layers, and logs `log_kernels(writer, model)` plus an untrained
# conv1 for comparison.

# %%
if __name__ == "__main__":
    model = load_alexnet()
    with section():
        for i, conv in enumerate(conv_layers(model)):
            print(f"conv layer {i}: weight {tuple(conv.weight.shape)}")

    logdir = run_dir("03_alexnet_kernels")
    with SummaryWriter(log_dir=str(logdir)) as writer:
        with section():
            log_kernels(writer, model)
        with section():
            torch.manual_seed(1)
            untrained_conv1 = nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2)  # as alexnet(weights=None) does
            writer.add_image("untrained/0_all", kernel_grid_all(untrained_conv1), global_step=322)
    print(f"logs written to {logdir}; view all steps with `make tensorboard`, or:\n"
          f"  tensorboard --logdir {logdir} --samples_per_plugin images=200")

# %% [markdown]
# ## Check your work
#
# In Jupyter, save the notebook (Ctrl+S), then run the cell below, even while cells above still fail:
# it copies the notebook's code into its script, `03_alexnet_kernels.py` beside it (the file the grader
# reads), and prints this lesson's part of the scorecard. Run as a script, the cell does nothing:
# use `make test LESSON=03` there.

# %%
import sys

if __name__ == "__main__" and "ipykernel" in sys.modules:  # only in a notebook, not when run as a script
    from tbcourse.kit.check import check

    check("03_alexnet_kernels")
