"""Contract fuzzing: schemathesis generates valid and invalid requests for every operation in the
live server's /api/v1/openapi.json and checks each answer against that document.

Nothing is excluded: API-key operations run with a key of a seeded organization, session
operations with the cookie of a real form login and its X-CSRFToken,
and the binary recording stream is checked for its documented audio/JSON content types. Path
ids are sometimes swapped for real ones (an agent, a pending task, a finished call with its
recording, an active call, a key, the organization) so the success paths are fuzzed too, not
only the 404s. Security parameters are not generated: missing and bad credentials have their
own tests (test_isolation.py).
"""

import itertools
import uuid

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import FailureGroup

from tests.reliability.helpers import logged_in_client
from tests.support import ScopedClient, Tenant, scaled, wait_until
from webapp.services import keys

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
FUZZ_SETTINGS = settings(
    max_examples=25,  # per operation: the ~40 operations take 15-30 s
    deadline=None,
    derandomize=True,  # the same examples on every run, so a CI failure reproduces
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
VALID_NUMBER = "+14155550123"
_fresh_numbers = itertools.count(1000)


def fresh_number() -> str:
    """A valid number no do-not-call entry of this run uses yet."""
    return f"+1212555{next(_fresh_numbers):04d}"


def browser_session(app, tenant: Tenant) -> requests.Session:
    """A requests session carrying the cookie of a real form login (done in-process, from an address
    of its own, so the per-address login limit shared with other tests never interferes)."""
    client, csrf = logged_in_client(app, tenant)
    session = requests.Session()
    session.cookies.set("session", client.get_cookie("session").value, domain="127.0.0.1")
    session.headers.update(csrf)
    return session


def finished_call(tenant: Tenant) -> tuple[dict, str]:
    task = tenant.task()
    call_id = tenant.api.post(f"/tasks/{task['id']}/execute").get_json()["data"]["call_id"]
    wait_until(
        lambda: tenant.api.get(f"/calls/{call_id}/recording").status_code == 200, message="call finalized with audio"
    )
    return task, call_id


# Operations that end the session or change what the organization may do run as an organization of
# their own, so they don't starve the operations fuzzed after them.
ISOLATED = {
    "POST /api/v1/session/logout-everywhere",
    "PUT /api/v1/organizations/{org_id}/allowed-countries",
    "PATCH /api/v1/users/{user_id}",
    "DELETE /api/v1/users/{user_id}",
}


def member_of(tenant: Tenant) -> str:
    """A second member of the tenant's organization (someone to demote or remove); their user id."""
    from webapp.services import orgs

    _, token = orgs.invite(tenant.org_id, f"member-{uuid.uuid4().hex[:8]}@example.com", "member", tenant.owner.id)
    return orgs.accept_invite(token, name="Member", password="member-password-1").id


def real_ids_for(operation, tenant: Tenant, finished: tuple[dict, str]) -> dict[str, list]:
    """Fresh resources for one operation, so one operation's deletes don't starve the next."""
    from webapp.services import orgs

    done_task, done_call_id = finished
    agent = tenant.agent()
    task = tenant.task(agent["id"])
    ids = {
        "agent_id": [agent["id"], tenant.agent()["id"]],  # the second has no tasks, so it can be deleted
        "task_id": [task["id"], done_task["id"]],
        "call_id": [done_call_id],
        "key_id": [keys.create_key(tenant.org_id, "fuzzed")[0].id],
        "org_id": [tenant.org_id],
        "to_number": [VALID_NUMBER],
        "allowed_countries": [["US", "CA"]],
        "user_id": [member_of(tenant)] if "{user_id}" in operation.path else [],
        "invite_id": [
            orgs.invite(tenant.org_id, f"i-{uuid.uuid4().hex[:8]}@example.com", "member", tenant.owner.id)[0].id
        ]
        if "{invite_id}" in operation.path
        else [],
    }
    campaign = tenant.api.post(
        "/campaigns", json={"name": "Fuzzed", "agent_id": agent["id"], "tasks": [{"to_number": VALID_NUMBER}]}
    ).get_json()["data"]
    entry = tenant.api.post("/dnc", json={"number": fresh_number()}).get_json()["data"]
    ids |= {"campaign_id": [campaign["id"]], "entry": [entry["id"], entry["number"]], "number": [fresh_number()]}
    if "{call_id}" in operation.path:
        active = tenant.task(agent["id"])
        ids["call_id"].append(tenant.api.post(f"/tasks/{active['id']}/execute").get_json()["data"]["call_id"])
    return ids


def with_real_values(case, picks: dict):
    """Swap generated path ids, and body agent_id/to_number/number/allowed_countries, for real ones
    where a pick says so; give each case an Idempotency-Key of its own."""
    for name in case.path_parameters or {}:
        if picks.get(name) is not None:
            case.path_parameters[name] = picks[name]
    if case.headers and "Idempotency-Key" in case.headers:
        # A generated key repeats across examples with other bodies (a 422 replay mismatch by design),
        # which would hide every success path; replays have their own tests in test_idempotency.py.
        case.headers["Idempotency-Key"] = uuid.uuid4().hex
    if isinstance(case.body, dict):
        for name in ("agent_id", "to_number", "number", "allowed_countries"):
            if name in case.body and picks.get(name) is not None:
                case.body[name] = picks[name]
    return case


def cases_for(operation, real_ids: dict):
    generated = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
    )
    picks = st.fixed_dictionaries({name: st.sampled_from([None, *values]) for name, values in real_ids.items()})
    return st.tuples(generated, picks).map(lambda pair: with_real_values(*pair))


def fuzz(cases, http: requests.Session, headers: dict) -> set[int]:
    """Run the generated cases with every check; returns the status codes seen."""
    seen: set[int] = set()

    @FUZZ_SETTINGS
    @given(case=cases)
    def run(case):
        seen.add(case.call_and_validate(session=http, headers=headers, checks=CHECKS, timeout=scaled(30)).status_code)

    run()
    return seen


def test_every_operation_answers_as_documented(app, live_server, worker):
    tenant = Tenant(app, ScopedClient(app))
    finished = finished_call(tenant)
    browser = browser_session(app, tenant)
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json")
    schema.config.generation.update(with_security_parameters=False)
    failures, statuses = [], {}
    for result in schema.get_all_operations():
        operation = result.ok()
        owner = Tenant(app, ScopedClient(app)) if operation.label in ISOLATED else tenant
        if {"session": []} in operation.definition.raw["security"]:
            http, headers = (browser_session(app, owner) if owner is not tenant else browser), {}
        else:
            http, headers = requests.Session(), {"Authorization": f"Bearer {keys.create_key(tenant.org_id)[1]}"}
        try:
            statuses[operation.label] = fuzz(
                cases_for(operation, real_ids_for(operation, owner, finished)), http, headers
            )
        except (Exception, FailureGroup) as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
    assert len(statuses) >= 35, sorted(statuses)
    never_succeeded = sorted(label for label, codes in statuses.items() if not any(200 <= c < 300 for c in codes))
    assert len(never_succeeded) <= len(statuses) // 10, f"the fuzzing missed the success path of {never_succeeded}"
