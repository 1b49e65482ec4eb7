"""The JSON bodies the API answers with, built as the bodies of `cutout.openapi.models`.

Those TypedDicts are the one definition of each body: mypy holds these views to them and
openapi.json is derived from them. They are imported for type checking only, so a function
never loads pydantic to answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from cutout.data.accounts import Account
from cutout.service.usage import MonthlyUsage

if TYPE_CHECKING:
    from cutout.openapi import models as bodies
    from cutout.service.removal import Removal
    from cutout.service.uploads import Upload


def account_view(account: Account, usage: MonthlyUsage | None = None) -> bodies.Account:
    """The account, its switch and (for `GET /v1/account`) this month's usage."""
    view: bodies.Account = {
        "account_id": account.account_id,
        "created_at": account.created_at,
        "training_opt_in": account.opt_in,
        "training_opt_in_changed_at": account.opt_in_changed_at,
        "training_opt_in_changed_by": account.opt_in_changed_by,
        "training_erasure": erasure_view(account),
    }
    if usage is not None:
        view["usage"] = usage_view(usage)
    return view


def erasure_view(account: Account) -> bodies.TrainingErasure | None:
    """The last opt-out's deletion: `in_progress` until nothing is left, then `done`."""
    if account.erasure_state is None:
        return None
    # started_at is written in the same update as the state (cutout.data.accounts)
    return {"state": account.erasure_state, "deleted_objects": account.erasure_deleted,
            "started_at": cast(str, account.erasure_started_at),
            "finished_at": account.erasure_finished_at}


def usage_view(usage: MonthlyUsage) -> bodies.MonthlyUsage:
    """A calendar month (UTC) of counters: totals and the days that had any request."""
    return {
        "month": usage.month,
        "requests": usage.requests,
        "megapixels": usage.megapixels,
        "days": [{"day": d.day, "requests": d.requests,
                  "megapixels": round(d.pixels / 1_000_000, 2)} for d in usage.days],
    }


def upload_view(upload: Upload) -> bodies.Upload:
    """`upload` is a `cutout.service.uploads.Upload`."""
    return {
        "upload_id": upload.upload_id,
        "upload_url": upload.presigned.url,
        "method": "PUT",
        "headers": dict(upload.presigned.headers),
        "expires_in": upload.presigned.expires_in,
        "max_bytes": upload.max_bytes,
    }


def result_link_view(removal: Removal) -> bodies.ResultLink:
    """`removal` is a `cutout.service.removal.Removal` whose result left through S3."""
    result, link = removal.result, removal.link
    if link is None:
        raise ValueError("an inline removal has no result link")
    foreground: bodies.Foreground | None = None
    if result.foreground is not None:
        left, top, width, height = result.foreground
        foreground = {"left": left, "top": top, "width": width, "height": height}
    return {
        "result_url": link.url,
        "expires_in": link.expires_in,
        "content_type": result.content_type,
        "width": result.width,
        "height": result.height,
        "foreground": foreground,
    }
