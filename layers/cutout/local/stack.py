"""The whole local stack in one object: moto, the handlers' environment, the demo key, the API.

Order matters and mirrors a deployment: the API port is bound first (a busy port fails
before anything else starts), then moto and the resources, then the environment the
functions read (`CUTOUT_*`, `AWS_ENDPOINT_URL` on loopback, dummy credentials: nothing
here can reach a real AWS account), then the demo account, then the functions' init.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import sys
from contextlib import ExitStack
from dataclasses import dataclass

from werkzeug.serving import BaseWSGIServer

from cutout.api.routes import Route
from cutout.api.routes import functions as route_functions
from cutout.data.accounts import AccountStore
from cutout.data.usage_plans import UsagePlanKeys
from cutout.local.authorizer import DEFAULT_TTL_SECONDS, RequestAuthorizer
from cutout.local.batch_machine import InProcessWorker, interpreted
from cutout.local.demo import DemoAccount, create_demo_account
from cutout.local.functions import LocalFunction, functions_dir
from cutout.local.gateway import LocalGateway
from cutout.local.http_server import GatewayApp, gateway_server
from cutout.local.moto_stack import CATALOGUE_BUCKET, LocalResources, MotoStack
from cutout.local.throttle import KeyThrottle

AUTHORIZER_FUNCTION = "authorizer"

# Variables that could point boto3 at a real account or endpoint; the local stack drops them.
_FOREIGN_AWS_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
)


class PortUnavailable(Exception):
    """The API's or moto's port cannot be bound (in use, or not allowed)."""

    def __init__(self, address: str, reason: str | None) -> None:
        super().__init__(f"cannot listen on {address}: {reason or 'unavailable'}")


@dataclass(frozen=True)
class RunningStack:
    """What a user needs to talk to the stack."""

    base_url: str
    demo: DemoAccount
    resources: LocalResources
    routes: tuple[Route, ...]


class LocalStack:
    """Start, serve and stop the local API with moto behind it."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8080,
        moto_port: int = 0,
        api_key: str | None = None,
        authorizer_ttl: int = DEFAULT_TTL_SECONDS,
        quiet: bool = False,
        catalogue_bucket: str = CATALOGUE_BUCKET,
    ) -> None:
        require_loopback(host)
        self._host = host
        self._port = port
        self._moto = MotoStack("127.0.0.1", moto_port, catalogue_bucket)
        self._moto_port = moto_port
        self._api_key = api_key
        self._authorizer_ttl = authorizer_ttl
        self._quiet = quiet
        self._app = GatewayApp(quiet=quiet)
        self._http: BaseWSGIServer | None = None
        self._interpreter = ExitStack()

    def start(self) -> RunningStack:
        """Bind, start moto, create resources and the demo key, load the functions."""
        try:
            self._http = gateway_server(self._host, self._port, self._app)
        except OSError as error:
            raise PortUnavailable(f"{self._host}:{self._port}", error.strerror) from None
        try:
            resources = self._moto.start()
        except OSError as error:
            raise PortUnavailable(f"127.0.0.1:{self._moto_port} (moto)", error.strerror) from None
        _use_local_aws(resources)
        # Batch jobs: moto's interpreter runs the state machine, its worker in this process
        self._interpreter.enter_context(interpreted(InProcessWorker()))
        # The account page's signed PUT and GET: the bucket admits this API's origin only.
        self._moto.allow_page_origins(self._http.server_address[1])
        accounts = AccountStore.from_table_name(resources.accounts_table, resources.endpoint_url)
        usage_plan = UsagePlanKeys(resources.client("apigateway"))
        demo = create_demo_account(accounts, self._api_key,
                                   (usage_plan, resources.usage_plan_id))
        functions = _load_functions()
        authorizer = RequestAuthorizer(
            functions.pop(AUTHORIZER_FUNCTION).invoke, ttl_seconds=self._authorizer_ttl,
            in_usage_plan=functools.partial(usage_plan.admits, resources.usage_plan_id),
            throttle=KeyThrottle(functools.partial(usage_plan.throttle,
                                                   resources.usage_plan_id)),
        )
        invokers = {name: function.invoke for name, function in functions.items()}
        gateway = self._app.gateway = LocalGateway(authorizer, invokers)
        host, port = self._host, self._http.server_address[1]
        display_host = f"[{host}]" if ":" in str(host) else host
        return RunningStack(f"http://{display_host}:{port}", demo, resources, gateway.routes)

    def serve_forever(self) -> None:
        """Answer requests until interrupted (Ctrl-C, SIGTERM) or `shutdown()`."""
        if self._http is None:
            raise RuntimeError("start() first")
        self._http.serve_forever()

    def shutdown(self) -> None:
        """Ask `serve_forever` to return (from another thread)."""
        if self._http is not None:
            self._http.shutdown()

    def stop(self) -> None:
        """Close the API socket and stop moto; the ports are free when this returns."""
        if self._http is not None:
            self._http.server_close()
            self._http = None
        self._moto.stop()
        self._interpreter.close()


def require_loopback(host: str) -> str:
    """The local stack is a demo with a printed key: it listens on loopback only."""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(f"--host must be a loopback address (127.0.0.1, ::1), got {host!r}")
    return host


def _use_local_aws(resources: LocalResources) -> None:
    for name in list(os.environ):
        if name in _FOREIGN_AWS_VARIABLES or name.startswith("AWS_ENDPOINT_URL_"):
            del os.environ[name]
    os.environ.update(resources.environment())
    # EMF metric blobs are CloudWatch's food, noise in a terminal; logs stay (as in CloudWatch).
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def _load_functions() -> dict[str, LocalFunction]:
    """The authorizer and every function the route table names, each imported once."""
    directory = functions_dir()
    functions = {AUTHORIZER_FUNCTION: LocalFunction.load(AUTHORIZER_FUNCTION, directory)}
    for name in route_functions():
        try:
            functions[name] = LocalFunction.load(name, directory)
        except FileNotFoundError as missing:
            print(f"warning: {missing}; its routes are not served", file=sys.stderr)
    return functions
