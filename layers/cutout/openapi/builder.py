"""Build the OpenAPI 3.1 document: Powertools' generator over the route table, then a small
post-step for what it cannot express.

Powertools writes the paths, operations, path parameters, JSON request and response models
(`cutout.openapi.models`) and the security scheme, from one resolver in which every route of
`cutout.api.routes.ROUTES` is registered with a stub of the right signature. The post-step
adds the two removal routes' bodies in four encodings and their options
(`cutout.openapi.bodies`), the error answers of each route and the error-code catalogue
(`cutout.openapi.catalogue`), the response headers, and the account page's file types.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.models import APIKey, Server, ServerVariable
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from pydantic import TypeAdapter

from cutout import __version__
from cutout.api.authorizer import API_KEY_HEADER
from cutout.api.removebg_contract import REMOVEBG_PREFIX, TITLES
from cutout.api.routes import COMMON_ERRORS, ROUTES, Route
from cutout.openapi import bodies
from cutout.openapi.catalogue import (
    HEADER_DESCRIPTIONS,
    HEADER_PATTERNS,
    JSON,
    base_headers_of,
    error_answers,
    error_codes,
    forbidden_reasons,
    gateway_refusals,
    ref,
    removebg_error_answers,
    removebg_error_codes,
    with_gateway_refusals,
)
from cutout.openapi.models import REQUEST_MODELS, RESPONSE_MODELS

SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}]
# Schemas Powertools adds for its own request validation, which our API does not answer.
_POWERTOOLS_ONLY = ("HTTPValidationError", "ValidationError", "ResponseValidationError")
# The media type of a public page file, by the path's ending.
_PAGE_TYPES = {".js": "text/javascript", ".css": "text/css", "": "text/html"}
# Operations whose answers the post-step writes whole (they are not one JSON model).
_SPECIAL = {
    "remove_background": lambda: bodies.removal_answers(),
    "remove_background_removebg": lambda: with_gateway_refusals(bodies.removebg_answers()),
}


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route in the route table."""
    app = APIGatewayRestResolver()
    for route in ROUTES:
        _register(app, route)
    schema = app.get_openapi_schema(
        title="cutout", version=__version__,
        summary="Privacy-first background removal, deployed in your own AWS account.",
        description="Generated from the code by `cutout openapi`; do not edit by hand.",
        servers=[Server(url="{base}", description="The stack's `ApiUrl` output, or "
                        "`http://127.0.0.1:8080` with `cutout serve`",
                        variables={"base": ServerVariable(default="http://127.0.0.1:8080")})],
        security_schemes={"apiKey": APIKey.model_validate(
            {"type": "apiKey", "name": API_KEY_HEADER, "in": "header"})},
        security=SECURITY)
    document = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
    return _post_step(document)


def _register(app: APIGatewayRestResolver, route: Route) -> None:
    """One route on the resolver, with a stub whose signature carries its parameters."""
    responses: dict[int, Any] = {}
    model = RESPONSE_MODELS.get(route.operation)
    if model is not None and route.operation not in _SPECIAL:
        responses[route.success_status] = {
            "description": (model.__doc__ or route.summary).strip().splitlines()[0],
            "content": {JSON: {"model": model}}}
    elif route.authorized and route.operation not in _SPECIAL:
        raise ValueError(f"route {route.operation!r} has no response model: add one to "
                         "cutout.openapi.models.RESPONSE_MODELS")
    app.route(route.router_path, route.method, summary=route.summary,
              description=route.description or None, operation_id=route.operation,
              tags=[route.group], responses=responses or None,
              security=SECURITY if route.authorized else [])(_stub(route))


def _stub(route: Route) -> Callable[..., None]:
    def operation(**_: Any) -> None:
        return None

    parameters = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                                    annotation=Annotated[str, Path()])
                  for name in re.findall(r"{(\w+)}", route.path)]
    request = REQUEST_MODELS.get(route.operation)
    if request is not None:
        parameters.append(inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY,
                                            annotation=Annotated[request, Body()]))
    operation.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    operation.__name__ = route.operation
    return operation


def _post_step(document: dict[str, Any]) -> dict[str, Any]:
    """What Powertools cannot say: bodies in four encodings, errors, headers, page types."""
    for route in ROUTES:
        operation = document["paths"][route.path][route.method.lower()]
        responses = operation.setdefault("responses", {})
        responses.pop("422", None)  # Powertools' own validation answer; ours is 400
        if route.operation == "remove_background":
            operation["parameters"] = [bodies.query_option(name)
                                       for name in bodies.OPTION_NAMES]
            operation["requestBody"] = bodies.native_removal_body()
        elif route.operation == "remove_background_removebg":
            operation["parameters"] = [bodies.removebg_query(name)
                                       for name in bodies.removebg_text_fields()]
            operation["requestBody"] = bodies.removebg_body()
        elif route.operation == "improve_removebg":
            operation["requestBody"] = bodies.improve_body()
        if route.operation in _SPECIAL:
            responses.clear()
            responses.update(_SPECIAL[route.operation]())
        elif not route.authorized:
            operation["security"] = []  # Powertools drops an empty list; public means none
            media = _PAGE_TYPES[_suffix(route.path)]
            responses.clear()
            responses["200"] = {"description": route.summary, "headers": base_headers_of(),
                                "content": {media: {"schema": {"type": "string"}}}}
        else:
            responses[str(route.success_status)]["headers"] = base_headers_of()
        if route.authorized and route.operation != "remove_background_removebg":
            errors = (*route.errors, *COMMON_ERRORS)
            if route.path.startswith(REMOVEBG_PREFIX):  # remove.bg's shape, the gateway's too
                merged = with_gateway_refusals({**responses, **removebg_error_answers(errors)})
                responses.clear()
                responses.update(merged)
            else:
                responses.update(error_answers(errors))
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _POWERTOOLS_ONLY:
        schemas.pop(name, None)
    for model in RESPONSE_MODELS.values():  # the special answers' models too
        _add_model(schemas, model)
    schemas.update(_catalogue_schemas(schemas))
    components["headers"] = {
        name: {"description": text, "schema": {
            "type": "string", **({"pattern": HEADER_PATTERNS[name]}
                                 if name in HEADER_PATTERNS else {})}}
        for name, text in HEADER_DESCRIPTIONS.items()}
    return document


def _schema_of(body: type[Any]) -> dict[str, Any]:
    """A body's JSON schema (its nested bodies under `$defs`), refs into components/schemas."""
    return TypeAdapter(body).json_schema(ref_template="#/components/schemas/{model}")


def _add_model(schemas: dict[str, Any], model: type[Any]) -> None:
    """A body's schema (and the bodies it nests) under components/schemas."""
    if model.__name__ in schemas:
        return
    schema = _schema_of(model)
    for name, nested in schema.pop("$defs", {}).items():
        schemas.setdefault(name, nested)
    schemas[model.__name__] = schema


def _catalogue_schemas(schemas: dict[str, Any]) -> dict[str, Any]:
    """The error-code catalogue, and the error models' code fields pointing at it."""
    from cutout.openapi.models import Error, ErrorDetail, RemoveBgErrors

    error = _schema_of(Error)
    detail = _schema_of(ErrorDetail)
    detail["properties"]["code"] = {**ref("ErrorCode"),
                                    "description": "A stable machine-readable code."}
    detail["properties"]["reason"] = {"type": "string", "enum": [*forbidden_reasons(), ""],
                                      "description": "`403 forbidden` only: the authorizer's "
                                                     "verdict."}
    removebg = _schema_of(RemoveBgErrors)
    codes = error_codes()
    removebg_item = removebg.pop("$defs")["RemoveBgError"]
    # Every code a remove.bg route answers: the removal route's, each other /v1.0/ route's
    # own, and the gateway's.
    others = [removebg_error_codes((*route.errors, *COMMON_ERRORS)) for route in ROUTES
              if route.authorized and route.path.startswith(REMOVEBG_PREFIX)]
    removebg_item["properties"]["code"]["enum"] = sorted(
        {code for by_status in (removebg_error_codes(), gateway_refusals(), *others)
         for codes in by_status.values() for code in codes})
    removebg_item["properties"]["title"]["examples"] = sorted(set(TITLES.values()))
    error.pop("$defs", None)
    return {
        # An enum that generated clients read as one type; each code's status and meaning
        # ride along in the description and in x-enum-descriptions.
        "ErrorCode": {"type": "string", "enum": list(codes),
                      "description": "Stable error codes: " + "; ".join(
                          f"`{code}` (HTTP {status})" for code, (status, _) in codes.items()),
                      "x-enum-descriptions": {code: f"HTTP {status}. {meaning}"
                                              for code, (status, meaning) in codes.items()}},
        "Error": error, "ErrorDetail": detail,
        "RemoveBgErrors": removebg, "RemoveBgError": removebg_item,
        **{name: schema for name, schema in schemas.items() if name not in ("Error",)},
    }


def _suffix(path: str) -> str:
    last = path.rsplit("/", 1)[-1]
    return "." + last.rsplit(".", 1)[-1] if "." in last else ""
