"""A report's extracted data as a business user reads it: one labelled row per fact, with plain
values (dates as dates, yes/no, amounts with their currency) and what was said behind each, on demand.
Relative dates ("tomorrow", "on Friday") count from the day of the call in the organization's time
zone. The raw JSON stays one click away on the page."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..schemas.regional import zone
from .blueprint import bp

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£"}
ANSWER_VALUES = {"yes": "Yes", "no": "No"}


@dataclass
class Fact:
    label: str
    value: str
    said: str | None = None  # the words behind it, shown on demand


@bp.app_template_filter("long_date")
def _day(day: date) -> str:
    return f"{day.strftime('%a')}, {MONTHS[day.month - 1]} {day.day}, {day.year}"


def _time(mention: dict) -> str:
    hour, minute = mention.get("hour", 0), mention.get("minute", 0)
    if mention.get("ambiguous"):
        return f"{hour}:{minute:02d} (morning or afternoon not said)"
    suffix = "AM" if hour < 12 else "PM"
    return f"{(hour % 12) or 12}:{minute:02d} {suffix}"


def _date_value(mention: dict, call_day: date) -> str:
    kind = mention.get("type")
    if kind == "relative":
        offset = mention.get("days_from_call")
        return _day(call_day + timedelta(days=offset)) if offset is not None else mention.get("phrase", "")
    if kind == "weekday" and mention.get("weekday") in WEEKDAYS:
        ahead = (WEEKDAYS.index(mention["weekday"]) - call_day.weekday()) % 7 or 7  # the coming one
        return _day(call_day + timedelta(days=ahead))
    if kind == "date" and mention.get("month"):
        year = mention.get("year") or (call_day.year + (1 if mention["month"] < call_day.month else 0))
        try:
            return _day(date(year, mention["month"], mention["day"]))
        except ValueError:
            return mention.get("text", "")
    if kind == "date":
        return f"the {mention['day']}{_ordinal(mention['day'])} of the month"
    if kind == "time":
        return _time(mention)
    return mention.get("text", "")


def _ordinal(day: int) -> str:
    return "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _amount(item: dict) -> str:
    value, currency = item.get("amount"), item.get("currency", "")
    if value is None:
        return item.get("text", "")
    sign = CURRENCY_SIGNS.get(currency)
    number = f"{value:,.2f}".removesuffix(".00")
    return f"{sign}{number}" if sign else f"{number} {currency}".strip()


@bp.app_template_global("call_day")
def call_day(call_started: datetime | None, time_zone: str | None) -> date:
    """The day a call took place in the organization's time zone."""
    return (call_started or datetime.now(UTC)).astimezone(zone(time_zone)).date()


def facts(data: dict | None, day: date) -> list[Fact]:
    """The rows of the report's data table, in the order a reader wants them; `day` is the day of
    the call that relative dates count from."""
    data = data or {}
    rows: list[Fact] = []
    if data.get("contact_name"):
        rows.append(Fact("Name given", data["contact_name"]))
    for answer in data.get("answers") or []:
        value = ANSWER_VALUES.get(answer.get("value") or "")
        rows.append(Fact(answer.get("question") or "Answer", value or (answer.get("answer") or "No answer"),
                         answer.get("answer") if value else None))  # fmt: skip
    for mention in data.get("datetimes") or []:
        label = "Time mentioned" if mention.get("type") == "time" else "Date mentioned"
        rows.append(Fact(label, _date_value(mention, day), mention.get("text")))
    for item in data.get("amounts") or []:
        rows.append(Fact("Amount mentioned", _amount(item), item.get("text")))
    for request in data.get("callback_requests") or []:
        when = request.get("requested_time")
        rows.append(Fact("Asked to be called back", f"Yes, {when}" if when else "Yes", request.get("text")))
    if data.get("opt_outs"):
        said = "; ".join(item.get("text") or f"pressed {item.get('digit')}" for item in data["opt_outs"])
        rows.append(Fact("Asked not to be called again", "Yes", said or None))
    for email in data.get("emails") or []:
        rows.append(Fact("Email address", email))
    for number in data.get("phone_numbers") or []:
        rows.append(Fact("Phone number", number))
    presses = (data.get("dtmf") or {}).get("presses") or []
    if presses:
        keys = ", ".join(
            press["digit"] + (f" ({(press.get('label') or press.get('action')).replace('_', ' ')})"
                              if press.get("label") or press.get("action") else "")
            for press in presses
        )  # fmt: skip
        rows.append(Fact("Keys pressed", keys))
    return rows


@bp.app_template_global("report_facts")
def report_facts(data: dict | None, day: date) -> list[Fact]:
    return facts(data, day)
