"""docs/api.md's error tables are the generated ones, so no error code is undocumented."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cutout.cli.main import main
from cutout.openapi.doc_tables import error_table, removebg_error_table

REPO_ROOT = Path(__file__).resolve().parents[2]
API_PAGE = REPO_ROOT / "docs" / "api.md"
REGENERATE = ("docs/api.md is stale: regenerate with "
              "`cutout openapi -o openapi.json --docs docs/api.md`")


def test_the_api_page_carries_the_generated_error_tables():
    # Given the page a client reads
    page = API_PAGE.read_text(encoding="utf-8")
    # Then both tables are exactly what the catalogue generates today
    assert error_table() in page, REGENERATE
    assert removebg_error_table() in page, REGENERATE


def test_every_error_code_of_the_openapi_document_is_on_the_api_page():
    # Given every code the committed openapi.json names, in both shapes
    document = json.loads((REPO_ROOT / "openapi.json").read_text(encoding="utf-8"))
    schemas = document["components"]["schemas"]
    codes = (set(schemas["ErrorCode"]["enum"])
             | set(schemas["RemoveBgError"]["properties"]["code"]["enum"]))
    # When the page's code cells are read
    documented = set(re.findall(r"^\| \d{3} \| `([a-z_]+)`", API_PAGE.read_text(encoding="utf-8"),
                                flags=re.MULTILINE))
    # Then none is missing
    assert codes - documented == set(), REGENERATE


def test_the_cli_rewrites_a_stale_page(tmp_path, capsys):
    # Given a copy of the page whose table has lost a row
    page = API_PAGE.read_text(encoding="utf-8")
    stale = page.replace(next(line for line in error_table().splitlines() if "`conflict`" in line)
                         + "\n", "")
    target = tmp_path / "api.md"
    target.write_text(stale, encoding="utf-8")
    # When `cutout openapi --docs` runs
    assert main(["openapi", "-o", str(tmp_path / "openapi.json"), "--docs", str(target)]) == 0
    capsys.readouterr()
    # Then the page is whole again, and nothing around the tables changed
    assert target.read_text(encoding="utf-8") == page
