"""`Idempotency-Key` on every POST of /api/v1: the same key with the same request within 24 h
answers the first answer again (status and body, with `Idempotent-Replayed: true`); the same key
with a different request answers 422; the same key while the first is still running answers 409.
Keys are per organization. Records live in Redis (one key each, expiring after 24 h); answers of
5xx are not kept, so such a request may be retried with the same key."""

import hashlib
import json
import re

import redis
from flask import current_app, g, request

from ..errors import AppError, Conflict, Invalid, Unavailable
from ..queues import namespaced, redis_client

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
# Printable ASCII, no space at either end (HTTP strips it): the header's pattern in the OpenAPI document
KEY_PATTERN = re.compile(r"[!-~]([ -~]{0,253}[!-~])?")
TTL_SECONDS = 24 * 3600
RUNNING_TTL_SECONDS = 600  # a request that died mid-way frees its key after this


class Mismatch(AppError):
    status = 422


def _fingerprint() -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _key(organization_id: str, key: str) -> str:
    return namespaced(f"idempotency:{organization_id}:{hashlib.sha256(key.encode()).hexdigest()}")


def begin(organization_id: str):
    """Before the view runs: None to go ahead, or the stored answer to replay."""
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST":
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise Invalid("Malformed Idempotency-Key", {HEADER: "1 to 255 printable ASCII characters"})
    storage_key, fingerprint = _key(organization_id, key), _fingerprint()
    try:
        connection = redis_client()
        running = json.dumps({"state": "running", "fingerprint": fingerprint})
        if connection.set(storage_key, running, nx=True, ex=RUNNING_TTL_SECONDS):
            g.idempotency = (storage_key, fingerprint)
            return None
        stored = connection.get(storage_key)
    except redis.RedisError:
        raise Unavailable("Idempotency keys can't be checked right now (Redis unreachable); nothing was done") from None
    record = json.loads(stored) if stored else {"state": "running", "fingerprint": fingerprint}
    if record["fingerprint"] != fingerprint:
        raise Mismatch("This Idempotency-Key was used with a different request", {HEADER: key})
    if record["state"] == "running":
        raise Conflict("A request with this Idempotency-Key is still in progress", {HEADER: key})
    response = current_app.response_class(record["body"], status=record["status"], mimetype="application/json")
    response.headers[REPLAYED] = "true"
    return response


def record(response):
    """After the view (also for its error answers): keep the answer, or free the key on a 5xx."""
    pending = g.pop("idempotency", None)
    if pending is None:
        return response
    storage_key, fingerprint = pending
    try:
        if response.status_code >= 500:
            redis_client().delete(storage_key)
        else:
            done = {"state": "done", "fingerprint": fingerprint, "status": response.status_code,
                    "body": response.get_data(as_text=True)}  # fmt: skip
            redis_client().set(storage_key, json.dumps(done), ex=TTL_SECONDS)
    except redis.RedisError:
        pass  # the running record expires by itself; a retry then runs the request again
    return response
