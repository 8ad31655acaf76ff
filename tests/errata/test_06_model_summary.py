"""Errata for lesson 06: torchsummary's device="cuda" default, what its batch_size changes, which modules it
hooks, its None return, and how torchinfo differs, its device default included. Every test holds on a machine
with a GPU and on one without."""
import contextlib
import inspect
import io

import pytest
import torch
import torch.nn as nn
import torchinfo
import torchinfo.torchinfo
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


def test_default_device_works_without_a_gpu_and_fails_with_one_for_a_cpu_model():
    """Without CUDA the default silently runs on the CPU: the same table as device="cpu". With CUDA the
    input goes to the GPU and a model left on the CPU fails; a model moved to the GPU works."""
    cpu = printout(LeNet(2), (3, 32, 32), device="cpu")
    assert "Total params: 61,326" in cpu[1]
    if torch.cuda.is_available():
        with pytest.raises(RuntimeError):
            printout(LeNet(2), (3, 32, 32))
        assert printout(LeNet(2).cuda(), (3, 32, 32)) == cpu
    else:
        assert printout(LeNet(2), (3, 32, 32)) == cpu


def test_default_device_casts_the_input_to_cuda_and_never_moves_the_model(monkeypatch):
    """Whenever torch.cuda.is_available(), the input is made with .type(torch.cuda.FloatTensor). The cast is
    faked here (the input stays on the CPU), so this runs on any machine."""
    asked = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.Tensor, "type", lambda self, dtype=None, *args, **kw: asked.append(dtype) or self)
    model = LeNet(2)
    printout(model, (3, 32, 32))
    assert asked == [torch.cuda.FloatTensor] and next(model.parameters()).device.type == "cpu"


def test_only_cuda_or_cpu():
    with pytest.raises(AssertionError, match="please specify 'cuda' or 'cpu'"):
        printout(LeNet(2), (3, 32, 32), device="gpu")


def test_torchsummary_prints_and_returns_none():
    returned, text = printout(LeNet(2), (3, 32, 32), device="cpu")
    assert returned is None
    assert "Params size (MB): 0.23" in text  # 61,326 * 4 / 1024**2 = 0.2339


def batch_seen(model):
    """A list that a forward hook on the model fills with the batch size of each call."""
    seen = []
    model.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].shape[0]))
    return seen


def test_batch_size_scales_the_size_estimates_not_the_batch_it_runs():
    model = LeNet(2)
    seen = batch_seen(model)
    default, sixteen = printout(model, (3, 32, 32), device="cpu")[1], printout(model, (3, 32, 32), 16, "cpu")[1]
    assert seen == [2, 2], "both run a batch of 2"
    assert "[-1, 6, 28, 28]" in default and "[16, 6, 28, 28]" in sixteen
    for line in ("Input size (MB): 0.01", "Forward/backward pass size (MB): 0.05", "Params size (MB): 0.23"):
        assert line in default, default
    for line in ("Input size (MB): 0.19", "Forward/backward pass size (MB): 0.79", "Params size (MB): 0.23"):
        assert line in sixteen, sixteen


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Sequential(nn.Linear(4, 4), nn.ReLU()) for _ in range(2)])
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def test_torchsummary_hooks_no_sequential_modulelist_or_the_model(monkeypatch):
    hooked, register = [], nn.Module.register_forward_hook

    def spy(module, hook, *args, **kwargs):
        hooked.append(type(module).__name__)
        return register(module, hook, *args, **kwargs)

    monkeypatch.setattr(nn.Module, "register_forward_hook", spy)
    text = printout(Stack(), (4,), device="cpu")[1]
    assert sorted(hooked) == ["Linear", "Linear", "Linear", "ReLU", "ReLU"], hooked
    assert "Sequential" not in text and "ModuleList" not in text and "Total params: 50" in text


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


def test_torchinfo_default_device_is_the_gpu_whenever_there_is_one(monkeypatch):
    """device=None with input_size: the model's GPU, else cuda if available, else cpu; with input_data, None."""
    assert inspect.signature(torchinfo.summary).parameters["device"].default is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    model = LeNet(2)
    assert torchinfo.torchinfo.get_device(model, None) == torch.device("cuda"), "even for a model on the CPU"
    assert torchinfo.torchinfo.get_device(model, torch.randn(1, 3, 32, 32)) is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert torchinfo.torchinfo.get_device(model, None) == torch.device("cpu")


def test_torchinfo_moves_the_callers_model_in_place():
    """To the device it picked, and leaves it there: shown with the meta device, which every machine has."""
    model = LeNet(2)
    torchinfo.summary(model, input_size=(1, 3, 32, 32), verbose=0, device="meta")
    assert {p.device.type for p in model.parameters()} == {"meta"}


def test_torchinfo_default_leaves_a_cpu_model_on_the_gpu_if_there_is_one():
    model = LeNet(2)
    torchinfo.summary(model, input_size=(1, 3, 32, 32), verbose=0)
    assert next(model.parameters()).device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    torchinfo.summary(model.cpu(), input_size=(1, 3, 32, 32), verbose=0, device="cpu")
    assert next(model.parameters()).device.type == "cpu", "device='cpu' keeps it on the CPU"


def test_torchinfo_runs_in_eval_mode_and_restores_training_mode():
    model = LeNet(2).train()
    modes = []
    model.register_forward_hook(lambda module, inputs, output: modes.append(module.training))
    torchinfo.summary(model, input_size=(1, 3, 32, 32), verbose=0, device="cpu")
    assert modes == [False] and model.training
