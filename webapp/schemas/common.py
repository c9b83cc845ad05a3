"""Shared field types and query models used across the API schemas."""

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

MAX_JSON_DEPTH = 8
MAX_OFFSET = 1_000_000_000  # beyond any real page; offset + limit must stay within a 32-bit SQL integer


def reject_unstorable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


# What pydantic's strip_whitespace strips (Unicode White_Space), as a regular expression class body
BLANK = r"\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NO_NUL = r"^[^\u0000]*$"
NOT_BLANK = rf"^[^\u0000]*[^\u0000{BLANK}][^\u0000]*$"


def Text(max_length: int, *, min_length: int = 0):  # noqa: N802 - reads like a type
    """A stripped string of bounded length that every database can store. The document says so
    too: no NUL character, and (when it may not be empty) something besides white space."""
    assert min_length <= 1, "the document's pattern can't count characters after stripping"
    schema = {"type": "string", "maxLength": max_length, "pattern": NOT_BLANK if min_length else NO_NUL}
    if min_length:
        schema["minLength"] = min_length
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(reject_unstorable),
        WithJsonSchema(schema),
    ]


def _check_json_value(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        reject_unstorable(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            reject_unstorable(key)
            _check_json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json_value(item, depth + 1)


def bounded_json_object(max_bytes: int):
    def check(value: dict) -> dict:
        _check_json_value(value)
        size = len(json.dumps(value, ensure_ascii=False).encode())
        if size > max_bytes:
            raise ValueError(f"is {size} bytes; at most {max_bytes} bytes are allowed")
        return value

    schema = {
        "type": "object",
        "propertyNames": {"pattern": NO_NUL},
        "description": f"Any JSON object up to {max_bytes // 1024} KiB (as UTF-8 JSON), nested at most "
        f"{MAX_JSON_DEPTH} levels deep, with no NUL character in any key or string",
    }
    return Annotated[dict[str, Any], AfterValidator(check), WithJsonSchema(schema)]


def as_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2030-01-01T09:00:00Z")
    try:
        return value.astimezone(UTC) if value is not None else None
    except OverflowError:
        raise ValueError("is outside the supported date range") from None


AwareDatetime = Annotated[datetime, AfterValidator(as_utc)]


def integral(value: Any) -> Any:
    """JSON has one kind of number: 53.0 is the integer 53, as JSON Schema's `integer` says (strict
    validation alone would refuse it). A boolean is still no integer."""
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def not_null(schema: dict) -> None:
    """`json_schema_extra` of partial-update fields that may be left out but not set to null (the
    services answer "must not be null"): the document offers only the value's own schema."""
    options = schema.pop("anyOf")
    schema.update(next(option for option in options if option.get("type") != "null"))
    schema.pop("default", None)


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error that names them."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(StrictModel):
    limit: int = Field(50, ge=1, le=100, description="Number of results (max 100)")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description="Pagination offset")


class OutModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
