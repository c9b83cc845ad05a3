"""Call recordings: fetched from the provider once, kept under RECORDINGS_DIR, served with Range.

A finalized call's recording is "pending" (its store job fetches it, re-dispatched by the sweep
until the provider has it, less and less often), "stored", or "none" with the reason (never answered, or the provider
had none RECORDING_GIVE_UP_SECONDS after the call). The terminal webhook waits for it up to
RECORDING_WAIT_SECONDS, then goes out saying the recording is pending.
"""

import logging
import os
import re
from datetime import timedelta
from pathlib import Path

from flask import Response, current_app, request
from sqlalchemy import orm

from ..errors import AppError, Invalid, NotFound
from ..extensions import db
from ..models import Call, utcnow
from ..outbox import enqueue_after_commit
from ..queues import end_lease, job, lease, leased
from ..telephony.base import ProviderError
from . import webhooks
from .provider_gateway import call_ref, provider

log = logging.getLogger(__name__)

EXTENSIONS = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3"}
CHUNK = 64 * 1024
SETTLED = ("stored", "none")


def begin(call: Call) -> None:
    """At finalization: the recording is due (fetched after commit) or definitively absent."""
    if call.recording_status in SETTLED:
        return
    if not call.provider_call_id:
        _settle(call, "none", "The call was never placed")
    elif call.answered_at is None:
        _settle(call, "none", "The call was never answered")
    else:
        call.recording_status, call.recording_note = "pending", "Being fetched from the provider"
        enqueue_after_commit(store_recording, call.id)


def webhook_due(call: Call):
    """When the terminal webhook may go: now if the recording is settled, else after the wait."""
    if call.recording_status in SETTLED:
        return None
    return utcnow() + timedelta(seconds=current_app.config["RECORDING_WAIT_SECONDS"])


def _settle(call: Call, status: str, note: str | None) -> None:
    call.recording_status, call.recording_note = status, note
    webhooks.release_waiting(call)


def recordings_dir() -> Path:
    path = Path(current_app.config["RECORDINGS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(call: Call, content_type: str, data: bytes) -> None:
    """Keep the audio (readers never see half a file) and mark the recording stored; commits."""
    path = recordings_dir() / f"{call.id}{EXTENSIONS.get(content_type, '.bin')}"
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)
    call.recording_path = path.name
    call.recording_content_type = content_type
    if call.finalized_at is not None:
        _settle(call, "stored", None)
    else:
        call.recording_status, call.recording_note = "stored", None  # finalization finds it settled
    db.session.commit()


@job(queue="calls", retry=(5, 15, 60))
def store_recording(call_id: str) -> str:
    """Fetch and keep the recording of a finalized call. A provider error raises (RQ retries); "not
    there yet" leaves it pending for the sweep, until RECORDING_GIVE_UP_SECONDS after the call."""
    call = db.session.get(Call, call_id, options=[orm.lazyload(Call.turns)])  # the recording needs no turns
    if call is None or call.recording_status != "pending":
        return "nothing to do"
    key = f"recording:{call_id}"
    if not lease(key, current_app.config["PROVIDER_TIMEOUT_SECONDS"] + 5):
        return "in progress elsewhere"
    try:
        try:
            recording = provider().fetch_recording(call_ref(call))
        except ProviderError as exc:
            log.warning("recording fetch failed for call %s: %s", call.id, exc.message)
            raise
        if recording is not None:
            save(call, recording.content_type, recording.data)
            return "stored"
        waited = (utcnow() - (call.ended_at or call.created_at)).total_seconds()
        if waited < current_app.config["RECORDING_GIVE_UP_SECONDS"]:
            db.session.rollback()
            lease(f"recording-wait:{call_id}", next_look_after(waited))  # the sweep asks again after it
            return "not yet"
        _settle(call, "none", "The provider had no recording for this call")
        db.session.commit()
        return "no recording"
    finally:
        end_lease(key)


FIRST_LOOK_SECONDS, LAST_LOOK_SECONDS = 5.0, 300.0


def next_look_after(waited: float) -> float:
    """Seconds until the provider is asked again for a recording it did not have `waited` seconds
    after the call: often at first, then less and less (a provider that keeps none is asked about
    twenty times before RECORDING_GIVE_UP_SECONDS, not at every sweep)."""
    return min(LAST_LOOK_SECONDS, max(FIRST_LOOK_SECONDS, waited / 2))


def waiting_for_next_look(call_ids: list[str]) -> set[str]:
    return {call_id for call_id, held in zip(call_ids, leased([f"recording-wait:{i}" for i in call_ids]),
                                             strict=True) if held}  # fmt: skip


def file_for(call: Call) -> Path:
    if call.is_active:
        raise NotFound("Recording (the call is still in progress)")
    if not call.recording_path:
        if call.recording_status == "none":
            raise NotFound(f"Recording (there is none: {call.recording_note or 'not available'})")
        raise NotFound("Recording (not stored yet: it is being fetched from the provider; try again shortly)")
    path = recordings_dir() / call.recording_path
    if not path.is_file():
        raise NotFound("Recording file")
    return path


RANGE = re.compile(r"^bytes=(?:([0-9]+)-([0-9]*)|-([0-9]+))$")  # the Range parameter's pattern in the OpenAPI document
MAX_DIGITS = 18  # beyond any file, within int64: longer positions are unsatisfiable, not parsed


def _unsatisfiable(size: int, header: str) -> AppError:
    return AppError("Range not satisfiable", {"range": header[:100], "size": size}, status=416,
                    headers={"Content-Range": f"bytes */{size}"})  # fmt: skip


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end) of a Range header, or None to serve the whole file: 400 when it is not one
    `bytes=` range, 416 when the file has no such bytes."""
    match = RANGE.match(header.strip())
    if match is None:
        raise Invalid("Malformed Range header", {"Range": "one range: bytes=start-end, bytes=start- or bytes=-suffix"})
    first, last, suffix = match.groups()
    if first is not None and last and len(first) <= MAX_DIGITS and len(last) <= MAX_DIGITS and int(last) < int(first):
        return None  # not a range at all (HTTP: last-pos before first-pos); ignored like one we can't use
    if any(len(digits or "") > MAX_DIGITS for digits in (first, last, suffix)):
        raise _unsatisfiable(size, header)
    if suffix is not None:
        start, end = max(size - int(suffix), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start >= size or start > end:
        raise _unsatisfiable(size, header)
    return start, end


def stream(call: Call) -> Response:
    """The audio with HTTP Range support (206) so players can seek."""
    path = file_for(call)
    size = path.stat().st_size
    headers = {"Accept-Ranges": "bytes", "Content-Type": call.recording_content_type, "Cache-Control": "private"}
    start, end = 0, size - 1
    status = 200
    header = request.headers.get("Range", "").strip()
    byte_range = _byte_range(header, size) if header else None  # an empty Range is no Range
    if byte_range is not None:
        start, end = byte_range
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    headers["Content-Length"] = str(end - start + 1)

    def chunks():
        with path.open("rb") as audio:
            audio.seek(start)
            remaining = end - start + 1
            while remaining > 0:
                data = audio.read(min(CHUNK, remaining))
                if not data:
                    break
                remaining -= len(data)
                yield data

    return Response(chunks(), status=status, headers=headers, direct_passthrough=True)
