"""Races on the account paths: two owners demoting each other at once, removing each other, and
many acceptances of one invite at once. Each request runs in its own thread and database session
(as under a threaded server); a barrier lines them up."""

import threading
import uuid

import sqlalchemy as sa

from tests.reliability.helpers import logged_in_client
from tests.reliability.test_roles import join_as
from tests.support import ScopedClient, csrf_from

ROUNDS = 6


def _at_once(actions) -> list:
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(index, action):
        barrier.wait()
        results[index] = action()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _owners(db, org_id: str) -> int:
    db.session.remove()
    return db.session.execute(
        sa.text("SELECT count(*) FROM memberships WHERE organization_id = :o AND role = 'owner'"), {"o": org_id}
    ).scalar_one()


def test_two_owners_demoting_each_other_at_once_leave_one_owner(app, db, tenant):
    first, first_csrf = logged_in_client(app, tenant)
    second, second_csrf = join_as(app, tenant, "admin")
    users = {u["role"]: u["id"] for u in first.get("/api/v1/users").get_json()["data"]}
    first_id, second_id = users["owner"], users["admin"]
    for _ in range(ROUNDS):
        promoted = first.patch(f"/api/v1/users/{second_id}", json={"role": "owner"}, headers=first_csrf)
        assert promoted.status_code == 200 and _owners(db, tenant.org_id) == 2
        answers = _at_once(
            [
                lambda: first.patch(f"/api/v1/users/{second_id}", json={"role": "admin"}, headers=first_csrf),
                lambda: second.patch(f"/api/v1/users/{first_id}", json={"role": "admin"}, headers=second_csrf),
            ]
        )
        statuses = sorted(answer.status_code for answer in answers)
        assert _owners(db, tenant.org_id) == 1, statuses
        assert statuses in ([200, 403], [200, 409]), [a.get_json() for a in answers]
        # Put the first owner back in charge for the next round.
        if first.get("/api/v1/organizations/current").get_json()["data"]["role"] != "owner":
            second.patch(f"/api/v1/users/{first_id}", json={"role": "owner"}, headers=second_csrf)
            second.patch(f"/api/v1/users/{second_id}", json={"role": "admin"}, headers=second_csrf)


def test_two_owners_removing_each_other_at_once_leave_one_owner(app, db, tenant):
    first, first_csrf = logged_in_client(app, tenant)
    second, second_csrf = join_as(app, tenant, "admin")
    users = {u["role"]: u["id"] for u in first.get("/api/v1/users").get_json()["data"]}
    first_id, second_id = users["owner"], users["admin"]
    assert first.patch(f"/api/v1/users/{second_id}", json={"role": "owner"}, headers=first_csrf).status_code == 200
    answers = _at_once(
        [
            lambda: first.delete(f"/api/v1/users/{second_id}", headers=first_csrf),
            lambda: second.delete(f"/api/v1/users/{first_id}", headers=second_csrf),
        ]
    )
    assert sorted(a.status_code for a in answers) in ([200, 401], [200, 403], [200, 409]), [
        a.get_json() for a in answers
    ]
    assert _owners(db, tenant.org_id) == 1


def test_the_last_owner_can_neither_step_down_nor_be_removed(app, tenant):
    owner, csrf = logged_in_client(app, tenant)
    me = owner.get("/api/v1/session").get_json()["data"]["user"]["id"]
    for answer in (
        owner.patch(f"/api/v1/users/{me}", json={"role": "admin"}, headers=csrf),
        owner.delete(f"/api/v1/users/{me}", headers=csrf),
    ):
        assert answer.status_code == 409 and "at least one owner" in answer.get_json()["error"]
    page = owner.get("/settings").get_data(as_text=True)
    form = owner.post(f"/settings/members/{me}/role", data={"role": "member", "csrf_token": csrf_from(page)})
    assert form.status_code == 409 and "at least one owner" in form.get_data(as_text=True)


def test_many_acceptances_of_one_invite_at_once_one_wins_the_rest_are_told_kindly(app, db, tenant):
    owner, csrf = logged_in_client(app, tenant)
    email = f"racer-{uuid.uuid4().hex[:6]}@example.com"
    invite = owner.post("/api/v1/users/invite", json={"email": email}, headers=csrf).get_json()["data"]
    token = invite["invite_url"].split("/invite/", 1)[1]
    browsers = [ScopedClient(app) for _ in range(5)]
    forms = [csrf_from(b.get(f"/invite/{token}").get_data(as_text=True)) for b in browsers]

    def accept(browser, form_token):
        return lambda: browser.post(
            f"/invite/{token}", data={"name": "Racer", "password": "racer-password-1", "csrf_token": form_token}
        )

    answers = _at_once([accept(b, f) for b, f in zip(browsers, forms, strict=True)])
    statuses = sorted(a.status_code for a in answers)
    assert statuses.count(302) == 1 and all(s in (302, 404, 409) for s in statuses), statuses
    for answer in answers:
        if answer.status_code == 409:
            assert "just been used" in answer.get_data(as_text=True) or "just created" in answer.get_data(as_text=True)
    db.session.remove()
    users = db.session.execute(sa.text("SELECT id FROM users WHERE email = :e"), {"e": email}).scalars().all()
    assert len(users) == 1
    memberships = db.session.execute(sa.text("SELECT count(*) FROM memberships WHERE user_id = :u"), {"u": users[0]})
    assert memberships.scalar_one() == 1
