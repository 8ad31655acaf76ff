"""How requests and replies travel between the checks and a worker: frames (a length, then the bytes).

A request is a frame holding the lengths of its out-of-band buffers, a JSON head (what a keeper reads
without unpickling anything) and the checks' pickle, followed by each buffer's bytes; a reply is one frame
(``tbcourse.runner.wire``). Nothing here imports torch.
"""
import io
import json
import os
import pickle
import struct

FRAME = struct.Struct("<Q")
READY = b"ready"


class FrameTooLarge(ValueError):
    """A frame that says it is longer than its reader takes."""


def send_request(fd: int, head: dict, data: bytes, buffers: list[pickle.PickleBuffer]) -> None:
    """A frame of the buffers' lengths, the request's ``head`` (JSON: what a keeper reads without unpickling
    anything, ``request_head``) and the pickle; then each buffer's bytes as they lie in memory."""
    sizes = [buffer.raw().nbytes for buffer in buffers]
    address = json.dumps(head).encode()
    write_frame(fd, FRAME.pack(len(sizes)) + b"".join(FRAME.pack(n) for n in sizes) + FRAME.pack(len(address))
                + address + data)
    for buffer in buffers:
        _write_all(fd, buffer.raw())


class _Unpickler(pickle.Unpickler):
    def __init__(self, data, buffers, held):
        super().__init__(io.BytesIO(data), buffers=buffers)
        self.held = held

    def persistent_load(self, path):
        return self.held(path)


def read_request(fd: int):
    """What ``send_request`` sent, as it came: (the frame, its buffers); None when the other end closed."""
    frame = read_frame(fd)
    if frame is None:
        return None
    count = FRAME.unpack_from(frame)[0]
    sizes = [FRAME.unpack_from(frame, FRAME.size * (k + 1))[0] for k in range(count)]
    buffers = []
    with io.FileIO(fd, closefd=False) as stream:
        for size in sizes:
            buffer = bytearray(size)
            view, done = memoryview(buffer), 0
            while done < size:
                got = stream.readinto(view[done:])
                if not got:
                    return None
                done += got
            buffers.append(buffer)
    return frame, buffers


def forward_request(fd: int, raw) -> None:
    """Send on what ``read_request`` read, unchanged."""
    frame, buffers = raw
    write_frame(fd, frame)
    for buffer in buffers:
        _write_all(fd, buffer)


def _head(frame) -> tuple[int, int]:
    """Where a request's head starts in its frame, and its length."""
    start = FRAME.size * (FRAME.unpack_from(frame)[0] + 1)
    return start + FRAME.size, FRAME.unpack_from(frame, start)[0]


def request_head(raw) -> dict:
    """The head of a request that ``read_request`` holds, read as JSON: nothing is unpickled."""
    at, length = _head(raw[0])
    return json.loads(bytes(raw[0][at:at + length]))


def load_request(raw, held):
    """The request a ``read_request`` holds (the checks' own pickles); each storage the checks sent as a file's
    path becomes ``held(path)`` (tbcourse.runner.holding.map_held)."""
    frame, buffers = raw
    at, length = _head(frame)
    return _Unpickler(memoryview(frame)[at + length:], buffers, held).load()


def receive_request(fd: int, held):
    """``load_request`` of the next request on ``fd``; None when the checks closed the channel."""
    raw = read_request(fd)
    return None if raw is None else load_request(raw, held)


def write_frame(fd: int, data: bytes) -> None:
    _write_all(fd, FRAME.pack(len(data)) + data)


def _write_all(fd: int, data) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view):]


def read_frame(fd: int, limit: int | None = None) -> bytes | None:
    """One frame, or None when the other end closed; FrameTooLarge, before reading it, when it says it is
    longer than ``limit`` bytes."""
    head = _read_exactly(fd, FRAME.size)
    if head is None:
        return None
    size = FRAME.unpack(head)[0]
    if limit is not None and size > limit:
        raise FrameTooLarge(f"{size} bytes")
    return _read_exactly(fd, size) or b""


def _read_exactly(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
