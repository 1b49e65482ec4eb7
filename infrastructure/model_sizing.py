"""The inference function's default memory and timeout, derived from the chosen model's needs.

`inference_memory_mb` and `inference_timeout_seconds` default to 0, "derive": from the model's
measured needs at 12 MP when its manifest entry records them (`peak_rss_mb`, `seconds_12mp`,
written by `cutout models fetch` from the catalogue, or by hand from
`benchmarks/bench_engine.py --model`), else from the entry's `memory_mb` and `timeout_seconds`
(its family's estimates). A value set in cdk.json or with -c still wins.

Both scale from the 12 MP measurement to the deployment's `max_pixels`, the largest picture the
function must handle: memory by 16 bytes per extra pixel (the engine's per-pixel budget,
below), time in proportion to the pixels (decode, compose and encode are
per pixel; the model's own run is not, so this errs long).

- memory: the peak with 50 % headroom, but never below 3008 MB: Lambda gives one vCPU
  per 1,769 MB, and at 3008 MB (1.7 vCPU, the most a new account may use before a quota raise)
  ONNX Runtime's second thread pays for itself; at most 10,240 MB (Lambda's maximum).
- timeout: the seconds were measured on a 2-core machine; on Lambda's vCPUs at that
  memory they scale by 2 / vCPUs (never below 1x), then x3 headroom plus 5 s for reading the
  upload and writing the result, at least 10 s (a cold start's model load counts against the
  first invocation's timeout) and at most 29 s (API Gateway's integration timeout).
"""

from __future__ import annotations

import math
from pathlib import Path

from cutout.engine.models import ModelSpec, load_registry
from cutout.errors import ModelError
from cutout.limits import API_GATEWAY_TIMEOUT_SECONDS

# Memory budget of the inference function: a fixed part (runtime, numpy, ONNX Runtime, the
# model and its arena) plus a per-pixel part (decoded RGB, mask, RGBA cutout, encoder
# buffers). Derived from the engine's measured peak (docs/engine.md, benchmarks: a fresh process
# doing one 12 MP cutout peaks at 319 MB RSS): (319 MB - 160 MiB) / 12 MP = 13.9 bytes per
# pixel, rounded up to 16 for headroom, so the budget for 12 MP (343 MiB) covers the
# measurement. Re-derive both if the model or the engine's memory design changes.
ENGINE_BASE_MIB = 160
ENGINE_BYTES_PER_PIXEL = 16
MIB = 1024 * 1024


def max_pixels_for(memory_mb: int) -> int:
    """The largest `max_pixels` the inference function's memory can decode and compose."""
    return max(0, (memory_mb - ENGINE_BASE_MIB) * MIB // ENGINE_BYTES_PER_PIXEL)

MB_PER_VCPU = 1769
BENCHMARK_CORES = 2
MEMORY_FLOOR_MB = 3008
MEMORY_CEILING_MB = 10240
MEMORY_HEADROOM = 1.5
TIMEOUT_HEADROOM = 3
IO_ALLOWANCE_SECONDS = 5
TIMEOUT_FLOOR_SECONDS = 10
TIMEOUT_CEILING_SECONDS = API_GATEWAY_TIMEOUT_SECONDS
MEASURED_PIXELS = 12_000_000  # the benchmark's 12 MP picture (4000 x 3000)
BYTES_PER_EXTRA_PIXEL = 16


def derived_memory_mb(spec: ModelSpec, max_pixels: int = MEASURED_PIXELS) -> int:
    """Lambda memory for `spec`: measured peak x 1.5 within [3008, 10240], else memory_mb."""
    if not spec.peak_rss_mb:
        return min(MEMORY_CEILING_MB, max(128, spec.memory_mb))
    extra = max(0, max_pixels - MEASURED_PIXELS) * BYTES_PER_EXTRA_PIXEL / 1e6
    wanted = math.ceil((spec.peak_rss_mb + extra) * MEMORY_HEADROOM / 64) * 64
    return min(MEMORY_CEILING_MB, max(MEMORY_FLOOR_MB, wanted))


def derived_timeout_seconds(spec: ModelSpec, memory_mb: int,
                            max_pixels: int = MEASURED_PIXELS) -> int:
    """Lambda timeout for `spec` at `memory_mb`: measured seconds scaled, else its entry's."""
    if not spec.seconds_12mp:
        return min(TIMEOUT_CEILING_SECONDS, max(1, spec.timeout_seconds))
    slowdown = max(1.0, BENCHMARK_CORES / (memory_mb / MB_PER_VCPU))
    pixels = max(1.0, max_pixels / MEASURED_PIXELS)
    seconds = spec.seconds_12mp * slowdown * pixels * TIMEOUT_HEADROOM
    wanted = math.ceil(seconds) + IO_ALLOWANCE_SECONDS
    return min(TIMEOUT_CEILING_SECONDS, max(TIMEOUT_FLOOR_SECONDS, wanted))


def model_needs(model_name: str, memory_mb: int, timeout_seconds: int, max_pixels: int,
                folder: Path | None = None) -> tuple[int, int]:
    """(memory, timeout): each setting as given, or derived from the model where it is 0.

    A model the manifest does not declare keeps the family-less defaults (3008 MB, 29 s); the
    synth then refuses the name itself, with its own sentence (infrastructure.model_image).
    """
    try:
        spec = load_registry(folder).get(model_name)
    except ModelError:
        spec = None
    if spec is None:
        return memory_mb or MEMORY_FLOOR_MB, timeout_seconds or TIMEOUT_CEILING_SECONDS
    memory = memory_mb or derived_memory_mb(spec, max_pixels)
    return memory, timeout_seconds or derived_timeout_seconds(spec, memory, max_pixels)
