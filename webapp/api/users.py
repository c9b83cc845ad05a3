"""Members and invites (session auth), and the session itself."""

from flask import Blueprint
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.routing import BaseConverter

from ..identity import end_session
from ..schemas.org import InviteCreate, InviteCreatedOut, InviteOut, LoggedOutOut, RoleUpdate, SessionOut, UserOut
from ..services import accounts
from ..services import orgs as service
from ..urls import public_url
from .endpoint import endpoint
from .envelope import ok
from .orgs import organization_out
from .serialize import dump, dump_many

bp = Blueprint("users", __name__)


class UserIdConverter(BaseConverter):
    """A user id, never `invite` or `invites`: those are resources of their own, so OPTIONS and 405s
    there name only their own methods (not the member's PATCH and DELETE)."""

    regex = r"(?!invites?(?![^/]))[^/]+"


bp.record_once(lambda state: state.app.url_map.converters.setdefault("user_id", UserIdConverter))


def user_out(membership) -> dict:
    user = membership.user
    return UserOut(
        id=user.id, email=user.email, name=user.name, role=membership.role, joined_at=membership.created_at
    ).model_dump(mode="json")


@bp.get("/session")
@endpoint("Who is logged in, where, and the CSRF token for session writes", auth="session",
          response=SessionOut)  # fmt: skip
def get_session(principal):
    membership = service.membership(principal.organization_id, principal.user_id)
    return ok(
        {
            "user": {"id": current_user.id, "email": current_user.email, "name": current_user.name},
            "organization": organization_out(membership),
            "csrf_token": generate_csrf(),
        }
    )


@bp.get("/users")
@endpoint("List the organization's members", auth="session", response=UserOut, many=True)
def list_users(principal):
    return ok([user_out(m) for m in service.members(principal.organization_id)])


@bp.post("/users/invite")
@endpoint("Invite someone by email (the link is shown once)", auth="session", admin=True,
          body=InviteCreate, response=InviteCreatedOut, status=201, errors=(403, 409))  # fmt: skip
def invite_user(principal, body: InviteCreate):
    invite, token = service.invite(principal.organization_id, body.email, body.role, principal.user_id)
    link = public_url("auth.accept_invite", token=token)
    return ok({**dump(InviteOut, invite), "invite_url": link}, 201)


@bp.get("/users/invites")
@endpoint("List open invites", auth="session", admin=True, response=InviteOut, many=True)
def list_invites(principal):
    return ok(dump_many(InviteOut, service.pending_invites(principal.organization_id)))


@bp.delete("/users/invites/<invite_id>")
@endpoint("Revoke an open invite: its link stops working", auth="session", admin=True, response=InviteOut,
          errors=(403, 404))  # fmt: skip
def revoke_invite(principal, invite_id: str):
    return ok(dump(InviteOut, service.revoke_invite(principal.organization_id, invite_id)))


@bp.patch("/users/<user_id:user_id>")
@endpoint("Change a member's role (only owners give or take the owner role; one owner always stays)",
          auth="session", admin=True, body=RoleUpdate, response=UserOut, errors=(403, 404, 409))  # fmt: skip
def change_role(principal, body: RoleUpdate, user_id: str):
    membership = service.change_role(principal.organization_id, user_id, body.role, actor_id=principal.user_id)
    return ok(user_out(membership))


@bp.delete("/users/<user_id:user_id>")
@endpoint("Remove a member from the organization (their sessions end)", auth="session", admin=True,
          errors=(403, 404, 409))  # fmt: skip
def remove_member(principal, user_id: str):
    service.remove_member(principal.organization_id, user_id, actor_id=principal.user_id)
    return ok({"id": user_id, "removed": True})


@bp.post("/session/logout-everywhere")
@endpoint("Log out of all devices: every session of your account ends, this one too", auth="session",
          response=LoggedOutOut)  # fmt: skip
def logout_everywhere(principal):
    accounts.revoke_sessions(principal.user_id)
    end_session()
    return ok({"message": "Logged out of all devices"})
