"""Provider webhooks: ElevenLabs post-call webhooks and Twilio status callbacks.

Not session routes: no CSRF token, a signature instead (401 ElevenLabs / 403 Twilio when it is
missing or wrong, 400 when the body can't be read). A verified event for a call we don't know
(yet) is answered 200 with a note, so the provider doesn't retry it forever or disable the hook.
"""

import json
import logging

from flask import Blueprint, current_app, jsonify, request

from ..services import provider_events
from ..telephony.elevenlabs.webhooks import (
    WebhookPayloadError,
    WebhookSignatureError,
    parse_elevenlabs_event,
    parse_twilio_status,
    verify_elevenlabs_signature,
    verify_twilio_signature,
)
from ..urls import base_url

log = logging.getLogger(__name__)

bp = Blueprint("provider_hooks", __name__)

AUDIO_WEBHOOK_MAX_BYTES = 64 * 1024 * 1024  # post_call_audio carries the whole call, base64-encoded


def _answer(status: int, **body):
    return jsonify({"received": status == 200, **body}), status


@bp.post("/elevenlabs")
def elevenlabs():
    request.max_content_length = AUDIO_WEBHOOK_MAX_BYTES
    raw = request.get_data()
    try:
        verify_elevenlabs_signature(
            raw, request.headers.get("ElevenLabs-Signature"), current_app.config.get("ELEVENLABS_WEBHOOK_SECRET") or ""
        )
    except WebhookSignatureError as exc:
        log.warning("ElevenLabs webhook refused: %s", exc)
        return _answer(401, error=str(exc))
    try:
        event = parse_elevenlabs_event(json.loads(raw))
    except ValueError as exc:  # not JSON, not UTF-8, or not a webhook body (WebhookPayloadError)
        message = str(exc) if isinstance(exc, WebhookPayloadError) else "The body is not JSON"
        return _answer(400, error=message)
    return _answer(200, **provider_events.apply(event))


def _signed_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL (or this host) + path and query string."""
    query = request.query_string.decode()
    return base_url() + request.script_root + request.path + (f"?{query}" if query else "")


@bp.post("/twilio/status")
def twilio_status():
    if not verify_twilio_signature(
        _signed_url(),
        request.form,
        request.headers.get("X-Twilio-Signature"),
        current_app.config.get("TWILIO_AUTH_TOKEN") or "",
        request.headers.get("X-Twilio-Webhooks-Signature-Settings"),
    ):
        log.warning("Twilio status callback refused: bad or missing X-Twilio-Signature")
        return _answer(403, error="X-Twilio-Signature is missing or does not match")
    try:
        event = parse_twilio_status(request.form)
    except WebhookPayloadError as exc:
        return _answer(400, error=str(exc))
    return _answer(200, **provider_events.apply(event))
