# %% [markdown]
# # Lesson 05 — `add_graph()`: the model's computation graph
#
# Scalars, histograms and images show what a model *does*; `add_graph` shows what it *is*: every
# operation of one forward pass, grouped into boxes by the submodule that ran it. You will log
# LeNet's and AlexNet's graphs, then read a graph back from the event file and list the
# submodules it contains — which is also how you check that a graph shows what you expect.
#
# Run your lesson with `make run LESSON=05` (without make: `.venv/bin/python -m tbcourse run --lesson 05`,
# on Windows `.venv\Scripts\python -m tbcourse run --lesson 05`); a demo step whose exercise you have not
# done yet prints `skipped:` and its TODO, and the others still run. Each run logs to a new folder,
# `runs/05_add_graph/<date>_<time>/`, a run of its own in TensorBoard, so earlier runs stay and a rerun
# never stacks a second graph in the same run. Then `make tensorboard` and open the **Graphs** tab
# (double-click a box to open it).

# %% [markdown] en="949ff47d" lang="zh"
# # 第 05 课 — `add_graph()`：模型的计算图
#
# 标量、直方图和图像显示的是模型*做了*什么；`add_graph` 显示的是模型*是*什么：一次前向传播中的每一个运算，
# 按执行它的子模块分组成一个个方框。你要记录 LeNet 和 AlexNet 的计算图，再从事件文件中读回一张计算图，列出
# 其中包含的子模块——这也正是检查一张计算图是否显示了你所期望内容的办法。
#
# 用 `make run LESSON=05` 运行本课（没有 make 时：`.venv/bin/python -m tbcourse run --lesson 05`，
# 在 Windows 上：`.venv\Scripts\python -m tbcourse run --lesson 05`）；练习还没做完的演示步骤会打印
# `skipped:` 和它的 TODO，其余步骤照常运行。每次运行都记录到一个新文件夹
# `runs/05_add_graph/<date>_<time>/`，在 TensorBoard 中是单独的一次 run，所以以前的运行都保留着，重新运行
# 也不会在同一个 run 中叠上第二张计算图。然后 `make tensorboard`，打开 **Graphs** 标签页（双击方框可以展开它）。

# %%
import re
import warnings
from contextlib import contextmanager

import torch
import torchvision
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch.utils.tensorboard import SummaryWriter

from tbcourse.kit.demo import section
from tbcourse.kit.models import LeNet
from tbcourse.kit.paths import run_dir

# %% [markdown]
# ## 5. add_graph() — 可视化模型计算图
#
# The notes give the signature as
#
# ```python
# add_graph(input_to_model=None, verbose=False)
# ```
#
# which misses its most important argument. Today's signature (torch 2.x) is
#
# ```python
# SummaryWriter.add_graph(model, input_to_model=None, verbose=False, use_strict_trace=True)
# ```
#
# - `model` — the model (模型), an `nn.Module`.
# - `input_to_model` — an input to feed it: a tensor, or a tuple of tensors for a model with several
#   inputs. Only its shape and dtype matter; random values are fine. The notes call it
#   输出给模型的数据, "the data **output** to the model": a slip for 输入 (input). It is what goes
#   into the model, and the graph's `input/` node has its shape.
# - `verbose` — print the traced graph to the console (是否打印计算图结构信息); `False` prints nothing.
# - `use_strict_trace` — passed to the tracer as `strict`; set it to `False` when `forward`
#   returns a list or dict.
#
# ### How it works, and the warning you will see
#
# `add_graph` does not read your code. It puts the model in eval mode, runs **one forward pass**
# through `torch.jit.trace`, which records every tensor operation that really happened, and turns
# that recording into a TensorBoard `GraphDef`. Consequences:
#
# - Only what ran is drawn: a submodule that `forward` never calls is not in the graph, and a
#   Python `if` is frozen into whichever branch the example input took.
# - Each operation is named by its **scope**, the chain of modules that were running when it
#   happened: `LeNet/Conv2d[conv1]/input.1` is an operation inside `conv1`, an `nn.Conv2d`, inside
#   a `LeNet`. Functional calls in `forward` (`F.relu`, `F.max_pool2d`) belong to the module whose
#   `forward` made them: `LeNet/input.3`. Parameters show up under the module that owns them
#   (`LeNet/Conv2d[conv1]/weight/weight.5`).
#
# `torch.jit` is on its way out. With the installed torch (2.14), every `add_graph` call prints two
# warnings, one from `torch.jit.trace` and one from the `torch.jit.trace_method` it calls:
#
# ```
# FutureWarning: `torch.jit.trace` is deprecated. Please switch to `torch.compile` or `torch.export`.
# FutureWarning: `torch.jit.trace_method` is deprecated. Please switch to `torch.compile` or `torch.export`.
# ```
#
# The warning is about torch's roadmap, not about your model: `add_graph` still works, and
# `torch.utils.tensorboard` has no replacement yet. It is worth knowing it is coming (a future torch
# may drop `add_graph`, and the course's own tests will tell). Once you have read it, silence **that one
# warning** and nothing else: a filter on the category `FutureWarning` and the start of the
# message. A real tracing problem (a `TracerWarning`, or a `RuntimeError` when the model cannot
# be traced) still comes through.

# %% [markdown] en="c71fed15" lang="zh"
# ## 5. add_graph() — 可视化模型计算图
#
# 笔记给出的函数签名是
#
# ```python
# add_graph(input_to_model=None, verbose=False)
# ```
#
# 它漏掉了最重要的参数。今天的函数签名（torch 2.x）是
#
# ```python
# SummaryWriter.add_graph(model, input_to_model=None, verbose=False, use_strict_trace=True)
# ```
#
# - `model` — 模型，一个 `nn.Module`。
# - `input_to_model` — 送进模型的一个输入：一个张量，或者对有多个输入的模型，一个由张量组成的元组。
#   只有它的形状和 dtype 有用；随机值就可以。笔记把它称作“输出给模型的数据”：这是笔误，“输出”应为“输入”
#   （input）。它是送*进*模型的东西，计算图的 `input/` 节点具有它的形状。
# - `verbose` — 是否把追踪得到的计算图打印到控制台（是否打印计算图结构信息）；`False` 什么也不打印。
# - `use_strict_trace` — 作为 `strict` 传给追踪器；当 `forward` 返回列表或 dict 时，把它设为 `False`。
#
# ### 它怎样工作，以及你会看到的警告（How it works, and the warning you will see）
#
# `add_graph` 并不读你的代码。它把模型置于 eval 模式，通过 `torch.jit.trace` 运行**一次前向传播**，后者记录
# 实际发生的每一个张量运算，再把这份记录变成 TensorBoard 的 `GraphDef`。由此可知：
#
# - 只有运行过的部分才会画出来：`forward` 从未调用的子模块不在计算图中，Python 的 `if` 被固定成示例输入所走的那个分支。
# - 每个运算都以它的**作用域**（scope）命名，即它发生时正在运行的模块链：`LeNet/Conv2d[conv1]/input.1` 是
#   一个 `LeNet` 里、一个 `nn.Conv2d` 即 `conv1` 里的运算。`forward` 中的函数式调用（`F.relu`、`F.max_pool2d`）
#   属于发出这些调用的 `forward` 所在的模块：`LeNet/input.3`。参数出现在拥有它们的模块之下
#   （`LeNet/Conv2d[conv1]/weight/weight.5`）。
#
# `torch.jit` 正在被淘汰。在已安装的 torch（2.14）上，每次调用 `add_graph` 都会打印两条警告，一条来自
# `torch.jit.trace`，一条来自它调用的 `torch.jit.trace_method`：
#
# ```
# FutureWarning: `torch.jit.trace` is deprecated. Please switch to `torch.compile` or `torch.export`.
# FutureWarning: `torch.jit.trace_method` is deprecated. Please switch to `torch.compile` or `torch.export`.
# ```
#
# 这条警告说的是 torch 的发展路线，而不是你的模型：`add_graph` 仍然可用，`torch.utils.tensorboard` 也还没有
# 替代品。值得知道它要来了（将来的 torch 可能去掉 `add_graph`，课程自己的测试会告诉你）。读过之后，只屏蔽**这一条
# 警告**，别的都不要屏蔽：按类别 `FutureWarning` 和消息的开头过滤。真正的追踪问题（一个 `TracerWarning`，
# 或模型无法追踪时的 `RuntimeError`）仍然会显示出来。

# %%
@contextmanager
def quiet_jit_deprecation():
    """Hide torch's "`torch.jit.trace...` is deprecated" FutureWarning, and only it, inside the block."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.trace\w*` is deprecated", category=FutureWarning)
        yield


def log_graph(writer, model, input_size=(1, 3, 32, 32)):
    """add_graph of `model`, traced on a random input of shape `input_size`."""
    ### BEGIN SOLUTION 05.1: log model's graph, traced on a random input of shape input_size, with torch's jit deprecation warning and only it kept quiet (section 'How it works, and the warning you will see')
    with quiet_jit_deprecation():
        writer.add_graph(model, torch.randn(*input_size))
    ### END SOLUTION


# %% [markdown]
# ## Reading a graph back
#
# TensorBoard's `EventAccumulator` reads an event folder; `.Graph()` returns the stored
# `GraphDef`, whose `node` list holds one entry per operation, input or parameter. For LeNet:
#
# ```
# input/x                              IO Node
# LeNet/Conv2d[conv1]/weight/weight.5  prim::GetAttr
# LeNet/Conv2d[conv1]/input.1          aten::_convolution
# LeNet/input.3                        aten::relu
# ...
# output/output.1                      IO Node
# ```
#
# A node name is its scope and a debug name joined by `/`. The first part is the model's class (or
# `input`/`output`); each following `Type[name]` part is one submodule, `name` being its attribute
# name in the parent. So `AlexNet/Sequential[features]/Conv2d[0]/input.1` lies in `features`
# and in `features.0` — the same dotted names `model.named_modules()` uses.
#
# An `nn.Identity` runs no operation and holds no parameter, so it is not in the graph at all. A
# container that is only iterated, never called (`nn.ModuleList`, `nn.ModuleDict`), shows up in
# two ways. The **operations** of the items called from such a loop get a scope without the list's
# name: `Net/Block[0]/Linear[lin]/…`. Their **parameter** nodes, named by the attributes the trace
# fetched them through, keep it: `Net/ModuleList[blocks]/Block[0]/Linear[lin]/weight/weight.1`.
# So for such a model the graph's scopes hold both `blocks.0` and `blocks.0.lin` (the
# `named_modules()` names) and `0` and `0.lin` (names no module has), and so does what
# `graph_modules` returns.

# %% [markdown] en="9b6ff299" lang="zh"
# ## 读回一张计算图（Reading a graph back）
#
# TensorBoard 的 `EventAccumulator` 读取一个事件文件夹；`.Graph()` 返回保存的 `GraphDef`，它的 `node` 列表中
# 每个运算、输入或参数各占一项。对 LeNet：
#
# ```
# input/x                              IO Node
# LeNet/Conv2d[conv1]/weight/weight.5  prim::GetAttr
# LeNet/Conv2d[conv1]/input.1          aten::_convolution
# LeNet/input.3                        aten::relu
# ...
# output/output.1                      IO Node
# ```
#
# 节点名是它的作用域和一个调试名，用 `/` 连接。第一部分是模型的类名（或
# `input`/`output`）；之后每个 `Type[name]` 部分是一个子模块，`name` 是它在父模块中的属性名。
# 所以 `AlexNet/Sequential[features]/Conv2d[0]/input.1` 位于 `features` 中，
# 也位于 `features.0` 中——与 `model.named_modules()` 所用的点号名字相同。
#
# `nn.Identity` 不执行任何运算，也不持有参数，所以它根本不在计算图中。只被迭代、从未被调用的容器
# （`nn.ModuleList`、`nn.ModuleDict`）会以两种方式出现。在这种循环中被调用的各项，其**运算**的作用域里没有
# 这个列表的名字：`Net/Block[0]/Linear[lin]/…`。而它们的**参数**节点以追踪时取到它们所经过的属性命名，保留了
# 这个名字：`Net/ModuleList[blocks]/Block[0]/Linear[lin]/weight/weight.1`。
# 所以对这样的模型，计算图的作用域中既有 `blocks.0` 和 `blocks.0.lin`（即
# `named_modules()` 的名字），也有 `0` 和 `0.lin`（没有哪个模块叫这个名字），`graph_modules` 的返回值也是如此。

# %%
def graph_modules(logdir):
    """The dotted names of the submodules that appear in the node scopes of the graph under `logdir`."""
    ### BEGIN SOLUTION 05.2: return the set of dotted names of the submodules that appear in the graph stored under logdir (section 'Reading a graph back')
    acc = EventAccumulator(str(logdir))
    acc.Reload()
    found = set()
    for node in acc.Graph().node:
        path = []
        for part in node.name.split("/")[1:]:
            match = re.fullmatch(r"[^\[\]]+\[(.+)\]", part)
            if not match:
                break
            path.append(match[1])
            found.add(".".join(path))
    return found
    ### END SOLUTION


# %% [markdown]
# ## Run it
#
# The demo logs LeNet's graph and AlexNet's (random weights: the graph does not depend on them),
# each in its own run (a run holds one graph): LeNet's in the run's folder, AlexNet's in its
# subfolder `alexnet`; TensorBoard's Graphs tab switches between them. It prints whether the
# submodules found in each graph are those of `named_modules()`, and shows what `verbose=True` prints
# for a two-layer model (run `tiny_mlp`).

# %% [markdown] en="aac9154b" lang="zh"
# ## 运行（Run it）
#
# 演示记录 LeNet 的计算图和 AlexNet 的计算图（随机权重：计算图与权重无关），
# 各在自己的 run 中（一个 run 含一张计算图）：LeNet 的在该次运行的文件夹中，AlexNet 的在它的子文件夹
# `alexnet` 中；在 TensorBoard 的 Graphs 标签页中可以在两者之间切换。它打印每张计算图中找到的子模块是否就是
# `named_modules()` 的那些，并展示 `verbose=True` 对一个两层模型打印的内容（运行 `tiny_mlp`）。

# %%
if __name__ == "__main__":
    logdir = run_dir("05_add_graph")
    runs = {logdir: (LeNet(classes=2), (1, 3, 32, 32)),
            logdir / "alexnet": (torchvision.models.alexnet(weights=None), (1, 3, 224, 224))}
    for run, (model, input_size) in runs.items():
        with section():
            with SummaryWriter(log_dir=str(run)) as writer:
                log_graph(writer, model, input_size)
            found, named = graph_modules(run), {name for name, _ in model.named_modules() if name}
            print(f"{type(model).__name__}: graph_modules finds {len(found)} submodules, "
                  f"the same as named_modules(): {found == named}")

    print("add_graph(verbose=True) prints the traced TorchScript graph:")
    with SummaryWriter(log_dir=str(logdir / "tiny_mlp")) as writer, quiet_jit_deprecation():
        writer.add_graph(torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.ReLU()), torch.randn(1, 4),
                         verbose=True)
    print(f"logs written to {logdir}")
