"""Template filters for times, durations and labels."""

from datetime import UTC, datetime

from flask import g
from markupsafe import Markup

from ..schemas.regional import DEFAULT_TIME_ZONE, zone
from .blueprint import bp


def org_time_zone() -> str:
    membership = g.get("membership")
    return membership.organization.time_zone if membership is not None else DEFAULT_TIME_ZONE


@bp.app_template_filter("when")
def when(value: datetime | None) -> Markup | str:
    """A time the browser rewrites into the reader's own zone, with the zone shown (static/js/app.js).
    As written here (without JavaScript, and on hover) it is in the organization's time zone, named."""
    if value is None:
        return "—"
    time_zone = org_time_zone()
    iso = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    local = value.astimezone(zone(time_zone)).strftime("%Y-%m-%d %H:%M")
    return Markup('<time datetime="{}" data-org-zone="{}">{} {}</time>').format(iso, time_zone, local, time_zone)


@bp.app_template_filter("clock")
def clock(seconds: float | None) -> str:
    """0:05, 1:23, 1:02:03."""
    if seconds is None:
        return "—"
    total = int(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@bp.app_template_filter("duration")
def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s"


@bp.app_template_filter("label")
def label(value: str | None) -> str:
    """snake_case codes as words: no_answer → no answer."""
    return (value or "").replace("_", " ")


@bp.app_template_filter("percent")
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


@bp.app_template_global()
def errors_under(errors: dict, prefix: str) -> str:
    """The messages for one field or one form row: `prefix` itself and every `prefix.<field>` below it."""
    messages = []
    for key, message in errors.items():
        if key == prefix:
            messages.append(message)
        elif key.startswith(prefix + "."):
            messages.append(f"{label(key[len(prefix) + 1 :].replace('.', ' ')).capitalize()}: {message}")
    return " ".join(messages)


@bp.app_template_filter("nonempty")
def nonempty(values: dict) -> dict:
    """Query arguments worth keeping in a link (filters that are set)."""
    return {key: value for key, value in values.items() if value}
