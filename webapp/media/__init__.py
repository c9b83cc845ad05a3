"""Twilio's side of bridged calls (TELEPHONY_PROVIDER=twilio): the TwiML that connects an
answered call to our media socket (served by the media process, webapp/media/server.py), status
and answering-machine callbacks.

Every callback is checked with X-Twilio-Signature against PUBLIC_BASE_URL (403 when missing
or wrong); the call id in the path is part of what Twilio signed."""

import logging

from flask import Blueprint, Response, current_app, jsonify, request
from twilio.twiml.voice_response import Connect, VoiceResponse

from ..extensions import db
from ..models import Call
from ..services import engine
from ..telephony.base import CallSnapshot
from ..telephony.elevenlabs.webhooks import verify_twilio_signature
from ..telephony.twilio.provider import HANG_UP_NOTICES, status_snapshot
from ..urls import as_websocket, base_url
from . import session, tokens

log = logging.getLogger(__name__)

bp = Blueprint("media", __name__)

HANG_UP_NOTICES.append(session.note_hang_up)
MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")


def _signed() -> bool:
    query = request.query_string.decode()
    url = base_url() + request.script_root + request.path + (f"?{query}" if query else "")
    return verify_twilio_signature(
        url,
        request.form,
        request.headers.get("X-Twilio-Signature"),
        current_app.config.get("TWILIO_AUTH_TOKEN") or "",
        request.headers.get("X-Twilio-Webhooks-Signature-Settings"),
    )


def _refused():
    log.warning("Twilio callback refused: bad or missing X-Twilio-Signature (%s)", request.path)
    return jsonify({"received": False, "error": "X-Twilio-Signature is missing or does not match"}), 403


def _bridged_call(call_id: str) -> Call | None:
    call = db.session.get(Call, call_id) if len(call_id) <= 36 else None
    if call is None or call.provider != session.PROVIDER:
        return None
    stored_sid = (call.provider_data or {}).get("call_sid")
    if stored_sid and stored_sid != request.form.get("CallSid"):
        return None
    return call


def _stream_url() -> str:
    return current_app.config.get("MEDIA_PUBLIC_URL") or as_websocket(base_url()) + session.STREAM_PATH


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


@bp.post("/webhooks/twilio/calls/<call_id>/twiml")
def twiml(call_id: str):
    """Answered: connect the call's audio to our media socket, with the call's token."""
    if not _signed():
        return _refused()
    call = _bridged_call(call_id)
    response = VoiceResponse()
    if call is None or not call.is_active:
        response.hangup()
        return _twiml(response)
    connect = Connect()
    stream = connect.stream(url=_stream_url())
    stream.parameter(name="call_id", value=call.id)
    stream.parameter(name="token", value=tokens.issue(call.id, request.form.get("CallSid", "")))
    response.append(connect)
    return _twiml(response)


@bp.post("/webhooks/twilio/calls/<call_id>/status")
def status(call_id: str):
    if not _signed():
        return _refused()
    call = _bridged_call(call_id)
    snapshot = status_snapshot(request.form.get("CallStatus", ""))
    if call is None or snapshot is None:
        return jsonify({"received": True, "applied": False, "note": "No bridged call matches this callback"})
    duration = request.form.get("CallDuration")
    if duration and duration.isdigit() and snapshot.is_terminal:
        call.duration_seconds = call.duration_seconds or float(duration)
    applied = engine.apply_snapshot(call, session.requested_end(call.id, snapshot))
    return jsonify({"received": True, "applied": applied, "call_id": call.id})


@bp.post("/webhooks/twilio/calls/<call_id>/amd")
def answering_machine(call_id: str):
    """Twilio's AsyncAmd verdict: a machine ends the call as voicemail, or (agent setting) the
    agent leaves its voicemail_message after the beep."""
    if not _signed():
        return _refused()
    call = _bridged_call(call_id)
    answered_by = request.form.get("AnsweredBy", "unknown")
    if call is None or not call.is_active:
        return jsonify({"received": True, "applied": False})
    call.provider_data = {**(call.provider_data or {}), "answered_by": answered_by}
    db.session.commit()
    if answered_by not in MACHINE:
        return jsonify({"received": True, "applied": True, "call_id": call.id})
    context = session.call_context(call)
    session.send_control(call.id, {"type": "answering_machine", "answered_by": answered_by,
                                   "action": context.voicemail_action})  # fmt: skip
    if context.voicemail_action != "leave_message":
        event = {"type": "answering_machine", "answered_by": answered_by, "action": "hang_up"}
        engine.apply_snapshot(call, CallSnapshot(
            status="failed", failure_reason="voicemail", events=(*call.events, event),
            error_message="An answering machine answered; the call was ended without a message."))  # fmt: skip
        session.hang_up(call.id, request.form.get("CallSid", ""))
    return jsonify({"received": True, "applied": True, "call_id": call.id})
