"""AWS failures (throttling, 500, KMS, timeouts) injected at the boto3 client layer for each
handler: the caller gets a 503 with the request id and `Retry-After` in our error shape,
nothing is left half-written, and no log carries an image, a key or a URL.

Faults are raised from botocore's own event system (`before-call`, `before-sign`) on the
clients the stores are built from (`Stores.from_clients`), over moto; nothing is patched.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, ReadTimeoutError
from botocore.response import StreamingBody
from integration_support import (
    REGION,
    SERVICES,
    Gateway,
    LocalContext,
    bucket_keys,
    load_function,
)
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

from cutout.data import schema
from cutout.data.aws import dynamodb_resource, s3_client
from cutout.data.stores import Stores
from cutout.service.accounts import AccountService

REMOVE = "/v1/remove-background"
REMOVEBG = "/v1.0/removebg"
OPT_IN = "/v1/account/training-opt-in"
ON, OFF = json.dumps({"opt_in": True}), json.dumps({"opt_in": False})


# --- faults --------------------------------------------------------------------------------
def client_error(code: str, status: int, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "injected"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


# What S3 answers under load or failure (SSE-KMS objects fail with KMS's codes), and a read
# timeout whose text names the object's URL (which must not reach a log or a client).
LEAKED_URL = "https://cutout-test-transient.s3.amazonaws.com/uploads/leaked-object-key"
S3_FAULTS = {
    "throttled": lambda op: client_error("SlowDown", 503, op),
    "internal": lambda op: client_error("InternalError", 500, op),
    "kms": lambda op: client_error("KMS.KMSInternalException", 500, op),
    "timeout": lambda op: ReadTimeoutError(endpoint_url=LEAKED_URL),
}
DYNAMODB_FAULTS = {
    "throttled": lambda op: client_error("ProvisionedThroughputExceededException", 400, op),
    "internal": lambda op: client_error("InternalServerError", 500, op),
    "kms": lambda op: client_error("KMSInternalException", 500, op),
    "timeout": lambda op: ConnectTimeoutError(
        endpoint_url="https://dynamodb.us-east-1.amazonaws.com/leaked-table-url"),
}
# Signing a link (not a call): botocore's query-string signers end in `-query`.
PRESIGNING = {"event": "before-sign",
              "when": lambda event: str(event.get("signature_version")).endswith("-query")}
LEAKED_BY_FAULTS = ("leaked-object-key", "leaked-table-url", "amazonaws.com")


@dataclass
class Fault:
    """One failure registered on a client's events; `stop()` ends the outage."""

    events: Any
    name: str
    calls: int = 0

    def stop(self) -> None:
        self.events.unregister(self.name, unique_id=self.name)


@dataclass
class Faults:
    """The deployment's own clients, and failures registered on their events."""

    s3: Any
    dynamodb: Any  # the resource; its client is `dynamodb.meta.client`

    def fail(self, service: str, operation: str, fault: Any, *, skip: int = 0,
             event: str = "before-call", when: Any = None) -> Fault:
        """Raise `fault(operation)` from every call of `operation` after the first `skip`
        (only for events whose arguments satisfy `when`, if given)."""
        client = self.s3 if service == "s3" else self.dynamodb.meta.client
        handle = Fault(client.meta.events, f"{event}.{service}.{operation}")

        def inject(**arguments: Any) -> None:
            if when is not None and not when(arguments):
                return
            handle.calls += 1
            if handle.calls > skip:
                raise fault(operation)

        client.meta.events.register(handle.name, inject, unique_id=handle.name)
        return handle

    def break_body(self, operation: str) -> Fault:
        """S3 answers `operation`, then its body times out mid-stream (as a slow GET does)."""
        handle = Fault(self.s3.meta.events, f"after-call.s3.{operation}")

        class TimingOut(io.RawIOBase):
            def read(self, amt: int | None = None) -> bytes:
                raise Urllib3ReadTimeout(None, LEAKED_URL, "Read timed out.")

        def inject(parsed: dict, **_: Any) -> None:
            handle.calls += 1
            if "Body" in parsed:
                parsed["Body"] = StreamingBody(TimingOut(), 1024)

        self.s3.meta.events.register(handle.name, inject, unique_id=handle.name)
        return handle


@pytest.fixture(scope="module", autouse=True)
def powertools_loggers_first():
    """Each function's Powertools logger exists before the log-leak guard (an autouse fixture)
    attaches its plain handler: Powertools formats with the logger's first handler."""
    from aws_lambda_powertools import Logger

    for service in SERVICES:
        Logger(service=service)


@pytest.fixture
def faults(settings) -> Faults:
    return Faults(s3_client(), dynamodb_resource())


@pytest.fixture
def stores(settings, faults) -> Stores:
    """The conftest's fixtures (accounts, handlers, gateway) are built on these stores."""
    return Stores.from_clients(settings, faults.s3, faults.dynamodb)


# --- helpers ---------------------------------------------------------------------------------
def assert_unavailable(answer: Any, *, removebg: bool = False) -> None:
    """A 503 that says retry: `Retry-After`, the request id, our code, no AWS detail."""
    assert answer.status == 503, answer.body
    assert answer.headers.get("Retry-After") == "1"
    request_id = answer.headers.get("X-Request-Id")
    assert request_id
    body = answer.json()
    text = answer.body.decode()
    if removebg:
        assert body["errors"][0]["code"] == "service_unavailable"
    else:
        assert body["error"]["code"] == "service_unavailable"
        assert body["error"]["request_id"] == request_id
    for detail in (*LEAKED_BY_FAULTS, "SlowDown", "KMS", "InternalError", "Throughput"):
        assert detail not in text


def assert_clean_logs(text: str, *secrets: str | bytes) -> None:
    """No key, signed URL, image (raw or base64), object key or endpoint in the logs."""
    assert "X-Amz-Signature" not in text and "X-Amz-Credential" not in text
    for leaked in LEAKED_BY_FAULTS:
        assert leaked not in text
    for secret in secrets:
        if isinstance(secret, bytes):
            assert base64.b64encode(secret).decode()[:48] not in text
            assert secret[:48].decode("latin-1") not in text
        else:
            assert secret not in text


def all_logs(logs: Any, caplog: Any) -> str:
    """The functions' logs and prints, and every library logger's records."""
    return logs.text() + caplog.text


def put_upload(settings, account_id: str, upload_id: str, data: bytes) -> str:
    """An upload as the client's signed PUT leaves it (SSE-KMS under the deployment's key)."""
    key = schema.upload_object_key(account_id, upload_id)
    boto3.client("s3", region_name=REGION).put_object(
        Bucket=settings.transient_bucket, Key=key, Body=data, ServerSideEncryption="aws:kms",
        SSEKMSKeyId=settings.kms_key_id)
    return key


def removal_gateway(settings, stores, *, zero_retention: bool = False) -> Gateway:
    from cutout.service.keys import Authenticator
    from cutout.service.removal import build_removal_service

    configured = replace(settings, zero_retention=zero_retention)
    authorizer = load_function("authorizer").make_handler(Authenticator(stores.accounts))
    handler = load_function("remove_background").make_handler(
        build_removal_service(configured, stores=stores))
    return Gateway(authorizer, {"remove_background": handler})


def remove_upload(gateway: Gateway, caller, upload_id: str):
    return gateway.request("POST", REMOVE, key=caller.secret,
                           headers={"Content-Type": "application/json"},
                           body=json.dumps({"upload_id": upload_id}))


def remove_inline(gateway: Gateway, caller, image: bytes):
    return gateway.request("POST", REMOVE, key=caller.secret,
                           headers={"Content-Type": "image/png"}, body=image)


def keys_under(bucket: str, prefix: str) -> list[str]:
    return [key for key in bucket_keys(bucket) if key.startswith(prefix)]


UPLOAD_ID = "u" * 43


# --- remove background (native route) --------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(S3_FAULTS))
def test_a_result_that_cannot_be_stored_is_a_503_and_leaves_no_object(
        settings, stores, faults, caller, png_image, logs, caplog, kind):
    # Given an upload, and S3 failing to store the result (throttled, 500, KMS, timeout)
    put_upload(settings, caller.account_id, UPLOAD_ID, png_image)
    gateway = removal_gateway(settings, stores)
    faults.fail("s3", "PutObject", S3_FAULTS[kind])
    # When the upload is cut out
    answer = remove_upload(gateway, caller, UPLOAD_ID)
    # Then the caller is told to retry, and no result object exists
    assert_unavailable(answer)
    assert keys_under(settings.transient_bucket, schema.RESULTS_PREFIX) == []
    # And the upload is still there for the retry (S3 never served a result for it)
    assert keys_under(settings.transient_bucket, schema.UPLOADS_PREFIX)
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image, UPLOAD_ID)


def test_a_result_whose_link_cannot_be_signed_is_deleted(settings, stores, faults, caller,
                                                         png_image, logs, caplog):
    # Given an upload, and signing the result's link failing (credentials refresh timed out)
    put_upload(settings, caller.account_id, UPLOAD_ID, png_image)
    gateway = removal_gateway(settings, stores)
    signing = faults.fail("s3", "GetObject", S3_FAULTS["timeout"], **PRESIGNING)
    # When the upload is cut out
    answer = remove_upload(gateway, caller, UPLOAD_ID)
    # Then it is a 503 and the stored result went with its link: no orphan object, and the
    # answer's retention receipt says nothing was stored
    assert signing.calls == 1
    assert_unavailable(answer)
    assert keys_under(settings.transient_bucket, schema.RESULTS_PREFIX) == []
    assert answer.headers["X-Cutout-Retention"] == "none"
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image, UPLOAD_ID)


def test_a_result_that_outlives_its_failed_answer_is_named_on_that_answer(
        settings, stores, faults, caller, png_image):
    # Given an upload, signing the result's link failing, and then its deletion failing too
    put_upload(settings, caller.account_id, UPLOAD_ID, png_image)
    gateway = removal_gateway(settings, stores)
    faults.fail("s3", "GetObject", S3_FAULTS["timeout"], **PRESIGNING)
    faults.fail("s3", "DeleteObjects", S3_FAULTS["throttled"])
    # When the upload is cut out
    answer = remove_upload(gateway, caller, UPLOAD_ID)
    # Then the 503 says what the request left written: the result, until the sweeper's bound
    assert_unavailable(answer)
    [result] = keys_under(settings.transient_bucket, schema.RESULTS_PREFIX)
    kind, _, delete_by = answer.headers["X-Cutout-Retention"].partition("=")
    assert kind == "result"
    written = boto3.client("s3", region_name=REGION).head_object(
        Bucket=settings.transient_bucket, Key=result)["LastModified"]
    bound = datetime.strptime(delete_by, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - written
    # (the link's 300 s, one 60-minute interval, a minute late, a 5-minute run)
    assert timedelta(minutes=71) <= bound <= timedelta(minutes=71, seconds=2)


@pytest.mark.parametrize("kind", sorted(S3_FAULTS))
def test_an_upload_that_cannot_be_read_is_a_503_and_kept_for_the_retry(
        settings, stores, faults, caller, png_image, logs, caplog, kind):
    # Given a zero-retention deployment, an upload, and S3 failing to serve it
    put_upload(settings, caller.account_id, UPLOAD_ID, png_image)
    gateway = removal_gateway(settings, stores, zero_retention=True)
    faults.fail("s3", "GetObject", S3_FAULTS[kind])
    # When the upload is cut out
    answer = remove_upload(gateway, caller, UPLOAD_ID)
    # Then it is a 503, nothing is written, and the unread upload stays for the retry
    assert_unavailable(answer)
    assert keys_under(settings.transient_bucket, schema.RESULTS_PREFIX) == []
    assert keys_under(settings.transient_bucket, schema.UPLOADS_PREFIX)
    assert bucket_keys(settings.training_bucket) == []
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image, UPLOAD_ID)


def test_an_upload_whose_body_times_out_mid_stream_is_a_503_and_kept(
        settings, stores, faults, caller, png_image, logs, caplog):
    # Given a zero-retention deployment, an upload, and its GET timing out mid-body
    put_upload(settings, caller.account_id, UPLOAD_ID, png_image)
    gateway = removal_gateway(settings, stores, zero_retention=True)
    broken = faults.break_body("GetObject")
    # When the upload is cut out
    answer = remove_upload(gateway, caller, UPLOAD_ID)
    # Then it is a 503 (not a 500), and the upload that was never read stays for the retry
    assert broken.calls == 1
    assert_unavailable(answer)
    assert keys_under(settings.transient_bucket, schema.UPLOADS_PREFIX)
    assert keys_under(settings.transient_bucket, schema.RESULTS_PREFIX) == []
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image, UPLOAD_ID)


def test_zero_retention_deletes_the_upload_before_anything_is_written(
        settings, stores, faults, caller, png_image, logs, caplog):
    # Given a zero-retention deployment, an opted-in account's upload, and S3 refusing to
    # delete the upload once it was read
    accounts = AccountService(stores.accounts, stores.training)
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    put_upload(settings, caller.account_id, UPLOAD_ID, png_image)
    gateway = removal_gateway(settings, stores, zero_retention=True)
    faults.fail("s3", "DeleteObject", S3_FAULTS["throttled"])
    # When the upload is cut out
    answer = remove_upload(gateway, caller, UPLOAD_ID)
    # Then it is a 503, and neither a result nor a training copy was written for it
    assert_unavailable(answer)
    assert keys_under(settings.transient_bucket, schema.RESULTS_PREFIX) == []
    assert bucket_keys(settings.training_bucket) == []
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image, UPLOAD_ID)


def test_zero_retention_leaves_no_upload_behind_when_the_result_cannot_be_stored(
        settings, stores, faults, caller, png_image):
    # Given a zero-retention deployment, an upload, and S3 failing to store the result
    put_upload(settings, caller.account_id, UPLOAD_ID, png_image)
    gateway = removal_gateway(settings, stores, zero_retention=True)
    faults.fail("s3", "PutObject", S3_FAULTS["internal"])
    # When the upload is cut out
    answer = remove_upload(gateway, caller, UPLOAD_ID)
    # Then it is a 503, and the upload that was read is gone, as is any result
    assert_unavailable(answer)
    assert bucket_keys(settings.transient_bucket) == []


@pytest.mark.parametrize("kind", sorted(DYNAMODB_FAULTS))
def test_an_account_table_outage_is_a_503_and_uses_up_nothing(
        settings, stores, faults, caller, png_image, logs, caplog, kind):
    # Given a zero-retention deployment, an upload, and the accounts table failing the
    # opt-in read (the authorizer's key lookup goes through first)
    put_upload(settings, caller.account_id, UPLOAD_ID, png_image)
    gateway = removal_gateway(settings, stores, zero_retention=True)
    faults.fail("dynamodb", "GetItem", DYNAMODB_FAULTS[kind], skip=1)
    # When the upload is cut out
    answer = remove_upload(gateway, caller, UPLOAD_ID)
    # Then it is a 503 and the upload is still there for the retry
    assert_unavailable(answer)
    assert keys_under(settings.transient_bucket, schema.UPLOADS_PREFIX)
    assert keys_under(settings.transient_bucket, schema.RESULTS_PREFIX) == []
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image, UPLOAD_ID)


# --- training capture --------------------------------------------------------------------------
@pytest.mark.parametrize("failing_put", [0, 1], ids=["input", "mask"])
def test_a_capture_that_fails_half_way_keeps_nothing_and_the_cutout_is_still_answered(
        settings, stores, faults, accounts, caller, png_image, logs, caplog, failing_put):
    # Given an opted-in account, and S3 failing the training store's input or mask PUT
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    gateway = removal_gateway(settings, stores)
    faults.fail("s3", "PutObject", S3_FAULTS["throttled"], skip=failing_put)
    # When an image is cut out (inline: the training store gets the only PUTs)
    answer = remove_inline(gateway, caller, png_image)
    # Then the caller gets its cutout (training is best effort), and no half contribution
    # (an input without its mask) is left in the training store
    assert answer.status == 200
    assert answer.body.startswith(b"\x89PNG")
    assert bucket_keys(settings.training_bucket) == []
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image)


def test_a_capture_whose_opt_in_cannot_be_confirmed_is_taken_back(
        settings, stores, faults, accounts, caller, png_image):
    # Given an opted-in account, and the table failing the re-read after the capture
    # (GetItem: the key lookup, the opt-in read, then the capture's confirmation)
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    gateway = removal_gateway(settings, stores)
    faults.fail("dynamodb", "GetItem", DYNAMODB_FAULTS["throttled"], skip=2)
    # When an image is cut out
    answer = remove_inline(gateway, caller, png_image)
    # Then the cutout is answered and the unconfirmed contribution is not kept
    assert answer.status == 200
    assert bucket_keys(settings.training_bucket) == []


def test_a_usage_counter_that_cannot_be_written_never_costs_the_cutout(
        settings, stores, faults, caller, png_image, logs, caplog):
    # Given the table throttling the day's usage counter
    gateway = removal_gateway(settings, stores)
    counter = faults.fail("dynamodb", "UpdateItem", DYNAMODB_FAULTS["throttled"])
    # When an image is cut out
    answer = remove_inline(gateway, caller, png_image)
    # Then the cutout is answered all the same (counting is best effort)
    assert counter.calls == 1
    assert answer.status == 200
    assert answer.body.startswith(b"\x89PNG")
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image)


# --- remove.bg route -----------------------------------------------------------------------
def test_the_removebg_route_answers_a_503_in_its_own_shape(settings, stores, faults, caller,
                                                           png_image, logs, caplog):
    # Given the accounts table throttling the opt-in read
    gateway = removal_gateway(settings, stores)
    faults.fail("dynamodb", "GetItem", DYNAMODB_FAULTS["throttled"], skip=1)
    # When remove.bg's route is called
    answer = gateway.request("POST", REMOVEBG, key=caller.secret,
                             headers={"Content-Type": "application/json"},
                             body=json.dumps({"image_file_b64":
                                              base64.b64encode(png_image).decode()}))
    # Then it is remove.bg's error shape with our code, a 503 with Retry-After
    assert_unavailable(answer, removebg=True)
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image)


# --- uploads ---------------------------------------------------------------------------------
def test_an_upload_link_that_cannot_be_signed_is_a_503(gateway, faults, caller, logs, caplog):
    # Given signing failing (the credentials refresh timed out)
    signing = faults.fail("s3", "PutObject", S3_FAULTS["timeout"], **PRESIGNING)
    # When an upload is asked for
    answer = gateway.request("POST", "/v1/uploads", key=caller.secret)
    # Then it is a 503 with Retry-After
    assert signing.calls == 1
    assert_unavailable(answer)
    assert_clean_logs(all_logs(logs, caplog), caller.secret)


# --- account and privacy -------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/v1/account", "/v1/privacy"])
@pytest.mark.parametrize("kind", sorted(DYNAMODB_FAULTS))
def test_account_reads_are_a_503_when_the_table_fails(gateway, faults, caller, logs, caplog,
                                                      path, kind):
    # Given the accounts table failing after the authorizer's key lookup
    faults.fail("dynamodb", "GetItem", DYNAMODB_FAULTS[kind], skip=1)
    # When the account or the privacy answers are read
    answer = gateway.request("GET", path, key=caller.secret)
    # Then it is a 503 with Retry-After
    assert_unavailable(answer)
    assert_clean_logs(all_logs(logs, caplog), caller.secret)


@pytest.mark.parametrize("kind", sorted(DYNAMODB_FAULTS))
def test_an_opt_in_that_cannot_be_written_changes_nothing(gateway, faults, accounts, caller,
                                                          logs, caplog, kind):
    # Given the table failing the opt-in's transaction
    faults.fail("dynamodb", "TransactWriteItems", DYNAMODB_FAULTS[kind])
    # When the account opts in
    answer = gateway.request("PUT", OPT_IN, key=caller.secret,
                             headers={"Content-Type": "application/json"}, body=ON)
    # Then it is a 503, and the opt-in and its history are as they were
    assert_unavailable(answer)
    assert accounts.get_account(caller.account_id).opt_in is False
    assert accounts.opt_in_history(caller.account_id) == []
    assert_clean_logs(all_logs(logs, caplog), caller.secret)


def contribute(settings, stores, caller, png_image) -> list[str]:
    """An opted-in account's removal, captured for training; the stored keys."""
    gateway = removal_gateway(settings, stores)
    assert remove_inline(gateway, caller, png_image).status == 200
    stored = bucket_keys(settings.training_bucket)
    assert len(stored) == 2
    return stored


@pytest.mark.parametrize("operation,kind", [
    ("ListObjectVersions", "timeout"), ("ListObjectVersions", "throttled"),
    ("DeleteObjects", "internal"), ("DeleteObjects", "kms")])
def test_an_opt_out_whose_deletion_fails_stops_capture_and_leaves_the_erasure_to_finish(
        settings, stores, faults, accounts, caller, gateway, png_image, logs, caplog,
        operation, kind):
    # Given an opted-in account with a training contribution, and S3 failing its deletion
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    stored = contribute(settings, stores, caller, png_image)
    fault = faults.fail("s3", operation, S3_FAULTS[kind])
    # When the account opts out
    answer = gateway.request("PUT", OPT_IN, key=caller.secret,
                             headers={"Content-Type": "application/json"}, body=OFF)
    # Then it is a 503 the client may retry; the switch is already off (capture stopped, the
    # change recorded) and the erasure says truthfully it is not done, never "done" with data
    assert_unavailable(answer)
    account = accounts.get_account(caller.account_id)
    assert account.opt_in is False and account.erasure_state == "in_progress"
    assert [c.opt_in for c in accounts.opt_in_history(caller.account_id)] == [True, False]
    assert bucket_keys(settings.training_bucket) == stored
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image)
    # And once S3 answers again, the next read of the account finishes it
    fault.stop()
    assert gateway.request("GET", "/v1/account", key=caller.secret).json()[
        "training_erasure"]["state"] == "done"
    assert bucket_keys(settings.training_bucket) == []


def test_an_opt_out_whose_objects_s3_refuses_one_by_one_is_not_reported_done(
        settings, stores, faults, accounts, caller, gateway, png_image):
    # Given an opted-in account with a contribution, and S3 answering DeleteObjects with a
    # per-key refusal (a 200 whose `Errors` list the keys it kept)
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    stored = contribute(settings, stores, caller, png_image)

    @dataclass
    class Answered:
        status_code: int = 200

    def refuse(**_: Any) -> tuple[Answered, dict]:
        return Answered(), {"Errors": [{"Key": key, "Code": "InternalError"} for key in stored],
                            "ResponseMetadata": {"HTTPStatusCode": 200}}

    faults.s3.meta.events.register("before-call.s3.DeleteObjects", refuse)
    # When the account opts out
    answer = gateway.request("PUT", OPT_IN, key=caller.secret,
                             headers={"Content-Type": "application/json"}, body=OFF)
    # Then it is a 503 the client may retry; capture is off and the erasure not done
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["error"]["code"] == "training_deletion_failed"
    account = accounts.get_account(caller.account_id)
    assert account.opt_in is False and account.erasure_state == "in_progress"
    assert bucket_keys(settings.training_bucket) == stored


def test_an_opt_out_retried_after_the_outage_deletes_everything(
        settings, stores, faults, accounts, caller, gateway, png_image):
    # Given an opt-out that failed on S3 once
    accounts.set_opt_in(caller.account_id, True, changed_by="test")
    contribute(settings, stores, caller, png_image)
    outage = faults.fail("s3", "DeleteObjects", S3_FAULTS["throttled"])
    first = gateway.request("PUT", OPT_IN, key=caller.secret,
                            headers={"Content-Type": "application/json"}, body=OFF)
    assert first.status == 503
    # When it is retried after the outage
    outage.stop()
    retried = gateway.request("PUT", OPT_IN, key=caller.secret,
                              headers={"Content-Type": "application/json"}, body=OFF)
    # Then the account is opted out and nothing it contributed is left
    assert retried.status == 200
    assert retried.json()["training_opt_in"] is False
    assert retried.json()["deleted_training_objects"] == 2
    assert bucket_keys(settings.training_bucket) == []


# --- the authorizer ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(DYNAMODB_FAULTS))
def test_the_authorizer_fails_closed_with_a_503_when_the_key_cannot_be_checked(
        settings, stores, faults, caller, logs, caplog, kind):
    # Given the gateway with the stack's 300 s authorizer cache, and the key lookup failing
    from cutout.local.authorizer import RequestAuthorizer
    from cutout.local.gateway import LocalGateway
    from cutout.service.keys import Authenticator

    authorizer = load_function("authorizer").make_handler(Authenticator(stores.accounts))
    reached: list[dict] = []

    def account_function(event: dict) -> dict:
        reached.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
                "body": "{}"}

    local = LocalGateway(RequestAuthorizer(lambda event: authorizer(event, LocalContext()),
                                           ttl_seconds=300, require_usage_key=True),
                         {"account": account_function})
    outage = faults.fail("dynamodb", "GetItem", DYNAMODB_FAULTS[kind])
    # When a request comes with a valid key
    answer = local.handle("GET", "/v1/account", [("x-api-key", caller.secret)], None)
    # Then the gateway answers 503 with Retry-After and the request id; no handler ran
    headers = dict(answer.headers)
    body = json.loads(answer.body)
    assert answer.status == 503
    assert headers["Retry-After"] == "1"
    assert body["error"]["code"] == "service_unavailable"
    assert body["error"]["request_id"] == headers["X-Request-Id"]
    assert reached == []
    # And the failure was not cached: once the table answers, the same key is let through
    outage.stop()
    assert local.handle("GET", "/v1/account", [("x-api-key", caller.secret)], None).status \
        == 200
    assert len(reached) == 1
    assert_clean_logs(all_logs(logs, caplog), caller.secret)


# --- the sweeper -----------------------------------------------------------------------------
@pytest.mark.parametrize("operation,kind", [
    ("ListObjectsV2", "throttled"), ("ListObjectsV2", "timeout"),
    ("DeleteObjects", "internal")])
def test_a_sweep_that_s3_fails_is_a_failed_run_that_logs_no_key(
        settings, stores, faults, caller, png_image, logs, caplog, operation, kind):
    # Given an expired upload, and S3 failing the sweeper's listing or deletion
    from cutout.errors import ServiceUnavailable
    from cutout.service.retention import RetentionRule, Sweeper

    key = put_upload(settings, caller.account_id, UPLOAD_ID, png_image)
    later = datetime.now(UTC) + timedelta(days=2)
    sweeper = Sweeper(stores.transient, RetentionRule(), clock=lambda: later)
    handler = load_function("sweeper").make_handler(sweeper)
    faults.fail("s3", operation, S3_FAULTS[kind])
    # When the scheduled run fires
    with pytest.raises(ServiceUnavailable):
        handler({"source": "aws.events"}, LocalContext())
    # Then the invocation fails (the Errors alarm and EventBridge's retry take over), the
    # object is still there for the next run, and no log names it
    assert key in bucket_keys(settings.transient_bucket)
    assert_clean_logs(all_logs(logs, caplog), key, caller.account_id, png_image)


# --- batches ---------------------------------------------------------------------------------
def batch_gateway(settings, stores, faults) -> Gateway:
    """The container function with batches on (moto's interpreter) over the faulted clients."""
    from batch_support import batch_settings

    from cutout.data.batch_stores import BatchData
    from cutout.service.batch_setup import build_batch_service
    from cutout.service.keys import Authenticator
    from cutout.service.removal import build_removal_service

    configured = batch_settings(settings)
    data = BatchData.from_clients(configured, faults.s3, faults.dynamodb)
    removals = build_removal_service(configured, stores=stores)
    handler = load_function("remove_background").make_handler(
        removals, settings=configured,
        batch_service=build_batch_service(configured, data))
    authorizer = load_function("authorizer").make_handler(Authenticator(stores.accounts))
    return Gateway(authorizer, {"remove_background": handler})


def batch_items(settings) -> list[dict]:
    table = boto3.resource("dynamodb", region_name=REGION).Table(settings.accounts_table)
    return [item for item in table.scan()["Items"] if "batch_id" in item]


@pytest.mark.parametrize("service,operation,kind", [
    ("dynamodb", "PutItem", "throttled"), ("s3", "ListObjectsV2", "timeout")])
def test_a_batch_that_cannot_be_recorded_is_a_503_and_starts_nothing(
        settings, stores, faults, caller, png_image, logs, caplog, service, operation, kind):
    # Given a catalogue image, and the table (recording the job) or S3 (checking the source)
    # failing
    from batch_support import DESTINATION_BUCKET, SOURCE_BUCKET, keys, put, start

    gateway = batch_gateway(settings, stores, faults)
    me = f"{caller.account_id}/"  # batch prefixes lie in the account's own folder
    put(SOURCE_BUCKET, f"{me}shoot/a.png", png_image)
    fault = S3_FAULTS[kind] if service == "s3" else DYNAMODB_FAULTS[kind]
    faults.fail(service, operation, fault)
    # When a job is started
    answer = start(gateway, caller, f"s3://{SOURCE_BUCKET}/{me}shoot/",
                   f"s3://{DESTINATION_BUCKET}/{me}cutouts/")
    # Then it is a 503 with Retry-After, no job is recorded and nothing is written
    assert_unavailable(answer)
    assert batch_items(settings) == []
    assert keys(DESTINATION_BUCKET) == []
    assert_clean_logs(all_logs(logs, caplog), caller.secret, png_image)


def test_a_batch_status_that_cannot_be_read_is_a_503(settings, stores, faults, caller, logs,
                                                     caplog):
    # Given the table failing after the authorizer's key lookup
    gateway = batch_gateway(settings, stores, faults)
    faults.fail("dynamodb", "GetItem", DYNAMODB_FAULTS["internal"], skip=1)
    # When a job's status is read
    answer = gateway.request("GET", f"/v1/batches/{'a' * 32}", key=caller.secret)
    # Then it is a 503 with Retry-After
    assert_unavailable(answer)
    assert_clean_logs(all_logs(logs, caplog), caller.secret)
