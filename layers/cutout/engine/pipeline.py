"""The engine: decode -> orient -> bound -> preprocess -> infer -> mask -> compose -> encode.

Bytes in, bytes and metadata out; no AWS, nothing written to disk, nothing kept between
calls except the model session, which requests never change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from cutout.engine.background import backdrop_image, check_background
from cutout.engine.compose import Box, Composition, compose, final_alpha, output_format
from cutout.engine.decode import DecodedImage, decode_image
from cutout.engine.encode import encode
from cutout.engine.models import default_model_name, model_spec
from cutout.engine.options import MEDIA_TYPES, RemovalOptions
from cutout.engine.png import encode_png
from cutout.engine.session import SegmentationModel
from cutout.engine.side_thread import side_pool
from cutout.settings import DEFAULT_MAX_PIXELS

_RESIZE = Image.Resampling.LANCZOS
# From this size up, the model's arena memory is given back before the full-size picture
# is decoded, so the two peaks never add up (costs ~0.05 s on a ~0.6 s request).
LARGE_IMAGE_PIXELS = 4_000_000


@dataclass
class CutoutResult:
    """The encoded output and what a client wants to know about it."""

    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    foreground: Box | None
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage
    mask_png: bytes | None = None  # only when asked for (training store)


class _Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.timings[name] = round(self.timings.get(name, 0.0) + elapsed, 2)


class Engine:
    """A segmentation model plus the pipeline around it; one per process."""

    _shared: dict[tuple[str, int, int], Engine] = {}
    _shared_lock = threading.Lock()

    def __init__(self, model: SegmentationModel, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.model = model
        self.max_pixels = max_pixels

    @classmethod
    def create(
        cls,
        model_name: str | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        threads: int = 0,
        model_dir: Path | None = None,
    ) -> Engine:
        """A new engine with its own session (no name: the manifest's default); the model's
        file checksum and its graph's input shape are checked against the manifest first."""
        spec = model_spec(model_name or default_model_name(model_dir), model_dir)
        return cls(SegmentationModel(spec, threads=threads), max_pixels)

    @classmethod
    def shared(
        cls, model_name: str = "", max_pixels: int = DEFAULT_MAX_PIXELS, threads: int = 0
    ) -> Engine:
        """The process-wide engine for these settings, created on first use."""
        key = (model_name, max_pixels, threads)
        with cls._shared_lock:
            if key not in cls._shared:
                cls._shared[key] = cls.create(model_name, max_pixels, threads)
            return cls._shared[key]

    def _header_read(self, pixels: int) -> None:
        """A large picture's session starts building while the picture decodes."""
        if pixels >= LARGE_IMAGE_PIXELS:
            self.model.prepare_lean()

    def remove(
        self, data: bytes, options: RemovalOptions | None = None, keep_mask: bool = False,
        background: bytes | None = None,
    ) -> CutoutResult:
        """Remove the background of one image; `background`, an image to lay it on."""
        options = options or RemovalOptions()
        if background is not None:
            check_background(options)
        clock = _Stopwatch()
        # The model sees a reduced decode where the format allows it, and the full-size
        # picture is decoded only after inference: the two memory peaks never overlap.
        with clock.stage("decode"):
            model_view = decode_image(data, self.max_pixels, at_least=self.model.draft_size,
                                      on_header=self._header_read)
        with clock.stage("infer"):
            large = model_view.source_pixels >= LARGE_IMAGE_PIXELS
            reduced, full_size = model_view.reduced, model_view.full_size
            tensor = self.model.preprocess(model_view.rgb)
            if reduced:  # that decode served the model only: not kept through the model's run
                del model_view
            small_mask = self.model.infer(tensor, release_memory=large)
            del tensor
        mask = None
        if reduced:
            # The full decode (libjpeg) and the mask's upscale (Pillow) both release the GIL:
            # run them side by side.
            full = side_pool().submit(decode_image, data, self.max_pixels, work_checked=True)
            with clock.stage("mask"):
                mask = self.model.mask_at(small_mask, options.output_size(*full_size))
            with clock.stage("decode"):
                decoded = full.result()
            del full  # a done future keeps its result: the full-size picture, 48 MB at 12 MP
        else:
            decoded = model_view
            del model_view
        backdrop = None
        if background is not None:
            with clock.stage("decode"):  # bounded as the input is; a JPEG at the size needed
                backdrop = backdrop_image(decode_image(
                    background, self.max_pixels, at_least=options.output_size(*decoded.size)))
        composition = self._compose(decoded, small_mask, options, clock, self.model, mask,
                                    backdrop)
        del backdrop
        del decoded  # the full-size input is not needed to encode: free it first
        with clock.stage("encode"):
            fmt = output_format(composition.image, options)
            payload = encode(composition.image, fmt)
        mask_png = encode_png(composition.alpha) if keep_mask else None
        clock.timings["total"] = round(sum(clock.timings.values()), 2)
        return CutoutResult(
            data=payload,
            content_type=MEDIA_TYPES[fmt],
            extension=fmt,
            width=composition.image.width,
            height=composition.image.height,
            foreground=composition.foreground,
            timings=clock.timings,
            mask_png=mask_png,
        )

    @staticmethod
    def _compose(
        decoded: DecodedImage,
        small_mask: np.ndarray,
        options: RemovalOptions,
        clock: _Stopwatch,
        model: SegmentationModel,
        mask: Image.Image | None = None,
        backdrop: Image.Image | None = None,
    ) -> Composition:
        """Mask at output size, then the picture; intermediates die when this returns."""
        with clock.stage("mask"):
            size = options.output_size(*decoded.size)
            rgb = decoded.rgb if size == decoded.size else decoded.rgb.resize(size, _RESIZE)
            input_alpha = decoded.alpha
            if input_alpha is not None and input_alpha.size != size:
                input_alpha = input_alpha.resize(size, _RESIZE)
            if mask is None or mask.size != size:
                # the model's mask at output size, with its family's reference kernel
                mask = model.mask_at(small_mask, size)
            alpha = final_alpha(mask, input_alpha)
            del mask, input_alpha
        with clock.stage("compose"):
            return compose(rgb, alpha, options, backdrop)
