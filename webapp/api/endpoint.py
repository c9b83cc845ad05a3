"""`@endpoint(...)`: authenticates, validates query and body with the pydantic models, and records
them on the view so the OpenAPI document is generated from the same models that validate."""

import json
import math
from dataclasses import dataclass, field
from functools import wraps

from flask import current_app, request
from pydantic import BaseModel, ValidationError

from ..errors import AppError, Invalid
from ..identity import authenticate
from . import idempotency
from .errors import validation_error


@dataclass(frozen=True)
class EndpointSpec:
    summary: str
    auth: str = "api_key"  # "api_key" | "session" | "none"
    admin: bool = False
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    many: bool = False
    status: int = 200
    errors: tuple[int, ...] = ()
    raw_response: dict | None = field(default=None)  # for non-JSON responses (audio)
    operation_id: str | None = None  # default: "<tag>.<view name without the tag's noun>"
    range_requests: bool = False  # answers Range with 206 (and 416 for a range it can't serve)
    # A signed URL may stand in for the credentials: (query parameter, fn(token, view kwargs) -> Principal)
    signed_url: tuple[str, object] | None = None


class UnsupportedMediaType(AppError):
    status = 415


def _refuse_constant(name: str):
    """NaN and Infinity are not JSON (Python reads them; PostgreSQL's json type refuses them)."""
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e309 overflows to infinity: refused, not stored as null
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key[:60]!r} in an object")
        seen[key] = value
    return seen


def _require_json_content_type() -> None:
    if request.mimetype != "application/json":
        raise UnsupportedMediaType(
            "Send the body as JSON with Content-Type: application/json",
            {"content_type": request.mimetype or "missing"},
        )


def read_json_object() -> tuple[dict, bytes]:
    """The body as a JSON object, read strictly: Content-Type application/json (415 otherwise),
    no duplicate keys, no NaN/Infinity or numbers beyond a double (400). An empty body is {}."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}, b"{}"
    _require_json_content_type()
    try:
        payload = json.loads(
            raw, parse_constant=_refuse_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
        )
    except (ValueError, RecursionError) as exc:
        raise Invalid("Malformed JSON body", {"body": str(exc)[:200]}) from None
    if not isinstance(payload, dict):
        raise Invalid("JSON body must be an object", {"body": type(payload).__name__})
    unstorable = {key if not _has_surrogate(key) else "body": "must be valid Unicode (no lone surrogates)"
                  for key, value in payload.items() if _has_surrogate(key) or _has_surrogate(value)}  # fmt: skip
    if unstorable:
        raise Invalid("Validation failed", unstorable)
    return payload, raw


def _has_surrogate(value) -> bool:
    """Lone surrogates (\\ud800) are valid JSON escapes but no storable text. Iterative: bodies
    nest as deep as the JSON parser allows."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if any("\ud800" <= c <= "\udfff" for c in item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _validation_context() -> dict:
    return {"allow_loopback": current_app.config.get("WEBHOOK_ALLOW_LOOPBACK", False)}


def parse_body(model: type[BaseModel]) -> BaseModel:
    """Validated in pydantic's strict JSON mode: no coercion ("yes" is not a boolean, "5" is not an
    integer, 0 is not a date); dates are ISO 8601 strings."""
    _, raw = read_json_object()
    try:
        return model.model_validate_json(raw, strict=True, context=_validation_context())
    except ValidationError as exc:
        raise validation_error(exc) from None


def parse_query(model: type[BaseModel]) -> BaseModel:
    args = {key: request.args.getlist(key) for key in request.args}
    repeated = [key for key, values in args.items() if len(values) > 1]
    if repeated:
        raise Invalid("Query parameters may be given once", {k: "repeated" for k in repeated})
    try:
        return model.model_validate({k: v[0] for k, v in args.items()})
    except ValidationError as exc:
        raise validation_error(exc) from None


def endpoint(summary: str, **options):
    spec = EndpointSpec(summary=summary, **options)

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            token = request.args.get(spec.signed_url[0]) if spec.signed_url else None
            if token:
                kwargs["principal"] = spec.signed_url[1](token, kwargs)
            elif spec.auth != "none":
                kwargs["principal"] = authenticate(spec.auth, admin=spec.admin)
                replay = idempotency.begin(kwargs["principal"].organization_id)
                if replay is not None:
                    return replay
            if spec.query is not None:
                kwargs["query"] = parse_query(spec.query)
            if spec.body is not None:
                kwargs["body"] = parse_body(spec.body)
            return view(*args, **kwargs)

        wrapper.endpoint_spec = spec
        return wrapper

    return decorate
