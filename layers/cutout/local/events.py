"""Build API Gateway REST proxy events (the shape AWS sends) from plain HTTP parts.

Used by the local HTTP gateway and by the integration tests, so both drive the handlers
with exactly what API Gateway would hand them: binary bodies base64-encoded, header
names as sent plus the multi-value forms, and the authorizer's context under
`requestContext.authorizer`.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl


@dataclass(frozen=True)
class ApiOrigin:
    """The API an event says it came through: what API Gateway names in every event."""

    api_id: str = "local"
    account_id: str = "123456789012"
    region: str = "us-east-1"

    def request_context(self, method: str, path: str, resource: str, stage: str,
                        request_id: str) -> dict:
        """The `requestContext` keys the proxy and the authorizer events share."""
        return {"accountId": self.account_id, "apiId": self.api_id,
                "httpMethod": method.upper(), "path": f"/{stage}{path}",
                "requestId": request_id, "resourcePath": resource, "stage": stage}


LOCAL = ApiOrigin()


def proxy_event(
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    query: str | Mapping[str, str] | None = None,
    body: bytes | str | None = None,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    authorizer: Mapping[str, object] | None = None,
    stage: str = "prod",
    source_ip: str = "127.0.0.1",
    origin: ApiOrigin = LOCAL,
) -> dict:
    """A REST API (v1 payload) proxy integration event."""
    headers = dict(headers or {})
    if isinstance(query, str):
        pairs = parse_qsl(query, keep_blank_values=True)
    else:
        pairs = list((query or {}).items())
    single_query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in pairs:
        single_query[name] = value
        multi_query.setdefault(name, []).append(value)

    # The API lists */* as a binary media type, so API Gateway base64-encodes every body:
    # handlers must decode by isBase64Encoded, never guess.
    encoded = body is not None
    body_text: str | None = None
    if body is not None:
        raw = body.encode("utf-8") if isinstance(body, str) else body
        body_text = base64.b64encode(raw).decode("ascii")

    request_id = str(uuid.uuid4())
    now = time.time()
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": single_query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            **origin.request_context(method, path, resource or path, stage, request_id),
            "authorizer": dict(authorizer) if authorizer is not None else None,
            "domainName": "localhost",
            "extendedRequestId": request_id,
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
            "protocol": "HTTP/1.1",
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "requestTimeEpoch": int(now * 1000),
        },
        "body": body_text,
        "isBase64Encoded": encoded,
    }


def authorizer_request_event(
    method: str,
    path: str,
    *,
    headers: Mapping[str, str] | None = None,
    stage: str = "prod",
    origin: ApiOrigin = LOCAL,
) -> dict:
    """A REQUEST-type Lambda authorizer event for the same request."""
    headers = dict(headers or {})
    arn = (f"arn:aws:execute-api:{origin.region}:{origin.account_id}:{origin.api_id}/{stage}/"
           f"{method.upper()}{path}")
    return {
        "type": "REQUEST",
        "methodArn": arn,
        "resource": path,
        "path": path,
        "httpMethod": method.upper(),
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {},
        "pathParameters": {},
        "stageVariables": {},
        "requestContext": origin.request_context(method, path, path, stage, str(uuid.uuid4())),
    }
