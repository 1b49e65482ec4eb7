"""What the account page needs beyond its routes: CORS on the transient bucket for its
signed upload (PUT) and signed result (GET), admitted from the API's own origin only.

The signature in each URL is still what authorizes the request; CORS only lets the page,
served by this API, make it from a browser. No other origin, method or header is allowed.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_s3 as s3

from infrastructure.settings import DeploymentSettings

SIGNED_HEADERS = ("content-type", "x-amz-server-side-encryption",
                  "x-amz-server-side-encryption-aws-kms-key-id")


def page_origin(rest_api: apigw.RestApi, settings: DeploymentSettings) -> str:
    """Where browsers load the page from: the custom domain, else the execute-api host."""
    if settings.domain_name:
        return f"https://{settings.domain_name}"
    stack = Stack.of(rest_api)
    return f"https://{rest_api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}"


def allow_page_transfers(bucket: s3.Bucket, rest_api: apigw.RestApi,
                         settings: DeploymentSettings) -> None:
    """The one CORS rule of the transient bucket (the training store gets none)."""
    bucket.add_cors_rule(
        allowed_origins=[page_origin(rest_api, settings)],
        allowed_methods=[s3.HttpMethods.PUT, s3.HttpMethods.GET],
        allowed_headers=list(SIGNED_HEADERS),
        max_age=600)
