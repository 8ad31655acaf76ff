"""What a call of student code sends back to the checks: data that can only rebuild data.

``encode`` turns a reply into bytes: a JSON header describing a tree of plain values, and the raw bytes of
its tensors and arrays. ``decode`` rebuilds it. Nothing in the format names a class or a function, so
decoding cannot run code, whatever the bytes say; a malformed reply is a ``WireError``, not a crash.

What can travel: None, bool, int, float, complex, str, bytes, list, tuple, dict, set, frozenset, torch
tensors (any dtype, no autograd history), torch.Size, torch.dtype, numpy arrays and scalars of plain dtypes,
and references to the objects that the call was given (``Ref``), which the checks resolve to their own.
"""
import json
import math
import struct
from dataclasses import dataclass

import numpy as np
import torch

MAX_DEPTH = 64
MAX_ITEMS = 1_000_000
_HEADER = struct.Struct("<Q")
TORCH_DTYPES = {str(dtype).removeprefix("torch."): dtype for dtype in (
    torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64, torch.complex128,
    torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64, torch.bool)}
NUMPY_KINDS = "biufc"  # bool, signed, unsigned, float, complex: never object, void or strings


class WireError(ValueError):
    """A reply that is not in the format, or holds something that is not plain data."""


@dataclass(frozen=True)
class Ref:
    """One of the objects the call was given: argument ``key`` itself (``kind`` "argument"), or its
    submodule or parameter ``name`` (``kind`` "module" or "parameter")."""
    key: int | str
    kind: str
    name: str


def encode(value, known: dict[int, Ref] | None = None) -> bytes:
    """The bytes of ``value``; objects whose id is in ``known`` travel as their Ref."""
    buffers, count = [], [0]
    known = known or {}

    def blob(data: bytes) -> int:
        buffers.append(data)
        return len(buffers) - 1

    def enc(obj, depth):
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_ITEMS:
            raise WireError("the value is nested too deeply or holds too many items")
        if id(obj) in known:
            ref = known[id(obj)]
            return {"ref": [ref.key, ref.kind, ref.name]}
        if obj is None or type(obj) in (bool, int, str):
            return obj
        if type(obj) is float:
            return {"float": repr(obj)}  # exact, and NaN and infinities too
        if type(obj) is complex:
            return {"complex": [repr(obj.real), repr(obj.imag)]}
        if type(obj) is bytes:
            return {"bytes": blob(obj)}
        if type(obj) is list:
            return [enc(item, depth + 1) for item in obj]
        if type(obj) is tuple:
            return {"tuple": [enc(item, depth + 1) for item in obj]}
        if type(obj) in (set, frozenset):
            return {type(obj).__name__: [enc(item, depth + 1) for item in obj]}
        if isinstance(obj, dict) and type(obj).__module__ in ("builtins", "collections"):
            return {"dict": [[enc(k, depth + 1), enc(v, depth + 1)] for k, v in obj.items()]}
        if type(obj) is torch.Size:
            return {"size": list(obj)}
        if type(obj) is torch.dtype:
            return {"dtype": str(obj).removeprefix("torch.")}
        if isinstance(obj, torch.Tensor) and type(obj) in (torch.Tensor, torch.nn.Parameter):
            name = str(obj.dtype).removeprefix("torch.")
            if name not in TORCH_DTYPES or obj.is_sparse or obj.device.type != "cpu":
                raise WireError(f"a tensor of dtype {obj.dtype} on {obj.device}")
            data = obj.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
            return {"tensor": blob(data), "dtype": name, "shape": list(obj.shape), "stride": list(obj.stride()),
                    "grad": obj.requires_grad}
        if isinstance(obj, (np.ndarray, np.generic)) and type(obj).__module__ == "numpy":
            array = np.asarray(obj)
            if array.dtype.kind not in NUMPY_KINDS:
                raise WireError(f"a numpy array of dtype {array.dtype}")
            return {"array": blob(np.ascontiguousarray(array).tobytes()), "dtype": array.dtype.str,
                    "shape": list(array.shape), "scalar": isinstance(obj, np.generic)}
        raise WireError(f"{type(obj).__module__}.{type(obj).__qualname__}")

    header = json.dumps({"value": enc(value, 0), "sizes": [len(b) for b in buffers]}).encode()
    return b"".join([_HEADER.pack(len(header)), header, *buffers])


def decode(payload: bytes, resolve=None):
    """The value ``encode`` wrote; ``resolve(Ref)`` gives the object a reference stands for."""
    try:
        (size,) = _HEADER.unpack_from(payload)
        header = json.loads(payload[_HEADER.size:_HEADER.size + size])
        offsets, start = [], _HEADER.size + size
        for length in header["sizes"]:
            offsets.append((start, start + int(length)))
            start += int(length)
        if start != len(payload):
            raise WireError("the reply's length does not match its header")
        return _dec(header["value"], payload, offsets, resolve, 0)
    except WireError:
        raise
    except (ValueError, KeyError, TypeError, IndexError, struct.error, RuntimeError) as err:
        raise WireError(f"a malformed reply ({type(err).__name__}: {err})") from None


def _dec(node, payload, offsets, resolve, depth):
    if depth > MAX_DEPTH:
        raise WireError("the value is nested too deeply")
    if node is None or type(node) in (bool, int, str):
        return node
    if type(node) is list:
        return [_dec(item, payload, offsets, resolve, depth + 1) for item in node]
    if type(node) is not dict or len(node) == 0:
        raise WireError(f"an unknown node {node!r:.80}")

    def items(key):
        return [_dec(item, payload, offsets, resolve, depth + 1) for item in node[key]]

    def data(key):
        begin, end = offsets[node[key]]
        return payload[begin:end]

    kind = next(iter(node))
    if kind == "float":
        return float(node["float"])
    if kind == "complex":
        return complex(float(node["complex"][0]), float(node["complex"][1]))
    if kind == "bytes":
        return bytes(data("bytes"))
    if kind == "tuple":
        return tuple(items("tuple"))
    if kind == "set":
        return set(items("set"))
    if kind == "frozenset":
        return frozenset(items("frozenset"))
    if kind == "dict":
        return {_dec(k, payload, offsets, resolve, depth + 1): _dec(v, payload, offsets, resolve, depth + 1)
                for k, v in node["dict"]}
    if kind == "size":
        return torch.Size([int(d) for d in node["size"]])
    if kind == "dtype":
        return TORCH_DTYPES[node["dtype"]]
    if kind == "tensor":
        dtype, shape = TORCH_DTYPES[node["dtype"]], [int(d) for d in node["shape"]]
        raw, stride = data("tensor"), [int(s) for s in node["stride"]]
        _check_size(raw, shape, dtype.itemsize)
        tensor = torch.frombuffer(bytearray(raw), dtype=dtype).reshape(shape) if raw else torch.empty(shape, dtype=dtype)
        if _dense(shape, stride) and stride != list(tensor.stride()):  # e.g. a tensor transposed in place
            tensor = torch.empty_strided(shape, stride, dtype=dtype).copy_(tensor)
        return tensor.requires_grad_(bool(node["grad"])) if tensor.is_floating_point() or tensor.is_complex() else tensor
    if kind == "array":
        dtype = np.dtype(node["dtype"])
        if dtype.kind not in NUMPY_KINDS:
            raise WireError(f"a numpy array of dtype {dtype}")
        raw, shape = data("array"), [int(d) for d in node["shape"]]
        _check_size(raw, shape, dtype.itemsize)
        array = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        return array[()] if node["scalar"] else array
    if kind == "ref":
        if resolve is None:
            raise WireError("a reference where none can be")
        key, ref_kind, name = node["ref"]
        return resolve(Ref(key, ref_kind, name))
    raise WireError(f"an unknown node {kind!r:.40}")


def _check_size(raw: bytes, shape: list[int], itemsize: int) -> None:
    """A tensor's or an array's data must be exactly what its shape and dtype say: a shape without its data
    would otherwise be rebuilt here as that many bytes of memory the call never had to hold."""
    if any(d < 0 for d in shape) or len(raw) != math.prod(shape) * itemsize:
        raise WireError(f"data of {len(raw)} bytes for a shape {shape[:8]} of {itemsize}-byte elements")


def _dense(shape, stride) -> bool:
    """Whether ``stride`` lays ``shape`` out densely, each element once (a permutation of a contiguous layout)."""
    if len(shape) != len(stride):
        return False
    expected = 1
    for step, size in sorted((st, sz) for sz, st in zip(shape, stride) if sz != 1):
        if step != expected:
            return False
        expected *= size
    return True
