"""Lesson 02's hidden checks: 02.3 against make_grid itself, on images of other shapes and spreads than the public
ones; what 02.6's findings say, against the answer key (tests/keys/), which never ships (the public check sees only
their form)."""
import hashlib
import json

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.utils import make_grid

from tbcourse.grading.student import StudentLesson
from hidden_messages import _
from tbcourse.settings import FACES, KEYS

lesson = StudentLesson("02_make_grid")


@pytest.mark.exercise("02.3", points=1)
@pytest.mark.parametrize("case", range(4))
def test_normalize_image_is_make_grids(rng, case):
    gen = torch.Generator().manual_seed(rng.randrange(2**31))
    c, h, w = rng.choice([1, 3, 4]), rng.randint(1, 40), rng.randint(2, 40)
    img = torch.randn(c, h, w, generator=gen) * 10 ** rng.uniform(-2, 3) + rng.uniform(-100, 100)
    value_range = None if case % 2 else tuple(sorted(rng.uniform(-3, 3) * float(img.std()) + float(img.mean())
                                                     for _unused in range(2)))
    own = img.clone()
    want = make_grid(own.unsqueeze(0), normalize=True, value_range=value_range, padding=0)[:c]
    got = lesson.normalize_image(img, value_range)
    assert torch.equal(img, own), _("normalize_image changed its input")
    assert isinstance(got, torch.Tensor) and got.shape == want.shape, _("expected a tensor of shape "
                                                                        "{want_shape}").format(
                                                                          want_shape=tuple(want.shape))
    assert (got.float() - want).abs().max() <= 1e-4, \
        _("image of shape {shape} over [{own_min:.4g}, {own_max:.4g}], value_range={value_range}: differs from "
          "make_grid's by up to {largest:.3g}").format(shape=(c, h, w), own_min=own.min(), own_max=own.max(),
            value_range=value_range, largest=(got.float() - want).abs().max())


def answer_key() -> dict:
    return json.loads((KEYS / "faces_review.json").read_text(encoding="utf-8"))


def check_list(key):
    got = lesson.review_findings()
    found = got.get(key) if isinstance(got, dict) else None
    assert isinstance(found, list), _("expected a dict holding the list {key!r}, got {got!r:.120}").format(key=key,
                                        got=got)
    found = sorted({str(path).replace("\\", "/") for path in found})
    want = answer_key()[key]
    right, wrong = [path for path in found if path in want], [path for path in found if path not in want]
    assert not wrong and len(right) == len(want), \
        _("{key}: {n_right} of your {n_found} paths are right, {n_left} still to find").format(key=key,
            n_right=len(right), n_found=len(found), n_left=len(want) - len(right))


def pixel_leaks():
    """valid/ files whose pixels equal a train/ file's, found by hashing the shipped data."""
    def digest(path):
        with Image.open(path) as picture:
            return hashlib.sha256(np.asarray(picture.convert("RGB")).tobytes()).hexdigest()
    train = {digest(path) for path in (FACES / "train").rglob("*.png")}
    return sorted(path.relative_to(FACES).as_posix() for path in (FACES / "valid").rglob("*.png")
                  if digest(path) in train)


@pytest.mark.exercise("02.6", points=2)
def test_review_findings_mislabeled():
    check_list("mislabeled")


@pytest.mark.exercise("02.6", points=2)
def test_review_findings_leaked():
    assert pixel_leaks() == answer_key()["leaked"], \
        _("course error: the valid/ files that copy a train/ file are not those of tests/keys/faces_review.json")
    check_list("leaked")
