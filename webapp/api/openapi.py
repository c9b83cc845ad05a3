"""OpenAPI 3.1, generated from the `@endpoint` specs and the pydantic models they validate with."""

import re

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .endpoint import EndpointSpec, endpoint

bp = Blueprint("openapi", __name__)

ERROR_TEXT = {
    400: "Bad request (validation error)",
    401: "Unauthorized (invalid or missing credentials)",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict with the resource's current state",
    413: "Request body too large",
    415: "Unsupported media type (send Content-Type: application/json)",
    416: "Range not satisfiable",
    422: "Idempotency-Key reused with a different request",
    429: "Too many requests",
    503: "Service unavailable (telephony provider or queue unreachable)",
}
META = {
    "type": "object",
    "required": ["timestamp", "request_id"],
    "properties": {
        "timestamp": {"type": "string", "format": "date-time"},
        "request_id": {"type": "string"},
        "pagination": {"$ref": "#/components/schemas/Pagination"},
    },
}
PAGINATION = {
    "type": "object",
    "required": ["total", "limit", "offset", "has_more"],
    "properties": {
        "total": {
            "type": "integer",
            "description": "Exact up to 10,000 rows past this page, a lower bound beyond; has_more is always exact",
        },
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
        "has_more": {"type": "boolean"},
    },
}
ERROR_ENVELOPE = {
    "type": "object",
    "required": ["success", "error", "details", "meta"],
    "properties": {
        "success": {"const": False},
        "error": {"type": "string"},
        "details": {"type": "object"},
        "meta": {"$ref": "#/components/schemas/Meta"},
    },
}


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _success_schema(spec: EndpointSpec) -> dict:
    if spec.response is None:
        data = {"type": "object"}
    elif spec.many:
        data = {"type": "array", "items": _ref(spec.response)}
    else:
        data = _ref(spec.response)
    return {
        "type": "object",
        "required": ["success", "data", "meta"],
        "properties": {"success": {"const": True}, "data": data, "meta": {"$ref": "#/components/schemas/Meta"}},
    }


def _query_parameters(model: type[BaseModel], schemas: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k != "title"},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _operation(spec: EndpointSpec, path_params: list[str], schemas: dict) -> dict:
    responses = {
        str(spec.status): {
            "description": spec.summary,
            "content": spec.raw_response or {"application/json": {"schema": _success_schema(spec)}},
        }
    }
    errors = set(spec.errors) | {400, 429}
    if spec.auth != "none":
        errors |= {401}
    if spec.admin:
        errors |= {403}
    if spec.body is not None:
        errors |= {413, 415}
    for code in sorted(errors):
        responses[str(code)] = {
            "description": ERROR_TEXT.get(code, "Error"),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
        }
    operation = {
        "summary": spec.summary,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in path_params
        ]
        + (_query_parameters(spec.query, schemas) if spec.query else []),
        "responses": responses,
        "security": [{"apiKey": []}]
        if spec.auth == "api_key"
        else ([{"session": []}] if spec.auth == "session" else []),
    }
    if spec.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(spec.body)}},
        }
    return operation


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retry safely: the same key with the same body within 24 h returns the first answer again "
    "(with Idempotent-Replayed: true); another body answers 422; while the first still runs, 409. Per organization.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "example": "4f9c2f7e-upload-2026-12-01",
}


def _idempotent(operation: dict) -> None:
    operation["parameters"].append(IDEMPOTENCY_PARAMETER)
    for code in (409, 422):
        operation["responses"].setdefault(
            str(code),
            {
                "description": ERROR_TEXT[code],
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
            },
        )


def build_openapi(app) -> dict:
    paths: dict[str, dict] = {}
    models: set[type[BaseModel]] = set()
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        spec: EndpointSpec | None = getattr(view, "endpoint_spec", None)
        if spec is None or not rule.rule.startswith("/api/v1"):
            continue
        routes.append((rule, spec))
        models |= {m for m in (spec.body, spec.response, spec.query) if m is not None}
    _, definitions = models_json_schema(
        [(m, "validation" if m is not None else "serialization") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    schemas = dict(definitions.get("$defs", {}))
    schemas.update({"Meta": META, "Pagination": PAGINATION, "ErrorEnvelope": ERROR_ENVELOPE})
    for rule, spec in routes:
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = _operation(spec, sorted(rule.arguments), schemas)
            if method == "POST" and spec.auth != "none":
                _idempotent(operation)
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Voice agents API", "version": "1.0.0"},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer va_..."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
        },
    }


@bp.get("/openapi.json")
@endpoint("This OpenAPI document", auth="none")
def openapi_document():
    if "openapi_document" not in current_app.extensions:
        current_app.extensions["openapi_document"] = build_openapi(current_app)
    return jsonify(current_app.extensions["openapi_document"])
