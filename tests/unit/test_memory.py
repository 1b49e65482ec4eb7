"""Memory must not creep: RSS plateaus over 50 sequential requests of mixed sizes.

rembg users report RSS climbing request after request; a warm Lambda container that
creeps is eventually killed mid-request. We measure growth, never time.
"""

import io

import pytest
from engine_fixtures import PHOTOS
from PIL import Image

from cutout.engine import RemovalOptions

psutil = pytest.importorskip("psutil")

SIZES = [(640, 480), (1600, 1200), (3000, 2000), (800, 1200), (2400, 1800)]
OPTIONS = [{}, {"format": "webp"}, {"size": "preview"}, {"crop": "true"}, {"format": "jpg"}]
ALLOWED_GROWTH_MB = 48


@pytest.mark.slow
def test_rss_plateaus_over_fifty_mixed_requests(engine):
    # Given JPEGs of mixed sizes and a mix of options
    photo = Image.open(PHOTOS / "astronaut.jpg")
    inputs = []
    for size in SIZES:
        buffer = io.BytesIO()
        photo.resize(size).save(buffer, "JPEG", quality=90)
        inputs.append(buffer.getvalue())
    options = [RemovalOptions.from_params(params) for params in OPTIONS]
    process = psutil.Process()
    # When 50 requests go through one warm engine
    samples = []
    for index in range(50):
        engine.remove(inputs[index % len(inputs)], options[index % len(options) - 1])
        samples.append(process.memory_info().rss / 1e6)
    # Then, after a warm-up of 10, the last 20 requests peak no higher than the 20 before
    # them plus a small allowance (a creep of even 2 MB a request would exceed it)
    middle, last = max(samples[10:30]), max(samples[30:])
    assert last - middle < ALLOWED_GROWTH_MB, [round(s) for s in samples]
