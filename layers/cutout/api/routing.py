"""Register router handlers from the route table, and hand them their collaborators.

A handler is registered by its operation id only (`@handles(router, "create_upload")`):
method and path come from `cutout.api.routes`, so they are written once. Collaborators
(services, logger, metrics) travel in the resolver's context, set per invocation by
`cutout.api.runtime.api_handler`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.api_gateway import Router

from cutout.api.events import Principal, body_bytes, header, principal
from cutout.api.routes import route_named
from cutout.service.receipt import Receipt

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

    from cutout.service.accounts import AccountService
    from cutout.service.batch import BatchService
    from cutout.service.improve import ImproveService
    from cutout.service.privacy import Deployment
    from cutout.service.removal import RemovalService
    from cutout.service.uploads import UploadService
    from cutout.service.usage import UsageMeter

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
_TRACER = Tracer()  # Tracer instances share one configuration: the function's


def handles(router: Router, operation: str) -> Callable[[F], F]:
    """Register the decorated function as the handler of route `operation`, traced.

    Traces keep neither the answer (an image, a signed link) nor exception text.
    """
    route = route_named(operation)

    def register(function: F) -> F:
        if function.__name__ != operation:
            raise ValueError(f"the handler of {operation!r} is named {function.__name__!r}")
        traced = _TRACER.capture_method(capture_response=False, capture_error=False)(function)
        router.route(route.router_path, route.method)(traced)
        return function

    return register


@dataclass(frozen=True)
class Telemetry:
    """The invoked function's logger and metrics (their service name is the function's)."""

    logger: Logger
    metrics: Metrics


class Collaborator(Generic[T]):
    """A `Call` attribute: the collaborator of the attribute's name that the function handed
    in (`api_handler(dependencies=...)`), typed for mypy."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, call: Call, owner: type) -> T:
        return cast(T, call.router.context["collaborators"][self.name])


@dataclass(frozen=True)
class Call:
    """What a handler needs of the current request: its caller, id and collaborators."""

    router: Router

    @property
    def event(self) -> APIGatewayProxyEvent:
        # the functions' resolver is APIGatewayRestResolver: its events are REST proxy events
        return cast("APIGatewayProxyEvent", self.router.current_event)

    @property
    def request_id(self) -> str:
        return self.event.request_context.request_id

    @property
    def caller(self) -> Principal:
        return principal(self.event)

    @property
    def telemetry(self) -> Telemetry:
        return self.router.context["telemetry"]

    @property
    def receipt(self) -> Receipt:
        """What this request writes, with delete-by times (`X-Cutout-Retention`)."""
        return self.router.context["receipt"]

    def body(self) -> bytes:
        """The request body, decoded by `isBase64Encoded`."""
        return body_bytes(self.event)

    def header(self, name: str) -> str | None:
        return header(self.event, name)

    @property
    def query(self) -> dict[str, str] | None:
        return self.event.query_string_parameters

    # Each collaborator a route may ask for, typed: the function's factory of that name
    # builds it (functions/*/handler.py), mypy checks how the routes use it.
    removals: ClassVar[Collaborator[RemovalService]] = Collaborator()
    batches: ClassVar[Collaborator[BatchService]] = Collaborator()
    improvements: ClassVar[Collaborator[ImproveService]] = Collaborator()
    accounts: ClassVar[Collaborator[AccountService]] = Collaborator()
    uploads: ClassVar[Collaborator[UploadService]] = Collaborator()
    usage: ClassVar[Collaborator[UsageMeter]] = Collaborator()
    # The deployment's privacy facts (`cutout.service.privacy`).
    deployment: ClassVar[Collaborator[Deployment]] = Collaborator()
    # The S3 origin the signed upload and result links use (the page's CSP admits it).
    signed_url_origin: ClassVar[Collaborator[str]] = Collaborator()
