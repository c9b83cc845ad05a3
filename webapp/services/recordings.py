"""Call recordings: fetched from the provider once, kept under RECORDINGS_DIR, served with Range."""

import logging
import os
import re
from pathlib import Path

from flask import Response, current_app, request

from ..errors import AppError, NotFound
from ..extensions import db
from ..models import Call
from ..queues import enqueue_job
from ..telephony.base import ProviderError
from . import engine

log = logging.getLogger(__name__)

EXTENSIONS = {"audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3"}
CHUNK = 64 * 1024


def enqueue_store(call_id: str) -> None:
    enqueue_job("store_recording", call_id)


def recordings_dir() -> Path:
    path = Path(current_app.config["RECORDINGS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def save(call: Call, content_type: str, data: bytes) -> None:
    path = recordings_dir() / f"{call.id}{EXTENSIONS.get(content_type, '.bin')}"
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_bytes(data)
    os.replace(partial, path)  # readers never see half a file
    call.recording_path = path.name
    call.recording_content_type = content_type
    db.session.commit()


def store_recording(call_id: str) -> str:
    call = db.session.get(Call, call_id)
    if call is None or call.recording_path or not call.provider_call_id:
        return "nothing to do"
    try:
        recording = engine.provider().fetch_recording(engine.call_ref(call))
    except ProviderError as exc:
        log.warning("recording fetch failed for call %s: %s", call.id, exc.message)
        raise  # RQ records the failure; the endpoint keeps saying the recording is not available
    if recording is None:
        return "no recording"
    save(call, recording.content_type, recording.data)
    return "stored"


def file_for(call: Call) -> Path:
    if call.is_active:
        raise NotFound("Recording (the call is still in progress)")
    if not call.recording_path:
        raise NotFound("Recording (none is available for this call yet)")
    path = recordings_dir() / call.recording_path
    if not path.is_file():
        raise NotFound("Recording file")
    return path


RANGE = re.compile(r"^bytes=(\d{0,18})-(\d{0,18})$")  # 18 digits: beyond any file, within int64


def _unsatisfiable(size: int, header: str) -> AppError:
    return AppError("Range not satisfiable", {"range": header[:100], "size": size}, status=416,
                    headers={"Content-Range": f"bytes */{size}"})  # fmt: skip


def stream(call: Call) -> Response:
    """The audio with HTTP Range support (206) so players can seek."""
    path = file_for(call)
    size = path.stat().st_size
    headers = {"Accept-Ranges": "bytes", "Content-Type": call.recording_content_type, "Cache-Control": "private"}
    start, end = 0, size - 1
    status = 200
    header = request.headers.get("Range")
    if header:
        match = RANGE.match(header.strip())
        if match is None or (not match.group(1) and not match.group(2)):
            raise _unsatisfiable(size, header)
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last), size - 1) if last else size - 1
        else:
            start, end = max(size - int(last), 0), size - 1
        if start >= size or start > end:
            raise _unsatisfiable(size, header)
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
