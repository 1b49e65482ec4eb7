"""Run Powertools routers as one Lambda function, so that nothing of a request survives it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from functools import cache, wraps
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter, Router
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from cutout.api.error_answers import register_error_handlers
from cutout.api.responses import with_receipt
from cutout.api.routing import Telemetry
from cutout.api.telemetry import NAMESPACE
from cutout.service.receipt import Receipt

Handler = Callable[[dict, LambdaContext], dict]


@cache
def telemetry(service: str) -> tuple[Logger, Tracer, Metrics]:
    """The logger, tracer and metrics of one function, made once per process (as a module-level
    Logger would be): a second Logger of the same service would find the first one's handlers
    and never register its own formatter."""
    return (Logger(service=service), Tracer(service=service),
            Metrics(namespace=NAMESPACE, service=service))


def entry(service: str, correlation_path: str | None = None) -> Callable[[Handler], Handler]:
    """The one shape of every function's Lambda handler: Powertools' logger (the request id,
    the event never logged, keys cleared after each call), tracer (no response or error
    recorded: they can hold image bytes and signed URLs) and metrics around `handle`, and the
    library's own log lines (`cutout.*`) written by the same JSON logger, so they carry the
    request id and reach whatever listens to the function's logs."""
    logger, tracer, metrics = telemetry(service)

    def wrap(handle: Handler) -> Handler:
        instrumented = logger.inject_lambda_context(
            tracer.capture_lambda_handler(metrics.log_metrics(handle), capture_response=False,
                                          capture_error=False),
            correlation_id_path=correlation_path, log_event=False, clear_state=True)

        @wraps(handle)
        def run(event: dict, context: LambdaContext) -> dict:
            _library_logs_through(logger)
            return instrumented(event, context)

        return run

    return wrap


_LIBRARY = logging.getLogger("cutout")
_through: list[logging.Handler] = []  # the function handler the library writes through now


def _library_logs_through(logger: Logger) -> None:
    """Write the library's `cutout` logger through `logger`'s JSON handler, set on every call:
    in Lambda one function runs per process; the local stack runs them all in one. Any other
    handler (a test's listener) stays."""
    handler = logger.registered_handler
    if _through != [handler]:
        for previous in _through:
            _LIBRARY.removeHandler(previous)
        _through[:] = [handler]
        _LIBRARY.addHandler(handler)
    _LIBRARY.setLevel(logger.log_level)
    _LIBRARY.propagate = False  # not also the Lambda runtime's plain-text root handler


def resolve(app: APIGatewayRestResolver, event: dict, context: LambdaContext) -> dict:
    """`app.resolve`, then drop the event Powertools keeps on the router class.

    Powertools stores the current event (body included) as class state; a warm container
    would otherwise hold the last caller's image until the next request replaces it.
    """
    try:
        return app.resolve(event, context)
    finally:
        BaseRouter.current_event = None  # type: ignore[assignment]
        BaseRouter.lambda_context = None  # type: ignore[assignment]
        app.clear_context()


def api_handler(service: str, routers: Sequence[Router],
                dependencies: Mapping[str, Factory]) -> Handler:
    """A REST function: its routers, our error mapping and the Powertools decorators; every
    answer, errors included, carries the retention receipt of what its request wrote.

    `dependencies` names a factory per collaborator (stores, services, engine): each is
    built the first time a route asks for it and never again; they hold no request data.
    """
    logger, _, metrics = telemetry(service)
    app = APIGatewayRestResolver()
    register_error_handlers(app, logger, metrics)
    for router in routers:
        app.include_router(router)
    collaborators = Collaborators(dependencies)

    @entry(service, correlation_paths.API_GATEWAY_REST)
    def handle(event: dict, context: LambdaContext) -> dict:
        for router in routers:  # several handlers may share a router (tests): point it here
            router.api_resolver = app
        receipt = Receipt()  # this request's alone, dropped with the context
        app.append_context(telemetry=Telemetry(logger, metrics), collaborators=collaborators,
                           receipt=receipt)
        return with_receipt(resolve(app, event, context), receipt)

    return handle


class Collaborators:
    """The function's collaborators, each built the first time a route asks for it, then kept.

    Built inside the route, so that a missing setting is answered as our 500 (and named in
    the logs) rather than escaping the resolver; built one by one, so that a route never
    pays for (or fails on) a collaborator only another route uses. A factory receives this
    object, to ask for the collaborators it is built from.
    """

    def __init__(self, factories: Mapping[str, Factory]) -> None:
        self._factories = factories
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        # Any: the factories read each other's collaborators by name (functions/*/handler.py);
        # the routes read them typed (cutout.api.routing.Call)
        if name not in self._built:
            self._built[name] = self._factories[name](self)
        return self._built[name]


Factory = Callable[[Collaborators], Any]


class LazyEntryPoint:
    """A module's Lambda `handler`: built by `factory` on the first call, not at import.

    Building late lets tests and the local stack set the `CUTOUT_*` variables first; the
    handler it builds holds collaborators (stores, engine), never request data.
    """

    def __init__(self, factory: Callable[[], Handler]) -> None:
        self._factory = factory
        self._handler: Handler | None = None

    def __call__(self, event: dict, context: LambdaContext) -> dict:
        if self._handler is None:
            self._handler = self._factory()
        return self._handler(event, context)
