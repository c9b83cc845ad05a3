"""Calling windows in the callee's own time: the zones come from the number (phonenumbers), and a
number that maps to several zones may only be called while the window is open in all of them. A
number phonenumbers knows no zone for, or one not tied to a place (toll-free, personal, VoIP), is
judged in the organization's time zone (`fallback`)."""

from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import PhoneNumberType
from phonenumbers import timezone as number_timezones

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LOOKAHEAD_DAYS = 8  # a weekly window opens within a week, or never


# Numbers that belong to a person somewhere in their country: a mobile without a geographic prefix
# gets every zone of its country. Toll-free, personal, VoIP and similar numbers say nothing about
# where the callee is: they are judged in the organization's zone like numbers of no known zone.
LOCATED_TYPES = {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


@lru_cache(maxsize=4096)
def zones_for(number: str, fallback: str = "UTC") -> tuple[ZoneInfo, ...]:
    """The number's time zones; the `fallback` zone when phonenumbers knows none."""
    try:
        parsed = phonenumbers.parse(number)
    except phonenumbers.NumberParseException:
        parsed = None
    located = parsed is not None and phonenumbers.number_type(parsed) in LOCATED_TYPES
    names = number_timezones.time_zones_for_number(parsed) if located else ()
    zones = []
    for name in names:
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue  # "Etc/Unknown"
    return tuple(zones) or (ZoneInfo(fallback),)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def open_in_zone(window: dict, zone: ZoneInfo, moment: datetime) -> bool:
    local = moment.astimezone(zone)
    if DAYS[local.weekday()] not in window["days"]:
        return False
    return _clock(window["start"]) <= local.time() < _clock(window["end"])


def is_open(window: dict | None, number: str, moment: datetime, fallback: str = "UTC") -> bool:
    if not window:
        return True
    return all(open_in_zone(window, zone, moment) for zone in zones_for(number, fallback))


def _openings(window: dict, zone: ZoneInfo, after: datetime) -> list[datetime]:
    """Each moment the window opens in this zone over the look-ahead, in UTC."""
    start = _clock(window["start"])
    first_day = after.astimezone(zone).date() - timedelta(days=1)
    openings = []
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = first_day + timedelta(days=offset)
        if DAYS[day.weekday()] in window["days"]:
            openings.append(datetime.combine(day, start, tzinfo=zone).astimezone(UTC))
    return openings


def next_open(window: dict | None, number: str, now: datetime, fallback: str = "UTC") -> datetime | None:
    """`now` when the window is open for this number, else the next moment it opens in all of the
    number's zones (an intersection of intervals starts where one of them starts); None if it never
    does within a week (zones too far apart for this window)."""
    if is_open(window, number, now, fallback):
        return now
    zones = zones_for(number, fallback)
    candidates = sorted({opening for zone in zones for opening in _openings(window, zone, now) if opening > now})
    return next((moment for moment in candidates if is_open(window, number, moment, fallback)), None)
