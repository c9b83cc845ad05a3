"""Secrets at rest, session cookies and CSRF."""

import hashlib

import sqlalchemy as sa

from tests.reliability.helpers import logged_in_client
from tests.support import ScopedClient, Tenant, csrf_from


def every_stored_value(db) -> list[str]:
    """Every value of every column of every table, as text."""
    db.session.remove()
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)):
            values.extend(str(value) for value in row)
    return values


def test_api_keys_are_stored_only_as_hashes(app, db, tenant):
    browser, csrf = logged_in_client(app, tenant)
    created = browser.post("/api/v1/api-keys", json={"name": "ci"}, headers=csrf).get_json()["data"]
    regenerated = browser.post(f"/api/v1/api-keys/{created['id']}/regenerate", headers=csrf).get_json()["data"]
    plaintexts = [tenant.key, created["key"], regenerated["key"]]
    assert all(key.startswith("va_") and len(key) >= 40 for key in plaintexts)

    db.session.remove()
    rows = db.session.execute(sa.text("SELECT * FROM api_keys WHERE organization_id = :o"), {"o": tenant.org_id})
    columns = [dict(row._mapping) for row in rows]
    assert len(columns) == 2
    hashes = {row["key_hash"] for row in columns}
    assert hashes == {hashlib.sha256(key.encode()).hexdigest() for key in (tenant.key, regenerated["key"])}
    assert all(len(row["prefix"]) <= 11 for row in columns)
    stored = every_stored_value(db)
    for key in plaintexts:
        secret_part = key[len("va_") + 8 :]  # everything past the displayed prefix
        assert not any(secret_part in value for value in stored), "an API key is stored in plain text"
    listed = browser.get("/api/v1/api-keys").get_json()["data"]
    assert all("key" not in item and "key_hash" not in item for item in listed)


def session_cookie(app, tenant: Tenant) -> str:
    client = ScopedClient(app)
    page = client.get("/login").get_data(as_text=True)
    form = {"email": tenant.email, "password": tenant.password, "csrf_token": csrf_from(page)}
    response = client.post("/login", data=form)
    assert response.status_code == 302
    return next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))


def test_session_cookie_is_httponly_and_samesite_lax_and_secure_in_production(app, backend, tenant, monkeypatch):
    from webapp import create_app
    from webapp.config import config_from_env

    development = session_cookie(app, tenant)
    assert "HttpOnly" in development and "SameSite=Lax" in development and "Secure" not in development

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    secure = session_cookie(create_app({"TESTING": True}, instance_path=backend["instance"]), tenant)
    assert "Secure" in secure and "HttpOnly" in secure and "SameSite=Lax" in secure

    monkeypatch.delenv("SESSION_COOKIE_SECURE")
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("REDIS_URL", app.config["REDIS_URL"])  # production names its Redis (embedded runs too)
    production = config_from_env(backend["instance"])
    assert production.ENV_NAME == "production"
    cookie = session_cookie(create_app(production, instance_path=backend["instance"]), tenant)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_writes_without_a_valid_csrf_token_are_refused(app, db, tenant):
    browser, csrf = logged_in_client(app, tenant)
    count = "SELECT count(*) FROM api_keys WHERE organization_id = :o"
    before = db.session.execute(sa.text(count), {"o": tenant.org_id}).scalar_one()
    for headers in ({}, {"X-CSRFToken": "forged"}, {"X-CSRFToken": csrf["X-CSRFToken"][:-3] + "abc"}):
        response = browser.post("/api/v1/api-keys", json={"name": "csrf"}, headers=headers)
        assert response.status_code == 403, response.get_json()
        assert "CSRF" in response.get_json()["error"]
        renamed = browser.patch(f"/api/v1/organizations/{tenant.org_id}", json={"name": "csrf"}, headers=headers)
        assert renamed.status_code == 403
    _, other_csrf = logged_in_client(app, Tenant(app, ScopedClient(app)))  # another session's token
    assert browser.post("/api/v1/api-keys", json={"name": "csrf"}, headers=other_csrf).status_code == 403
    form = browser.post("/settings/api-keys", data={"name": "csrf"})
    assert form.status_code == 400  # the dashboard's own forms are CSRF-checked too
    db.session.remove()
    assert db.session.execute(sa.text(count), {"o": tenant.org_id}).scalar_one() == before
    assert browser.get("/api/v1/organizations/current").get_json()["data"]["name"] != "csrf"
    assert browser.post("/api/v1/api-keys", json={"name": "ok"}, headers=csrf).status_code == 201
