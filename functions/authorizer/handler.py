"""API Gateway REQUEST authorizer: the `x-api-key` header -> sha256 -> the accounts table.

Allows with the account id in the context, denies unknown and revoked keys. It never sees
the image (API Gateway passes headers only) and never logs the key.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
)

from cutout.api.authorizer import authorize
from cutout.api.runtime import Handler, LazyEntryPoint, entry, telemetry
from cutout.data.accounts import AccountStore
from cutout.service.keys import Authenticator
from cutout.settings import Settings

SERVICE = "authorizer"
logger, _, metrics = telemetry(SERVICE)


def make_handler(authenticator: Authenticator | None = None,
                 settings: Settings | None = None) -> Handler:
    """A handler with its collaborators; defaults are built from the environment on first use."""

    @entry(SERVICE, correlation_paths.API_GATEWAY_REST)
    def handle(event: dict, context: Any) -> dict:
        nonlocal authenticator
        if authenticator is None:
            table = (settings or Settings.from_env()).accounts_table
            authenticator = Authenticator(AccountStore.from_table_name(table))
        return authorize(APIGatewayAuthorizerRequestEvent(event), authenticator, logger, metrics)

    return handle


# The Lambda entry point (configured from `CUTOUT_*` variables at the first call)
handler = LazyEntryPoint(make_handler)
