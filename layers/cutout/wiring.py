"""Where a function's services get their AWS clients: one S3 client and one DynamoDB resource
per process, built on first use and shared by every `build_*` (removal, improve, batches).

A function that builds three services would otherwise build three S3 clients and three
DynamoDB resources at its cold start. A client is kept per the AWS endpoint and region the
environment names when it is asked for (`cutout serve` points `AWS_ENDPOINT_URL` at its moto
server), so a process that moves to another endpoint gets new clients; `forget` drops them
where the process's AWS is replaced under it (a test's moto context ending).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cutout.settings import Settings

if TYPE_CHECKING:
    from cutout.data.batch_stores import BatchData
    from cutout.data.stores import Stores

# The variables boto3 reads the endpoint and region from (the SDKs' own names).
_ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_DYNAMODB",
                "AWS_REGION", "AWS_DEFAULT_REGION")
_clients: dict[tuple[str | None, ...], Any] = {}


def _shared(service: str, build: Callable[[], Any]) -> Any:
    key = (service, *(os.environ.get(name) for name in _ENVIRONMENT))
    if key not in _clients:
        _clients[key] = build()
    return _clients[key]


def s3() -> Any:
    """The process's S3 client (`cutout.data.aws.s3_client`: SigV4, outages guarded)."""
    from cutout.data.aws import s3_client

    return _shared("s3", s3_client)


def dynamodb() -> Any:
    """The process's DynamoDB resource (`cutout.data.aws.dynamodb_resource`)."""
    from cutout.data.aws import dynamodb_resource

    return _shared("dynamodb", dynamodb_resource)


def stores(settings: Settings) -> Stores:
    """The deployment's accounts table, transient bucket and training store, on the shared
    clients."""
    from cutout.data.stores import Stores

    return Stores.from_clients(settings, s3(), dynamodb())


def batch_data(settings: Settings) -> BatchData:
    """The batch jobs' table items, buckets and reports, on the shared clients."""
    from cutout.data.batch_stores import BatchData

    return BatchData.from_clients(settings, s3(), dynamodb())


def forget() -> None:
    """Drop the shared clients: the next service built gets new ones (for a process whose
    AWS was replaced, such as a test's moto context that ended)."""
    _clients.clear()
