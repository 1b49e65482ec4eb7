"""Benchmark: how fast hostile inputs are refused, against decoding a normal image.

Not a test: it prints figures. For each input of the hostile corpus (tests/unit/
hostile_images.py) it measures the time `decode_image` takes to refuse it (median of runs)
and prints it next to a named reference decoded in the same run (ratio = time / reference):
  - same-pixels   a normal 6000x6000 progressive JPEG (libjpeg's 10 scans), for the scan bomb
  - photo-12mp    a normal 12 MP photographic JPEG, the common large request
With --unguarded it also times Pillow decoding each input without the structural check
(what the engine did before; the scan bomb alone takes tens of seconds). Last, the worst
input each limit still admits is decoded, to show what the limit's value costs.

    python benchmarks/bench_hostile.py [--runs 5] [--unguarded]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit"))
import hostile_images as hostile  # noqa: E402

from cutout.engine.decode import decode_image  # noqa: E402
from cutout.engine.decode_limits import MAX_CHUNKS, MAX_FRAMES, MAX_JPEG_SCANS  # noqa: E402
from cutout.errors import ImageTooComplex  # noqa: E402
from cutout.settings import DEFAULT_MAX_PIXELS  # noqa: E402

CORPUS = {
    "jpeg scan bomb (247 KB)": (lambda: hostile.jpeg_scan_bomb(6000, 600), "same-pixels"),
    "jpeg 1.5M segments": (lambda: hostile.jpeg_with_segments(1_500_000), "photo-12mp"),
    "png 500k chunks": (lambda: hostile.png_with_chunks(500_000), "photo-12mp"),
    "png 1-byte IDATs": (lambda: hostile.png_with_split_idat(6000, 1), "photo-12mp"),
    "apng 10k frames": (lambda: hostile.apng_frames(10_000), "photo-12mp"),
    "gif 200k frames": (lambda: hostile.gif_frames(200_000), "photo-12mp"),
    "webp 200k frames": (lambda: hostile.webp_frames(200_000), "photo-12mp"),
    "tiff 10k pages": (lambda: hostile.tiff_pages(10_000), "photo-12mp"),
}

# The worst each limit still admits: decoded, not refused (the price of the limit's value)
AT_THE_LIMIT = {
    f"jpeg {MAX_JPEG_SCANS} scans 6000x6000": (
        lambda: hostile.jpeg_scan_bomb(6000, MAX_JPEG_SCANS - 10), "same-pixels"),
    f"png {MAX_CHUNKS:,} chunks": (lambda: hostile.png_with_chunks(MAX_CHUNKS - 3), "photo-12mp"),
    f"gif {MAX_FRAMES:,} frames": (lambda: hostile.gif_frames(MAX_FRAMES), "photo-12mp"),
}


def photo_jpeg(size: tuple[int, int] = (4000, 3000)) -> bytes:
    picture = Image.open(ROOT / "tests" / "fixtures" / "photos" / "astronaut.jpg")
    picture = picture.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    grain = np.random.default_rng(42).integers(-4, 5, (size[1], size[0], 3))
    pixels = np.clip(np.asarray(picture, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


def median_seconds(function, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def refuse(data: bytes) -> None:
    try:
        decode_image(data, DEFAULT_MAX_PIXELS)
    except ImageTooComplex:
        return
    raise SystemExit("a hostile input was decoded instead of refused")


def unguarded(data: bytes) -> None:
    with Image.open(io.BytesIO(data)) as image:
        image.load()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--unguarded", action="store_true",
                        help="also decode each input without the check (slow)")
    args = parser.parse_args()
    references = {"same-pixels": hostile.progressive_jpeg(6000), "photo-12mp": photo_jpeg()}
    reference_seconds = {name: median_seconds(lambda d=data: decode_image(d, DEFAULT_MAX_PIXELS),
                                              args.runs) for name, data in references.items()}
    for name, seconds in reference_seconds.items():
        print(f"reference {name:12s} {len(references[name]):>11,} B  "
              f"decode {seconds * 1000:8.1f} ms")
    header = (f"{'hostile input':26s} {'bytes':>11s} {'refused in':>11s} {'reference':>12s} "
              f"{'ratio':>7s}")
    print(header + ("  unguarded decode" if args.unguarded else ""))
    for name, (build, reference) in CORPUS.items():
        data = build()
        seconds = median_seconds(lambda d=data: refuse(d), args.runs)
        line = (f"{name:26s} {len(data):>11,} {seconds * 1000:8.2f} ms {reference:>12s} "
                f"{seconds / reference_seconds[reference]:7.4f}")
        if args.unguarded:
            line += f"  {median_seconds(lambda d=data: unguarded(d), 1):8.2f} s"
        print(line, flush=True)
    print(f"{'admitted at the limit':26s} {'bytes':>11s} {'decoded in':>11s} {'reference':>12s}"
          f" {'ratio':>7s}")
    for name, (build, reference) in AT_THE_LIMIT.items():
        data = build()
        seconds = median_seconds(lambda d=data: decode_image(d, DEFAULT_MAX_PIXELS), args.runs)
        print(f"{name:26s} {len(data):>11,} {seconds * 1000:8.1f} ms {reference:>12s} "
              f"{seconds / reference_seconds[reference]:7.2f}", flush=True)


if __name__ == "__main__":
    main()
