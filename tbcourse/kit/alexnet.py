"""The course's one AlexNet loader: ImageNet weights when they can be had, else a seeded random net and a warning.

In order: the state dict in the file named by ``ALEXNET_WEIGHTS``; torchvision's ImageNet weights
(from the torch cache, downloaded there on first use) unless ``COURSE_OFFLINE=1``; otherwise the
same seeded random initialisation on every call, with a warning that says how to get the real weights.
"""
import os
import warnings

import torch
from torchvision.models import AlexNet_Weights, alexnet

from tbcourse.settings import OFFLINE_ENV, WEIGHTS_ENV

WEIGHTS_FILE = AlexNet_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1]  # alexnet-owt-7be5be79.pth
SEED = 0


def load_alexnet() -> torch.nn.Module:
    """AlexNet in eval mode: ImageNet-trained if possible, else seeded random (with a warning)."""
    path = os.environ.get(WEIGHTS_ENV)
    if path:
        return _from_file(path).eval()
    if os.environ.get(OFFLINE_ENV) == "1":
        reason = f"{OFFLINE_ENV}=1"
    else:
        try:
            return alexnet(weights=AlexNet_Weights.IMAGENET1K_V1).eval()
        except Exception as err:  # no network and nothing in the torch cache, or a broken cached file
            reason = f"the download failed ({type(err).__name__}: {err})"
    warnings.warn(f"AlexNet without its ImageNet weights ({reason}): using a random initialisation (seed {SEED}), "
                  f"so kernels and feature maps show no learned features. To get the real weights, run "
                  f"once with internet access (torchvision keeps them in its cache), or download "
                  f"{AlexNet_Weights.IMAGENET1K_V1.url} and set {WEIGHTS_ENV}=/path/to/{WEIGHTS_FILE}.",
                  stacklevel=2)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        return alexnet(weights=None).eval()


def _from_file(path: str) -> torch.nn.Module:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{WEIGHTS_ENV}={path}: no such file (expected AlexNet's state dict, {WEIGHTS_FILE})")
    model = alexnet(weights=None)
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as err:  # unpickling, zip or key errors: one clear line instead of their traceback
        raise RuntimeError(f"{WEIGHTS_ENV}={path}: cannot load it as AlexNet's state dict ({type(err).__name__}); "
                           f"expected {WEIGHTS_FILE} from {AlexNet_Weights.IMAGENET1K_V1.url}") from None
    return model
