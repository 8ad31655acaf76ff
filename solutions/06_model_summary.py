# %% [markdown]
# # Lesson 06 — model summaries: torchsummary and torchinfo
#
# Before training a model it helps to see it as a table: each layer, the shape of what it outputs,
# how many parameters it holds, and how much memory that takes. The notes use **torchsummary**, a
# small 2018 package that prints such a table. This lesson rebuilds the table's columns by hand
# (parameter counts, output shapes), reads torchsummary's printout, and compares it with
# **torchinfo**, its maintained successor — including the cases where the two disagree with
# each other and with the truth.
#
# Run your lesson with `make run LESSON=06` (without make: `.venv/bin/python -m tbcourse run --lesson 06`,
# on Windows `.venv\Scripts\python -m tbcourse run --lesson 06`); a demo step whose exercise you have not
# done yet prints `skipped:` and its TODO, and the others still run. It prints the tables, and also
# logs them as text, so that a run's model summary sits next to its curves (`make tensorboard`, **Text**
# tab). Each run logs to a new folder, `runs/06_model_summary/<date>_<time>/`, a run of its own in
# TensorBoard, so earlier runs stay and a rerun never stacks a second copy of the same steps.

# %% [markdown] en="59b04b3c" lang="zh"
# # 第 06 课 — 模型摘要：torchsummary 与 torchinfo
#
# 训练模型之前，把它看成一张表会很有帮助：每一层、它输出的形状、它持有多少参数、这些参数占多少内存。笔记用的是
# **torchsummary**，一个 2018 年的小包，能打印这样一张表。这一课亲手重建这张表的各列（参数量、输出形状），
# 读取 torchsummary 的打印输出，并与仍在维护的后继者 **torchinfo** 作比较——包括两者彼此不一致、也与事实不一致的情况。
#
# 用 `make run LESSON=06` 运行本课（没有 make 时：`.venv/bin/python -m tbcourse run --lesson 06`，
# 在 Windows 上：`.venv\Scripts\python -m tbcourse run --lesson 06`）；练习还没做完的演示步骤会打印
# `skipped:` 和它的 TODO，其余步骤照常运行。它打印这些表，并把它们也作为文本记录下来，这样一次运行的模型摘要
# 就和它的曲线放在一起（`make tensorboard`，**Text** 标签页）。每次运行都记录到一个新文件夹
# `runs/06_model_summary/<date>_<time>/`，在 TensorBoard 中是单独的一次 run，所以以前的运行都保留着，重新运行
# 也不会把同样的 step 再叠一份。

# %%
import contextlib
import io
import re

import torch
import torchinfo
import torchsummary
import torchvision
from torch.utils.tensorboard import SummaryWriter

from tbcourse.kit.demo import section
from tbcourse.kit.models import LeNet
from tbcourse.kit.paths import run_dir

# %% [markdown]
# ## torchsummary — 查看模型信息，便于调试
#
# The notes' call:
#
# ```python
# from torchsummary import summary
# summary(model, input_size, batch_size=-1, device="cuda")
# ```
#
# - `model` — the PyTorch model (pytorch模型).
# - `input_size` — the shape of **one** sample, without the batch dimension: `(3, 32, 32)`.
# - `batch_size` — the batch size the table is for: its first dimension (-1 means "any") and its
#   memory estimates (see below).
# - `device` — `"cuda"` or `"cpu"`; anything else fails an `assert`.
#
# Three things about today's torchsummary (1.5.1, the last release):
#
# 1. **`device="cuda"` is the default.** It decides where the random input goes: to the GPU when
#    one is available, else silently to the CPU. On a CPU-only laptop the default therefore works;
#    on a machine with a GPU it sends the input to the GPU while a model that is still on the CPU
#    waits there (torchsummary never moves the model), and the forward pass fails. Pass the device
#    your model is on: `device="cpu"`.
# 2. It **prints** the table and **returns `None`**; to use the numbers, capture the printout.
# 3. It sees **modules, not code**: it hooks every submodule except `nn.Sequential`,
#    `nn.ModuleList` and the model itself (a `ModuleList` is never called, so it would get no row
#    anyway) and, each time one *runs*, adds its `weight` and `bias`. Functional calls
#    (`F.relu`, `F.max_pool2d` in our LeNet) get no row; a layer that runs twice is counted
#    twice; a parameter not called `weight` or `bias` is not counted at all; and "trainable"
#    looks only at `weight.requires_grad`.
#
# The input is always a batch of 2 random samples (2, not 1, so that `BatchNorm` in training mode
# works), whatever `batch_size` says. `batch_size` is printed as the batch dimension, and it scales
# two of the sizes at the bottom of the table, and so their total: "Input size (MB)" and
# "Forward/backward pass size (MB)" (every output kept twice, for its gradient) are for
# `batch_size` samples, or for one when it is -1. For LeNet, `batch_size=16` turns them from 0.01
# and 0.05 MB into 0.19 and 0.79 MB; "Params size (MB)" stays 0.23.
#
# ## Counting parameters yourself
#
# A layer's own parameters are those it holds itself, not its children's: `parameters()` takes an
# argument that says which (see its documentation). For the total, one question matters: is a
# parameter shared? Two layers can hold **the same** `Parameter` (tied weights), and one layer can
# run twice. `model.parameters()` yields every parameter object once, so counting the elements of
# what it yields gives the true count — frozen parameters (`requires_grad=False`) included: they are
# still in the model and in its file.
#
# LeNet(2) by hand: conv1 `6·3·5·5 + 6 = 456`, conv2 `16·6·5·5 + 16 = 2,416`, fc1
# `120·400 + 120 = 48,120`, fc2 `84·120 + 84 = 10,164`, fc3 `2·84 + 2 = 170`: 61,326 in all.

# %% [markdown] en="9a7654cc" lang="zh"
# ## torchsummary — 查看模型信息，便于调试
#
# 笔记中的调用：
#
# ```python
# from torchsummary import summary
# summary(model, input_size, batch_size=-1, device="cuda")
# ```
#
# - `model` — PyTorch 模型（pytorch模型）。
# - `input_size` — **一个**样本的形状，不含 batch 维：`(3, 32, 32)`。
# - `batch_size` — 这张表针对的 batch 大小：表中的第一维（-1 表示“任意”）以及内存估计（见下文）。
# - `device` — `"cuda"` 或 `"cpu"`；别的值都会让一个 `assert` 失败。
#
# 关于今天的 torchsummary（1.5.1，最后一个版本），有三点要知道：
#
# 1. **默认是 `device="cuda"`。** 它决定随机输入放在哪里：有 GPU 时放到 GPU 上，否则悄悄放到 CPU 上。
#    所以在只有 CPU 的笔记本电脑上默认值能用；在有 GPU 的机器上，它把输入送到 GPU，而仍在 CPU 上的模型
#    留在原地（torchsummary 从不移动模型），于是前向传播失败。传入模型所在的设备：`device="cpu"`。
# 2. 它**打印**这张表并**返回 `None`**；要用其中的数，就得捕获打印输出。
# 3. 它看到的是**模块，而不是代码**：它给除 `nn.Sequential`、`nn.ModuleList` 和模型本身之外的每个子模块加钩子
#    （`ModuleList` 从不被调用，反正也不会有一行），每当某个子模块*运行*一次，就加上它的 `weight` 和 `bias`。
#    函数式调用（我们的 LeNet 中的 `F.relu`、`F.max_pool2d`）没有行；运行两次的层计两次；不叫 `weight` 或
#    `bias` 的参数根本不计；而“trainable”（可训练）只看 `weight.requires_grad`。
#
# 无论 `batch_size` 是多少，输入总是由 2 个随机样本组成的一个 batch（是 2 而不是 1，这样训练模式下的
# `BatchNorm` 才能工作）。`batch_size` 被打印为 batch 维，并且它缩放表格底部的两项大小，从而也缩放它们的总和：
# “Input size (MB)”和“Forward/backward pass size (MB)”（每个输出为了它的梯度保存两份）是按
# `batch_size` 个样本算的，为 -1 时按一个样本算。对 LeNet，`batch_size=16` 把它们从 0.01
# 和 0.05 MB 变成 0.19 和 0.79 MB；“Params size (MB)”仍是 0.23。
#
# ## 自己数参数（Counting parameters yourself）
#
# 一层自己的参数，是它自己持有的那些，不算它的子模块的：`parameters()` 有个实参决定取哪些（见它的文档）。
# 对于总参数量，有一个问题要紧：参数是否共享？两个层可以持有**同一个** `Parameter`（绑定的权重），一个层也可以
# 运行两次。`model.parameters()` 对每个参数对象只给出一次，所以数它给出的参数的元素个数，得到的才是真实的参数量
# ——包括冻结的参数（`requires_grad=False`）：它们仍在模型中，也在模型文件中。
#
# 手算 LeNet(2)：conv1 `6·3·5·5 + 6 = 456`，conv2 `16·6·5·5 + 16 = 2,416`，fc1
# `120·400 + 120 = 48,120`，fc2 `84·120 + 84 = 10,164`，fc3 `2·84 + 2 = 170`：共 61,326 个。

# %%
def count_parameters(model):
    """{qualified name: own parameter count} for each submodule owning parameters, plus "total"."""
    ### BEGIN SOLUTION 06.1: return {qualified name: number of parameters the module holds itself} for every module that holds any, plus "total" with each distinct parameter counted once (section 'Counting parameters yourself')
    counts = {}
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if own:
            counts[name] = sum(p.numel() for p in own)
    counts["total"] = sum(p.numel() for p in model.parameters())
    return counts
    ### END SOLUTION


# %% [markdown]
# ## Output shapes with forward hooks
#
# The "Output Shape" column comes from **forward hooks**: `module.register_forward_hook(fn)` makes
# torch call `fn(module, inputs, output)` right after that module's forward. Hook every leaf
# module (one with no children), run one batch, read the shapes, and remove the hooks (the
# handle's `.remove()`), or they keep firing on every later forward pass.

# %% [markdown] en="48242d2c" lang="zh"
# ## 用 forward 钩子得到输出形状（Output shapes with forward hooks）
#
# “Output Shape”一列来自 **forward 钩子**：`module.register_forward_hook(fn)` 让 torch 在那个模块的
# forward 之后立即调用 `fn(module, inputs, output)`。给每个叶子模块（没有子模块的模块）加钩子，运行一个 batch，
# 读出形状，然后移除钩子（调用句柄的 `.remove()`），否则它们会在之后的每次前向传播中继续触发。

# %%
def output_shapes(model, input_size):
    """{qualified name of each leaf module: output shape with the batch dimension as -1}, one forward pass."""
    ### BEGIN SOLUTION 06.2: return {qualified name of each leaf module: its output shape as a tuple of ints, the batch dimension as -1}, from one forward pass (section 'Output shapes with forward hooks')
    shapes, handles = {}, []

    def recorder(name):
        def hook(module, inputs, output):
            shapes[name] = (-1, *output.shape[1:])
        return hook

    for name, module in model.named_modules():
        if name and not any(module.children()):
            handles.append(module.register_forward_hook(recorder(name)))
    try:
        with torch.no_grad():
            model(torch.rand(2, *input_size))
    finally:
        for handle in handles:
            handle.remove()
    return shapes
    ### END SOLUTION


# %% [markdown]
# ## Reading torchsummary's totals
#
# Since `summary` returns `None`, the totals are read from what it prints, captured with
# `contextlib.redirect_stdout`. The lines look like
#
# ```
# Total params: 61,326
# Trainable params: 61,326
# Params size (MB): 0.23
# ```

# %% [markdown] en="4ba50fba" lang="zh"
# ## 读取 torchsummary 的总数（Reading torchsummary's totals）
#
# 由于 `summary` 返回 `None`，总数要从它打印的内容中读取，用 `contextlib.redirect_stdout` 捕获。
# 这几行是这样的：
#
# ```
# Total params: 61,326
# Trainable params: 61,326
# Params size (MB): 0.23
# ```

# %%
def summary_totals(model, input_size):
    """torchsummary's totals for `model` and `input_size`, run on the CPU: {"total", "trainable", "params_mb"}."""
    ### BEGIN SOLUTION 06.3: return torchsummary's totals for this model as numbers, {"total": int, "trainable": int, "params_mb": float} (section 'Reading torchsummary's totals')
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        torchsummary.summary(model, input_size, device="cpu")

    def value(label):
        return re.search(rf"^{re.escape(label)}: ([\d,.]+)\s*$", printed.getvalue(), re.MULTILINE)[1].replace(",", "")

    return {"total": int(value("Total params")), "trainable": int(value("Trainable params")),
            "params_mb": float(value("Params size (MB)"))}
    ### END SOLUTION


# %% [markdown]
# "Params size (MB)" assumes 4 bytes (float32) per parameter, and torchsummary's megabyte is
# 1024 × 1024 bytes.

# %% [markdown] en="c13b4da2" lang="zh"
# “Params size (MB)”假定每个参数 4 个字节（float32），而 torchsummary 的 1 MB 是
# 1024 × 1024 字节。

# %%
def params_size_mb(n_params, bytes_per_param=4):
    """Memory of n_params parameters in torchsummary's megabytes (1024**2 bytes)."""
    ### BEGIN SOLUTION 06.4: return the memory n_params parameters of bytes_per_param bytes take, in the megabytes torchsummary prints (section 'Reading torchsummary's totals')
    return n_params * bytes_per_param / 1024**2
    ### END SOLUTION


# %% [markdown]
# ## torchinfo, the maintained successor
#
# ```python
# import torchinfo
# stats = torchinfo.summary(model, input_size=(1, 3, 32, 32), device="cpu")  # batch dimension included
# ```
#
# Differences that matter:
#
# - it **returns** a `ModelStatistics` (and prints it unless `verbose=0`): `stats.total_params`,
#   `stats.trainable_params`, and `stats.summary_list`, one `LayerInfo` per module call with
#   `var_name`, `output_size`, `num_params`;
# - `input_size` **includes** the batch dimension, and the table shows the real batch size;
# - its `device` defaults to `None`, which with `input_size` means the GPU the model's first
#   parameter is on, else **the GPU whenever one is available**, else the CPU; and it moves your
#   model there **in place** (`model.to(device)`), where it stays after the summary. On a machine
#   with a GPU, a model you built on the CPU comes back on the GPU. Given `input_data` instead of
#   `input_size`, it moves nothing. Pass `device="cpu"` to keep the model on the CPU, as the demo does;
# - it runs the model in eval mode, and puts its training mode back afterwards;
# - it shows the nesting of containers, and a layer that runs twice is marked `(recursive)` and
#   counted once — but tied weights held by two layers are still counted twice;
# - its MB is 10⁶ bytes, so LeNet's 245,304 bytes are "0.25" MB there and "0.23" in torchsummary.
#
# Neither tool is the truth for a model with shared parameters; `model.parameters()` is.

# %% [markdown] en="e8c6add7" lang="zh"
# ## torchinfo，仍在维护的后继者（torchinfo, the maintained successor）
#
# ```python
# import torchinfo
# stats = torchinfo.summary(model, input_size=(1, 3, 32, 32), device="cpu")  # 包含 batch 维
# ```
#
# 要紧的区别：
#
# - 它**返回**一个 `ModelStatistics`（并且打印它，除非 `verbose=0`）：`stats.total_params`、
#   `stats.trainable_params`，以及 `stats.summary_list`，每次模块调用一个 `LayerInfo`，含
#   `var_name`、`output_size`、`num_params`；
# - `input_size` **包含** batch 维，表中显示的是真实的 batch 大小；
# - 它的 `device` 默认为 `None`，配合 `input_size` 时，表示模型第一个参数所在的 GPU，否则**只要有 GPU 就用 GPU**，
#   否则用 CPU；并且它会**原地**把你的模型移过去（`model.to(device)`），摘要结束后模型就留在那里。在有 GPU 的机器上，
#   你在 CPU 上建的模型回来时就在 GPU 上了。如果给的是 `input_data` 而不是 `input_size`，它什么也不移动。
#   传入 `device="cpu"` 让模型留在 CPU 上，演示就是这样做的；
# - 它在 eval 模式下运行模型，事后恢复模型原来的训练模式；
# - 它显示容器的嵌套，运行两次的层标为 `(recursive)` 并只计一次——但两个层持有的绑定权重仍然计两次；
# - 它的 1 MB 是 10⁶ 字节，所以 LeNet 的 245,304 字节在那里是“0.25” MB，在 torchsummary 中是“0.23”。
#
# 对于有共享参数的模型，两个工具都不是事实；`model.parameters()` 才是。

# %%
class TiedNet(torch.nn.Module):
    """`out` holds the very same weight Parameter as `inp` (tied weights); `mix` runs twice."""

    def __init__(self, width=8):
        super().__init__()
        self.inp = torch.nn.Linear(width, width)
        self.mix = torch.nn.Linear(width, width)
        self.out = torch.nn.Linear(width, width)
        self.out.weight = self.inp.weight

    def forward(self, x):
        return self.out(self.mix(self.mix(torch.relu(self.inp(x)))))


# %% [markdown]
# ## Run it
#
# The demo prints both tables for LeNet (torchinfo with `device="cpu"`, so that LeNet stays on the
# CPU for `output_shapes` on a machine with a GPU), the totals for AlexNet (random weights), and
# the three different totals of `TiedNet`. `add_text` logs the tables to TensorBoard; text is
# rendered as Markdown there, so the tables are indented four spaces to show as code.

# %% [markdown] en="fce354ed" lang="zh"
# ## 运行（Run it）
#
# 演示打印 LeNet 的两张表（torchinfo 用 `device="cpu"`，这样在有 GPU 的机器上 LeNet 仍留在 CPU 上，供
# `output_shapes` 使用），AlexNet 的总数（随机权重），以及 `TiedNet` 的三个不同的总数。`add_text` 把这些表记录到
# TensorBoard；在那里文本按 Markdown 渲染，所以表格缩进四个空格，以代码的形式显示。

# %%
def as_markdown_code(text):
    return "\n".join("    " + line for line in text.splitlines())


if __name__ == "__main__":
    logdir = run_dir("06_model_summary")
    with SummaryWriter(log_dir=str(logdir)) as writer:
        lenet = LeNet(classes=2)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            torchsummary.summary(lenet, (3, 32, 32), device="cpu")
        stats = torchinfo.summary(lenet, input_size=(1, 3, 32, 32), verbose=0, device="cpu")
        print(f"torchsummary, LeNet(2), device='cpu':\n{printed.getvalue()}\ntorchinfo, LeNet(2):\n{stats}")
        writer.add_text("lenet/torchsummary", as_markdown_code(printed.getvalue()), 0)
        writer.add_text("lenet/torchinfo", as_markdown_code(str(stats)), 0)

        with section():
            print("count_parameters:", count_parameters(lenet))
        with section():
            print("output_shapes:   ", output_shapes(lenet, (3, 32, 32)))
        with section():
            print(f"params size: torchsummary's {params_size_mb(61326):.4f} MB, of 1024**2 bytes (its table above "
                  f"rounds it to two decimals); torchinfo's {stats.total_param_bytes / 10**6:.4f} MB, of 10**6 "
                  f"bytes (its table: {stats.total_param_bytes / 10**6:.2f})")
        with section():
            alexnet = torchvision.models.alexnet(weights=None)
            print("AlexNet, torchsummary:", summary_totals(alexnet, (3, 224, 224)),
                  f"count_parameters total: {count_parameters(alexnet)['total']:,}")
        with section():
            tied = TiedNet()
            totals = {"model.parameters()": count_parameters(tied)["total"],
                      "torchsummary": summary_totals(tied, (8,))["total"],
                      "torchinfo": torchinfo.summary(tied, input_size=(1, 8), verbose=0, device="cpu").total_params}
            print("TiedNet, total parameters:", totals)
            writer.add_text("tied/total_params", "\n".join(f"- {tool}: {n:,}" for tool, n in totals.items()), 0)
    print(f"logs written to {logdir}")
