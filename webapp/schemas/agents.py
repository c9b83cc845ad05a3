import re
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .. import safe_regex
from .common import MAX_OFFSET, OutModel, StrictModel, Text, not_null
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


class InputRule(StrictModel):
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
    inputs: dict[str, InputRule] = Field(default_factory=dict)

    @field_validator("inputs")
    @classmethod
    def keys_are_digits(cls, value: dict) -> dict:
        bad = [key for key in value if not re.match(DTMF_KEY, key)]
        if bad:
            raise ValueError(f"keys must be one of 0-9, * or #; got {', '.join(bad)}")
        return value


VoicemailAction = Literal["hang_up", "leave_message"]
VOICEMAIL_DESCRIPTION = (
    "When an answering machine answers (TELEPHONY_PROVIDER=twilio, Twilio's detection): hang_up ends the call "
    "as voicemail; leave_message has the agent speak voicemail_message after the beep first"
)


class AgentCreate(StrictModel):
    name: Text(200, min_length=1)
    system_prompt: Text(20000, min_length=1)
    description: Text(2000) | None = None
    starting_message: Text(2000) | None = None
    language: str = Field("en", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    enabled: bool = True
    voice_settings: VoiceSettings = Field(default_factory=VoiceSettings)
    dtmf_rules: DtmfRules = Field(default_factory=DtmfRules)
    voicemail_action: VoicemailAction = Field("hang_up", description=VOICEMAIL_DESCRIPTION)
    voicemail_message: Text(1000, min_length=1) | None = None

    @model_validator(mode="after")
    def message_to_leave(self) -> "AgentCreate":
        if self.voicemail_action == "leave_message" and not self.voicemail_message:
            raise ValueError("voicemail_action leave_message needs voicemail_message")
        return self


class AgentUpdate(StrictModel):
    name: Text(200, min_length=1) | None = Field(None, json_schema_extra=not_null)
    system_prompt: Text(20000, min_length=1) | None = Field(None, json_schema_extra=not_null)
    description: Text(2000) | None = None
    starting_message: Text(2000) | None = None
    language: str | None = Field(None, pattern=r"^[a-z]{2}(-[A-Z]{2})?$", json_schema_extra=not_null)
    enabled: bool | None = Field(None, json_schema_extra=not_null)
    voice_settings: VoiceSettings | None = None
    dtmf_rules: DtmfRules | None = None
    voicemail_action: VoicemailAction | None = Field(
        None, description=VOICEMAIL_DESCRIPTION, json_schema_extra=not_null
    )
    voicemail_message: Text(1000, min_length=1) | None = None


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
    voice_settings: dict
    dtmf_rules: dict
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
