"""The agent form: raw values for re-rendering, and the payload the pydantic schemas validate.

Voice settings are one input each; DTMF rules are rows (navigation: when → press; key inputs:
key → action with its label or transfer number). Blank rows are dropped."""

from flask import request

from ..models import Agent
from ..schemas.phone import normalise_typed
from .access import phone_region

VOICE_FIELDS = ("voice_id", "model_id", "stability", "similarity_boost", "style", "speed", "use_speaker_boost")
DTMF_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#")
TEXT_FIELDS = ("name", "description", "system_prompt", "starting_message", "voicemail_message")


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def blank_values() -> dict:
    return {
        **{name: "" for name in TEXT_FIELDS},
        "language": "en",
        "enabled": True,
        "voicemail_action": "hang_up",
        "voice": {name: "" for name in VOICE_FIELDS},
        "navigation": [],
        "inputs": [],
    }


def values_from_agent(agent: Agent) -> dict:
    rules = agent.dtmf_rules or {}
    return {
        **{name: getattr(agent, name) or "" for name in TEXT_FIELDS},
        "language": agent.language,
        "enabled": agent.enabled,
        "voicemail_action": agent.voicemail_action,
        "voice": {name: _as_text((agent.voice_settings or {}).get(name)) for name in VOICE_FIELDS},
        "navigation": [{"when": rule["when"], "press": rule["press"]} for rule in rules.get("navigation", [])],
        "inputs": [
            {
                "key": key,
                "action": rule["action"],
                "label": rule.get("label") or "",
                "to_number": rule.get("to_number") or "",
            }
            for key, rule in rules.get("inputs", {}).items()
        ],  # fmt: skip
    }


def _rows(*names: str) -> list[dict]:
    columns = [request.form.getlist(name) for name in names]
    rows = [dict(zip(names, (value.strip() for value in cells), strict=True)) for cells in zip(*columns, strict=False)]
    return [row for row in rows if any(row.values())]


def values_from_form() -> dict:
    form = request.form
    navigation = [{"when": row["nav_when"], "press": row["nav_press"]} for row in _rows("nav_when", "nav_press")]
    inputs = [
        {"key": row["input_key"], "action": row["input_action"], "label": row["input_label"],
         "to_number": normalise_typed(row["input_to_number"], phone_region())}
        for row in _rows("input_key", "input_action", "input_label", "input_to_number")
    ]  # fmt: skip
    return {
        **{name: form.get(name, "").strip() for name in TEXT_FIELDS},
        "language": form.get("language", "").strip(),
        "enabled": form.get("enabled") == "on",
        "voicemail_action": form.get("voicemail_action", "").strip(),
        "voice": {name: form.get(f"voice_{name}", "").strip() for name in VOICE_FIELDS},
        "navigation": navigation,
        "inputs": inputs,
    }


def payload_from_values(values: dict) -> tuple[dict, dict[str, str]]:
    """The body for AgentCreate/AgentUpdate, and errors the schema cannot name (rows without a key)."""
    errors: dict[str, str] = {}
    inputs: dict[str, dict] = {}
    for index, row in enumerate(values["inputs"]):
        if not row["key"]:
            errors[f"inputs_row.{index}"] = "Choose the key this rule is for."
        elif row["key"] in inputs:
            errors[f"inputs_row.{index}"] = f"Key {row['key']} already has a rule above."
        else:
            rule = {"action": row["action"] or None}
            rule.update({name: row[name] for name in ("label", "to_number") if row[name]})
            inputs[row["key"]] = rule
    payload = {
        "name": values["name"],
        "system_prompt": values["system_prompt"],
        "description": values["description"] or None,
        "starting_message": values["starting_message"] or None,
        "language": values["language"] or "en",
        "enabled": values["enabled"],
        "voicemail_action": values["voicemail_action"] or "hang_up",
        "voicemail_message": values["voicemail_message"] or None,
        "voice_settings": {name: value for name, value in values["voice"].items() if value != ""},
        "dtmf_rules": {"navigation": values["navigation"], "inputs": inputs},
    }
    return payload, errors
