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

# %% [markdown] en="9a40f087" lang="zh"
# # 第 04 课 — AlexNet 的特征图
#
# 第 03 课看的是 AlexNet 的卷积核*是*什么；这一课看它们对一张图片*做*了什么。把一张照片送进第一个卷积层，
# 就得到 64 张特征图，每个卷积核一张：图像中每个卷积核在哪里被激活。你要按 AlexNet 期望的方式载入并标准化照片，
# 在不构建梯度计算图的情况下算出 conv1 的特征图，在不破坏张量的前提下（笔记的代码破坏了它）把它们拼成一张网格图像，
# 记录这张网格图像，并在一次前向传播中收集更深各层的特征图。
#
# 用 `make run LESSON=04` 运行本课（没有 make 时：`.venv/bin/python -m tbcourse run --lesson 04`，
# 在 Windows 上：`.venv\Scripts\python -m tbcourse run --lesson 04`）；练习还没做完的演示步骤会打印
# `skipped:` 和它的 TODO，其余步骤照常运行（它们都需要照片，即 04.1）。
# 每次运行都记录到一个新文件夹 `runs/04_feature_maps/<date>_<time>/`，在 TensorBoard 中是单独的一次 run，
# 所以以前的运行都保留着，重新运行也不会把同样的 step 再叠一份。然后 `make tensorboard`，打开 **Images** 标签页。

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

# %% [markdown] en="6139b7a8" lang="zh"
# ## 1. 输入 — alexnet中的可视化：数据（The input）
#
# 照片是课程自带的 `data/photos/astronaut.png`（`tbcourse.kit.paths.PHOTO`）：宇航员
# Eileen Collins，一张属于公有领域的 NASA 照片，随 scikit-image 一起发布（见 `data/README.md`）。
# 笔记用的是一张 `lena.png`，本课程不附带它。
#
# 预处理分三步。`Image.open(path).convert("RGB")` 让每个文件都有三个通道——灰度 PNG 只有一个，带透明度的
# PNG 有四个，而 AlexNet 的第一层恰好接收三个。`Resize((224, 224))` 把它压缩成 AlexNet 训练时的大小
# （给一对数表示恰好是这个高和宽；只给一个数则只设定较短的那条边）。
# `ToTensor()` 给出 [0, 1] 内的浮点数，C × H × W。然后 `Normalize(mean, std)` 对每个通道计算
# `(x - mean[c]) / std[c]`，`unsqueeze(0)` 加上 batch 维。
#
# **用哪个均值和标准差？** 笔记的代码用的是 CIFAR-10 的统计量，
# `(0.4914, 0.4822, 0.4465)` 和 `(0.2470, 0.2435, 0.2616)`。但这些数不是你送进去的照片的属性，而是**模型**的一部分：
# AlexNet 的权重是在用 ImageNet 统计量标准化过的 ImageNet 图像上拟合出来的，均值 `(0.485, 0.456, 0.406)`、
# 标准差 `(0.229, 0.224, 0.225)`，之后的每一层都适应了这样产生的激活值范围。送进去用别的方式标准化的输入，
# 每个通道都会被平移、缩放一点：conv1 的输出随之平移和缩放，ReLU 在错误的地方打开或关闭。两组数看上去很接近，
# 可 conv1 在这张照片上的输出会变化大约十分之一（演示会用你手上的权重测量它）；统计量差得更远时（比如 MNIST 的
# 0.1307 / 0.3081），情况要糟得多。别猜：torchvision 随权重一起发布了正确的预处理，
# `AlexNet_Weights.IMAGENET1K_V1.transforms()`（缩放到 256，中心裁剪 224，ImageNet 的均值和标准差）
# ——课程自己的测试会检查它。

# %%
def load_image(path, size=224):
    """The image at `path` as a (1, 3, size, size) tensor, normalised with ImageNet's statistics."""
    ### BEGIN SOLUTION 04.1: return the picture at path as AlexNet takes it: a (1, 3, size, size) float tensor prepared as section '1. The input' describes
    pipeline = transforms.Compose([
        transforms.Resize((size, size)),
        transforms.ToTensor(),
        transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
    ])
    with Image.open(path) as picture:
        return pipeline(picture.convert("RGB")).unsqueeze(0)
    ### END SOLUTION


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

# %% [markdown] en="76eb6930" lang="zh"
# ## 2. conv1 的特征图 — 特征图可视化（conv1's feature maps）
#
# `model.features[0]` 是 AlexNet 的第一个卷积层，`Conv2d(3, 64, kernel_size=11, stride=4,
# padding=2)`。在 224 × 224 的输入上，它的 64 个卷积核各产生一张
# `(224 + 2·2 − 11) // 4 + 1 = 55` 像素见方的特征图：输出是 `(1, 64, 55, 55)`。
#
# 我们只是看这些数；永远不会对它们调用 `backward()`。在 `torch.no_grad()` 中，autograd 什么也不记录，
# 所以结果的 `requires_grad=False`，没有 `grad_fn`，也没有保存着激活值、占着内存的计算图
# （原课程把整个演示都包在 `no_grad` 里）。

# %%
def conv1_feature_maps(model, img):
    """The output of model.features[0] on img, computed without gradient tracking."""
    ### BEGIN SOLUTION 04.2: return conv1's feature maps of img, computed without building a gradient graph (section '2. conv1's feature maps')
    with torch.no_grad():
        return model.features[0](img)
    ### END SOLUTION


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

# %% [markdown] en="4721a0b8" lang="zh"
# ## 3. 64 张特征图拼成一张网格图像 — 预处理：transpose（One grid of 64 maps）
#
# `make_grid` 接收一批图像 B × C × H × W。特征图却是**一张** 64 通道的图像，
# `(1, 64, 55, 55)`；我们要的是 64 张单通道图像，`(64, 1, 55, 55)`：前两个维度互换位置。然后
# 做一张每行 8 块的网格图像，每张特征图各自拉伸到自己的 min…max，得到 8 行、每行 8 块灰度图：
# `(3, 8·57 + 2, 8·57 + 2) = (3, 458, 458)`。
#
# **笔记的陷阱：`transpose_`。** 原代码写的是 `fmap_1.transpose_(0, 1)`。结尾的下划线表示*原地*操作：
# 它改动 `fmap_1` 本身，此后它就是 `(64, 1, 55, 55)`。在函数内部，这意味着调用者的张量悄悄改变了形状——对同一组
# 特征图调用这个函数两次，第二次又把它们转置回 `(1, 64, 55, 55)`：一张 64 通道的“图像”，`add_image` 无法显示它。
# 不带下划线的 `transpose` 返回一个交换了维度的*视图*，不改动原来的张量；`make_grid` 在标准化之前会先复制，
# 所以这个视图从来不会被写入。

# %%
def feature_map_grid(fmap, nrow=8):
    """Tile the maps of a (1, C, H, W) tensor as C grey images, each scaled to its own range."""
    ### BEGIN SOLUTION 04.3: return one grid of the maps in fmap, each map a grey tile scaled to its own range, nrow tiles a row, fmap left unchanged (section '3. One grid of 64 maps')
    return make_grid(fmap.transpose(0, 1), nrow=nrow, normalize=True, scale_each=True)
    ### END SOLUTION


# %% [markdown]
# ## 4. Logging the grid — add_image() 记录图像
#
# The original course logs the grid under the tag `"feature map in conv1"` at step 322.

# %% [markdown] en="f1d70da8" lang="zh"
# ## 4. 记录网格图像 — add_image() 记录图像（Logging the grid）
#
# 原课程在 step 322 把这张网格图像记录在标签 `"feature map in conv1"` 下。

# %%
def log_feature_maps(writer, model, img):
    """Log the grid of conv1's feature maps on img under "feature map in conv1", step 322."""
    ### BEGIN SOLUTION 04.4: log the grid of conv1's feature maps of img under tag "feature map in conv1" at step 322 (section '4. Logging the grid')
    writer.add_image("feature map in conv1", feature_map_grid(conv1_feature_maps(model, img)), global_step=322)
    ### END SOLUTION


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

# %% [markdown] en="3f62bbdd" lang="zh"
# ## 5. 一次前向传播取得更深的层 — 多层特征图：forward hooks（Deeper layers in one pass）
#
# 对 conv1，我们可以手动调用这一层。对更深的层，切片 `model.features[:4](img)` 对普通的 `Sequential` 可行，
# 但每取一层都要把网络重跑一遍，而且对不是链式结构的模型会失败。通用的工具是 **forward 钩子**（forward hook）：
# `module.register_forward_hook(fn)` 让 PyTorch 在这个模块每次运行时调用 `fn(module, inputs, output)`；
# 于是一次 `model(img)` 就把你要的所有输出填进一个 dict。用 `model.get_submodule("features.3")` 按完整名字找到模块，
# 事后一定要对句柄调用 `remove()`，否则这些钩子会在之后的每次前向传播中继续触发（并让张量一直占着内存）。
#
# `torchvision.models.feature_extraction.create_feature_extractor(model, return_nodes=[...])` 用 `torch.fx`
# 做同样的事：它把模型追踪成一个新模块，其输出就是你要的 dict。
#
# **陷阱：原地 ReLU。** AlexNet 的激活函数是 `nn.ReLU(inplace=True)`：`features.0` 之后的 ReLU 为了节省内存，
# 用整流后的值覆盖 conv1 的输出张量。因此，一个直接保存 `output` 的钩子最后拿到的是 **ReLU(conv1)**，而不是
# conv1——负值全没了。`create_feature_extractor` 也有同样的陷阱：同时要 “features.0” 和一个更靠后的层时，它返回的是
# 被中间的 ReLU 覆盖过的张量（只要 “features.0” 时，它会剪掉这个 ReLU，结果是对的；课程自己的测试展示了这三种情况）。
# 用钩子时，解决办法很简单：保存输出的一份副本，在钩子运行那一刻取下，并且不带梯度的计算图。

# %%
def feature_maps(model, img, layers):
    """{name: output} of the named submodules of `model`, collected in one forward pass on img."""
    ### BEGIN SOLUTION 04.5: return {name: output} for each layer named in layers, all from a single forward pass, each output as its layer produced it (section '5. Deeper layers in one pass')
    found = {}

    def keep(name):
        def hook(module, inputs, output):
            found[name] = output.detach().clone()  # a copy: an in-place ReLU may overwrite `output` next
        return hook

    handles = [model.get_submodule(name).register_forward_hook(keep(name)) for name in layers]
    try:
        with torch.no_grad():
            model(img)
    finally:
        for handle in handles:
            handle.remove()
    return {name: found[name] for name in layers}
    ### END SOLUTION


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

# %% [markdown] en="32c0a690" lang="zh"
# ## 6. 你应该看到什么 — 训练前后的特征图（What you should see）
#
# 用**训练好的**权重，conv1 的网格图像是一组经过不同滤波的宇航员：有的特征图沿某个方向的边缘亮起
# （宇航服的褶皱、头盔的边沿、旗帜的条纹），有的对颜色亮起（橙色的宇航服、蓝色的徽章），有的是亮度的模糊副本。
# 更深的特征图（`features.3` 是 conv2，27 × 27；`features.6` 是 conv3，13 × 13）越来越粗糙、越来越抽象：
# 像素更少，每个像素概括照片中更大的一块，越来越难以说出是什么。
#
# 用**随机**权重（离线时的后备）时，conv1 的特征图仍然看得出宇航员——模糊、有噪声，有时明暗颠倒——因为卷积是
# 局部的线性滤波：任何滤波器都会保留照片的布局。这种相似并不是学习的结果；要找的是能*挑出*特定结构（某一个方向、
# 某一种颜色）的特征图，只有训练过的卷积核才做得到。

# %% [markdown]
# ## Run it
#
# The demo logs the input (normalisation undone), conv1's grid, the grids of conv2 and conv3, and
# prints how much conv1's output changes when the photo is normalised with the notes' CIFAR-10
# statistics instead of ImageNet's.

# %% [markdown] en="73304b23" lang="zh"
# ## 运行（Run it）
#
# 演示记录输入（撤销了标准化）、conv1 的网格图像、conv2 和 conv3 的网格图像，并打印：用笔记中 CIFAR-10 的
# 统计量而不是 ImageNet 的来标准化照片时，conv1 的输出变化了多少。

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
