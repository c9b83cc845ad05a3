"""The task form: raw values for re-rendering, and the payload TaskCreate/TaskUpdate validate.

Context data is edited as key/value rows. The schedule comes from a datetime-local input in the
reader's time zone plus the offset the browser reports (0, i.e. UTC, without JavaScript)."""

import json
from datetime import UTC, datetime, timedelta

from flask import request

from ..models import Task
from ..schemas.phone import normalise_typed
from .access import phone_region

FIELDS = ("name", "agent_id", "to_number", "description", "starting_message", "priority", "webhook_url")


def _shown(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def blank_values(agent_id: str = "") -> dict:
    values = {name: "" for name in FIELDS}
    return {**values, "agent_id": agent_id, "priority": "0", "context": [], "scheduled_at": "", "tz_offset": "0",
            "webhook_events": []}  # fmt: skip


def values_from_task(task: Task) -> dict:
    values = {name: "" if getattr(task, name) is None else str(getattr(task, name)) for name in FIELDS}
    scheduled = task.scheduled_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M") if task.scheduled_at else ""
    context = [{"key": key, "value": _shown(value)} for key, value in (task.context_data or {}).items()]
    return {**values, "context": context, "scheduled_at": scheduled, "tz_offset": "0",
            "webhook_events": list(task.webhook_events or [])}  # fmt: skip


def values_from_form() -> dict:
    form = request.form
    keys, texts = form.getlist("context_key"), form.getlist("context_value")
    context = [{"key": k.strip(), "value": v} for k, v in zip(keys, texts, strict=False) if k.strip() or v.strip()]
    return {
        **{name: form.get(name, "").strip() for name in FIELDS},
        "context": context,
        "scheduled_at": form.get("scheduled_at", "").strip(),
        "tz_offset": form.get("tz_offset", "0").strip() or "0",
        "webhook_events": form.getlist("webhook_events"),
    }


def _scheduled_at(values: dict) -> str | None:
    """The local datetime-local value as ISO-8601 UTC; raises ValueError when it is not a date."""
    if not values["scheduled_at"]:
        return None
    local = datetime.fromisoformat(values["scheduled_at"])
    utc = local.replace(tzinfo=UTC) + timedelta(minutes=int(values["tz_offset"]))
    return utc.isoformat()


def _context_data(rows: list[dict], original: dict) -> tuple[dict, dict[str, str]]:
    """Rows → dict; a value that was not text and is shown unchanged keeps its original type."""
    data: dict = {}
    errors: dict[str, str] = {}
    for index, row in enumerate(rows):
        key = row["key"]
        if not key:
            errors[f"context_row.{index}"] = "Give this value a name."
        elif key in data:
            errors[f"context_row.{index}"] = f"“{key}” is already used above."
        else:
            kept = original.get(key)
            unchanged = kept is not None and not isinstance(kept, str) and _shown(kept) == row["value"]
            data[key] = kept if unchanged else row["value"]
    return data, errors


def payload_from_values(values: dict, original_context: dict | None = None) -> tuple[dict, dict[str, str]]:
    context, errors = _context_data(values["context"], original_context or {})
    payload = {
        "name": values["name"],
        "agent_id": values["agent_id"],
        "to_number": normalise_typed(values["to_number"], phone_region()),
        "description": values["description"] or None,
        "starting_message": values["starting_message"] or None,
        "context_data": context,
        "priority": values["priority"] or 0,
        "webhook_url": values["webhook_url"] or None,
        "webhook_events": values["webhook_events"],
    }
    try:
        payload["scheduled_at"] = _scheduled_at(values)
    except ValueError:
        errors["scheduled_at"] = "Enter a date and time, or leave it empty to call as soon as you execute."
    return payload, errors
