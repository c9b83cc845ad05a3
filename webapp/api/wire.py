"""Response models as bytes, by pydantic's TypeAdapter.dump_json, equal to what jsonify wrote for
`model_validate(row).model_dump(mode="json")`: keys sorted at every level, ASCII only, compact.

dump_json writes a model's fields in declaration order and a dict's keys in insertion order, so
each response model gets a twin whose fields are declared in sorted order (nested models too), and
free-form JSON objects (dict fields) are serialized with their keys sorted. Two spellings still
differ from Python's json module: DEL (\\x7f) is not escaped, and a float's exponent has one digit
where Python writes two (1e-7, 1e-07). Output containing either is written again by the json
module (rare: neither occurs in the usual payloads).
"""

import json
import re
import types
import typing
from functools import cache
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, PlainSerializer, TypeAdapter, create_model
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined


def jsonify_bytes(value) -> bytes:
    """JSON exactly as the app's jsonify writes it (without its trailing newline)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":")).encode()


def _sorted_deep(value):
    if isinstance(value, dict):
        return {key: _sorted_deep(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_deep(item) for item in value]
    return value


SORTED_OBJECT = PlainSerializer(_sorted_deep, return_type=Any)


def _sorted_annotation(annotation):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return sorted_twin(annotation)
    if annotation is dict:
        return Annotated[dict, SORTED_OBJECT]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is None or origin is Literal or not args:
        return annotation
    if origin is Annotated:
        return Annotated[(_sorted_annotation(args[0]), *annotation.__metadata__)]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_sorted_annotation(arg) for arg in args)]  # noqa: UP007 - built from a tuple
    mapped = origin[tuple(_sorted_annotation(arg) for arg in args)]
    return Annotated[mapped, SORTED_OBJECT] if origin is dict else mapped


@cache
def sorted_twin(model: type[BaseModel]) -> type[BaseModel]:
    """`model` with its fields declared in sorted order (for output only: no validators)."""
    fields = {}
    for name in sorted(model.model_fields):
        info = model.model_fields[name]
        if info.default_factory is not None:
            default = FieldInfo(default_factory=info.default_factory)
        else:
            default = FieldInfo(default=info.default) if info.default is not PydanticUndefined else FieldInfo()
        fields[name] = (_sorted_annotation(info.annotation), default)
    return create_model(f"{model.__name__}Sorted", __config__=ConfigDict(from_attributes=True), **fields)


@cache
def _adapter(model: type[BaseModel], many: bool) -> TypeAdapter:
    twin = sorted_twin(model)
    return TypeAdapter(list[twin] if many else twin)


# A one-digit negative exponent ending a value: "1e-7," (compact JSON: a number ends at , ] or } or
# the end), when a digit precedes it ("4e-4b" in an id is not one). The regex starts with a literal,
# so it is searched for as fast as bytes.find.
_SHORT_EXPONENT = re.compile(rb"e-[0-9](?:[,\]}]|\Z)")


def _python_would_write_the_same(encoded: bytes) -> bool:
    if b"\x7f" in encoded:
        return False
    return not any(encoded[found.start() - 1 : found.start()].isdigit() for found in _SHORT_EXPONENT.finditer(encoded))


def model_bytes(model: type[BaseModel], data, *, many: bool = False) -> bytes:
    """`data` (mappings or objects with the fields as attributes; a list when `many`) as `model`."""
    adapter = _adapter(model, many)
    encoded = adapter.dump_json(adapter.validate_python(data), ensure_ascii=True)
    if _python_would_write_the_same(encoded):
        return encoded
    return jsonify_bytes(json.loads(encoded))
