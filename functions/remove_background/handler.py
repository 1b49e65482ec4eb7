"""The container function: `POST /v1/remove-background`, remove.bg's `POST /v1.0/removebg` and
`POST /v1.0/improve` (its image is decoded under the engine's bounds) and the catalogue batch
routes (`/v1/batches`: their options are checked by the engine)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from cutout.api.routers import batches, improve, removal, removebg
from cutout.api.runtime import Handler, LazyEntryPoint, api_handler
from cutout.service.batch import BatchService
from cutout.service.batch_setup import build_batch_service
from cutout.service.improve import ImproveService, build_improve_service
from cutout.service.removal import RemovalService, build_removal_service
from cutout.settings import Settings

ROUTERS: tuple[Router, ...] = (removal.router, removebg.router, improve.router, batches.router)


def make_handler(
    service: RemovalService | None = None, settings: Settings | None = None,
    batch_service: BatchService | None = None, improve_service: ImproveService | None = None,
) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""

    return api_handler("remove-background", ROUTERS, {
        "settings": lambda _: settings or Settings.from_env(),
        "removals": lambda c: service or build_removal_service(c["settings"]),
        # built only when a batch route is called: removals never pay for (or fail on) it,
        # and it needs no engine (the worker runs the job)
        "batches": lambda c: batch_service or build_batch_service(c["settings"]),
        # built only when the improve route is called: it needs the stores, not the model
        "improvements": lambda c: improve_service or build_improve_service(c["settings"]),
    })


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
