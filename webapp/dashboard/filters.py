"""Template filters for times, durations and labels."""

from datetime import datetime

from markupsafe import Markup

from .blueprint import bp


@bp.app_template_filter("when")
def when(value: datetime | None) -> Markup | str:
    """A UTC time the browser rewrites into the reader's local time (see static/js/app.js)."""
    if value is None:
        return "—"
    iso = value.isoformat().replace("+00:00", "Z")
    return Markup('<time datetime="{}">{}</time>').format(iso, value.strftime("%Y-%m-%d %H:%M UTC"))


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
