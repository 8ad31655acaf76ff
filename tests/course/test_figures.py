"""docs/figures/ holds what `make figures` draws from the current reference lessons' logs.

The lessons' logs are reproducible except where a lesson draws unseeded random numbers (lesson 01's
steps 1, 4 and 5) or trains (lesson 00, whose last bits depend on the processor): those panels are
compared by size only, every other pixel exactly.
The screenshots of the TensorBoard page (tensorboard_*.png) are checked in test_tensorboard_served.py.
"""
import numpy as np
from PIL import Image

from tbcourse.authoring.figures import OUT, render


def test_figures_are_drawn_from_the_current_logs(demo_runs):
    drawn = render(demo_runs, say=lambda message: None)
    committed = sorted(p.name for p in OUT.glob("*.png") if not p.name.startswith("tensorboard_"))
    assert committed == sorted(drawn), \
        f"docs/figures/ holds {committed}, the current lessons draw {sorted(drawn)}: run make figures"
    for name, (figure, unseeded) in drawn.items():
        fresh, kept = np.array(figure.convert("RGB")), np.array(Image.open(OUT / name).convert("RGB"))
        assert kept.shape == fresh.shape, f"{name} is {kept.shape[1]}x{kept.shape[0]}, the current logs draw " \
                                          f"{fresh.shape[1]}x{fresh.shape[0]}: run make figures"
        for left, top, right, bottom in unseeded:
            fresh[top:bottom, left:right] = kept[top:bottom, left:right]
        differ = int((fresh != kept).any(axis=-1).sum())
        assert differ == 0, f"{name}: {differ} pixels differ from what the current logs draw: run make figures"
