"""E.164 phone numbers, validated with phonenumbers so the error can say why one was refused."""

import re
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator, WithJsonSchema

E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
# The white space str.strip() takes off a number before it is checked, as a regular expression class body
STRIPPED = r"\t\n\u000b\u000c\r\u001c-\u001f \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
DOCUMENTED_E164 = rf"^[{STRIPPED}]*\+[1-9][0-9]{{1,14}}[{STRIPPED}]*$"

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
    """A dialable E.164 number that costs the caller nothing special (ValueError saying why not)."""
    formatted = validate_format(value)
    refusal = costly_type_refusal(formatted)
    if refusal:
        raise ValueError(refusal)
    return formatted


def costly_type_refusal(number: str) -> str | None:
    """Why a valid E.164 number is refused as a destination (its type costs the caller), or None."""
    kind = phonenumbers.number_type(phonenumbers.parse(number))
    if kind in COSTLY_TYPES and not number.startswith(TEST_RANGE):
        return f"is {COSTLY_TYPES[kind]}: calls to numbers that cost the caller are refused"
    return None


def validate_format(value: str) -> str:
    """A valid, assigned E.164 number in canonical form, whatever its type."""
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
            "format": "e164-callable",
            "pattern": DOCUMENTED_E164,
            "examples": ["+14155550123"],
            "description": "E.164 (+ country code and number, digits only), and a valid, dialable number "
            "for its country according to libphonenumber (possible length and an assigned range), "
            "not premium-rate, shared-cost, personal, UAN, pager or voicemail-access",
        }
    ),
]

# Any valid number, whatever its type (e.g. for the do-not-call list, which may list premium numbers).
ValidNumber = Annotated[
    str,
    AfterValidator(validate_format),
    WithJsonSchema(
        {
            "type": "string",
            "format": "e164",
            "pattern": DOCUMENTED_E164,
            "examples": ["+14155550123"],
            "description": "E.164, and a valid number for its country according to libphonenumber",
        }
    ),
]
