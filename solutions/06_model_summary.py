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
