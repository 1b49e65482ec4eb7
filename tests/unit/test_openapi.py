"""The published OpenAPI document is the one the code generates, and it covers the whole API."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path

import pytest

import cutout
from cutout.api import removebg_request
from cutout.api.routes import ROUTES, Route
from cutout.cli.main import main
from cutout.cli.openapi import render
from cutout.engine.options import OPTION_NAMES
from cutout.errors import CutoutError
from cutout.openapi import builder

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED = REPO_ROOT / "openapi.json"
REGENERATE = "openapi.json is stale: regenerate with `cutout openapi -o openapi.json`"


@pytest.fixture(scope="module")
def document() -> dict:
    return builder.build_document()


def _operation(document: dict, method: str, path: str) -> dict:
    return document["paths"][path][method.lower()]


def _resolve(document: dict, node: dict) -> dict:
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _documented_error_codes(document: dict) -> set[str]:
    schemas = document["components"]["schemas"]
    native = set(schemas["ErrorCode"]["enum"])
    assert set(schemas["ErrorCode"]["x-enum-descriptions"]) == native
    removebg = set(schemas["RemoveBgError"]["properties"]["code"]["enum"])
    return native | removebg


def _all_error_classes() -> list[type[CutoutError]]:
    for module in pkgutil.walk_packages(cutout.__path__, "cutout."):
        importlib.import_module(module.name)
    found = [CutoutError]
    for cls in found:
        found.extend(sub for sub in cls.__subclasses__() if sub not in found)
    return found


def test_the_committed_openapi_json_is_the_generated_document(document):
    # Given the document the code generates
    # When the committed file is read
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    # Then they are the same, byte for byte as the command writes it
    assert committed == document, REGENERATE
    assert COMMITTED.read_text(encoding="utf-8") == render(), REGENERATE


def test_the_cli_writes_the_document(tmp_path, capsys):
    # Given an output path
    target = tmp_path / "openapi.json"
    # When `cutout openapi -o FILE` runs, and `cutout openapi` without it
    assert main(["openapi", "-o", str(target)]) == 0
    capsys.readouterr()
    assert main(["openapi"]) == 0
    printed = capsys.readouterr().out
    # Then the file and standard output both hold the generated document
    assert json.loads(target.read_text()) == builder.build_document()
    assert printed == target.read_text()


def test_the_document_is_valid_openapi_3_1(document):
    # Given the validator (installed with moto), when it checks the document, then it passes
    validator = pytest.importorskip("openapi_spec_validator",
                                    reason="openapi-spec-validator is not installed")
    assert document["openapi"].startswith("3.1")
    validator.validate(document)


def test_every_route_of_the_table_is_documented_and_nothing_else(document):
    # Given the route table (the stack and the local gateway read the same one)
    routes = {(route.method, route.path) for route in ROUTES}
    # When the document's operations are listed
    documented = {(method.upper(), path) for path, item in document["paths"].items()
                  for method in item}
    # Then they are exactly its routes, each under its operation id
    assert documented == routes
    for route in ROUTES:
        assert _operation(document, route.method, route.path)["operationId"] == route.operation


def test_every_route_but_the_account_page_requires_the_api_key_header(document):
    # Given the security scheme
    scheme = document["components"]["securitySchemes"]["apiKey"]
    # Then it is an API key in the x-api-key header, required for every authorized route,
    # and only the routes the table marks public go without it
    assert scheme == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    assert document["security"] == [{"apiKey": []}]
    for route in ROUTES:
        operation = _operation(document, route.method, route.path)
        expected = [{"apiKey": []}] if route.authorized else []
        assert operation.get("security", document["security"]) == expected, route.path


@pytest.mark.parametrize("option", OPTION_NAMES)
def test_every_engine_option_is_a_parameter_of_remove_background(document, option):
    # Given POST /v1/remove-background
    operation = _operation(document, "POST", "/v1/remove-background")
    # Then the option is a query parameter and a field of every body that carries fields
    assert option in {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    content = operation["requestBody"]["content"]
    for media in ("multipart/form-data", "application/json",
                  "application/x-www-form-urlencoded"):
        assert option in content[media]["schema"]["properties"], media


def test_the_options_carry_the_engines_values(document):
    # Given the documented options
    parameters = {p["name"]: p["schema"] for p in
                  _operation(document, "POST", "/v1/remove-background")["parameters"]}
    # Then formats, channels and named sizes are the engine's own
    from cutout.engine.options import CHANNELS, FORMATS, NAMED_SIZES
    assert parameters["format"]["enum"] == list(FORMATS)
    assert parameters["channels"]["enum"] == list(CHANNELS)
    assert parameters["size"]["oneOf"][0]["enum"] == list(NAMED_SIZES)


def test_every_error_class_code_is_documented(document):
    # Given every CutoutError subclass anywhere in the library
    classes = _all_error_classes()
    # When the documented codes are collected (native and remove.bg shapes)
    documented = _documented_error_codes(document)
    # Then each class's code is among them, and every class is in the one errors module
    for cls in classes:
        assert cls.code in documented, f"{cls.__name__} ({cls.code}) is not in openapi.json"
        assert cls.__module__ == "cutout.errors", (
            f"{cls.__name__} is defined in {cls.__module__}: error classes live in cutout.errors")


def test_native_errors_have_one_shape_with_a_stable_code(document):
    # Given every error answer of the native routes
    for path, item in document["paths"].items():
        if path.startswith("/v1.0/"):  # remove.bg's routes: its shape (tested below)
            continue
        for operation in item.values():
            for status, answer in operation["responses"].items():
                if int(status) < 400:
                    continue
                # Then it is {"error": {"code", "message", "request_id"}} with a documented code
                schema = _resolve(document, answer["content"]["application/json"]["schema"])
                error = _resolve(document, schema["properties"]["error"])
                assert set(error["required"]) == {"code", "message", "request_id"}
                assert _resolve(document, error["properties"]["code"])["enum"]


def test_throttling_answers_carry_retry_after(document):
    for route in ROUTES:
        if route.authorized:
            answers = _operation(document, route.method, route.path)["responses"]
            assert "Retry-After" in answers["429"]["headers"], route.path


def test_the_removal_answer_documents_its_headers(document):
    # Given the 200 answer of POST /v1/remove-background
    headers = _operation(document, "POST", "/v1/remove-background")["responses"]["200"]["headers"]
    # Then size, foreground box, request id and timing headers are all documented
    for name in ("X-Width", "X-Height", "X-Foreground-Left", "X-Foreground-Top",
                 "X-Foreground-Width", "X-Foreground-Height", "X-Request-Id",
                 "X-Processing-Time-Ms", "Server-Timing", "Cache-Control"):
        assert name in headers, name


def test_the_upload_and_account_answers_list_the_views_fields(document):
    schemas = document["components"]["schemas"]
    assert set(schemas["Upload"]["properties"]) == {
        "upload_id", "upload_url", "method", "headers", "expires_in", "max_bytes"}
    assert "training_opt_in" in schemas["Account"]["properties"]
    assert "deleted_training_objects" in schemas["OptInOutcome"]["properties"]
    assert "result_url" in schemas["ResultLink"]["properties"]


def test_the_removebg_route_documents_its_fields_and_error_shape(document):
    # Given POST /v1.0/removebg
    operation = _operation(document, "POST", "/v1.0/removebg")
    # Then every remove.bg field the parser knows is a field of the multipart body
    fields = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert set(removebg_request.FIELDS) <= set(fields)
    assert fields["size"]["default"] == removebg_request.DEFAULT_SIZE
    # And the function's errors and the gateway's own refusals (no key, over 10 MB,
    # throttled: every gateway response body carries remove.bg's list beside ours) all take
    # remove.bg's {"errors": [{"title", "code", "detail"}]} shape; the gateway's with its own
    # statuses (401 without a key, 413 over 10 MB: one status per response type)
    responses = operation["responses"]

    def shapes(status: str) -> set[str]:
        schema = responses[status]["content"]["application/json"]["schema"]
        return {part["$ref"].rsplit("/", 1)[-1] for part in schema.get("anyOf", [schema])}

    item = _resolve(document, _resolve(document, {"$ref": "#/components/schemas/RemoveBgErrors"})
                    ["properties"]["errors"]["items"])
    assert set(item["required"]) == {"title", "code", "detail"}
    assert shapes("400") == shapes("500") == {"RemoveBgErrors"}
    assert shapes("403") == shapes("429") == shapes("503") == {"RemoveBgErrors"}
    assert shapes("401") == shapes("413") == {"RemoveBgErrors"}
    assert {"auth_failed", "throttled", "file_too_large"} <= set(item["properties"]["code"]["enum"])
    # And client mistakes are 400, key problems 403, as remove.bg answers them
    assert not {"415", "422"} & set(responses)


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1.0/account"),
                                             ("POST", "/v1.0/improve")])
def test_remove_bgs_other_routes_answer_every_error_in_its_shape(document, method, path):
    # Given another remove.bg route
    responses = _operation(document, method, path)["responses"]
    # Then every error answer, the function's and the gateway's, is remove.bg's errors list,
    # with remove.bg's statuses for the function's (400, 403, 429, 5xx: no 404, 415 or 422)
    errors = {status: answer for status, answer in responses.items() if int(status) >= 400}
    assert {"400", "403", "429", "500", "503"} <= set(errors)
    assert not {"404", "415", "422"} & set(errors)
    for answer in errors.values():
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/RemoveBgErrors"}


def test_the_improve_route_documents_remove_bgs_fields_and_its_opt_in_refusal(document):
    # Given POST /v1.0/improve
    operation = _operation(document, "POST", "/v1.0/improve")
    # Then remove.bg's fields are the body's, in its three encodings
    content = operation["requestBody"]["content"]
    assert set(content) == {"multipart/form-data", "application/json",
                            "application/x-www-form-urlencoded"}
    assert set(content["multipart/form-data"]["schema"]["properties"]) == {
        "image_file", "image_file_b64", "image_url", "image_filename", "tag"}
    # And the refusal of an account that has not opted in is documented under 403
    assert "`training_opt_in_required`" in operation["responses"]["403"]["description"]


def test_a_route_without_a_response_model_fails_the_build(monkeypatch):
    # Given a route added to the table without a model for its answer
    extra = Route(operation="delete_account", method="DELETE", path="/v1/account",
                  function="account", group="account", summary="Delete the account")
    monkeypatch.setattr(builder, "ROUTES", (*ROUTES, extra))
    # When the document is built, then it refuses rather than drift
    with pytest.raises(ValueError, match="response model"):
        builder.build_document()


def test_every_view_the_functions_answer_with_validates_against_its_model():
    # Given each JSON view the handlers build, from real domain objects
    from types import SimpleNamespace

    from pydantic import TypeAdapter

    from cutout.api.views import account_view, result_link_view, upload_view
    from cutout.data.accounts import Account
    from cutout.openapi import models
    from cutout.service.privacy import Deployment, privacy_document
    from cutout.service.usage import DailyUsage, MonthlyUsage

    account = Account(account_id="acct_1", created_at="2026-12-01T00:00:00Z", opt_in=True,
                      opt_in_changed_at="2026-12-01T00:00:00Z", opt_in_changed_by="co_live_x")
    usage = MonthlyUsage(month="2026-12", days=(DailyUsage("2026-12-01", 3, 2_500_000),))
    upload = SimpleNamespace(upload_id="u" * 43, max_bytes=1, presigned=SimpleNamespace(
        url="https://bucket/key", headers={"Content-Type": "image/png"}, expires_in=300))
    removal = SimpleNamespace(link=SimpleNamespace(url="https://bucket/r", expires_in=300),
                              result=SimpleNamespace(foreground=(1, 2, 3, 4), width=10,
                                                     height=8, content_type="image/png"))
    deployment = Deployment(
        region="eu-west-1", kms_key="alias/cutout", tls_policy="TLS_1_2",
        api_endpoint_type="REGIONAL", imports_vpc=False, waf_enabled=False,
        zero_retention=False, sweep_interval_minutes=60, transient_lifecycle_days=1,
        upload_url_ttl_seconds=300, result_url_ttl_seconds=300, training_retention_days=90,
        inline_limit_bytes=4_700_000)
    # Then every one validates against the model the document publishes (extra keys and
    # missing ones both fail), so the views and openapi.json cannot drift apart
    TypeAdapter(models.Account).validate_python(account_view(account, usage))
    TypeAdapter(models.OptInOutcome).validate_python({**account_view(account),
                                                      "deleted_training_objects": 2})
    TypeAdapter(models.Upload).validate_python(upload_view(upload))
    TypeAdapter(models.ResultLink).validate_python(result_link_view(removal))
    TypeAdapter(models.Privacy).validate_python(privacy_document(deployment, training_opt_in=False))
