"""Pick the background image a removal names, for both removal routes.

`bg_image_file` is remove.bg's multipart field (a file part); `bg_upload_id` names an upload
of this account (`POST /v1/uploads`), for a background too large to travel inline. At most
one, never beside `bg_color`, and only with options a background means something for
(`cutout.engine.background.check_background`): all refused before anything is read. An
inline background is bounded as the image is (the route's `SourceRules`); both are decoded
under the engine's bounds.
"""

from __future__ import annotations

from cutout.api.body import BodyField
from cutout.api.image_source import SourceRules, check_inline_size, check_upload_id
from cutout.engine.background import check_background
from cutout.engine.options import RemovalOptions
from cutout.errors import ImageTooLarge, InvalidRequest, MultipleBackgrounds
from cutout.service.requests import InlineImage, UploadedImage

FILE_FIELD = "bg_image_file"
UPLOAD_FIELD = "bg_upload_id"
BACKGROUND_FIELDS = (FILE_FIELD, UPLOAD_FIELD)


def pick_background(fields: list[tuple[str, BodyField]], options: RemovalOptions,
                    rules: SourceRules) -> InlineImage | UploadedImage | None:
    """The one background among `fields` (named in `BACKGROUND_FIELDS`), or None."""
    if not fields:
        return None
    if len(fields) > 1:
        raise MultipleBackgrounds(f"give one background image: {FILE_FIELD} or "
                                  f"{UPLOAD_FIELD}, once")
    check_background(options)
    name, item = fields[0]
    if name == UPLOAD_FIELD:
        return UploadedImage(check_upload_id(item.value))
    if not isinstance(item.value, bytes):
        raise InvalidRequest(f"{FILE_FIELD} must be a file part of a multipart/form-data "
                             f"body; name an upload with {UPLOAD_FIELD} otherwise")
    try:
        check_inline_size(len(item.value))
    except ImageTooLarge:
        raise rules.too_large(f"the background image is over 6 MB: send it through "
                              f"POST /v1/uploads and name it with {UPLOAD_FIELD}") from None
    if not item.value:
        raise InvalidRequest(f"{FILE_FIELD} is empty")
    return InlineImage(item.value)
