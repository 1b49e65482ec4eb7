"""What the account page needs beyond its routes: CORS on the transient bucket for its
signed upload (PUT) and signed result (GET), admitted from the API's own origin only.

The signature in each URL is still what authorizes the request; CORS only lets the page,
served by this API, make it from a browser. No other origin, method or header is allowed.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_s3 as s3

from infrastructure.network import Network
from infrastructure.settings import DeploymentSettings

SIGNED_HEADERS = ("content-type", "x-amz-server-side-encryption",
                  "x-amz-server-side-encryption-aws-kms-key-id")


def page_origins(rest_api: apigw.RestApi, settings: DeploymentSettings,
                 network: Network) -> list[str]:
    """Where browsers load the page from: the custom domain, else the execute-api host(s).

    A PRIVATE API is also reached by its endpoint-specific name
    (`<api-id>-<vpce-id>.execute-api...`) by clients without private DNS.
    """
    if settings.domain_name:
        return [f"https://{settings.domain_name}"]
    stack = Stack.of(rest_api)
    suffix = f"execute-api.{stack.region}.{stack.url_suffix}"
    origins = [f"https://{rest_api.rest_api_id}.{suffix}"]
    if network.api_endpoint is not None:
        origins.append(f"https://{rest_api.rest_api_id}-"
                       f"{network.api_endpoint.vpc_endpoint_id}.{suffix}")
    return origins


def allow_page_transfers(bucket: s3.Bucket, rest_api: apigw.RestApi,
                         settings: DeploymentSettings, network: Network) -> None:
    """The one CORS rule of the transient bucket (the training store gets none)."""
    bucket.add_cors_rule(
        allowed_origins=page_origins(rest_api, settings, network),
        allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET],
        allowed_headers=list(SIGNED_HEADERS),
        max_age=600)
