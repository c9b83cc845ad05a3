"""Settings for people: roles, removing members, invites and revoking them. Owners and admins only;
the rules themselves (who may give which role, one owner always stays) live in the org service."""

from ..errors import AppError
from ..schemas.org import InviteCreate
from ..services import orgs
from ..urls import public_url
from .access import admin_required, membership, org_id
from .blueprint import bp
from .forms import text, validate
from .settings import section


@bp.post("/settings/members/<user_id>/role")
@admin_required
def settings_change_role(user_id: str):
    new_role = text("role")
    try:
        target = orgs.change_role(org_id(), user_id, new_role, actor_id=membership().user_id)
    except AppError as exc:
        message = exc.message if not exc.details else f"Choose one of the roles {', '.join(orgs.ROLES)}."
        return section("_members.html", exc.status, members_error=message)
    return section("_members.html", notice=f"{target.user.email} is now {new_role}.")


@bp.post("/settings/members/<user_id>/remove")
@admin_required
def settings_remove_member(user_id: str):
    try:
        email = orgs.membership(org_id(), user_id).user.email
        orgs.remove_member(org_id(), user_id, actor_id=membership().user_id)
    except AppError as exc:
        return section("_members.html", exc.status, members_error=exc.message)
    return section("_members.html", notice=f"{email} was removed; their sessions have ended.")


@bp.post("/settings/invites")
@admin_required
def settings_invite():
    data, errors = validate(InviteCreate, {"email": text("email"), "role": text("role") or "member"})
    if errors:
        return section("_invites.html", 400, invite_errors=errors)
    try:
        invite, token = orgs.invite(org_id(), data.email, data.role, membership().user_id)
    except AppError as exc:
        return section("_invites.html", exc.status, invite_errors={"email": exc.message})
    link = public_url("auth.accept_invite", token=token)
    return section("_invites.html", notice=f"Invite for {invite.email} created.", invite_link=link,
                   invited_email=invite.email)  # fmt: skip


@bp.post("/settings/invites/<invite_id>/revoke")
@admin_required
def settings_revoke_invite(invite_id: str):
    try:
        invite = orgs.revoke_invite(org_id(), invite_id)
    except AppError as exc:
        return section("_invites.html", exc.status, invite_errors={"form": exc.message})
    return section("_invites.html", notice=f"Invite for {invite.email} revoked: its link no longer works.")
