"""Campaign request and response models (the contract in code, and the OpenAPI document)."""

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, WithJsonSchema, field_validator, model_validator

from .common import MAX_OFFSET, AwareDatetime, OutModel, StrictModel, Text
from .tasks import MAX_PRIORITY, ContextData, WebhookEvent, _not_a_boolean, _webhook_url

MAX_INLINE_TASKS = 10_000
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Outcome = Literal["no_answer", "busy", "voicemail", "dropped"]
CampaignStatus = Literal["draft", "running", "paused", "completed", "cancelled"]
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_CAP = 10_000
MAX_BACKOFF_MINUTES = 7 * 24 * 60


def _clock(value: str) -> str:
    if not isinstance(value, str) or not HHMM.match(value):
        raise ValueError("must be a time of day HH:MM between 00:00 and 23:59")
    return value


class CallingWindow(StrictModel):
    """When calls may be placed, in each callee's local time (from their number's time zone; the
    organization's time zone for a number that has none)."""

    days: list[str] = Field(min_length=1, max_length=7, examples=[["mon", "tue", "wed", "thu", "fri"]])
    start: str = Field(examples=["09:00"], description="HH:MM, local to the callee")
    end: str = Field(examples=["20:00"], description="HH:MM, local to the callee; after start (exclusive)")

    _check_clock = field_validator("start", "end")(_clock)

    @field_validator("days")
    @classmethod
    def known_days(cls, value: list[str]) -> list[str]:
        days = [day.strip().lower()[:3] if isinstance(day, str) else day for day in value]
        unknown = [day for day, given in zip(days, value, strict=True) if day not in DAYS or len(given.strip()) < 3]
        if unknown:
            raise ValueError(f"unknown day(s) {', '.join(map(str, value))}: use {', '.join(DAYS)}")
        return sorted(set(days), key=DAYS.index)

    @model_validator(mode="after")
    def end_after_start(self):
        if self.end <= self.start:
            raise ValueError("end must be after start (windows do not cross midnight)")
        return self


Minutes = Annotated[float, Field(ge=0, le=MAX_BACKOFF_MINUTES)]


class CampaignLimits(StrictModel):
    max_concurrent_calls: int = Field(10, ge=1, le=MAX_CAP, description="Calls of this campaign at once")
    max_attempts: int = Field(1, ge=1, le=20, description="Calls per task at most (1 = no retries)")
    retry_on: list[Outcome] = Field(
        default_factory=lambda: ["no_answer", "busy", "voicemail", "dropped"],
        description="Call outcomes that schedule another attempt",
    )
    backoff_minutes: Minutes | dict[Outcome, Minutes] = Field(
        60.0, description="Wait before the next attempt: minutes, or minutes per outcome", examples=[30]
    )

    _check_ints = field_validator("max_concurrent_calls", "max_attempts", mode="before")(_not_a_boolean)


class CampaignTaskRow(StrictModel):
    """One callee of a campaign. Rows are validated one by one: a bad row is reported, not fatal."""

    to_number: str = Field(examples=["+12125550123"])
    name: Text(200) | None = None
    context_data: ContextData = Field(default_factory=dict)
    priority: int = Field(0, ge=-MAX_PRIORITY, le=MAX_PRIORITY)

    _check_priority = field_validator("priority", mode="before")(_not_a_boolean)


def _rows(min_length: int = 0):
    """Rows stay loose here (each is checked on its own); the document shows CampaignTaskRow."""
    schema = {"type": "array", "minItems": min_length, "maxItems": MAX_INLINE_TASKS,
              "items": CampaignTaskRow.model_json_schema()}  # fmt: skip
    return Annotated[list[Any], Field(min_length=min_length, max_length=MAX_INLINE_TASKS), WithJsonSchema(schema)]


class CampaignCreate(CampaignLimits):
    name: Text(200, min_length=1)
    agent_id: Text(36, min_length=1)
    webhook_url: Text(2048) | None = None
    webhook_events: list[WebhookEvent] = Field(default_factory=list, max_length=3)
    start_at: AwareDatetime | None = Field(None, description="Dial nothing before this (ISO-8601 with zone)")
    end_at: AwareDatetime | None = Field(None, description="Dial nothing after this; what is left fails")
    calling_window: CallingWindow | None = None
    tasks: _rows() = Field(
        default_factory=list, description="Up to 10,000 rows (add more with POST /campaigns/{id}/tasks)"
    )

    _check_webhook_url = field_validator("webhook_url")(_webhook_url)

    @model_validator(mode="after")
    def ends_after_start(self):
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            raise ValueError("end_at must be after start_at")
        return self

    model_config = {
        **StrictModel.model_config,
        "json_schema_extra": {
            "examples": [
                {
                    "name": "December renewals",
                    "agent_id": "6f1c1b1e-2f55-4a8e-9d59-0c6c8f3f6a10",
                    "calling_window": {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "20:00"},
                    "max_concurrent_calls": 20,
                    "max_attempts": 3,
                    "retry_on": ["no_answer", "busy"],
                    "backoff_minutes": 60,
                    "tasks": [
                        {"to_number": "+12125550123", "name": "Jane Roe", "context_data": {"customer_name": "Jane"}},
                        {"to_number": "+61291234567", "context_data": {"customer_name": "Bruce"}, "priority": 5},
                    ],
                }
            ]
        },
    }


class CampaignTasksAdd(StrictModel):
    tasks: _rows(1)


class CampaignUpdate(StrictModel):
    name: Text(200, min_length=1) | None = None
    calling_window: CallingWindow | None = None
    max_concurrent_calls: int | None = Field(None, ge=1, le=MAX_CAP)
    max_attempts: int | None = Field(None, ge=1, le=20)
    retry_on: list[Outcome] | None = None
    backoff_minutes: Minutes | dict[Outcome, Minutes] | None = None
    end_at: AwareDatetime | None = None

    _check_ints = field_validator("max_concurrent_calls", "max_attempts", mode="before")(_not_a_boolean)


NOT_NULLABLE_CAMPAIGN_FIELDS = ("name", "max_concurrent_calls", "max_attempts", "retry_on", "backoff_minutes")


class CampaignListQuery(StrictModel):
    status: CampaignStatus | None = None
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class CampaignCounters(OutModel):
    total: int
    pending: int
    waiting_for_window: int
    in_progress: int
    retry_scheduled: int
    completed: int
    failed: int
    skipped: int


class RejectedRow(OutModel):
    index: int = Field(description="Position of the row in the request's tasks (from 0)")
    to_number: Any = None
    reasons: list[str] = Field(
        description="invalid_number, not_allowed, do_not_call, duplicate_number, missing_variables, invalid_row"
    )
    details: dict[str, str]


class CampaignOut(OutModel):
    id: str
    name: str
    agent_id: str
    status: CampaignStatus
    webhook_url: str | None
    webhook_events: list[str]
    start_at: datetime | None
    end_at: datetime | None
    calling_window: CallingWindow | None
    max_concurrent_calls: int
    max_attempts: int
    retry_on: list[str]
    backoff_minutes: float | dict[str, float]
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    updated_at: datetime
    counters: CampaignCounters


class CampaignCreatedOut(CampaignOut):
    accepted: int = Field(description="Rows that became tasks")
    rejected: list[RejectedRow]


class CampaignTasksAddedOut(OutModel):
    campaign_id: str
    accepted: int
    rejected: list[RejectedRow]
    counters: CampaignCounters
