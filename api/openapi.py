"""The OpenAPI document, completed: request bodies that routes read by hand (a streamed upload,
rows in NDJSON or CSV) name their models as `#/components/schemas/<Name>`, and those models
(from `api.schemas`) are added to the components here; every refusal is described by the error
body the service really sends."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from api import schemas

REF = "#/components/schemas/"
ERROR = {
    "description": "Refused: the error body (4xx; 503 while the chain or database does not answer).",
    "content": {"application/json": {"schema": {"$ref": REF + "ErrorBody"}}},
}


def _refs(node: object, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF):
            found.add(ref[len(REF) :])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def _add_models(doc: dict[str, Any], names: set[str]) -> None:
    """Add the named `api.schemas` models (and the models they use) to the components."""
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for name in sorted(names):
        model = getattr(schemas, name, None)
        if model is None or not isinstance(model, type) or not issubclass(model, BaseModel):
            raise LookupError(f"the OpenAPI document refers to {name}, which api.schemas does not define")
        models.append((model, "validation"))
    _, defs = models_json_schema(models, ref_template=REF + "{model}")
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in defs.get("$defs", {}).items():
        components.setdefault(name, schema)


def build(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for item in doc["paths"].values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {**ERROR, "description": "The request is malformed or refused."}
            responses.setdefault("default", ERROR)
    components = doc.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        components.pop(unused, None)
    while missing := _refs(doc, set()) - set(components):
        _add_models(doc, missing)
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the document
