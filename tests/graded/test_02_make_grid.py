"""Lesson 02: make_grid. Expectations come from torchvision's make_grid, a batch put together here from
the documented rules of ImageFolder, Resize and the shuffling DataLoader, real event files decoded with Pillow,
and for 02.3 images made from the answer chosen first (the hidden checks compare with make_grid itself).
02.6's findings are checked here for their form only; their content is a hidden check."""

import numpy as np
import pytest
import torch
import torchvision.transforms.functional as TF
from PIL import Image
from torch.utils.tensorboard import SummaryWriter
from torchvision.transforms import InterpolationMode
from torchvision.utils import make_grid

from tbcourse.grading.student import StudentLesson
from tbcourse.i18n import _
from tbcourse.kit.events import accumulator, images
from tbcourse.settings import FACES

lesson = StudentLesson("02_make_grid")

GRID_OPTIONS = {
    "input img": dict(nrow=4, normalize=True, scale_each=True),
    "make_grid/default": dict(),
    "make_grid/nrow_4": dict(nrow=4),
    "make_grid/padding_8_pad_value_1": dict(padding=8, pad_value=1.0),
    "make_grid/normalize": dict(normalize=True),
    "make_grid/value_range": dict(normalize=True, value_range=(0.2, 0.8)),
}


def generator(rng):
    return torch.Generator().manual_seed(rng.randrange(2**31))


def spread_batch(rng, n, c, h, w):
    """Random images, each with its own offset and scale, so batch-wide and per-image scaling differ."""
    gen = generator(rng)
    base = torch.rand(n, c, h, w, generator=gen)
    scale = torch.empty(n, 1, 1, 1).uniform_(0.2, 3.0, generator=gen)
    offset = torch.empty(n, 1, 1, 1).uniform_(-1.0, 1.0, generator=gen)
    return base * scale + offset


# 02.1 --------------------------------------------------------------------------------------------

def check_grid_shape(n, c, h, w, nrow, padding):
    want = tuple(make_grid(torch.zeros(n, c, h, w), nrow=nrow, padding=padding).shape)
    got = lesson.grid_shape(n, c, h, w, nrow=nrow, padding=padding)
    case = f"grid_shape(n={n}, c={c}, h={h}, w={w}, nrow={nrow}, padding={padding})"
    assert isinstance(got, tuple), _("{case}: expected a tuple, got {got_type}").format(case=case,
                                       got_type=type(got).__name__)
    assert tuple(got) == want, _("{case}: make_grid returns shape {want}, you returned {got}").format(case=case,
                                   want=want, got=tuple(got))


@pytest.mark.exercise("02.1", points=2)
@pytest.mark.parametrize("case", range(16))
def test_grid_shape_matches_make_grid(rng, case):
    n = rng.randint(2, 40)
    if case % 4 == 0:  # more columns asked for than there are images
        nrow = n + rng.randint(1, 5)
    elif case % 4 == 1:  # a last row that is not full
        n = rng.randint(5, 40)
        nrow = rng.choice([k for k in range(2, n) if n % k])
    else:
        nrow = rng.randint(1, n)
    check_grid_shape(n, rng.choice([2, 3, 4]), rng.randint(1, 30), rng.randint(1, 30), nrow, rng.randint(0, 6))


@pytest.mark.exercise("02.1", points=1)
@pytest.mark.parametrize("n, c", [(1, 3), (1, 1), (None, 1), (1, None)])
def test_grid_shape_single_image_and_grey(rng, n, c):
    """make_grid turns 1 channel into 3, and returns a batch of one image unpadded."""
    n = n or rng.randint(2, 20)
    c = c or rng.choice([1, 3, 4])
    check_grid_shape(n, c, rng.randint(1, 30), rng.randint(1, 30), rng.randint(1, 10), rng.randint(1, 6))


# 02.2 --------------------------------------------------------------------------------------------

def random_image_folder(root, rng):
    """2 or 3 classes of random PNGs of random sizes, RGB and grey mixed; returns the number of files."""
    count = 0
    for k in range(rng.randint(2, 3)):
        folder = root / f"class_{k}_{rng.randrange(1000)}"
        folder.mkdir(parents=True)
        for i in range(rng.randint(6, 12)):
            h, w = rng.randint(8, 40), rng.randint(8, 40)
            pixels = np.random.default_rng(rng.randrange(2**31)).integers(0, 256, (h, w, 3), dtype=np.uint8)
            picture = Image.fromarray(pixels)
            (picture if rng.random() < 0.5 else picture.convert("L")).save(folder / f"{i:03d}.png")
            count += 1
    return count


def rgb_picture(path):
    """ImageFolder's default loader: the file opened with Pillow, converted to RGB."""
    with Image.open(path) as stored:
        return stored.convert("RGB")


def reference_batch(root, batch_size, size, seed):
    """((images, labels), number of classes) of load_batch's first batch, from the libraries' documented rules
    rather than the classes themselves. ImageFolder: the classes are the subfolders in sorted order, the samples
    each class's files in sorted order. Resize((h, w)): bilinear and antialiased, its defaults, then ToTensor.
    The shuffling DataLoader: starting an iteration draws one int64 from its generator (the workers' base seed,
    torch/utils/data/dataloader.py), then RandomSampler takes torch.randperm(n, generator=...) (sampler.py)."""
    classes = sorted(folder.name for folder in root.iterdir() if folder.is_dir())
    samples = [(root / name / file, label) for label, name in enumerate(classes)
               for file in sorted(path.name for path in (root / name).iterdir())]
    shuffle = torch.Generator().manual_seed(seed)
    torch.empty((), dtype=torch.int64).random_(generator=shuffle)  # the base seed, drawn before the order
    first = [samples[i] for i in torch.randperm(len(samples), generator=shuffle)[:batch_size].tolist()]
    pictures = [TF.to_tensor(TF.resize(rgb_picture(path), list(size), InterpolationMode.BILINEAR, antialias=True))
                for path, _unused in first]
    return (torch.stack(pictures), torch.tensor([label for _unused, label in first])), len(classes)


@pytest.mark.exercise("02.2", points=3)
@pytest.mark.parametrize("case", range(3))
def test_load_batch_is_the_seeded_first_batch(tmp_path, rng, case):
    root = tmp_path / "data"
    files = random_image_folder(root, rng)
    batch_size, size, seed = rng.randint(3, 9), (rng.randint(8, 24), rng.randint(8, 24)), rng.randrange(10**6)
    (want_images, want_labels), classes = reference_batch(root, batch_size, size, seed)
    call = f"load_batch(root, batch_size={batch_size}, size={size}, seed={seed})"

    got = lesson.load_batch(root, batch_size=batch_size, size=size, seed=seed)
    assert isinstance(got, (tuple, list)) and len(got) == 2, _("{call}: expected (images, labels), got "
                                                               "{got_type}").format(call=call,
                                                                 got_type=type(got).__name__)
    got_images, got_labels = got
    assert isinstance(got_images, torch.Tensor) and isinstance(got_labels, torch.Tensor), \
        _("{call}: expected two tensors, got {got_images_type} and {got_labels_type}").format(call=call,
            got_images_type=type(got_images).__name__, got_labels_type=type(got_labels).__name__)
    want_shape = (min(batch_size, files), 3, *size)
    assert tuple(got_images.shape) == want_shape, \
        _("{call}: expected images of shape {want_shape} (RGB, resized to {size}), got {got_images_shape}").format(
            call=call, want_shape=want_shape, size=size, got_images_shape=tuple(got_images.shape))
    assert got_images.dtype == torch.float32, _("{call}: expected float32 images (ToTensor), got "
                                                "{got_images_dtype}").format(call=call,
                                                  got_images_dtype=got_images.dtype)
    assert got_images.min() >= 0 and got_images.max() <= 1, \
        _("{call}: ToTensor gives values in [0, 1], got [{got_images_min:.3f}, {got_images_max:.3f}]").format(call=call,
            got_images_min=got_images.min(), got_images_max=got_images.max())
    assert tuple(got_labels.shape) == (want_shape[0],), \
        _("{call}: expected {want_shape_0} labels, got shape {got_labels_shape}").format(call=call,
            want_shape_0=want_shape[0], got_labels_shape=tuple(got_labels.shape))
    assert set(got_labels.tolist()) <= set(range(classes)), \
        _("{call}: labels must be class indices 0..{last_class}, got {labels}").format(call=call,
            last_class=classes - 1, labels=sorted(set(got_labels.tolist())))

    torch.manual_seed(rng.randrange(2**31))  # the order must not depend on the global random state
    again_images, again_labels = lesson.load_batch(root, batch_size=batch_size, size=size, seed=seed)
    assert torch.equal(again_images, got_images) and torch.equal(again_labels, got_labels), \
        _("{call}: a second call with the same seed gave a different batch").format(call=call)
    assert torch.equal(got_labels, want_labels), \
        _("{call}: the first batch of a DataLoader shuffled by its own generator seeded with seed has labels "
          "{want_labels}, yours {got_labels}").format(call=call, want_labels=want_labels.tolist(),
            got_labels=got_labels.tolist())
    assert torch.equal(got_images, want_images), \
        _("{call}: the labels match the seeded DataLoader's first batch, the images do not (largest difference "
          "{largest:.4f}): resized to size, then ToTensor?").format(call=call,
            largest=(got_images - want_images).abs().max())


# 02.3 --------------------------------------------------------------------------------------------

def normalize_case(rng, kind, c=3):
    """(image, value_range, what normalize_image returns for it). The answer is chosen first, as positions in the
    interval (0 at low, 1 at high, beyond it outside), and the image made from it: nothing here normalizes."""
    gen = generator(rng)
    shape = (c, rng.randint(2, 16), rng.randint(2, 16))
    if kind == "constant":
        return torch.full(shape, rng.uniform(-5, 5)), None, torch.zeros(shape)
    if kind == "notes":  # the notes' example: values over [-1000, 2000], window (-600, 500)
        low, span, value_range = -600.0, 1100.0, (-600, 500)
        where = torch.rand(shape, generator=gen, dtype=torch.float64) * 3000 / 1100 - 400 / 1100
    elif kind == "own range":  # the image's own min and max: a pixel at each end
        low, span, value_range = rng.uniform(-20, 20), rng.uniform(1, 60), None
        where = torch.rand(shape, generator=gen, dtype=torch.float64)
        first, last = rng.sample(range(where.numel()), 2)
        where.view(-1)[first], where.view(-1)[last] = 0.0, 1.0
    else:  # a window inside the values: some fall below or above it
        low, span = rng.uniform(-20, 20), rng.uniform(1, 60)
        value_range = (low, low + span)
        where = torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 0.5
    return (low + where * span).float(), value_range, where.clamp(0, 1).float()


@pytest.mark.exercise("02.3", points=3)
@pytest.mark.parametrize("kind, c", [("notes", 3), ("own range", 3), ("own range", 1), ("window", 3),
                                     ("window", 3), ("window", 1), ("constant", 3)])
def test_normalize_image_matches_make_grid(rng, kind, c):
    img, value_range, want = normalize_case(rng, kind, c)
    got = lesson.normalize_image(img.clone(), value_range)
    case = _("{kind}: image of shape {shape} over [{low:.3g}, {high:.3g}], value_range={value_range}").format(
        kind=kind, shape=tuple(img.shape), low=img.min(), high=img.max(), value_range=value_range)
    assert isinstance(got, torch.Tensor), _("{case}: expected a tensor, got {got_type}").format(case=case,
                                              got_type=type(got).__name__)
    assert tuple(got.shape) == tuple(img.shape), _("{case}: expected shape {img_shape}, got {got_shape}").format(
                                                     case=case, img_shape=tuple(img.shape), got_shape=tuple(got.shape))
    diff = (got.float() - want).abs()
    worst = int(diff.argmax())
    assert diff.max() <= 1e-5, (_("{case}: where the image holds {value:.4g}, make_grid gives {want_value:.4f}, you "
                                  "gave {got_value:.4f}").format(case=case, value=img.flatten()[worst].item(),
                                    want_value=want.flatten()[worst].item(), got_value=got.flatten()[worst].item()))


@pytest.mark.exercise("02.3", points=1)
@pytest.mark.parametrize("kind", ["notes", "own range", "window"])
def test_normalize_image_leaves_input_unchanged(rng, kind):
    img, value_range, _unused = normalize_case(rng, kind)
    before = img.clone()
    lesson.normalize_image(img, value_range)
    assert torch.equal(img, before), _("normalize_image changed its input ({kind}, value_range={value_range}): work "
                                       "on a copy, as make_grid does").format(kind=kind, value_range=value_range)


# 02.4 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("02.4", points=3)
@pytest.mark.parametrize("case", range(2))
def test_log_grid_options_matches_make_grid(writer, logdir, truth, rng, case):
    batch = spread_batch(rng, rng.randint(5, 12), rng.choice([1, 3]), rng.randint(6, 14), rng.randint(6, 14))
    with SummaryWriter(log_dir=str(truth)) as reference:  # where student code cannot read it
        for tag, options in GRID_OPTIONS.items():
            reference.add_image(tag, make_grid(batch.clone(), **options), 0)

    before = batch.clone()
    lesson.log_grid_options(writer, batch)
    assert writer.all_writers is not None, _("log_grid_options must leave the writer open (the caller closes it)")
    writer.flush()
    assert torch.equal(batch, before), _("log_grid_options changed the images it was given")
    logged = set(accumulator(logdir).Tags()["images"])
    missing = [tag for tag in GRID_OPTIONS if tag not in logged]
    assert not missing, _("expected image tags {grid_options}, missing {missing} (found {logged})").format(
                            grid_options=list(GRID_OPTIONS), missing=missing, logged=sorted(logged))
    for tag, options in GRID_OPTIONS.items():
        got, want = images(logdir, tag), images(truth, tag)[0]
        assert sorted(got) == [0], _("tag {tag!r}: expected one image at step 0, found steps {got}").format(tag=tag,
                                       got=sorted(got))
        got = got[0]
        case = _("tag {tag!r}, the grid of its row of the lesson's table").format(tag=tag)
        assert got.shape == want.shape, _("{case}: expected a {want_shape_1}x{want_shape_0} picture, yours is "
                                          "{got_shape_1}x{got_shape_0}").format(case=case, want_shape_1=want.shape[1],
                                            want_shape_0=want.shape[0], got_shape_1=got.shape[1],
                                            got_shape_0=got.shape[0])
        diff = np.abs(got.astype(int) - want.astype(int))
        worst = np.unravel_index(diff.argmax(), diff.shape)
        assert diff.max() <= 1, \
            _("{case}: at pixel {pixel} expected {want_worst}, yours is {got_worst}").format(case=case,
                pixel=tuple(map(int, worst)), want_worst=want[worst], got_worst=got[worst])


# 02.5 --------------------------------------------------------------------------------------------

def planted_batches(rng, kind):
    """Two random batches and the pairs planted in them."""
    gen = generator(rng)
    c, h, w = rng.choice([1, 3]), rng.randint(3, 10), rng.randint(3, 10)
    a = torch.rand(rng.randint(4, 20), c, h, w, generator=gen)
    b = torch.rand(rng.randint(4, 20), c, h, w, generator=gen)
    if kind == "uint8":
        a, b = (a * 255).to(torch.uint8), (b * 255).to(torch.uint8)
    if kind in ("float", "uint8", "repeats in a"):
        for _unused in range(rng.randint(1, 3)):
            i = rng.randrange(len(a))
            for j in rng.sample(range(len(b)), rng.randint(1, 2)):  # a[i] may be in b twice
                b[j] = a[i]
    if kind == "repeats in a":
        a[rng.randrange(len(a))] = b[rng.randrange(len(b))]
    if kind in ("float", "near only"):
        i, j = rng.randrange(len(a)), rng.randrange(len(b))
        b[j] = a[i]
        b[j].view(-1)[rng.randrange(b[j].numel())] += 1e-6  # near-equal is not equal
    planted = {(i, j) for i in range(len(a)) for j in range(len(b)) if torch.equal(a[i], b[j])}
    return a, b, sorted(planted)


@pytest.mark.exercise("02.5", points=3)
@pytest.mark.parametrize("kind", ["float", "float", "uint8", "repeats in a", "near only", "none"])
def test_find_duplicates_finds_exact_pairs(rng, kind):
    a, b, want = planted_batches(rng, kind)
    got = lesson.find_duplicates(a.clone(), b.clone())
    case = _("{kind}: a of shape {a_shape}, b of shape {b_shape}").format(kind=kind, a_shape=tuple(a.shape),
                                                                        b_shape=tuple(b.shape))
    assert isinstance(got, list), _("{case}: expected a list of (i, j) tuples, got {got_type}").format(case=case,
                                      got_type=type(got).__name__)
    assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in got), \
        _("{case}: expected a list of (i, j) tuples, got {got_3}").format(case=case, got_3=got[:3])
    got = [(int(i), int(j)) for i, j in got]
    assert got == want, _("{case}: the exactly equal pairs are {want}, you found {got}").format(case=case, want=want,
                            got=got)


# 02.6 --------------------------------------------------------------------------------------------

@pytest.mark.exercise("02.6", points=1)
def test_review_findings_are_paths_of_the_data():
    """The form of the findings only: which paths are right is for the hidden checks, which need the answer key
    (tests/hidden/, never shipped). Nothing here, not even a digest, holds the answer."""
    got = lesson.review_findings()
    assert isinstance(got, dict) and set(got) == {"mislabeled", "leaked"}, \
        _("expected a dict with the keys 'mislabeled' and 'leaked', got {got!r:.120}").format(got=got)
    for key, split in (("mislabeled", "train"), ("leaked", "valid")):
        found = got[key]
        assert isinstance(found, list) and found, _("{key}: expected a non-empty list of paths, got "
                                                    "{found!r:.120}").format(key=key, found=found)
        found = [str(path).replace("\\", "/") for path in found]
        missing = [path for path in found if path.startswith("/") or ".." in path or not (FACES / path).is_file()]
        assert not missing, _("{key}: {first_missing!r} is no file of the data set; paths are relative to its root, "
                              "like '{split}/face/img_0000.png'").format(key=key, first_missing=missing[0], split=split)
        elsewhere = [path for path in found if path.split("/")[0] != split]
        assert not elsewhere, _("{key}: {first_elsewhere!r} is not in {split}/, where the {key} images are").format(
                                  key=key, first_elsewhere=elsewhere[0], split=split)
        assert len(set(found)) == len(found), _("{key}: a path is listed twice").format(key=key)
        assert found == sorted(found), _("{key}: the list must be sorted, got {found}").format(key=key, found=found)
