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

# %%
@contextmanager
def quiet_jit_deprecation():
    """Hide torch's "`torch.jit.trace...` is deprecated" FutureWarning, and only it, inside the block."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.trace\w*` is deprecated", category=FutureWarning)
        yield


def log_graph(writer, model, input_size=(1, 3, 32, 32)):
    """add_graph of `model`, traced on a random input of shape `input_size`."""
    raise NotImplementedError("TODO(05.1): log model's graph, traced on a random input of shape input_size, with torch's jit deprecation warning and only it kept quiet (section 'How it works, and the warning you will see')")


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

# %%
def graph_modules(logdir):
    """The dotted names of the submodules that appear in the node scopes of the graph under `logdir`."""
    raise NotImplementedError("TODO(05.2): return the set of dotted names of the submodules that appear in the graph stored under logdir (section 'Reading a graph back')")


# %% [markdown]
# ## Run it
#
# The demo logs LeNet's graph and AlexNet's (random weights: the graph does not depend on them),
# each in its own run (a run holds one graph): LeNet's in the run's folder, AlexNet's in its
# subfolder `alexnet`; TensorBoard's Graphs tab switches between them. It prints whether the
# submodules found in each graph are those of `named_modules()`, and shows what `verbose=True` prints
# for a two-layer model (run `tiny_mlp`).

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

# %% [markdown]
# ## Check your work
#
# In Jupyter, save the notebook (Ctrl+S), then run the cell below, even while cells above still fail:
# it copies the notebook's code into its script, `05_add_graph.py` beside it (the file the grader
# reads), and prints this lesson's part of the scorecard. Run as a script, the cell does nothing:
# use `make test LESSON=05` there.

# %%
import sys

if __name__ == "__main__" and "ipykernel" in sys.modules:  # only in a notebook, not when run as a script
    from tbcourse.kit.check import check

    check("05_add_graph")
