"""Helpers of the batch tests: allow-listed buckets in moto, a catalogue of test images, the
batch-enabled handler and a wait for a job to end. (Uniquely named, like integration_support.)
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import fields, replace

import boto3
from integration_support import REGION, disc_image, load_function
from PIL import Image
from policy_check import IMAGE_URL_ROLE_ARN, JOB_ROLE_ARN

from cutout.local.batch_machine import create_batch_machine
from cutout.settings import Settings, env_name

SOURCE_BUCKET = "catalogue-in"
DESTINATION_BUCKET = "catalogue-out"
OUTSIDE_BUCKET = "not-allowed"


def allow_listed(settings: Settings, **overrides) -> Settings:
    """The moto deployment with two allow-listed buckets (and one outside the lists)."""
    s3 = boto3.client("s3", region_name=REGION)
    for bucket in (SOURCE_BUCKET, DESTINATION_BUCKET, OUTSIDE_BUCKET):
        s3.create_bucket(Bucket=bucket)
    # each job's items through a session of the batch-job role, as in the stack
    values = {"batch_source_buckets": SOURCE_BUCKET,
              "batch_destination_buckets": f"{DESTINATION_BUCKET},{SOURCE_BUCKET}",
              "batch_job_role_arn": JOB_ROLE_ARN, "image_url_role_arn": IMAGE_URL_ROLE_ARN,
              **overrides}
    return replace(settings, **values)


def batch_settings(settings: Settings, **overrides) -> Settings:
    """The moto deployment with batches on: the allow-listed buckets and the deployment's
    state machine and worker, created from the committed definition as `cutout serve`
    creates them (moto's interpreter runs it: the `aws` fixture)."""
    configured = allow_listed(settings, **overrides)
    machines = boto3.client("stepfunctions", region_name=REGION).list_state_machines()
    arn = next((m["stateMachineArn"] for m in machines["stateMachines"]), None) or \
        create_batch_machine(lambda service: boto3.client(service, region_name=REGION),
                             transient_bucket=settings.transient_bucket,
                             environment=environment(configured))
    return replace(configured, batch_state_machine_arn=arn)


def environment(settings: Settings) -> dict[str, str]:
    """The `CUTOUT_*` variables that configure these settings (the worker function's)."""
    return {env_name(f.name): str(getattr(settings, f.name)).lower()
            if isinstance(getattr(settings, f.name), bool) else str(getattr(settings, f.name))
            for f in fields(settings)}


def put(bucket: str, key: str, data: bytes) -> None:
    boto3.client("s3", region_name=REGION).put_object(Bucket=bucket, Key=key, Body=data)


def keys(bucket: str, prefix: str = "") -> list[str]:
    s3 = boto3.client("s3", region_name=REGION)
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend(o["Key"] for o in page.get("Contents", []))
    return sorted(found)


def head(bucket: str, key: str) -> dict:
    return boto3.client("s3", region_name=REGION).head_object(Bucket=bucket, Key=key)


def image(fmt: str, size: tuple[int, int]) -> bytes:
    if fmt == "WEBP":
        buffer = io.BytesIO()
        Image.open(io.BytesIO(disc_image("PNG", size))).save(buffer, "WEBP")
        return buffer.getvalue()
    return disc_image(fmt, size)


BROKEN = {
    "truncated.jpg": lambda: disc_image("JPEG", (200, 150))[:300],
    "notes.png": lambda: b"this is a text file with an image name\n",
    "empty.jpg": lambda: b"",
}


def batch_handler(settings: Settings, stores) -> object:
    """The container function's handler with batches on (the same engine as removals)."""
    from cutout.service.removal import build_removal_service

    return load_function("remove_background").make_handler(
        build_removal_service(settings, stores=stores), settings=settings)


def start(gateway, caller, source: str, destination: str, **fields) -> object:
    body = {"source": source, "destination": destination, **fields}
    return gateway.request("POST", "/v1/batches", key=caller.secret, body=json.dumps(body),
                           headers={"Content-Type": "application/json"})


def wait(gateway, caller, batch_id: str, timeout: float = 600) -> dict:
    """Poll the status route until the job has ended; its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = gateway.request("GET", f"/v1/batches/{batch_id}", key=caller.secret)
        assert answer.status == 200, answer.body
        status = answer.json()
        if status["state"] != "RUNNING" or time.monotonic() > deadline:
            return status
        time.sleep(0.2)
