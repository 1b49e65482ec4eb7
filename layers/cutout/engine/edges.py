"""Soft edges in the subject's own colour: foreground estimation by blur-fusion.

A soft-edge pixel (hair, fur, motion blur) is a mix I = a*F + (1-a)*B of the subject's
colour F and the old background's B. Keeping I ("straight colour") leaves a fringe of the
old background (a green screen gives a green halo). Blur-fusion (Forte & Pitie 2021,
"Approximate Fast Foreground Colour Estimation") estimates F from local, weighted
averages Fb of the foreground colour and Bb of the background colour:

    F = Fb + a * (I - a*Fb - (1-a)*Bb)

run twice, as in the paper: a wide pass with F = B = I, then a narrow pass that averages
the first estimate. The averages are smooth maps, so they are computed on a reduced copy
(long side at most `WORKING_SIDE`) on a helper thread while the cutout is composed; only
the final, per-pixel formula runs at full size, only on tiles that hold soft pixels, split
over two threads. Measured cost: benchmarks/bench_edges.py.

What changes: the colour where 0 < alpha < `OPAQUE_ENOUGH`. Alpha itself and "colour 0
where alpha is 0" do not change. Pixels at 250-254 keep their straight colour: they are
the subject's interior as the model sees it (u2netp rarely says 255), and the estimate
would move them by at most (1-a) of the F-B difference, 2 %.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
from PIL import Image

from cutout.engine.side_thread import side_pool

OPAQUE_ENOUGH = 250  # of 255: from here up the colour is kept as it is
WORKING_SIDE = 256  # long side of the reduced copy the local averages are computed on
WIDE_RADIUS = 0.06  # first pass: box radius as a fraction of the working long side
NARROW_RADIUS = 0.01  # second pass
# The paper weights by a; a^2 leans on the surer pixels: on a soft green-screen edge it
# halves the error at low alpha, and on the benchmark it is level with a.
WEIGHT_POWER = 2
TILE = 64  # the band is found tile by tile, so opaque and empty areas cost nothing
_EPS = 1e-4
_BAND_LUT = [0] + [255] * (OPAQUE_ENOUGH - 1) + [0] * (256 - OPAQUE_ENOUGH)


@dataclass(frozen=True)
class EdgePlan:
    """What the per-pixel pass needs, computed from the picture before the cutout exists."""

    boxes: list[tuple[int, int, int, int]]  # runs of tiles that hold soft-band pixels
    tables: tuple[np.ndarray, np.ndarray, np.ndarray]  # Fb, Fb - Bb, Bb per working cell
    map_width: int
    factor: int


def start(rgb: Image.Image, alpha: Image.Image) -> Future[EdgePlan | None]:
    """Begin the estimate on the helper thread; `finish` applies it to the cutout."""
    return side_pool().submit(plan, rgb, alpha)


def plan(rgb: Image.Image, alpha: Image.Image) -> EdgePlan | None:
    """The soft band's tiles and the local averages; None if there is no soft band."""
    flags = np.asarray(alpha.point(_BAND_LUT).reduce(TILE)) > 0
    if not flags.any():
        return None
    factor = max(1, -(-max(rgb.size) // WORKING_SIDE))
    fb, bb = local_averages(rgb, alpha, factor)
    return EdgePlan(_tile_runs(flags, rgb.size), _maps_table(fb, bb), fb.shape[1], factor)


def finish(cutout: Image.Image, pending: Future[EdgePlan | None]) -> Image.Image:
    """Write the estimated colour into the cutout's soft band (in place), on two threads."""
    edge_plan = pending.result()
    if edge_plan is None:
        return cutout
    boxes = edge_plan.boxes
    helper = side_pool().submit(_fix_boxes, cutout, boxes[1::2], edge_plan)
    fixed = _fix_boxes(cutout, boxes[::2], edge_plan) + helper.result()
    for box, pixels in fixed:
        cutout.paste(Image.fromarray(pixels, "RGBA"), box[:2])
    return cutout


def local_averages(
    rgb: Image.Image, alpha: Image.Image, factor: int
) -> tuple[np.ndarray, np.ndarray]:
    """Blur-fusion's maps Fb and Bb (0..1, float32) on copies reduced by `factor`."""
    if factor > 1:
        rgb, alpha = rgb.reduce(factor), alpha.reduce(factor)
    image = np.asarray(rgb, dtype=np.float32) * np.float32(1 / 255)
    weight = np.asarray(alpha, dtype=np.float32) * np.float32(1 / 255)
    side = max(rgb.size)
    wide = max(1, round(WIDE_RADIUS * side))
    narrow = max(1, round(NARROW_RADIUS * side))
    fb, bb = _fusion(image, image, weight, wide)
    return _fusion(_estimate(image, weight, fb, bb), bb, weight, narrow)


def _fusion(foreground, background, alpha, radius: int):
    """Weighted local means of the foreground colour (weights a^p) and of the background
    colour (weights (1-a)^p)."""
    a = alpha[..., None]
    front, back = a**WEIGHT_POWER, (1.0 - a) ** WEIGHT_POWER
    stacked = np.concatenate([front, back, foreground * front, background * back], axis=2)
    sums = _box_sum(stacked, radius)
    fb = sums[..., 2:5] / (sums[..., :1] + _EPS)
    bb = sums[..., 5:8] / (sums[..., 1:2] + _EPS)
    return fb, bb


def _estimate(image, alpha, fb, bb):
    a = alpha[..., None]
    return np.clip(fb + a * (image - a * fb - (1.0 - a) * bb), 0.0, 1.0)


def _box_sum(values: np.ndarray, radius: int) -> np.ndarray:
    """Sum over the (2r+1)^2 window of an (H, W, C) array, clipped at the borders.

    Running sums along the first axis of a 2-D array are numpy's fast case (whole rows at
    a time), so each pass sees the summed axis first: rows, then the transposed columns.
    """
    height, width, channels = values.shape
    rows = _window_rows(values.reshape(height, width * channels), radius)
    columns = np.ascontiguousarray(rows.reshape(height, width, channels).transpose(1, 0, 2))
    summed = _window_rows(columns.reshape(width, height * channels), radius)
    return summed.reshape(width, height, channels).transpose(1, 0, 2)


def _window_rows(values: np.ndarray, radius: int) -> np.ndarray:
    """Row i of the result: the sum of rows i - r .. i + r (clipped), in float32."""
    sums = values.astype(np.float64)
    length = sums.shape[0]
    for row in range(1, length):  # row by row: 8x faster than np.cumsum along axis 0
        sums[row] += sums[row - 1]
    reach = min(radius, length - 1)
    window = np.empty_like(sums)
    window[: length - reach] = sums[reach:]  # the sum up to row i + r ...
    window[length - reach :] = sums[-1]
    if radius + 1 < length:
        window[radius + 1 :] -= sums[: length - radius - 1]  # ... minus up to row i - r - 1
    return window.astype(np.float32)


def _maps_table(fb: np.ndarray, bb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per working cell, in 0..255: Fb, Fb - Bb and Bb, each as a (cells, 3) table."""
    fb, bb = fb * np.float32(255), bb * np.float32(255)
    def table(m: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(m.reshape(-1, 3))

    return table(fb), table(fb - bb), table(bb)


def _tile_runs(flags: np.ndarray, size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Boxes covering runs of flagged tiles, row of tiles by row of tiles."""
    width, height = size
    padded = np.zeros((flags.shape[0], flags.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = flags
    rows, cols = np.nonzero(np.diff(padded, axis=1))
    return [
        (int(start) * TILE, int(row) * TILE, min(width, int(stop) * TILE),
         min(height, (int(row) + 1) * TILE))
        for row, start, stop in zip(rows[::2], cols[::2], cols[1::2], strict=True)
    ]


def _fix_boxes(cutout: Image.Image, boxes, edge_plan: EdgePlan) -> list:
    """(box, new pixels) for each box that holds soft-band pixels."""
    fixed = []
    for box in boxes:
        pixels = _fix_box(cutout, box, edge_plan)
        if pixels is not None:
            fixed.append((box, pixels))
    return fixed


def _fix_box(cutout: Image.Image, box, edge_plan: EdgePlan) -> np.ndarray | None:
    """The box's pixels with the per-pixel formula applied to its soft band."""
    left, top, right, bottom = box
    pixels = np.array(cutout.crop(box))
    flat = pixels.reshape(-1, 4)
    where = np.flatnonzero((flat[:, 3] - np.uint8(1)) < np.uint8(OPAQUE_ENOUGH - 1))
    if where.size == 0:
        return None
    factor = edge_plan.factor
    cell_rows = (np.arange(top, bottom, dtype=np.int32) // factor) * edge_plan.map_width
    cell_cols = np.arange(left, right, dtype=np.int32) // factor
    cells = (cell_rows[:, None] + cell_cols[None, :]).reshape(-1)[where]
    fb, difference, bb = (np.take(table, cells, axis=0) for table in edge_plan.tables)
    chosen = flat[where]
    a = chosen[:, 3:4].astype(np.float32)
    a *= np.float32(1 / 255)
    colour = chosen[:, :3].astype(np.float32)
    # F = Fb + a * (I - Bb - a * (Fb - Bb)), rounded
    colour -= bb
    difference *= a
    colour -= difference
    colour *= a
    colour += fb
    colour += np.float32(0.5)
    np.clip(colour, 0.0, 255.0, out=colour)
    chosen[:, :3] = colour
    flat[where] = chosen
    return pixels
