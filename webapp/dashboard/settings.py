"""Settings: organization name, members and roles, invites. Writes are for owners and admins only."""

from flask import render_template

from ..errors import AppError, Forbidden
from ..models import ROLES
from ..schemas.org import InviteCreate, OrganizationUpdate
from ..services import keys, orgs
from ..urls import public_url
from .access import admin_required, membership, org_id
from .blueprint import bp
from .forms import text, validate
from .views import is_htmx, notice_oob

INVITE_ROLES = (("member", "Member"), ("admin", "Admin"))


def settings_context(**extra) -> dict:
    current = membership()
    context = {"org": current.organization, "members": orgs.members(org_id()), "roles": ROLES,
               "invite_roles": INVITE_ROLES, "invites": [], "api_keys": []}  # fmt: skip
    if current.is_admin:
        context["invites"] = orgs.pending_invites(org_id())
        context["api_keys"], _ = keys.list_keys(org_id())
    return {**context, **extra}


def section(partial: str, status: int = 200, notice: str | None = None, **extra):
    """One settings section for htmx, else the whole settings page (with the section's extra state)."""
    context = settings_context(**extra)
    if is_htmx():
        body = render_template(f"dashboard/settings/{partial}", **context)
        return (body + notice_oob(notice) if notice else body), status
    return render_template("dashboard/settings/index.html", notice=notice, **context), status


@bp.get("/settings")
def settings_index():
    return render_template("dashboard/settings/index.html", **settings_context())


@bp.post("/settings/organization")
@admin_required
def settings_rename():
    data, errors = validate(OrganizationUpdate, {"name": text("name")})
    if errors:
        return section("_organization.html", 400, org_errors=errors)
    orgs.rename_organization(org_id(), data.name)
    return section("_organization.html", notice="Organization renamed.")


def _check_role_change(target_role: str, new_role: str) -> None:
    if new_role not in ROLES:
        raise AppError("Choose one of the roles owner, admin or member.")
    if "owner" in (target_role, new_role) and membership().role != "owner":
        raise Forbidden("Only owners can give or take away the owner role.")


@bp.post("/settings/members/<user_id>/role")
@admin_required
def settings_change_role(user_id: str):
    new_role = text("role")
    try:
        target = orgs.membership(org_id(), user_id)
        _check_role_change(target.role, new_role)
        orgs.change_role(org_id(), user_id, new_role)
    except AppError as exc:
        return section("_members.html", exc.status, members_error=exc.message)
    return section("_members.html", notice=f"{target.user.email} is now {new_role}.")


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
