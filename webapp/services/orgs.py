"""Organizations, members and invites."""

import secrets
from datetime import timedelta

import sqlalchemy as sa

from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..ids import canonical_id
from ..models import ROLES, Invite, Membership, Organization, User, hash_token, utcnow
from ..models.org import new_webhook_secret
from . import password_guard

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
    org_id, user_id = canonical_id(org_id, "Organization"), canonical_id(user_id, "Member")
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


def set_regional(org_id: str, *, time_zone: str | None = None, default_phone_region: str | None = None):
    """The organization's time zone and default phone region (validated by the schema); None keeps one."""
    org = db.session.get(Organization, org_id)
    if time_zone is not None:
        org.time_zone = time_zone
    if default_phone_region is not None:
        org.default_phone_region = default_phone_region
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


INVITE_PASSWORD = "does not match your account with this email, or is shorter than 8 characters for a new account"


def accept_invite(token: str, *, name: str, password: str, address: str | None = None) -> User:
    """Join the invite's organization, as the existing account with this email (its password,
    checked under the login throttle) or as a new one. The answer for a wrong password and for a
    too short new one is the same, so the page does not tell whether an account exists. Of two
    acceptances at once, exactly one wins; the other gets a Conflict."""
    record = find_open_invite(token)
    invite_id, org_id, email, role = record.id, record.organization_id, record.email, record.role
    user = find_user(email)
    if user is not None:
        if not password_guard.verify(user, password, address=address, email=email):
            raise Invalid("Wrong password", {"password": INVITE_PASSWORD})
    elif len(password) < MIN_PASSWORD_LENGTH:
        password_guard.verify(None, password, address=address, email=email)  # spends an attempt too
        raise Invalid("Wrong password", {"password": INVITE_PASSWORD})
    db.session.rollback()  # the claim starts the transaction, so SQLite takes its write lock first
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Invite)
        .where(Invite.id == invite_id, Invite.accepted_at.is_(None), Invite.revoked_at.is_(None),
               Invite.expires_at > now)
        .values(accepted_at=now)
    ).rowcount  # fmt: skip
    if claimed != 1:
        db.session.rollback()
        raise Conflict("This invite has just been used or revoked. Log in, or ask for a new link.")
    try:
        user = find_user(email)
        if user is None:
            user = create_user(email, password, name)
            db.session.flush()
        already = db.session.execute(
            sa.select(Membership).where(Membership.organization_id == org_id, Membership.user_id == user.id)
        ).scalar_one_or_none()
        if already is None:
            db.session.add(Membership(organization_id=org_id, user_id=user.id, role=role))
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise Conflict("This account was just created by another acceptance. Log in instead.") from None
    return user


def revoke_invite(org_id: str, invite_id: str) -> Invite:
    """Revoke an open invite: its link stops working at once. Used or revoked invites are a 404."""
    record = db.session.execute(
        sa.select(Invite).where(Invite.organization_id == org_id, Invite.id == canonical_id(invite_id, "Invite"))
    ).scalar_one_or_none()
    if record is None or record.accepted_at is not None or record.revoked_at is not None:
        raise NotFound("Invite")
    record.revoked_at = utcnow()
    db.session.commit()
    return record


def _lock_organization(org_id: str) -> None:
    """Serialize membership changes of one organization until this transaction ends: a write to
    its row takes PostgreSQL's row lock, and SQLite's database write lock."""
    db.session.rollback()  # start a fresh transaction with the lock
    db.session.execute(sa.update(Organization).where(Organization.id == org_id).values(updated_at=utcnow()))


def _owner_count(org_id: str) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).where(Membership.organization_id == org_id, Membership.role == "owner")
    ).scalar_one()


def _actor_role(org_id: str, actor_id: str) -> str:
    found = db.session.execute(
        sa.select(Membership.role).where(Membership.organization_id == org_id, Membership.user_id == actor_id)
    ).scalar_one_or_none()
    if found is None:
        raise Forbidden("You are no longer a member of this organization")
    return found


def check_role_change(actor_role: str, target_role: str, new_role: str) -> None:
    """Who may give which role: owners and admins manage members; only owners give or take the
    owner role."""
    if actor_role not in ("owner", "admin"):
        raise Forbidden("Only organization owners and admins can do this")
    if new_role not in ROLES:
        raise Invalid("Unknown role", {"role": f"must be one of {', '.join(ROLES)}"})
    if "owner" in (target_role, new_role) and actor_role != "owner":
        raise Forbidden("Only owners can give or take away the owner role.")


def _check_removal(actor_role: str, target_role: str) -> None:
    if actor_role not in ("owner", "admin"):
        raise Forbidden("Only organization owners and admins can do this")
    if target_role == "owner" and actor_role != "owner":
        raise Forbidden("Only owners can remove an owner.")


def change_role(org_id: str, user_id: str, role: str, *, actor_id: str) -> Membership:
    """Give a member another role. The rules are checked with the organization locked, on the
    roles as they are then: two owners demoting each other at the same moment leave one owner."""
    membership(org_id, user_id)  # 404 before taking any lock
    _lock_organization(org_id)
    try:
        target = membership(org_id, user_id)
        check_role_change(_actor_role(org_id, actor_id), target.role, role)
        if target.role == "owner" and role != "owner" and _owner_count(org_id) <= 1:
            raise Conflict("The organization needs at least one owner")
    except Exception:
        db.session.rollback()
        raise
    target.role = role
    db.session.commit()
    return target


def remove_member(org_id: str, user_id: str, *, actor_id: str) -> None:
    """Take someone out of the organization; their sessions end. The last owner stays."""
    membership(org_id, user_id)
    _lock_organization(org_id)
    try:
        target = membership(org_id, user_id)
        _check_removal(_actor_role(org_id, actor_id), target.role)
        if target.role == "owner" and _owner_count(org_id) <= 1:
            raise Conflict("The organization needs at least one owner")
    except Exception:
        db.session.rollback()
        raise
    db.session.delete(target)
    db.session.execute(sa.update(User).where(User.id == user_id).values(session_version=User.session_version + 1))
    db.session.commit()
