"""Members and invites (session auth), and the session itself."""

from flask import Blueprint
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from ..schemas.org import InviteCreate, InviteCreatedOut, InviteOut, SessionOut, UserOut
from ..services import orgs as service
from ..urls import public_url
from .endpoint import endpoint
from .envelope import ok
from .orgs import organization_out
from .serialize import dump, dump_many

bp = Blueprint("users", __name__)


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
