"""tbcourse.kit.alexnet.load_alexnet: a weights file, torchvision's weights, or a warned, seeded random net.

No test touches the network: torchvision's loader (``load_state_dict_from_url``) is replaced.
"""
import urllib.error
import warnings

import pytest
import torch
import torchvision.models._api
from torchvision.models import AlexNet_Weights, alexnet

from tbcourse.kit.alexnet import load_alexnet
from tbcourse.kit.models import LeNet
from tbcourse.settings import OFFLINE_ENV, WEIGHTS_ENV

FILE_NAME = "alexnet-owt-7be5be79.pth"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    monkeypatch.delenv(OFFLINE_ENV, raising=False)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """(path, state dict) of an AlexNet unlike the loader's fallback, standing in for the real weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12345)
        state = alexnet(weights=None).state_dict()
    path = tmp_path_factory.mktemp("weights") / FILE_NAME
    torch.save(state, path)
    return path, state


def no_download(*args, **kwargs):
    pytest.fail("the loader must not download here")


def same_weights(model, state):
    own = model.state_dict()
    return own.keys() == state.keys() and all(torch.equal(own[k], state[k]) for k in state)


def test_weights_file_from_environment(saved, monkeypatch, recwarn):
    path, state = saved
    monkeypatch.setenv(WEIGHTS_ENV, str(path))
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", no_download)
    model = load_alexnet()
    assert same_weights(model, state), "the model should hold exactly the weights of the file"
    assert not model.training, "the loader returns the model in eval mode"
    assert not recwarn.list, f"loading a good file warns nothing, got {[str(w.message) for w in recwarn]}"


def test_missing_weights_file_is_a_clear_error(tmp_path, monkeypatch):
    missing = tmp_path / FILE_NAME
    monkeypatch.setenv(WEIGHTS_ENV, str(missing))
    with pytest.raises(FileNotFoundError, match=WEIGHTS_ENV) as err:
        load_alexnet()
    assert str(missing) in str(err.value)


@pytest.mark.parametrize("content", ["garbage", "lenet", "empty"])
def test_corrupt_weights_file_is_a_clear_error(tmp_path, monkeypatch, content):
    path = tmp_path / FILE_NAME
    if content == "lenet":
        torch.save(LeNet().state_dict(), path)
    else:
        path.write_bytes(b"not a checkpoint\x00" * 8 if content == "garbage" else b"")
    monkeypatch.setenv(WEIGHTS_ENV, str(path))
    with pytest.raises(RuntimeError, match=WEIGHTS_ENV) as err:
        load_alexnet()
    assert str(path) in str(err.value) and FILE_NAME in str(err.value)
    assert err.value.__suppress_context__, "the raw unpickling/loading traceback should not be chained on"


def fallback_warning(recorded):
    messages = [str(w.message) for w in recorded if issubclass(w.category, UserWarning)]
    assert len(messages) == 1, f"expected one warning, got {messages}"
    message = messages[0]
    assert "internet" in message and f"ALEXNET_WEIGHTS=/path/to/{FILE_NAME}" in message, message
    return message


def test_offline_warns_and_is_deterministic(monkeypatch):
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", no_download)
    torch.manual_seed(1)
    with warnings.catch_warnings(record=True) as first:
        warnings.simplefilter("always")
        one = load_alexnet()
    assert f"{OFFLINE_ENV}=1" in fallback_warning(first)
    torch.manual_seed(2)  # the fallback has its own seed: the caller's random state must not matter
    rng_state = torch.random.get_rng_state()
    with pytest.warns(UserWarning):
        two = load_alexnet()
    assert same_weights(one, two.state_dict()), "the random fallback must be the same on every call"
    assert not one.training
    assert torch.equal(torch.random.get_rng_state(), rng_state), "the loader should leave the global RNG alone"


def test_failed_download_warns_and_falls_back(monkeypatch):
    def unreachable(url, *args, **kwargs):
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", unreachable)
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always")
        model = load_alexnet()
    assert "URLError" in fallback_warning(recorded)
    monkeypatch.setenv(OFFLINE_ENV, "1")
    with pytest.warns(UserWarning):
        offline = load_alexnet()
    assert same_weights(model, offline.state_dict()), "a failed download gives the same seeded fallback"


def test_download_path_uses_torchvision_weights(saved, monkeypatch, recwarn):
    path, state = saved
    asked = []

    def from_cache(url, *args, **kwargs):
        asked.append(url)
        return torch.load(path, weights_only=True)

    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", from_cache)
    model = load_alexnet()
    assert asked == [AlexNet_Weights.IMAGENET1K_V1.url], f"expected one request for the ImageNet weights, got {asked}"
    assert same_weights(model, state)
    assert not model.training
    assert not recwarn.list, f"got {[str(w.message) for w in recwarn]}"
