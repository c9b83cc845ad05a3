"""E.164 phone numbers, validated with phonenumbers so the error can say why one was refused."""

import re
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, WithJsonSchema

E164 = re.compile(r"^\+[1-9]\d{1,14}$")

T = phonenumbers.PhoneNumberType
# Number types that cost the caller, or reach no person: refused as destinations (toll fraud).
COSTLY_TYPES = {
    T.PREMIUM_RATE: "a premium-rate number",
    T.SHARED_COST: "a shared-cost number",
    T.PERSONAL_NUMBER: "a personal (follow-me) number, charged at premium rates",
    T.UAN: "a universal access number, charged above local rates",
    T.PAGER: "a pager number",
    T.VOICEMAIL: "a voicemail access number",
}
# The North American 500-555 test range (the simulated provider's and Twilio's test numbers)
# never reaches a real phone, so its "personal number" type costs nothing.
TEST_RANGE = "+1500555"


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
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    kind = phonenumbers.number_type(parsed)
    if kind in COSTLY_TYPES and not formatted.startswith(TEST_RANGE):
        raise ValueError(f"is {COSTLY_TYPES[kind]}: calls to numbers that cost the caller are refused")
    return formatted


PhoneNumber = Annotated[
    str,
    AfterValidator(validate_e164),
    WithJsonSchema({"type": "string", "pattern": E164.pattern, "examples": ["+14155550123"]}),
]
