"""Organization management (session auth)."""

from flask import Blueprint, session
from flask_login import current_user
from werkzeug.routing import BaseConverter

from ..errors import Forbidden
from ..schemas.org import (
    AllowedCountries,
    OrganizationCreate,
    OrganizationOut,
    OrganizationUpdate,
    WebhookSecretOut,
)
from ..services import destinations
from ..services import orgs as service
from .endpoint import endpoint
from .envelope import ok

bp = Blueprint("organizations", __name__, url_prefix="/organizations")


class OrgIdConverter(BaseConverter):
    """An organization id, never the word `current`: /organizations/current is its own resource,
    so OPTIONS and 405s there name only its own methods (GET)."""

    regex = r"(?!current(?![^/]))[^/]+"


bp.record_once(lambda state: state.app.url_map.converters.setdefault("org_id", OrgIdConverter))


def organization_out(membership) -> dict:
    org = membership.organization
    return OrganizationOut(
        id=org.id, name=org.name, max_concurrent_calls=org.max_concurrent_calls, time_zone=org.time_zone,
        default_phone_region=org.default_phone_region, role=membership.role, created_at=org.created_at,
    ).model_dump(mode="json")  # fmt: skip


def _admin_membership(principal, org_id: str):
    """The caller's membership in `org_id`: 404 if they are not in it, 403 if not an admin."""
    membership = service.membership(org_id, principal.user_id)
    if not membership.is_admin:
        raise Forbidden("Only organization owners and admins can do this")
    return membership


@bp.get("")
@endpoint("List your organizations", auth="session", response=OrganizationOut, many=True)
def list_organizations(principal):
    return ok([organization_out(m) for m in service.memberships_of(principal.user_id)])


@bp.post("")
@endpoint("Create an organization (you become its owner)", auth="session",
          body=OrganizationCreate, response=OrganizationOut, status=201)  # fmt: skip
def create_organization(principal, body: OrganizationCreate):
    org = service.create_organization(body.name, current_user)
    session["org_id"] = org.id
    return ok(organization_out(service.membership(org.id, principal.user_id)), 201)


@bp.get("/current")
@endpoint("The organization you are working in", auth="session", response=OrganizationOut)
def current_organization(principal):
    return ok(organization_out(service.membership(principal.organization_id, principal.user_id)))


@bp.get("/<org_id:org_id>")
@endpoint("Get an organization", auth="session", response=OrganizationOut, errors=(404,))
def get_organization(principal, org_id: str):
    return ok(organization_out(service.membership(org_id, principal.user_id)))


@bp.patch("/<org_id:org_id>")
@endpoint("Rename an organization, or change its concurrent-call cap, time zone or default phone region",
          auth="session", body=OrganizationUpdate, response=OrganizationOut, errors=(403, 404))  # fmt: skip
def update_organization(principal, body: OrganizationUpdate, org_id: str):
    membership = _admin_membership(principal, org_id)
    if body.name is not None:
        service.rename_organization(org_id, body.name)
    if body.max_concurrent_calls is not None:
        service.set_max_concurrent_calls(org_id, body.max_concurrent_calls)
    if body.time_zone is not None or body.default_phone_region is not None:
        service.set_regional(org_id, time_zone=body.time_zone, default_phone_region=body.default_phone_region)
    return ok(organization_out(membership))


@bp.post("/<org_id:org_id>/switch")
@endpoint("Work in another of your organizations", auth="session", response=OrganizationOut,
          errors=(404,))  # fmt: skip
def switch_organization(principal, org_id: str):
    membership = service.membership(org_id, principal.user_id)
    session["org_id"] = org_id
    return ok(organization_out(membership))


@bp.get("/<org_id:org_id>/webhook-secret")
@endpoint("Reveal the webhook signing secret", auth="session", response=WebhookSecretOut,
          errors=(403, 404))  # fmt: skip
def get_webhook_secret(principal, org_id: str):
    membership = _admin_membership(principal, org_id)
    return ok({"webhook_secret": membership.organization.webhook_secret})


@bp.post("/<org_id:org_id>/webhook-secret/rotate")
@endpoint("Rotate the webhook signing secret", auth="session", response=WebhookSecretOut,
          errors=(403, 404))  # fmt: skip
def rotate_webhook_secret(principal, org_id: str):
    _admin_membership(principal, org_id)
    return ok({"webhook_secret": service.rotate_webhook_secret(org_id)})


@bp.get("/<org_id>/allowed-countries")
@endpoint("Countries calls may go to (the default: the caller number's country)", auth="session",
          response=AllowedCountries, errors=(404,))  # fmt: skip
def get_allowed_countries(principal, org_id: str):
    membership = service.membership(org_id, principal.user_id)
    return ok({"allowed_countries": list(destinations.allowed_countries(membership.organization))})


@bp.put("/<org_id>/allowed-countries")
@endpoint("Set the countries calls may go to", auth="session", body=AllowedCountries,
          response=AllowedCountries, errors=(403, 404))  # fmt: skip
def set_allowed_countries(principal, body: AllowedCountries, org_id: str):
    _admin_membership(principal, org_id)
    return ok({"allowed_countries": list(destinations.set_allowed_countries(org_id, body.allowed_countries))})
