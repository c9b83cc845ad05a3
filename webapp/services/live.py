"""Temporary session tokens for the live transcript socket: 5 minutes, bound to call and org."""

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..models import utcnow

TOKEN_LIFETIME = timedelta(minutes=5)
SALT = "live-call-socket"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(call_id: str, org_id: str) -> tuple[str, object]:
    return _serializer().dumps({"call": call_id, "org": org_id}), utcnow() + TOKEN_LIFETIME


class TokenRejected(Exception):
    pass


def read_token(token: str, call_id: str) -> str:
    """The organization the token was issued for, if it is valid for this call."""
    try:
        claims = _serializer().loads(token, max_age=int(TOKEN_LIFETIME.total_seconds()))
    except SignatureExpired:
        raise TokenRejected("Session token expired; fetch a new one from /api/v1/calls/{id}/live") from None
    except BadSignature:
        raise TokenRejected("Invalid session token") from None
    if claims.get("call") != call_id:
        raise TokenRejected("This session token is for another call")
    return claims["org"]
