"""Where an organization may call: its allowed destination countries (like Twilio's geo
permissions). The default is the country of the caller number (TWILIO_FROM_NUMBER), or the United
States and Canada for the simulated provider. Owners and admins change the list in Settings or
through the session API; tasks to other countries are refused when saved and again at execute."""

import phonenumbers
from flask import current_app

from ..errors import AppError, Forbidden, Invalid
from ..extensions import db
from ..models import Organization

SIMULATED_DEFAULT = ("US", "CA")
MAX_COUNTRIES = 60


def default_countries() -> tuple[str, ...]:
    config = current_app.config
    caller = config.get("TWILIO_FROM_NUMBER")
    if config.get("TELEPHONY_PROVIDER") != "simulated" and caller:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(caller))
        except phonenumbers.NumberParseException:
            region = None
        if region:
            return (region,)
    return SIMULATED_DEFAULT


def allowed_countries(org: Organization) -> tuple[str, ...]:
    if org.allowed_countries:
        return tuple(org.allowed_countries.split(","))
    return default_countries()


def normalize_countries(codes: list[str]) -> tuple[str, ...]:
    """Upper-cased, de-duplicated ISO 3166 region codes that phone numbers exist for."""
    if not codes:
        raise Invalid("Validation failed", {"allowed_countries": "name at least one country"})
    if len(codes) > MAX_COUNTRIES:
        raise Invalid("Validation failed", {"allowed_countries": f"at most {MAX_COUNTRIES} countries"})
    result: list[str] = []
    unknown = []
    for code in codes:
        upper = code.strip().upper()
        if upper not in phonenumbers.SUPPORTED_REGIONS:
            unknown.append(code[:10])
        elif upper not in result:
            result.append(upper)
    if unknown:
        raise Invalid("Validation failed",
                      {"allowed_countries": f"not ISO 3166 country codes: {', '.join(unknown)}"})  # fmt: skip
    return tuple(result)


def set_allowed_countries(org_id: str, codes: list[str]) -> tuple[str, ...]:
    countries = normalize_countries(codes)
    org = db.session.get(Organization, org_id)
    org.allowed_countries = ",".join(countries)
    db.session.commit()
    return countries


def country_of(number: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None


def country_refusal(org_id: str, number: str) -> str | None:
    """Why `number` may not be called by this organization (its country), or None."""
    allowed = allowed_countries(db.session.get(Organization, org_id))
    country = country_of(number)
    if country in allowed:
        return None
    return (
        f"calls to {country or 'this country'} are not allowed for this organization "
        f"(allowed: {', '.join(allowed)}); owners and admins can change this in Settings"
    )


def check_destination(org_id: str, number: str, *, field: str = "to_number", error: type[AppError] = Forbidden) -> None:
    """Forbidden (403 naming the field) unless `number` is in one of the organization's countries."""
    refusal = country_refusal(org_id, number)
    if refusal:
        raise error("Destination country not allowed", {field: refusal})
