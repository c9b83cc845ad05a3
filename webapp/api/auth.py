"""Who is calling: an API key (Bearer va_...) or a logged-in session for management endpoints."""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from flask import g, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..errors import Forbidden, Unauthorized
from ..extensions import csrf, db
from ..models import ApiKey, Membership, hash_token, utcnow

LAST_USED_RESOLUTION = timedelta(minutes=1)  # don't write on every request


@dataclass(frozen=True)
class Principal:
    organization_id: str
    api_key_id: str | None = None
    user_id: str | None = None
    role: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in ("owner", "admin")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def rate_limit_identity() -> str:
    """Key for the limiter, computed before any view runs: the presented key, else the address."""
    token = bearer_token()
    if token:
        return "key:" + hashlib.sha256(token.encode()).hexdigest()[:24]
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{request.remote_addr}"


def authenticate_api_key(token: str | None) -> Principal:
    if token is None:
        raise Unauthorized("Missing API key: send Authorization: Bearer va_...")
    if not token.startswith("va_") or len(token) < 35:
        raise Unauthorized("Malformed API key: keys look like va_ followed by 32+ characters")
    api_key = db.session.execute(db.select(ApiKey).where(ApiKey.key_hash == hash_token(token))).scalar_one_or_none()
    if api_key is None:
        raise Unauthorized("Invalid API key")
    if api_key.revoked_at is not None:
        raise Unauthorized("This API key has been revoked")
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        api_key.last_used_at = now
        db.session.commit()
    return Principal(organization_id=api_key.organization_id, api_key_id=api_key.id)


def current_membership() -> Membership | None:
    """The logged-in user's membership in the organization they are working in."""
    if not current_user.is_authenticated:
        return None
    memberships = current_user.memberships
    chosen = session.get("org_id")
    for membership in memberships:
        if membership.organization_id == chosen:
            return membership
    return memberships[0] if memberships else None


def authenticate_session(*, admin: bool) -> Principal:
    if bearer_token() is not None:
        raise Unauthorized("This endpoint needs a logged-in session; API keys are not accepted here")
    membership = current_membership()
    if membership is None:
        raise Unauthorized("Log in first: this endpoint uses session authentication")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        try:
            csrf.protect()
        except CSRFError as exc:
            raise Forbidden(
                "CSRF token missing or invalid: send it as X-CSRFToken", {"csrf": exc.description}
            ) from None
    if admin and not membership.is_admin:
        raise Forbidden("Only organization owners and admins can do this")
    return Principal(organization_id=membership.organization_id, user_id=membership.user_id, role=membership.role)


def authenticate(kind: str, *, admin: bool = False) -> Principal:
    principal = authenticate_api_key(bearer_token()) if kind == "api_key" else authenticate_session(admin=admin)
    g.principal = principal
    return principal
