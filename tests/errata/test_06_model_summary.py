"""Errata for lesson 06: torchsummary's device="cuda" default, its None return, and how torchinfo differs."""
import contextlib
import inspect
import io

import pytest
import torch
import torchinfo
import torchsummary

from tbcourse.kit.models import LeNet


def printout(*args, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        returned = torchsummary.summary(*args, **kwargs)
    return returned, out.getvalue()


def test_default_device_is_cuda():
    params = inspect.signature(torchsummary.summary).parameters
    assert params["device"].default == "cuda" and params["batch_size"].default == -1


def test_default_device_falls_back_to_cpu_without_a_gpu():
    """On a machine without CUDA the default silently runs on the CPU: the same table as device="cpu"."""
    assert not torch.cuda.is_available(), "this test describes a CPU-only machine"
    default, cpu = printout(LeNet(2), (3, 32, 32)), printout(LeNet(2), (3, 32, 32), device="cpu")
    assert default == cpu and "Total params: 61,326" in cpu[1]


def test_default_device_would_put_the_input_on_the_gpu(monkeypatch):
    """Where CUDA is available the default casts the input to torch.cuda.FloatTensor (here: no driver)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    with pytest.raises(RuntimeError):
        printout(LeNet(2), (3, 32, 32))


def test_only_cuda_or_cpu():
    with pytest.raises(AssertionError, match="please specify 'cuda' or 'cpu'"):
        printout(LeNet(2), (3, 32, 32), device="gpu")


def test_torchsummary_prints_and_returns_none():
    returned, text = printout(LeNet(2), (3, 32, 32), device="cpu")
    assert returned is None
    assert "Params size (MB): 0.23" in text  # 61,326 * 4 / 1024**2 = 0.2339


def test_torchinfo_returns_statistics_with_decimal_megabytes():
    stats = torchinfo.summary(LeNet(2), input_size=(1, 3, 32, 32), verbose=0)
    assert isinstance(stats, torchinfo.ModelStatistics)
    assert (stats.total_params, stats.trainable_params, stats.total_param_bytes) == (61326, 61326, 245304)
    assert "Params size (MB): 0.25" in str(stats)  # 245,304 / 10**6, not / 1024**2
    assert stats.summary_list[1].output_size == [1, 6, 28, 28], "the real batch size, not -1"


class Shared(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = torch.nn.Linear(4, 4), torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)
        self.c.weight = self.a.weight  # tied

    def forward(self, x):
        return self.c(self.b(self.b(self.a(x))))  # b runs twice


def test_shared_parameters_counted_differently():
    """True count 44 (a 20, b 20, c's own bias 4); torchsummary 80 (per call); torchinfo 60 (per layer)."""
    model = Shared()
    assert sum(p.numel() for p in model.parameters()) == 44
    assert "Total params: 80" in printout(model, (4,), device="cpu")[1]
    assert torchinfo.summary(model, input_size=(1, 4), verbose=0).total_params == 60
