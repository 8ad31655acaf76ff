# %% [markdown]
# # Lesson 00 — reading weight and gradient histograms
#
# Part 1 ended with `add_histogram`: every epoch, one histogram of each layer's weights and one of
# its gradients. This lesson is about **reading** those histograms, and about one sentence of the
# notes that is right but easy to read the wrong way round. You will log the histograms (the
# recap), compute each layer's gradient size as one number, and compare the first layer with the
# last — the number that tells vanishing gradients apart from a model that has simply learned.
#
# Run your lesson with `make run LESSON=00` (without make: `.venv/bin/python -m tbcourse run --lesson 00`,
# on Windows `.venv\Scripts\python -m tbcourse run --lesson 00`); a demo step whose exercise you have not
# done yet prints `skipped:` and its TODO, and the others still run. Each run logs to a new folder,
# `runs/00_gradient_histograms/<date>_<time>/`, a run of its own in TensorBoard, so earlier runs stay and a
# rerun never stacks a second copy of the same steps. Then `make tensorboard` and open the **Histograms**
# and **Distributions** tabs.

# %% [markdown] en="604b2bff" lang="zh"
# # 第 00 课 — 读懂权重和梯度的直方图
#
# 第 1 部分以 `add_histogram` 收尾：每个 epoch，为每一层的权重记录一张直方图，为它的梯度也记录一张。
# 这一课讲的是怎样**读**这些直方图，以及笔记中的一句话：它说得没错，却很容易被反过来理解。你要记录这些
# 直方图（回顾），把每一层梯度的大小算成一个数，再比较第一层和最后一层——正是这个数，能把梯度消失和一个
# 只是已经学好了的模型区分开来。
#
# 用 `make run LESSON=00` 运行本课（没有 make 时：`.venv/bin/python -m tbcourse run --lesson 00`，
# 在 Windows 上：`.venv\Scripts\python -m tbcourse run --lesson 00`）；练习还没做完的演示步骤会打印
# `skipped:` 和它的 TODO，其余步骤照常运行。每次运行都记录到一个新文件夹
# `runs/00_gradient_histograms/<date>_<time>/`，在 TensorBoard 中是单独的一次 run，所以以前的运行都保留着，
# 重新运行也不会把同样的 step 再叠一份。然后 `make tensorboard`，打开 **Histograms** 和
# **Distributions** 两个标签页。

# %%
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torch.utils.tensorboard import SummaryWriter
from torchvision import transforms

from tbcourse.kit.demo import section
from tbcourse.kit.models import LeNet
from tbcourse.kit.paths import FACES, run_dir

# %% [markdown]
# ## Recap: add_histogram — 记录直方图
#
# ```python
# SummaryWriter.add_histogram(tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None)
# ```
#
# One call stores one histogram: the count of `values` in each bin, plus their `min`, `max`,
# number, `sum` and sum of squares. Logged every epoch under one tag, the histograms stack into
# the Histograms tab's ridge plot (one slice per step) and the Distributions tab's percentile bands.
#
# The original course logged, after each epoch, every parameter's values and gradients under
# `<parameter name>_data` and `<parameter name>_grad` (`conv1.weight_grad`, `fc3.weight_data`, …).
# A parameter that took no part in the last backward pass (frozen with `requires_grad=False`, or
# unused in `forward`) has `p.grad is None`; there is nothing to log for it.

# %% [markdown] en="505123ee" lang="zh"
# ## 回顾：add_histogram — 记录直方图（Recap: add_histogram）
#
# ```python
# SummaryWriter.add_histogram(tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None)
# ```
#
# 调用一次就保存一张直方图：`values` 落在每个区间（bin）里的个数，外加它们的 `min`、`max`、
# 个数、`sum` 和平方和。每个 epoch 都在同一个标签下记录，这些直方图就在 Histograms 标签页里叠成山脊图
# （每个 step 一片），在 Distributions 标签页里叠成百分位带。
#
# 原课程在每个 epoch 之后，把每个参数的值和梯度分别记录在
# `<parameter name>_data` 和 `<parameter name>_grad` 下（`conv1.weight_grad`、`fc3.weight_data`……）。
# 没有参与上一次反向传播的参数（用 `requires_grad=False` 冻结了，或在 `forward` 中没用到）
# 满足 `p.grad is None`；它没有梯度可记录。

# %%
def log_weights_and_grads(writer, model, epoch):
    """Histogram of every parameter (tag "<name>_data") and of every existing gradient ("<name>_grad")."""
    ### BEGIN SOLUTION 00.1: log each named parameter as a histogram under "<name>_data" and, when it has a gradient, the gradient under "<name>_grad", at step epoch (section 'Recap: add_histogram')
    for name, p in model.named_parameters():
        writer.add_histogram(f"{name}_data", p, epoch)
        if p.grad is not None:
            writer.add_histogram(f"{name}_grad", p.grad, epoch)
    ### END SOLUTION


# %% [markdown]
# ## Reading the last layer's weight_grad — 看最后一层
#
# The notes say (translated):
#
# > Look at the last layer. If its `weight_grad` **also** (也是) shrinks slowly toward 0 as the
# > epochs go by, the loss is very small and the model trains well. If instead the last layer's
# > `weight_grad` is fairly large, not 0, then the gradient vanished on its way back
# > (梯度往回传时发生了梯度消失) and needs a closer look.
#
# The 也是, "also", points back to the first layers, whose gradients the course had just found near
# 0. Read that way, the second sentence compares the two ends: the first layers' gradients near 0
# while the last layer's is still large means the gradient shrank on its way back from the last
# layer to the first. That reading is right, and it is the comparison this lesson makes.
#
# Read on its own, without the first layers, the sentence would be wrong, so here is the precise
# version. A large last-layer gradient by itself says nothing about vanishing: the last layer's
# gradient is computed first in backpropagation, right next to the loss, and has not travelled
# yet. For a linear last layer with cross-entropy, its weight gradient is
# `(softmax(z) - onehot(y))ᵀ · h` averaged over the batch: large while predictions are wrong, small
# once they are right. A large last-layer gradient alone just means the loss is still large; the
# notes' first sentence is the same fact seen from the other side.
#
# **Vanishing gradients show at the other end.** Each layer the gradient passes on the way back
# multiplies it by that layer's weights and by the derivative of its activation. A sigmoid's
# derivative is at most 0.25, so after ten sigmoid layers the signal can be 0.25¹⁰ ≈ 10⁻⁶ of what
# it was. The symptom is the **first** layers' gradients being orders of magnitude smaller than the
# last layer's: in TensorBoard, the first layer's `0.weight_grad` is a spike at 0 while the last
# layer's is wide. So the comparison to make is first against last, not last against zero.
#
# Two numbers make that comparison without squinting at plots: the L2 norm of each gradient, and
# the ratio of the first weight's gradient norm to the last one's.

# %% [markdown] en="3c35c31b" lang="zh"
# ## 看最后一层的 weight_grad — 看最后一层（Reading the last layer's weight_grad）
#
# 笔记的原话是：
#
# > 看最后一层，如果最后一层的 `weight_grad`，**也是**随 epoch 的增加而慢慢减小到 0，说明 loss 非常小，
# > 模型训练良好。而，如果最后一层的 `weight_grad` 比较大、不是 0，则说明梯度往回传时发生了梯度消失，
# > 需具体分析。
#
# “也是”指回前面的几层：课程刚刚发现它们的梯度接近 0。这样读，第二句比较的是两端：前面几层的梯度接近 0，
# 而最后一层的梯度仍然很大，说明梯度从最后一层往回传到第一层的路上变小了。这样理解是对的，本课做的也正是这个比较。
#
# 如果撇开前面几层、单独读这句话，它就错了，所以这里给出准确的说法。最后一层的梯度大，本身说明不了
# 梯度消失：反向传播时最后一层的梯度最先算出，紧挨着 loss，还没有“往回传”过。对于线性的最后一层加交叉熵，
# 它的权重梯度是 `(softmax(z) - onehot(y))ᵀ · h` 在 batch 上的平均：预测错时大，预测对了就小。
# 所以单是最后一层的梯度大，只说明 loss 还大；这和笔记第一句说的是同一件事，只是从另一面看。
#
# **梯度消失要看另一端。** 梯度往回传时每经过一层，都要乘上这一层的权重和它激活函数的导数。sigmoid 的
# 导数最大是 0.25，所以经过十个 sigmoid 层之后，信号可能只剩原来的 0.25¹⁰ ≈ 10⁻⁶。症状是**最前面**几层的梯度
# 比最后一层小好几个数量级：在 TensorBoard 中，第一层的 `0.weight_grad` 是 0 处的一根尖峰，而最后一层的很宽。
# 所以要比较的是第一层和最后一层，而不是最后一层和零。
#
# 不用眯着眼看图，两个数就能完成这个比较：每个梯度的 L2 范数，以及第一个权重与最后一个权重的梯度范数之比。

# %%
def grad_norms(model):
    """{parameter name: L2 norm of its gradient}, named_parameters() order; no gradient -> left out."""
    ### BEGIN SOLUTION 00.2: return {parameter name: L2 norm of its gradient, as a Python float}, in the model's own parameter order, leaving out parameters without a gradient (section 'Reading the last layer's weight_grad')
    return {name: p.grad.norm().item() for name, p in model.named_parameters() if p.grad is not None}
    ### END SOLUTION


def first_to_last_ratio(norms):
    """Among the keys ending in "weight", in dict order: norm of the first / norm of the last."""
    ### BEGIN SOLUTION 00.3: return the first weight's norm divided by the last weight's, where a weight is a key ending in "weight" and first and last follow the dict's order (section 'Reading the last layer's weight_grad')
    weights = [value for key, value in norms.items() if key.endswith("weight")]
    return weights[0] / weights[-1]
    ### END SOLUTION


# %% [markdown]
# A ratio near 1 (or 0.1) is healthy; 10⁻⁴ means the first layers barely learn. Biases are left
# out on purpose: they are often initialised to 0 and behave differently from weights.
#
# ## Evidence: a deep sigmoid MLP against a ReLU MLP
#
# Two MLPs of the same shape, eight hidden layers of 64 units, each initialised the way its
# activation wants (Xavier for sigmoid, He/Kaiming for ReLU, biases 0), one backward pass on the
# same random batch.
#
# The initialisation matters too. PyTorch's default for `nn.Linear` is not He's: weights and
# biases uniform in ±1/√fan_in, weights too small for ReLU, so the signal shrinks from layer to
# layer. With it, the same ReLU MLP's first-layer gradient norm falls short of its last layer's by
# a factor of 22 to 174 over seeds 0 to 9 (the demo measures it). The biases decide whether this
# ratio shows the shrinking: with the same default weights and the biases set to 0, the factor
# stays between 0.3 and 3. Without biases the activations shrink on the way forward as much as the
# gradients do on the way back, and a weight's gradient, the product of the two, comes out about
# the same at both ends; the default biases keep the activations from shrinking much, so the
# gradients' shrinking shows.

# %% [markdown] en="5d6cf6f8" lang="zh"
# 比值接近 1（或 0.1）是健康的；10⁻⁴ 说明前面几层几乎学不动。偏置是故意排除在外的：它们常常初始化为 0，
# 表现也和权重不同。
#
# ## 证据：深层 sigmoid MLP 对比 ReLU MLP（Evidence: a deep sigmoid MLP against a ReLU MLP）
#
# 两个形状相同的 MLP，八个隐藏层，每层 64 个单元，各按自己的激活函数所需的方式初始化（sigmoid 用 Xavier，
# ReLU 用 He/Kaiming，偏置为 0），在同一个随机 batch 上做一次反向传播。
#
# 初始化也有影响。PyTorch 对 `nn.Linear` 的默认初始化不是 He 初始化：权重和偏置在 ±1/√fan_in 内均匀分布，
# 权重对 ReLU 来说太小，信号一层比一层弱。用默认初始化时，同一个 ReLU MLP 第一层的梯度范数比最后一层小
# 22 到 174 倍（种子 0 到 9；演示会测量它）。这个比值能否显示出梯度的缩小，取决于偏置：同样的默认权重、
# 偏置设为 0，倍数就停留在 0.3 到 3 之间。没有偏置时，激活值在前向传播中缩小多少，梯度在反向传播中就缩小多少，
# 而权重的梯度是两者的乘积，在两端大小差不多；默认的偏置让激活值不怎么缩小，梯度的缩小就显现出来了。

# %%
def deep_mlp(activation, depth=8, width=64, classes=2, seed=0, init="matched"):
    """`depth` hidden Linear+activation layers, then a Linear to `classes`; seeded initialisation of the
    hidden layers: "matched" (Xavier or He, biases 0), "default" (nn.Linear's own) or "default, biases 0"."""
    torch.manual_seed(seed)
    layers = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        if init == "matched" and activation is nn.ReLU:
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        elif init == "matched":
            nn.init.xavier_normal_(linear.weight)
        if init != "default":
            nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
    layers.append(nn.Linear(width, classes))
    return nn.Sequential(*layers)


def one_backward_pass(model, width=64, batch=64, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.randn(batch, width, generator=gen), torch.randint(0, 2, (batch,), generator=gen)
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()


# %% [markdown]
# ## The demo: LeNet on the faces set
#
# `LeNet(classes=2)` learns face / not face on the course's small image set (grayscale 25×25
# pictures; `ImageFolder` opens them as RGB, `Resize((32, 32))` fits LeNet). The set is tiny, so
# it is loaded once into two tensors. At the end of every epoch the demo computes the gradient of
# the **whole** training set's loss (not the last minibatch's noise) and logs the histograms; the
# printed `fc3.weight` gradient norm falls with the loss, as the notes' first sentence says.
#
# TensorBoard shows three runs for each run of the lesson: its folder `<date>_<time>` itself (LeNet:
# loss, accuracy and histograms per epoch), and its subfolders `mlp_sigmoid` and `mlp_relu` (the
# gradient histograms of one backward pass, under the same tags, so TensorBoard draws them side by
# side). Last, the demo prints the ReLU MLP's factor under PyTorch's default initialisation, over
# seeds 0 to 9.

# %% [markdown] en="b6980453" lang="zh"
# ## 演示：在人脸数据集上训练 LeNet（The demo: LeNet on the faces set）
#
# `LeNet(classes=2)` 在课程的小图像数据集上学习区分人脸 / 非人脸（25×25 的灰度图；`ImageFolder` 把它们
# 作为 RGB 打开，`Resize((32, 32))` 让它们适合 LeNet）。数据集很小，所以一次就载入成两个张量。每个 epoch
# 结束时，演示计算**整个**训练集 loss 的梯度（而不是最后一个 minibatch 的噪声），并记录直方图；打印出的
# `fc3.weight` 梯度范数随 loss 一起下降，正如笔记第一句所说。
#
# 本课每运行一次，TensorBoard 就显示三个 run：文件夹 `<date>_<time>` 本身（LeNet：每个 epoch 的 loss、
# 准确率和直方图），以及它的子文件夹 `mlp_sigmoid` 和 `mlp_relu`（一次反向传播的梯度直方图，标签相同，
# 所以 TensorBoard 把它们并排画出）。最后，演示打印 ReLU MLP 在 PyTorch 默认初始化下、种子 0 到 9 的倍数。

# %%
def load_split(split):
    """One split of the faces set as (images, labels) tensors: Resize((32, 32)), ToTensor, RGB."""
    dataset = torchvision.datasets.ImageFolder(FACES / split, transforms.Compose(
        [transforms.Resize((32, 32)), transforms.ToTensor()]))
    return next(iter(torch.utils.data.DataLoader(dataset, batch_size=len(dataset))))


def train_lenet(writer, epochs=12, batch_size=16, seed=0):
    torch.manual_seed(seed)
    (x, y), (x_valid, y_valid) = load_split("train"), load_split("valid")
    model = LeNet(classes=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for epoch in range(epochs):
        model.train()
        for batch in torch.randperm(len(x)).split(batch_size):
            optimizer.zero_grad()
            F.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()  # the full training set's gradient, for the histograms
        with torch.no_grad():
            accuracy = (model(x_valid).argmax(1) == y_valid).float().mean().item()
        writer.add_scalar("loss/train", loss.item(), epoch)
        writer.add_scalar("accuracy/valid", accuracy, epoch)
        log_weights_and_grads(writer, model, epoch)
        print(f"epoch {epoch:2d}  loss {loss.item():.3f}  valid acc {accuracy:.2f}  "
              f"|fc3.weight grad| {model.fc3.weight.grad.norm().item():.4f}")


# %%
if __name__ == "__main__":
    logdir = run_dir("00_gradient_histograms")
    with section(), SummaryWriter(log_dir=str(logdir)) as writer:
        train_lenet(writer)

    for name, activation in [("mlp_sigmoid", nn.Sigmoid), ("mlp_relu", nn.ReLU)]:
        mlp = deep_mlp(activation)
        one_backward_pass(mlp)
        with section(), SummaryWriter(log_dir=str(logdir / name)) as writer:
            log_weights_and_grads(writer, mlp, 0)
            norms = grad_norms(mlp)
            ratio = first_to_last_ratio(norms)
            writer.add_scalar("first_to_last_ratio", ratio, 0)
            print(f"{name:>11}: |first weight grad| {norms['0.weight']:.2e}  "
                  f"|last weight grad| {norms[f'{len(mlp) - 1}.weight']:.2e}  ratio {ratio:.1e}")

    with section():
        for init in ["default", "default, biases 0"]:
            factors = []
            for seed in range(10):
                mlp = deep_mlp(nn.ReLU, seed=seed, init=init)
                one_backward_pass(mlp, seed=seed)
                factors.append(1 / first_to_last_ratio(grad_norms(mlp)))
            print(f"ReLU MLP, init={init!r}, seeds 0-9: |last weight grad| / |first weight grad| "
                  f"from {min(factors):.1f} to {max(factors):.1f}")
    print(f"logs written to {logdir}")
