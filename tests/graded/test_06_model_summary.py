"""Lesson 06: torchsummary and torchinfo. Expectations come from the parameters themselves, torchsummary's
counting rule applied by the test, and torchinfo's ModelStatistics, on LeNet, AlexNet and random models with frozen, shared and
tied parameters."""

import pytest
import torch
import torch.nn as nn
import torchinfo
from helpers import Chain

from tbcourse.grading.student import StudentLesson
from tbcourse.kit.models import LeNet

lesson = StudentLesson("06_model_summary")

LENET = {"conv1": 456, "conv2": 2416, "fc1": 48120, "fc2": 10164, "fc3": 170, "total": 61326}
NAMES = ["enc", "mix", "body", "head", "proj", "gate", "core", "tail", "stage", "out", "stem", "neck"]


def random_model(rng):
    """(model, input size without batch, whether two layers hold one tied weight)."""
    torch.manual_seed(rng.randrange(2**31))
    names = iter(rng.sample(NAMES, len(NAMES)))
    parts, order = [], []

    def add(module, times=1):
        name = next(names)
        parts.append((name, module))
        order.extend([name] * times)
        return module

    if rng.random() < 0.5:
        c, size = rng.randint(1, 3), rng.randint(3, 6)
        input_size, out = (c, size, size), rng.randint(2, 4)
        add(nn.Sequential(nn.Conv2d(c, out, 3, padding=1, bias=rng.random() < 0.7), nn.BatchNorm2d(out), nn.ReLU(),
                          nn.Flatten()))
        width = out * size * size
    else:
        width = rng.randint(3, 9)
        input_size = (width,)
    tied = False
    for _ in range(rng.randint(2, 4)):
        kind = rng.choice(["linear", "twice", "tied", "block"])
        out = width if kind in ("twice", "tied") else rng.randint(2, 9)
        if kind == "linear":
            add(nn.Linear(width, out, bias=rng.random() < 0.7))
        elif kind == "twice":  # one layer, called twice
            add(nn.Linear(width, width), times=2)
        elif kind == "tied":  # two layers, one weight
            first, second = add(nn.Linear(width, width)), add(nn.Linear(width, width))
            second.weight, tied = first.weight, True
        else:  # a custom block: Linear, BatchNorm1d, Tanh and its own scale parameter
            add(Chain([("fc", nn.Linear(width, out)), ("bn", nn.BatchNorm1d(out)), ("act", nn.Tanh())],
                      ["fc", "bn", "act"], scale=rng.random() < 0.5))
        width = out
    model = Chain(parts, order)
    for _, module in rng.sample(parts, rng.randint(1, len(parts) - 1)):
        if rng.random() < 0.3 and isinstance(module, nn.Linear) and module.bias is not None:
            module.bias.requires_grad_(False)  # torchsummary judges "trainable" by the weight alone
        else:
            module.requires_grad_(False)
    return model, input_size, tied


def named_models(rng, alexnet):
    return [("LeNet", LeNet(2), (3, 32, 32)), ("AlexNet", alexnet, (3, 224, 224)),
            *((f"random model {i}", *random_model(rng)[:2]) for i in range(4))]


def own_counts(model):
    """First principles: every module's own non-None parameters; the total over the distinct parameter objects."""
    counts = {name: sum(p.numel() for p in m._parameters.values() if p is not None)
              for name, m in model.named_modules() if any(p is not None for p in m._parameters.values())}
    distinct = {id(p): p.numel() for m in model.modules() for p in m._parameters.values() if p is not None}
    return counts | {"total": sum(distinct.values())}


def first_difference(want, got):
    """The first key whose value differs, as 'key: expected x, got y', or the keys missing / extra."""
    for key in want:
        if key in got and got[key] != want[key]:
            return f"{key!r}: expected {want[key]}, got {got[key]}"
    return f"missing keys {sorted(set(want) - set(got))}, extra keys {sorted(set(got) - set(want))}"


def check_counts(model, name):
    want, got = own_counts(model), lesson.count_parameters(model)
    assert isinstance(got, dict), f"{name}: expected a dict, got {type(got).__name__}"
    assert got.get("total") == want["total"], \
        f"{name}: expected total {want['total']} (every parameter once: frozen ones too, a tied weight once), " \
        f"got {got.get('total')}"
    assert got == want, f"{name}: {first_difference(want, got)}; expected {want}"


@pytest.mark.exercise("06.1", points=4)
@pytest.mark.parametrize("case", range(7))
def test_count_parameters(rng, case, alexnet):
    """Case 0: LeNet(2) and AlexNet; the others: random models with frozen, shared and tied parameters."""
    if case == 0:
        got = lesson.count_parameters(LeNet(2))
        assert got == LENET, f"LeNet(2): expected {LENET}, got {got}"
        stats = torchinfo.summary(alexnet, input_size=(1, 3, 224, 224), verbose=0, device="cpu")
        assert stats.total_params == own_counts(alexnet)["total"] == 61_100_840, "torchinfo and the test disagree"
        check_counts(alexnet, "AlexNet")
    else:
        model, _, tied = random_model(rng)
        check_counts(model, "a random model with two layers sharing one weight" if tied else "a random model")


def torchinfo_shapes(model, input_size):
    """Leaf layer qualified name -> output shape with the batch dimension as -1, from torchinfo's summary_list."""
    shapes = {}
    for info in torchinfo.summary(model, input_size=(1, *input_size), verbose=0, device="cpu").summary_list:
        if info.is_leaf_layer:
            parts, node = [], info
            while node.parent_info is not None:
                parts.append(node.var_name)
                node = node.parent_info
            shapes[".".join(reversed(parts))] = (-1, *info.output_size[1:])
    return shapes


@pytest.mark.exercise("06.2", points=3)
def test_output_shapes(rng, alexnet):
    lenet_want = {"conv1": (-1, 6, 28, 28), "conv2": (-1, 16, 10, 10), "fc1": (-1, 120), "fc2": (-1, 84),
                  "fc3": (-1, 2)}
    for name, model, input_size in named_models(rng, alexnet):
        want = torchinfo_shapes(model, input_size)
        if name == "LeNet":
            assert want == lenet_want, "torchinfo's LeNet shapes changed; the test needs a look"
        got = lesson.output_shapes(model, input_size)
        assert isinstance(got, dict), f"{name}: expected a dict, got {type(got).__name__}"
        as_tuples = {k: tuple(v) if isinstance(v, (tuple, list)) else v for k, v in got.items()}
        assert as_tuples == want, f"{name}: {first_difference(want, as_tuples)} (leaf modules, batch dimension " \
                                  f"as -1); expected {want}"
        assert all(isinstance(v, tuple) and all(isinstance(d, int) for d in v) for v in got.values()), \
            f"{name}: expected each shape as a tuple of ints, got {got}"


def summary_rule_totals(model, input_size):
    """torchsummary's counting rule, applied by the test itself (no printout read): on one forward pass of a
    batch of 2, every call of every submodule except the model, nn.Sequential and nn.ModuleList adds the size
    of its own `weight` and `bias`; the call counts as trainable when its weight requires a gradient; the
    size in MB is 4 bytes a parameter over 1024**2, printed to two decimals."""
    total = trainable = 0

    def count(module, inputs, output):
        nonlocal total, trainable
        weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
        n = sum(t.numel() for t in (weight, bias) if isinstance(t, torch.Tensor))
        total += n
        trainable += n if isinstance(weight, torch.Tensor) and weight.requires_grad else 0

    hooked = [m for m in model.modules() if m is not model and not isinstance(m, (nn.Sequential, nn.ModuleList))]
    hooks = [m.register_forward_hook(count) for m in hooked]
    try:
        with torch.no_grad():
            model(torch.rand((2, *input_size)))  # torchsummary's batch of 2 random samples
    finally:
        for hook in hooks:
            hook.remove()
    return {"total": total, "trainable": trainable, "params_mb": float(f"{total * 4 / 2**20:.2f}")}


@pytest.mark.exercise("06.3", points=3)
def test_summary_totals(rng, alexnet):
    for name, model, input_size in [*named_models(rng, alexnet)[:2], *(("random model", *random_model(rng)[:2])
                                                               for _ in range(5))]:
        want = summary_rule_totals(model, input_size)
        got = lesson.summary_totals(model, input_size)
        assert isinstance(got, dict) and set(got) == {"total", "trainable", "params_mb"}, \
            f"{name}: expected a dict with keys total, trainable, params_mb, got {got!r}"
        assert got == want and type(got["total"]) is int and type(got["trainable"]) is int, \
            f"{name}: torchsummary prints {want}, you returned {got} (read its printout: it counts a layer " \
            f"each time it runs, and judges 'trainable' by the weight alone)"
    got = lesson.summary_totals(LeNet(2), (3, 32, 32))
    assert got == {"total": 61326, "trainable": 61326, "params_mb": 0.23}, \
        f"LeNet(2): torchsummary prints 61,326 total and trainable parameters and 0.23 MB, you returned {got}"


@pytest.mark.exercise("06.4", points=1)
@pytest.mark.parametrize("case", range(5))
def test_params_size_mb(rng, case):
    n, size = rng.randint(1, 10**9), rng.choice([1, 2, 4, 8])
    got = lesson.params_size_mb(n, size)
    assert got == pytest.approx(n * size / 2**20, rel=1e-12), \
        f"{n} parameters of {size} bytes: expected {n * size / 2**20:.6f} MB (1024**2 bytes), got {got}"
    assert lesson.params_size_mb(n) == pytest.approx(n * 4 / 2**20, rel=1e-12), "bytes_per_param defaults to 4"
