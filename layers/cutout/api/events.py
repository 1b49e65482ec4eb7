"""Read what a handler needs from an API Gateway proxy event: body, headers, the caller."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cutout.errors import InvalidRequest, Unauthorized
from cutout.limits import MAX_EVENT_BODY_CHARS

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent



@dataclass(frozen=True)
class Principal:
    """The caller as the authorizer established it."""

    account_id: str
    key_prefix: str
    key_scope: str = "use"  # `admin` or `use` (cutout.data.accounts.SCOPES)


def principal(event: APIGatewayProxyEvent) -> Principal:
    """The account and key prefix the authorizer put in the request context."""
    authorizer = event.request_context.authorizer
    context = authorizer.raw_event if authorizer is not None else {}
    account_id = context.get("account_id") if isinstance(context, dict) else None
    if not account_id:
        raise Unauthorized("the request carries no authenticated account")
    return Principal(account_id=str(account_id), key_prefix=str(context.get("key_prefix", "")),
                     key_scope=str(context.get("key_scope", "use")))


def body_bytes(event: APIGatewayProxyEvent) -> bytes:
    """The request body as bytes, decoded by `isBase64Encoded` (never by guessing)."""
    body = event.body
    if body is None:
        return b""
    if len(body) > MAX_EVENT_BODY_CHARS:
        raise InvalidRequest("the request body is larger than API Gateway accepts")
    if event.is_base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidRequest("the request body is not valid base64") from None
    return body.encode("utf-8")


def header(event: APIGatewayProxyEvent, name: str) -> str | None:
    """A request header, whatever its case (Powertools' headers mapping is case-insensitive)."""
    return event.headers.get(name)
