"""Lesson 06: torchsummary and torchinfo, on LeNet, AlexNet and random models with frozen, shared and tied
parameters. Expectations are LeNet's and AlexNet's published sizes, and for a random model what its builder wrote
down from the sizes it built it with (``Plan``): nothing here reads them back from a model, which would be an
answer. tests/course/test_graded_expectations.py checks them against torchinfo and torchsummary."""

import pytest
import torch
import torch.nn as nn
from helpers import Chain

from tbcourse.grading.student import StudentLesson
from tbcourse.i18n import _
from tbcourse.kit.models import LeNet

lesson = StudentLesson("06_model_summary")

LENET = {"conv1": 456, "conv2": 2416, "fc1": 48120, "fc2": 10164, "fc3": 170, "total": 61326}
LENET_SUMMARY = {"total": 61326, "trainable": 61326, "params_mb": 0.23}  # what torchsummary prints for LeNet(2)
ALEXNET_SUMMARY = {"total": 61100840, "trainable": 61100840, "params_mb": 233.08}
NAMES = ["enc", "mix", "body", "head", "proj", "gate", "core", "tail", "stage", "out", "stem", "neck"]


class Plan:
    """What a random model must give, written down while it is built from the sizes it is built with: own parameter
    counts, leaf output shapes, the calls torchsummary sees. Never read back from the model: a function that
    read these from a model would be an answer, and the graded tests ship to students."""

    def __init__(self):
        self.counts, self.shapes, self.sizes = {}, {}, {}  # sizes: each distinct parameter -> its size
        self.calls = []  # per call torchsummary counts: (size of the module's weight and bias, its weight's key)
        self.groups, self.frozen = {}, set()  # part -> keys of its parameters; keys of the frozen ones

    def parameter(self, name, part, attr, size):
        """A parameter a module holds besides a weight and a bias (no call that torchsummary counts)."""
        key = f"{name}.{attr}"
        self.sizes[key] = size
        self.groups.setdefault(part, []).append(key)
        self.counts[name] = self.counts.get(name, 0) + size

    def layer(self, name, part, weight, bias, shape, calls=1, tied_to=None):
        """A module with parameters: ``weight`` and ``bias`` sizes (a tied weight is another module's: its key)."""
        key = tied_to or f"{name}.weight"
        if tied_to is None:
            self.sizes[key] = weight
        if bias:
            self.sizes[f"{name}.bias"] = bias
        self.groups.setdefault(part, []).extend([key] + ([f"{name}.bias"] if bias else []))
        self.counts[name] = weight + bias
        self.calls += [(weight + bias, key)] * calls
        self.shapes[name] = shape

    def summary(self):
        total = sum(size for size, _unused in self.calls)
        trainable = sum(size for size, key in self.calls if key not in self.frozen)
        return {"total": total, "trainable": trainable, "params_mb": float(f"{total * 4 / 2**20:.2f}")}

    def all_counts(self):
        return self.counts | {"total": sum(self.sizes.values())}


def random_model(rng):
    """(model, input size without batch, its Plan, whether two layers hold one tied weight)."""
    torch.manual_seed(rng.randrange(2**31))
    names = iter(rng.sample(NAMES, len(NAMES)))
    parts, order, plan = [], [], Plan()

    def add(module, times=1):
        name = next(names)
        parts.append((name, module))
        order.extend([name] * times)
        return name, module

    if rng.random() < 0.5:
        c, size = rng.randint(1, 3), rng.randint(3, 6)
        input_size, out, bias = (c, size, size), rng.randint(2, 4), rng.random() < 0.7
        name, _unused = add(nn.Sequential(nn.Conv2d(c, out, 3, padding=1, bias=bias), nn.BatchNorm2d(out), nn.ReLU(),
                                    nn.Flatten()))
        plan.layer(f"{name}.0", name, c * out * 9, out * bias, (-1, out, size, size))
        plan.layer(f"{name}.1", name, out, out, (-1, out, size, size))
        plan.shapes |= {f"{name}.2": (-1, out, size, size), f"{name}.3": (-1, out * size * size)}
        width = out * size * size
    else:
        width = rng.randint(3, 9)
        input_size = (width,)
    tied = False
    for _unused in range(rng.randint(2, 4)):
        kind = rng.choice(["linear", "twice", "tied", "block"])
        out = width if kind in ("twice", "tied") else rng.randint(2, 9)
        if kind == "linear":
            bias = rng.random() < 0.7
            name, _unused = add(nn.Linear(width, out, bias=bias))
            plan.layer(name, name, width * out, out * bias, (-1, out))
        elif kind == "twice":  # one layer, called twice
            name, _unused = add(nn.Linear(width, width), times=2)
            plan.layer(name, name, width * width, width, (-1, width), calls=2)
        elif kind == "tied":  # two layers, one weight
            (first, one), (second, two) = add(nn.Linear(width, width)), add(nn.Linear(width, width))
            two.weight, tied = one.weight, True
            plan.layer(first, first, width * width, width, (-1, width))
            plan.layer(second, second, width * width, width, (-1, width), tied_to=f"{first}.weight")
        else:  # a custom block: Linear, BatchNorm1d, Tanh and, maybe, its own scale parameter
            scale = rng.random() < 0.5
            name, _unused = add(Chain([("fc", nn.Linear(width, out)), ("bn", nn.BatchNorm1d(out)), ("act", nn.Tanh())],
                                ["fc", "bn", "act"], scale=scale))
            plan.layer(f"{name}.fc", name, width * out, out, (-1, out))
            plan.layer(f"{name}.bn", name, out, out, (-1, out))
            plan.shapes[f"{name}.act"] = (-1, out)
            if scale:
                plan.parameter(name, name, "scale", 1)
        width = out
    model = Chain(parts, order)
    for name, module in rng.sample(parts, rng.randint(1, len(parts) - 1)):
        if rng.random() < 0.3 and isinstance(module, nn.Linear) and module.bias is not None:
            module.bias.requires_grad_(False)  # torchsummary judges "trainable" by the weight alone
            plan.frozen.add(f"{name}.bias")
        else:
            module.requires_grad_(False)
            plan.frozen.update(plan.groups[name])
    return model, input_size, plan, tied


ALEXNET_COUNTS = {"features.0": 23296, "features.3": 307392, "features.6": 663936, "features.8": 884992,
                  "features.10": 590080, "classifier.1": 37752832, "classifier.4": 16781312, "classifier.6": 4097000,
                  "total": 61100840}
ALEXNET_SHAPES = {
    **{f"features.{k}": (-1, 64, 55, 55) for k in (0, 1)}, "features.2": (-1, 64, 27, 27),
    **{f"features.{k}": (-1, 192, 27, 27) for k in (3, 4)}, "features.5": (-1, 192, 13, 13),
    **{f"features.{k}": (-1, 384, 13, 13) for k in (6, 7)},
    **{f"features.{k}": (-1, 256, 13, 13) for k in (8, 9, 10, 11)},
    "features.12": (-1, 256, 6, 6), "avgpool": (-1, 256, 6, 6), "classifier.0": (-1, 9216),
    **{f"classifier.{k}": (-1, 4096) for k in range(1, 6)}, "classifier.6": (-1, 1000)}
LENET_SHAPES = {"conv1": (-1, 6, 28, 28), "conv2": (-1, 16, 10, 10), "fc1": (-1, 120), "fc2": (-1, 84), "fc3": (-1, 2)}


def named_models(rng, alexnet):
    """(name, model, input size, what it must give: {"counts", "shapes", "summary"}) for LeNet(2), AlexNet and
    four random models."""
    known = [("LeNet", LeNet(2), (3, 32, 32), {"counts": LENET, "shapes": LENET_SHAPES, "summary": LENET_SUMMARY}),
             ("AlexNet", alexnet, (3, 224, 224), {"counts": ALEXNET_COUNTS, "shapes": ALEXNET_SHAPES,
                                                  "summary": ALEXNET_SUMMARY})]
    randoms = []
    for i in range(4):
        model, input_size, plan, _unused = random_model(rng)
        randoms.append((_("random model {i}").format(i=i), model, input_size,
                        {"counts": plan.all_counts(), "shapes": plan.shapes, "summary": plan.summary()}))
    return known + randoms


def first_difference(want, got):
    """The first key whose value differs, as 'key: expected x, got y', or the keys missing / extra."""
    for key in want:
        if key in got and got[key] != want[key]:
            return _("{key!r}: expected {want}, got {got}").format(key=key, want=want[key], got=got[key])
    return _("missing keys {missing}, extra keys {extra}").format(missing=sorted(set(want) - set(got)),
                                                                 extra=sorted(set(got) - set(want)))


def check_counts(model, name, want):
    got = lesson.count_parameters(model)
    assert isinstance(got, dict), _("{name}: expected a dict, got {got_type}").format(name=name,
                                      got_type=type(got).__name__)
    assert got.get("total") == want["total"], \
        _("{name}: expected total {want_total} (every parameter once: frozen ones too, a tied weight once), got "
          "{got_total}").format(name=name, want_total=want['total'], got_total=got.get('total'))
    assert got == want, _("{name}: {difference}; expected {want}").format(name=name,
                            difference=first_difference(want, got), want=want)


@pytest.mark.exercise("06.1", points=4)
@pytest.mark.parametrize("case", range(7))
def test_count_parameters(rng, case, alexnet):
    """Case 0: LeNet(2) and AlexNet; the others: random models with frozen, shared and tied parameters."""
    if case == 0:
        check_counts(LeNet(2), "LeNet(2)", LENET)
        check_counts(alexnet, "AlexNet", ALEXNET_COUNTS)
    else:
        model, _unused, plan, tied = random_model(rng)
        check_counts(model, _("a random model with two layers sharing one weight") if tied else _("a random model"),
                     plan.all_counts())


@pytest.mark.exercise("06.2", points=3)
def test_output_shapes(rng, alexnet):
    for name, model, input_size, want in named_models(rng, alexnet):
        want = want["shapes"]
        got = lesson.output_shapes(model, input_size)
        assert isinstance(got, dict), _("{name}: expected a dict, got {got_type}").format(name=name,
                                          got_type=type(got).__name__)
        as_tuples = {k: tuple(v) if isinstance(v, (tuple, list)) else v for k, v in got.items()}
        assert as_tuples == want, _("{name}: {difference} (leaf modules, batch dimension as -1); expected "
                                    "{want}").format(name=name, difference=first_difference(want, as_tuples), want=want)
        assert all(isinstance(v, tuple) and all(isinstance(d, int) for d in v) for v in got.values()), \
            _("{name}: expected each shape as a tuple of ints, got {got}").format(name=name, got=got)


@pytest.mark.exercise("06.3", points=3)
def test_summary_totals(rng, alexnet):
    cases = named_models(rng, alexnet)
    cases += [(_("random model {i}").format(i=i), model, input_size, {"summary": plan.summary()})
              for i, (model, input_size, plan, _unused) in enumerate(random_model(rng) for _unused in range(3))]
    for name, model, input_size, want in cases:
        want = want["summary"]
        got = lesson.summary_totals(model, input_size)
        assert isinstance(got, dict) and set(got) == {"total", "trainable", "params_mb"}, \
            _("{name}: expected a dict with keys total, trainable, params_mb, got {got!r}").format(name=name, got=got)
        assert got == want and type(got["total"]) is int and type(got["trainable"]) is int, \
            _("{name}: torchsummary prints {want}, you returned {got} (read its printout: it counts a layer each "
              "time it runs, and judges 'trainable' by the weight alone)").format(name=name, want=want, got=got)


@pytest.mark.exercise("06.4", points=1)
@pytest.mark.parametrize("case", range(5))
def test_params_size_mb(rng, case):
    n, size = rng.randint(1, 10**9), rng.choice([1, 2, 4, 8])
    got = lesson.params_size_mb(n, size)
    assert got == pytest.approx(n * size / 2**20, rel=1e-12), \
        _("{n} parameters of {size} bytes: expected {mb:.6f} MB (1024**2 bytes), got {got}").format(n=n, size=size,
            mb=n * size / 2 ** 20, got=got)
    assert lesson.params_size_mb(n) == pytest.approx(n * 4 / 2**20, rel=1e-12), _("bytes_per_param defaults to 4")
