"""Hostile inputs through the API: the review's scan bomb is a 422 in our JSON error shape,
answered from the file's structure (the engine never starts on it)."""

from __future__ import annotations

import sys

import pytest
from integration_support import ROOT

sys.path.insert(0, str(ROOT / "tests" / "unit"))  # the hostile corpus is shared with unit tests
import hostile_images  # noqa: E402

PATH = "/v1/remove-background"

BOMBS = {
    "jpeg scan bomb": (lambda: hostile_images.jpeg_scan_bomb(6000, 600), "image/jpeg"),
    "png chunk bomb": (lambda: hostile_images.png_with_chunks(300_000), "image/png"),  # 3.6 MB
    "gif frame bomb": (lambda: hostile_images.gif_frames(10_000), "image/gif"),
}


@pytest.mark.parametrize("case", BOMBS, ids=list(BOMBS))
def test_a_decode_bomb_is_answered_422_image_too_complex(gateway, caller, case):
    # Given a small file whose decoding work is unbounded by its size
    build, content_type = BOMBS[case]
    # When it is sent to remove-background
    answer = gateway.request("POST", PATH, key=caller.secret, body=build(),
                             headers={"Content-Type": content_type})
    # Then it is refused with a stable code in the JSON error shape, not decoded for seconds
    assert answer.status == 422
    assert answer.headers["Content-Type"] == "application/json"
    error = answer.json()["error"]
    assert error["code"] == "image_too_complex"
    assert "more than" in error["message"]
