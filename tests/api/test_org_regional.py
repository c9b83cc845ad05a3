"""An organization's time zone and default phone region through the session API: defaults, valid
and invalid values (400 naming the field), and no one outside the organization's admins changes them."""

import uuid

import pytest

from tests.api.helpers import assert_error, assert_ok
from tests.support import ScopedClient, login


def _person_with_role(app, tenant, role: str) -> tuple[ScopedClient, dict]:
    """A logged-in client of a new account that has `role` in the tenant's organization."""
    from webapp.extensions import db
    from webapp.models import Membership
    from webapp.services import orgs

    email, password = f"{role}-{uuid.uuid4().hex[:8]}@example.com", "a-long-password-1"
    user = orgs.create_user(email, password)
    db.session.flush()
    db.session.add(Membership(organization_id=tenant.org_id, user_id=user.id, role=role))
    db.session.commit()
    client = ScopedClient(app)
    return client, {"X-CSRFToken": login(client, email, password)}


def test_organizations_start_in_utc_with_us_numbers(client, tenant, logged_in):
    current = assert_ok(client.get("/api/v1/organizations/current"))
    assert (current["time_zone"], current["default_phone_region"]) == ("UTC", "US")
    assert assert_ok(client.get("/api/v1/session"))["organization"]["time_zone"] == "UTC"


def test_owners_set_the_zone_and_region_in_any_case(client, tenant, logged_in):
    path = f"/api/v1/organizations/{tenant.org_id}"
    changed = assert_ok(client.patch(path, json={"time_zone": "europe/london", "default_phone_region": "gb"},
                                     headers={"X-CSRFToken": logged_in}))  # fmt: skip
    assert (changed["time_zone"], changed["default_phone_region"]) == ("Europe/London", "GB")
    assert changed["name"] == tenant.org.name and changed["max_concurrent_calls"] == 10
    only_zone = assert_ok(client.patch(path, json={"time_zone": "Asia/Tokyo"}, headers={"X-CSRFToken": logged_in}))
    assert (only_zone["time_zone"], only_zone["default_phone_region"]) == ("Asia/Tokyo", "GB")
    listed = {org["id"]: org for org in assert_ok(client.get("/api/v1/organizations"))}
    assert listed[tenant.org_id]["time_zone"] == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "localtime"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
        ({"time_zone": "Europe/London\u0000"}, "time_zone"),
        ({"time_zone": 1}, "time_zone"),
        ({"default_phone_region": "UK"}, "default_phone_region"),  # the ISO code is GB
        ({"default_phone_region": "001"}, "default_phone_region"),  # non-geographic numbers
        ({"default_phone_region": "USA"}, "default_phone_region"),
        ({"default_phone_region": ["US"]}, "default_phone_region"),
    ],
)
def test_unknown_zones_and_regions_are_400s_naming_the_field(client, tenant, logged_in, body, field):
    path = f"/api/v1/organizations/{tenant.org_id}"
    error, details = assert_error(client.patch(path, json=body, headers={"X-CSRFToken": logged_in}), 400)
    assert error == "Validation failed" and list(details) == [field]
    current = assert_ok(client.get(path))
    assert (current["time_zone"], current["default_phone_region"]) == ("UTC", "US")


def test_another_organization_can_neither_see_nor_change_them(client, tenant, other_tenant, logged_in):
    path = f"/api/v1/organizations/{other_tenant.org_id}"
    assert_error(client.get(path), 404)
    body = {"time_zone": "Asia/Tokyo", "default_phone_region": "JP"}
    assert_error(client.patch(path, json=body, headers={"X-CSRFToken": logged_in}), 404)
    from webapp.extensions import db
    from webapp.models import Organization

    db.session.remove()
    other = db.session.get(Organization, other_tenant.org_id)
    assert (other.time_zone, other.default_phone_region) == ("UTC", "US")


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_read_them_but_only_admins_change_them(app, tenant, role):
    person, csrf = _person_with_role(app, tenant, role)
    path = f"/api/v1/organizations/{tenant.org_id}"
    assert assert_ok(person.get(path))["time_zone"] == "UTC"
    error, _ = assert_error(person.patch(path, json={"time_zone": "Asia/Tokyo"}, headers=csrf), 403)
    assert error == "Only organization owners and admins can do this"
    admin, admin_csrf = _person_with_role(app, tenant, "admin")
    assert assert_ok(admin.patch(path, json={"time_zone": "Asia/Tokyo"}, headers=admin_csrf))["time_zone"] == (
        "Asia/Tokyo"
    )


def test_the_openapi_document_describes_both_fields(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    update = schemas["OrganizationUpdate"]["properties"]
    assert {"time_zone", "default_phone_region"} <= set(update)
    assert "required" not in schemas["OrganizationUpdate"] or not (
        {"time_zone", "default_phone_region"} & set(schemas["OrganizationUpdate"]["required"])
    )
    assert {"time_zone", "default_phone_region"} <= set(schemas["OrganizationOut"]["properties"])


def test_a_viewer_reads_the_session_endpoints_and_changes_nothing_there(app, tenant):
    """What docs/api.md says a viewer may do through the session API, and nothing more."""
    viewer, csrf = _person_with_role(app, tenant, "viewer")
    org = f"/api/v1/organizations/{tenant.org_id}"
    for path in ("/api/v1/session", "/api/v1/users", "/api/v1/organizations", "/api/v1/organizations/current", org,
                 f"{org}/allowed-countries"):  # fmt: skip
        assert viewer.get(path).status_code == 200, path
    refused = [
        ("PATCH", org, {"name": "Mine"}),
        ("PUT", f"{org}/allowed-countries", {"allowed_countries": ["GB"]}),
        ("GET", f"{org}/webhook-secret", None),
        ("POST", f"{org}/webhook-secret/rotate", None),
        ("GET", "/api/v1/api-keys", None),
        ("POST", "/api/v1/api-keys", {"name": "k"}),
        ("POST", "/api/v1/users/invite", {"email": "x@example.com"}),
        ("GET", "/api/v1/users/invites", None),
    ]
    for method, path, body in refused:
        error, _ = assert_error(viewer.open(path, method=method, json=body, headers=csrf), 403)
        assert error == "Only organization owners and admins can do this", (method, path)
    assert_error(viewer.get("/api/v1/agents"), 401)  # API-key endpoints take no session
    own = assert_ok(viewer.post("/api/v1/organizations", json={"name": "Viewer's own"}, headers=csrf), 201)
    assert own["role"] == "owner" and own["time_zone"] == "UTC"
    assert_ok(viewer.post(f"{org}/switch", headers=csrf))
    assert assert_ok(viewer.get("/api/v1/session"))["organization"]["role"] == "viewer"


def test_the_overview_counts_days_in_the_organizations_zone(tenant, db):
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from webapp.models import Call
    from webapp.services import stats

    task = tenant.task()
    placed = datetime.now(UTC) - timedelta(minutes=1)
    call = Call(organization_id=tenant.org_id, task_id=task["id"], agent_id=task["agent_id"],
                to_number=task["to_number"], status="completed", provider="simulated", created_at=placed)  # fmt: skip
    db.session.add(call)
    db.session.commit()
    # 14 hours ahead of UTC and 11 behind: the call's day differs between them most of the time.
    for name in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"):
        days = stats.calls_per_day(tenant.org_id, time_zone=name)
        counted = {day: sum(series.values()) for day, series in days if series}
        assert counted == {placed.astimezone(ZoneInfo(name)).date(): 1}, name
        assert days[-1][0] == datetime.now(ZoneInfo(name)).date()
