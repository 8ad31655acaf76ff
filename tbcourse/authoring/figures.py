"""`make figures`: what the lessons log, drawn from their event files into docs/figures/ (Pillow only).

    python -m tbcourse.authoring.figures               # runs every reference lesson into a temporary folder first
    python -m tbcourse.authoring.figures --runs runs   # draws from the latest run of each lesson already there

The lessons run as `make check` runs them (COURSE_OFFLINE=1), so the figures match what CI checks.
A lesson without logs is skipped with a message. With Chromium, the figures also get screenshots of
the real TensorBoard page (tbcourse.authoring.screenshots).
"""
import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tbcourse.authoring.demos import run_all
from tbcourse.authoring.tensorboard_server import run_names
from tbcourse.kit.events import accumulator, decode_png
from tbcourse.kit.paths import latest_run
from tbcourse.settings import ROOT

OUT = ROOT / "docs" / "figures"
FONT = ImageFont.load_default()
INK, PAD, CAPTION = (40, 40, 40), 8, 14
FRAME = (170, 170, 170)  # around each panel, so that a white image still shows


@dataclass
class Panel:
    image: Image.Image
    caption: str
    unseeded: bool = False  # unseeded random numbers, or training: not the same pixels on every run


def compose(panels: list[Panel], columns: int, scale: int = 1) -> tuple[Image.Image, list[tuple]]:
    """Panels on a white grid, each captioned, enlarged ``scale`` times (nearest pixel, so pixels stay
    pixels); also the boxes of the unseeded panels."""
    images = [p.image.resize((p.image.width * scale, p.image.height * scale), Image.Resampling.NEAREST) for p in panels]
    cell_w, cell_h = max(i.width for i in images) + PAD, max(i.height for i in images) + CAPTION + PAD
    rows = -(-len(panels) // columns)
    sheet = Image.new("RGB", (columns * cell_w + PAD, rows * cell_h + PAD), "white")
    draw, boxes = ImageDraw.Draw(sheet), []
    for k, (panel, image) in enumerate(zip(panels, images)):
        x, y = PAD + (k % columns) * cell_w, PAD + (k // columns) * cell_h
        draw.text((x, y), panel.caption, fill=INK, font=FONT)
        sheet.paste(image.convert("RGB"), (x, y + CAPTION))
        draw.rectangle((x - 1, y + CAPTION - 1, x + image.width, y + CAPTION + image.height), outline=FRAME)
        if panel.unseeded:
            boxes.append((x, y + CAPTION, x + image.width, y + CAPTION + image.height))
    return sheet, boxes


def image(acc, tag, step=None) -> Image.Image:
    """One logged image (the last step unless ``step``), as TensorBoard stored it."""
    events = {e.step: e for e in acc.Images(tag)}
    return Image.fromarray(decode_png(events[max(events) if step is None else step].encoded_image_string))


def add_image_steps(runs: Path):
    """Lesson 01: the notes' five add_image steps side by side (1, 4 and 5 are unseeded noise)."""
    acc = accumulator(latest_run(runs / "01_add_image"))
    calls = {1: "randn", 2: "ones", 3: "ones * 1.1", 4: "rand, HW", 5: "rand, HWC"}
    panels = [Panel(image(acc, "fake_img", e.step).resize((112, 112), Image.Resampling.NEAREST),
                    f"step {e.step}: {calls.get(e.step, '')}", unseeded=e.step in (1, 4, 5))
              for e in acc.Images("fake_img")]
    return compose(panels, columns=len(panels))


def make_grid_options(runs: Path):
    """Lesson 02: the same batch through each make_grid option, at TensorBoard's pixel size."""
    acc = accumulator(latest_run(runs / "02_make_grid"))
    tags = [t for t in acc.Tags()["images"] if t == "input img" or t.startswith("make_grid/")]
    return compose([Panel(image(acc, t), t) for t in tags], columns=3)


def conv1_kernels(runs: Path):
    """Lesson 03: conv1's 64 kernels as RGB, and out-channel 0's three in-channels, enlarged 4x."""
    acc = accumulator(latest_run(runs / "03_alexnet_kernels"))
    return compose([Panel(image(acc, "0_all"), "0_all: conv1, every kernel as RGB"),
                    Panel(image(acc, "0_Convlayer_split_in_channel", 0), "split in-channels, out-channel 0")],
                   columns=2, scale=4)


def conv1_feature_maps(runs: Path):
    """Lesson 04: conv1's 64 feature maps of the photo, as TensorBoard shows them."""
    acc = accumulator(latest_run(runs / "04_feature_maps"))
    return compose([Panel(image(acc, "feature map in conv1"), "feature map in conv1")], columns=1)


def gradient_histograms(runs: Path):
    """Lesson 00's latest run and its subfolders: the first and the last layer's weight-gradient histograms of each.
    They come from training, whose last bits depend on the processor: compared by size only."""
    lesson, panels = "00_gradient_histograms", []
    latest = latest_run(runs / lesson)
    for run in sorted(run_names(latest)):
        acc = accumulator(latest / run)
        grads = [t for t in acc.Tags()["histograms"] if t.endswith("weight_grad")]
        panels += [Panel(ridgeline([e.histogram_value for e in acc.Histograms(t)]), f"{Path(lesson, run)}: {t}",
                         unseeded=True) for t in (grads[0], grads[-1]) if grads]
    return compose(panels, columns=2)


def ridgeline(histograms, width: int = 320, height: int = 180, bins: int = 60) -> Image.Image:
    """TensorBoard's offset histogram view: one curve per step, the first at the back (top), later ones
    in front and darker. Counts are spread evenly over each logged bucket and re-binned to ``bins``
    equal widths over the range of all steps, as TensorBoard's page does."""
    lo, hi = min(h.min for h in histograms), max(h.max for h in histograms)
    hi = hi if hi > lo else lo + 1
    edges = np.linspace(lo, hi, bins + 1)
    curves = []
    for h in histograms:
        counts = np.asarray(h.bucket, dtype=float)
        limits = np.clip(np.asarray(h.bucket_limit, dtype=float), h.min, h.max)
        bucket_edges = np.concatenate([[h.min], limits])
        curves.append(np.diff(np.interp(edges, bucket_edges, np.concatenate([[0], np.cumsum(counts)]))))
    top, bottom, n = 10, height - 16, len(curves)
    step_gap = (bottom - top) * 0.6 / (n - 1) if n > 1 else 0
    peak = (bottom - top) - (n - 1) * step_gap  # the tallest bar of any step, in pixels
    amplitude = peak / max(max(c.max() for c in curves), 1e-12)
    xs = np.linspace(4, width - 4, bins)
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    for k, curve in enumerate(curves):
        base = top + peak + k * step_gap
        shade = int(230 - 170 * k / max(n - 1, 1))
        points = [(xs[0], base), *zip(xs, base - curve * amplitude), (xs[-1], base)]
        draw.polygon(points, fill=(255, shade, shade // 3), outline=(120, 60, 0))
    draw.text((4, height - 12), f"{lo:.2g}", fill=INK, font=FONT)
    draw.text((width - 4, height - 12), f"{hi:.2g}", fill=INK, font=FONT, anchor="ra")
    draw.text((width // 2, height - 12), f"{n} steps, the first at the back" if n > 1 else "1 step", fill=INK,
              font=FONT, anchor="ma")
    return sheet


# figure file -> (the lesson whose logs it draws, how)
FIGURES = {
    "00_gradient_histograms.png": ("00_gradient_histograms", gradient_histograms),
    "01_add_image.png": ("01_add_image", add_image_steps),
    "02_make_grid.png": ("02_make_grid", make_grid_options),
    "03_conv1_kernels.png": ("03_alexnet_kernels", conv1_kernels),
    "04_conv1_feature_maps.png": ("04_feature_maps", conv1_feature_maps),
}


def render(runs: Path, say=print) -> dict[str, tuple[Image.Image, list[tuple]]]:
    """figure file -> (image, boxes of unseeded panels), for every lesson that has logs under ``runs``."""
    drawn = {}
    for name, (lesson, draw) in FIGURES.items():
        if (runs / lesson).is_dir():
            drawn[name] = draw(runs)
        else:
            say(f"skipped {name}: no logs in {runs / lesson} (is solutions/{lesson}.py written yet?)")
    return drawn


def save(figure: Image.Image, path: Path) -> None:
    """A PNG, one channel when the figure has no colour (a third of the size)."""
    pixels = np.asarray(figure)
    gray = (pixels == pixels[..., :1]).all()
    (figure.convert("L") if gray else figure).save(path, optimize=True)


def run_lessons(runs: Path, cwd: Path) -> None:
    """Every reference lesson as a script, logging under ``runs``, exactly as make check runs them."""
    for lesson, done in run_all(runs, cwd).items():
        if done.returncode:
            sys.exit(f"solutions/{lesson}.py failed:\n{done.stderr[-2000:]}")
        print(f"ran solutions/{lesson}.py")


def take_screenshots(runs: Path, out: Path) -> None:
    """The images dashboard on lesson 02's latest run, and the graphs dashboard on a LeNet graph (else the smallest
    graph)."""
    from tbcourse.authoring import screenshots
    from tbcourse.authoring.tensorboard_server import serve

    if lacks := screenshots.missing():
        print(f"skipped the TensorBoard screenshots: missing {lacks}")
        return
    logged = {run: accumulator(runs / run) for run in run_names(runs)}
    graphs = {run: acc.Graph() for run, acc in logged.items() if acc.Tags()["graph"]}
    with serve(runs) as url, screenshots.browser() as driver:
        if (runs / "02_make_grid").is_dir():
            run = latest_run(runs / "02_make_grid").relative_to(runs).as_posix()
            screenshots.image_cards(driver, url, run, logged[run].Tags()["images"])
            screenshots.save(driver, out / "tensorboard_images.png")
        else:
            print("skipped tensorboard_images.png: no logs of 02_make_grid")
        if graphs:
            scopes = {run: screenshots.model_scope(graph) for run, graph in graphs.items()}
            run = min(graphs, key=lambda run: (scopes[run] != "LeNet", len(graphs[run].node)))
            screenshots.graph_nodes(driver, url, run, scopes[run])
            screenshots.save(driver, out / "tensorboard_graph.png")
        else:
            print("skipped tensorboard_graph.png: no lesson logs a graph")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, help="draw from these logs instead of running the lessons first")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--no-screenshots", action="store_true")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        runs = args.runs or Path(scratch) / "runs"
        if not args.runs:
            run_lessons(runs, cwd=Path(scratch))
        for name, (figure, _) in render(runs).items():
            save(figure, args.out / name)
            print(f"wrote {args.out / name} ({figure.width}x{figure.height})")
        if not args.no_screenshots:
            take_screenshots(runs, args.out)


if __name__ == "__main__":
    main()
