from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationInfo, WithJsonSchema, field_validator

from ..netguard import UnsafeAddress, check_webhook_url
from .agents import AgentSummary
from .common import (
    BLANK,
    MAX_OFFSET,
    AwareDatetime,
    OutModel,
    StrictModel,
    Text,
    bounded_json_object,
    integral,
    not_null,
    reject_unstorable,
)
from .phone import PhoneNumber

TaskStatus = Literal["pending", "in_progress", "completed", "failed", "skipped"]
WebhookEvent = Literal["call_started", "call_completed", "call_failed"]
ContextData = bounded_json_object(16 * 1024)
MAX_PRIORITY = 1_000_000


def _webhook_url(value: str | None, info: ValidationInfo) -> str | None:
    if value is None:
        return None
    allow_loopback = bool((info.context or {}).get("allow_loopback"))
    try:
        check_webhook_url(value, allow_loopback=allow_loopback)
    except UnsafeAddress as exc:
        raise ValueError(str(exc)) from None
    return value


WEBHOOK_URL_DESCRIPTION = (
    "https only (http to loopback only when the server sets WEBHOOK_ALLOW_LOOPBACK); private, "
    "loopback and link-local addresses are refused, at save time and when delivering"
)
WEBHOOK_EVENTS_DESCRIPTION = "Events to send to webhook_url; left out with a webhook_url, all three are sent"


# What check_webhook_url lets through, as a pattern: https, a host, no user name or password
WEBHOOK_URL_PATTERN = (
    rf"^[{BLANK}]*https://([^\u0000/?#@:\[\]]+|\[[^\u0000/?#@\]]*\])(:[^\u0000/?#@]*)?([/?#][^\u0000]*)?$"
)
WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2048),
    AfterValidator(reject_unstorable),
    WithJsonSchema({"type": "string", "format": "uri", "maxLength": 2048, "pattern": WEBHOOK_URL_PATTERN}),
]


class TaskFields(StrictModel):
    description: Text(2000) | None = None
    starting_message: Text(2000) | None = None
    context_data: ContextData = Field(default_factory=dict)
    priority: int = Field(0, ge=-MAX_PRIORITY, le=MAX_PRIORITY, description="Higher runs first")
    scheduled_at: AwareDatetime | None = Field(None, description="ISO-8601 with a time zone")
    webhook_url: WebhookUrl | None = Field(None, description=WEBHOOK_URL_DESCRIPTION)
    webhook_events: list[WebhookEvent] = Field(
        default_factory=list, max_length=3, description=WEBHOOK_EVENTS_DESCRIPTION
    )

    _check_webhook_url = field_validator("webhook_url")(_webhook_url)
    _check_priority = field_validator("priority", mode="before")(integral)

    @field_validator("webhook_events")
    @classmethod
    def unique_events(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class TaskCreate(TaskFields):
    agent_id: Text(36, min_length=1)
    name: Text(200, min_length=1)
    to_number: PhoneNumber


class TaskUpdate(StrictModel):
    name: Text(200, min_length=1) | None = Field(None, json_schema_extra=not_null)
    description: Text(2000) | None = None
    to_number: PhoneNumber | None = Field(None, json_schema_extra=not_null)
    starting_message: Text(2000) | None = None
    context_data: ContextData | None = Field(None, json_schema_extra=not_null)
    priority: int | None = Field(None, ge=-MAX_PRIORITY, le=MAX_PRIORITY, json_schema_extra=not_null)
    scheduled_at: AwareDatetime | None = None
    webhook_url: WebhookUrl | None = Field(None, description=WEBHOOK_URL_DESCRIPTION)
    webhook_events: list[WebhookEvent] | None = Field(None, max_length=3, json_schema_extra=not_null)

    _check_webhook_url = field_validator("webhook_url")(_webhook_url)
    _check_priority = field_validator("priority", mode="before")(integral)


NOT_NULLABLE_TASK_FIELDS = ("name", "to_number", "context_data", "priority", "webhook_events")


class TaskListQuery(StrictModel):
    agent_id: Text(36) | None = None
    campaign_id: Text(36) | None = None
    status: TaskStatus | None = None
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class TaskOut(OutModel):
    id: str
    agent_id: str
    name: str
    description: str | None
    to_number: str
    starting_message: str | None
    context_data: dict
    priority: int
    scheduled_at: datetime | None
    webhook_url: str | None
    webhook_events: list[str]
    status: TaskStatus
    last_call_id: str | None
    executed_at: datetime | None
    finished_at: datetime | None
    campaign_id: str | None
    attempt_count: int = Field(description="Calls placed for this task so far")
    dispatch_after: datetime | None = Field(description="Queued to be dialled from this time (else not queued)")
    status_reason: str | None = Field(
        description="queued, waiting_for_window, retry_scheduled (pending); do_not_call, no_calling_window "
        "(skipped); campaign_cancelled, campaign_ended or the last call's failure reason (failed)"
    )
    created_at: datetime
    updated_at: datetime


class AttemptOut(OutModel):
    id: str = Field(description="The call's id")
    attempt_number: int
    status: str
    failure_reason: str | None
    end_reason: str | None
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None


class TaskDetailOut(TaskOut):
    agent: AgentSummary
    attempts: list[AttemptOut] = Field(description="Every call placed for this task, oldest first")
