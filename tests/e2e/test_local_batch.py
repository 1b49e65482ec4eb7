"""A catalogue job on the local stack, as a user runs it: `cutout serve`, images put into
moto's S3, `cutout batch start --wait` and `cutout batch report` from the command line.

Over 200 images of mixed sizes and formats, some broken: every good one is cut out, every
broken one is in the report with its code, nothing is written outside the destination
prefix and the job's own report, and a second run skips everything.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess

import pytest
from e2e_local_api import cutout_console_script
from PIL import Image, ImageDraw

from cutout.local.demo import DEMO_ACCOUNT_ID
from cutout.local.moto_stack import CATALOGUE_BUCKET, TRAINING_BUCKET, TRANSIENT_BUCKET

pytestmark = pytest.mark.slow

GOOD, BROKEN = 204, 12
# The catalogue bucket is both a source and a destination: sources lie in the account's
# folder, outputs under its cutouts/ (docs/batch.md)
SOURCE, DESTINATION = f"{DEMO_ACCOUNT_ID}/shoot/", f"{DEMO_ACCOUNT_ID}/cutouts/"


def _picture(rng: random.Random, size: tuple[int, int], fmt: str) -> bytes:
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    width, height = size
    ImageDraw.Draw(image).ellipse((width * 0.25, height * 0.2, width * 0.75, height * 0.8),
                                  fill=tuple(rng.randrange(256) for _ in range(3)))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _broken(rng: random.Random, n: int) -> tuple[str, bytes]:
    kinds = [("jpg", _picture(rng, (300, 200), "JPEG")[:400]),  # truncated
             ("png", b"\x89PNG\r\n\x1a\n" + bytes(64)),  # a PNG signature and nothing else
             ("webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
             ("jpg", b"")]
    extension, data = kinds[n % len(kinds)]
    return f"{SOURCE}broken/{n:03d}.{extension}", data


@pytest.fixture(scope="module")
def catalogue(moto_s3) -> dict[str, str]:
    """Good images (40 px to 800 px, three formats, two folder levels) and broken files;
    returns each key with what it is."""
    rng = random.Random(12)
    kinds: dict[str, str] = {}
    for n in range(GOOD):
        fmt, extension = [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")][n % 3]
        # Small on purpose (the engine's time is measured in benchmarks/), a few larger ones
        side = 800 if n % 50 == 0 else rng.choice((40, 64, 96, 160, 240, 320))
        size = (side, max(24, side * rng.choice((2, 3, 4)) // 3))
        key = f"{SOURCE}{'studio-b/' if n % 5 == 0 else ''}{n:03d}.{extension}"
        moto_s3.put_object(Bucket=CATALOGUE_BUCKET, Key=key, Body=_picture(rng, size, fmt))
        kinds[key] = "good"
    for n in range(BROKEN):
        key, data = _broken(rng, n)
        moto_s3.put_object(Bucket=CATALOGUE_BUCKET, Key=key, Body=data)
        kinds[key] = "broken"
    return kinds


def _cutout(local_api, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CUTOUT_API_URL": local_api.base_url,
           "CUTOUT_API_KEY": local_api.api_key}
    return subprocess.run([cutout_console_script(), "batch", *args], capture_output=True,
                          text=True, env=env, timeout=1800)


def _keys(moto_s3, bucket: str) -> list[str]:
    found = []
    for page in moto_s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        found.extend(entry["Key"] for entry in page.get("Contents", []))
    return sorted(found)


def _last_json(text: str) -> dict:
    return json.loads(text[text.rindex("\n{") + 1:] if "\n{" in text else text)


def test_a_catalogue_job_cuts_out_every_good_image_and_reports_every_broken_one(
        local_api, moto_s3, catalogue):
    # Given the catalogue in the local stack's allow-listed bucket
    source_uri = f"s3://{CATALOGUE_BUCKET}/{SOURCE}"
    destination_uri = f"s3://{CATALOGUE_BUCKET}/{DESTINATION}"

    # When a job runs to its end from the command line
    started = _cutout(local_api, "start", source_uri, destination_uri, "--wait")
    assert started.returncode == 0, started.stderr + local_api.log()[-3000:]
    status = _last_json(started.stdout)
    report = _cutout(local_api, "report", status["batch_id"])

    # Then every good image is cut out under its mirrored key, and only those
    assert status["state"] == "SUCCEEDED"
    assert status["totals"] == {"listed": GOOD + BROKEN, "done": GOOD, "skipped": 0,
                                "failed": BROKEN}
    good = sorted(key for key, kind in catalogue.items() if kind == "good")
    expected = sorted(DESTINATION + key[len(SOURCE):].rsplit(".", 1)[0] + ".png"
                      for key in good)
    assert _keys(moto_s3, CATALOGUE_BUCKET) == sorted([*catalogue, *expected])
    sample = moto_s3.get_object(Bucket=CATALOGUE_BUCKET, Key=expected[0])
    assert sample["ServerSideEncryption"] == "aws:kms"
    assert Image.open(io.BytesIO(sample["Body"].read())).mode == "RGBA"
    # And every broken file is in the report with its error code
    assert report.returncode == 0, report.stderr
    lines = dict(line.split("\t") for line in report.stdout.splitlines())
    assert sorted(lines) == sorted(key for key, kind in catalogue.items() if kind == "broken")
    assert set(lines.values()) <= {"undecodable_image", "unsupported_media_type"}
    # And nothing else was kept: the job's report only, no training data (not opted in)
    transient = _keys(moto_s3, TRANSIENT_BUCKET)
    assert transient and all(key.startswith("batches/") for key in transient)
    assert _keys(moto_s3, TRAINING_BUCKET) == []


def test_a_second_run_skips_everything_already_done(local_api, moto_s3, catalogue):
    # Given the first job's outputs (the test above, or this run's own first pass)
    source_uri = f"s3://{CATALOGUE_BUCKET}/{SOURCE}"
    destination_uri = f"s3://{CATALOGUE_BUCKET}/{DESTINATION}"
    if not any(key.startswith(DESTINATION) for key in _keys(moto_s3, CATALOGUE_BUCKET)):
        assert _cutout(local_api, "start", source_uri, destination_uri, "--wait").returncode == 0
    before = _keys(moto_s3, CATALOGUE_BUCKET)

    # When the same job runs again
    again = _cutout(local_api, "start", source_uri, destination_uri, "--wait")

    # Then every good image is skipped, the broken ones fail again, nothing new is written
    assert again.returncode == 0, again.stderr
    assert _last_json(again.stdout)["totals"] == {
        "listed": GOOD + BROKEN, "done": 0, "skipped": GOOD, "failed": BROKEN}
    assert _keys(moto_s3, CATALOGUE_BUCKET) == before
