"""One error contract for the whole API: every failure under /api/v1 leaves in the envelope."""

import logging

from flask import Flask, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from ..errors import AppError, Invalid
from .envelope import error_response

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def _location(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "body"


def validation_details(exc: ValidationError, *, prefix: str = "") -> dict:
    """Name each bad field: {"voice_settings.speed": "Input should be less than or equal to 1.2"}."""
    details: dict[str, str] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "is not a known field"
        elif err["type"] == "missing":
            message = "is required"
        key = prefix + _location(loc)
        details[key] = message if key not in details else f"{details[key]}; {message}"
    return details


def validation_error(exc: ValidationError, *, prefix: str = "") -> Invalid:
    details = validation_details(exc, prefix=prefix)
    unknown = [k for k, v in details.items() if v == "is not a known field"]
    message = f"Unknown field(s): {', '.join(unknown)}" if unknown else "Validation failed"
    return Invalid(message, details)


def is_api_request() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


HTTP_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request body too large",
    415: "Unsupported media type",
    429: "Too many requests",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError):
        return error_response(exc.status, exc.message, exc.details, exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        if not is_api_request():
            return exc
        details = {}
        message = HTTP_MESSAGES.get(exc.code, exc.name)
        if exc.code == 405:
            details = {"allowed_methods": sorted(exc.valid_methods or [])}
        elif exc.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            details = {"max_bytes": limit}
        elif exc.code == 429:
            message = "Rate limit exceeded"
            details = {"limit": str(exc.description)}
        elif exc.code == 400 and exc.description and "CSRF" in str(exc.description):
            message = str(exc.description)
        headers = dict(exc.get_response().headers) if exc.code in (405, 429) else {}
        headers.pop("Content-Type", None)
        headers.pop("Content-Length", None)
        return error_response(exc.code or 500, message, details, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not is_api_request():
            return "Internal server error", 500
        return error_response(500, "Internal server error")
