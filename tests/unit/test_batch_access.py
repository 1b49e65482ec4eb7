"""A batch job's own session: the policy names only its two prefixes, whatever they hold."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from cutout.data.batch_access import (
    MAX_PREFIX_POLICY_CHARS,
    JobAccess,
    session_name,
    session_policy,
)
from cutout.service.batch_items import BatchInput

KEY = "arn:aws:kms:us-east-1:123456789012:key/k"
ROLE = "arn:aws:iam::123456789012:role/cutout-batch-job"


def _job(**changes) -> BatchInput:
    values = {"account_id": "acct1", "batch_id": "b1", "source_bucket": "in",
              "source_prefix": "acct1/ss27/", "destination_bucket": "out",
              "destination_prefix": "acct1/cutouts/", "options": {}, "overwrite": False}
    return BatchInput(**{**values, **changes})


def _statements(policy: dict) -> dict[str, dict]:
    return {s["Sid"]: s for s in policy["Statement"]}


def test_the_session_reads_only_the_source_prefix_and_writes_only_the_destination_prefix():
    policy = _statements(session_policy("in", "acct1/ss27/", "out", "acct1/cutouts/", KEY))
    assert policy["ReadSource"]["Action"] == "s3:GetObject"
    assert policy["ReadSource"]["Resource"] == "arn:aws:s3:::in/acct1/ss27/*"
    assert policy["WriteDestination"]["Resource"] == "arn:aws:s3:::out/acct1/cutouts/*"
    assert policy["EncryptOutputs"] == {"Sid": "EncryptOutputs", "Effect": "Allow",
                                        "Action": "kms:GenerateDataKey", "Resource": KEY}
    every_action = json.dumps([s["Action"] for s in policy.values()])
    assert "Delete" not in every_action and "s3:*" not in every_action


def test_iam_wildcards_in_a_prefix_are_literal_text_not_wildcards():
    # A folder named "*" must not widen the grant to every folder of the bucket
    policy = _statements(session_policy("in", "acct1/*/", "out", "acct1/a?b$c/", KEY))
    assert policy["ReadSource"]["Resource"] == "arn:aws:s3:::in/acct1/${*}/*"
    assert policy["WriteDestination"]["Resource"] == "arn:aws:s3:::out/acct1/a${?}b${$}c/*"


def test_the_session_is_named_after_the_account_and_job_within_stss_rules():
    assert session_name("acct1", "b1") == "acct1-b1"
    assert session_name("a c/ct", "b:1") == "a-c-ct-b-1"
    assert len(session_name("a" * 50, "b" * 50)) == 64


def test_the_longest_prefixes_the_api_admits_fit_stss_policy_limit():
    longest = "a" * (MAX_PREFIX_POLICY_CHARS - 1) + "/"
    bucket = "b" * 63
    packed = json.dumps(session_policy(bucket, longest, bucket, longest,
                                       "arn:aws:kms:ap-southeast-2:123456789012:key/" + "0" * 36),
                        separators=(",", ":"), ensure_ascii=False)
    assert len(packed) <= 2048


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def test_each_job_gets_its_own_sessions_client_with_the_policy_sent_to_sts(aws):
    sent = []

    class Recording:
        def __init__(self) -> None:
            self._sts = boto3.client("sts", region_name="us-east-1")

        def assume_role(self, **params):
            sent.append(params)
            return self._sts.assume_role(**params)

    access = JobAccess(ROLE, KEY, sts=Recording())
    buckets = access.buckets_for(_job())
    (params,) = sent
    assert params["RoleArn"] == ROLE and params["RoleSessionName"] == "acct1-b1"
    assert params["DurationSeconds"] == 900
    assert json.loads(params["Policy"]) == session_policy("in", "acct1/ss27/", "out",
                                                          "acct1/cutouts/", KEY)
    # the client signs with the session's key, not the function's
    signer = buckets._s3._request_signer._credentials
    assert signer.access_key.startswith("ASIA") and signer.token
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="out")
    assert buckets.exists("out", "acct1/cutouts/a.png") is False
