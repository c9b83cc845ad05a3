"""Clients for in-process requests that behave like separate browsers under a real server."""

from tests.support import ScopedClient, Tenant, csrf_from


def logged_in_client(app, tenant: Tenant) -> tuple[ScopedClient, dict]:
    """A client logged in through the real form as the tenant's owner, and the CSRF header to send."""
    client = ScopedClient(app)
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"email": tenant.email, "password": tenant.password,
                                           "csrf_token": csrf_from(page)})  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    token = client.get("/api/v1/session").get_json()["data"]["csrf_token"]
    return client, {"X-CSRFToken": token}
