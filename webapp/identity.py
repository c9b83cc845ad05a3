"""Who is calling, for the whole app: an API key (Bearer va_...), or a logged-in session and the
membership it works in. The API, the dashboard and the sockets all ask here.

Sessions are revocable: the cookie carries the user's `session_version` from when it was issued,
and a session whose version is older than the user's is treated as logged out.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, g, request, session
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from . import key_cache
from .database import read_rows
from .errors import Forbidden, Unauthorized
from .extensions import csrf, db, login_manager
from .models import ApiKey, Membership, User, hash_token
from .services import key_usage

SESSION_VERSION = "sv"
API_KEY_BY_HASH = sa.select(ApiKey.id, ApiKey.organization_id, ApiKey.revoked_at, ApiKey.last_used_at).where(
    ApiKey.key_hash == sa.bindparam("key_hash")
)


@dataclass(frozen=True)
class Principal:
    organization_id: str
    api_key_id: str | None = None
    user_id: str | None = None
    role: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in ("owner", "admin")

    @property
    def can_operate(self) -> bool:
        """API keys and owners, admins and members run agents, tasks and calls; viewers only read."""
        return self.api_key_id is not None or self.role in ("owner", "admin", "member")


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def rate_limit_key() -> str:
    """Key for the request limiter, computed before any view runs: the presented key, else the
    logged-in user, else the client address. (Password attempts have their own throttle.)"""
    import hashlib

    token = bearer_token()
    if token:
        return "key:" + hashlib.sha256(token.encode()).hexdigest()[:24]
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{request.remote_addr}"


def authenticate_api_key(token: str | None) -> Principal:
    """The key's principal: from this process's key cache when the request may trust it (see
    key_cache: `g.key_generation` is what the rate-limit script saw), else from the database."""
    if token is None:
        raise Unauthorized("Missing API key: send Authorization: Bearer va_...")
    if not token.startswith("va_") or len(token) < 35:
        raise Unauthorized("Malformed API key: keys look like va_ followed by 32+ characters")
    key_hash = hash_token(token)
    cache = key_cache.cache()
    cache_entry = cache.lookup(key_hash, g.get("key_generation"))
    if cache_entry is None:
        key_cache.start_listening()
        changes = cache.changes()
        found = read_rows(API_KEY_BY_HASH, {"key_hash": key_hash})  # no transaction held
        if not found:
            raise Unauthorized("Invalid API key")
        key = found[0]
        if key["revoked_at"] is not None:
            raise Unauthorized("This API key has been revoked")
        cache_entry = cache.remember(key_hash, key["id"], key["organization_id"], key["last_used_at"], changes)
    key_usage.note_use(cache_entry)
    return Principal(organization_id=cache_entry.organization_id, api_key_id=cache_entry.key_id)


def start_session(user: User, org_id: str | None = None) -> None:
    """A fresh session for `user` (nothing carried over from before the login)."""
    from flask_login import login_user

    session.clear()
    login_user(user)
    session[SESSION_VERSION] = user.session_version
    if org_id:
        session["org_id"] = org_id


def end_session() -> None:
    from flask_login import logout_user

    logout_user()
    session.clear()


def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, user_id)
    if user is None or session.get(SESSION_VERSION) != user.session_version:
        return None  # revoked: logged out elsewhere, password changed, or removed
    return user


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


def authenticate_session(*, admin: bool = False, operate: bool = False) -> Principal:
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
    if operate and not membership.can_operate:
        raise Forbidden("Viewers can look but not change anything")
    return Principal(organization_id=membership.organization_id, user_id=membership.user_id, role=membership.role)


def authenticate(kind: str, *, admin: bool = False) -> Principal:
    principal = authenticate_api_key(bearer_token()) if kind == "api_key" else authenticate_session(admin=admin)
    g.principal = principal
    return principal


def init_app(app: Flask) -> None:
    """Bind identity to the app: the user loader, the API key cache and the batched key usage."""
    login_manager.user_loader(_load_user)
    key_cache.init_app(app)

    @app.teardown_request
    def _write_key_usage(_exc=None) -> None:
        key_usage.flush()
