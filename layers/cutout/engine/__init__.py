"""The segmentation engine: pure, in memory, no AWS. Bytes in, cutout bytes out."""

from cutout.engine.options import RemovalOptions
from cutout.engine.pipeline import CutoutResult, Engine

__all__ = ["CutoutResult", "Engine", "RemovalOptions"]
