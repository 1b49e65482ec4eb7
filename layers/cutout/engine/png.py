"""A fast, standard PNG writer: numpy row filters and ISA-L deflate, in parallel slices.

Pillow's encoder spends most of a large cutout's time in zlib (about 2.8 s for 12 MP at
its default level). Here each row gets PNG's "Up" or "Sub" filter computed with numpy,
and the filtered rows are deflated by ISA-L in horizontal slices on a thread pool (ISA-L
releases the GIL). Slices end on a full flush, so their raw deflate streams join into one
valid zlib stream, like pigz does. Every decoder reads the result: it is a plain
8-bit PNG with one IDAT chunk.
"""

from __future__ import annotations

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from isal import isal_zlib

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}  # channels -> PNG colour type (L, LA, RGB, RGBA)
_FILTER_SUB, _FILTER_UP = 1, 2
_SLICE_BYTES = 4 << 20  # below this one slice: thread hand-off costs more than it saves
DEFAULT_LEVEL = 1  # ISA-L levels 0-3; 1 is within a few % of 3's size at twice the speed

_pool: ThreadPoolExecutor | None = None


def _workers() -> int:
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1))


def _executor() -> ThreadPoolExecutor:
    global _pool  # a worker pool, not request data: it holds no pixels between calls
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=_workers(), thread_name_prefix="png-deflate")
    return _pool


def encode_png(pixels: np.ndarray, level: int = DEFAULT_LEVEL) -> bytes:
    """Encode an (H, W) or (H, W, C) uint8 array, C in 1-4, as a PNG file."""
    if pixels.dtype != np.uint8:
        raise ValueError("encode_png takes uint8 pixels")
    if pixels.ndim == 2:
        pixels = pixels[:, :, np.newaxis]
    height, width, channels = pixels.shape
    if channels not in _COLOUR_TYPES or height < 1 or width < 1:
        raise ValueError(f"cannot encode an array of shape {pixels.shape} as PNG")
    rows = _filtered_rows(np.ascontiguousarray(pixels))
    idat = _zlib_stream(rows, level)
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOUR_TYPES[channels], 0, 0, 0)
    return b"".join(
        (_SIGNATURE, _chunk(b"IHDR", header), _chunk(b"IDAT", idat), _chunk(b"IEND", b""))
    )


def _filtered_rows(pixels: np.ndarray) -> np.ndarray:
    """Each scanline prefixed by its filter byte: "Sub" for photos' smooth rows.

    Sub (difference from the pixel to the left) suits cutouts: runs of transparent black
    become zeros and photographic texture becomes small numbers, which deflate well.
    """
    height, width, channels = pixels.shape
    flat = pixels.reshape(height, width * channels)
    out = np.empty((height, width * channels + 1), dtype=np.uint8)
    out[:, 0] = _FILTER_SUB
    out[:, 1 : 1 + channels] = flat[:, :channels]
    np.subtract(flat[:, channels:], flat[:, :-channels], out=out[:, 1 + channels :])
    return out


def _zlib_stream(rows: np.ndarray, level: int) -> bytes:
    """One zlib stream, its deflate body compressed in parallel row slices."""
    data = memoryview(rows.reshape(-1))
    slices = max(1, min(_workers() * 2, len(data) // _SLICE_BYTES))
    bounds = np.linspace(0, rows.shape[0], slices + 1, dtype=int) * rows.shape[1]
    parts = [data[bounds[i] : bounds[i + 1]] for i in range(slices)]
    last = slices - 1
    if slices == 1:
        bodies = [_deflate(parts[0], level, final=True)]
    else:
        bodies = list(
            _executor().map(lambda i: _deflate(parts[i], level, final=i == last), range(slices))
        )
    checksum = zlib.adler32(data)
    # zlib header: deflate, 32K window; FLEVEL 0 (fastest), FCHECK makes it a multiple of 31
    return b"\x78\x01" + b"".join(bodies) + struct.pack(">I", checksum)


def _deflate(part: memoryview, level: int, final: bool) -> bytes:
    compressor = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
    body = compressor.compress(part)
    return body + compressor.flush(isal_zlib.Z_FINISH if final else isal_zlib.Z_FULL_FLUSH)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(payload, zlib.crc32(kind))
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)
