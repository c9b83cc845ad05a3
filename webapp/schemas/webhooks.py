"""The body of the webhooks we send (documented in the OpenAPI `webhooks` section)."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from .calls import CallStatus

WebhookEventType = Literal["call_started", "call_completed", "call_failed"]


class WebhookEventData(BaseModel):
    failure_reason: str | None
    end_reason: str | None
    duration_seconds: float | None
    transcript_excerpt: str
    report_excerpt: str
    outcome: str | None
    call_successful: bool | None


class WebhookEvent(BaseModel):
    """POSTed as JSON to the task's `webhook_url` with `X-Webhook-Id` (= `event_id`),
    `X-Webhook-Event` (= `event_type`) and `X-Webhook-Signature`."""

    event_type: WebhookEventType
    event_id: str = Field(description="Stable across retries: deduplicate on it")
    occurred_at: datetime
    task_id: str
    call_id: str
    status: CallStatus
    data: WebhookEventData
