"""Read back what TensorBoard stored, with tensorboard's own EventAccumulator."""
import io

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import (
    STORE_EVERYTHING_SIZE_GUIDANCE,
    EventAccumulator,
)


def accumulator(logdir) -> EventAccumulator:
    """Every event of every event file under ``logdir``, no sample dropped (size_guidance 0)."""
    acc = EventAccumulator(str(logdir), size_guidance=STORE_EVERYTHING_SIZE_GUIDANCE)
    acc.Reload()
    return acc


MAX_PIXELS = 2**22  # far beyond any image a lesson logs (a 2048 x 2048 grid): a larger one is refused undecoded


def decode_png(encoded: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """An image event's PNG as a uint8 array, (H, W, 3) for RGB or (H, W, 4) for RGBA. Its size is read from
    its header first: a small file can say it holds a huge image, which is refused before it is decoded."""
    image = Image.open(io.BytesIO(encoded))  # reads the header only
    if image.width * image.height > max_pixels:
        raise ValueError(f"an image of {image.width} x {image.height} pixels, far larger than any this "
                         f"course logs (at most {max_pixels} pixels)")
    return np.asarray(image)


def images(logdir, tag) -> dict[int, np.ndarray]:
    """step -> decoded pixels, for one image tag."""
    return {event.step: decode_png(event.encoded_image_string) for event in accumulator(logdir).Images(tag)}


def scalars(logdir, tag) -> dict[int, float]:
    """step -> value, for one scalar tag."""
    return {event.step: event.value for event in accumulator(logdir).Scalars(tag)}


def histograms(logdir, tag) -> dict:
    """step -> HistogramValue (min, max, num, sum, sum_squares, bucket_limit, bucket), for one histogram tag."""
    return {event.step: event.histogram_value for event in accumulator(logdir).Histograms(tag)}


def graph(logdir):
    """The GraphDef that add_graph stored (the last one, if several); ValueError when there is none."""
    return accumulator(logdir).Graph()
