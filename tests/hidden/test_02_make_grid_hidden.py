"""Lesson 02's hidden checks: what 02.6's findings say, against the answer key (tests/keys/), which never ships.
The public check (tests/graded/) sees only their form."""
import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from tbcourse.grading.student import StudentLesson
from tbcourse.settings import FACES, KEYS

lesson = StudentLesson("02_make_grid")


def answer_key() -> dict:
    return json.loads((KEYS / "faces_review.json").read_text(encoding="utf-8"))


def check_list(key):
    got = lesson.review_findings()
    found = got.get(key) if isinstance(got, dict) else None
    assert isinstance(found, list), f"expected a dict holding the list {key!r}, got {got!r:.120}"
    found = sorted({str(path).replace("\\", "/") for path in found})
    want = answer_key()[key]
    right, wrong = [path for path in found if path in want], [path for path in found if path not in want]
    assert not wrong and len(right) == len(want), \
        f"{key}: {len(right)} of your {len(found)} paths are right, {len(want) - len(right)} still to find"


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
        "course error: the valid/ files that copy a train/ file are not those of tests/keys/faces_review.json"
    check_list("leaked")
