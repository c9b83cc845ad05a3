"""Accounts: checking passwords (always under the guessing throttle) and ending sessions."""

import sqlalchemy as sa

from ..errors import Invalid, Unauthorized
from ..extensions import db
from ..models import User
from . import password_guard
from .orgs import check_password_strength, find_user

WRONG_LOGIN = "Wrong email or password."


def log_in(email: str, password: str, *, address: str | None) -> User:
    """The user, if the password is right; Unauthorized (the same answer for an unknown account)
    or TooManyAttempts once this address or this account spent its failed attempts."""
    user = find_user(email)
    if not password_guard.verify(user, password, address=address, email=email):
        raise Unauthorized(WRONG_LOGIN)
    return user


def revoke_sessions(user_id: str) -> None:
    """End every session of this user, on every device (the next request there is logged out)."""
    db.session.execute(sa.update(User).where(User.id == user_id).values(session_version=User.session_version + 1))
    db.session.commit()


def change_password(user: User, current: str, new: str, *, address: str | None) -> User:
    """Set a new password (the current one checked under the throttle); every other session ends."""
    if not password_guard.verify(user, current, address=address, email=user.email):
        raise Invalid("Wrong password", {"current_password": "is not your current password"})
    check_password_strength(new)
    user.set_password(new)
    user.session_version = (user.session_version or 0) + 1
    db.session.commit()
    return user
