"""Shared by the API tests: a production-like test client, envelope assertions, running calls."""

import re
from dataclasses import dataclass

from tests.support import wait_for_call

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
COMPLETED_NUMBER = "+14155550123"
BUSY_NUMBER = "+15005550002"


def _check_meta(response, body: dict, *, paginated: bool = False) -> dict:
    meta = body["meta"]
    expected = {"timestamp", "request_id", "pagination"} if paginated else {"timestamp", "request_id"}
    assert set(meta) == expected, meta
    assert TIMESTAMP.match(meta["timestamp"]), meta["timestamp"]
    assert meta["request_id"] and response.headers["X-Request-ID"] == meta["request_id"]
    return meta


def assert_ok(response, status: int = 200, *, paginated: bool = False):
    """The success envelope with exactly {success, data, meta}; returns data."""
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert response.mimetype == "application/json"
    assert set(body) == {"success", "data", "meta"}, body
    assert body["success"] is True
    _check_meta(response, body, paginated=paginated)
    return body["data"]


def assert_page(response, *, total: int, limit: int, offset: int, has_more: bool) -> list:
    """A list envelope whose meta.pagination is exactly what is given; returns the items."""
    items = assert_ok(response, paginated=True)
    pagination = response.get_json()["meta"]["pagination"]
    assert pagination == {"total": total, "limit": limit, "offset": offset, "has_more": has_more}
    return items


def assert_error(response, status: int) -> tuple[str, dict]:
    """The error envelope with exactly {success: false, error, details, meta}; returns (error, details)."""
    body = response.get_json()
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json"
    assert set(body) == {"success", "error", "details", "meta"}, body
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["details"], dict)
    _check_meta(response, body)
    return body["error"], body["details"]


def execute(tenant, task_id: str) -> str:
    """POST /tasks/:id/execute; returns the new call's id."""
    data = assert_ok(tenant.api.post(f"/tasks/{task_id}/execute"))
    assert set(data) == {"call_id", "message"} and data["message"] == "Call initiated"
    return data["call_id"]


def wait_for_end(tenant, call_id: str) -> dict:
    """The call (a worker is running) once it is over, finalized or not."""
    return wait_for_call(tenant, call_id, finalized=False)


def allow_countries(tenant, *countries: str) -> None:
    """Let the tenant call these countries (the default is the United States and Canada)."""
    from webapp.services import destinations

    destinations.set_allowed_countries(tenant.org_id, list(countries))


@dataclass
class FinishedCalls:
    """One organization with two agents, a completed call (first agent) and a failed one (second)."""

    tenant: object
    agent_ids: tuple[str, str]
    completed_task_id: str
    failed_task_id: str
    completed_call_id: str
    failed_call_id: str
