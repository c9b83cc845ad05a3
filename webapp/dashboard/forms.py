"""Form input → pydantic models, and pydantic errors → messages shown next to each field."""

from flask import current_app, request
from pydantic import BaseModel, ValidationError

from ..errors import AppError

FRIENDLY = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not accepted.",
}
PATTERN_HINTS = {  # field name → what its pattern allows, in words
    "press": "Use the keys 0-9, * and # (w waits half a second).",
    "language": "Use a language code such as en or en-GB.",
}


def text(name: str) -> str:
    return request.form.get(name, "").strip()


def optional_text(name: str) -> str | None:
    return text(name) or None


def _message(error: dict) -> str:
    if error["type"] in FRIENDLY:
        return FRIENDLY[error["type"]]
    if error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1:
        return "This field is required."
    field = (error.get("loc") or ("",))[-1]
    if error["type"] == "string_pattern_mismatch" and field in PATTERN_HINTS:
        return PATTERN_HINTS[field]
    message = error["msg"].removeprefix("Value error, ")
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def field_errors(exc: ValidationError) -> dict[str, str]:
    """{"voice_settings.speed": "Input should be less than or equal to 1.2."} — one entry per bad field."""
    errors: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        key = ".".join(str(part) for part in error["loc"]) or "form"
        errors[key] = f"{errors[key]} {_message(error)}" if key in errors else _message(error)
    return errors


def validate(model: type[BaseModel], payload: dict) -> tuple[BaseModel | None, dict[str, str]]:
    context = {"allow_loopback": current_app.config.get("WEBHOOK_ALLOW_LOOPBACK", False)}
    try:
        return model.model_validate(payload, context=context), {}
    except ValidationError as exc:
        return None, field_errors(exc)


def service_errors(exc: AppError) -> dict[str, str]:
    """A service's refusal as form errors: per field when it names fields, else one message for the form."""
    if exc.details and all(isinstance(value, str) for value in exc.details.values()):
        return {key: _message({"type": "", "msg": value}) for key, value in exc.details.items()}
    return {"form": exc.message}
