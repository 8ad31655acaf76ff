"""The real TensorBoard over the logs the reference lessons write (the session's ``demo_runs``).

Through the HTTP API its web page uses, TensorBoard serves exactly what the event files hold — every run,
tag and step, each image byte for byte — and each lesson's logs show what the lesson teaches. Then the
page itself, in headless Chromium, shows every lesson's image tags and its graphs. One server for the module.
"""
import json

import numpy as np
import pytest
from google.protobuf import text_format
from tensorboard.compat.proto.graph_pb2 import GraphDef

from tbcourse.authoring import screenshots
from tbcourse.authoring.tensorboard_server import fetch, run_names, serve
from tbcourse.kit.events import accumulator, decode_png
from tbcourse.kit.paths import latest_run
from tbcourse.settings import ROOT, lesson_names

LESSONS = lesson_names()


@pytest.fixture(scope="module")
def board(demo_runs):
    """The URL of a TensorBoard that has loaded every run; stopped after the module."""
    with serve(demo_runs) as url:
        yield url


@pytest.fixture(scope="module")
def logged(demo_runs):
    """run name (as TensorBoard names it) -> the EventAccumulator of its event files."""
    return {run: accumulator(demo_runs / run) for run in sorted(run_names(demo_runs))}


def api(url, path, **query):
    return json.loads(fetch(url, path, **query))


def of_lesson(logged, lesson, kind):
    """The runs of one lesson that hold ``kind`` ("images", "scalars", "histograms", "graph")."""
    return {run: acc for run, acc in logged.items() if run.split("/")[0] == lesson and acc.Tags()[kind]}


def served_images(url, run, tag) -> dict[int, np.ndarray]:
    """step -> pixels of every image the server has for (run, tag), fetched as the page fetches them."""
    return {item["step"]: decode_png(fetch(url, "/data/plugin/images/individualImage?" + item["query"]))
            for item in api(url, "/data/plugin/images/images", run=run, tag=tag)}


def lesson_run(demo_runs, lesson):
    """The run TensorBoard lists for the lesson's one run, ``<lesson>/<date>_<time>``."""
    return latest_run(demo_runs / lesson).relative_to(demo_runs).as_posix()


def written(lesson):
    if not (ROOT / "solutions" / f"{lesson}.py").exists():
        pytest.skip(f"solutions/{lesson}.py is not written yet")


# --- everything logged is served -------------------------------------------------------------------------

def test_every_run_of_every_lesson_is_listed(board, logged):
    served = api(board, "/data/runs")
    assert sorted(served) == list(logged), f"TensorBoard lists {sorted(served)}; the event files are in {list(logged)}"
    silent = [lesson for lesson in LESSONS if not any(run.split("/")[0] == lesson for run in served)]
    assert not silent, f"no run listed for {silent}"


@pytest.mark.parametrize("plugin", ["images", "scalars", "histograms"])
def test_every_tag_is_listed(board, logged, plugin):
    served = {run: sorted(tags) for run, tags in api(board, f"/data/plugin/{plugin}/tags").items()}
    expected = {run: sorted(acc.Tags()[plugin]) for run, acc in logged.items() if acc.Tags()[plugin]}
    assert served == expected, f"{plugin} tags served {served}, logged {expected}"


def with_images(logged):
    runs = {run: acc for run, acc in logged.items() if acc.Tags()["images"]}
    assert runs, "no lesson logs an image"
    return runs


def test_every_image_step_is_served_byte_for_byte(board, logged):
    for run, acc in with_images(logged).items():
        for tag in acc.Tags()["images"]:
            events, served = acc.Images(tag), api(board, "/data/plugin/images/images", run=run, tag=tag)
            assert [s["step"] for s in served] == [e.step for e in events], \
                f"{run} {tag!r}: steps served {[s['step'] for s in served]}, logged {[e.step for e in events]}"
            for item, event in zip(served, events):
                png = fetch(board, "/data/plugin/images/individualImage?" + item["query"])
                assert png == event.encoded_image_string, \
                    f"{run} {tag!r} step {event.step}: the served PNG is not the logged one"


def test_scalars_are_served_as_logged(board, logged):
    for run, acc in logged.items():
        for tag in acc.Tags()["scalars"]:
            served = api(board, "/data/plugin/scalars/scalars", run=run, tag=tag)
            expected = [[e.step, pytest.approx(e.value, rel=1e-6)] for e in acc.Scalars(tag)]
            assert [[step, value] for _, step, value in served] == expected, f"{run} {tag!r}: served {served}"


def test_histograms_are_served_as_logged(board, logged):
    """TensorBoard serves [left, right, count] buckets: the logged buckets without the empty ones at either end,
    the first starting at min and the last ending at max."""
    for run, acc in logged.items():
        for tag in acc.Tags()["histograms"]:
            served = api(board, "/data/plugin/histograms/histograms", run=run, tag=tag)
            events = acc.Histograms(tag)
            assert [s[1] for s in served] == [e.step for e in events], f"{run} {tag!r}: steps served vs logged"
            for (_, step, buckets), event in zip(served, events):
                h = event.histogram_value
                full = np.flatnonzero(h.bucket)
                first, last = full[0], full[-1]
                edges = [h.min, *h.bucket_limit[first:last], h.max]
                assert [b[2] for b in buckets] == list(h.bucket[first:last + 1]), f"{run} {tag!r} step {step}: counts"
                assert [b[0] for b in buckets] + [buckets[-1][1]] == pytest.approx(edges, rel=1e-6), \
                    f"{run} {tag!r} step {step}: bucket edges"


def test_graphs_are_served_as_logged(board, logged):
    runs = {run: acc for run, acc in logged.items() if acc.Tags()["graph"]}
    if not runs:
        pytest.skip("no lesson logs a graph yet (05_add_graph)")
    info = api(board, "/data/plugin/graphs/info")
    assert {run for run, item in info.items() if item["run_graph"]} == set(runs), f"graph runs served: {sorted(info)}"
    for run, acc in runs.items():
        served = text_format.Parse(fetch(board, "/data/plugin/graphs/graph", run=run).decode(), GraphDef())
        nodes = [[(n.name, n.op, list(n.input)) for n in graph.node] for graph in (served, acc.Graph())]
        assert nodes[0] == nodes[1], f"{run}: the served graph is not the logged one"


# --- and shows what each lesson teaches -------------------------------------------------------------------

def test_00_weight_and_gradient_histograms_and_loss(board, logged):
    written("00_gradient_histograms")
    runs = of_lesson(logged, "00_gradient_histograms", "histograms")
    tags = {run: set(api(board, "/data/plugin/histograms/tags")[run]) for run in runs}
    lenet = [run for run, served in tags.items() if {"conv1.weight_grad", "fc3.weight_data"} <= served]
    assert lenet, f"no lesson-00 run serves the original course's tags conv1.weight_grad and fc3.weight_data: {tags}"
    steps = [s[1] for s in api(board, "/data/plugin/histograms/histograms", run=lenet[0], tag="fc3.weight_grad")]
    assert len(steps) > 1, f"{lenet[0]}: fc3.weight_grad served at one step only: {steps}"
    scalars = api(board, "/data/plugin/scalars/tags").get(lenet[0], {})
    assert any(tag.startswith("loss") for tag in scalars), f"{lenet[0]}: no loss scalar served, only {sorted(scalars)}"


def test_01_ones_times_1_1_is_white(board, demo_runs):
    written("01_add_image")
    steps = served_images(board, lesson_run(demo_runs, "01_add_image"), "fake_img")
    assert sorted(steps) == [1, 2, 3, 4, 5], f"fake_img steps served: {sorted(steps)}"
    assert all(px.shape == (512, 512, 3) for px in steps.values()), {s: px.shape for s, px in steps.items()}
    assert (steps[2] == 255).all() and (steps[3] == 255).all(), "ones and ones * 1.1 are both shown white"
    assert (steps[4] == steps[4][..., :1]).all(), "an HW image is shown as 3 equal channels"


def test_02_nrow_is_images_per_row_and_pad_value_1_is_white(board, demo_runs):
    written("02_make_grid")
    grid = {tag: served_images(board, lesson_run(demo_runs, "02_make_grid"), f"make_grid/{tag}")[0]
            for tag in ("default", "nrow_4", "padding_8_pad_value_1")}
    cell = (grid["default"].shape[1] - 2) // 8  # nrow=8 by default: 8 cells of image + padding 2, and 2 more
    assert grid["nrow_4"].shape[1] == 4 * cell + 2, \
        f"nrow=4 puts 4 images per row: width {4 * cell + 2} expected, {grid['nrow_4'].shape[1]} came"
    assert (grid["padding_8_pad_value_1"][:8] == 255).all(), "padding=8, pad_value=1.0 is an 8-pixel white border"


def test_03_every_kernel_step_is_kept(board, demo_runs):
    written("03_alexnet_kernels")
    run = lesson_run(demo_runs, "03_alexnet_kernels")
    split = served_images(board, run, "0_Convlayer_split_in_channel")
    assert sorted(split) == list(range(64)), \
        f"conv1's 64 out-channels at steps 0..63 (TensorBoard keeps 10 unless told), served: {sorted(split)}"
    assert list(served_images(board, run, "0_all")) == [322], "0_all at step 322"


def test_04_conv1_feature_maps_grid(board, demo_runs):
    written("04_feature_maps")
    maps = served_images(board, lesson_run(demo_runs, "04_feature_maps"), "feature map in conv1")
    assert list(maps) == [322], f"feature map in conv1 at step 322, served at {list(maps)}"
    assert maps[322].shape == (458, 458, 3), f"64 maps of 55x55, 8 per row, padding 2: 458x458, got {maps[322].shape}"
    assert (maps[322] == maps[322][..., :1]).all(), "one-channel maps are shown gray"


def test_05_lenet_graph(board, logged):
    written("05_add_graph")
    runs = of_lesson(logged, "05_add_graph", "graph")
    graphs = {run: fetch(board, "/data/plugin/graphs/graph", run=run).decode() for run in runs}
    layers = [f"LeNet/{m}/" for m in ("Conv2d[conv1]", "Conv2d[conv2]", "Linear[fc1]", "Linear[fc2]", "Linear[fc3]")]
    assert any(all(f'name: "{layer}' in graph for layer in layers) for graph in graphs.values()), \
        f"no served graph of {sorted(graphs)} has LeNet's five layers {layers}"


# --- the page itself ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def page():
    if lacks := screenshots.missing():
        pytest.skip(f"TensorBoard's page not checked, this machine lacks {lacks}")
    with screenshots.browser() as driver:
        yield driver


def test_page_shows_every_image_tag(board, logged, page, tmp_path):
    for run, acc in with_images(logged).items():
        tags = acc.Tags()["images"]
        cards = {card["tag"]: card for card in screenshots.image_cards(page, board, run, tags) if card["run"] == run}
        screenshots.save(page, tmp_path / f"{run.replace('/', '_')}.png")
        for tag in tags:
            last = acc.Images(tag)[-1]
            assert tag in cards, f"the images dashboard shows no card {tag!r} for {run}; it shows {sorted(cards)}"
            assert cards[tag]["text"].startswith(f"{tag} {run} step {last.step}"), \
                f"card {tag!r} of {run} should read '{tag} {run} step {last.step}', reads {cards[tag]['text']!r}"
            assert cards[tag]["size"] == [last.width, last.height], \
                f"{run} {tag!r}: the page's image is {cards[tag]['size']}, the logged one {last.width}x{last.height}"


def test_page_shows_every_graph(board, logged, page, tmp_path):
    runs = {run: acc.Graph() for run, acc in logged.items() if acc.Tags()["graph"]}
    if not runs:
        pytest.skip("no lesson logs a graph yet (05_add_graph)")
    for run, graph in runs.items():
        scope = screenshots.model_scope(graph)
        nodes = screenshots.graph_nodes(page, board, run, expand=scope)
        screenshots.save(page, tmp_path / f"{run.replace('/', '_')}.png")
        modules = {"/".join(n.name.split("/")[:2]) for n in graph.node
                   if n.name.startswith(f"{scope}/") and n.name.count("/") > 1}  # LeNet/Conv2d[conv1], ...
        assert modules <= set(nodes), f"{run}: expanding {scope} shows {nodes}, missing {sorted(modules - set(nodes))}"
