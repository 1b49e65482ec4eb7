"""The account function: `GET /v1/account`, the training opt-in, `GET /v1/privacy` and the
account page's static files (`GET /account`, the only routes without the authorizer)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from cutout.api.responses import inline_limit
from cutout.api.routers import account, account_page, privacy
from cutout.api.runtime import Handler, LazyEntryPoint, api_handler
from cutout.data.aws import current_region
from cutout.data.stores import Stores
from cutout.service.accounts import AccountService
from cutout.service.privacy import Deployment
from cutout.service.usage import UsageMeter
from cutout.settings import Settings

ROUTERS: tuple[Router, ...] = (account.router, privacy.router, account_page.router)


def make_handler(
    service: AccountService | None = None, settings: Settings | None = None
) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""

    def dependencies() -> dict[str, Any]:
        resolved = settings or Settings.from_env()
        stores = Stores.from_settings(resolved)
        return {
            "accounts": service or AccountService(stores.accounts, stores.training),
            "usage": UsageMeter(stores.accounts),
            "deployment": Deployment.from_settings(resolved, current_region(), inline_limit()),
            # The page's CSP admits the S3 origin the signed upload and result links use.
            "signed_url_origin": stores.transient.signed_url_origin(),
        }

    return api_handler("account", ROUTERS, dependencies)


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
