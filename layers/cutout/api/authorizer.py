"""The REQUEST authorizer's decision, as the policy API Gateway expects.

Allow: a wildcard resource (`.../stage/*/*`, so a cached decision holds on every path), the
account id and key prefix in the context, and the key's hash as `usageIdentifierKey` for
usage plans. Unknown and revoked keys get a Deny (403); a missing key raises
`Exception("Unauthorized")`, API Gateway's signal for 401. When the accounts table cannot
answer (`ServiceUnavailable`) it fails closed by raising: API Gateway caches no error (a Deny
would be cached for the TTL) and answers AUTHORIZER_CONFIGURATION_ERROR, which the stack's
gateway response makes a 503 with `Retry-After` (`cutout.api.gateway_errors`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerResponse,
)

from cutout.errors import ServiceUnavailable, Unauthorized
from cutout.service.keys import Authenticator

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

API_KEY_HEADER = "x-api-key"
UNAUTHORIZED = "Unauthorized"  # the exact message API Gateway turns into a 401


def authorize(event: APIGatewayAuthorizerRequestEvent, authenticator: Authenticator,
              logger: Logger, metrics: Metrics) -> dict[str, object]:
    """The policy for this request's key; never logs the key itself."""
    presented = event.headers.get(API_KEY_HEADER)
    if not presented:
        metrics.add_metric(name="AuthMissingKey", unit=MetricUnit.Count, value=1)
        logger.info("no api key presented")
        raise Exception(UNAUTHORIZED)  # noqa: TRY002 - the API Gateway authorizer contract
    arn = event.parsed_arn
    try:
        record = authenticator.authenticate(presented)
    except Unauthorized as refusal:
        metrics.add_metric(name="AuthDenied", unit=MetricUnit.Count, value=1)
        logger.info("api key refused", extra={"reason": refusal.code})
        response = APIGatewayAuthorizerResponse(
            principal_id="anonymous", region=arn.region, aws_account_id=arn.aws_account_id,
            api_id=arn.api_id, stage=arn.stage, context={"error_code": refusal.code},
            partition=arn.partition,
        )
        response.deny_all_routes()
        return response.asdict()
    except ServiceUnavailable as outage:
        metrics.add_metric(name="AuthUnavailable", unit=MetricUnit.Count, value=1)
        logger.warning("api key not checked: the accounts table is unavailable",
                       extra={"error_code": outage.code, "detail": outage.message})
        raise
    metrics.add_metric(name="AuthAllowed", unit=MetricUnit.Count, value=1)
    logger.append_keys(account_id=record.account_id, key_prefix=record.key_prefix)
    logger.info("api key accepted")
    response = APIGatewayAuthorizerResponse(
        principal_id=record.account_id, region=arn.region, aws_account_id=arn.aws_account_id,
        api_id=arn.api_id, stage=arn.stage,
        context={"account_id": record.account_id, "key_prefix": record.key_prefix,
                 "key_scope": record.scope},
        usage_identifier_key=record.key_hash, partition=arn.partition,
    )
    response.allow_all_routes()
    return response.asdict()
