"""The engine's one helper thread: work that overlaps the main thread's (the full decode
beside the mask upscale, the soft-edge estimate beside compositing). libjpeg, Pillow and
numpy release the GIL, so both threads make progress; it holds no request data between
calls."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

_helper: ThreadPoolExecutor | None = None


def side_pool() -> ThreadPoolExecutor:
    """The helper thread's pool, created on first use."""
    global _helper
    if _helper is None:
        _helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cutout-side")
    return _helper
