"""Errata for lesson 04: AlexNet expects ImageNet's statistics (the notes used CIFAR-10's), and the notes'
``transpose_`` works in place. Also the in-place ReLU trap of section 5. Nothing is downloaded."""
import torch
import torch.nn as nn
from torchvision.models import AlexNet, AlexNet_Weights
from torchvision.models.feature_extraction import create_feature_extractor
from torchvision.utils import make_grid

IMAGENET = AlexNet_Weights.IMAGENET1K_V1


def test_alexnet_weights_come_with_imagenet_preprocessing():
    preprocess = IMAGENET.transforms()
    assert list(preprocess.mean) == [0.485, 0.456, 0.406] and list(preprocess.std) == [0.229, 0.224, 0.225]
    assert list(preprocess.resize_size) == [256] and list(preprocess.crop_size) == [224]
    assert len(IMAGENET.meta["categories"]) == 1000, "trained on ImageNet-1k, not CIFAR-10's 10 classes"
    assert "ImageNet-1K" in IMAGENET.meta["_metrics"]


def test_transpose_underscore_changes_the_tensor_itself():
    fmap = torch.randn(1, 64, 5, 5)
    assert fmap.transpose_(0, 1) is fmap and fmap.shape == (64, 1, 5, 5)


def test_transpose_is_a_view_and_make_grid_does_not_write_to_it():
    fmap = torch.randn(1, 8, 5, 5)
    before = fmap.clone()
    view = fmap.transpose(0, 1)
    assert view.shape == (8, 1, 5, 5) and view.data_ptr() == fmap.data_ptr() and fmap.shape == (1, 8, 5, 5)
    make_grid(view, normalize=True, scale_each=True)
    assert torch.equal(fmap, before)


def test_inplace_relu_overwrites_a_stored_output():
    """features.1 is ReLU(inplace=True): what a hook keeps of features.0 is rectified, and so is what
    create_feature_extractor returns for it when a later layer is asked for too (alone, the ReLU is pruned)."""
    torch.manual_seed(0)
    model = AlexNet().eval()
    assert all(m.inplace for m in model.features if isinstance(m, nn.ReLU))
    img = torch.randn(1, 3, 96, 96)
    kept = {}
    with torch.no_grad():
        conv1 = model.features[0](img)
        handle = model.features[0].register_forward_hook(lambda m, i, out: kept.update(raw=out, copy=out.clone()))
        model(img)
        handle.remove()
        alone = create_feature_extractor(model, ["features.0"])(img)["features.0"]
        with_later = create_feature_extractor(model, ["features.0", "features.3"])(img)["features.0"]
    assert (conv1 < 0).any()
    assert torch.equal(kept["raw"], conv1.clamp(min=0)) and torch.equal(with_later, conv1.clamp(min=0))
    assert torch.equal(kept["copy"], conv1) and torch.equal(alone, conv1)
