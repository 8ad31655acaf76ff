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

# %% [markdown] en="2f13b71d" lang="zh"
# # 第 03 课 — AlexNet 的卷积核
#
# 第 02 课把一个 batch 的图像拼成一张网格图像。卷积层的权重也是一批小图像：`Conv2d(3, 64, 11)` 含有 64 个
# 卷积核，每个 3 × 11 × 11，把它们画出来，就能看出第一层在找什么。这一课载入 AlexNet，找出它的卷积层，
# 按原课程的两种方式把它们的卷积核做成网格图像，记录到 TensorBoard，并解释你应该（以及不应该）期望看到什么。
#
# 用 `make run LESSON=03` 运行本课（没有 make 时：`.venv/bin/python -m tbcourse run --lesson 03`，
# 在 Windows 上：`.venv\Scripts\python -m tbcourse run --lesson 03`）；练习还没做完的演示步骤会打印
# `skipped:` 和它的 TODO，其余步骤照常运行。每次运行都记录到一个新文件夹
# `runs/03_alexnet_kernels/<date>_<time>/`，在 TensorBoard 中是单独的一次 run，所以以前的运行都保留着，
# 重新运行也不会把同样的 step 再叠一份。然后 `make tensorboard`，打开 **Images** 标签页
# （`make tensorboard` 会传入 `--samples_per_plugin images=1000`；第 4 节解释原因）。

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

# %% [markdown] en="310749ac" lang="zh"
# ## 1. 训练好的 AlexNet — alexnet中的可视化：加载预训练模型（A trained AlexNet）
#
# 笔记（2021 年）用 `models.alexnet(pretrained=True)` 载入模型。torchvision 在 0.13 版中用
# **`weights=`** 取代了这个参数，它接收一个枚举值，指明确切的检查点（checkpoint）：
#
# ```python
# from torchvision.models import alexnet, AlexNet_Weights
# model = alexnet(weights=AlexNet_Weights.IMAGENET1K_V1)   # 在 ImageNet 上训练过；也可用 AlexNet_Weights.DEFAULT
# model = alexnet(weights=None)                            # 随机初始化
# ```
#
# 在已安装的 torchvision 上，`pretrained=` 仍然可用，但会警告它已弃用、“may be removed in the future”
# （将来可能被移除；课程自己的测试会确认这一点）。权重枚举还带有检查点的元数据——它的 URL、它的 1000 个
# ImageNet 类别，以及它期望的预处理（`AlexNet_Weights.IMAGENET1K_V1.transforms()`，第 04 课会用到）。
#
# 权重（233 MB）只下载一次，存进 torch 的缓存。本课程在没有网络的笔记本电脑上也必须能用，所以每一课都从
# `tbcourse.kit.alexnet.load_alexnet()` 获得 AlexNet：
#
# 1. 如果环境变量 `ALEXNET_WEIGHTS` 指向一个文件，就载入这个 state dict
#    （在任意位置下载一次 `alexnet-owt-7be5be79.pth`，再让这个变量指向它）；
# 2. 否则，用 torchvision 的 ImageNet 权重，来自缓存，或下载到缓存中；
# 3. 如果这也做不到（没有网络，或 `COURSE_OFFLINE=1`），就给出**警告**并使用一个随机的 AlexNet，
#    每次调用都一样（固定的种子）。下面的一切照样运行；只是显示出来的是噪声。
#
# torchvision 的 AlexNet 是“one weird trick”的变体（Krizhevsky，2014）：它的第一层有 64 个 3 × 11 × 11 的
# 卷积核（2012 年的论文是 96 个，分在两块 GPU 上），五个卷积层的通道数依次为 3→64→192→384→256→256。

# %% [markdown]
# ## 2. Finding the convolutions — 遍历 model.modules()
#
# `model.modules()` walks the model depth first: the model itself, then every submodule, nested ones
# included, in the order they were assigned. The original course keeps the `nn.Conv2d` among them
# and counts them from 0; that number is the `i` of the tags below.

# %% [markdown] en="25b760ec" lang="zh"
# ## 2. 找出卷积层 — 遍历 model.modules()（Finding the convolutions）
#
# `model.modules()` 深度优先地遍历模型：先是模型本身，然后是每个子模块，包括嵌套的，按它们被赋值的顺序。
# 原课程保留其中的 `nn.Conv2d`，并从 0 开始给它们编号；这个编号就是下面各标签中的 `i`。

# %%
def conv_layers(model):
    """Every nn.Conv2d of `model`, in model.modules() order."""
    ### BEGIN SOLUTION 03.1: return the model's nn.Conv2d layers, nested ones included, in the order the model lists its modules (section '2. Finding the convolutions')
    return [module for module in model.modules() if isinstance(module, nn.Conv2d)]
    ### END SOLUTION


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

# %% [markdown] en="6bf77487" lang="zh"
# ## 3. 把卷积核画成图片 — 卷积核可视化（Kernels as pictures）
#
# `Conv2d` 的权重 `w` 形状为 `(c_out, c_in, kh, kw)`：对 `c_out` 个输出通道中的每一个，每个输入通道各有一片
# `kh × kw`。`make_grid` 要的是 batch `B × C × H × W`，所以有两种切法。
#
# **按输入通道拆分**（标签 `i_Convlayer_split_in_channel`）：取一个输出通道，形状为 `(c_in, kh, kw)`，
# 给它加上 make_grid 需要的通道维：得到 `c_in` 张单通道图片（make_grid needs BCHW, 这里拓展C维度）。
# 它们在一行中并排，每个输入通道一块灰度图。
# 这种视图对每一层都是如实的：每一块恰好就是某一个输入通道遇到的那些权重。
#
# **全部卷积核作为 RGB**（标签 `i_all`）：把这一层的*所有*切片按权重自身的顺序每三个重新分成一组，
# 每组显示为一块彩色图（4 × 6 个切片的权重得到 8 块）。对第一层这完全正确：它的 `c_in` 是 3，输入通道**就是**红、绿、蓝，所以每一块就是一个
# 卷积核，以它所响应的颜色显示。对更深的层，这就是虚构了：conv2 的 64 个输入通道是 conv1 的特征图，不是颜色，
# 而且由于 64 不是 3 的倍数，有些块甚至把一个卷积核的结尾和下一个的开头混在一起。把 `1_all` 当作纹理来看，
# 不要当作颜色。当 `c_out * c_in` 不是 3 的倍数时（AlexNet 的最后一个卷积层，256 × 256），这种视图根本不存在，
# 要求它时应当说明这一点（一个 `ValueError`），而不是在 `reshape` 内部失败。
#
# 两种视图都用 `normalize=True, scale_each=True`：权重是带符号的小数（大多数的绝对值远小于 1），
# `add_image` 会把它们显示得几乎全黑（第 01 课的规则：× 255，截断）。`scale_each` 把每一块拉伸到它自己的
# min…max，于是每个卷积核的**图案**都以完整的对比度显示；代价是你无法在块与块之间比较大小（一个几乎没用的
# 卷积核看上去和一个强的一样鲜明）。不用 `scale_each` 时，整个网格共用一个 min 和 max，弱的卷积核会褪成灰色。
#
# 原代码有一处细节弄反了：它把形状解包为 `c_out, c_in, k_w, k_h`，再 reshape 成 `(-1, 3, k_h, k_w)`，
# 这就把高和宽对调了。AlexNet 的卷积核是正方形的，所以看不出来；按 `(c_out, c_in, kh, kw)` 读形状，并保持这个顺序。

# %%
def kernel_grid_split(conv, out_idx):
    """One output channel's kernels, one grey tile per input channel, side by side."""
    ### BEGIN SOLUTION 03.2: return the grid of output channel out_idx: its kernel for each input channel as one grey tile, all in one row, each tile scaled to its own range (section '3. Kernels as pictures')
    weight = conv.weight.detach()
    return make_grid(weight[out_idx].unsqueeze(1), nrow=weight.shape[1], normalize=True, scale_each=True)
    ### END SOLUTION


def kernel_grid_all(conv, nrow=8):
    """Every kernel slice of the layer regrouped in threes as RGB tiles; ValueError when impossible."""
    ### BEGIN SOLUTION 03.3: return the grid of all the layer's kernel slices taken three at a time as RGB tiles, nrow tiles a row, each scaled to its own range; raise ValueError when the slices cannot be grouped in threes (section '3. Kernels as pictures')
    weight = conv.weight.detach()
    c_out, c_in, kh, kw = weight.shape
    if (c_out * c_in) % 3:
        raise ValueError(f"the all-kernels view groups kernel slices in threes (RGB), but this layer has "
                         f"{c_out} x {c_in} = {c_out * c_in} slices, not a multiple of 3")
    return make_grid(weight.reshape(-1, 3, kh, kw), nrow=nrow, normalize=True, scale_each=True)
    ### END SOLUTION


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

# %% [markdown] en="20c3ff75" lang="zh"
# ## 4. 记录它们 — add_image() 记录图像：每个卷积核一个 step（Logging them）
#
# 原课程对前 `vis_max + 1` 个卷积层（`vis_max=1`：conv1 和 conv2），每个输出通道记录一张拆分网格——输出通道
# 就是 `global_step`，所以 TensorBoard 的滑块逐个走过各个卷积核——再在 step 322 记录一张全部卷积核的网格
# （322 是课程沿用下来的一个随意的数）。对 AlexNet，这就是 `0_Convlayer_split_in_channel` 下的 64 个 step、
# `1_Convlayer_split_in_channel` 下的 192 个 step，外加 `0_all` 和 `1_all`。
#
# **我的 192 个 step 哪去了？** TensorBoard 不会保留它读到的每一张图像：为了节省内存，它的图像面板默认对
# **每个标签随机保留 10 个 step**（总是包括最新的那个）。事件文件里 192 个都在；要看到全部，这样启动 TensorBoard：
#
# ```bash
# tensorboard --logdir runs/03_alexnet_kernels --samples_per_plugin images=200
# ```
#
# （`make tensorboard` 对每一课都这样做。）
#
# 出于同样的原因，课程自己的测试读取事件文件时 `size_guidance` 为 0（全部保留）。
#
# `vis_max=4` 会到达 conv5，而它的全部卷积核视图不存在：这时 `log_kernels` 在记录完它之前的各层之后，
# 以 `kernel_grid_all` 的 `ValueError` 停下。

# %%
def log_kernels(writer, model, vis_max=1):
    """Split grids (step = output channel) and the all-kernels grid (step 322) of conv layers 0..vis_max."""
    ### BEGIN SOLUTION 03.4: log, for conv layers 0 to vis_max, every output channel's split grid at the step of its index and the layer's whole grid at step 322, under the tags section '4. Logging them' names
    for i, conv in enumerate(conv_layers(model)[: vis_max + 1]):
        for out_idx in range(conv.out_channels):
            writer.add_image(f"{i}_Convlayer_split_in_channel", kernel_grid_split(conv, out_idx), global_step=out_idx)
        writer.add_image(f"{i}_all", kernel_grid_all(conv), global_step=322)
    ### END SOLUTION


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

# %% [markdown] en="ca98590b" lang="zh"
# ## 5. 你应该看到什么 — 训练前后的卷积核（What you should see）
#
# **训练好的权重。** `0_all` 就是那张著名的图：64 块中很多是有方向的边缘和条纹检测器（各种角度的明暗条纹，
# 有细有粗），其余大多是色块和颜色对立的边缘（红对绿，蓝对黄）。没有人编写过它们：它们是梯度下降为识别自然
# 图像中的物体所找到的最有用的东西，与视觉皮层中简单细胞的感受野（以及 Gabor 滤波器）相似。conv1 的拆分视图
# 逐个通道显示同样的卷积核：对于边缘检测器，三块看上去差不多（它不理会颜色）；对于颜色卷积核，三块各不相同。
# conv2 的 5 × 5 图块难读得多，因为它们的输入是 conv1 的特征图，而不是像素。
#
# **随机权重**（离线时的后备，或 `alexnet(weights=None)`）：每一块都是椒盐噪声，没有方向，不平滑，也没有颜色
# 结构——PyTorch 从均匀分布中独立地抽取每个权重，而 `scale_each` 连这样的噪声也拉伸到完整的对比度，所以它看上去
# 很“鲜明”，却没有任何含义。演示在 `untrained/0_all` 下记录一个未训练的 conv1（一个新建的
# `nn.Conv2d(3, 64, 11, stride=4, padding=2)`，按 `alexnet(weights=None)` 的方式初始化），与载入的放在一起，
# 所以有真实权重时你可以并排比较两者。卷积核中的结构是学习的证据；对比度不是。

# %% [markdown]
# ## Run it
#
# The demo loads AlexNet with the course's loader (it warns if it falls back to random weights),
# prints the shapes of its convolution layers, and logs `log_kernels(writer, model)` plus an untrained
# conv1 for comparison.

# %% [markdown] en="dd7e81cc" lang="zh"
# ## 运行（Run it）
#
# 演示用课程的载入函数载入 AlexNet（如果退回到随机权重，它会给出警告），打印它各卷积层的形状，并记录
# `log_kernels(writer, model)`，外加一个未训练的 conv1 以作比较。

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
