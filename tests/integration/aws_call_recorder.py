"""Records every AWS call a cutout function makes while the tests run, as IAM sees it.

A botocore event hook on every client (`before-call`): which function made the call (the
handler on the stack; the state machine's own calls happen inside moto's interpreter, where
nothing is recorded), and the IAM request(s) it
becomes: action, resource ARN and the condition keys IAM evaluates (`dynamodb:LeadingKeys`,
`dynamodb:Attributes`, `dynamodb:ReturnValues`, `s3:prefix`,
`s3:x-amz-server-side-encryption`). Calls made by the tests themselves (setting up moto,
looking at what was stored) belong to no function and are not recorded.

Installed once per session (tests/integration/conftest.py), and in each `cutout serve` the e2e
tests start (tests/e2e/aws_calls/sitecustomize.py writes its requests to the session's folder,
read back by served_calls.py); the check is tests/integration/test_least_privilege.py.
Light on purpose: one dict look-up per call.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import botocore.session

from cutout.data import schema

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = str(ROOT / "functions") + "/"
TESTS = str(ROOT / "tests") + "/"
RUNTIME = str(ROOT / "layers" / "cutout" / "api" / "runtime.py")
# functions/<dir>/<file> -> the function (its Powertools service name, as in the stack)
ENTRY_POINTS = {"remove_background/handler.py": "remove-background",
                "remove_background/batch_items.py": "batch-worker",
                "account/handler.py": "account", "authorizer/handler.py": "authorizer",
                "uploads/handler.py": "uploads", "sweeper/handler.py": "sweeper"}
EXPRESSION_WORDS = {"set", "add", "remove", "delete", "and", "or", "not", "between", "in",
                    "if_not_exists", "list_append", "attribute_exists", "attribute_not_exists",
                    "attribute_type", "begins_with", "contains", "size"}
PATH = re.compile(r"[#:]?[A-Za-z_]\w*(?:\[\d+\])*(?:\.#?[A-Za-z_]\w*(?:\[\d+\])*)*")


@dataclass(frozen=True)
class Request:
    """One IAM authorization request: who, the API call, and what IAM evaluates."""

    function: str
    call: str  # service:Operation, as the code called it
    action: str
    resource: str
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # made with an assumed role's session (a batch job's): the session policy it was given
    session_policy: str = ""

    def condition_values(self) -> dict[str, list[str]]:
        return {key: list(values) for key, values in self.context}

    def describe(self) -> str:
        context = ", ".join(f"{k}={list(v)}" for k, v in self.context)
        return f"{self.function}: {self.call} -> {self.action} on {self.resource}" + (
            f" [{context}]" if context else "")


class Recorder:
    def __init__(self) -> None:
        self.requests: set[Request] = set()
        self.first_seen: dict[Request, str] = {}  # request -> the test that first made it
        # an assumed role's access key id -> (the role's ARN, the session policy)
        self.sessions: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def install(self) -> None:
        """Hook every botocore client created from now on (boto3's included)."""
        original = botocore.session.Session.create_client
        if getattr(original, "_recorder", None) is not None:
            return
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            region = client.meta.region_name or "us-east-1"
            # DynamoDB's serialized body (after boto3's resource layer has written its
            # expressions); every other service's parameters as the caller passed them.
            client.meta.events.register(
                "before-call.dynamodb",
                lambda model, params, **_: recorder.record(model, json.loads(params["body"]),
                                                           region, _access_key(client)))
            client.meta.events.register(
                "before-parameter-build",
                lambda model, params, context=None, **_:
                model.service_model.endpoint_prefix != "dynamodb"
                and recorder.record(model, params, region, _access_key(client),
                                    presigned=bool((context or {}).get("is_presign_request")),
                                    context=context))
            client.meta.events.register("after-call.sts.AssumeRole", recorder.session_started)
            return client

        create_client._recorder = self  # type: ignore[attr-defined]
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign]

    def session_started(self, parsed: dict, context: dict | None = None, **_: Any) -> None:
        """An AssumeRole answered: later calls signed with its key are that role's session."""
        asked = (context or {}).get("cutout_assume_role")
        credentials = parsed.get("Credentials") or {}
        if asked and credentials.get("AccessKeyId"):
            with self._lock:
                self.sessions[credentials["AccessKeyId"]] = asked

    def record(self, model: Any, params: dict, region: str, access_key: str | None = None,
               presigned: bool = False, context: dict | None = None) -> None:
        """`presigned`: a URL signed with the function's credentials (a client executes it,
        as this role); one for a key ending in "/" is the account page learning S3's origin
        for its CSP, never fetched, so it is not a call. A call signed with an assumed role's
        key is that role's, judged with its session policy too."""
        function = current_function()
        if function is None or (presigned and str(params.get("Key", "")).endswith("/")):
            return
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        if model.name == "AssumeRole" and context is not None:
            context["cutout_assume_role"] = (params.get("RoleArn", ""), params.get("Policy", ""))
        role, session_policy = self.sessions.get(access_key or "", ("", ""))
        if role:
            function = role.rsplit("/", 1)[-1].removeprefix("cutout-")
        try:
            found = iam_requests(function, service, model.name, params, region)
        except Exception as error:  # never break the call: the check reports it instead
            found = [Request(function, f"{service}:{model.name}", "unparsed",
                             f"{type(error).__name__}: {error}")]
        if session_policy:
            found = [replace(request, session_policy=session_policy) for request in found]
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
        with self._lock:
            for request in found:
                if request not in self.requests:
                    self.requests.add(request)
                    self.first_seen[request] = test


RECORDER = Recorder()


def _access_key(client: Any) -> str | None:
    """The access key id the client signs with (an assumed role's session has its own)."""
    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    return getattr(credentials, "access_key", None)


def current_function() -> str | None:
    """The function whose handler is on this thread's stack (innermost first)."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith(TESTS) and filename != __file__:
            # a test's own hook inside a call (a simulated race): the test's call, not theirs
            return None
        if filename.startswith(FUNCTIONS):
            name = ENTRY_POINTS.get(filename[len(FUNCTIONS):])
            if name:
                return name
        elif filename == RUNTIME and frame.f_code.co_name == "handle":
            logger = frame.f_locals.get("logger")  # api_handler's closure: the service name
            if logger is not None:
                return str(logger.service)
        frame = frame.f_back  # type: ignore[assignment]
    return None


def iam_requests(function: str, service: str, operation: str, params: dict,
                 region: str) -> list[Request]:
    call = f"{service}:{operation}"
    if service == "dynamodb":
        return _dynamodb(function, call, operation, params, region)
    if service == "s3":
        return _s3(function, call, operation, params)
    resource = next((str(v) for k, v in sorted(params.items())
                     if k.endswith("Arn") or k in ("FunctionName", "KeyId")), "*")
    return [Request(function, call, f"{service}:{operation}", resource)]


# --- DynamoDB --------------------------------------------------------------------------
ITEM_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                "ConditionCheck": "ConditionCheckItem"}


def _dynamodb(function: str, call: str, operation: str, params: dict,
              region: str) -> list[Request]:
    if operation == "TransactWriteItems":
        found = []
        for entry in params["TransactItems"]:
            kind, item = next(iter(entry.items()))
            found += _dynamodb_item(function, call, ITEM_ACTIONS[kind], item, region)
        return found
    if operation == "TransactGetItems":
        return [r for entry in params["TransactItems"]
                for r in _dynamodb_item(function, call, "GetItem", entry["Get"], region)]
    return _dynamodb_item(function, call, operation, params, region)


def _dynamodb_item(function: str, call: str, action: str, params: dict,
                   region: str) -> list[Request]:
    table = params["TableName"]
    resource = table if table.startswith("arn:") else (
        f"arn:aws:dynamodb:{region}:123456789012:table/{table}")
    if params.get("IndexName"):
        resource += f"/index/{params['IndexName']}"
    context: dict[str, list[str]] = {}
    key = params.get("Key") or params.get("Item")
    if key and schema.PARTITION_KEY in key:
        context["dynamodb:LeadingKeys"] = [next(iter(key[schema.PARTITION_KEY].values()))]
    elif params.get("KeyConditionExpression"):
        context["dynamodb:LeadingKeys"] = _query_partition(params)
    names = params.get("ExpressionAttributeNames", {})
    if action in ("PutItem", "UpdateItem", "DeleteItem") or params.get("ProjectionExpression"):
        attributes = set(params.get("Item", {})) | set(params.get("Key", {}))
        for field in ("UpdateExpression", "ConditionExpression", "ProjectionExpression"):
            attributes |= _expression_attributes(params.get(field, ""), names)
        context["dynamodb:Attributes"] = sorted(attributes)
    if params.get("ReturnValues"):
        context["dynamodb:ReturnValues"] = [params["ReturnValues"]]
    if params.get("Select"):
        context["dynamodb:Select"] = [params["Select"]]
    return [Request(function, call, f"dynamodb:{action}", resource,
                    tuple(sorted((k, tuple(v)) for k, v in context.items())))]


def _expression_attributes(expression: str, names: dict[str, str]) -> set[str]:
    found = set()
    for path in PATH.findall(expression):
        if path.startswith(":"):
            continue
        top = re.split(r"[.\[]", path, maxsplit=1)[0]
        if top.lower() in EXPRESSION_WORDS:
            continue
        found.add(names.get(top, top))
    return found


def _query_partition(params: dict) -> list[str]:
    names = params.get("ExpressionAttributeNames", {})
    values = params.get("ExpressionAttributeValues", {})
    partition_keys = (schema.PARTITION_KEY, schema.ACCOUNT_INDEX_PARTITION_KEY)
    for name, placeholder in re.findall(r"(#?\w+)\s*=\s*(:\w+)",
                                        params["KeyConditionExpression"]):
        if names.get(name, name) in partition_keys and placeholder in values:
            return [str(next(iter(values[placeholder].values())))]
    return []


# --- S3 --------------------------------------------------------------------------------
OBJECT_ACTIONS = {"PutObject": "s3:PutObject", "CreateMultipartUpload": "s3:PutObject",
                  "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
                  "GetObject": "s3:GetObject", "HeadObject": "s3:GetObject",
                  "DeleteObject": "s3:DeleteObject",
                  "AbortMultipartUpload": "s3:AbortMultipartUpload"}
LIST_ACTIONS = {"ListObjectsV2": "s3:ListBucket", "ListObjects": "s3:ListBucket",
                "HeadBucket": "s3:ListBucket", "ListObjectVersions": "s3:ListBucketVersions"}


def _s3(function: str, call: str, operation: str, params: dict) -> list[Request]:
    bucket = params.get("Bucket", "")
    if operation in LIST_ACTIONS:
        context = (("s3:prefix", (params.get("Prefix", ""),)),)
        return [Request(function, call, LIST_ACTIONS[operation], f"arn:aws:s3:::{bucket}",
                        context)]
    if operation == "DeleteObjects":
        return [_s3_object(function, call, "DeleteObject", bucket, entry)
                for entry in params["Delete"]["Objects"]]
    if operation == "CopyObject":
        source = params["CopySource"]
        if isinstance(source, str):
            source_bucket, _, source_key = source.lstrip("/").partition("/")
            source = {"Bucket": source_bucket, "Key": source_key}
        return [_s3_object(function, call, "GetObject", source["Bucket"], source),
                _s3_object(function, call, "PutObject", bucket, params)]
    if operation in OBJECT_ACTIONS:
        return [_s3_object(function, call, operation, bucket, params)]
    return [Request(function, call, f"s3:{operation}", f"arn:aws:s3:::{bucket}")]


def _s3_object(function: str, call: str, operation: str, bucket: str,
               params: dict) -> Request:
    action = OBJECT_ACTIONS[operation]
    if params.get("VersionId") and action in ("s3:GetObject", "s3:DeleteObject"):
        action += "Version"
    context = []
    if params.get("ServerSideEncryption"):
        context.append(("s3:x-amz-server-side-encryption", (params["ServerSideEncryption"],)))
    return Request(function, call, action, f"arn:aws:s3:::{bucket}/{params['Key']}",
                   tuple(context))
