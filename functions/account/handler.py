"""The account function: `GET /v1/account` (and remove.bg's `GET /v1.0/account`), the training
opt-in, `GET /v1/privacy` and the account page's static files (`GET /account`, the only
routes without the authorizer)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import Router

from cutout import wiring
from cutout.api.routers import account, account_page, privacy, removebg_account
from cutout.api.runtime import Handler, LazyEntryPoint, api_handler
from cutout.data.aws import current_region
from cutout.service.accounts import AccountService
from cutout.service.privacy import Deployment
from cutout.service.usage import UsageMeter
from cutout.settings import Settings

ROUTERS: tuple[Router, ...] = (account.router, removebg_account.router, privacy.router,
                               account_page.router)


def make_handler(
    service: AccountService | None = None, settings: Settings | None = None
) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""

    return api_handler("account", ROUTERS, {
        "settings": lambda _: settings or Settings.from_env(),
        "stores": lambda c: wiring.stores(c["settings"]),
        "accounts": lambda c: service or AccountService(c["stores"].accounts,
                                                        c["stores"].training),
        "usage": lambda c: UsageMeter(c["stores"].accounts),
        "deployment": lambda c: Deployment.from_settings(c["settings"], current_region()),
        # The page's CSP admits the S3 origin the signed upload and result links use.
        "signed_url_origin": lambda c: c["stores"].transient.signed_url_origin(),
    })


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
