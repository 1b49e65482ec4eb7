"""End-to-end fixtures: a real `cutout serve` per test module, real images, real clients."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import boto3
import numpy as np
import pytest
from e2e_local_api import LocalApi, start_local_api
from PIL import Image

from cutout.local.moto_stack import ACCESS_KEY_ID, SECRET_ACCESS_KEY

PHOTOS = Path(__file__).resolve().parents[1] / "fixtures" / "photos"
API_KEY = "co_live_e2e-fixed-demo-key-for-tests-only"


@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalApi]:
    """One `cutout serve` for the whole module, stopped with SIGTERM at the end."""
    api = start_local_api(tmp_path_factory.mktemp("serve"), API_KEY)
    yield api
    api.terminate()


@pytest.fixture(scope="module")
def moto_s3(local_api: LocalApi):
    """boto3 straight at the stack's moto (signed with its credentials, which it requires),
    to look at what the API stored."""
    return boto3.client(
        "s3", endpoint_url=local_api.moto_endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
    )


@pytest.fixture(scope="module")
def moto_kms(local_api: LocalApi):
    return boto3.client(
        "kms", endpoint_url=local_api.moto_endpoint, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY,
    )


@pytest.fixture(scope="session")
def photo_path() -> Path:
    return PHOTOS / "chelsea.jpg"


@pytest.fixture(scope="session")
def large_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4000x3000 JPEG over 10 MB: a real photo scaled up, with noise so it cannot compress."""
    source = Image.open(PHOTOS / "chelsea.jpg").convert("RGB").resize((4000, 3000))
    noise = np.random.default_rng(7).integers(-32, 33, size=(3000, 4000, 3), dtype=np.int16)
    pixels = np.clip(np.asarray(source, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=95, subsampling=0)
    path = tmp_path_factory.mktemp("large") / "large.jpg"
    path.write_bytes(buffer.getvalue())
    assert path.stat().st_size > 10 * 1024 * 1024
    return path
