"""API Gateway (REST, Lambda proxy) on one machine: route, authorize, invoke, translate back.

`LocalGateway.handle` takes plain HTTP parts and returns plain HTTP parts, so it can be
exercised without sockets; `cutout.local.http_server` puts it behind a real HTTP server.
The limits are AWS's: 10 MB per request at the gateway, 6 MB per Lambda invocation
payload each way (the event JSON, i.e. after base64), so what fails in AWS fails here.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from cutout.api.gateway_errors import GATEWAY_HEADERS, retry_after
from cutout.api.routes import ROUTES, Route
from cutout.limits import API_GATEWAY_PAYLOAD_BYTES, LAMBDA_PAYLOAD_BYTES
from cutout.local import gateway_responses as responses
from cutout.local.authorizer import RequestAuthorizer
from cutout.local.events import proxy_event
from cutout.local.gateway_responses import GatewayRefusal

# Sent by the client for the connection, not for the API; API Gateway does not pass them on.
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "upgrade", "te"}


@dataclass
class GatewayAnswer:
    """What goes back on the wire."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class LocalGateway:
    """Route a request to its function behind the authorizer, as the deployed API does."""

    def __init__(
        self,
        authorizer: RequestAuthorizer,
        functions: Mapping[str, Callable[[dict], Any]],
        routes: Sequence[Route] = ROUTES,
        stage: str = "prod",
    ) -> None:
        self._authorizer = authorizer
        self._functions = functions
        # each served route with its path pattern, compiled once
        self._routes = [(route, _path_pattern(route.path)) for route in routes
                        if route.function in functions]
        self._stage = stage

    @property
    def routes(self) -> tuple[Route, ...]:
        """The routes this gateway serves: the table's, where their function is loaded."""
        return tuple(route for route, _ in self._routes)

    def handle(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        source_ip: str = "127.0.0.1",
    ) -> GatewayAnswer:
        """One HTTP request in, one HTTP answer out; never raises for a client's request."""
        request_id = str(uuid.uuid4())
        try:
            return self._handle(method.upper(), target, headers, body, source_ip)
        except GatewayRefusal as refusal:
            return refused(refusal, request_id)

    def _handle(
        self,
        method: str,
        target: str,
        headers: list[tuple[str, str]],
        body: bytes | None,
        source_ip: str,
    ) -> GatewayAnswer:
        raw_path, _, query = target.partition("?")
        path = unquote(raw_path)
        if body is not None and len(body) > API_GATEWAY_PAYLOAD_BYTES:
            raise responses.request_too_large()
        route, parameters = self._match(method, path)
        function_name = route.function
        function = self._functions[function_name]
        event_headers = _event_headers(headers, source_ip)
        context = self._authorizer.authorize(method, path, event_headers) \
            if route.authorized else None
        event = proxy_event(
            method,
            path,
            headers=event_headers,
            query=query,
            body=body or None,
            resource=route.path,
            path_parameters=parameters,
            authorizer=context,
            stage=self._stage,
            source_ip=source_ip,
        )
        request_id = event["requestContext"]["requestId"]
        if _json_size(event) > LAMBDA_PAYLOAD_BYTES:
            raise responses.invocation_too_large()
        try:
            answer = function(event)
        except Exception:
            # As in AWS, the function's error goes to its log, the client gets a 502.
            print(f"[{function_name}] {request_id} failed:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            raise responses.bad_lambda_response("the function failed") from None
        translated = translate_proxy_answer(answer)
        translated.headers.append(("x-amzn-RequestId", request_id))
        return translated


    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for this method and path, and its path parameters.

        As API Gateway does, an unknown path and a known path with another method are the
        same refusal (MISSING_AUTHENTICATION_TOKEN, which the stack answers as a 404).
        """
        for route, pattern in self._routes:
            if route.method != method:
                continue
            match = pattern.match(path)
            if match:
                return route, match.groupdict()
        raise responses.no_route()


def _path_pattern(path: str) -> re.Pattern[str]:
    """`/v1/things/{thing_id}` as a pattern whose groups are the path parameters."""
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
    return re.compile(f"^{pattern}$")


def translate_proxy_answer(answer: Any) -> GatewayAnswer:
    """The Lambda proxy answer as HTTP; a malformed or oversized one is API Gateway's 502."""
    if not isinstance(answer, dict):
        raise responses.bad_lambda_response("malformed Lambda proxy response")
    try:
        status = int(answer.get("statusCode", 200))
    except (TypeError, ValueError):
        raise responses.bad_lambda_response("malformed Lambda proxy response") from None
    if _json_size(answer) > LAMBDA_PAYLOAD_BYTES:
        raise responses.bad_lambda_response("the response is over Lambda's 6 MB payload limit")
    body = answer.get("body") or ""
    if not isinstance(body, str):
        raise responses.bad_lambda_response("malformed Lambda proxy response")
    try:
        raw = base64.b64decode(body, validate=True) if answer.get("isBase64Encoded") else body
    except ValueError:
        raise responses.bad_lambda_response("isBase64Encoded but the body is not base64") from None
    headers = merged_headers(answer.get("headers"), answer.get("multiValueHeaders"))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return GatewayAnswer(status, headers, raw if isinstance(raw, bytes) else raw.encode("utf-8"))


def merged_headers(single: Any, multi: Any) -> list[tuple[str, str]]:
    """`headers` and `multiValueHeaders` merged; a name in both keeps the multi values."""
    pairs: list[tuple[str, str]] = []
    multi = multi if isinstance(multi, dict) else {}
    multi_names = {name.lower() for name in multi}
    for name, value in (single if isinstance(single, dict) else {}).items():
        if name.lower() not in multi_names:
            pairs.append((name, _text(value)))
    for name, values in multi.items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append((name, _text(value)))
    return pairs


def refused(refusal: GatewayRefusal, request_id: str) -> GatewayAnswer:
    """The gateway's own answer, rendered from the stack's template for its response type:
    our error and remove.bg's errors side by side, on every route, as in AWS."""
    return GatewayAnswer(
        refusal.status,
        # the headers the stack's gateway responses set (infrastructure/api_edge.py)
        [*GATEWAY_HEADERS.items(), ("X-Request-Id", request_id),
         ("x-amzn-RequestId", request_id), *retry_after(refusal.status).items()],
        refusal.body(request_id),
    )


def _event_headers(headers: list[tuple[str, str]], source_ip: str) -> dict[str, str]:
    kept = {name: value for name, value in headers if name.lower() not in _HOP_BY_HOP}
    kept.setdefault("X-Forwarded-For", source_ip)
    kept.setdefault("X-Forwarded-Proto", "http")
    return kept


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_size(payload: Any) -> int:
    return len(json.dumps(payload, separators=(",", ":"), default=str))
