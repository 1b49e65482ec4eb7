"""The README is the first screen and the map; docs/ documents every setting, route and command.

Each test reads the page the text now lives on, so moving a section means moving its test.
"""

import re
from pathlib import Path

import pytest

from cutout.api.routes import ROUTES
from cutout.cli.main import build_parser
from cutout.settings import ENVIRONMENT_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
MAKE_TARGET = re.compile(r"`make ([a-z-]+)`")


def _doc(name: str) -> str:
    return (DOCS / name).read_text()


def _all_docs() -> str:
    return "\n".join(page.read_text() for page in sorted(DOCS.glob("*.md")))


def test_the_first_screen_has_the_two_commands_a_curl_example_and_deploy():
    # Given the README up to its first section heading
    first_screen = README[: README.index("\n## ")]
    # Then a newcomer sees how to run it, test it, call it and deploy it
    assert "make serve" in first_screen and "make test" in first_screen
    assert "curl" in first_screen and "cdk deploy" in first_screen


def test_the_readme_is_a_map_not_a_manual():
    # Given the README's length, then it fits a couple of screens (about 200 lines)
    assert len(README.splitlines()) <= 200


def test_the_readme_says_nothing_in_the_product_claims_the_customers_images():
    # Given the ownership promise (DESIGN.md), then the README states it in so many words
    assert "Nothing in this product claims any right to the images" in README


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_of_the_route_table_is_in_the_readme_and_the_docs(route):
    # Given one route of the table, then the README's route table lists it
    assert f"| `{route.method}` | `{route.path}` | `{route.function}` |" in README
    # And a page under docs/ documents it
    docs = _all_docs()
    assert f"{route.method} {route.path}" in docs or f"`{route.path}`" in docs


def test_the_readme_lists_no_route_the_table_does_not_have():
    # Given the rows of the README's route table
    rows = re.findall(r"^\| `(GET|POST|PUT|DELETE|PATCH)` \| `([^`]+)` \|", README, re.M)
    # Then each is a route of the table
    assert set(rows) == {(route.method, route.path) for route in ROUTES}


@pytest.mark.parametrize("variable", ENVIRONMENT_VARIABLES)
def test_every_runtime_setting_is_documented_in_the_deploy_guide(variable):
    assert f"`{variable}`" in _doc("deploy.md")


def test_every_cli_command_is_documented_in_the_cli_page():
    # Given the commands the parser lists in its help (each on its own indented line)
    help_text = build_parser().format_help().split("commands:", 1)[1]
    commands = re.findall(r"^    ([a-z][a-z-]+)\b", help_text, re.MULTILINE)
    assert len(commands) >= 10
    # Then each is named on docs/cli.md
    for name in commands:
        assert f"cutout {name}" in _doc("cli.md"), name


def test_every_make_target_the_readme_names_exists():
    # Given the Makefile's targets
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.M))
    # Then every `make <target>` the README shows is one of them
    named = set(MAKE_TARGET.findall(README))
    assert named and named <= targets, named - targets


@pytest.mark.parametrize("page", ["README.md", *sorted(p.name for p in DOCS.glob("*.md"))])
def test_every_relative_link_points_at_a_file_that_exists(page):
    # Given a page and the relative links in it
    path = ROOT / page if page == "README.md" else DOCS / page
    links = [link for link in MARKDOWN_LINK.findall(path.read_text())
             if "://" not in link and not link.startswith("mailto:")]
    # Then each names a file of the repository
    missing = [link for link in links if not (path.parent / link).exists()]
    assert not missing, f"{page} links to missing files: {missing}"
