"""Dates and times mentioned in transcript text, as said plus a structured form.

Relative words are not resolved to calendar dates: a report may be generated long after the
call, so "tomorrow" stays {"type": "relative", "days_from_call": 1}.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .turns import without_overlaps

WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(\d{4}))?"
_RELATIVE_DAYS = {
    "today": 0,
    "tonight": 0,
    "this morning": 0,
    "this afternoon": 0,
    "this evening": 0,
    "tomorrow": 1,
    "tomorrow morning": 1,
    "tomorrow afternoon": 1,
    "tomorrow evening": 1,
    "the day after tomorrow": 2,
    "next week": None,
    "this weekend": None,
    "next weekend": None,
    "later today": 0,
}
_HOUR_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "forty five": 45, "forty-five": 45}
_PERIOD = (
    r"(?:\s*(?P<ampm>a\.m\.|p\.m\.|a\.?m|p\.?m)(?![a-z])"
    r"|\s+(?P<part>in the morning|in the afternoon|in the evening|at night))"
)
_OCLOCK = r"\s*o['\u2019]?clock\b"
_HOUR_WORD = r"(?P<hourword>" + "|".join(_HOUR_WORDS) + r")"
_MINUTE_WORD = r"(?:[\s-]+(?P<minuteword>fifteen|thirty|forty[\s-]five))?"
_WORD_CLOCK = rf"\b(?:at\s+)?{_HOUR_WORD}{_MINUTE_WORD}(?:{_PERIOD}|{_OCLOCK})"
_NOT_A_TIME = (
    r"(?!\s*(?:%|percent|dollars?|bucks|cents?|euros?|pounds?|items?|units?|boxes|packages?"
    r"|people|minutes?|hours?|days?|weeks?|months?|years?|miles?|[A-Z]))"
)


def _relative(match: re.Match) -> dict:
    phrase = " ".join(match.group(0).lower().split())
    record = {"type": "relative", "phrase": phrase}
    if _RELATIVE_DAYS[phrase] is not None:
        record["days_from_call"] = _RELATIVE_DAYS[phrase]
    return record


def _weekday(match: re.Match) -> dict:
    record = {"type": "weekday", "weekday": match.group(2).lower()}
    if match.group(1):
        record["qualifier"] = match.group(1).lower()
    return record


def _date(month: int, day: int, year: str | None = None) -> dict | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    record = {"type": "date", "month": month, "day": day}
    if year:
        record["year"] = int(year) if len(year) == 4 else 2000 + int(year)
    return record


def _month_day(match: re.Match) -> dict | None:
    return _date(_MONTHS[match.group(1)[:3].lower()], int(match.group(2)), match.group(3))


def _day_month(match: re.Match) -> dict | None:
    return _date(_MONTHS[match.group(2)[:3].lower()], int(match.group(1)), match.group(3))


def _numeric_date(match: re.Match) -> dict | None:
    return _date(int(match.group(1)), int(match.group(2)), match.group(3))


def _iso_date(match: re.Match) -> dict | None:
    return _date(int(match.group(2)), int(match.group(3)), match.group(1))


def _day_only(match: re.Match) -> dict | None:
    day = int(match.group(1))
    return {"type": "date", "day": day} if 1 <= day <= 31 else None


def _time(hour: int, minute: int, period: str | None) -> dict | None:
    meridiem = _meridiem(period)
    if minute > 59 or hour > 23 or (meridiem and not 1 <= hour <= 12):
        return None
    if meridiem:
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    record = {
        "type": "time",
        "hour": hour,
        "minute": minute,
        "value": f"{hour:02d}:{minute:02d}",
    }
    if meridiem is None and 1 <= hour <= 12:
        record["ambiguous"] = True
    return record


def _meridiem(period: str | None) -> str | None:
    if not period:
        return None
    word = period.lower().replace(".", "").replace(" ", "")
    if word == "am" or word == "inthemorning":
        return "am"
    return "pm"


def _clock_time(match: re.Match) -> dict | None:
    groups = match.groupdict()
    hour = int(groups["hour"]) if groups.get("hour") else _HOUR_WORDS[groups["hourword"].lower()]
    minute_word = (groups.get("minuteword") or "").lower().replace("-", " ")
    minute = int(groups["minute"]) if groups.get("minute") else _MINUTE_WORDS.get(minute_word, 0)
    return _time(hour, minute, groups.get("ampm") or groups.get("part"))


def _named_time(match: re.Match) -> dict:
    hour = 0 if match.group(1).lower() == "midnight" else 12
    return {"type": "time", "hour": hour, "minute": 0, "value": f"{hour:02d}:00"}


_CLOCK = r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?"
_RELATIVE = r"\b(?:" + "|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)) + r")\b"


def _ci(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


_PATTERNS: tuple[tuple[re.Pattern, Callable[[re.Match], dict | None]], ...] = (
    (_ci(_RELATIVE), _relative),
    (_ci(r"\b(?:(next|this)\s+)?(" + "|".join(WEEKDAYS) + r")\b"), _weekday),
    (_ci(r"\b" + _MONTH + r"\s+" + _DAY + r"\b" + _YEAR), _month_day),
    (_ci(r"\b(?:the\s+)?" + _DAY + r"\s+(?:of\s+)?" + _MONTH + _YEAR), _day_month),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?\b(?![/\d])"), _numeric_date),
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), _iso_date),
    (_ci(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b"), _day_only),
    (_ci(r"\b(?:at\s+)?" + _CLOCK + _PERIOD), _clock_time),
    (_ci(r"\b(?:at\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})\b"), _clock_time),
    (_ci(r"\b(?:at\s+)?(?P<hour>\d{1,2})" + _OCLOCK), _clock_time),
    (re.compile(r"\b[Aa]t\s+(?P<hour>\d{1,2})\b" + _NOT_A_TIME), _clock_time),
    (_ci(_WORD_CLOCK), _clock_time),
    (_ci(r"\b(?:at\s+)?(noon|midday|midnight)\b"), _named_time),
)


def find_datetimes(text: str) -> list[dict]:
    """Date and time mentions in text order: {"text", "type", ...structured fields}."""
    found: list[tuple[int, int, dict]] = []
    for pattern, parse in _PATTERNS:
        for match in pattern.finditer(text):
            record = parse(match)
            if record is not None:
                found.append(
                    (
                        match.start(),
                        match.end(),
                        {"text": match.group(0).strip(), **record},
                    )
                )
    return [record for _, _, record in without_overlaps(found)]


def describe(mentions: list[dict]) -> str | None:
    """A short phrase for a set of mentions, e.g. "tomorrow at 5 pm"."""
    days = [mention["text"] for mention in mentions if mention["type"] != "time"]
    times = [_strip_at(mention["text"]) for mention in mentions if mention["type"] == "time"]
    phrase = ", ".join(days)
    if times:
        phrase = f"{phrase} at {' or '.join(times)}".strip()
    return phrase or None


def _strip_at(text: str) -> str:
    return re.sub(r"^at\s+", "", text, flags=re.IGNORECASE)
