"""What lesson 02's demo logs: the notes' grid, the option grids and the review grid of every class folder
(even from the untouched lesson); what it prints: the copies within train, and nothing 02.6 asks for."""
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.utils import make_grid

from tbcourse.kit.events import accumulator, images
from tbcourse.kit.paths import latest_run
from tbcourse.settings import FACES, ROOT

OPTION_TAGS = ["input img", "make_grid/default", "make_grid/nrow_4", "make_grid/padding_8_pad_value_1",
               "make_grid/normalize", "make_grid/value_range"]
FOLDERS = [(split, name) for split in ("train", "valid") for name in ("face", "not_face")]


def test_option_grids_of_a_16_image_batch(demo_logs):
    logdir = demo_logs["02_make_grid"]
    assert set(OPTION_TAGS) <= set(accumulator(logdir).Tags()["images"])
    for tag, nrow, padding in [("input img", 4, 2), ("make_grid/default", 8, 2), ("make_grid/nrow_4", 4, 2),
                               ("make_grid/padding_8_pad_value_1", 8, 8)]:
        steps = images(logdir, tag)
        want = tuple(make_grid(torch.zeros(16, 3, 32, 32), nrow=nrow, padding=padding).shape[1:])
        assert sorted(steps) == [0] and steps[0].shape[:2] == want, f"{tag}: expected {want} at step 0"
    padded = images(logdir, "make_grid/padding_8_pad_value_1")[0]
    assert (padded[:8] == 255).all(), "pad_value=1.0 draws white grid lines"


@pytest.mark.parametrize("results", ["demo_results", "untouched_results"])
def test_review_grid_of_every_class_folder(request, results):
    """Logged before any exercise runs: there for 02.6 even while every other exercise is a TODO."""
    runs, done, _ = request.getfixturevalue(results)
    assert done["02_make_grid"].returncode == 0, done["02_make_grid"].stderr[-2000:]
    for split, name in FOLDERS:
        count = len(list((FACES / split / name).glob("*.png")))
        steps = images(latest_run(runs / "02_make_grid"), f"review/{split}/{name}")
        want = tuple(make_grid(torch.zeros(count, 3, 25, 25), nrow=10).shape[1:])
        assert sorted(steps) == [0], f"review/{split}/{name}: expected one grid at step 0"
        assert steps[0].shape[:2] == want, f"review/{split}/{name}: all {count} images, 10 per row, make {want}"
        first = np.asarray(Image.open(sorted((FACES / split / name).glob("*.png"))[0]))
        assert (steps[0][2:27, 2:27, 0] == first).all(), "the first image of the grid is the first file, unscaled"


def test_prints_the_copies_within_train(demo_results):
    """Counted here from the files' bytes of pixels: every pair of equal images in train/."""
    files = sorted((FACES / "train").glob("*/*.png"))
    counts = Counter(np.asarray(Image.open(path).convert("RGB")).tobytes() for path in files)
    pairs = sum(n * (n - 1) // 2 for n in counts.values())
    _, done, _ = demo_results
    assert f"{pairs} exact duplicates within train\n" in done["02_make_grid"].stdout


def test_prints_no_finding_of_02_6(demo_results):
    """02.6 is the student's to find: the demo names no file of the answer key and says nothing of valid/ but
    its review grids (no leak, no count of leaks)."""
    said = demo_results[1]["02_make_grid"].stdout
    key = json.loads((ROOT / "tests" / "keys" / "faces_review.json").read_text())
    for path in {*key["mislabeled"], *key["leaked"], *(path for pair in key["leaked_pairs"] for path in pair)}:
        assert Path(path).stem not in said, f"the demo names {path}, a finding of 02.6:\n{said}"
    about_valid = [line for line in said.splitlines() if "valid" in line and not line.startswith("review/valid/")]
    assert not about_valid, f"the demo speaks of valid/ beyond its review grids: {about_valid}"
