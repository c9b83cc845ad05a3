"""Clients for in-process requests that behave like separate browsers under a real server."""

import itertools

from flask.testing import FlaskClient

from tests.support import Tenant, _csrf_from

_addresses = itertools.count(1)


class ScopedClient(FlaskClient):
    """Each request in its own application context (the `app` fixture's session-wide context would
    share `g`, and with it Flask-WTF's cached CSRF token, across clients), from its own address (the
    login rate limit counts per address)."""

    def __init__(self, app):
        super().__init__(app, app.response_class, use_cookies=True)
        number = next(_addresses)
        self.environ_base["REMOTE_ADDR"] = f"10.77.{number // 250}.{number % 250 + 1}"

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def logged_in_client(app, tenant: Tenant) -> tuple[ScopedClient, dict]:
    """A client logged in through the real form as the tenant's owner, and the CSRF header to send."""
    client = ScopedClient(app)
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"email": tenant.email, "password": tenant.password,
                                           "csrf_token": _csrf_from(page)})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    token = client.get("/api/v1/session").get_json()["data"]["csrf_token"]
    return client, {"X-CSRFToken": token}
