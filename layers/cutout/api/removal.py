"""Shape a removal into its answer: the image inline, or a signed link when it cannot be."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aws_lambda_powertools.event_handler import Response

from cutout.api.responses import image_response, json_response, removal_headers
from cutout.api.views import result_link_view
from cutout.errors import ResultTooLarge


def removal_response(removal: Any, publish: Callable[[Any], Any], request_id: str) -> Response:
    """`removal` is a `cutout.service.removal.Removal`; `publish` stores a result, gives a link.

    A result that would break Lambda's 6 MB response limit (`ResultTooLarge`) goes to the
    transient bucket and the client gets a short-lived signed GET instead.
    """
    result = removal.result
    headers = removal_headers(result.width, result.height, result.foreground, result.timings,
                              removal.processing_ms)
    if removal.link is None:
        try:
            return image_response(result.data, result.content_type, request_id, headers)
        except ResultTooLarge:
            removal = replace(removal, link=publish(result))
    return json_response(200, result_link_view(removal), request_id, headers)
