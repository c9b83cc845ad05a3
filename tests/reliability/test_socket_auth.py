"""Live transcript socket authentication over a real WebSocket: every refused credential gets an
`error` message and then the server closes the socket."""

import json
import time

import pytest
import websocket
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.support import ScopedClient, Tenant, scaled, wait_until

SALT = "live-call-socket"  # webapp.services.live signs socket tokens with this salt


class SignerFromAnHourAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 3600


@pytest.fixture(scope="module")
def calls(app, worker):
    """Two organizations; the first with two finished calls, the second with one."""
    first, second = Tenant(app, ScopedClient(app)), Tenant(app, ScopedClient(app))
    ids = {}
    for name, tenant in (("first", first), ("first_again", first), ("second", second)):
        task = tenant.task()
        ids[name] = tenant.api.post(f"/tasks/{task['id']}/execute").get_json()["data"]["call_id"]
    for name, tenant in (("first", first), ("first_again", first), ("second", second)):
        wait_until(lambda t=tenant, c=ids[name]: t.api.get(f"/calls/{c}").get_json()["data"]["report"])
    return first, second, ids


def socket_messages(live_server: str, call_id: str, query: str) -> list[dict]:
    """Every message until the server closes the socket (fails if it stays open)."""
    url = f"{live_server.replace('http', 'ws')}/ws/calls/{call_id}?{query}"
    ws = websocket.create_connection(url, timeout=scaled(30))
    messages = []
    try:
        while True:
            raw = ws.recv()
            if not raw:
                break
            messages.append(json.loads(raw))
    except websocket.WebSocketConnectionClosedException:
        pass
    finally:
        ws.close()
    return messages


def token_for(app, claims: dict, **options) -> str:
    """A socket token as the app signs them, with any claims (and itsdangerous options)."""
    return URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALT, **options).dumps(claims)


def live_token(tenant: Tenant, call_id: str) -> str:
    return tenant.api.get(f"/calls/{call_id}/live").get_json()["data"]["temp_token"]


def assert_refused(messages: list[dict], reason: str) -> None:
    """One `error` message saying `reason`, and nothing after it (the socket was closed)."""
    assert [m["type"] for m in messages] == ["error"], messages
    assert reason.lower() in messages[0]["data"]["message"].lower(), messages
    assert messages[0]["error"] == messages[0]["data"]["message"]  # the contract reads message.error


def test_own_credentials_are_accepted(live_server, calls):
    first, _, ids = calls
    for query in (f"api_key={first.key}", f"session_token={live_token(first, ids['first'])}"):
        messages = socket_messages(live_server, ids["first"], query)
        assert [m["type"] for m in messages] == ["connected", "call_status_update"], messages
        assert messages[0]["data"]["call_id"] == ids["first"] and messages[0]["data"]["transcript"]


def test_refused_credentials_get_an_error_then_the_socket_closes(app, live_server, calls):
    first, second, ids = calls
    call = ids["first"]
    refused = {
        "no credentials": ("", "API key"),
        "a malformed api key": ("api_key=nope", "Malformed API key"),
        "an unknown api key": (f"api_key=va_{'x' * 43}", "Invalid API key"),
        "another organization's api key": (f"api_key={second.key}", "not found"),
        "a token for another call": (f"session_token={live_token(first, ids['first_again'])}", "another call"),
        "another organization's token for its own call": (f"session_token={live_token(second, ids['second'])}",
                                                          "another call"),
        "a token naming another organization": (
            f"session_token={token_for(app, {'call': call, 'org': second.org_id})}", "not found"),
        "an expired token": (
            f"session_token={token_for(app, {'call': call, 'org': first.org_id}, signer=SignerFromAnHourAgo)}",
            "expired"),
        "a token signed with another key": (
            f"session_token={URLSafeTimedSerializer('guess', salt=SALT).dumps({'call': call, 'org': first.org_id})}",
            "Invalid session token"),
        "a tampered token": (f"session_token={live_token(first, call)[:-2]}xx", "Invalid session token"),
    }  # fmt: skip
    for query, reason in refused.values():
        assert_refused(socket_messages(live_server, call, query), reason)


def test_unknown_or_malformed_call_ids_are_refused_alike(live_server, calls):
    first, _, _ = calls
    for call_id in ("00000000-0000-0000-0000-000000000000", "a%00b", "%ED%A0%80", "x" * 300):
        assert_refused(socket_messages(live_server, call_id, f"api_key={first.key}"), "not found")
