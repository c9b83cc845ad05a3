"""OpenAPI 3.1, generated from the `@endpoint` specs and the pydantic models they validate with."""

import re

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..schemas.webhooks import WebhookEvent
from .endpoint import EndpointSpec, endpoint
from .idempotency import KEY_PATTERN

bp = Blueprint("openapi", __name__)

ERROR_TEXT = {
    400: "Bad request (validation error)",
    401: "Unauthorized (invalid or missing credentials)",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict with the resource's current state",
    413: "Request body too large (over MAX_CONTENT_LENGTH, 1 MiB unless the server is set otherwise)",
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


# blueprint -> tag; the tag's nouns are dropped from view names to make operation ids
TAGS = {
    "agents": ("agents", ("agent", "agents")),
    "tasks": ("tasks", ("task", "tasks")),
    "calls": ("calls", ("call", "calls")),
    "organizations": ("organizations", ("organization", "organizations")),
    "api_keys": ("api_keys", ("key", "keys")),
    "users": ("users", ("user", "users")),
    "openapi": ("meta", ()),
}
TAG_DESCRIPTIONS = {
    "agents": "AI voice agents: prompt, starting message, voice, DTMF rules, dynamic variable defaults",
    "tasks": "Calls to make: number, context data, schedule, webhook; execute and reset",
    "calls": "Calls: status, transcript, report, recording, live socket, end and cancel, webhook deliveries",
    "organizations": "Organizations (session only)",
    "api_keys": "API keys (session only, admins)",
    "users": "Members, invites and the current session (session only)",
    "meta": "This document",
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _envelope(spec: EndpointSpec, schemas: dict) -> dict:
    """A shared component per response shape: {success: true, data, meta}."""
    if spec.response is None:
        name, data = "ObjectEnvelope", {"type": "object"}
    elif spec.many:
        name, data = f"{spec.response.__name__}ListEnvelope", {"type": "array", "items": _ref(spec.response.__name__)}
    else:
        name, data = f"{spec.response.__name__}Envelope", _ref(spec.response.__name__)
    schemas.setdefault(
        name,
        {
            "type": "object",
            "required": ["success", "data", "meta"],
            "properties": {"success": {"const": True}, "data": data, "meta": _ref("Meta")},
        },
    )
    return _ref(name)


def operation_id(blueprint: str, view: str, spec: EndpointSpec) -> tuple[str, str]:
    """(tag, operationId): `agents.create`, `calls.get_transcript`, `tasks.execute`."""
    tag, nouns = TAGS.get(blueprint, (blueprint, ()))
    if spec.operation_id:
        return tag, spec.operation_id
    words = [word for word in view.split("_") if word not in nouns]
    return tag, f"{tag}.{'_'.join(words) or view}"


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


RANGE_PARAMETER = {
    "name": "Range",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "pattern": r"^(bytes=([0-9]+-[0-9]*|-[0-9]+))?$", "example": "bytes=0-1023"},
    "description": "One byte range (`bytes=start-end`, `bytes=start-`, `bytes=-suffix`), answered with 206; "
    "another form is a 400, a range beyond the file a 416; an empty one, or one ending before it starts, is ignored",
}


def _operation(spec: EndpointSpec, path_params: list[str], schemas: dict) -> dict:
    responses = {
        str(spec.status): {
            "description": spec.summary,
            "content": spec.raw_response or {"application/json": {"schema": _envelope(spec, schemas)}},
        }
    }
    if spec.range_requests:
        responses["206"] = {
            "description": "The requested byte range (`Content-Range: bytes start-end/size`)",
            "content": spec.raw_response,
            "headers": {"Content-Range": {"schema": {"type": "string"}}},
        }
    errors = set(spec.errors) | {400, 429}
    if spec.range_requests:
        errors |= {416}
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
        if code in (429, 503):
            responses[str(code)]["headers"] = {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before trying again"}
            }
    operation = {
        "summary": spec.summary,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in path_params
        ]
        + (_query_parameters(spec.query, schemas) if spec.query else [])
        + ([RANGE_PARAMETER] if spec.range_requests else []),
        "responses": responses,
        "security": (
            [{"apiKey": []}] if spec.auth == "api_key" else [{"session": []}] if spec.auth == "session" else []
        )
        + ([{"signedUrl": []}] if spec.signed_url else []),  # fmt: skip
    }
    if spec.body is not None:
        operation["requestBody"] = {
            # an empty body reads as {}: it may be left out when no field is required
            "required": any(field.is_required() for field in spec.body.model_fields.values()),
            "content": {"application/json": {"schema": _ref(spec.body.__name__)}},
        }
    return operation


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Printable ASCII, a new one for each request you mean (a UUID, say). Retry safely: the same "
    "key with the same body within 24 h returns the first answer again (with Idempotent-Replayed: true); "
    "another body answers 422; while the first still runs, 409. Per organization.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": f"^{KEY_PATTERN.pattern}$"},
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
        # query models become inline parameters: only bodies and responses are components
        models |= {m for m in (spec.body, spec.response) if m is not None}
    _, definitions = models_json_schema(
        [(m, "validation") for m in sorted(models | {WebhookEvent}, key=lambda m: m.__name__)],
        ref_template="#/components/schemas/{model}",
    )
    schemas = dict(definitions.get("$defs", {}))
    schemas.update({"Meta": META, "Pagination": PAGINATION, "ErrorEnvelope": ERROR_ENVELOPE})
    tags = set()
    for rule, spec in routes:
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        blueprint, view = rule.endpoint.split(".")[-2:]
        tag, op_id = operation_id(blueprint, view, spec)
        tags.add(tag)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            operation = _operation(spec, sorted(rule.arguments), schemas)
            if method == "POST" and spec.auth != "none":
                _idempotent(operation)
            paths.setdefault(path, {})[method.lower()] = {"operationId": op_id, "tags": [tag], **operation}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Voice agents API", "version": "1.0.0"},
        "servers": [{"url": "/"}],
        "tags": [{"name": tag, "description": TAG_DESCRIPTIONS.get(tag, "")} for tag in sorted(tags)],
        "paths": dict(sorted(paths.items())),
        "webhooks": webhooks_section(),
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer va_..."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
                "signedUrl": {
                    "type": "apiKey",
                    "in": "query",
                    "name": "token",
                    "description": "The token in a `recording_url` (15 minutes, one call)",
                },
            },
        },
    }


SIGNATURE_DESCRIPTION = (
    '`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>` with your organization\'s '
    "webhook secret; reject it when the HMAC differs or `t` is more than 5 minutes old"
)
WEBHOOK_TEXT = {
    "call_started": "The provider placed the call",
    "call_completed": "The call completed; its transcript and report are final",
    "call_failed": "The call failed (failure_reason says why)",
}


def webhooks_section() -> dict:
    """What we POST to a task's webhook_url, per event (OpenAPI 3.1 `webhooks`)."""
    section = {}
    for event, summary in WEBHOOK_TEXT.items():
        section[event] = {
            "post": {
                "operationId": f"webhooks.{event}",
                "tags": ["webhooks"],
                "summary": summary,
                "description": "Retried after 10 s, 30 s, 2 min, 10 min and 30 min on network errors, 408, 429 "
                "and 5xx; any 2xx acknowledges it.",
                "parameters": [
                    {
                        "name": "X-Webhook-Id",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": "= event_id; the same on every retry",
                    },
                    {
                        "name": "X-Webhook-Event",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string", "const": event},
                    },
                    {
                        "name": "X-Webhook-Signature",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                        "description": SIGNATURE_DESCRIPTION,
                    },
                ],  # fmt: skip
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("WebhookEvent")}}},
                "responses": {"200": {"description": "Any 2xx acknowledges the event"}},
            }
        }
    return section


@bp.get("/openapi.json")
@endpoint("This OpenAPI document", auth="none", operation_id="meta.get_openapi")
def openapi_document():
    if "openapi_document" not in current_app.extensions:
        current_app.extensions["openapi_document"] = build_openapi(current_app)
    return jsonify(current_app.extensions["openapi_document"])
