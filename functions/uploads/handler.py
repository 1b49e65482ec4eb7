"""`POST /v1/uploads`: signed uploads for images too large to send inline."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from cutout import wiring
from cutout.api.routers import uploads
from cutout.api.runtime import Collaborators, Handler, LazyEntryPoint, api_handler
from cutout.service.receipt import Lifetimes
from cutout.service.uploads import UploadService
from cutout.settings import Settings

ROUTERS: tuple[Router, ...] = (uploads.router,)


def make_handler(
    service: UploadService | None = None, settings: Settings | None = None
) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""

    def uploads(c: Collaborators) -> UploadService:
        current: Settings = c["settings"]
        return UploadService(wiring.stores(current).transient,
                             current.upload_url_ttl_seconds, Lifetimes.from_settings(current))

    return api_handler("uploads", ROUTERS, {
        "settings": lambda _: settings or Settings.from_env(),
        "uploads": lambda c: service or uploads(c),
    })


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
