"""The container function: `POST /v1/remove-background` and remove.bg's `POST /v1.0/removebg`."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from cutout.api.routers import removal, removebg
from cutout.api.runtime import Handler, LazyEntryPoint, api_handler
from cutout.service.removal import RemovalService, build_removal_service
from cutout.settings import Settings

ROUTERS: tuple[Router, ...] = (removal.router, removebg.router)


def make_handler(
    service: RemovalService | None = None, settings: Settings | None = None
) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""
    return api_handler("remove-background", ROUTERS, lambda: {
        "removals": service or build_removal_service(settings or Settings.from_env())})


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
