"""Row ids are canonical UUIDs (lowercase, hyphenated, 36 characters). Anything else names no row:
it is a 404 before any lookup, never cut, trimmed or reinterpreted."""

import re

from .errors import NotFound

CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_canonical_id(value: object) -> bool:
    return isinstance(value, str) and CANONICAL_UUID.fullmatch(value) is not None


def canonical_id(value: object, resource: str) -> str:
    """`value` itself if it is a canonical UUID, else NotFound(resource)."""
    if not is_canonical_id(value):
        raise NotFound(resource)
    return value
