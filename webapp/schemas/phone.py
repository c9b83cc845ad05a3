"""E.164 phone numbers, validated with phonenumbers so the error can say why one was refused."""

import re
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, WithJsonSchema

E164 = re.compile(r"^\+[1-9]\d{1,14}$")


def validate_e164(value: str) -> str:
    value = value.strip()
    if not E164.match(value):
        raise ValueError("must be in E.164 format: + then country code and number, digits only")
    try:
        parsed = phonenumbers.parse(value)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"is not a phone number: {exc}") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError("has the wrong number of digits for its country code")
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("is not an assigned number range in its country (not dialable)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


DEFAULT_REGION = "US"  # for numbers typed without a country code
_TYPED_SEPARATORS = re.compile(r"[\s\-().\u00a0]+")


def normalise_typed(value: str, region: str = DEFAULT_REGION) -> str:
    """A number as a person types it (`+1 415 555 0199`, `(415) 555-0199`) in E.164, when
    phonenumbers can read it; anything else is returned as typed, for the validator to explain."""
    text = (value or "").strip()
    if not text or E164.match(text):
        return text
    if not re.fullmatch(r"\+?[\d\s\-().\u00a0]+", text):
        return text
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return _TYPED_SEPARATORS.sub("", text)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


PhoneNumber = Annotated[
    str,
    AfterValidator(validate_e164),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": E164.pattern,
            "examples": ["+14155550123"],
            "description": "E.164 (+ country code and number, digits only), and a valid, dialable number "
            "for its country according to libphonenumber (possible length and an assigned range)",
        }
    ),
]
