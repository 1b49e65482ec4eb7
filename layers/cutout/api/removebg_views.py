"""The JSON bodies of remove.bg's other v1.0 routes: `GET /v1.0/account`, `POST /v1.0/improve`.

Shapes as remove.bg's OpenAPI 1.0.0 gives them. This deployment sells no credits: an account
pays for its own AWS bill and no call is ever refused for credits (no 402). `credits` are
therefore this month's removals (one per cutout, from the usage counters that
`GET /v1/account` reads), a count of work done rather than a balance; `usage` beside them
says the same in our own terms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cutout.service.usage import MonthlyUsage

if TYPE_CHECKING:  # the bodies' one definition; types only, no pydantic at run time
    from cutout.openapi.models import RemoveBgAccount, RemoveBgSubmission

SIZES = "all"  # remove.bg: "always all, deprecated"
FREE_CALLS = 0  # no call is free or paid: nothing is metered in credits


def removebg_account_view(usage: MonthlyUsage) -> RemoveBgAccount:
    """remove.bg's account body: this month's removals as credits, and our usage beside."""
    credits = float(usage.requests)
    return {"data": {"attributes": {
        "credits": {"total": credits, "subscription": 0.0, "payg": 0.0, "enterprise": credits},
        "api": {"free_calls": FREE_CALLS, "sizes": SIZES},
        "usage": {"month": usage.month, "requests": usage.requests,
                  "megapixels": usage.megapixels},
    }}}


def improve_view(submission_id: str) -> RemoveBgSubmission:
    """remove.bg's improvement-program answer: the id of the kept image.

    remove.bg's OpenAPI documents a top-level `id`; its other answers nest under `data`, so
    the id is in both places and a client written against either finds it."""
    return {"id": submission_id, "data": {"id": submission_id}}
