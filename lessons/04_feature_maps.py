# %% [markdown]
# # Lesson 04 — AlexNet's feature maps
#
# Lesson 03 looked at what AlexNet's kernels *are*; this lesson looks at what they *do* to a picture.
# Feed a photo through the first convolution and you get 64 feature maps, one per kernel: where in the
# image each kernel fires. You will load and normalise the photo the way AlexNet expects, compute
# conv1's maps without building a gradient graph, tile them into one grid without damaging the
# tensor (the notes' code does), log the grid, and collect deeper layers' maps in one forward pass.
#
# Run your lesson with `make run LESSON=04` (without make: `.venv/bin/python -m tbcourse run --lesson 04`,
# on Windows `.venv\Scripts\python -m tbcourse run --lesson 04`); a demo step whose exercise you have not
# done yet prints `skipped:` and its TODO, and the others still run (all of them need the photo, 04.1).
# Each run logs to a new folder, `runs/04_feature_maps/<date>_<time>/`, a run of its own in TensorBoard,
# so earlier runs stay and a rerun never stacks a second copy of the same steps. Then `make tensorboard`
# and open the **Images** tab.

# %%
import torch
from PIL import Image
from torch.utils.tensorboard import SummaryWriter
from torchvision import transforms
from torchvision.utils import make_grid

from tbcourse.kit.alexnet import load_alexnet
from tbcourse.kit.demo import section
from tbcourse.kit.paths import PHOTO, run_dir

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CIFAR10_MEAN = (0.49139968, 0.48215827, 0.44653124)  # what the notes' code used
CIFAR10_STD = (0.24703233, 0.24348505, 0.26158768)

# %% [markdown]
# ## 1. The input — alexnet中的可视化：数据
#
# The photo is the course's own, `data/photos/astronaut.png` (`tbcourse.kit.paths.PHOTO`): astronaut
# Eileen Collins, a NASA photo in the public domain, shipped with scikit-image (`data/README.md`).
# The notes used a `lena.png` that the course does not ship.
#
# The preprocessing has three steps. `Image.open(path).convert("RGB")` makes every file three
# channels — a grey PNG has one, a PNG with transparency four, and AlexNet's first layer takes
# exactly three. `Resize((224, 224))` squashes it to the size AlexNet was trained on (a pair means
# exactly that height and width; a single number would only set the shorter side).
# `ToTensor()` gives floats in [0, 1], C × H × W. Then `Normalize(mean, std)` computes
# `(x - mean[c]) / std[c]` per channel, and `unsqueeze(0)` adds the batch dimension.
#
# **Which mean and std?** The notes' code uses CIFAR-10's statistics,
# `(0.4914, 0.4822, 0.4465)` and `(0.2470, 0.2435, 0.2616)`. But the numbers are not a property of the
# photo you feed in; they are part of the **model**: AlexNet's weights were fitted to ImageNet images
# normalised with ImageNet's statistics, mean `(0.485, 0.456, 0.406)` and std `(0.229, 0.224, 0.225)`,
# and every later layer was tuned to the range of activations that this produces. Feed it inputs
# normalised differently and each channel is shifted and scaled a little: conv1's outputs shift and
# rescale with it, and ReLUs switch on or off in the wrong places. The two sets of numbers look
# close, yet conv1's output on the photo changes by about a tenth (the demo measures it for the
# weights you have); with statistics further off (say MNIST's 0.1307 / 0.3081) it is far worse.
# Don't guess: torchvision publishes the right preprocessing with the weights,
# `AlexNet_Weights.IMAGENET1K_V1.transforms()` (resize to 256, centre-crop 224, ImageNet mean and std)
# — the course's own tests check it.

# %%
def load_image(path, size=224):
    """The image at `path` as a (1, 3, size, size) tensor, normalised with ImageNet's statistics."""
    raise NotImplementedError("TODO(04.1): return the picture at path as AlexNet takes it: a (1, 3, size, size) float tensor prepared as section '1. The input' describes")


# %% [markdown]
# ## 2. conv1's feature maps — 特征图可视化
#
# `model.features[0]` is AlexNet's first convolution, `Conv2d(3, 64, kernel_size=11, stride=4,
# padding=2)`. On a 224 × 224 input each of its 64 kernels produces one map of
# `(224 + 2·2 − 11) // 4 + 1 = 55` pixels square: the output is `(1, 64, 55, 55)`.
#
# We only look at these numbers; we will never call `backward()` on them. Inside `torch.no_grad()`
# autograd records nothing, so the result has `requires_grad=False`, no `grad_fn`, and no graph of
# saved activations keeping memory alive (the original course wraps its whole demo in `no_grad`).

# %%
def conv1_feature_maps(model, img):
    """The output of model.features[0] on img, computed without gradient tracking."""
    raise NotImplementedError("TODO(04.2): return conv1's feature maps of img, computed without building a gradient graph (section '2. conv1's feature maps')")


# %% [markdown]
# ## 3. One grid of 64 maps — 预处理：transpose
#
# `make_grid` takes a batch of images B × C × H × W. The maps come as **one** image with 64 channels,
# `(1, 64, 55, 55)`; we want 64 one-channel images, `(64, 1, 55, 55)`: the first two dimensions
# change places. Then a grid of 8 a row, each map stretched to its own min…max, gives 8 rows of 8 grey
# tiles: `(3, 8·57 + 2, 8·57 + 2) = (3, 458, 458)`.
#
# **The notes' pitfall: `transpose_`.** The original code writes `fmap_1.transpose_(0, 1)`. The
# trailing underscore means *in place*: it changes `fmap_1` itself, which is `(64, 1, 55, 55)` from
# then on. Inside a function that means the caller's tensor silently changes shape — call the
# function twice on the same maps and the second call transposes them back to `(1, 64, 55, 55)`: one
# 64-channel "image", which `add_image` cannot show. `transpose` without the underscore returns
# a *view* with the dimensions swapped and leaves the tensor alone; `make_grid` copies before it
# normalises, so the view is never written to.

# %%
def feature_map_grid(fmap, nrow=8):
    """Tile the maps of a (1, C, H, W) tensor as C grey images, each scaled to its own range."""
    raise NotImplementedError("TODO(04.3): return one grid of the maps in fmap, each map a grey tile scaled to its own range, nrow tiles a row, fmap left unchanged (section '3. One grid of 64 maps')")


# %% [markdown]
# ## 4. Logging the grid — add_image() 记录图像
#
# The original course logs the grid under the tag `"feature map in conv1"` at step 322.

# %%
def log_feature_maps(writer, model, img):
    """Log the grid of conv1's feature maps on img under "feature map in conv1", step 322."""
    raise NotImplementedError('TODO(04.4): log the grid of conv1\'s feature maps of img under tag "feature map in conv1" at step 322 (section \'4. Logging the grid\')')


# %% [markdown]
# ## 5. Deeper layers in one pass — 多层特征图：forward hooks
#
# For conv1 we could call the layer by hand. For deeper layers, slicing `model.features[:4](img)`
# works for a plain `Sequential` but runs the network again for every layer and fails for models that
# are not a chain. The general tool is a **forward hook**: `module.register_forward_hook(fn)` makes
# PyTorch call `fn(module, inputs, output)` every time the module runs; one `model(img)` then fills a
# dict with every output you asked for. Find modules by their qualified name with
# `model.get_submodule("features.3")`, and always `remove()` the handles afterwards, or the hooks
# keep firing (and keep tensors alive) on every later forward pass.
#
# `torchvision.models.feature_extraction.create_feature_extractor(model, return_nodes=[...])` does the
# same with `torch.fx`: it traces the model into a new module whose output is the dict you asked for.
#
# **The trap: in-place ReLU.** AlexNet's activations are `nn.ReLU(inplace=True)`: the ReLU after
# `features.0` overwrites conv1's output tensor with its rectified values to save memory. A hook that
# stores `output` itself therefore ends up holding **ReLU(conv1)**, not conv1 — all negatives gone.
# `create_feature_extractor` has the same trap: asked for "features.0" together with a later layer, it
# returns the tensor that the ReLU in between overwrote (asked for "features.0" alone, it prunes the
# ReLU and is right; the course's own tests show all three). With hooks the cure is
# simple: store a copy of the output, taken at the moment the hook runs, with no gradient graph.

# %%
def feature_maps(model, img, layers):
    """{name: output} of the named submodules of `model`, collected in one forward pass on img."""
    raise NotImplementedError("TODO(04.5): return {name: output} for each layer named in layers, all from a single forward pass, each output as its layer produced it (section '5. Deeper layers in one pass')")


# %% [markdown]
# ## 6. What you should see — 训练前后的特征图
#
# With the **trained** weights, the conv1 grid is a set of differently filtered astronauts: some maps
# light up along edges of one orientation (the suit's folds, the helmet's rim, the flag's stripes),
# some on colours (the orange suit, the blue patch), some are a blurred copy of the brightness.
# Deeper maps (`features.3` is conv2, 27 × 27; `features.6` is conv3, 13 × 13) get coarser and more
# abstract: fewer pixels, each summarising a larger patch of the photo, harder and harder to name.
#
# With **random** weights (the offline fallback) the conv1 maps still look like the astronaut —
# blurred, noisy, sometimes inverted — because a convolution is a local, linear filter: any filter
# keeps the photo's layout. That resemblance is not learning; look for maps that *pick out* specific
# structure (one orientation, one colour), which only trained kernels do.

# %% [markdown]
# ## Run it
#
# The demo logs the input (normalisation undone), conv1's grid, the grids of conv2 and conv3, and
# prints how much conv1's output changes when the photo is normalised with the notes' CIFAR-10
# statistics instead of ImageNet's.

# %%
if __name__ == "__main__":
    model = load_alexnet()
    mean, std = torch.tensor(IMAGENET_MEAN).view(3, 1, 1), torch.tensor(IMAGENET_STD).view(3, 1, 1)

    logdir = run_dir("04_feature_maps")
    with SummaryWriter(log_dir=str(logdir)) as writer, section():
        img = load_image(PHOTO)
        writer.add_image("input image", (img[0] * std + mean).clamp(0, 1), global_step=322)
        with section():
            log_feature_maps(writer, model, img)
        with section():
            for name, fmap in feature_maps(model, img, ["features.3", "features.6"]).items():
                print(f"{name}: feature maps {tuple(fmap.shape)}")
                writer.add_image(f"feature maps/{name}", feature_map_grid(fmap, nrow=16), global_step=322)
        with section():
            pixels = img * std + mean
            cifar_img = (pixels - torch.tensor(CIFAR10_MEAN).view(3, 1, 1)) / torch.tensor(CIFAR10_STD).view(3, 1, 1)
            right, wrong = conv1_feature_maps(model, img), conv1_feature_maps(model, cifar_img)
            print(f"conv1 output with CIFAR-10 instead of ImageNet statistics: "
                  f"{100 * (wrong - right).norm() / right.norm():.1f} % different")
    print(f"logs written to {logdir}")

# %% [markdown]
# ## Check your work
#
# In Jupyter, save the notebook (Ctrl+S), then run the cell below, even while cells above still fail:
# it copies the notebook's code into its script, `04_feature_maps.py` beside it (the file the grader
# reads), and prints this lesson's part of the scorecard. Run as a script, the cell does nothing:
# use `make test LESSON=04` there.

# %%
import sys

if __name__ == "__main__" and "ipykernel" in sys.modules:  # only in a notebook, not when run as a script
    from tbcourse.kit.check import check

    check("04_feature_maps")
