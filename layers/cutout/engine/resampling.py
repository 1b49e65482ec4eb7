"""The resize kernels the model families' reference pipelines use, in and out of the model.

Pillow's filters antialias when they shrink; torch's `F.interpolate(mode="bilinear",
align_corners=False)`, which IS-Net's reference uses, does not, and thin structures (a
lattice tower) come out differently. When both axes grow, Pillow's bilinear filter equals
torch's (same sample positions, edge clamping equal to Pillow's weight renormalisation),
so the full-size mask takes Pillow's fast C path; only shrinking runs the numpy form.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

_PILLOW = {
    "lanczos": Image.Resampling.LANCZOS,
    "pil_bilinear": Image.Resampling.BILINEAR,
    "pil_bicubic": Image.Resampling.BICUBIC,
}


def resize_picture(rgb: Image.Image, size: tuple[int, int], kernel: str) -> np.ndarray:
    """The RGB picture at `size` (width, height) as float32 0..255, HxWx3."""
    if kernel == "torch_bilinear":
        pixels = torch_bilinear(np.asarray(rgb, dtype=np.float32), size)
        # IS-Net's reference casts the resized tensor back to uint8 (truncation) before /255
        return np.floor(pixels, out=pixels)
    # reducing_gap: a box pre-reduction before Lanczos, 4x faster on 12 MP and within
    # 3 grey levels of the plain Lanczos resize (rembg's); it only acts above 3x shrinking
    gap = 3.0 if kernel == "lanczos" else None
    return np.asarray(rgb.resize(size, _PILLOW[kernel], reducing_gap=gap), dtype=np.float32)


def resize_mask(mask: np.ndarray, size: tuple[int, int], kernel: str) -> Image.Image:
    """The uint8 mask (HxW) at `size` (width, height), as an "L" picture."""
    picture = Image.fromarray(mask, mode="L")
    if kernel != "torch_bilinear":
        return picture.resize(size, _PILLOW[kernel])
    if size[0] >= mask.shape[1] and size[1] >= mask.shape[0]:
        return picture.resize(size, Image.Resampling.BILINEAR)  # equal to torch's when growing
    grown = torch_bilinear(mask.astype(np.float32), size)
    return Image.fromarray(np.clip(np.rint(grown), 0, 255).astype(np.uint8), mode="L")


def torch_bilinear(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """torch.nn.functional.interpolate(mode="bilinear", align_corners=False), HxW[xC]."""
    width, height = size
    top, bottom, down = _taps(pixels.shape[0], height)
    left, right, across = _taps(pixels.shape[1], width)
    if pixels.ndim == 3:
        down, across = down[:, None, None], across[:, None]
    else:
        down = down[:, None]
    rows = pixels[top] * (1 - down) + pixels[bottom] * down
    return rows[:, left] * (1 - across) + rows[:, right] * across


def _taps(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output index: the two source indices and the weight of the second (torch's
    area_pixel_compute_source_index: (i + 0.5) * in/out - 0.5, clamped at 0)."""
    position = np.maximum((np.arange(target) + 0.5) * (source / target) - 0.5, 0.0)
    first = np.minimum(position.astype(np.int64), source - 1)
    second = np.minimum(first + 1, source - 1)
    return first, second, (position - first).astype(np.float32)
