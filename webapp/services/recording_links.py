"""Short-lived signed recording URLs: `recording_url` works in a browser's `<audio src>` (which
can't send an Authorization header), for one call of one organization, for LINK_LIFETIME."""

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..errors import Unauthorized
from ..models import utcnow

LINK_LIFETIME = timedelta(minutes=15)
SALT = "recording-link"
QUERY_PARAM = "token"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(call_id: str, org_id: str) -> tuple[str, object]:
    """(token, expires_at) for the recording of `call_id`."""
    return _serializer().dumps({"call": call_id, "org": org_id}), utcnow() + LINK_LIFETIME


def organization_for(token: str, call_id: str) -> str:
    """The organization a valid token was issued for; 401 when expired, forged or for another call."""
    try:
        claims = _serializer().loads(token, max_age=int(LINK_LIFETIME.total_seconds()))
    except SignatureExpired:
        raise Unauthorized("This recording link has expired; get a new one from /api/v1/calls/{id}/recording") from None
    except BadSignature:
        raise Unauthorized("Invalid recording link token") from None
    if not isinstance(claims, dict) or claims.get("call") != call_id:
        raise Unauthorized("This recording link is for another call")
    return claims["org"]
