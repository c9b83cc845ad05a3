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


def _is_empty(value) -> bool:
    if isinstance(value, dict):
        return all(_is_empty(item) for item in value.values())
    return value is None or value == "" or value == []


def _as_line(value) -> str:
    if isinstance(value, dict):
        if value.get("question") and value.get("answer"):
            return f"“{value['question']}” — “{value['answer']}”"
        shown = {key: item for key, item in value.items() if not _is_empty(item) and not key.endswith("_seconds")}
        return "; ".join(f"{label(key)}: {_as_line(item)}" for key, item in shown.items())
    if isinstance(value, list):
        return ", ".join(_as_line(item) for item in value if not _is_empty(item))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


@bp.app_template_filter("readable_data")
def readable_data(data: dict | None) -> list[tuple[str, list[str]]]:
    """A report's extracted data as (label, lines) for people: empty values left out, records one a line."""
    rows = []
    for key, value in (data or {}).items():
        if _is_empty(value):
            continue
        items = value if isinstance(value, list) else [value]
        rows.append((label(key), [_as_line(item) for item in items if not _is_empty(item)]))
    return rows
