"""`@endpoint(...)`: authenticates, validates query and body with the pydantic models, and records
them on the view so the OpenAPI document is generated from the same models that validate."""

import json
from dataclasses import dataclass, field
from functools import wraps

from flask import current_app, request
from pydantic import BaseModel, ValidationError

from ..errors import Invalid
from . import idempotency
from .auth import authenticate
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


def _refuse_constant(name: str):
    """NaN and Infinity are not JSON (Python reads them; PostgreSQL's json type refuses them)."""
    raise ValueError(f"{name} is not valid JSON")


def read_json_object() -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        payload = json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise Invalid("Malformed JSON body", {"body": str(exc)[:200]}) from None
    if not isinstance(payload, dict):
        raise Invalid("JSON body must be an object", {"body": type(payload).__name__})
    return payload


def _validation_context() -> dict:
    return {"allow_loopback": current_app.config.get("WEBHOOK_ALLOW_LOOPBACK", False)}


def parse_body(model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(read_json_object(), context=_validation_context())
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
