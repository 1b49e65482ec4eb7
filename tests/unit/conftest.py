"""One real engine for the whole unit run (the model session is built once, as in Lambda)."""

import pytest

from cutout.engine import Engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.create("u2netp")
