"""`GET /v1/account` and `PUT /v1/account/training-opt-in`: the account and its opt-in."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from cutout.api.routers import account
from cutout.api.runtime import Handler, LazyEntryPoint, api_handler
from cutout.data.stores import Stores
from cutout.service.accounts import AccountService
from cutout.settings import Settings

ROUTERS: tuple[Router, ...] = (account.router,)


def make_handler(
    service: AccountService | None = None, settings: Settings | None = None
) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""

    def dependencies() -> dict[str, AccountService]:
        if service is not None:
            return {"accounts": service}
        stores = Stores.from_settings(settings or Settings.from_env())
        return {"accounts": AccountService(stores.accounts, stores.training)}

    return api_handler("account", ROUTERS, dependencies)


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
