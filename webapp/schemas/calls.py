from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from .common import MAX_OFFSET, OutModel, StrictModel, Text

CallStatus = Literal["initiated", "in_progress", "completed", "failed"]


class CallListQuery(StrictModel):
    task_id: Text(36) | None = None
    agent_id: Text(36) | None = None
    status: CallStatus | None = None
    limit: int = Field(50, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class TranscriptTurnOut(BaseModel):
    role: Literal["agent", "user"]
    text: str
    start_seconds: float
    end_seconds: float


class ReportMetrics(BaseModel):
    duration_seconds: float | None
    turns: int
    agent_talk_seconds: float
    user_talk_seconds: float


class ReportOut(BaseModel):
    summary: str
    outcome: str
    call_successful: bool | None
    extracted_data: dict[str, Any]
    metrics: ReportMetrics
    source: Literal["provider", "local"]
    generated_at: str = Field(json_schema_extra={"format": "date-time"})


class CallOut(OutModel):
    id: str
    task_id: str
    agent_id: str
    to_number: str
    status: CallStatus
    failure_reason: str | None
    end_reason: str | None
    error_message: str | None
    provider: str
    provider_call_id: str | None
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: float | None
    cost_credits: float | None = Field(description="What the provider charged, in its credits (ElevenLabs credits)")
    cost_usd: float | None = Field(description="The same in US dollars, when the provider gives it")
    has_recording: bool
    created_at: datetime
    updated_at: datetime


class CallDetailOut(CallOut):
    termination_reason: str | None
    finalized_at: datetime | None = Field(description="when the final transcript and report were stored")
    recording_status: Literal["pending", "stored", "none"] | None = Field(
        description="null while the call runs; then pending (being fetched), stored, or none"
    )
    recording_note: str | None = Field(description="why there is no recording (yet)")
    events: list[dict[str, Any]]
    transcript: list[TranscriptTurnOut]
    report: ReportOut | None


class CallTranscriptOut(BaseModel):
    call_id: str
    status: CallStatus
    transcript: list[TranscriptTurnOut]


class TranscriptRefreshOut(BaseModel):
    call_id: str
    transcript: list[TranscriptTurnOut]
    extracted_data: dict[str, Any]
    report: ReportOut


class ExecuteOut(BaseModel):
    call_id: str | None = Field(description="The call placed; null when the task was queued")
    queued: bool = Field(
        False,
        description="Present and true when the organization is at its concurrent-call cap: the call "
        "starts when a slot frees (GET /tasks/{id} shows it)",
    )
    message: str


class RecordingOut(BaseModel):
    call_id: str
    recording_url: str = Field(
        description="A signed link to the audio that needs no Authorization header (use it as <audio src>); "
        "valid until expires_at (15 minutes), for this call only"
    )
    content_type: str
    expires_at: datetime


class CallActionOut(BaseModel):
    call_id: str
    status: CallStatus
    message: str


class LiveConnectionInfo(BaseModel):
    url: str
    auth_method: str
    auth_param: str
    temp_auth_param: str
    example: str
    example_session: str
    message_format: str
    message_types: list[str]


class LiveOut(BaseModel):
    websocket_url: str
    call_id: str
    temp_token: str
    expires_at: datetime
    connection_info: LiveConnectionInfo


class WebhookAttemptOut(OutModel):
    number: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int | None
    error: str | None


class WebhookDeliveryOut(OutModel):
    id: str
    call_id: str
    task_id: str
    event_type: str
    url: str
    status: Literal["pending", "retrying", "delivered", "failed"]
    attempt_count: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[WebhookAttemptOut]
