"""A usage plan's per-key throttle, as API Gateway applies it: a token bucket per API key.

The plan's `throttle` (`rateLimit` requests per second, `burstLimit` tokens) is read from
moto's usage plan on each request, so the plan as configured is the plan as enforced; a plan
without a throttle does not throttle. A request over the bucket is API Gateway's THROTTLED
(429 with `Retry-After`, from the stack's gateway response template). Not emulated: the
stage's own throttle, per-method throttles, quotas, and AWS's best-effort accounting across
its fleet (AWS may admit a little over the burst; this bucket never does).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class KeyThrottle:
    """Token buckets by usage key, sized by `limits(key)` -> (rate, burst) or None."""

    def __init__(self, limits: Callable[[str], tuple[float, int] | None],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def admit(self, key: str) -> bool:
        """Whether one more request of `key` fits its plan's throttle now (and take it)."""
        limits = self._limits(key)
        if limits is None:
            self._buckets.pop(key, None)
            return True
        rate, burst = limits
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + (now - at) * rate)
            admitted = tokens >= 1
            self._buckets[key] = (tokens - 1 if admitted else tokens, now)
        return admitted
