"""Hostile inputs made on the spot: small files whose decode work is far beyond their size.

Each builder writes the container by hand (or edits a real encoder's output), so the corpus
is exact, takes well under a second to build and needs no committed binaries. Shared by the
decode tests, the API tests and `benchmarks/bench_hostile.py`.
"""

from __future__ import annotations

import io
import re
import struct
import zlib

from PIL import Image

_SOS = re.compile(rb"\xff\xda")


# --- JPEG ------------------------------------------------------------------------------
def progressive_jpeg(size: int = 6000) -> bytes:
    """A flat grey progressive JPEG (libjpeg's 10-scan script): the normal reference."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (120, 130, 140)).save(buffer, "JPEG", quality=75,
                                                         progressive=True)
    return buffer.getvalue()


def jpeg_scan_bomb(size: int = 6000, repeats: int = 600) -> bytes:
    """The review's bomb: a progressive JPEG whose last scan (the luma AC refinement, ~60
    bytes) is repeated `repeats` times. 6000x6000 and 600 repeats make ~247 KB."""
    data = progressive_jpeg(size)
    last_scan = data[[m.start() for m in _SOS.finditer(data)][-1]:-2]
    return data[:-2] + last_scan * repeats + b"\xff\xd9"


def jpeg_with_segments(count: int, size: int = 64) -> bytes:
    """A small baseline JPEG of `count` marker segments in all, padded with empty COMs."""
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (10, 200, 10)).save(buffer, "JPEG")
    data = buffer.getvalue()
    own, at = 0, 2
    while True:  # the encoder's own segments, up to and including its one scan header
        own += 1
        if data[at + 1] == 0xDA:
            break
        at += 2 + struct.unpack_from(">H", data, at + 2)[0]
    return data[:2] + b"\xff\xfe\x00\x02" * (count - own) + data[2:]


# --- PNG / APNG ------------------------------------------------------------------------
def _chunk(kind: bytes, body: bytes = b"") -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _ihdr(width: int, height: int) -> bytes:
    return _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))


def _grey_rows(width: int, height: int) -> bytes:
    return zlib.compress((b"\x00" + b"\x80" * width) * height, 9)


def png_with_chunks(count: int, size: int = 64, where: str = "before") -> bytes:
    """A grey PNG with `count` empty private ancillary chunks before or after its IDAT."""
    filler = _chunk(b"prVt") * count
    idat = _chunk(b"IDAT", _grey_rows(size, size))
    body = filler + idat if where == "before" else idat + filler
    return b"\x89PNG\r\n\x1a\n" + _ihdr(size, size) + body + _chunk(b"IEND")


def png_with_split_idat(size: int = 2000, piece: int = 1) -> bytes:
    """A grey PNG whose compressed rows are cut into IDAT chunks of `piece` bytes."""
    rows = _grey_rows(size, size)
    idats = b"".join(_chunk(b"IDAT", rows[i:i + piece]) for i in range(0, len(rows), piece))
    return b"\x89PNG\r\n\x1a\n" + _ihdr(size, size) + idats + _chunk(b"IEND")


def apng_frames(count: int, size: int = 64) -> bytes:
    """An animated PNG with `count` frames (each a 1x1 fdAT patch over the first)."""
    rows = _grey_rows(size, size)
    patch = zlib.compress(b"\x00\x10")
    out = [b"\x89PNG\r\n\x1a\n", _ihdr(size, size), _chunk(b"acTL", struct.pack(">II", count, 0))]
    out.append(_chunk(b"fcTL", struct.pack(">IIIIIHHBB", 0, size, size, 0, 0, 1, 10, 0, 0)))
    out.append(_chunk(b"IDAT", rows))
    sequence = 1
    for _ in range(count - 1):
        out.append(_chunk(b"fcTL", struct.pack(">IIIIIHHBB", sequence, 1, 1, 0, 0, 1, 10, 0, 0)))
        out.append(_chunk(b"fdAT", struct.pack(">I", sequence + 1) + patch))
        sequence += 2
    out.append(_chunk(b"IEND"))
    return b"".join(out)


# --- GIF -------------------------------------------------------------------------------
def gif_frames(count: int, size: int = 64) -> bytes:
    """An animated GIF with `count` frames, each a 1x1 image (LZW: clear, 0, end)."""
    header = b"GIF89a" + struct.pack("<HHBBB", size, size, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    frame = (b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # graphic control: 0.1 s
             + b"\x2c" + struct.pack("<HHHHB", 0, 0, 1, 1, 0) + b"\x02\x02\x44\x01\x00")
    return header + loop + frame * count + b"\x3b"


# --- WebP ------------------------------------------------------------------------------
def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def webp_frames(count: int, size: int = 64) -> bytes:
    """An animated WebP with `count` frames, each a lossless 1x1 image (real libwebp bits)."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 20, 20)).save(buffer, "WEBP", lossless=True)
    vp8l = buffer.getvalue()[12:]  # the VP8L chunk of a still image
    frame_header = struct.pack("<I", 0)[:3] * 2 + struct.pack("<I", 0)[:3] * 2
    frame_header += struct.pack("<I", 100)[:3] + b"\x00"  # 1x1 (stored minus one), 100 ms
    canvas = struct.pack("<I", size - 1)[:3] * 2
    chunks = _riff_chunk(b"VP8X", b"\x02\x00\x00\x00" + canvas)  # animation flag
    chunks += _riff_chunk(b"ANIM", b"\x00\x00\x00\x00\x00\x00")
    chunks += _riff_chunk(b"ANMF", frame_header + vp8l) * count
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks


# --- TIFF ------------------------------------------------------------------------------
def tiff_pages(count: int, size: int = 64) -> bytes:
    """A multi-page greyscale TIFF: `count` IFDs, all pointing at one strip of pixels."""
    pixels_at = 8
    pixels = b"\x80" * (size * size)
    first_ifd = pixels_at + len(pixels)
    entries = 8
    ifd_size = 2 + entries * 12 + 4
    out = [b"II*\x00" + struct.pack("<I", first_ifd), pixels]
    for page in range(count):
        following = first_ifd + (page + 1) * ifd_size if page + 1 < count else 0
        tags = [(256, 3, size), (257, 3, size), (258, 3, 8), (259, 3, 1), (262, 3, 1),
                (273, 4, pixels_at), (278, 3, size), (279, 4, len(pixels))]
        ifd = struct.pack("<H", entries)
        for tag, kind, value in tags:
            packed = struct.pack("<HI", value, 0)[:4] if kind == 3 else struct.pack("<I", value)
            ifd += struct.pack("<HHI", tag, kind, 1) + packed
        out.append(ifd + struct.pack("<I", following))
    return b"".join(out)


# --- HEIC / AVIF (ISOBMFF) ------------------------------------------------------------
def heif_image(fmt: str = "HEIF", size: tuple[int, int] = (64, 48), **save_options) -> bytes:
    """A real encoder's still image: libheif's HEIC (pillow-heif) or libavif's AVIF."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 160, 90)).save(buffer, fmt, **save_options)
    return buffer.getvalue()


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def _boxes(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (type, body) of each box in `data` (32-bit sizes: what these encoders write)."""
    out, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, at)
        out.append((kind, data[at + 8:at + size]))
        at += size
    return out


def heif_declaring(width: int, height: int, fmt: str = "HEIF") -> bytes:
    """A tiny real HEIC/AVIF whose every `ispe` property declares width x height."""
    data = bytearray(heif_image(fmt))
    at = data.find(b"ispe")
    while at != -1:
        struct.pack_into(">II", data, at + 8, width, height)  # after the full-box header
        at = data.find(b"ispe", at + 4)
    return bytes(data)


def avif_frames(declared: int) -> bytes:
    """A real 2-frame animated AVIF whose sample table declares `declared` frames."""
    frames = [Image.new("RGB", (32, 32), (i * 100, 0, 0)) for i in range(2)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "AVIF", save_all=True, append_images=frames[1:])
    data = bytearray(buffer.getvalue())
    at = data.find(b"stsz")
    struct.pack_into(">I", data, at + 12, declared)  # version/flags, sample_size, count
    return bytes(data)


def heif_with_items(count: int, extent: tuple[int, int] | None = None,
                    fmt: str = "HEIF") -> bytes:
    """A real HEIC/AVIF with `count` more image items in its meta box (what a grid's tiles
    are); with `extent`, each new item is associated with a new ispe of that size. Item
    locations (iloc) are left as they are: a decoder would find no data for the new ones."""
    top = _boxes(heif_image(fmt))
    codec = b"hvc1" if fmt == "HEIF" else b"av01"
    out = b""
    for kind, body in top:
        if kind != b"meta":
            out += _box(kind, body)
            continue
        children = []
        for child, payload in _boxes(body[4:]):
            if child == b"iinf":
                version, entries = payload[0], payload[4:]
                own = struct.unpack_from(">H" if version == 0 else ">I", entries)[0]
                rest = entries[2 if version == 0 else 4:]
                new = b"".join(_box(b"infe", struct.pack(">B3xHH4s", 2, 1000 + i, 0, codec)
                                    + b"\x00") for i in range(count))
                # rewritten as version 1 (a 32-bit count)
                payload = struct.pack(">II", 1 << 24, own + count) + rest + new
            elif child == b"iprp" and extent is not None:
                parts = _boxes(payload)
                ipco = dict(parts)[b"ipco"]
                index = len(_boxes(ipco)) + 1
                ipco += _box(b"ispe", struct.pack(">4xII", *extent))
                ipma = dict(parts)[b"ipma"]
                version, flags = ipma[0], int.from_bytes(ipma[1:4], "big")
                entries = struct.unpack_from(">I", ipma, 4)[0]
                id_format = ">H" if version < 1 else ">I"
                association = struct.pack(">H" if flags & 1 else ">B", index)
                added = b"".join(struct.pack(id_format, 1000 + i) + b"\x01" + association
                                 for i in range(count))
                ipma = ipma[:4] + struct.pack(">I", entries + count) + ipma[8:] + added
                payload = _box(b"ipco", ipco) + _box(b"ipma", ipma)
            children.append(_box(child, payload))
        out += _box(b"meta", body[:4] + b"".join(children))
    return out
