"""Lesson 05: add_graph. The GraphDef is read back from the event file. 05.1's is compared, node by node, with
the graph that SummaryWriter.add_graph itself stores for the same model and input shape; 05.2's expected
submodules come from how each model is built (which of its modules run in forward), not from a graph."""
import warnings

import pytest
import torch
import torch.nn as nn
from helpers import Chain, WarningSpy
from torch.utils.tensorboard import SummaryWriter

from tbcourse.grading.student import StudentLesson, read_back, writable_path
from tbcourse.i18n import _
from tbcourse.kit.events import graph
from tbcourse.kit.models import LeNet

lesson = StudentLesson("05_add_graph")

LENET = {"conv1", "conv2", "fc1", "fc2", "fc3"}
NAMES = ["enc", "mix", "body", "head", "proj", "gate", "core", "tail", "stage", "out"]


def build(rng, depth, width):
    """(module, output width): a leaf layer, or an nn.Sequential / Chain of randomly built children."""
    if depth == 0 or rng.random() < 0.25:
        out = rng.randint(2, 8)
        leaf = rng.choice([lambda: nn.Linear(width, out), nn.Tanh, nn.ReLU, nn.Sigmoid, lambda: nn.Dropout(0.1)])()
        return leaf, out if isinstance(leaf, nn.Linear) else width
    children, names = [], rng.sample(NAMES, 4)
    for name in names[:rng.randint(1, 3)]:
        child, width = build(rng, depth - 1, width)
        children.append((name, child))
    if rng.random() < 0.5:
        return nn.Sequential(*(child for _unused, child in children)), width
    spare = [(names[3], nn.Linear(width, 3))] if rng.random() < 0.5 else []  # registered, never called
    return Chain(rng.sample(children + spare, len(children) + len(spare)), [n for n, _unused in children],
                 scale=rng.random() < 0.3), width


def executed(module):
    """The dotted names of the submodules that run in forward, for a model made by `build` (as it was built)."""
    if isinstance(module, nn.Sequential):
        names = [str(i) for i in range(len(module))]
    elif isinstance(module, Chain):
        names = module.order
    else:
        return set()
    return {n for name in names for n in {name} | {f"{name}.{inner}" for inner in executed(getattr(module, name))}}


def random_model(rng):
    """(model, input size, the submodules that run): random nested containers under a root that also holds
    a layer it never calls."""
    torch.manual_seed(rng.randrange(2**31))
    width = rng.randint(2, 8)
    net, out = build(rng, rng.randint(2, 4), width)
    name, spare = rng.sample(NAMES, 2)
    model = Chain(rng.sample([(name, net), (spare, nn.Linear(out, 2))], 2), [name])
    return model, (rng.randint(1, 4), width), executed(model)


def nodes(graph_def):
    """Every node of a GraphDef as (name, op, inputs): read from the protobuf's own fields, not parsed."""
    return {(node.name, node.op, tuple(node.input)) for node in graph_def.node}


def input_shapes(graph_def):
    return [[d.size for d in node.attr["_output_shapes"].list.shape[0].dim]
            for node in graph_def.node if node.op == "IO Node" and node.name.startswith("input/")]


def models(rng, alexnet):
    return [(LeNet(rng.choice([2, 3, 10])), (rng.randint(1, 3), 3, 32, 32), LENET),
            (alexnet, (1, 3, rng.choice([224, 256]), 224), {name for name, _unused in alexnet.named_modules() if name}),
            *(random_model(rng) for _unused in range(3))]


def log_truth(logdir, model, input_size):
    with SummaryWriter(log_dir=str(logdir)) as w, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        w.add_graph(model, torch.randn(*input_size))


def check_warnings(tmp_path, rng):
    """While log_graph traces a model, torch's jit deprecation warning is silenced, and no other warning."""
    model, input_size, _unused = random_model(rng)
    record = writable_path("warnings")
    model.register_forward_hook(WarningSpy(record))
    with SummaryWriter(log_dir=str(tmp_path / "warnings")) as writer:
        lesson.log_graph(writer, model, input_size)
    seen = read_back(record).split()
    assert seen, _("log_graph did not trace the model it was given (add_graph runs it)")
    assert not any("D" in line for line in seen), \
        _("torch's deprecation warning of torch.jit.trace reaches the user: silence it while add_graph runs")
    assert all("O" in line for line in seen), \
        _("log_graph silences more than torch's jit deprecation warning: a real tracing problem would go unseen")


@pytest.mark.exercise("05.1", points=3)
def test_log_graph(tmp_path, truth, rng, alexnet):
    cases = models(rng, alexnet)
    for i, (model, input_size, _unused) in enumerate(cases):
        log_truth(truth / str(i), model, input_size)
    for i, (model, input_size, _unused) in enumerate(cases):
        name = type(model).__name__
        with SummaryWriter(log_dir=str(tmp_path / str(i))) as writer:
            lesson.log_graph(writer, model, input_size)
        try:
            stored = graph(tmp_path / str(i))
        except ValueError:
            pytest.fail(_("{name}: expected a graph in the event file, found none (add_graph writes it)").format(
                            name=name))
        got, want = nodes(stored), nodes(graph(truth / str(i)))
        assert got == want, _("{name}: the stored graph is not add_graph's for this model: {n_missing} of its "
                              "{n_want} nodes missing (e.g. {missing}), {n_unexpected} extra").format(name=name,
                                n_missing=len(want - got), n_want=len(want), missing=sorted(want - got)[:2],
                                n_unexpected=len(got - want))
        shapes = input_shapes(stored)
        assert shapes == [list(input_size)], _("{name}: expected one input of shape {input_size}, the graph's inputs "
                                               "have shapes {shapes}").format(name=name, input_size=list(input_size),
                                                 shapes=shapes)
    check_warnings(tmp_path, rng)


@pytest.mark.exercise("05.2", points=3)
def test_graph_modules(tmp_path, rng, alexnet):
    for i, (model, input_size, want) in enumerate(models(rng, alexnet)):
        log_truth(tmp_path / str(i), model, input_size)
        got = lesson.graph_modules(tmp_path / str(i))
        assert isinstance(got, set), _("expected a set, got {got_type}").format(got_type=type(got).__name__)
        assert got == want, _("{model_type}: missing {missing}, extra {unexpected}; the submodules that run in "
                              "forward are {want}").format(model_type=type(model).__name__, missing=sorted(want - got),
                                unexpected=sorted(got - want), want=sorted(want))
