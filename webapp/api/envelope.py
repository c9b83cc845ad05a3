"""The contract's response envelope: {success, data|error+details, meta{timestamp, request_id}}."""

import uuid
from datetime import UTC, datetime

from flask import g, jsonify, request

REQUEST_ID_HEADER = "X-Request-ID"


def assign_request_id() -> None:
    """Reuse a sane incoming X-Request-ID (for tracing across services), else make one."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    if 8 <= len(incoming) <= 64 and all(c.isalnum() or c in "-_." for c in incoming):
        g.request_id = incoming
    else:
        g.request_id = str(uuid.uuid4())


def request_id() -> str:
    if "request_id" not in g:
        assign_request_id()
    return g.request_id


def meta(**extra) -> dict:
    now = datetime.now(UTC)
    return {
        "timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "request_id": request_id(),
        **extra,
    }


def ok(data, status: int = 200, **meta_extra):
    return jsonify({"success": True, "data": data, "meta": meta(**meta_extra)}), status


def paginated(items: list, *, total: int, limit: int, offset: int):
    pagination = {
        "total": total,
        "limit": limit,
        "offset": offset,
        "has_more": offset + len(items) < total,
    }
    return ok(items, pagination=pagination)


def error_response(status: int, message: str, details: dict | None = None, headers=None):
    body = {"success": False, "error": message, "details": details or {}, "meta": meta()}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
