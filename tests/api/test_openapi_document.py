"""The OpenAPI document describes the whole API: every reference resolves, every operation that
reads a body says what it reads, and every success answer has a schema (a download names its
media type; a text answer, /metrics, is a string). Built from the application itself; no service
needs to run."""

from __future__ import annotations

import inspect
import re
from typing import Any, Union, get_args, get_origin, get_type_hints

import pytest
from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from api import schemas
from api.main import create_app

METHODS = ("get", "put", "post", "delete", "patch")
# Operations that change something without a body: the path says it all.
BODYLESS = {
    ("post", "/accounts/{account_id}/key"),
    ("delete", "/accounts/{account_id}/key"),
    ("post", "/licences/{licence_id}/revoke"),
    ("post", "/periods/{period_id}/lines/{index}/claim"),
    ("post", "/cases/{case_id}/notices/{notice_format}/send"),
    ("post", "/arbiter/accept"),
}


@pytest.fixture(scope="module")
def document() -> dict:
    return create_app().openapi()


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def resolve(doc: dict, ref: str):
    assert ref.startswith("#/"), f"{ref} is not a local reference"
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def refs(node, where: str = "#"):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield where, node["$ref"]
        for key, value in node.items():
            yield from refs(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from refs(value, f"{where}/{i}")


def deref(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = resolve(doc, schema["$ref"])
    return schema


def free_form(doc: dict, schema: dict) -> bool:
    """A bare `dict` (or list of them) as FastAPI describes it: an object with no properties."""
    schema = deref(doc, schema)
    if schema.get("type") == "array":
        return free_form(doc, schema.get("items", {}))
    if not schema:
        return True
    return (
        schema.get("type") == "object"
        and not schema.get("properties")
        and schema.get("additionalProperties", True) is True
        and "anyOf" not in schema
    )


def test_every_reference_resolves(document):
    found = list(refs(document))
    assert len(found) > 100
    broken = []
    for where, ref in found:
        try:
            resolve(document, ref)
        except AssertionError:
            broken.append(f"{where}: {ref}")
    assert not broken, broken


def test_every_component_is_a_model_of_the_api(document):
    """Components come from api.schemas (or are enums of the ledger's models): none is made up."""
    from ledger import models

    for name in document["components"]["schemas"]:
        assert hasattr(schemas, name) or hasattr(models, name), name


def test_every_operation_that_takes_a_body_declares_its_schema(document):
    missing, extra = [], []
    for method, path, operation in operations(document):
        body = operation.get("requestBody")
        if method in ("post", "put", "patch") and (method, path) not in BODYLESS:
            if not body:
                missing.append(f"{method.upper()} {path}")
                continue
            for media_type, content in body["content"].items():
                schema = content.get("schema")
                if not schema or free_form(document, schema):
                    missing.append(f"{method.upper()} {path} ({media_type})")
                fields = (
                    deref(document, schema or {}).get("properties", {}) if media_type == "multipart/form-data" else {}
                )
                for name, prop in fields.items():
                    if prop.get("contentMediaType") == "application/json":
                        resolve(document, prop["contentSchema"]["$ref"])
                    elif prop.get("type") == "string" and prop.get("format") != "binary":
                        missing.append(f"{method.upper()} {path}: form field {name} is text of no declared schema")
        elif body:
            extra.append(f"{method.upper()} {path}")
    assert not missing, missing
    assert not extra, f"declared bodyless but documented with a body: {extra}"


def test_the_streamed_bodies_are_documented(document):
    """The two bodies read by hand that a probe found undocumented, and the two dangling references."""
    for path in ("/reports", "/reports/check"):
        content = document["paths"][path]["post"]["requestBody"]["content"]
        assert {"application/x-ndjson", "application/jsonl", "text/csv", "application/json"} <= set(content)
    for name in ("WorkRegisterByHash", "MatchQuery", "PlayRowIn"):
        assert document["components"]["schemas"][name]["properties"], name
    assert set(document["components"]["schemas"]["WorkRegisterByHash"]["required"]) >= {"sha256", "title", "kind"}


def test_every_operation_declares_its_success_schema(document):
    missing = []
    for method, path, operation in operations(document):
        successes = {code: r for code, r in operation["responses"].items() if code.startswith("2")}
        if not successes:
            missing.append(f"{method.upper()} {path}: no 2xx")
        for code, response in successes.items():
            content = response.get("content") or {}
            if not content:
                missing.append(f"{method.upper()} {path} {code}: no content")
            for media_type, body in content.items():
                schema = body.get("schema")
                if schema is None:
                    missing.append(f"{method.upper()} {path} {code} {media_type}: no schema")
                elif media_type == "application/json":
                    if free_form(document, schema) and schema != {"type": "object"}:
                        missing.append(f"{method.upper()} {path} {code}: a bare dict")
                elif media_type.startswith("text/"):
                    if schema != {"type": "string"}:
                        missing.append(f"{method.upper()} {path} {code} {media_type}: a text answer is a string")
                elif schema != {"type": "string", "format": "binary"}:
                    missing.append(f"{method.upper()} {path} {code} {media_type}: a download is binary")
    assert not missing, missing


def test_every_refusal_is_the_error_body(document):
    for method, path, operation in operations(document):
        for code, response in operation["responses"].items():
            if (code == "default" or code[0] in "45") and (method, path, code) != ("get", "/health", "503"):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, code)
        assert "default" in operation["responses"], (method, path)


def test_request_models_live_in_schemas():
    """Request models are in api.schemas, not defined in the route modules."""
    import importlib
    import inspect
    import pkgutil

    from pydantic import BaseModel

    from api import routes

    for info in pkgutil.iter_modules(routes.__path__):
        module = importlib.import_module(f"api.routes.{info.name}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseModel):
                assert value.__module__ != module.__name__, f"{module.__name__}.{name} belongs in api.schemas"


def is_model(annotation: object) -> bool:
    """A pydantic model, or a list of one."""
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def is_response(annotation: object) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Response)


def loosely_typed(routes) -> list[str]:
    """Routes of the API document whose answer is not a model: a JSON answer without a pydantic
    response model (none, a dict, Any), or a handler that does not say what it returns, or says
    a dict, Any or only a Response. A download (its own response class) has no model; a keyed
    write may also return the answer it kept (`Model | Response`)."""
    found = []
    for context in iter_route_contexts(routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        name = f"{'/'.join(sorted(route.methods))} {context.path} ({route.endpoint.__name__})"
        returns = get_type_hints(route.endpoint).get("return", inspect.Signature.empty)
        download = is_response(route.response_class) and route.response_class is not JSONResponse
        if download:
            if not is_response(returns) or route.response_model is not None:
                found.append(f"{name}: a download returns its response and has no model")
            continue
        if not is_model(route.response_model):
            found.append(f"{name}: response model {route.response_model!r}")
        parts = get_args(returns) if get_origin(returns) in (Union, type(int | str)) else (returns,)
        typed = any(is_model(p) for p in parts) and all(is_model(p) or is_response(p) for p in parts)
        if returns is inspect.Signature.empty or not typed:
            found.append(f"{name}: returns {returns!r}")
    return found


def test_every_route_answers_with_a_response_model():
    assert loosely_typed(create_app().routes) == []


def test_a_route_answering_a_dict_is_found():
    """The check above finds each way a route can answer untyped."""
    app = FastAPI()

    @app.get("/dict")
    def bare_dict() -> dict[str, Any]:
        return {}

    @app.get("/unannotated")
    def unannotated():
        return {}

    @app.get("/declared", response_model=schemas.ApiKey)
    def declared_but_dict() -> dict[str, Any]:
        return {"api_key": "k"}

    @app.get("/any", response_model=Any)
    def anything() -> schemas.ApiKey:
        return schemas.ApiKey(api_key="k")

    @app.get("/response", response_model=schemas.ApiKey)
    def hand_built() -> JSONResponse:
        return JSONResponse({"api_key": "k"})

    @app.get("/typed")
    def typed() -> schemas.ApiKey:
        return schemas.ApiKey(api_key="k")

    @app.get("/download", response_class=FileResponse)
    def download() -> FileResponse:
        return FileResponse(__file__)

    found = loosely_typed(app.routes)
    for route in ("bare_dict", "unannotated", "declared_but_dict", "anything", "hand_built"):
        assert any(f"({route})" in line for line in found), (route, found)
    assert not [line for line in found if "(typed)" in line or "(download)" in line], found


def test_the_api_reference_page_loads_swagger_ui_from_the_service_itself():
    """`/docs` names no other host (FastAPI's default page loads Swagger UI from a CDN and is
    blank without internet), and every file it names is served; ReDoc, CDN-only, is not offered."""
    from fastapi.testclient import TestClient

    client = TestClient(create_app())  # not entered: the page needs no ledger
    page = client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    assert "://" not in page.text, "the page refers to another host"
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert {a.rsplit("/", 1)[1] for a in assets} == {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and served.content, asset
    assert client.get("/redoc").status_code == 404
