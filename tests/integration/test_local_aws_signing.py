"""The local stack's moto answers only requests signed with the stack's own credentials, as
AWS answers only signed ones, and never reflects a foreign Origin in CORS headers.

moto runs here as `cutout serve` runs it (`MotoStack`: our server, our signature check, the
stack's resources) on loopback; the requests are real HTTP.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import boto3
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from cutout.data.schema import upload_object_key
from cutout.data.usage_plans import UsagePlanKeys
from cutout.local.moto_stack import ACCESS_KEY_ID, SECRET_ACCESS_KEY, LocalResources, MotoStack
from cutout.local.presign_check import SignatureVerifier

EVIL = "http://evil.example"
UPLOAD = upload_object_key("demo", "an-upload-id")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalResources]:
    with MotoStack() as resources:
        s3 = s3_client(resources)
        s3.put_object(Bucket=resources.transient_bucket, Key=UPLOAD, Body=b"the demo upload")
        yield resources


def s3_client(resources: LocalResources, key_id: str = ACCESS_KEY_ID,
              secret: str = SECRET_ACCESS_KEY):
    return boto3.client("s3", endpoint_url=resources.endpoint_url, region_name=resources.region,
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=Config(signature_version="s3v4",
                                      s3={"addressing_style": "path"}))


def item_count(resources: LocalResources) -> int:
    return resources.client("dynamodb").scan(TableName=resources.accounts_table,
                                             Select="COUNT")["Count"]


def cors_headers(response: requests.Response) -> dict[str, str]:
    return {k.lower(): v for k, v in response.headers.items()
            if k.lower().startswith("access-control-")}


# --- unsigned requests -------------------------------------------------------------------------
def test_an_unsigned_read_list_or_write_of_the_local_s3_is_refused(stack):
    # Given the demo upload in the transient bucket
    bucket = f"{stack.endpoint_url}/{stack.transient_bucket}"
    # When anyone on the machine reads, lists or writes without signing
    read = requests.get(f"{bucket}/{UPLOAD}", timeout=10)
    listing = requests.get(f"{bucket}?list-type=2", timeout=10)
    buckets = requests.get(stack.endpoint_url, timeout=10)
    write = requests.put(f"{bucket}/uploads/demo/planted", data=b"not yours", timeout=10)
    # Then S3's 403 AccessDenied answers each, and nothing was revealed or written
    for answer in (read, listing, buckets, write):
        assert answer.status_code == 403
        assert b"<Code>AccessDenied</Code>" in answer.content
        assert b"the demo upload" not in answer.content and UPLOAD.encode() not in answer.content
    keys = [o["Key"] for o in s3_client(stack).list_objects_v2(
        Bucket=stack.transient_bucket).get("Contents", [])]
    assert keys == [UPLOAD]


def test_an_unsigned_call_cannot_write_a_key_hash_into_the_accounts_table(stack):
    # Given the accounts table
    before = item_count(stack)
    # When a made-up caller sends DynamoDB PutItem without a signature
    answer = requests.post(f"{stack.endpoint_url}/", timeout=10, headers={
        "X-Amz-Target": "DynamoDB_20120810.PutItem",
        "Content-Type": "application/x-amz-json-1.0"},
        data=b'{"TableName": "cutout-local-accounts", "Item": {"pk": {"S": "KEY#' + b"0" * 64
        + b'"}, "sk": {"S": "KEY"}, "account_id": {"S": "demo"}}}')
    # Then DynamoDB's refusal answers and the table is unchanged
    assert answer.status_code == 400
    assert answer.json()["__type"] == "MissingAuthenticationTokenException"
    assert item_count(stack) == before


@pytest.mark.parametrize("key_id, secret, code", [
    ("AKIASOMEONEELSE00000", SECRET_ACCESS_KEY, "InvalidAccessKeyId"),
    (ACCESS_KEY_ID, "a-guessed-secret", "SignatureDoesNotMatch"),
], ids=["other credentials", "wrong secret"])
def test_a_request_signed_with_other_credentials_is_refused(stack, key_id, secret, code):
    # When boto3 signs with credentials that are not the stack's
    with pytest.raises(ClientError) as refused:
        s3_client(stack, key_id, secret).get_object(Bucket=stack.transient_bucket, Key=UPLOAD)
    # Then S3's own error code says why
    assert refused.value.response["Error"]["Code"] == code


# --- signed requests ---------------------------------------------------------------------------
def test_the_stacks_credentials_still_work_for_every_service_cutout_uses(stack):
    # When boto3 signs with the stack's credentials, for each service
    s3 = s3_client(stack)
    s3.put_object(Bucket=stack.transient_bucket, Key="results/demo/a b+c.png", Body=b"png")
    listed = s3.list_objects_v2(Bucket=stack.transient_bucket, Prefix="results/")["KeyCount"]
    body = s3.get_object(Bucket=stack.transient_bucket, Key="results/demo/a b+c.png")["Body"]
    link = s3.generate_presigned_url("get_object", ExpiresIn=60, Params={
        "Bucket": stack.transient_bucket, "Key": "results/demo/a b+c.png"})
    s3.delete_objects(Bucket=stack.transient_bucket, Delete={
        "Objects": [{"Key": "results/demo/a b+c.png"}], "Quiet": True})
    dynamodb = stack.client("dynamodb")
    table = dynamodb.describe_table(TableName=stack.accounts_table)["Table"]["TableName"]
    key = stack.client("kms").describe_key(KeyId=stack.kms_alias)["KeyMetadata"]["Arn"]
    in_plan = UsagePlanKeys(stack.client("apigateway")).admits(stack.usage_plan_id, "0" * 64)
    outputs = stack.client("cloudformation").describe_stacks(
        StackName=stack.stack_name)["Stacks"][0]["Outputs"]
    # Then every call is answered as AWS would
    assert listed == 1 and body.read() == b"png"
    assert requests.get(link, timeout=10).status_code == 404  # deleted meanwhile: S3's 404
    assert table == stack.accounts_table and key == stack.kms_key_arn and in_plan is False
    assert {"OutputKey": "UsagePlanId", "OutputValue": stack.usage_plan_id} in outputs


def test_a_header_signature_is_bound_to_its_body_and_its_time():
    # Given a DynamoDB call signed now with the stack's credentials
    request = AWSRequest(method="POST", url="http://127.0.0.1:9/", data=b'{"TableName": "t"}',
                         headers={"X-Amz-Target": "DynamoDB_20120810.DescribeTable",
                                  "Content-Type": "application/x-amz-json-1.0"})
    SigV4Auth(Credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY), "dynamodb",
              "us-east-1").add_auth(request)

    def environ(body: bytes) -> dict:
        headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in request.headers.items()}
        return {**headers, "REQUEST_METHOD": "POST", "RAW_URI": "/", "PATH_INFO": "/",
                "QUERY_STRING": "", "HTTP_HOST": "127.0.0.1:9", "CONTENT_LENGTH": str(len(body)),
                "CONTENT_TYPE": "application/x-amz-json-1.0", "wsgi.input": io.BytesIO(body)}

    now = time.time()
    verifier = SignatureVerifier(ACCESS_KEY_ID, SECRET_ACCESS_KEY, clock=lambda: now)
    late = SignatureVerifier(ACCESS_KEY_ID, SECRET_ACCESS_KEY, clock=lambda: now + 16 * 60)
    # When it is checked as sent, with another body, and 16 minutes later
    # Then only the request as signed, in time, passes
    assert verifier.refusal(environ(request.body)) is None
    assert verifier.refusal(environ(b'{"TableName": "other"}'))[0] == "SignatureDoesNotMatch"
    assert late.refusal(environ(request.body))[0] == "RequestTimeTooSkewed"


# --- CORS --------------------------------------------------------------------------------------
def test_a_foreign_origin_is_never_reflected(stack):
    # Given a signed link to the demo upload
    link = s3_client(stack).generate_presigned_url("get_object", ExpiresIn=60, Params={
        "Bucket": stack.transient_bucket, "Key": UPLOAD})
    origin = {"Origin": EVIL}
    # When a page on another origin fetches it, preflights a PUT, or calls DynamoDB
    fetched = requests.get(link, headers=origin, timeout=10)
    preflight = requests.options(f"{stack.endpoint_url}/{stack.transient_bucket}/{UPLOAD}",
                                 headers={**origin, "Access-Control-Request-Method": "PUT"},
                                 timeout=10)
    dynamodb = requests.post(f"{stack.endpoint_url}/", headers={
        **origin, "X-Amz-Target": "DynamoDB_20120810.ListTables"}, timeout=10)
    # Then no answer allows that origin (the link itself still works for a non-browser)
    assert fetched.status_code == 200
    for answer in (fetched, preflight, dynamodb):
        assert cors_headers(answer).get("access-control-allow-origin") in (None, "")
        assert EVIL not in str(answer.headers)


def test_a_buckets_own_cors_rule_still_answers_its_origin(stack):
    # Given a bucket whose CORS rule allows one origin (as S3 applies bucket CORS)
    s3 = s3_client(stack)
    s3.create_bucket(Bucket="cutout-cors-check")
    s3.put_bucket_cors(Bucket="cutout-cors-check", CORSConfiguration={"CORSRules": [{
        "AllowedOrigins": ["http://app.example"], "AllowedMethods": ["PUT"]}]})
    url = f"{stack.endpoint_url}/cutout-cors-check/x"

    def preflight(origin: str) -> requests.Response:
        return requests.options(url, timeout=10, headers={
            "Origin": origin, "Access-Control-Request-Method": "PUT"})

    # When that origin and a foreign one preflight a PUT
    # Then only the allowed origin is answered with itself
    assert cors_headers(preflight("http://app.example"))["access-control-allow-origin"] == \
        "http://app.example"
    assert "access-control-allow-origin" not in cors_headers(preflight(EVIL))
