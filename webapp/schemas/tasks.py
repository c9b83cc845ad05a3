from datetime import datetime
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from ..netguard import UnsafeAddress, check_webhook_url
from .agents import AgentSummary
from .common import AwareDatetime, OutModel, StrictModel, Text, bounded_json_object
from .phone import PhoneNumber

TaskStatus = Literal["pending", "in_progress", "completed", "failed"]
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


class TaskFields(StrictModel):
    description: Text(2000) | None = None
    starting_message: Text(2000) | None = None
    context_data: ContextData = Field(default_factory=dict)
    priority: int = Field(0, ge=-MAX_PRIORITY, le=MAX_PRIORITY, description="Higher runs first")
    scheduled_at: AwareDatetime | None = Field(None, description="ISO-8601 with a time zone")
    webhook_url: Text(2048) | None = None
    webhook_events: list[WebhookEvent] = Field(default_factory=list, max_length=3)

    _check_webhook_url = field_validator("webhook_url")(_webhook_url)

    @field_validator("webhook_events")
    @classmethod
    def unique_events(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class TaskCreate(TaskFields):
    agent_id: str = Field(min_length=1, max_length=36)
    name: Text(200, min_length=1)
    to_number: PhoneNumber


class TaskUpdate(StrictModel):
    name: Text(200, min_length=1) | None = None
    description: Text(2000) | None = None
    to_number: PhoneNumber | None = None
    starting_message: Text(2000) | None = None
    context_data: ContextData | None = None
    priority: int | None = Field(None, ge=-MAX_PRIORITY, le=MAX_PRIORITY)
    scheduled_at: AwareDatetime | None = None
    webhook_url: Text(2048) | None = None
    webhook_events: list[WebhookEvent] | None = Field(None, max_length=3)

    _check_webhook_url = field_validator("webhook_url")(_webhook_url)


NOT_NULLABLE_TASK_FIELDS = ("name", "to_number", "context_data", "priority", "webhook_events")


class TaskListQuery(StrictModel):
    agent_id: str | None = Field(None, max_length=36)
    status: TaskStatus | None = None
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0)


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
    created_at: datetime
    updated_at: datetime


class TaskDetailOut(TaskOut):
    agent: AgentSummary
