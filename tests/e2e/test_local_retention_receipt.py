"""The retention receipt over HTTP against `cutout serve`, held to the local stack's own
buckets: each time in `X-Cutout-Retention` is compared with the object S3 holds (its
LastModified) and the lifecycle rule its bucket carries (S3 adds the rule's days and rounds
up to the next midnight UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import requests

from cutout.service.receipt import parse_receipt

TRANSIENT_BUCKET = "cutout-local-transient"
TRAINING_BUCKET = "cutout-local-training"
# The sweeper's bound on a result with the stack's defaults: a 300 s link, then one
# 60-minute interval, a minute of lateness and a 5-minute run.
RESULT_BOUND = timedelta(minutes=71)


def s3_lifecycle_expiry(moto_s3, bucket: str, written: datetime) -> datetime:
    """When the bucket's expiration rule makes an object written at `written` expire."""
    [rule] = [r for r in moto_s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
              if r["Status"] == "Enabled" and "Days" in r.get("Expiration", {})]
    due = written + timedelta(days=rule["Expiration"]["Days"])
    return datetime.combine(due.date() + timedelta(days=1), time(0), tzinfo=UTC)


def stamped(moto_s3, bucket: str, key: str) -> datetime:
    return moto_s3.head_object(Bucket=bucket, Key=key)["LastModified"].astimezone(UTC)


def keys(moto_s3, bucket: str, prefix: str) -> set[str]:
    listing = moto_s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return {item["Key"] for item in listing.get("Contents", [])}


@pytest.fixture(scope="module")
def api(local_api):
    def call(method: str, path: str, **kwargs) -> requests.Response:
        headers = {"x-api-key": local_api.api_key, **kwargs.pop("headers", {})}
        return requests.request(method, local_api.base_url + path, headers=headers,
                                timeout=120, **kwargs)
    return call


def test_an_inline_cutout_and_a_refusal_say_none(api, local_api, photo_path, moto_s3):
    # When a photo is cut out inline, and a request without a key is refused by the gateway
    before = keys(moto_s3, TRANSIENT_BUCKET, "results/")
    answer = api("POST", "/v1/remove-background", data=photo_path.read_bytes(),
                 headers={"Content-Type": "image/jpeg"})
    refused = requests.post(local_api.base_url + "/v1/remove-background", data=b"x",
                            timeout=30)
    # Then both say nothing was stored, and no result object appeared
    assert answer.status_code == 200 and answer.headers["X-Cutout-Retention"] == "none"
    assert refused.status_code == 401 and refused.headers["X-Cutout-Retention"] == "none"
    assert keys(moto_s3, TRANSIENT_BUCKET, "results/") == before


def test_an_upload_and_its_result_are_gone_by_their_receipts_before_the_lifecycle_rule(
        api, photo_path, moto_s3):
    # Given an upload link, and the photo PUT through it
    answer = api("POST", "/v1/uploads")
    upload = answer.json()
    [upload_entry] = parse_receipt(answer.headers["X-Cutout-Retention"])
    put = requests.put(upload["upload_url"], data=photo_path.read_bytes(),
                       headers=upload["headers"], timeout=60)
    assert put.status_code == 200
    upload_key = f"uploads/demo/{upload['upload_id']}"
    upload_written = stamped(moto_s3, TRANSIENT_BUCKET, upload_key)
    # Then the upload's receipt covers the object S3 holds by 24 hours from its write, and
    # comes before the bucket's own lifecycle rule would expire it
    assert upload_entry.kind == "upload"
    assert upload_written + timedelta(hours=24) <= upload_entry.delete_by
    assert upload_entry.delete_by < s3_lifecycle_expiry(moto_s3, TRANSIENT_BUCKET,
                                                        upload_written)
    # When the upload is cut out (its result leaves as a signed link)
    before = keys(moto_s3, TRANSIENT_BUCKET, "results/demo/")
    removed = api("POST", "/v1/remove-background", json={"upload_id": upload["upload_id"]})
    assert removed.status_code == 200 and removed.json()["result_url"]
    [result_entry] = parse_receipt(removed.headers["X-Cutout-Retention"])
    [result_key] = keys(moto_s3, TRANSIENT_BUCKET, "results/demo/") - before
    result_written = stamped(moto_s3, TRANSIENT_BUCKET, result_key)
    # Then the receipt names the result, due at the sweeper's bound from S3's own timestamp,
    # long before the lifecycle rule
    assert result_entry.kind == "result"
    assert result_written + RESULT_BOUND <= result_entry.delete_by
    assert result_entry.delete_by <= result_written + RESULT_BOUND + timedelta(seconds=2)
    assert result_entry.delete_by < s3_lifecycle_expiry(moto_s3, TRANSIENT_BUCKET,
                                                        result_written)


def test_an_opted_in_removal_names_its_training_objects_at_the_training_rules_expiry(
        api, photo_path, moto_s3):
    # Given the demo account opted in to training
    assert api("PUT", "/v1/account/training-opt-in", json={"opt_in": True}).status_code == 200
    try:
        # When a photo is cut out inline
        answer = api("POST", "/v1/remove-background", data=photo_path.read_bytes(),
                     headers={"Content-Type": "image/jpeg"})
        assert answer.status_code == 200
        entries = parse_receipt(answer.headers["X-Cutout-Retention"])
        folder = f"training/demo/{answer.headers['X-Request-Id']}/"
        written = [stamped(moto_s3, TRAINING_BUCKET, key)
                   for key in sorted(keys(moto_s3, TRAINING_BUCKET, folder))]
    finally:
        api("PUT", "/v1/account/training-opt-in", json={"opt_in": False})
    # Then it names the input and the mask it kept, each at the moment the training store's
    # lifecycle rule expires the object S3 holds
    assert [entry.kind for entry in entries] == ["training-input", "training-mask"]
    assert len(written) == 2
    for entry, moment in zip(entries, written):
        assert s3_lifecycle_expiry(moto_s3, TRAINING_BUCKET, moment) <= entry.delete_by
        assert entry.delete_by <= s3_lifecycle_expiry(moto_s3, TRAINING_BUCKET,
                                                      moment + timedelta(seconds=2))
