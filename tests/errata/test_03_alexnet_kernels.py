"""Errata for lesson 03: `pretrained=` gave way to `weights=`. Also the facts the lesson states about
torchvision's AlexNet and TensorBoard's image sampling, proven on the installed versions. Nothing is
downloaded: torchvision's loader (``load_state_dict_from_url``) is replaced in every test that could."""
import inspect
import warnings

import pytest
import torch
import torch.nn as nn
import torchvision.models._api
from tensorboard import program
from tensorboard.backend.event_processing import data_ingester
from torchvision.models import AlexNet, AlexNet_Weights, alexnet

IMAGENET = AlexNet_Weights.IMAGENET1K_V1


@pytest.fixture
def downloads(monkeypatch):
    """The URLs torchvision asks for; each request gets random AlexNet weights instead of a download."""
    asked = []

    def fetch(url, *args, **kwargs):
        asked.append(url)
        return AlexNet().state_dict()

    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", fetch)
    return asked


def test_weights_replaces_pretrained_in_the_signature():
    params = inspect.signature(alexnet).parameters
    assert "pretrained" not in params
    assert params["weights"].kind is inspect.Parameter.KEYWORD_ONLY and params["weights"].default is None


def warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return " | ".join(str(w.message) for w in caught if issubclass(w.category, UserWarning))


def test_pretrained_false_is_deprecated_and_means_no_weights(downloads):
    said = warnings_of(lambda: alexnet(pretrained=False))
    assert "'pretrained' is deprecated" in said and "equivalent to passing `weights=None`" in said, said
    assert downloads == []


def test_pretrained_true_is_deprecated_and_means_imagenet_weights(downloads):
    said = warnings_of(lambda: alexnet(pretrained=True))
    assert "'pretrained' is deprecated" in said
    assert "equivalent to passing `weights=AlexNet_Weights.IMAGENET1K_V1`" in said, said
    assert downloads == [IMAGENET.url]


def test_weights_enum_loads_imagenet_checkpoint_without_warning(downloads, recwarn):
    alexnet(weights=AlexNet_Weights.IMAGENET1K_V1)
    assert downloads == [IMAGENET.url] and not recwarn.list
    assert AlexNet_Weights.DEFAULT is IMAGENET
    assert IMAGENET.url.endswith("/alexnet-owt-7be5be79.pth"), "the file name the lesson tells students to fetch"


def test_torchvision_alexnet_convolutions():
    """The 'one weird trick' AlexNet: 64 first-layer kernels (the 2012 paper had 96); conv5 has no RGB view."""
    shapes = [tuple(m.weight.shape) for m in AlexNet().modules() if isinstance(m, nn.Conv2d)]
    assert shapes == [(64, 3, 11, 11), (192, 64, 5, 5), (384, 192, 3, 3), (256, 384, 3, 3), (256, 256, 3, 3)]
    assert [c_out * c_in % 3 == 0 for c_out, c_in, _, _ in shapes] == [True, True, True, True, False]


def test_demo_untrained_conv1_is_initialised_as_alexnet_does():
    torch.manual_seed(1)
    conv1 = alexnet(weights=None).features[0]
    torch.manual_seed(1)
    fresh = nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2)
    assert str(fresh) == str(conv1) and torch.equal(fresh.weight, conv1.weight)


def test_tensorboard_shows_10_images_per_tag_unless_told(tmp_path):
    assert data_ingester.DEFAULT_TENSOR_SIZE_GUIDANCE["images"] == 10
    board = program.TensorBoard()
    board.configure(argv=[None, "--logdir", str(tmp_path), "--samples_per_plugin", "images=200"])
    assert board.flags.samples_per_plugin == {"images": 200}
