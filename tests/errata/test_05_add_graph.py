"""Errata for lesson 05: add_graph takes the model first, and warns that torch.jit.trace is deprecated."""
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
