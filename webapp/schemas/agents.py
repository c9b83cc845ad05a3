import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from .. import safe_regex
from ..telephony.dynamic_variables import NAME as VARIABLE_NAME
from ..telephony.dynamic_variables import SYSTEM_PREFIX
from .common import MAX_OFFSET, NO_NUL, NOT_BLANK, OutModel, StrictModel, Text, integral, not_null, reject_unstorable
from .phone import PhoneNumber

DTMF_KEY = r"^[0-9*#]$"
DTMF_ACTIONS = ("confirm", "decline", "opt_out", "end_call", "transfer", "label")


class VoiceSettings(StrictModel):
    """ElevenLabs voice settings."""

    voice_id: Text(100) | None = None
    model_id: Text(100) | None = None
    stability: float | None = Field(None, ge=0, le=1)
    similarity_boost: float | None = Field(None, ge=0, le=1)
    style: float | None = Field(None, ge=0, le=1)
    use_speaker_boost: bool | None = None
    speed: float | None = Field(None, ge=0.7, le=1.2)


class NavigationRule(StrictModel):
    when: Text(300, min_length=1) = Field(description="Case-insensitive phrase, or a regular expression written /.../")
    press: str = Field(pattern=r"^[0-9*#w]{1,20}$", description="Digits to press")

    @field_validator("when")
    @classmethod
    def regex_compiles(cls, value: str) -> str:
        if len(value) > 2 and value.startswith("/") and value.endswith("/"):
            safe_regex.check_pattern(value[1:-1])
        return value


def _input_rule_schema(schema: dict) -> None:
    """The conditional requirements the validator enforces, in the schema too."""
    label = {"type": "string", "pattern": NOT_BLANK, "maxLength": 100}
    schema["allOf"] = [
        {"if": {"properties": {"action": {"const": "transfer"}}},
         "then": {"required": ["to_number"], "properties": {"to_number": {"type": "string"}}}},
        {"if": {"properties": {"action": {"const": "label"}}},
         "then": {"required": ["label"], "properties": {"label": label}}},
    ]  # fmt: skip
    schema["description"] = "`transfer` needs `to_number`; `label` needs `label`."


class InputRule(StrictModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_input_rule_schema)

    action: Literal["confirm", "decline", "opt_out", "end_call", "transfer", "label"]
    label: Text(100) | None = None
    to_number: PhoneNumber | None = None

    @model_validator(mode="after")
    def action_arguments(self) -> "InputRule":
        if self.action == "transfer" and not self.to_number:
            raise ValueError("a transfer needs to_number")
        if self.action == "label" and not self.label:
            raise ValueError("a label action needs label")
        return self


class DtmfRules(StrictModel):
    navigation: list[NavigationRule] = Field(default_factory=list, max_length=20)
    inputs: dict[str, InputRule] = Field(
        default_factory=dict,
        description="What a key the callee presses means; keys are one of 0-9, * or #",
        json_schema_extra={"propertyNames": {"pattern": DTMF_KEY}},
    )

    @field_validator("inputs")
    @classmethod
    def keys_are_digits(cls, value: dict) -> dict:
        bad = [key for key in value if not re.match(DTMF_KEY, key)]
        if bad:
            raise ValueError(f"keys must be one of 0-9, * or #; got {', '.join(bad)}")
        return value


VariableText = Annotated[
    str,
    StringConstraints(max_length=1000),
    AfterValidator(reject_unstorable),
    WithJsonSchema({"type": "string", "maxLength": 1000, "pattern": NO_NUL}),
]
DynamicVariableValue = VariableText | bool | int | Annotated[float, Field(allow_inf_nan=False)]
DYNAMIC_VARIABLES_DESCRIPTION = (
    "Default values of the `{{variables}}` used in `system_prompt` and `starting_message`; a task's "
    "`context_data` (nested keys joined with `_`) overrides them. Names: letters, digits and `_`, "
    "not starting with a digit or `system__`. A task whose agent uses a variable with neither a "
    "value nor a default is refused (400) at creation and at execute."
)
RINGING_TIMEOUT_DESCRIPTION = "How long to let the phone ring before giving up, in seconds (provider default if unset)."


def _check_variable_names(value: dict | None) -> dict | None:
    if value is None:
        return value
    if len(value) > MAX_DYNAMIC_VARIABLES:
        raise ValueError(f"at most {MAX_DYNAMIC_VARIABLES} variables are allowed")
    bad = [name for name in value if not VARIABLE_NAME.match(name) or name.startswith(SYSTEM_PREFIX)]
    if bad:
        raise ValueError(
            f"names must be letters, digits and _, not start with a digit or {SYSTEM_PREFIX}; got {', '.join(bad)}"
        )
    return value


MAX_DYNAMIC_VARIABLES = 100
DynamicVariables = Annotated[
    dict[str, DynamicVariableValue],
    Field(
        json_schema_extra={
            "maxProperties": MAX_DYNAMIC_VARIABLES,
            "propertyNames": {"pattern": VARIABLE_NAME.pattern, "not": {"pattern": f"^{SYSTEM_PREFIX}"}},
        }
    ),
]
VoicemailAction = Literal["hang_up", "leave_message"]
VOICEMAIL_DESCRIPTION = (
    "When an answering machine answers (TELEPHONY_PROVIDER=twilio, Twilio's detection): hang_up ends the call "
    "as voicemail; leave_message has the agent speak voicemail_message after the beep first"
)


def _voicemail_message_rule(*, required: bool):
    """leave_message needs voicemail_message: in the same body (create), or not null beside it (update)."""
    then = {"properties": {"voicemail_message": {"type": "string"}}}
    if required:
        then["required"] = ["voicemail_message"]
    condition = {"properties": {"voicemail_action": {"const": "leave_message"}}, "required": ["voicemail_action"]}

    def extra(schema: dict) -> None:
        schema["allOf"] = [{"if": condition, "then": then}]

    return extra


class AgentCreate(StrictModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_voicemail_message_rule(required=True))

    name: Text(200, min_length=1)
    system_prompt: Text(20000, min_length=1)
    description: Text(2000) | None = None
    starting_message: Text(2000) | None = None
    language: str = Field("en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    enabled: bool = True
    voice_settings: VoiceSettings = Field(default_factory=VoiceSettings)
    dtmf_rules: DtmfRules = Field(default_factory=DtmfRules)
    dynamic_variables: DynamicVariables = Field(default_factory=dict, description=DYNAMIC_VARIABLES_DESCRIPTION)
    ringing_timeout_secs: int | None = Field(None, ge=5, le=600, description=RINGING_TIMEOUT_DESCRIPTION)

    voicemail_action: VoicemailAction = Field("hang_up", description=VOICEMAIL_DESCRIPTION)
    voicemail_message: Text(1000, min_length=1) | None = None

    _check_variables = field_validator("dynamic_variables")(_check_variable_names)
    _check_ints = field_validator("ringing_timeout_secs", mode="before")(integral)

    @model_validator(mode="after")
    def message_to_leave(self) -> "AgentCreate":
        if self.voicemail_action == "leave_message" and not self.voicemail_message:
            raise ValueError("voicemail_action leave_message needs voicemail_message")
        return self


class AgentUpdate(StrictModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_voicemail_message_rule(required=False))

    name: Text(200, min_length=1) | None = Field(None, json_schema_extra=not_null)
    system_prompt: Text(20000, min_length=1) | None = Field(None, json_schema_extra=not_null)
    description: Text(2000) | None = None
    starting_message: Text(2000) | None = None
    language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$", json_schema_extra=not_null)
    enabled: bool | None = Field(None, json_schema_extra=not_null)
    voice_settings: VoiceSettings | None = None
    dtmf_rules: DtmfRules | None = None
    dynamic_variables: DynamicVariables | None = Field(None, description=DYNAMIC_VARIABLES_DESCRIPTION)
    ringing_timeout_secs: int | None = Field(None, ge=5, le=600, description=RINGING_TIMEOUT_DESCRIPTION)

    voicemail_action: VoicemailAction | None = Field(
        None, description=VOICEMAIL_DESCRIPTION, json_schema_extra=not_null
    )
    voicemail_message: Text(1000, min_length=1) | None = None

    _check_variables = field_validator("dynamic_variables")(_check_variable_names)
    _check_ints = field_validator("ringing_timeout_secs", mode="before")(integral)


NOT_NULLABLE_AGENT_FIELDS = ("name", "system_prompt", "enabled", "language", "voicemail_action")


class AgentListQuery(StrictModel):
    enabled: bool | None = None
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class AgentOut(OutModel):
    id: str
    name: str
    description: str | None
    system_prompt: str
    starting_message: str | None
    language: str
    enabled: bool
    voice_settings: VoiceSettings
    dtmf_rules: DtmfRules
    dynamic_variables: dict[str, str | bool | int | float]
    ringing_timeout_secs: int | None
    voicemail_action: str
    voicemail_message: str | None
    remote_agent_id: str | None
    sync_status: str
    sync_error: str | None
    created_at: datetime
    updated_at: datetime


class AgentSummary(OutModel):
    id: str
    name: str
    enabled: bool
