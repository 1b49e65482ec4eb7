"""Integration fixtures: moto in-process (S3 with SSE-KMS, DynamoDB, KMS), the real handlers
loaded from their files, and a small gateway that drives them as API Gateway does.

Nothing here talks to AWS: fake credentials, `mock_aws`, loopback only. Helpers live in
`integration_support.py`.
"""

from __future__ import annotations

import io
import logging

import pytest
from aws_call_recorder import RECORDER
from integration_support import (
    LEAK_PATTERNS,
    REGION,
    SERVICES,
    Caller,
    Gateway,
    LogCapture,
    create_deployment,
    disc_image,
    load_function,
    new_caller,
)
from moto import mock_aws

from cutout import wiring
from cutout.data.stores import Stores
from cutout.local.batch_machine import INTERPRETER_CONFIG, InProcessWorker, interpreted
from cutout.service.accounts import AccountService
from cutout.settings import Settings


# --- AWS stand-ins -----------------------------------------------------------------------
@pytest.fixture
def aws(monkeypatch):
    """Fake credentials, one region, no endpoint override, then moto for the whole test.

    As `cutout serve` runs it: its States Language interpreter on, with the batch worker run
    in this process at moto's Lambda container seam (`cutout.local.batch_machine`).
    """
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws(config=INTERPRETER_CONFIG), interpreted(InProcessWorker()):
        yield
    wiring.forget()  # the services' shared clients were this moto's: the next test's are new


@pytest.fixture
def settings(aws) -> Settings:
    return create_deployment()


@pytest.fixture
def stores(settings) -> Stores:
    """The stores the functions' services get: cutout.wiring's, over this test's moto."""
    return wiring.stores(settings)


@pytest.fixture
def accounts(stores) -> AccountService:
    return AccountService(stores.accounts, stores.training)


@pytest.fixture
def caller(accounts) -> Caller:
    return new_caller(accounts)


@pytest.fixture
def other_caller(accounts) -> Caller:
    return new_caller(accounts)


@pytest.fixture
def handlers(settings, stores, accounts):
    """Each function's handler built with the moto-backed settings (the real engine too)."""
    from cutout.service.keys import Authenticator
    from cutout.service.removal import build_removal_service
    from cutout.service.uploads import UploadService

    return {
        "authorizer": load_function("authorizer").make_handler(Authenticator(stores.accounts)),
        "account": load_function("account").make_handler(accounts, settings=settings),
        "uploads": load_function("uploads").make_handler(
            UploadService(stores.transient, settings.upload_url_ttl_seconds)),
        "remove_background": load_function("remove_background").make_handler(
            build_removal_service(settings, stores=stores), settings=settings),
    }


@pytest.fixture
def gateway(handlers) -> Gateway:
    functions = {name: handler for name, handler in handlers.items() if name != "authorizer"}
    return Gateway(handlers["authorizer"], functions)


@pytest.fixture
def logs(capsys, handlers):
    capture = LogCapture(capsys)
    capture.start()
    yield capture
    capture.stop()


@pytest.fixture
def png_image() -> bytes:
    return disc_image("PNG")


@pytest.fixture
def jpeg_image() -> bytes:
    return disc_image("JPEG", colour=(200, 30, 60), background=(240, 240, 240))


@pytest.fixture(autouse=True)
def no_secret_in_any_log():
    """Whatever a test does, the functions' logs never carry a key, a signed URL or an image."""
    stream = io.StringIO()
    attached = []
    for name in SERVICES:
        handler = logging.StreamHandler(stream)
        logging.getLogger(name).addHandler(handler)
        attached.append((logging.getLogger(name), handler))
    yield
    for target, handler in attached:
        target.removeHandler(handler)
    text = stream.getvalue()
    found = [what for what, pattern in LEAK_PATTERNS.items() if pattern.search(text)]
    assert found == [], f"the logs carry {', '.join(found)}"


# --- least privilege: every AWS call a function makes, recorded for the session ----------
RECORDER.install()
LEAST_PRIVILEGE = "test_least_privilege.py"


def pytest_collection_modifyitems(items):
    """The least-privilege check runs after everything else it can see the calls of."""
    last = [item for item in items if item.nodeid.endswith(LEAST_PRIVILEGE) or
            f"/{LEAST_PRIVILEGE}::" in item.nodeid]
    items[:] = [item for item in items if item not in last] + last
