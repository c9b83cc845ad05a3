"""The per-call token our TwiML passes to the media stream as a <Parameter>: it proves the
stream is the one Twilio opened for that call (checked on `start`)."""

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

SALT = "twilio-media-stream"
LIFETIME_SECONDS = 300  # between Twilio fetching the TwiML and the stream starting


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(call_id: str, call_sid: str) -> str:
    return _serializer().dumps({"call": call_id, "sid": call_sid})


def check(token: str, call_id: str, call_sid: str) -> bool:
    try:
        claims = _serializer().loads(token or "", max_age=LIFETIME_SECONDS)
    except BadSignature:
        return False
    return isinstance(claims, dict) and claims.get("call") == call_id and claims.get("sid") == call_sid
