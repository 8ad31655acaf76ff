"""What lesson 06's graded tests expect, checked here against the libraries: the graded tests ship to students, so
they hold no function that reads an answer from a model (see tests/course/test_release.py, which runs every shipped
helper as an exercise); their expectations are LeNet's and AlexNet's published sizes and, for a random model, what
its builder wrote down (``Plan``). Here, where nothing ships, those are compared with torchinfo, torchsummary and
the parameters themselves, on many random models."""
import contextlib
import io
import random
import re

import pytest
import torchsummary
import torchvision

from graded_modules import load
from tbcourse.kit.models import LeNet
from tbcourse.settings import HIDDEN_TESTS

graded = load("test_06_model_summary")
torchinfo_shapes = load("test_06_model_summary_hidden", HIDDEN_TESTS).torchinfo_shapes  # the libraries' route


def own_counts(model):
    """Every module's own parameters; the total over the distinct parameter objects."""
    counts = {name: sum(p.numel() for p in m.parameters(recurse=False))
              for name, m in model.named_modules() if any(True for _ in m.parameters(recurse=False))}
    return counts | {"total": sum(p.numel() for p in model.parameters())}


def printed_totals(model, input_size):
    """What torchsummary prints: total, trainable and size in MB."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        torchsummary.summary(model, input_size, device="cpu")
    found = {label: re.search(rf"^{re.escape(label)}: ([\d,.]+)", out.getvalue(), re.M)[1].replace(",", "")
             for label in ("Total params", "Trainable params", "Params size (MB)")}
    return {"total": int(found["Total params"]), "trainable": int(found["Trainable params"]),
            "params_mb": float(found["Params size (MB)"])}


def test_lenet_and_alexnet_are_what_the_libraries_say():
    alexnet = torchvision.models.alexnet(weights=None).eval()
    assert own_counts(LeNet(2)) == graded.LENET and own_counts(alexnet) == graded.ALEXNET_COUNTS
    assert torchinfo_shapes(LeNet(2), (3, 32, 32)) == graded.LENET_SHAPES
    assert torchinfo_shapes(alexnet, (3, 224, 224)) == graded.ALEXNET_SHAPES
    assert printed_totals(LeNet(2), (3, 32, 32)) == graded.LENET_SUMMARY
    assert printed_totals(alexnet, (3, 224, 224)) == graded.ALEXNET_SUMMARY


@pytest.mark.parametrize("seed", range(40))
def test_a_random_models_plan_is_what_the_libraries_say(seed):
    model, input_size, plan, _ = graded.random_model(random.Random(seed))
    assert plan.all_counts() == own_counts(model)
    assert plan.shapes == torchinfo_shapes(model, input_size)
    assert plan.summary() == printed_totals(model, input_size)
