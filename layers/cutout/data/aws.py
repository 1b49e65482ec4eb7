"""boto3 clients for the data layer, built one way so the local stack and AWS behave alike.

boto3 honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_S3`...) by itself; we only pick
path-style S3 addressing when an endpoint is set (moto's server on 127.0.0.1) and always
sign with SigV4, which presigned URLs for SSE-KMS objects require.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

# What a caller outside the data layer may catch without importing botocore itself.
AwsError = (BotoCoreError, ClientError)


def _s3_endpoint(endpoint_url: str | None) -> str | None:
    env = os.environ
    return endpoint_url or env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")


def s3_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """An S3 client that signs with SigV4 (path-style when talking to a local endpoint)."""
    style = "path" if _s3_endpoint(endpoint_url) else "auto"
    config = Config(signature_version="s3v4", s3={"addressing_style": style})
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def dynamodb_table(name: str, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """The accounts table as a boto3 resource (native Python types in and out)."""
    resource = boto3.resource("dynamodb", endpoint_url=endpoint_url, region_name=region)
    return resource.Table(name)


def apigateway_client(endpoint_url: str | None = None, region: str | None = None) -> Any:
    """API Gateway's control plane, for usage-plan keys created by the admin CLI."""
    return boto3.client("apigateway", endpoint_url=endpoint_url, region_name=region)


def current_region() -> str:
    """The region the data-layer clients talk to (Lambda's AWS_REGION; the local stack's)."""
    return boto3.session.Session().region_name or "unknown"
