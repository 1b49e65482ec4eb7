"""What a removal asks for, in the domain's terms: one image source and validated options.

The HTTP edge (`cutout.api`) builds these from bodies, headers and query strings; the
domain never sees any of those. No engine import at module level: only the container
function runs removals, but the zip functions may import the domain package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cutout.engine.options import RemovalOptions

UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{32,64}$")  # what POST /v1/uploads hands out


@dataclass(frozen=True)
class InlineImage:
    """Image bytes that came with the request."""

    data: bytes = field(repr=False)


@dataclass(frozen=True)
class UploadedImage:
    """An image the account PUT through a signed upload (`POST /v1/uploads`)."""

    upload_id: str


@dataclass(frozen=True)
class BucketObject:
    """An S3 object an `image_url` names (`cutout.api.image_url`), not yet known to be the
    account's: `cutout.service.image_url` decides, and reads it through S3's API only."""

    bucket: str
    key: str = field(repr=False)  # a customer's file name: kept out of logs and reprs
    region: str | None = None  # as the https URL named it (None: not named)


ImageSource = InlineImage | UploadedImage | BucketObject


@dataclass(frozen=True)
class RemovalRequest:
    """One image source and the options the engine validated; `background`, an image to lay
    the cutout on (remove.bg's `bg_image_file`, or an upload), read like the source."""

    source: ImageSource
    options: RemovalOptions
    background: InlineImage | UploadedImage | None = None
