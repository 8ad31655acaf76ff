"""Build the course's shipped data from images bundled with scikit-image.

Run from the repository root:

    .venv/bin/python data/make_data.py

Outputs (rewritten from scratch on every run, deterministic):

    data/faces/{train,valid}/{face,not_face}/img_NNNN.png   25x25 grayscale
    data/photos/astronaut.png                              256x256 RGB
    tests/keys/faces_review.json                           answer key (instructors)

The faces set contains deliberate faults for lesson 02's data-review
exercise: 3 train images filed under the wrong class, and 3 train images
copied into valid/ (a train/valid leak). The key lists them; only the
hidden checks (tests/hidden/), which students never get, read it.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

SEED = 2024
N_TRAIN = 80  # per class; the other 20 go to valid
N_MISFILED_FACES = 2  # faces filed under train/not_face
N_MISFILED_NONFACES = 1  # non-faces filed under train/face
N_LEAKED = 3  # train images copied into valid/ of the same class

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from tbcourse.settings import FACES, KEYS, PHOTO, ROOT  # noqa: E402 - the course's one layout

PHOTOS = PHOTO.parent
KEY = KEYS / "faces_review.json"

CLASSES = ["face", "not_face"]


def save_png(array, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)  # no metadata -> byte-identical reruns


def main():
    rng = np.random.default_rng(SEED)

    # lfw_subset(): (200, 25, 25) floats in [0, 1]; first 100 are faces,
    # last 100 are non-faces (see the function's docstring in skimage).
    images = np.round(data.lfw_subset() * 255).astype(np.uint8)
    assert images.shape == (200, 25, 25)
    assert len({im.tobytes() for im in images}) == 200, "unexpected duplicates"

    # 1. Seeded 80/20 split per class: records of (split, folder, image index).
    records = []
    for c, indices in enumerate([range(0, 100), range(100, 200)]):
        order = rng.permutation(list(indices))
        records += [["train", CLASSES[c], int(i)] for i in order[:N_TRAIN]]
        records += [["valid", CLASSES[c], int(i)] for i in order[N_TRAIN:]]

    # 2. Fault (i): move a few train images into the other class's folder.
    train_faces = [r for r in records if r[0] == "train" and r[1] == "face"]
    train_other = [r for r in records if r[0] == "train" and r[1] == "not_face"]
    misfiled = [train_faces[k] for k in rng.choice(len(train_faces), N_MISFILED_FACES, replace=False)]
    misfiled += [train_other[k] for k in rng.choice(len(train_other), N_MISFILED_NONFACES, replace=False)]
    for r in misfiled:
        r[1] = "not_face" if r[1] == "face" else "face"

    # 3. Fault (ii): copy a few correctly filed train images into valid/.
    clean_train = [r for r in records if r[0] == "train" and r not in misfiled]
    leaked = [clean_train[k] for k in rng.choice(len(clean_train), N_LEAKED, replace=False)]
    copies = [["valid", r[1], r[2]] for r in leaked]
    records += copies

    # 4. Neutral names: one seeded shuffled numbering over all files.
    numbers = rng.permutation(len(records))
    for r, n in zip(records, numbers):
        r.append(f"{r[0]}/{r[1]}/img_{n:04d}.png")  # r = [split, folder, index, path]

    # 5. Write everything from scratch.
    shutil.rmtree(FACES, ignore_errors=True)
    for _, _, i, path in records:
        save_png(images[i], FACES / path)

    shutil.rmtree(PHOTOS, ignore_errors=True)
    astronaut = Image.fromarray(data.astronaut()).resize((256, 256), Image.Resampling.LANCZOS)
    PHOTOS.mkdir(parents=True)
    astronaut.save(PHOTO)

    key = {
        "mislabeled": sorted(r[3] for r in misfiled),
        "leaked": sorted(r[3] for r in copies),
        "leaked_pairs": sorted([t[3], v[3]] for t, v in zip(leaked, copies)),
    }
    KEY.parent.mkdir(parents=True, exist_ok=True)
    KEY.write_text(json.dumps(key, indent=2) + "\n")

    for split in ["train", "valid"]:
        for c in CLASSES:
            n = len(list((FACES / split / c).glob("*.png")))
            print(f"faces/{split}/{c}: {n} images")
    print(f"photos/astronaut.png: {astronaut.size} {astronaut.mode}")
    print(f"answer key: {KEY.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
