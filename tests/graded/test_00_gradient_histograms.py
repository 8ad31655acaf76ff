"""Lesson 00: weight and gradient histograms. Histograms are read back from the event file."""
import pytest
import torch
import torch.nn as nn
from helpers import Chain

from tbcourse.grading.student import StudentLesson
from tbcourse.i18n import _
from tbcourse.kit.events import accumulator

lesson = StudentLesson("00_gradient_histograms")

NAMES = ["stem", "body", "head", "trunk", "neck", "blocks", "encoder", "spare", "extra", "aux"]


def nest(rng, layers, depth=2):
    """The layers, cut into runs that are randomly wrapped in nn.Sequential, up to `depth` levels deep."""
    if depth == 0 or len(layers) < 2:
        return layers
    out, i = [], 0
    while i < len(layers):
        j = rng.randint(i + 1, len(layers))
        run = nest(rng, layers[i:j], depth - 1)
        out += [nn.Sequential(*run)] if rng.random() < 0.5 else run
        i = j
    return out


def random_model(rng):
    """(model, input): random nested convolutions and linears, an unused layer, some frozen parameters."""
    torch.manual_seed(rng.randrange(2**31))
    channels, size = rng.randint(1, 3), rng.randint(4, 7)
    c, convs = channels, []
    for _unused in range(rng.randint(1, 3)):
        out = rng.randint(2, 5)
        convs += [nn.Conv2d(c, out, 3, padding=1, bias=rng.random() < 0.7)]
        convs += [nn.BatchNorm2d(out)] if rng.random() < 0.4 else []
        convs += [nn.ReLU()]
        c = out
    width, linears = c * size * size, []
    for _unused in range(rng.randint(1, 3)):
        out = rng.randint(2, 9)
        linears += [nn.Linear(width, out, bias=rng.random() < 0.8), nn.Tanh()]
        width = out
    names = rng.sample(NAMES, 4)
    parts = [(names[0], nn.Sequential(*nest(rng, convs))), (names[1], nn.Flatten()),
             (names[2], nn.Sequential(*nest(rng, linears))), (names[3], nn.Linear(width, 2))]
    order = [name for name, _unused in parts[:3]]
    model = Chain(rng.sample(parts, len(parts)), order)  # names[3] is registered but never used
    params = list(model.parameters())
    for p in rng.sample(params, rng.randint(1, len(params) // 2)):
        p.requires_grad_(False)
    return model, torch.randn(rng.randint(2, 4), channels, size, size)


def trained_model(rng):
    """A random model after one backward pass: some parameters have a gradient, some (frozen, unused) not."""
    model, x = random_model(rng)
    model(x.requires_grad_()).square().mean().backward()  # the input too: every parameter in use may be frozen
    return model


def check_histogram(got, values, what):
    want = values.detach().double()
    assert got.num == want.numel(), _("{what}: expected a histogram of {want_numel} values, found "
                                      "{got_num:.0f}").format(what=what, want_numel=want.numel(), got_num=got.num)
    assert got.min == pytest.approx(want.min().item()) and got.max == pytest.approx(want.max().item()), \
        _("{what}: expected min {want_min:.4g} and max {want_max:.4g}, found {got_min:.4g} and {got_max:.4g} (the "
          "wrong tensor?)").format(what=what, want_min=want.min().item(), want_max=want.max().item(), got_min=got.min,
            got_max=got.max)
    assert got.sum == pytest.approx(want.sum().item(), rel=1e-5, abs=1e-9), \
        _("{what}: expected the values to sum to {want_sum:.6g}, found {got_sum:.6g} (the wrong tensor?)").format(
            what=what, want_sum=want.sum().item(), got_sum=got.sum)


@pytest.mark.exercise("00.1", points=3)
@pytest.mark.parametrize("case", range(4))
def test_log_weights_and_grads(writer, logdir, rng, case):
    model = trained_model(rng)
    epoch = rng.randint(0, 50)
    params = dict(model.named_parameters())
    want = {f"{n}_data": p.detach().clone() for n, p in params.items()} | \
        {f"{n}_grad": p.grad.clone() for n, p in params.items() if p.grad is not None}
    lesson.log_weights_and_grads(writer, model, epoch)
    writer.flush()
    now = {f"{n}_data": p.detach() for n, p in params.items()} | {f"{n}_grad": p.grad for n, p in params.items()}
    changed = [tag for tag, values in want.items() if now[tag] is None or not torch.equal(now[tag], values)]
    assert not changed, _("log_weights_and_grads changed the model it was given ({changed}): only read it").format(
                            changed=', '.join(changed[:3]))
    acc = accumulator(logdir)
    got = set(acc.Tags()["histograms"])
    assert got == set(want), _("histogram tags missing: {missing}; unexpected: {unexpected} (expected '<name>_data' "
                               "for every parameter, '<name>_grad' for every one whose .grad is not None)").format(
                                 missing=sorted(set(want) - got), unexpected=sorted(got - set(want)))
    for tag, values in want.items():
        events = acc.Histograms(tag)
        steps = [e.step for e in events]
        assert steps == [epoch], _("{tag}: expected one histogram at step {epoch}, found steps {steps}").format(tag=tag,
                                     epoch=epoch, steps=steps)
        check_histogram(events[0].histogram_value, values, tag)


@pytest.mark.exercise("00.2", points=2)
@pytest.mark.parametrize("case", range(4))
def test_grad_norms(rng, case):
    model = trained_model(rng)
    want = {n: torch.linalg.vector_norm(p.grad).item() for n, p in model.named_parameters() if p.grad is not None}
    got = lesson.grad_norms(model)
    assert isinstance(got, dict), _("expected a dict, got {got_type}").format(got_type=type(got).__name__)
    assert list(got) == list(want), _("expected the keys {want} (named_parameters() order, parameters without a "
                                      "gradient left out), got {got}").format(want=list(want), got=list(got))
    for name, norm in want.items():
        assert isinstance(got[name], float), _("{name}: expected a Python float, got {got_type}").format(name=name,
                                                 got_type=type(got[name]).__name__)
        assert got[name] == pytest.approx(norm, rel=1e-5), \
            _("{name}: the L2 norm of its gradient is {norm:.6g}, got {got_value:.6g}").format(name=name, norm=norm,
                got_value=got[name])


def random_norms(rng, case):
    """Made-up gradient norms: weights interleaved with biases and other parameters. named_parameters()
    yields a model's own parameters first, so in even cases a bare "weight" leads; case 0 is one nn.Linear."""
    if case == 0:
        return {"weight": 10 ** rng.uniform(-8, 1), "bias": 10 ** rng.uniform(-8, 1)}
    keys = ["weight"] if case % 2 == 0 else []
    for i in range(rng.randint(2, 7)):
        prefix = rng.choice([f"{i}.", f"layer{i}.", f"block.{i}.conv."])
        keys += [f"{prefix}weight"] + ([f"{prefix}bias"] if rng.random() < 0.7 else [])
        keys += [rng.choice([f"lstm{i}.weight_ih_l0", f"bn{i}.bias", f"scale{i}", f"emb{i}.weight_v"])] \
            if rng.random() < 0.5 else []
    if rng.random() < 0.5:
        keys.insert(0, "pos_bias")
    return {key: 10 ** rng.uniform(-8, 1) for key in keys}


@pytest.mark.exercise("00.3", points=2)
@pytest.mark.parametrize("case", range(10))
def test_first_to_last_ratio(rng, case):
    norms = random_norms(rng, case)
    weights = [value for key, value in norms.items() if key[-6:] == "weight"]
    want = weights[0] / weights[-1]
    got = lesson.first_to_last_ratio(dict(norms))
    assert isinstance(got, float), _("expected a float, got {got_type}").format(got_type=type(got).__name__)
    assert got == pytest.approx(want, rel=1e-9), _("expected {want:.6g} (first key ending in 'weight' / last one, in "
                                                   "dict order), got {got:.6g}, for {norms}").format(want=want, got=got,
                                                     norms=norms)
