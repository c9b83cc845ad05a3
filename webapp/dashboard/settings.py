"""Settings: organization name, time zone and phone region, members and roles, invites. Writes are for
owners and admins only."""

import phonenumbers
from flask import render_template

from ..errors import AppError
from ..models import ROLES
from ..schemas.org import OrganizationUpdate
from ..schemas.regional import phone_regions, time_zone_names
from ..services import destinations, keys, orgs
from .access import admin_required, membership, org_id
from .blueprint import bp
from .forms import text, validate
from .views import is_htmx, notice_oob

INVITE_ROLES = (("member", "Member"), ("admin", "Admin"), ("viewer", "Viewer (read only)"))


def settings_context(**extra) -> dict:
    current = membership()
    context = {"org": current.organization, "members": orgs.members(org_id()), "roles": ROLES,
               "invite_roles": INVITE_ROLES, "invites": [], "api_keys": [],
               "allowed_countries": destinations.allowed_countries(current.organization),
               "regional_values": {"time_zone": current.organization.time_zone,
                                   "default_phone_region": current.organization.default_phone_region},
               "time_zone_names": time_zone_names(), "phone_region_options": phone_region_options()}  # fmt: skip
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


def phone_region_options() -> list[tuple[str, str]]:
    return [(code, f"{code} (+{phonenumbers.country_code_for_region(code)})") for code in phone_regions()]


@bp.post("/settings/regional")
@admin_required
def settings_regional():
    values = {"time_zone": text("time_zone"), "default_phone_region": text("default_phone_region")}
    data, errors = validate(OrganizationUpdate, values)
    if errors:
        return section("_regional.html", 400, regional_errors=errors, regional_values=values)
    org = orgs.set_regional(org_id(), time_zone=data.time_zone, default_phone_region=data.default_phone_region)
    return section("_regional.html", notice=f"Time zone {org.time_zone}; numbers without a country "
                                            f"code are read as {org.default_phone_region} numbers.")  # fmt: skip


@bp.post("/settings/allowed-countries")
@admin_required
def settings_allowed_countries():
    codes = [code for code in text("allowed_countries").replace(",", " ").split() if code]
    try:
        countries = destinations.set_allowed_countries(org_id(), codes)
    except AppError as exc:
        return section("_countries.html", exc.status, countries_error=exc.details.get("allowed_countries", exc.message))
    return section("_countries.html", notice=f"Calls may go to {', '.join(countries)}.")
