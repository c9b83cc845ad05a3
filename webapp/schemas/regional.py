"""An organization's time zone (IANA names, from zoneinfo) and default phone region (the region
codes phonenumbers supports), validated so the error can say what is accepted."""

from functools import lru_cache
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from pydantic import AfterValidator, WithJsonSchema

DEFAULT_TIME_ZONE = "UTC"
DEFAULT_PHONE_REGION = "US"
NOT_ZONES = {"localtime", "Factory"}  # files in the zone database that name no place's time


@lru_cache(maxsize=1)
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones() - NOT_ZONES}


def time_zone_names() -> list[str]:
    return sorted(_zones_by_folded_name().values())


def phone_regions() -> list[str]:
    return sorted(phonenumbers.SUPPORTED_REGIONS)


def check_time_zone(value: str) -> str:
    """The IANA name as the zone database spells it (`europe/london` → `Europe/London`)."""
    name = _zones_by_folded_name().get(value.strip().casefold()) if isinstance(value, str) else None
    if name is None:
        raise ValueError("must be an IANA time zone name, e.g. Europe/London, America/New_York or UTC")
    return name


def check_phone_region(value: str) -> str:
    """An ISO 3166 region code that phonenumbers knows, upper-cased."""
    code = value.strip().upper() if isinstance(value, str) else ""
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError("must be a two-letter country code phone numbers exist for, e.g. US, GB or DE")
    return code


def zone(name: str | None) -> ZoneInfo:
    """The zone of a stored name; UTC for none (rows written before organizations had a zone)."""
    return ZoneInfo(name or DEFAULT_TIME_ZONE)


TimeZoneName = Annotated[
    str,
    AfterValidator(check_time_zone),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": 64,
            "examples": ["Europe/London"],
            "description": "An IANA time zone name (case-insensitive; answered as the zone database spells it)",
        }
    ),
]

PhoneRegion = Annotated[
    str,
    AfterValidator(check_phone_region),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 2,
            "maxLength": 2,
            "examples": ["GB"],
            "description": "ISO 3166 country code (case-insensitive) for numbers typed without a country code",
        }
    ),
]
