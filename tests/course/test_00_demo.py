"""What lesson 00's demo logs: LeNet's loss and histograms per epoch, and two MLPs' gradient histograms; what
it prints of the ReLU MLP under PyTorch's default initialisation."""
import re

from tbcourse.kit.events import accumulator, histograms, scalars

PARAMS = [f"{layer}.{kind}" for layer in ("conv1", "conv2", "fc1", "fc2", "fc3") for kind in ("weight", "bias")]


def test_lenet_loss_falls_and_histograms_every_epoch(demo_logs):
    run = demo_logs["00_gradient_histograms"]
    loss = scalars(run, "loss/train")
    epochs = sorted(loss)
    assert len(epochs) >= 3 and epochs == list(range(len(epochs)))
    assert loss[epochs[-1]] < loss[0] / 2, f"the loss should fall: {loss}"
    tags = set(accumulator(run).Tags()["histograms"])
    assert tags == {f"{p}_{kind}" for p in PARAMS for kind in ("data", "grad")}
    assert sorted(histograms(run, "fc3.weight_grad")) == epochs
    assert histograms(run, "fc1.weight_data")[0].num == 400 * 120


def test_sigmoid_first_layer_gradient_far_smaller_than_relu(demo_logs):
    ratio = {name: scalars(demo_logs["00_gradient_histograms"] / name, "first_to_last_ratio")[0]
             for name in ("mlp_sigmoid", "mlp_relu")}
    assert ratio["mlp_sigmoid"] < 1e-3 < 1e-2 < ratio["mlp_relu"], ratio
    for name in ("mlp_sigmoid", "mlp_relu"):
        first = histograms(demo_logs["00_gradient_histograms"] / name, "0.weight_grad")[0]
        assert first.num == 64 * 64


def test_prints_the_default_init_factors_the_lesson_quotes(demo_results):
    """The lesson says 22 to 174 with the default biases and 0.3 to 3 with biases 0."""
    said = demo_results[1]["00_gradient_histograms"].stdout
    found = dict(re.findall(r"init='(.+?)', seeds 0-9: .* from (\d+\.\d to \d+\.\d)$", said, re.M))
    assert set(found) == {"default", "default, biases 0"}, said[-1000:]
    low, high = map(float, found["default"].split(" to "))
    assert (round(low), round(high)) == (22, 174), found
    low, high = map(float, found["default, biases 0"].split(" to "))
    assert 0.3 <= low and high <= 3, found
