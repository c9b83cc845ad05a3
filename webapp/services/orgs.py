"""Organizations, members and invites."""

import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Invite, Membership, Organization, User, hash_token, utcnow
from ..models.org import new_webhook_secret

INVITE_LIFETIME = timedelta(days=7)
MIN_PASSWORD_LENGTH = 8


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("Password too short", {"password": f"must be at least {MIN_PASSWORD_LENGTH} characters"})


def find_user(email: str) -> User | None:
    return db.session.execute(sa.select(User).where(User.email == normalize_email(email))).scalar_one_or_none()


def create_user(email: str, password: str, name: str = "") -> User:
    if find_user(email) is not None:
        raise Conflict("An account with this email already exists", {"email": "already registered"})
    check_password_strength(password)
    user = User(email=normalize_email(email), name=name.strip())
    user.set_password(password)
    db.session.add(user)
    return user


def create_organization(name: str, owner: User) -> Organization:
    org = Organization(name=name.strip())
    db.session.add(org)
    db.session.flush()
    db.session.add(Membership(organization_id=org.id, user_id=owner.id, role="owner"))
    db.session.commit()
    return org


def sign_up(*, org_name: str, email: str, password: str, name: str = "") -> tuple[Organization, User]:
    user = create_user(email, password, name)
    db.session.flush()
    return create_organization(org_name, user), user


def memberships_of(user_id: str) -> list[Membership]:
    return list(
        db.session.execute(
            sa.select(Membership).where(Membership.user_id == user_id).order_by(Membership.created_at)
        ).scalars()
    )


def membership(org_id: str, user_id: str) -> Membership:
    if "\x00" in org_id:  # no id holds NUL, and PostgreSQL refuses to compare text with one
        raise NotFound("Organization")
    found = db.session.execute(
        sa.select(Membership).where(Membership.organization_id == org_id, Membership.user_id == user_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("Organization")
    return found


def rename_organization(org_id: str, name: str) -> Organization:
    org = db.session.get(Organization, org_id)
    org.name = name.strip()
    db.session.commit()
    return org


def set_max_concurrent_calls(org_id: str, limit: int) -> Organization:
    org = db.session.get(Organization, org_id)
    org.max_concurrent_calls = limit
    db.session.commit()
    return org


def rotate_webhook_secret(org_id: str) -> str:
    org = db.session.get(Organization, org_id)
    org.webhook_secret = new_webhook_secret()
    db.session.commit()
    return org.webhook_secret


def members(org_id: str) -> list[Membership]:
    return list(
        db.session.execute(
            sa.select(Membership)
            .where(Membership.organization_id == org_id)
            .options(sa.orm.joinedload(Membership.user))
            .order_by(Membership.created_at)
        ).scalars()
    )


def invite(org_id: str, email: str, role: str, invited_by_id: str) -> tuple[Invite, str]:
    email = normalize_email(email)
    if any(m.user.email == email for m in members(org_id)):
        raise Conflict("This person is already a member", {"email": "already a member"})
    token = secrets.token_urlsafe(32)
    record = Invite(
        organization_id=org_id,
        email=email,
        role=role,
        token_hash=hash_token(token),
        invited_by_id=invited_by_id,
        expires_at=utcnow() + INVITE_LIFETIME,
    )
    db.session.add(record)
    db.session.commit()
    return record, token


def pending_invites(org_id: str) -> list[Invite]:
    return list(
        db.session.execute(
            sa.select(Invite)
            .where(
                Invite.organization_id == org_id,
                Invite.accepted_at.is_(None),
                Invite.revoked_at.is_(None),
                Invite.expires_at > utcnow(),
            )
            .order_by(Invite.created_at.desc())
        ).scalars()
    )


def find_open_invite(token: str) -> Invite:
    record = db.session.execute(sa.select(Invite).where(Invite.token_hash == hash_token(token))).scalar_one_or_none()
    if record is None or record.revoked_at or record.accepted_at or record.expires_at <= utcnow():
        raise NotFound("Invite")
    return record


def accept_invite(token: str, *, name: str, password: str) -> User:
    record = find_open_invite(token)
    user = find_user(record.email)
    if user is None:
        user = create_user(record.email, password, name)
        db.session.flush()
    elif not user.check_password(password):
        raise Invalid("Wrong password for the existing account", {"password": "does not match"})
    already = db.session.execute(
        sa.select(Membership).where(Membership.organization_id == record.organization_id, Membership.user_id == user.id)
    ).scalar_one_or_none()
    if already is None:
        db.session.add(Membership(organization_id=record.organization_id, user_id=user.id, role=record.role))
    record.accepted_at = utcnow()
    db.session.commit()
    return user


def change_role(org_id: str, user_id: str, role: str) -> Membership:
    target = membership(org_id, user_id)
    if target.role == "owner" and role != "owner":
        owners = [m for m in members(org_id) if m.role == "owner"]
        if len(owners) == 1:
            raise Conflict("The organization needs at least one owner")
    target.role = role
    db.session.commit()
    return target
