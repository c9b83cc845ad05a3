"""What schemathesis can't read from the OpenAPI document alone, for the contract fuzz test and for
a manual run (`SCHEMATHESIS_HOOKS=tests.reliability.fuzz_hooks st run --checks all ...`):

- how to make a value of the document's phone-number formats: `e164` is a number libphonenumber
  calls valid, `e164-callable` one that also costs the caller nothing special (no pattern can say
  either); the numbers made are checked by the server's own validator;
- a fresh Idempotency-Key for each request: the document asks for a new key per request, and a
  key repeated with another body is refused (422) by design (test_idempotency.py covers that);
- the rules between two fields that JSON Schema can't state and the document's descriptions do: a
  calling window ends after it starts, a campaign's end_at is after its start_at; context_data holds
  no NUL character at any depth (its schema states the top level; a recursive schema broke the
  generated client); an invite's email is not at a special-use domain (.test, .invalid, ...: the
  field's description); and the body size limit (the documented 413: MAX_CONTENT_LENGTH, 1 MiB).

Neither switches a check off: they only make the data the document calls valid.
"""

import json
import uuid
from datetime import datetime

import phonenumbers
import schemathesis
from email_validator import SPECIAL_USE_DOMAIN_NAMES
from hypothesis import strategies as st

from webapp.api.idempotency import HEADER, KEY_PATTERN
from webapp.config import Settings
from webapp.schemas.phone import validate_e164

MAX_BODY_BYTES = Settings.model_fields["MAX_CONTENT_LENGTH"].default


def _callable(number: str) -> bool:
    try:
        validate_e164(number)
    except ValueError:
        return False
    return True


def _example_numbers() -> list[str]:
    """libphonenumber's fixed-line and mobile examples of every region."""
    kinds = (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE)
    examples = {
        phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for region in phonenumbers.SUPPORTED_REGIONS
        for kind in kinds
        if (example := phonenumbers.example_number_for_type(region, kind)) is not None
    }
    return sorted(number for number in examples if _callable(number))


# Mostly North American numbers (the default allowed countries, so tasks get created), also the
# rest of the world (refused with 403 until an organization allows their country).
NUMBERS = st.one_of(
    st.integers(0, 9999).map(lambda n: f"+1212555{n:04d}").filter(_callable),
    st.integers(0, 9999).map(lambda n: f"+1416555{n:04d}").filter(_callable),
    st.sampled_from(_example_numbers()),
)
schemathesis.openapi.format("e164", NUMBERS)
schemathesis.openapi.format("e164-callable", NUMBERS)


@schemathesis.hook
def before_call(context, case, kwargs):
    key = (case.headers or {}).get(HEADER)
    if isinstance(key, str) and KEY_PATTERN.fullmatch(key):
        case.headers[HEADER] = uuid.uuid4().hex


def _ordered(first, then, parse) -> bool:
    if not (isinstance(first, str) and isinstance(then, str)):
        return True
    try:
        return parse(then) > parse(first)
    except (TypeError, ValueError):
        return True  # not both well-formed: the schema judges them, not this rule


@schemathesis.hook
def filter_body(context, body):
    if len(json.dumps(body, default=str).encode()) > MAX_BODY_BYTES:
        return False
    if not isinstance(body, dict):
        return True
    if "\\u0000" in json.dumps(body.get("context_data")):
        return False
    email = body.get("email")
    if isinstance(email, str) and email.rsplit(".", 1)[-1].lower() in SPECIAL_USE_DOMAIN_NAMES:
        return False
    window = body.get("calling_window")
    if isinstance(window, dict) and not _ordered(window.get("start"), window.get("end"), str):
        return False
    return _ordered(body.get("start_at"), body.get("end_at"), datetime.fromisoformat)
