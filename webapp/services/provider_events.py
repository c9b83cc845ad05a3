"""Feeding verified provider events to the call engine: find the call by the provider's
reference, then apply the event idempotently (a duplicate or late event changes nothing)."""

import logging

import sqlalchemy as sa

from ..extensions import db
from ..models import Call
from ..telephony.base import CallSnapshot
from ..telephony.elevenlabs.webhooks import ProviderEvent
from . import engine, recordings

log = logging.getLogger(__name__)

PROVIDER = "elevenlabs"  # the provider whose calls these webhooks describe (ElevenLabs over Twilio)
SNAPSHOT_KINDS = ("post_call_transcription", "call_initiation_failure", "twilio_status")


def find_call(event: ProviderEvent) -> Call | None:
    """The call by ElevenLabs conversation id, else by Twilio CallSid."""
    if event.conversation_id:
        call = db.session.execute(
            sa.select(Call).where(Call.provider == PROVIDER, Call.provider_call_id == event.conversation_id)
        ).scalar_one_or_none()
        if call is not None:
            return call
    if event.call_sid:
        return db.session.execute(
            sa.select(Call)
            .where(Call.provider == PROVIDER, Call.provider_data["call_sid"].as_string() == event.call_sid)
            .order_by(Call.created_at.desc())
            .limit(1)
        ).scalar_one_or_none()
    return None


def phone_leg(snapshot: CallSnapshot) -> CallSnapshot:
    """A Twilio "completed" only says the line was answered and hung up: whether the conversation
    completed or reached a voicemail, and its transcript and analysis, come from ElevenLabs."""
    if snapshot.status == "completed":
        return CallSnapshot(status="in_progress")
    return snapshot


def _store_audio(call: Call, audio: bytes | None) -> bool:
    if not audio or call.recording_path:
        return False
    recordings.save(call, "audio/wav" if audio.startswith(b"RIFF") else "audio/mpeg", audio)
    return True


def _record_verdict(call: Call, answered_by: str | None) -> bool:
    """Keep Twilio's answering-machine verdict with the call: the provider reads it when it
    classifies how the call ended (a machine means voicemail). A call that has already ended
    keeps its outcome (calls only move forward); the verdict is still recorded, and joins its
    events if it is not finalized yet."""
    if not answered_by or (call.provider_data or {}).get("answered_by") == answered_by:
        return False
    call.provider_data = {**(call.provider_data or {}), "answered_by": answered_by}
    db.session.commit()
    if call.is_active or call.finalized_at is not None:
        return True
    snapshot = engine.poll(call)
    if snapshot is not None:
        engine.apply_snapshot(call, snapshot)
    return True


def apply(event: ProviderEvent) -> dict:
    """What the event changed, as the webhook's answer: {applied, call_id[, note]}."""
    if event.kind not in SNAPSHOT_KINDS and event.kind not in ("post_call_audio", "answering_machine_detection"):
        return {"applied": False, "call_id": None, "note": f"Events of type {event.kind!r} are not used"}
    call = find_call(event)
    if call is None:
        log.info("%s event for an unknown call (conversation %s, CallSid %s)", event.kind, event.conversation_id,
                 event.call_sid)  # fmt: skip
        return {"applied": False, "call_id": None, "note": "No call matches this event; nothing was changed"}
    try:
        if event.kind == "post_call_audio":
            applied = _store_audio(call, event.audio)
        elif event.kind == "answering_machine_detection":
            applied = _record_verdict(call, event.answered_by)
        else:
            snapshot = phone_leg(event.snapshot) if event.kind == "twilio_status" else event.snapshot
            applied = engine.apply_snapshot(call, snapshot)
    except sa.exc.IntegrityError:  # the poller stored the same turns at the same moment
        db.session.rollback()
        applied = False
    log.info("%s event for call %s: %s", event.kind, call.id, "applied" if applied else "nothing new")
    return {"applied": applied, "call_id": call.id}
