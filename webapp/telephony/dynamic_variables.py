"""Dynamic variables: the `{{name}}` placeholders of an agent's prompt and first message, the
values a call supplies for them (the task's `context_data`), and the agent's defaults.

ElevenLabs refuses a conversation whose prompt or first message uses a variable that has neither
a value nor a default ("Missing required dynamic variables…"), so we check the same thing before a
call is created or executed, and every provider renders and refuses the same way. Pure functions:
the API, the dashboard, the CSV import, campaigns and every provider use them.

    missing_variables([agent.system_prompt, first_message], task.context_data, agent.dynamic_variables)
    # -> ["order_id"]  (each name used with no value and no default, in order of first use)
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable

# A placeholder: {{name}} with optional spaces inside the braces.
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
# Names a variable may have (agent defaults are checked against this).
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
# Filled in by ElevenLabs itself (system__time, system__call_duration_secs, ...).
SYSTEM_PREFIX = "system__"
MISSING_MESSAGE = "Missing required dynamic variables"


def _variable_name(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


def flatten(data: dict | None, prefix: str = "") -> dict:
    """context_data as dynamic variables: nested keys joined with "_", values str/int/float/bool
    (lists of scalars become "a, b", other values JSON text, None becomes "")."""
    flat: dict = {}
    for key, value in (data or {}).items():
        name = _variable_name(f"{prefix}_{key}" if prefix else str(key))
        if isinstance(value, dict):
            flat.update(flatten(value, name))
        elif isinstance(value, bool | int | str):
            flat[name] = value
        elif isinstance(value, float):
            flat[name] = value if math.isfinite(value) else str(value)
        elif value is None:
            flat[name] = ""
        elif isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
            flat[name] = ", ".join(str(v) for v in value)
        else:
            flat[name] = json.dumps(value, default=str)
    return flat


def placeholders(texts: Iterable[str | None]) -> list[str]:
    """Every variable used in `texts`, in order of first use, without ElevenLabs' system__ ones."""
    names: dict[str, None] = {}
    for text in texts:
        for name in PLACEHOLDER.findall(text or ""):
            if not name.startswith(SYSTEM_PREFIX):
                names.setdefault(name, None)
    return list(names)


def values(context_data: dict | None, defaults: dict | None) -> dict:
    """The variables a call sends: the agent's defaults, overridden by the task's values."""
    return {**(defaults or {}), **flatten(context_data)}


def missing_variables(texts: Iterable[str | None], context_data: dict | None, defaults: dict | None) -> list[str]:
    """The variables `texts` use that have neither a value in `context_data` nor a default."""
    supplied = values(context_data, defaults)
    return [name for name in placeholders(texts) if name not in supplied]


def call_texts(agent, starting_message: str | None = None) -> list[str | None]:
    """What ElevenLabs fills variables into for a call: the agent's prompt and the first message
    actually spoken (the task's starting message when it has one, else the agent's).
    `agent` is anything with system_prompt and starting_message (a model or an AgentSpec)."""
    return [agent.system_prompt, starting_message or agent.starting_message]


def missing_for_call(agent, context_data: dict | None, starting_message: str | None = None) -> list[str]:
    """missing_variables for a call of `agent` (its `dynamic_variables` are the defaults)."""
    return missing_variables(
        call_texts(agent, starting_message), context_data, getattr(agent, "dynamic_variables", None)
    )


def missing_message(names: Iterable[str]) -> str:
    return f"{MISSING_MESSAGE}: {', '.join(names)}"


def render(text: str | None, variables: dict) -> str:
    """`text` with each known placeholder replaced by its value (unknown ones are left as written)."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in variables:
            return match.group(0)
        item = variables[name]
        if isinstance(item, bool):
            return "true" if item else "false"
        return str(item)

    return PLACEHOLDER.sub(value, text or "")
