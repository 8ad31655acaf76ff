"""Errata for lesson 05: add_graph takes the model first, and warns that torch.jit.trace is deprecated. Also
what the lesson says about a GraphDef: input_to_model is the input (the notes wrote 输出, output), and the
scopes of modules called from a loop over an nn.ModuleList."""
import inspect
import re
import warnings

import torch
import torch.nn as nn
from torch.utils.tensorboard import SummaryWriter

from tbcourse.kit.events import graph
from tbcourse.kit.models import LeNet

DEPRECATED = re.compile(r"`torch\.jit\.(trace|trace_method)` is deprecated\. Please switch to `torch\.compile` "
                        r"or `torch\.export`\.")


def test_signature_takes_the_model_first():
    """Notes: add_graph(input_to_model=None, verbose=False). Today: the model, then use_strict_trace too."""
    params = inspect.signature(SummaryWriter.add_graph).parameters
    assert list(params) == ["self", "model", "input_to_model", "verbose", "use_strict_trace"]
    assert [params[p].default for p in ("input_to_model", "verbose", "use_strict_trace")] == [None, False, True]


def test_add_graph_warns_jit_trace_is_deprecated(tmp_path):
    with SummaryWriter(log_dir=str(tmp_path)) as w, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w.add_graph(LeNet(2), torch.randn(1, 3, 32, 32))
    jit = {(c.category, str(c.message)) for c in caught if "torch.jit" in str(c.message)}
    assert {category for category, _ in jit} == {FutureWarning}, jit
    assert sorted(DEPRECATED.fullmatch(message)[1] for _, message in jit) == ["trace", "trace_method"], jit
    assert graph(tmp_path).node, "the graph is still written"


def test_filtering_that_warning_keeps_others(tmp_path):
    """The lesson's filter (FutureWarning, message starting "`torch.jit.trace") hides exactly these two."""
    with SummaryWriter(log_dir=str(tmp_path)) as w, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.trace\w*` is deprecated", category=FutureWarning)
        w.add_graph(LeNet(2), torch.randn(1, 3, 32, 32))
        warnings.warn("something else", FutureWarning)
    assert [str(c.message) for c in caught] == ["something else"]


def test_verbose_false_prints_nothing_and_true_prints_the_graph(tmp_path, capfd):
    model, x = nn.Sequential(nn.Linear(4, 2), nn.ReLU()), torch.randn(1, 4)
    with SummaryWriter(log_dir=str(tmp_path)) as w, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        w.add_graph(model, x)
        assert capfd.readouterr() == ("", "")
        w.add_graph(model, x, verbose=True)
        out = capfd.readouterr().out
    assert out.startswith("graph(") and "aten::linear" in out and "aten::relu" in out, out[:300]


def logged_graph(tmp_path, model, x):
    with SummaryWriter(log_dir=str(tmp_path)) as w, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        w.add_graph(model, x)
    return graph(tmp_path)


def test_input_to_model_is_what_goes_in(tmp_path):
    """The graph's one input node has the shape of input_to_model."""
    nodes = logged_graph(tmp_path, LeNet(2), torch.randn(3, 3, 32, 32)).node
    inputs = [[d.size for d in n.attr["_output_shapes"].list.shape[0].dim] for n in nodes if n.op == "IO Node"
              and n.name.startswith("input/")]
    assert inputs == [[3, 3, 32, 32]], inputs


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return torch.relu(self.lin(x))


class Net(nn.Module):
    """Two blocks in an nn.ModuleList, called in a loop; an nn.Identity; a head."""

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(), Block()])
        self.skip = nn.Identity()
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(self.skip(x))


def scopes_of(nodes, op):
    return {node.name.rsplit("/", 1)[0] for node in nodes if node.op == op}


def test_modulelist_items_keep_the_list_name_on_parameters_only(tmp_path):
    nodes = logged_graph(tmp_path, Net(), torch.randn(1, 4)).node
    blocks = ["Net/ModuleList[blocks]/Block[0]/Linear[lin]", "Net/ModuleList[blocks]/Block[1]/Linear[lin]"]
    assert scopes_of(nodes, "prim::GetAttr") == \
        {f"{scope}/{p}" for scope in [*blocks, "Net/Linear[head]"] for p in ("weight", "bias")}
    assert scopes_of(nodes, "aten::linear") == \
        {"Net/Block[0]/Linear[lin]", "Net/Block[1]/Linear[lin]", "Net/Linear[head]"}
    assert scopes_of(nodes, "aten::relu") == {"Net/Block[0]", "Net/Block[1]"}
    assert not any("Identity" in node.name for node in nodes), "nn.Identity runs nothing: not in the graph"


def test_modulelist_model_gives_both_kinds_of_name(tmp_path):
    """So 05.2's rule (the dotted Type[name] prefixes of every node name) finds each block twice: as
    blocks.0 through its parameter nodes, and as 0 through the nodes of what it computes."""
    names = [node.name for node in logged_graph(tmp_path, Net(), torch.randn(1, 4)).node]
    for block in ("Block[0]", "Block[1]"):
        assert any(name.startswith(f"Net/ModuleList[blocks]/{block}/Linear[lin]/") for name in names), names
        assert any(name.startswith(f"Net/{block}/Linear[lin]/") for name in names), names
    named = {name for name, _ in Net().named_modules() if name and name != "skip"}
    assert named == {"blocks", "blocks.0", "blocks.0.lin", "blocks.1", "blocks.1.lin", "head"}
