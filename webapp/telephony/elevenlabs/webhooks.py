"""Checking and reading what ElevenLabs and Twilio post to us: ElevenLabs post-call webhooks
(transcription, audio, call initiation failure, answering machine detection) and Twilio status
callbacks. Pure functions; the web layer answers 401 on a bad signature and
hands the ProviderEvent to the call service."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass

from twilio.request_validator import RequestValidator, get_signature_algorithm

from ..base import CallSnapshot
from .conversation import snapshot

SIGNATURE_TOLERANCE_SECONDS = 1800  # ElevenLabs: reject signatures older than 30 minutes
INITIATION_FAILURE = {
    "busy": "busy",
    "no-answer": "no_answer",
    "no_answer": "no_answer",
}
INITIATION_FAILURE_TEXT = {
    "busy": "The line was busy.",
    "no_answer": "Nobody answered.",
}
TWILIO_STATUS = {
    "queued": ("initiated", None),
    "initiated": ("initiated", None),
    "ringing": ("initiated", None),
    "in-progress": ("in_progress", None),
    "completed": ("completed", None),
    "busy": ("failed", "busy"),
    "no-answer": ("failed", "no_answer"),
    "failed": ("failed", "provider_error"),
    "canceled": ("failed", "cancelled"),
}


class WebhookSignatureError(Exception):
    """The signature is missing, wrong or too old: answer 401."""


class WebhookPayloadError(ValueError):
    """The body is not a webhook we can read: answer 400."""


@dataclass(frozen=True)
class ProviderEvent:
    # post_call_transcription | post_call_audio | call_initiation_failure | answering_machine_detection
    # | twilio_status | other
    kind: str
    conversation_id: str | None = None
    call_sid: str | None = None
    snapshot: CallSnapshot | None = None
    audio: bytes | None = None
    occurred_at: int | None = None  # unix seconds, when the provider says it happened
    answered_by: str | None = None  # Twilio's verdict: human, machine_start, machine_end_beep, fax, ...


def verify_elevenlabs_signature(
    raw_body: bytes,
    header: str | None,
    secret: str,
    now: float | None = None,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
) -> None:
    """Check `ElevenLabs-Signature: t=<unix>,v0=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    if not secret:
        raise WebhookSignatureError("No webhook secret is configured")
    if not header:
        raise WebhookSignatureError("Missing ElevenLabs-Signature header")
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            timestamp = value
        elif key == "v0":
            signatures.append(value)
    if not timestamp or not timestamp.isdigit() or not signatures:
        raise WebhookSignatureError("Malformed ElevenLabs-Signature header")
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > tolerance:
        raise WebhookSignatureError("ElevenLabs-Signature timestamp is outside the tolerance")
    body = raw_body.encode() if isinstance(raw_body, str) else raw_body
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, signature) for signature in signatures):
        raise WebhookSignatureError("ElevenLabs-Signature does not match the body")


def _initiation_failure(data: dict) -> CallSnapshot:
    raw = (data.get("failure_reason") or "unknown").lower()
    reason = INITIATION_FAILURE.get(raw, "provider_error")
    body = (data.get("metadata") or {}).get("body") or {}
    message = INITIATION_FAILURE_TEXT.get(reason)
    if message is None:
        detail = ", ".join(
            f"{label} {body[key]}"
            for key, label in (("CallStatus", "status"), ("SipResponseCode", "SIP"))
            if body.get(key)
        )
        message = "The call could not be connected" + (f" ({detail})." if detail else ".")
    return CallSnapshot(
        status="failed",
        failure_reason=reason,
        termination_reason=raw,
        error_message=message,
    )


def parse_elevenlabs_event(payload: dict) -> ProviderEvent:
    """Read a verified ElevenLabs webhook body; unknown types come back with no snapshot."""
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict) or not payload.get("type"):
        raise WebhookPayloadError("Expected an ElevenLabs webhook body {type, event_timestamp, data}")
    kind, data = payload["type"], payload["data"]
    occurred_at = payload.get("event_timestamp") if isinstance(payload.get("event_timestamp"), int) else None
    conversation_id = data.get("conversation_id")
    if not conversation_id and kind in (
        "post_call_transcription",
        "post_call_audio",
        "call_initiation_failure",
    ):
        raise WebhookPayloadError("The webhook data has no conversation_id")
    if kind == "answering_machine_detection":
        return _machine_detection(data, occurred_at)
    if kind == "post_call_transcription":
        phone_call = (data.get("metadata") or {}).get("phone_call") or {}
        return ProviderEvent(
            kind,
            conversation_id,
            phone_call.get("call_sid"),
            snapshot(data, final=True),
            occurred_at=occurred_at,
        )
    if kind == "post_call_audio":
        try:
            audio = base64.b64decode(data.get("full_audio") or "", validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WebhookPayloadError("full_audio is not base64") from exc
        return ProviderEvent(kind, conversation_id, audio=audio or None, occurred_at=occurred_at)
    if kind == "call_initiation_failure":
        call_sid = ((data.get("metadata") or {}).get("body") or {}).get("CallSid")
        return ProviderEvent(
            kind,
            conversation_id,
            call_sid,
            _initiation_failure(data),
            occurred_at=occurred_at,
        )
    return ProviderEvent(kind, conversation_id, occurred_at=occurred_at)


def _machine_detection(data: dict, occurred_at: int | None) -> ProviderEvent:
    """Twilio's answering-machine verdict for a call (its own event; it may come after the call
    ended). The verdict is read from `answered_by`, or from the Twilio fields in `metadata.body`."""
    body = (data.get("metadata") or {}).get("body") or {}
    answered_by = data.get("answered_by") or body.get("AnsweredBy")
    call_sid = data.get("call_sid") or body.get("CallSid")
    if not isinstance(answered_by, str) or not answered_by:
        raise WebhookPayloadError("The answering_machine_detection data has no answered_by verdict")
    if not data.get("conversation_id") and not call_sid:
        raise WebhookPayloadError("The webhook data has no conversation_id or call_sid")
    return ProviderEvent(
        "answering_machine_detection",
        data.get("conversation_id"),
        call_sid,
        occurred_at=occurred_at,
        answered_by=answered_by.lower(),
    )


def verify_twilio_signature(
    url: str,
    form,
    signature: str | None,
    auth_token: str,
    settings_header: str | None = None,
) -> bool:
    """True when X-Twilio-Signature matches. `url` is the public URL Twilio posted to, `form`
    the posted fields (a dict or Flask's MultiDict); `settings_header` is
    X-Twilio-Webhooks-Signature-Settings when present (it names the algorithm)."""
    if not signature or not auth_token:
        return False
    algorithm = get_signature_algorithm(settings_header)
    return RequestValidator(auth_token).validate(url, form if form is not None else {}, signature, algorithm)


def parse_twilio_status(form: dict) -> ProviderEvent:
    """Read a Twilio status callback (form fields CallSid, CallStatus, CallDuration, ...)."""
    call_sid = form.get("CallSid")
    call_status = form.get("CallStatus")
    if not call_sid or call_status not in TWILIO_STATUS:
        raise WebhookPayloadError("Expected a Twilio status callback with CallSid and a known CallStatus")
    status, failure_reason = TWILIO_STATUS[call_status]
    duration = form.get("CallDuration")
    error_message = None
    if failure_reason == "provider_error":
        code = form.get("SipResponseCode") or form.get("ErrorCode")
        error_message = "Twilio could not connect the call" + (f" (SIP {code})." if code else ".")
    return ProviderEvent(
        kind="twilio_status",
        call_sid=call_sid,
        snapshot=CallSnapshot(
            status=status,
            failure_reason=failure_reason,
            duration_seconds=float(duration) if duration and duration.isdigit() else None,
            termination_reason=call_status if status in ("completed", "failed") else None,
            error_message=error_message,
        ),
    )
