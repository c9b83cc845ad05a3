"""Password guessing (issue: login throttle bypassed by a junk Authorization header; unlimited
guessing through invite links): every place that checks a password counts failed attempts per
client address and per target account, whatever headers the client sends."""

import re
import uuid

import sqlalchemy as sa

from tests.reliability.helpers import logged_in_client
from tests.support import ScopedClient, Tenant, csrf_from


def _limit(app) -> int:
    return int(re.match(r"\d+", app.config["LOGIN_RATE_LIMIT"]).group())


def _login(client: ScopedClient, email: str, password: str, headers: dict | None = None):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, headers=headers or {}
    )


def test_junk_authorization_and_forwarding_headers_do_not_reset_the_login_throttle(app, tenant):
    attacker = ScopedClient(app)
    for attempt in range(_limit(app)):
        headers = {
            "Authorization": f"Bearer junk-{attempt}-{uuid.uuid4().hex}",
            "X-Forwarded-For": f"203.0.113.{attempt}",
            "X-Real-IP": f"198.51.100.{attempt}",
        }
        assert _login(attacker, tenant.email, f"guess-{attempt}", headers).status_code == 401
    headers = {"Authorization": "Bearer va_" + "x" * 43, "X-Forwarded-For": "192.0.2.77"}
    refused = _login(attacker, tenant.email, tenant.password, headers)
    assert refused.status_code == 429
    assert "Too many login attempts" in refused.get_data(as_text=True)
    assert "Set-Cookie" not in refused.headers or "session=" not in refused.headers.get("Set-Cookie", "")


def test_guesses_at_one_account_from_many_addresses_are_throttled_per_account(app, tenant, other_tenant):
    for _ in range(_limit(app)):  # every guess from a new address (each ScopedClient has its own)
        assert _login(ScopedClient(app), tenant.email, "wrong-password").status_code == 401
    assert _login(ScopedClient(app), tenant.email, tenant.password).status_code == 429
    # The account's throttle is the account's: someone else logs in from a fresh address as usual.
    assert _login(ScopedClient(app), other_tenant.email, other_tenant.password).status_code == 302


def test_unknown_accounts_get_the_same_answer_and_count_the_same(app):
    first, second = ScopedClient(app), ScopedClient(app)
    unknown = _login(first, f"nobody-{uuid.uuid4().hex[:6]}@example.com", "whatever-1")
    known_owner = Tenant(app, ScopedClient(app))
    wrong = _login(second, known_owner.email, "whatever-1")
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong email or password." in unknown.get_data(as_text=True)
    assert "Wrong email or password." in wrong.get_data(as_text=True)


def _invite(app, inviter: Tenant, email: str) -> str:
    browser, csrf = logged_in_client(app, inviter)
    created = browser.post("/api/v1/users/invite", json={"email": email, "role": "member"}, headers=csrf)
    assert created.status_code == 201, created.get_json()
    return created.get_json()["data"]["invite_url"].split("/invite/", 1)[1]


def _accept(client: ScopedClient, token: str, password: str):
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200
    return client.post(
        f"/invite/{token}",
        data={"name": "X", "password": password, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )


def test_invite_links_are_no_password_oracle(app, db, tenant, other_tenant):
    """An attacker invites the victim's email to their own org and guesses on the accept page."""
    token = _invite(app, other_tenant, tenant.email)
    attacker = ScopedClient(app)
    answers = [_accept(attacker, token, f"guess-{i}-password") for i in range(_limit(app))]
    assert all(answer.status_code == 400 for answer in answers)
    refused = _accept(attacker, token, tenant.password)
    assert refused.status_code == 429 and "Too many login attempts" in refused.get_data(as_text=True)
    # Nobody joined, and the victim's own login is throttled by the same account budget.
    db.session.remove()
    joined = db.session.execute(
        sa.text("SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = :e"),
        {"e": tenant.email},
    ).scalar_one()
    assert joined == 1
    assert _login(ScopedClient(app), tenant.email, tenant.password).status_code == 429


def _error_text(response) -> str:
    html = response.get_data(as_text=True)
    return " ".join(re.findall(r'class="field-error"[^>]*>([^<]*)<', html) + re.findall(r'role="alert">([^<]*)<', html))


def test_invite_answers_do_not_tell_whether_an_account_exists(app, tenant, other_tenant):
    existing = _accept(ScopedClient(app), _invite(app, other_tenant, tenant.email), "wrong-password-1")
    unknown_email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    new = _accept(ScopedClient(app), _invite(app, other_tenant, unknown_email), "short")
    assert existing.status_code == new.status_code == 400
    assert _error_text(existing) == _error_text(new) != ""
    assert "does not match" not in _error_text(existing).replace("does not match your account with this email, or", "")


def test_changing_a_password_checks_the_current_one_under_the_same_throttle(app, tenant):
    browser, _ = logged_in_client(app, tenant)
    for _ in range(_limit(app)):
        page = browser.get("/settings").get_data(as_text=True)
        answer = browser.post(
            "/settings/password",
            data={
                "current_password": "guess-password",
                "new_password": "new-password-123",
                "csrf_token": csrf_from(page),
            },
        )
        assert answer.status_code == 400
    page = browser.get("/settings").get_data(as_text=True)
    refused = browser.post(
        "/settings/password",
        data={"current_password": tenant.password, "new_password": "new-password-123", "csrf_token": csrf_from(page)},
    )
    assert refused.status_code == 429
    assert _login(ScopedClient(app), tenant.email, tenant.password).status_code == 429  # same account budget


def test_behind_a_trusted_proxy_the_throttle_counts_each_client_not_the_proxy(backend):
    """TRUSTED_PROXY_HOPS=1: every request comes from the proxy's address; the throttle goes by the
    address the proxy forwarded, so one guesser behind it does not lock out everyone else."""
    from webapp import create_app

    proxied = create_app({"TESTING": True, "TRUSTED_PROXY_HOPS": 1}, instance_path=backend["instance"])
    with proxied.app_context():
        owner = Tenant(proxied, ScopedClient(proxied))
        guesser, colleague = ScopedClient(proxied), ScopedClient(proxied)
        for client in (guesser, colleague):
            client.environ_base["REMOTE_ADDR"] = "10.9.8.7"  # the proxy
        guesser_address = {"X-Forwarded-For": f"203.0.113.{uuid.uuid4().int % 250 + 1}"}
        for attempt in range(_limit(proxied)):  # unknown accounts: only the address's count rises
            unknown = f"nobody-{attempt}-{uuid.uuid4().hex[:6]}@example.com"
            assert _login(guesser, unknown, "whatever-1", guesser_address).status_code == 401
        assert _login(guesser, owner.email, owner.password, guesser_address).status_code == 429
        colleague_address = {"X-Forwarded-For": "198.51.100.20"}
        assert _login(colleague, owner.email, owner.password, colleague_address).status_code == 302
