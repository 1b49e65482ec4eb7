"""The README documents every setting, endpoint and command that the code defines."""

from pathlib import Path

import pytest

from cutout.cli.main import build_parser
from cutout.settings import ENVIRONMENT_VARIABLES

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
ENDPOINTS = [
    "POST /v1/remove-background",
    "POST /v1/uploads",
    "GET /v1/account",
    "PUT /v1/account/training-opt-in",
]


@pytest.mark.parametrize("variable", ENVIRONMENT_VARIABLES)
def test_every_runtime_setting_is_documented(variable):
    assert f"`{variable}`" in README


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_every_endpoint_is_documented(endpoint):
    method, path = endpoint.split()
    assert f"`{method}` | `{path}`" in README or f"{method} {path}" in README


def test_every_cli_command_is_documented():
    commands = build_parser()._subparsers._group_actions[0].choices
    for name in commands:
        assert f"cutout {name}" in README, name


def test_the_first_screen_has_the_two_commands_and_a_curl_example():
    first_screen = README[: README.index("## Contents")]
    assert "make serve" in first_screen and "make test" in first_screen
    assert "curl" in first_screen and "cdk deploy" in first_screen
