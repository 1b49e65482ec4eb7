"""Every size and time bound of a request, named once, each saying which binds first.

The stack, `cutout serve`, the functions and the OpenAPI document read them here, so no two
copies can disagree. The order in AWS, for one synchronous request: API Gateway's 10 MB
payload, then Lambda's 6 MB invocation payload (the event carries the body base64-encoded,
so an inline image over about 4.5 MB is refused before our code runs), then ours.
"""

from __future__ import annotations

MIB = 1024 * 1024

# API Gateway's REST integration timeout (its default and, without a quota raise, its most):
# a function that runs longer cannot answer, the client already has a 504.
API_GATEWAY_TIMEOUT_SECONDS = 29

# API Gateway's payload limit, each way (not raisable). Never the first to bind in front of a
# Lambda proxy (Lambda's 6 MB binds first); the local gateway enforces it as AWS does.
API_GATEWAY_PAYLOAD_BYTES = 10 * MIB
# Lambda's synchronous invocation payload, request and response alike: the bound that binds.
LAMBDA_PAYLOAD_BYTES = 6 * MIB

# A request body as the event carries it (base64 of at most API Gateway's 10 MB, with slack):
# a defence in depth that cannot bind in AWS, where the event is already under 6 MB.
MAX_EVENT_BODY_CHARS = API_GATEWAY_PAYLOAD_BYTES * 4 // 3 + 1024
# A decoded inline image (a raw body, multipart or base64 field). In AWS the event's 6 MB
# binds first (about 4.5 MB of image); the local stack and direct callers meet this one.
MAX_INLINE_IMAGE_BYTES = LAMBDA_PAYLOAD_BYTES
# An image read from S3 (an upload, an `image_url` object, a batch item): our own bound, one
# ranged GET, so a single request never holds more than this of a caller's data.
MAX_OBJECT_IMAGE_BYTES = 64 * MIB

# Status, headers and JSON framing of a proxy answer, generously.
RESPONSE_OVERHEAD_BYTES = 16 * 1024
# The largest result that still travels inline: its base64 and the framing within Lambda's
# 6 MB response. Above it (or for an uploaded input) the result leaves by a signed link.
INLINE_RESULT_BYTES = (LAMBDA_PAYLOAD_BYTES - RESPONSE_OVERHEAD_BYTES) // 4 * 3


def fits_inline(size: int) -> bool:
    """Whether a result of `size` bytes, base64-encoded with its framing, fits the answer."""
    return 4 * ((size + 2) // 3) + RESPONSE_OVERHEAD_BYTES <= LAMBDA_PAYLOAD_BYTES
