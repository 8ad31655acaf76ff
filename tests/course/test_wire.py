"""The reply format (``tbcourse.runner.wire``): plain data round-trips, and a hand-written reply whose tensor or
array names a shape its data does not fill is refused before anything of that size is made."""
import json
import struct

import numpy as np
import pytest
import torch

from tbcourse.runner import wire


def forged(node: dict, data: bytes) -> bytes:
    """A reply written by hand, as student code could write it to its reply pipe."""
    header = json.dumps({"value": node, "sizes": [len(data)]}).encode()
    return struct.pack("<Q", len(header)) + header + data


def test_tensors_and_arrays_round_trip():
    value = {"t": torch.arange(6.0).reshape(2, 3).t(), "e": torch.empty(0, 4), "a": np.arange(4, dtype=np.int16)}
    back = wire.decode(wire.encode(value))
    assert torch.equal(back["t"], value["t"]) and back["t"].stride() == value["t"].stride()
    assert back["e"].shape == (0, 4)
    assert np.array_equal(back["a"], value["a"]) and back["a"].dtype == np.int16


@pytest.mark.parametrize("node, data", [
    ({"tensor": 0, "dtype": "float32", "shape": [16384, 16384], "stride": [16384, 1], "grad": False}, b""),  # 1 GiB
    ({"tensor": 0, "dtype": "float32", "shape": [3], "stride": [1], "grad": False}, bytes(8)),
    ({"tensor": 0, "dtype": "float32", "shape": [-1], "stride": [1], "grad": False}, bytes(8)),
    ({"array": 0, "dtype": "<f8", "shape": [2**27], "scalar": False}, b""),
    ({"array": 0, "dtype": "<f8", "shape": [2], "scalar": False}, bytes(24)),
])
def test_a_shape_that_its_data_does_not_fill_is_refused(node, data):
    with pytest.raises(wire.WireError, match="data of"):
        wire.decode(forged(node, data))
