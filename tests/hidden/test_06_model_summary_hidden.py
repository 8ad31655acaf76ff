"""Lesson 06's hidden checks: 06.1 and 06.2 by the libraries' own route (the parameters themselves, torchinfo), on
kinds of model the public checks do not build: an embedding, a recurrent layer, a decoder tied to the embedding,
one-dimensional convolutions and pooling."""
import pytest
import torch
import torch.nn as nn
import torchinfo
from helpers import Chain

from tbcourse.grading.student import StudentLesson
from hidden_messages import _

lesson = StudentLesson("06_model_summary")


def language_model(rng):
    """Embedding -> GRU -> Linear decoder whose weight is the embedding's (tied), some of it frozen."""
    torch.manual_seed(rng.randrange(2**31))
    vocab, width = rng.randint(5, 40), rng.randint(2, 12)
    embed, decode = nn.Embedding(vocab, width), nn.Linear(width, vocab, bias=rng.random() < 0.5)
    decode.weight = embed.weight
    model = nn.Sequential()
    model.add_module("embed", embed)
    model.add_module("rnn", nn.GRU(width, width, num_layers=rng.randint(1, 2), batch_first=True))
    model.add_module("decode", decode)
    if rng.random() < 0.5:
        model.rnn.requires_grad_(False)
    return model


def signal_model(rng):
    """(model, input size): Conv1d, pooling and a linear head, in a Chain and a Sequential."""
    torch.manual_seed(rng.randrange(2**31))
    c, length, out = rng.randint(1, 4), rng.choice([16, 24, 32]), rng.randint(2, 6)
    kernel = rng.choice([3, 5])
    features = nn.Sequential(nn.Conv1d(c, out, kernel), nn.ReLU(), nn.MaxPool1d(2), nn.Conv1d(out, out, 1),
                             nn.AdaptiveAvgPool1d(4), nn.Flatten())
    model = Chain([("features", features), ("head", nn.Linear(out * 4, rng.randint(2, 5)))], ["features", "head"])
    return model, (c, length)


def own_counts(model):
    counts = {name: sum(p.numel() for p in m.parameters(recurse=False))
              for name, m in model.named_modules() if any(True for _unused in m.parameters(recurse=False))}
    return counts | {"total": sum(p.numel() for p in model.parameters())}


@pytest.mark.exercise("06.1", points=1)
@pytest.mark.parametrize("case", range(3))
def test_count_parameters_of_other_models(rng, case):
    model = language_model(rng) if case < 2 else signal_model(rng)[0]
    want = own_counts(model)
    got = lesson.count_parameters(model)
    assert got == want, _("{model_type} with {layers}: expected {want}, got {got}").format(
                            model_type=type(model).__name__, layers=', '.join(want), want=want, got=got)


def torchinfo_shapes(model, input_size):
    shapes = {}
    for info in torchinfo.summary(model, input_size=(2, *input_size), verbose=0, device="cpu").summary_list:
        if info.is_leaf_layer:
            parts, node = [], info
            while node.parent_info is not None:
                parts.append(node.var_name)
                node = node.parent_info
            shapes[".".join(reversed(parts))] = (-1, *info.output_size[1:])
    return shapes


@pytest.mark.exercise("06.2", points=1)
@pytest.mark.parametrize("case", range(2))
def test_output_shapes_of_other_models(rng, case):
    model, input_size = signal_model(rng)
    want = torchinfo_shapes(model, input_size)
    got = lesson.output_shapes(model, input_size)
    got = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in got.items()} if isinstance(got, dict) else got
    assert got == want, _("a 1-d convolutional model, input {input_size}: expected {want}, got {got}").format(
                            input_size=input_size, want=want, got=got)
