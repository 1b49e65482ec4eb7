"""boto3 clients for the data layer, built one way so the local stack and AWS behave alike.

boto3 honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_S3`...) by itself; we only pick
path-style S3 addressing when an endpoint is set (moto's server on 127.0.0.1) and always
sign with SigV4, which presigned URLs for SSE-KMS objects require.

Every client built here answers an outage the same way: throttling, a 5xx, a KMS failure
behind S3 or DynamoDB, or a timeout that is still there after botocore's own retries is
raised as `ServiceUnavailable` (503 with `Retry-After`), from this one place. Its message
names the service, operation and AWS code, never a key, a URL or the error's own text
(a timeout's text holds the object's URL).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError
from botocore.response import StreamingBody

from cutout.errors import Conflict, ServiceUnavailable

# What a caller outside the data layer may catch without importing botocore itself.
AwsError = (BotoCoreError, ClientError, ServiceUnavailable)

# Error codes that mean "not now" (botocore's throttling and transient codes, and the KMS
# failures S3 and DynamoDB pass on, with or without their `KMS.` prefix).
OUTAGE_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "RequestThrottled", "SlowDown", "PriorRequestNotComplete", "RequestTimeout",
    "RequestTimeoutException", "InternalError", "InternalFailure", "InternalServerError",
    "ServiceUnavailable", "ServiceUnavailableException", "KMSInternalException",
    "KMSThrottlingException", "DependencyTimeoutException", "KeyUnavailableException",
    # DynamoDB cancels a transaction item by item; these reasons are outages too.
    "ThrottlingError", "ProvisionedThroughputExceeded",
})
OUTAGE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Signing is local, but it reads credentials, whose refresh can time out like a call.
PRESIGNERS = ("generate_presigned_url", "generate_presigned_post")
_SAFE_CODE = re.compile(r"[^A-Za-z0-9_.]")


# The codes S3 answers a missing object with (a HEAD has no body: its code is the status).
NOT_FOUND_CODES = ("404", "NoSuchKey", "NotFound")


def error_code(error: ClientError) -> str:
    """The AWS error code of a client error ("" when it carries none)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def put_new(table: Any, item: dict[str, Any], conflict: str) -> None:
    """Put an item whose key must not exist yet; `Conflict(conflict)` when it does."""
    try:
        table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if error_code(error) == "ConditionalCheckFailedException":
            raise Conflict(conflict) from None
        raise


def outage(error: BaseException) -> str | None:
    """The AWS code (or exception name) of an outage worth retrying later; None otherwise."""
    if isinstance(error, AwsConnectionError | HTTPClientError):
        return type(error).__name__
    if not isinstance(error, ClientError):
        return None
    code = error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    reasons = {str(r.get("Code", "")) for r in error.response.get("CancellationReasons") or []}
    if (code.removeprefix("KMS.") in OUTAGE_CODES or status in OUTAGE_STATUSES
            or reasons & OUTAGE_CODES):
        return _SAFE_CODE.sub("", code)[:64] or str(status)
    return None


def guarded(client: Any) -> Any:
    """`client`, with every operation (paginators' and resources' calls included) raising
    `ServiceUnavailable` for an outage; other errors pass unchanged (the stores read them)."""
    service = client.meta.service_model.service_id
    names = {**client.meta.method_to_api_mapping,
             **{name: name for name in PRESIGNERS if hasattr(client, name)}}
    base = type(client)
    methods = {name: _guard(getattr(base, name), f"{service} {operation}")
               for name, operation in names.items()}
    client.__class__ = type(f"Guarded{base.__name__}", (base,), methods)
    return client


@contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        code = outage(error)
        if code is None:
            raise
        # `from None`: the original's text (a timeout names the object's URL) stays out.
        raise ServiceUnavailable(f"{what} is unavailable ({code})") from None


class GuardedBody:
    """A response's streaming body whose reads translate an outage too (a GET's body can
    time out or break mid-stream, after the call itself returned)."""

    def __init__(self, body: StreamingBody, what: str) -> None:
        self._body = body
        self._what = what

    def read(self, amt: int | None = None) -> bytes:
        with _translated(self._what):
            return self._body.read(amt)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._body, name)


def _guard(method: Callable[..., Any], what: str) -> Callable[..., Any]:
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _translated(what):
            result = method(self, *args, **kwargs)
        if isinstance(result, dict) and isinstance(result.get("Body"), StreamingBody):
            result["Body"] = GuardedBody(result["Body"], what)
        return result
    call.__name__ = getattr(method, "__name__", "call")
    call.__doc__ = method.__doc__
    return call


def _configured_endpoint(service_id: str, endpoint_url: str | None = None) -> str | None:
    """The endpoint a client of `service_id` would use: given, or the AWS SDKs' variables."""
    env = os.environ
    return endpoint_url or env.get(f"AWS_ENDPOINT_URL_{service_id}") or env.get(
        "AWS_ENDPOINT_URL")


def s3_client(endpoint_url: str | None = None, region: str | None = None,
              credentials: dict[str, str] | None = None) -> Any:
    """An S3 client that signs with SigV4 (path-style when talking to a local endpoint);
    `credentials`: STS's `Credentials` (an assumed role's session) instead of the function's."""
    style = "path" if _configured_endpoint("S3", endpoint_url) else "auto"
    config = Config(signature_version="s3v4", s3={"addressing_style": style})
    session = {} if credentials is None else {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"]}
    return guarded(boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                                config=config, **session))


def sts_client(region: str | None = None) -> Any:
    """STS, regional (the VPC's interface endpoint), for a batch job's own session."""
    region = region or current_region()
    # never the global sts.amazonaws.com, which the isolated subnets cannot reach
    return guarded(boto3.client("sts", region_name=region, endpoint_url=_configured_endpoint(
        "STS") or f"https://sts.{region}.amazonaws.com"))


def dynamodb_resource(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """DynamoDB as a boto3 resource (native Python types in and out), its client guarded."""
    resource = boto3.resource("dynamodb", endpoint_url=endpoint_url, region_name=region)
    guarded(resource.meta.client)
    return resource


def dynamodb_table(name: str, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """The accounts table as a boto3 resource."""
    return dynamodb_resource(endpoint_url, region).Table(name)


def apigateway_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """API Gateway's control plane, for usage-plan keys created by the admin CLI."""
    return boto3.client("apigateway", endpoint_url=endpoint_url, region_name=region)


def stepfunctions_client(region: str | None = None) -> Any:
    """Step Functions, to start and read batch jobs' executions."""
    return guarded(boto3.client("stepfunctions", region_name=region))


def current_region() -> str:
    """The region the data-layer clients talk to (Lambda's AWS_REGION; the local stack's)."""
    return boto3.session.Session().region_name or "unknown"
