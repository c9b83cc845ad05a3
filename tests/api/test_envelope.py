"""The response envelope on every kind of path: success, validation, routing, size, request ids."""

import json
import uuid

import pytest

from tests.api.helpers import assert_error, assert_ok

ONE_MIB = 1024 * 1024


def test_success_envelope_has_exactly_success_data_meta(tenant):
    agent = tenant.agent()
    data = assert_ok(tenant.api.get(f"/agents/{agent['id']}"))
    assert data["id"] == agent["id"]


def test_list_envelope_adds_pagination_to_meta(tenant):
    tenant.agent()
    response = tenant.api.get("/agents")
    assert_ok(response, paginated=True)
    assert response.get_json()["meta"]["pagination"]["total"] == 1


def test_malformed_json_is_a_400_envelope(tenant):
    response = tenant.api.post("/agents", data='{"name": "x", ', content_type="application/json")
    error, details = assert_error(response, 400)
    assert error == "Malformed JSON body"
    assert "body" in details


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_constants_are_malformed(tenant, constant):
    body = '{"agent_id": "a", "name": "x", "to_number": "+14155550123", "context_data": {"x": ' + constant + "}}"
    error, details = assert_error(tenant.api.post("/tasks", data=body, content_type="application/json"), 400)
    assert error == "Malformed JSON body"
    assert details == {"body": f"{constant} is not valid JSON"}


def test_absurdly_nested_json_is_malformed_not_a_crash(tenant):
    body = '{"name": ' + "[" * 50_000 + "]" * 50_000 + "}"
    error, _ = assert_error(tenant.api.post("/agents", data=body, content_type="application/json"), 400)
    assert error == "Malformed JSON body"


@pytest.mark.parametrize("payload", [[{"name": "x", "system_prompt": "y"}], "just a string", 42, None])
def test_a_json_body_that_is_not_an_object_is_a_400(tenant, payload):
    response = tenant.api.post("/agents", data=json.dumps(payload), content_type="application/json")
    error, details = assert_error(response, 400)
    assert error == "JSON body must be an object"
    assert details == {"body": type(payload).__name__}


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing", "/api/v1/agents/x/y/z", "/api/v1"])
def test_unknown_route_under_the_api_is_a_404_envelope(client, path):
    error, _ = assert_error(client.get(path), 404)
    assert error == "Not found"


def test_unknown_route_outside_the_api_is_not_an_envelope(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/api/v1/agents", ["GET", "HEAD", "OPTIONS", "POST"]),
    ("PUT", "/api/v1/tasks/some-id", ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH"]),
    ("GET", "/api/v1/tasks/some-id/execute", ["OPTIONS", "POST"]),
    ("PATCH", "/api/v1/users/invites", ["GET", "HEAD", "OPTIONS"]),  # not a member's id
    ("DELETE", "/api/v1/users/invite", ["OPTIONS", "POST"]),
])  # fmt: skip
def test_wrong_method_is_a_405_envelope_naming_the_allowed_methods(client, method, path, allowed):
    response = client.open(path, method=method)
    error, details = assert_error(response, 405)
    assert error == "Method not allowed"
    assert details == {"allowed_methods": allowed}
    assert sorted(m.strip() for m in response.headers["Allow"].split(",")) == allowed


def test_body_over_one_mib_is_a_413_envelope(app, tenant):
    assert app.config["MAX_CONTENT_LENGTH"] == ONE_MIB
    padding = "x" * ONE_MIB
    response = tenant.api.post("/agents", data=json.dumps({"name": "big", "system_prompt": padding}),
                               content_type="application/json")  # fmt: skip
    error, details = assert_error(response, 413)
    assert error == "Request body too large"
    assert details == {"max_bytes": ONE_MIB}
    assert tenant.api.get("/agents").get_json()["meta"]["pagination"]["total"] == 0


def test_body_just_under_the_limit_reaches_validation(tenant):
    response = tenant.api.post("/agents", data=json.dumps({"name": "big", "system_prompt": "x" * (ONE_MIB - 100)}),
                               content_type="application/json")  # fmt: skip
    _, details = assert_error(response, 400)
    assert "system_prompt" in details


def test_each_response_gets_its_own_request_id(tenant):
    first = tenant.api.get("/agents")
    second = tenant.api.get("/agents")
    ids = {first.headers["X-Request-ID"], second.headers["X-Request-ID"]}
    assert len(ids) == 2
    assert all(uuid.UUID(value) for value in ids)


@pytest.mark.parametrize("incoming", ["trace-1234abcd", "0f8fad5b-d9cb-469f-a165-70867728950e", "svc.a_b-c.123"])
def test_a_sane_incoming_request_id_is_echoed(tenant, incoming):
    response = tenant.api.get("/agents", headers={"X-Request-ID": incoming})
    assert_ok(response, paginated=True)
    assert response.get_json()["meta"]["request_id"] == incoming


@pytest.mark.parametrize("incoming", ["short", "has spaces in it", "x" * 65, "<script>alert(1)</script>"])
def test_an_insane_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/api/v1/agents", headers={"X-Request-ID": incoming})
    assert_error(response, 401)
    assert response.headers["X-Request-ID"] != incoming
    assert uuid.UUID(response.headers["X-Request-ID"])


def test_error_envelope_echoes_the_incoming_request_id(client):
    response = client.get("/api/v1/calls/nope", headers={"X-Request-ID": "req-abcdef-42"})
    assert_error(response, 401)
    assert response.get_json()["meta"]["request_id"] == "req-abcdef-42"
