"""Rate limits per API key: headers on every response, a 429 envelope past the limit, and one
shared count across separate web processes (the counter lives in Redis)."""

import os
import time

import pytest
import requests

from tests.api.helpers import assert_error, assert_ok
from tests.support import ApiClient, ScopedClient, scaled

WEB_RATE_LIMIT = "10 per hour"  # for two_web_processes: however slowly a loaded machine serves, one window


@pytest.fixture(scope="module")
def limited_app(backend):
    from webapp import create_app

    return create_app({"RATE_LIMIT": "5 per minute", "TESTING": True}, instance_path=backend["instance"])


def _limit_headers(response) -> tuple[int, int, int]:
    headers = response.headers
    return int(headers["X-RateLimit-Limit"]), int(headers["X-RateLimit-Remaining"]), int(headers["X-RateLimit-Reset"])


def test_create_app_takes_the_limit_from_its_config(limited_app, app):
    assert limited_app.config["RATE_LIMIT"] == "5 per minute"
    assert app.config["RATE_LIMIT"] == os.environ["RATE_LIMIT"]


def test_headers_count_down_then_429_per_key(limited_app, make_tenant):
    tenant = make_tenant()
    api = ApiClient(ScopedClient(limited_app), tenant.key)
    for remaining in (4, 3, 2, 1, 0):
        response = api.get("/agents")
        assert_ok(response, paginated=True)
        limit, left, reset = _limit_headers(response)
        assert (limit, left) == (5, remaining)
        assert time.time() < reset <= time.time() + 61

    refused = api.get("/agents")
    error, details = assert_error(refused, 429)
    assert error == "Rate limit exceeded"
    assert details == {"limit": "5 per 1 minute"}
    assert _limit_headers(refused)[:2] == (5, 0)
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert_error(api.post("/agents", json={"name": "x", "system_prompt": "y"}), 429)

    second_key = ApiClient(ScopedClient(limited_app), make_tenant().key).get("/agents")
    assert_ok(second_key, paginated=True)
    assert _limit_headers(second_key)[:2] == (5, 4)


def test_the_default_app_sends_the_headers_too(tenant):
    response = tenant.api.get("/tasks")
    limit, remaining, reset = _limit_headers(response)
    assert limit == 1000 and remaining == 999 and reset > time.time()


def test_the_limit_holds_across_two_web_processes(two_web_processes, tenant):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {tenant.key}"
    statuses = []
    for attempt in range(16):
        response = session.get(f"{two_web_processes[attempt % 2]}/api/v1/agents", timeout=scaled(30))
        assert response.headers["X-RateLimit-Limit"] == "10"
        statuses.append(response.status_code)
    assert statuses.count(200) == 10
    assert statuses.count(429) == 6
    assert statuses[:10] == [200] * 10
