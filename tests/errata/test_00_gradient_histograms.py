"""Errata for lesson 00: reading gradient histograms. Vanishing shows as the *first* layers' gradients being
far smaller than the last's (the notes' comparison, read with its 也是); a large last-layer gradient alone
means a large loss, and one that shrinks over the epochs means the loss is getting small. Also the figures
the lesson quotes for PyTorch's default initialisation."""
import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(activation, init, depth=8, width=64, seed=0, zero_bias=True):
    """init None keeps nn.Linear's own initialisation of the weights."""
    torch.manual_seed(seed)
    layers = []
    for _ in range(depth):
        linear = nn.Linear(width, width)
        if init is not None:
            init(linear.weight)
        if zero_bias:
            nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
    return nn.Sequential(*layers, nn.Linear(width, 2))


def weight_grad_norms(model, seed=0):
    """Gradient norm of every Linear weight, first to last, after one backward pass on a random batch."""
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.randn(64, 64, generator=gen), torch.randint(0, 2, (64,), generator=gen)
    F.cross_entropy(model(x), y).backward()
    return [m.weight.grad.norm().item() for m in model if isinstance(m, nn.Linear)]


def test_deep_sigmoid_first_layer_gradient_vanishes():
    for seed in range(3):
        norms = weight_grad_norms(mlp(nn.Sigmoid, nn.init.xavier_normal_, seed=seed), seed)
        assert norms[0] < norms[-1] / 100, f"sigmoid, seed {seed}: first {norms[0]:.2e}, last {norms[-1]:.2e}"


def test_relu_with_he_init_keeps_first_layer_gradient():
    he = lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")  # noqa: E731
    for seed in range(3):
        norms = weight_grad_norms(mlp(nn.ReLU, he, seed=seed), seed)
        assert norms[0] > norms[-1] / 100, f"ReLU, seed {seed}: first {norms[0]:.2e}, last {norms[-1]:.2e}"


def test_nn_linear_default_init_is_uniform_in_one_over_sqrt_fan_in():
    torch.manual_seed(0)
    linear = nn.Linear(64, 64)
    for values in (linear.weight, linear.bias):
        assert 0.11 < values.abs().max() <= 1 / 8, f"expected uniform in ±1/8, max |value| {values.abs().max():.4f}"


def test_relu_with_default_init_loses_22_to_174_but_not_with_zero_biases():
    """The lesson's figures: last / first weight-gradient norm over seeds 0-9, default biases and zeroed ones."""
    factors = {}
    for zero_bias in (False, True):
        norms = [weight_grad_norms(mlp(nn.ReLU, None, seed=seed, zero_bias=zero_bias), seed) for seed in range(10)]
        factors[zero_bias] = [n[-1] / n[0] for n in norms]
    assert (round(min(factors[False])), round(max(factors[False]))) == (22, 174), factors[False]
    assert 0.3 <= min(factors[True]) and max(factors[True]) <= 3, factors[True]


def test_last_layer_gradient_shrinks_as_the_loss_does():
    """A tiny classifier on a separable toy problem: loss and last-layer gradient fall together."""
    torch.manual_seed(0)
    x = torch.randn(200, 2)
    y = (x[:, 0] + x[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    history = []
    for _ in range(40):  # full-batch: one step is one epoch
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        history.append((loss.item(), model[2].weight.grad.norm().item()))
        optimizer.step()
    (loss_first, grad_first), (loss_last, grad_last) = history[0], history[-1]
    assert loss_last < loss_first / 10, f"loss {loss_first:.3f} -> {loss_last:.3f}"
    assert grad_last < grad_first / 10, f"last-layer weight grad {grad_first:.3f} -> {grad_last:.4f}"
