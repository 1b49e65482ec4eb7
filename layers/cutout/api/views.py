"""The JSON bodies the API answers with, in one place so the docs can point at them."""

from __future__ import annotations

from typing import Any

from cutout.data.accounts import Account


def account_view(account: Account) -> dict[str, Any]:
    return {
        "account_id": account.account_id,
        "created_at": account.created_at,
        "training_opt_in": account.opt_in,
        "training_opt_in_changed_at": account.opt_in_changed_at,
        "training_opt_in_changed_by": account.opt_in_changed_by,
    }


def upload_view(upload: Any) -> dict[str, Any]:
    """`upload` is a `cutout.service.uploads.Upload`."""
    return {
        "upload_id": upload.upload_id,
        "upload_url": upload.presigned.url,
        "method": "PUT",
        "headers": dict(upload.presigned.headers),
        "expires_in": upload.presigned.expires_in,
        "max_bytes": upload.max_bytes,
    }


def result_link_view(removal: Any) -> dict[str, Any]:
    """`removal` is a `cutout.service.removal.Removal` whose result left through S3."""
    result = removal.result
    foreground = None
    if result.foreground is not None:
        left, top, width, height = result.foreground
        foreground = {"left": left, "top": top, "width": width, "height": height}
    return {
        "result_url": removal.link.url,
        "expires_in": removal.link.expires_in,
        "content_type": result.content_type,
        "width": result.width,
        "height": result.height,
        "foreground": foreground,
    }
