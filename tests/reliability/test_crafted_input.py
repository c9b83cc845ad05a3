"""Input that must be refused, not reinterpreted: ids are exactly canonical UUIDs, huge numbers in
headers and query strings are 4xx, and JSON bodies are read strictly (media type, duplicate keys,
non-finite numbers, no type coercion). None of it answers 5xx or stores a row."""

import pytest
import sqlalchemy as sa

from tests.api.helpers import COMPLETED_NUMBER, execute, wait_for_end
from tests.reliability.helpers import logged_in_client


def _rows(db, org_id: str) -> dict:
    db.session.remove()
    return {
        table: db.session.execute(
            sa.text(f"SELECT count(*) FROM {table} WHERE organization_id = :o"),  # noqa: S608
            {"o": org_id},
        ).scalar_one()
        for table in ("agents", "tasks", "calls")
    }


def _mangled(real_id: str) -> list[str]:
    return [
        f"{real_id}-junk",
        f"{real_id}%00",
        real_id + "a" * 5000,
        real_id.upper(),
        f" {real_id}",
        real_id.replace("-", ""),
        f"{{{real_id}}}",
        real_id[:-1],
        f"{real_id}%20",
    ]


def test_ids_are_exactly_canonical_uuids_or_404(app, tenant):
    agent = tenant.agent()
    task = tenant.task(agent["id"])
    browser, csrf = logged_in_client(app, tenant)
    key_id = browser.get("/api/v1/api-keys").get_json()["data"][0]["id"]
    for real, paths in (
        (agent["id"], ["/api/v1/agents/{}", "/agents/{}"]),
        (task["id"], ["/api/v1/tasks/{}", "/api/v1/tasks/{}/execute", "/tasks/{}"]),
        (tenant.org_id, ["/api/v1/organizations/{}"]),
    ):
        for path in paths:
            client = tenant.api if path.startswith("/api/v1/agents") or path.startswith("/api/v1/tasks") else None
            for bad in _mangled(real):
                url = path.format(bad)
                if client is not None:
                    method = "POST" if url.endswith("/execute") else "GET"
                    answer = client.request(method, url.removeprefix("/api/v1"))
                else:
                    answer = browser.get(url)
                assert answer.status_code == 404, (url[:120], answer.status_code)
    assert browser.delete(f"/api/v1/api-keys/{key_id}-junk", headers=csrf).status_code == 404
    assert tenant.api.get(f"/agents/{agent['id']}").status_code == 200  # the real one still resolves
    assert tenant.api.get(f"/tasks/{task['id']}").get_json()["data"]["status"] == "pending"  # nothing executed


def test_a_huge_page_number_is_a_4xx(app, tenant):
    browser, _ = logged_in_client(app, tenant)
    for path in ("/tasks", "/calls", "/agents"):
        answer = browser.get(path, query_string={"page": "9" * 25})
        assert 400 <= answer.status_code < 500, (path, answer.status_code)
        assert browser.get(path, query_string={"page": "2"}).status_code == 200


@pytest.fixture
def finished_call(tenant, worker) -> str:
    agent = tenant.agent()
    call_id = execute(tenant, tenant.task(agent["id"], to_number=COMPLETED_NUMBER)["id"])
    wait_for_end(tenant, call_id)
    return call_id


def test_unsatisfiable_ranges_are_416_and_malformed_ones_400_in_the_envelope(tenant, finished_call):
    from tests.support import wait_until

    url = f"/calls/{finished_call}/recording/stream"
    wait_until(lambda: tenant.api.get(url).status_code == 200, timeout=60, message="the recording")
    for header in (
        "bytes=" + "9" * 5000 + "-",
        "bytes=0-" + "1" * 5000,
        "bytes=-" + "7" * 5000,
        "bytes=99999999999-",
        "bytes=-0",
    ):
        answer = tenant.api.get(url, headers={"Range": header})
        assert answer.status_code == 416, (header[:30], answer.status_code)
        body = answer.get_json()
        assert body["success"] is False and body["error"] == "Range not satisfiable" and "request_id" in body["meta"]
        assert answer.headers["Content-Range"].startswith("bytes */")
    for header in ("bytes=abc", "items=0-1", "bytes=0-1,5-9", "bytes=-"):  # not the documented pattern
        answer = tenant.api.get(url, headers={"Range": header})
        assert answer.status_code == 400, (header, answer.status_code)
        assert answer.get_json()["error"] == "Malformed Range header"
    for header in ("", "bytes=5-2"):  # no range, or not one (its end before its start): the whole file
        assert tenant.api.get(url, headers={"Range": header}).status_code == 200
    assert tenant.api.get(url, headers={"Range": "bytes=0-9"}).status_code == 206


AGENT = {"name": "Strict", "system_prompt": "You confirm deliveries."}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"name": "Strict", "system_prompt": "x"}'),
        ("application/x-www-form-urlencoded", b"name=Strict&system_prompt=x"),
        ("application/xml", b"<agent><name>Strict</name></agent>"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nStrict\r\n--x--\r\n',
        ),
        (None, b'{"name": "Strict", "system_prompt": "x"}'),
    ],
)
def test_bodies_that_are_not_declared_json_are_415(db, tenant, content_type, body):
    headers = {"Content-Type": content_type} if content_type else {}
    before = _rows(db, tenant.org_id)
    answer = tenant.api.client.post(
        "/api/v1/agents", data=body, headers={"Authorization": f"Bearer {tenant.key}", **headers}
    )
    assert answer.status_code == 415, answer.get_json()
    assert answer.get_json()["success"] is False
    assert _rows(db, tenant.org_id) == before


def _raw(tenant, path: str, raw: str):
    return tenant.api.client.post(
        f"/api/v1{path}",
        data=raw.encode(),
        headers={"Authorization": f"Bearer {tenant.key}", "Content-Type": "application/json"},
    )


def test_duplicate_keys_and_non_finite_numbers_are_400(db, tenant):
    before = _rows(db, tenant.org_id)
    for raw in (
        '{"name": "a", "name": "b", "system_prompt": "x"}',
        '{"name": "a", "system_prompt": "x", "voice_settings": {"speed": 1.0, "speed": 1.1}}',
        '{"name": "a", "system_prompt": "x", "voice_settings": {"stability": 1e309}}',
        '{"name": "a", "system_prompt": "x", "voice_settings": {"stability": -1e400}}',
        '{"name": "a", "system_prompt": "x", "voice_settings": {"stability": NaN}}',
    ):
        answer = _raw(tenant, "/agents", raw)
        assert answer.status_code == 400, (raw, answer.get_json())
    assert _rows(db, tenant.org_id) == before


def test_no_type_coercion_in_the_api(db, tenant):
    agent = tenant.agent()
    task = {"agent_id": agent["id"], "name": "Coerce", "to_number": "+14155550123"}
    before = _rows(db, tenant.org_id)
    cases = [
        ("/agents", {**AGENT, "voice_settings": {"use_speaker_boost": "yes"}}, "voice_settings.use_speaker_boost"),
        ("/agents", {**AGENT, "voice_settings": {"stability": "0.5"}}, "voice_settings.stability"),
        ("/tasks", {**task, "priority": "5"}, "priority"),
        ("/tasks", {**task, "scheduled_at": 0}, "scheduled_at"),
        ("/tasks", {**task, "scheduled_at": 1900000000}, "scheduled_at"),
        ("/tasks", {**task, "name": 5}, "name"),
    ]
    for path, body, field in cases:
        answer = tenant.api.post(path, json=body)
        assert answer.status_code == 400, (body, answer.get_json())
        assert field in answer.get_json()["details"], answer.get_json()
    assert _rows(db, tenant.org_id) == before
    assert (
        tenant.api.post("/tasks", json={**task, "priority": 5, "scheduled_at": "2031-01-01T09:00:00Z"}).status_code
        == 201
    )
