"""Shared field types and query models used across the API schemas."""

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

MAX_JSON_DEPTH = 8
MAX_OFFSET = 1_000_000_000  # beyond any real page; offset + limit must stay within a 32-bit SQL integer


def _reject_unstorable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return value


def Text(max_length: int, *, min_length: int = 0):  # noqa: N802 - reads like a type
    """A stripped string of bounded length that every database can store."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
        AfterValidator(_reject_unstorable),
    ]


def _check_json_value(value: Any, depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ValueError(f"is nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        _reject_unstorable(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _reject_unstorable(key)
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

    return Annotated[dict[str, Any], AfterValidator(check)]


def as_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("needs a time zone, e.g. 2030-01-01T09:00:00Z")
    try:
        return value.astimezone(UTC) if value is not None else None
    except OverflowError:
        raise ValueError("is outside the supported date range") from None


AwareDatetime = Annotated[datetime, AfterValidator(as_utc)]


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
