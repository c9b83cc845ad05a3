"""API key authentication and key management: 401s, hashed storage, show-once, regenerate, revoke."""

import hashlib

import pytest
import sqlalchemy as sa

from tests.api.helpers import assert_error, assert_ok, assert_page

UNKNOWN_KEY = "va_" + "A" * 43


def _key_row(db, key_id: str) -> dict:
    return dict(db.session.execute(sa.text("SELECT * FROM api_keys WHERE id = :id"), {"id": key_id}).mappings().one())


@pytest.mark.parametrize(("headers", "message"), [
    ({}, "Missing API key: send Authorization: Bearer va_..."),
    ({"Authorization": "Bearer "}, "Missing API key: send Authorization: Bearer va_..."),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, "Missing API key: send Authorization: Bearer va_..."),
    ({"Authorization": "Bearer sk_live_0123456789abcdef0123456789abcdef"}, "Malformed API key"),
    ({"Authorization": "Bearer va_short"}, "Malformed API key"),
    ({"Authorization": f"Bearer {UNKNOWN_KEY}"}, "Invalid API key"),
])  # fmt: skip
def test_missing_malformed_and_unknown_keys_are_401(client, headers, message):
    error, _ = assert_error(client.get("/api/v1/agents", headers=headers), 401)
    assert error.startswith(message)


def test_the_key_is_accepted_with_any_case_of_bearer(client, tenant):
    assert_ok(client.get("/api/v1/agents", headers={"Authorization": f"bearer {tenant.key}"}), paginated=True)


def test_keys_are_stored_only_as_a_sha256_hash(client, tenant, logged_in, db):
    created = assert_ok(client.post("/api/v1/api-keys", json={"name": "CI"}, headers={"X-CSRFToken": logged_in}), 201)
    key = created["key"]
    assert key.startswith("va_") and len(key) >= 35
    row = _key_row(db, created["id"])
    assert not any(key in str(value) for value in row.values())
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert row["prefix"] == key[:11] == created["prefix"]
    assert len(row["prefix"]) == 11 and row["prefix"].startswith("va_")
    assert_ok(client.get("/api/v1/agents", headers={"Authorization": f"Bearer {key}"}), paginated=True)


def test_the_plaintext_is_shown_only_at_creation(client, tenant, logged_in):
    created = assert_ok(client.post("/api/v1/api-keys", json={"name": "Once"}, headers={"X-CSRFToken": logged_in}), 201)
    assert created["name"] == "Once" and created["revoked_at"] is None and created["last_used_at"] is None
    listed = assert_page(client.get("/api/v1/api-keys"), total=2, limit=50, offset=0, has_more=False)
    assert {k["id"] for k in listed} >= {created["id"]}
    assert all("key" not in item and "key_hash" not in item for item in listed)


def test_regenerate_invalidates_the_old_secret(client, tenant, logged_in):
    created = assert_ok(client.post("/api/v1/api-keys", json={}, headers={"X-CSRFToken": logged_in}), 201)
    old = created["key"]
    assert_ok(client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {old}"}), paginated=True)

    regenerated = assert_ok(
        client.post(f"/api/v1/api-keys/{created['id']}/regenerate", headers={"X-CSRFToken": logged_in})
    )
    new = regenerated["key"]
    assert regenerated["id"] == created["id"] and new != old and regenerated["prefix"] == new[:11]
    error, _ = assert_error(client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {old}"}), 401)
    assert error == "Invalid API key"
    assert_ok(client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {new}"}), paginated=True)


def test_revoked_keys_are_refused(client, tenant, logged_in):
    created = assert_ok(client.post("/api/v1/api-keys", json={}, headers={"X-CSRFToken": logged_in}), 201)
    revoked = assert_ok(client.delete(f"/api/v1/api-keys/{created['id']}", headers={"X-CSRFToken": logged_in}))
    assert revoked["revoked_at"] is not None and "key" not in revoked
    error, _ = assert_error(client.get("/api/v1/agents", headers={"Authorization": f"Bearer {created['key']}"}), 401)
    assert error == "This API key has been revoked"
    assert_ok(client.get("/api/v1/agents", headers={"Authorization": f"Bearer {tenant.key}"}), paginated=True)


def test_managing_an_unknown_key_is_404(client, tenant, logged_in):
    headers = {"X-CSRFToken": logged_in}
    assert_error(client.delete("/api/v1/api-keys/nope", headers=headers), 404)
    assert_error(client.post("/api/v1/api-keys/nope/regenerate", headers=headers), 404)


def test_key_names_are_validated(client, tenant, logged_in):
    _, details = assert_error(client.post("/api/v1/api-keys", json={"name": "x" * 101},
                                          headers={"X-CSRFToken": logged_in}), 400)  # fmt: skip
    assert list(details) == ["name"]
    _, details = assert_error(client.post("/api/v1/api-keys", json={"scopes": ["all"]},
                                          headers={"X-CSRFToken": logged_in}), 400)  # fmt: skip
    assert details == {"scopes": "is not a known field"}


def test_using_a_key_sets_last_used_at(client, tenant, logged_in, db):
    created = assert_ok(client.post("/api/v1/api-keys", json={}, headers={"X-CSRFToken": logged_in}), 201)
    assert _key_row(db, created["id"])["last_used_at"] is None
    assert_ok(client.get("/api/v1/agents", headers={"Authorization": f"Bearer {created['key']}"}), paginated=True)
    db.session.rollback()
    assert _key_row(db, created["id"])["last_used_at"] is not None
    listed = {k["id"]: k for k in assert_ok(client.get("/api/v1/api-keys"), paginated=True)}
    assert listed[created["id"]]["last_used_at"] is not None
