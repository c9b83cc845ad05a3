"""Test helpers shared by every test package (the fixtures that use them live in conftest.py)."""

import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent


_client_addresses = itertools.count(1)


class ScopedClient(FlaskClient):
    """A browser of its own: each request in its own application context, as under a real server
    (the `app` fixture's session-wide context would otherwise share `g`, with Flask-Login's cached
    user and Flask-WTF's cached CSRF token, across requests and clients), and from its own loopback
    address (the login rate limit counts per address)."""

    def __init__(self, app):
        super().__init__(app, app.response_class, use_cookies=True)
        number = next(_client_addresses)
        self.environ_base["REMOTE_ADDR"] = f"127.0.{number // 250}.{number % 250 + 1}"

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class ApiClient:
    """The Flask test client with an API key, returning (status, json body)."""

    def __init__(self, client, key: str):
        self.client = client
        self.key = key

    def request(self, method: str, path: str, json=None, headers=None, **kwargs):
        all_headers = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        response = self.client.open(f"/api/v1{path}", method=method, json=json, headers=all_headers, **kwargs)
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


class Tenant:
    """An organization with its owner and an API key."""

    def __init__(self, app, client):
        from webapp.services import keys, orgs

        suffix = uuid.uuid4().hex[:8]
        self.email = f"owner-{suffix}@example.com"
        self.password = "correct-horse-battery"
        self.org, self.owner = orgs.sign_up(org_name=f"Org {suffix}", email=self.email, password=self.password)
        self.org_id = self.org.id
        _, self.key = keys.create_key(self.org_id, "tests")
        self.api = ApiClient(client, self.key)

    def agent(self, **overrides) -> dict:
        body = {"name": "Support agent", "system_prompt": "You confirm deliveries politely.", **overrides}
        response = self.api.post("/agents", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["data"]

    def task(self, agent_id: str | None = None, **overrides) -> dict:
        body = {
            "agent_id": agent_id or self.agent()["id"],
            "name": "Call Jane",
            "to_number": "+14155550123",
            "context_data": {"customer_name": "Jane Roe", "order_id": "A-1001"},
            **overrides,
        }
        response = self.api.post("/tasks", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["data"]


def login(client, email: str, password: str) -> str:
    """Log the test client in through the real form; returns the CSRF token for session writes."""
    page = client.get("/login")
    token = _csrf_from(page.get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    session = client.get("/api/v1/session").get_json()
    return session["data"]["csrf_token"]


def _csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class WorkerProcess:
    """`python worker.py` as a real subprocess sharing the test database and Redis."""

    def __init__(self, extra_env: dict | None = None, processes: int = 1):
        self.log_path = Path(os.environ["INSTANCE_PATH"]) / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "worker.py", "--processes", str(processes)],
            cwd=ROOT, env={**os.environ, **(extra_env or {})}, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `message` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


def watch_call_socket(live: dict, *, ping: bool = False) -> tuple[list[dict], threading.Event]:
    """Connect to the call's live socket (the /calls/:id/live answer) with its session token and
    collect every message in a thread until the terminal call_status_update; `done` is then set."""
    import websocket

    messages: list[dict] = []
    done = threading.Event()

    def collect() -> None:
        ws = websocket.create_connection(f"{live['websocket_url']}?session_token={live['temp_token']}", timeout=30)
        try:
            if ping:
                ws.send(json.dumps({"type": "ping"}))
            while True:
                message = json.loads(ws.recv())
                messages.append(message)
                if message["type"] == "call_status_update" and message["data"]["status"] in ("completed", "failed"):
                    break
        finally:
            ws.close()
            done.set()

    threading.Thread(target=collect, daemon=True).start()
    return messages, done
