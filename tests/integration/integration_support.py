"""Helpers of the integration tests: the moto deployment, handlers loaded by path, a small
API Gateway, log capture, test images. (A uniquely named module, so that test files can
import it whatever other conftest.py files are collected in the same run.)
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import logging
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
from aws_lambda_powertools.logging.formatter import BasePowertoolsFormatter
from PIL import Image, ImageDraw

from cutout.data import schema
from cutout.local.authorizer import RequestAuthorizer
from cutout.local.functions import LambdaContext
from cutout.local.gateway import LocalGateway
from cutout.service.accounts import AccountService
from cutout.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ROOT / "functions"
PHOTOS = ROOT / "tests" / "fixtures" / "photos"
# Every function's Powertools service, and the library's own logger (`cutout`), which each
# entry point writes through its function's JSON logger (cutout.api.runtime.entry).
SERVICES = ("authorizer", "account", "uploads", "remove-background", "sweeper", "batch-worker",
            "cutout")
REGION = "us-east-1"


@dataclass
class LocalContext(LambdaContext):
    """The local stack's Lambda context, named for the tests."""

    function_name: str = "cutout-test"


def create_deployment(prefix: str = "cutout-test") -> Settings:
    """The key, buckets and table as the CDK stack makes them (default SSE-KMS, bucket key)."""
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key(Description="cutout test key")["KeyMetadata"]["Arn"]
    s3 = boto3.client("s3", region_name=REGION)
    buckets = {"transient": f"{prefix}-transient", "training": f"{prefix}-training"}
    for bucket in buckets.values():
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                       "KMSMasterKeyID": key_id},
                "BucketKeyEnabled": True,
            }]},
        )
    table = f"{prefix}-accounts"
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in (
            schema.PARTITION_KEY, schema.SORT_KEY, schema.ACCOUNT_INDEX_PARTITION_KEY,
            schema.ACCOUNT_INDEX_SORT_KEY)],
        KeySchema=[{"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
                   {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": schema.ACCOUNT_INDEX,
            "KeySchema": [{"AttributeName": schema.ACCOUNT_INDEX_PARTITION_KEY, "KeyType": "HASH"},
                          {"AttributeName": schema.ACCOUNT_INDEX_SORT_KEY, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
    )
    return Settings(accounts_table=table, transient_bucket=buckets["transient"],
                    training_bucket=buckets["training"], kms_key_id=key_id)


@dataclass
class Caller:
    """An account with one live key (`secret` is what a client sends in x-api-key)."""

    account_id: str
    secret: str
    key_prefix: str
    key_hash: str


def new_caller(accounts: AccountService, scope: str = "admin") -> Caller:
    """The account's owner by default (an admin key); `scope="use"` for an application's key."""
    account = accounts.create_account()
    key, record = accounts.issue_key(account.account_id, scope=scope)
    return Caller(account.account_id, key.secret, record.key_prefix, record.key_hash)


def bucket_keys(bucket: str) -> list[str]:
    s3 = boto3.client("s3", region_name=REGION)
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


# --- handlers and the gateway --------------------------------------------------------------
def load_function(name: str, cold: bool = False) -> Any:
    """Import `functions/<name>/handler.py` by its path, as Lambda and the local stack do;
    `cold`: import it anew, as a new execution environment would (its entry point unbuilt)."""
    module_name = f"cutout_function_{name}"
    if module_name in sys.modules and not cold:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, FUNCTIONS / name / "handler.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Answer:
    """A proxy response, decoded for assertions."""

    status: int
    headers: dict[str, str]
    body: bytes
    raw: dict = field(repr=False)

    def json(self) -> Any:
        return json.loads(self.body)


class Gateway:
    """The local stack's in-process API Gateway (`cutout.local.gateway.LocalGateway`) in front
    of handlers built with the tests' collaborators: the route table routes, the REQUEST
    authorizer runs (uncached, so each test sees its own keys), refusals are the gateway's."""

    def __init__(self, authorizer: Any, functions: dict[str, Any]) -> None:
        self.last_proxy_answer: dict = {}

        def invoked(handler: Any) -> Any:
            def invoke(event: dict) -> dict:
                self.last_proxy_answer = handler(event, LocalContext())
                return self.last_proxy_answer
            return invoke

        self._gateway = LocalGateway(
            RequestAuthorizer(lambda event: authorizer(event, LocalContext()), ttl_seconds=0),
            {name: invoked(handler) for name, handler in functions.items()})

    def request(self, method: str, path: str, *, key: str | None = None,
                headers: dict[str, str] | None = None, body: bytes | str | None = None,
                query: str | dict | None = None) -> Answer:
        headers = dict(headers or {})
        if key is not None:
            headers["x-api-key"] = key
        target = path
        if query:
            target += "?" + (query if isinstance(query, str) else urlencode(query))
        self.last_proxy_answer = {}
        raw_body = body.encode("utf-8") if isinstance(body, str) else body
        answer = self._gateway.handle(method, target, list(headers.items()), raw_body)
        return Answer(answer.status, dict(answer.headers), answer.body, self.last_proxy_answer)


def answer_of(raw: dict) -> Answer:
    body = raw.get("body") or ""
    data = base64.b64decode(body) if raw.get("isBase64Encoded") else body.encode()
    headers = {k: v[-1] if isinstance(v, list) else v
               for k, v in {**(raw.get("multiValueHeaders") or {}),
                            **(raw.get("headers") or {})}.items()}
    return Answer(raw["statusCode"], headers, data, raw)


# --- logs ---------------------------------------------------------------------------------
class _SameFormat(logging.StreamHandler):
    """A listener that writes each record as the logger's Powertools handler formats it
    (JSON), found when the record comes: the library's logger gets its function's handler only
    when an entry point runs."""

    def __init__(self, stream: io.StringIO, target: logging.Logger) -> None:
        super().__init__(stream)
        self._target = target

    def format(self, record: logging.LogRecord) -> str:
        source = next((h for h in self._target.handlers
                       if isinstance(h.formatter, BasePowertoolsFormatter)), None)
        return source.format(record) if source else super().format(record)


class LogCapture:
    """Everything the functions logged (Powertools JSON) plus what was printed (EMF metrics)."""

    def __init__(self, capsys) -> None:
        self._capsys = capsys
        self._stream = io.StringIO()
        self._handlers: list[tuple[logging.Logger, logging.Handler]] = []

    def start(self) -> None:
        for name in SERVICES:
            target = logging.getLogger(name)
            handler = _SameFormat(self._stream, target)
            target.addHandler(handler)
            self._handlers.append((target, handler))

    def stop(self) -> None:
        for target, handler in self._handlers:
            target.removeHandler(handler)

    def text(self) -> str:
        captured = self._capsys.readouterr()
        self._printed = getattr(self, "_printed", "") + captured.out + captured.err
        return self._stream.getvalue() + self._printed


def assert_no_secrets(text: str, *secrets: str | bytes) -> None:
    """No key, no image bytes (raw or base64), no signed URL in `text`."""
    assert "X-Amz-Signature" not in text
    assert "x-amz-signature" not in text.lower()
    for secret in secrets:
        if isinstance(secret, bytes):
            encoded = base64.b64encode(secret).decode()
            assert encoded[:64] not in text
            assert secret[:64].decode("latin-1") not in text
        else:
            assert secret not in text


# --- images -------------------------------------------------------------------------------
def disc_image(fmt: str = "PNG", size: tuple[int, int] = (320, 240),
               colour: tuple[int, int, int] = (250, 200, 0),
               background: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    """A coloured disc on a plain background: a subject the model finds."""
    image = Image.new("RGB", size, background)
    width, height = size
    ImageDraw.Draw(image).ellipse((width * 0.3, height * 0.25, width * 0.7, height * 0.75),
                                  fill=colour)
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str | None]]
              ) -> tuple[bytes, str]:
    """A multipart/form-data body and its Content-Type, built by hand as a browser would."""
    boundary = "----cutoutBoundary7MA4YWxkTrZu0gW"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    for name, (filename, data, content_type) in files.items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\n')
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        parts.append(head.encode() + b"\r\n" + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# --- a guard on every test ------------------------------------------------------------------
LEAK_PATTERNS = {
    "an API key": re.compile(r"co_live_[A-Za-z0-9_-]{43}"),
    "a signed URL": re.compile(r"X-Amz-Signature|X-Amz-Credential", re.IGNORECASE),
    "base64 of a PNG": re.compile(r"iVBORw0KGgo"),
    "base64 of a JPEG": re.compile(r"/9j/4"),
    "PNG bytes": re.compile(r"\\x89PNG|\x89PNG"),
}
