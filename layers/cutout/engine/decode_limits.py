"""Bound a decoder's work from the container's structure, before any pixel is decoded.

The pixel limit bounds memory, not time: a 247 KB progressive JPEG whose last scan repeats
600 times makes the decoder pass over 36 MP six hundred times (~25 s), and a PNG or JPEG
made of millions of empty chunks keeps Pillow's parser busy for seconds per 6 MB. These
walks read only markers, chunk headers and block lengths (C-speed searches where a format
has no lengths), stop as soon as a count is over its limit, and refuse with
`ImageTooComplex`. Anything they do not understand is left to the decoder to report.

Limits, with what real encoders write (see docs/hardening.md):
- JPEG scans: libjpeg's progressive scripts write 6 (grey), 10 (colour), 18 (CMYK); each
  scan is a pass over the image, so 32 bounds the worst accepted decode near 3x a normal one.
- Segments/chunks: a 64 MB upload holds ~1,000 full 64 KB JPEG segments or ~8,000 IDAT
  chunks of libpng's 8 KB; Pillow parses each in Python (~2-5 us), so tens of thousands
  cost milliseconds while the bombs carry millions.
- Frames/pages: only the first is decoded, but demuxers and chunk readers walk all of them.
- HEIC/HEIF and AVIF (ISOBMFF boxes): an iPhone photo is a grid of ~50 512x512 tiles plus a
  thumbnail, Exif and a few auxiliary images, well under 1,000 items. Every image item is a
  separate decode, so the items' declared sizes (their `ispe` properties) are added up before
  anything is decoded: one item over the pixel limit is `ImageTooLarge`, and all of them
  together over `MAX_ITEM_PIXELS_FACTOR` times the limit (a grid of few pixels over tiles of
  many) is `ImageTooComplex`. An image sequence (animated AVIF/HEIF) counts its samples.
"""

from __future__ import annotations

import re
import struct

from cutout.errors import ImageTooComplex, ImageTooLarge

MAX_JPEG_SCANS = 32
MAX_JPEG_SEGMENTS = 4_096
MAX_CHUNKS = 20_000  # PNG chunks, WebP RIFF chunks
MAX_FRAMES = 1_000  # GIF/APNG/WebP frames, TIFF pages
MAX_GIF_BLOCKS = 500_000  # data sub-blocks: 255 bytes each in every encoder, so ~128 MB
MAX_HEIF_ITEMS = 1_000  # HEIF/AVIF items: tiles, thumbnails, auxiliary images, metadata
# All image items' pixels together, in units of the pixel limit: a primary grid, its tiles,
# an alpha grid and its tiles and a thumbnail stay near 2x; 4x leaves room for depth maps.
MAX_ITEM_PIXELS_FACTOR = 4
# ISOBMFF boxes whose payload is more boxes (meta and iinf are full boxes: 4 bytes first).
_CONTAINER_BOXES = {b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"meta": 4,
                    b"iprp": 0, b"ipco": 0, b"dinf": 0, b"edts": 0}
# A 'ftyp' major or compatible brand of a still image or a sequence (HEIF: ISO/IEC 23008-12;
# AVIF: AV1 Image File Format).
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
                b"avif", b"avis", b"mif2"}

# Inside a JPEG scan, 0xFF is followed by 0x00 (stuffing), RSTn or more 0xFF (fill);
# anything else is the next marker.
_JPEG_MARKER_AFTER_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_decode_work(data: bytes, max_pixels: int | None = None) -> None:
    """Refuse (ImageTooComplex) an image whose structure promises unbounded decode work;
    with `max_pixels`, also (ImageTooLarge) a HEIF/AVIF item declared larger than that."""
    if data.startswith(b"\xff\xd8"):
        _check_jpeg(data)
    elif data.startswith(_PNG_SIGNATURE):
        _check_png(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        _check_gif(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        _check_webp(data)
    elif data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        _check_tiff(data)
    elif is_heif_family(data):
        _check_heif(data, max_pixels)


def is_heif_family(data: bytes) -> bool:
    """An ISOBMFF file whose ftyp names a HEIF or AVIF brand (HEIC, HEIF, AVIF)."""
    if data[4:8] != b"ftyp" or len(data) < 16:
        return False
    size = min(struct.unpack_from(">I", data, 0)[0], len(data))
    brands = [data[8:12]] + [data[at:at + 4] for at in range(16, size - 3, 4)]
    return any(brand in _HEIF_BRANDS for brand in brands)


def _refuse(what: str, count: int, limit: int) -> ImageTooComplex:
    return ImageTooComplex(
        f"the image has more than {limit:,} {what} (at least {count:,}); its decoding work "
        "is not bounded by its size. Re-encode it (for example as a baseline JPEG or PNG)")


def _check_jpeg(data: bytes) -> None:
    scans = segments = 0
    at, end = 2, len(data)
    while at + 1 < end:
        if data[at] != 0xFF:
            return  # not a marker where one belongs: the decoder reports it
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker == 0xD9:  # EOI: the first image ends (an MPO's others are not decoded)
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # standalone markers
            at += 2
            continue
        if at + 4 > end:
            return
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise _refuse("marker segments", segments, MAX_JPEG_SEGMENTS)
        at += 2 + struct.unpack_from(">H", data, at + 2)[0]
        if marker == 0xDA:  # start of scan: skip its entropy-coded data
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise _refuse("scans", scans, MAX_JPEG_SCANS)
            found = _JPEG_MARKER_AFTER_SCAN.search(data, at)
            if found is None:
                return
            at = found.start()


def _check_png(data: bytes) -> None:
    chunks = frames = 0
    at, end = len(_PNG_SIGNATURE), len(data)
    while at + 8 <= end:
        length, kind = struct.unpack_from(">I4s", data, at)
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise _refuse("chunks", chunks, MAX_CHUNKS)
        if kind == b"fcTL":  # one per APNG frame (acTL's declared count is not trusted)
            frames += 1
            if frames > MAX_FRAMES:
                raise _refuse("animation frames", frames, MAX_FRAMES)
        elif kind == b"IEND":
            return
        at += 12 + length


def _check_gif(data: bytes) -> None:
    end = len(data)
    if end < 13:
        return
    flags = data[10]
    at = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    frames = blocks = 0
    while at < end:
        introducer = data[at]
        if introducer == 0x21:  # extension: label, then data sub-blocks
            at += 2
        elif introducer == 0x2C:  # image: descriptor, local colour table, LZW code size
            frames += 1
            if frames > MAX_FRAMES:
                raise _refuse("animation frames", frames, MAX_FRAMES)
            if at + 10 > end:
                return
            local = data[at + 9]
            at += 10 + (3 << ((local & 7) + 1) if local & 0x80 else 0) + 1
        else:  # trailer, or something the decoder will report
            return
        while at < end and data[at]:  # data sub-blocks up to the zero-length terminator
            blocks += 1
            if blocks > MAX_GIF_BLOCKS:
                raise _refuse("data blocks", blocks, MAX_GIF_BLOCKS)
            at += data[at] + 1
        at += 1


def _check_webp(data: bytes) -> None:
    chunks = frames = 0
    at, end = 12, min(len(data), 8 + struct.unpack_from("<I", data, 4)[0])
    while at + 8 <= end:
        kind, size = struct.unpack_from("<4sI", data, at)
        chunks += 1
        if chunks > MAX_CHUNKS:
            raise _refuse("chunks", chunks, MAX_CHUNKS)
        if kind == b"ANMF":
            frames += 1
            if frames > MAX_FRAMES:
                raise _refuse("animation frames", frames, MAX_FRAMES)
        at += 8 + size + (size & 1)


def _check_tiff(data: bytes) -> None:
    order = "<" if data[:2] == b"II" else ">"
    big = data[2:4] in (b"+\x00", b"\x00+")
    count_size, entry_size, offset_format = (8, 20, "Q") if big else (2, 12, "I")
    offset_size = struct.calcsize(offset_format)
    first_at = 8 if big else 4
    if len(data) < first_at + offset_size:
        return
    offset = struct.unpack_from(order + offset_format, data, first_at)[0]
    pages, seen = 0, set()
    while offset and offset not in seen and offset + count_size <= len(data):
        seen.add(offset)
        pages += 1
        if pages > MAX_FRAMES:
            raise _refuse("pages", pages, MAX_FRAMES)
        entries = struct.unpack_from(order + ("Q" if big else "H"), data, offset)[0]
        next_at = offset + count_size + entries * entry_size
        if next_at + offset_size > len(data):
            return
        offset = struct.unpack_from(order + offset_format, data, next_at)[0]


class _HeifCounts:
    """What the box walk found: boxes, items, samples, and each item's declared pixels."""

    def __init__(self) -> None:
        self.boxes = 0
        self.items = 0
        self.samples = 0
        self.extents: list[tuple[int, int]] = []  # ispe properties, in ipco order
        self.associations: list[tuple[int, list[int]]] = []  # ipma: item id, property indexes


def _check_heif(data: bytes, max_pixels: int | None) -> None:
    counts = _HeifCounts()
    _walk_boxes(data, 0, len(data), counts)
    if counts.associations:
        areas = [sum(_area(counts.extents, index) for index in indexes)
                 for _, indexes in counts.associations]
    else:  # no item-property map: every declared extent counts once
        areas = [w * h for w, h in counts.extents]
    if max_pixels is None or not areas:
        return
    largest, total = max(areas), sum(areas)
    if largest > max_pixels:
        raise ImageTooLarge(
            f"the image declares an item of {largest:,} pixels, over the limit of "
            f"{max_pixels:,} pixels; scale it down or raise CUTOUT_MAX_PIXELS")
    limit = MAX_ITEM_PIXELS_FACTOR * max_pixels
    if total > limit:
        raise _refuse("pixels across its items", total, limit)


def _area(extents: list[tuple[int, int]], index: int) -> int:
    """The pixels of the `index`-th property (1-based) when it is an ispe, else 0."""
    return extents[index - 1][0] * extents[index - 1][1] if 0 < index <= len(extents) and \
        extents[index - 1] != (0, 0) else 0


def _walk_boxes(data: bytes, at: int, end: int, counts: _HeifCounts,
                in_ipco: bool = False) -> None:
    """Count the boxes in data[at:end], recursing into containers; ipco's children are
    recorded in order (their index is what ipma names), with (0, 0) for a non-ispe one."""
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1 and at + 16 <= end:
            size, header = struct.unpack_from(">Q", data, at + 8)[0], 16
        elif size == 0:
            size = end - at
        if size < header:
            return  # malformed: the decoder reports it
        counts.boxes += 1
        if counts.boxes > MAX_CHUNKS:
            raise _refuse("boxes", counts.boxes, MAX_CHUNKS)
        body, box_end = at + header, min(at + size, end)
        if in_ipco:
            counts.extents.append(_ispe(data, body, box_end) if kind == b"ispe" else (0, 0))
        if kind in _CONTAINER_BOXES:
            _walk_boxes(data, body + _CONTAINER_BOXES[kind], box_end, counts, kind == b"ipco")
        elif kind == b"iinf":
            _count_items(data, body, box_end, counts)
        elif kind == b"ipma":
            _read_ipma(data, body, box_end, counts)
        elif kind == b"stsz" and body + 12 <= box_end:
            counts.samples += struct.unpack_from(">I", data, body + 8)[0]
            if counts.samples > MAX_FRAMES:
                raise _refuse("animation frames", counts.samples, MAX_FRAMES)
        at += size


def _ispe(data: bytes, body: int, end: int) -> tuple[int, int]:
    if body + 12 > end:
        return (0, 0)
    return struct.unpack_from(">II", data, body + 4)


def _count_items(data: bytes, body: int, end: int, counts: _HeifCounts) -> None:
    if body + 6 > end:
        return
    version = data[body]
    items = (struct.unpack_from(">H", data, body + 4)[0] if version == 0
             else struct.unpack_from(">I", data, body + 4)[0] if body + 8 <= end else 0)
    counts.items += items
    if counts.items > MAX_HEIF_ITEMS:
        raise _refuse("items", counts.items, MAX_HEIF_ITEMS)


def _read_ipma(data: bytes, body: int, end: int, counts: _HeifCounts) -> None:
    if body + 8 > end:
        return
    version, flags = data[body], int.from_bytes(data[body + 1:body + 4], "big")
    entries = struct.unpack_from(">I", data, body + 4)[0]
    if entries > MAX_HEIF_ITEMS:
        raise _refuse("items", entries, MAX_HEIF_ITEMS)
    at = body + 8
    id_size, wide = (2 if version < 1 else 4), bool(flags & 1)
    for _ in range(entries):
        if at + id_size + 1 > end:
            return
        item = int.from_bytes(data[at:at + id_size], "big")
        at += id_size
        associations = data[at]
        at += 1
        indexes = []
        for _ in range(associations):
            if at + (2 if wide else 1) > end:
                return
            value = int.from_bytes(data[at:at + (2 if wide else 1)], "big")
            at += 2 if wide else 1
            indexes.append(value & (0x7FFF if wide else 0x7F))
        counts.associations.append((item, indexes))
