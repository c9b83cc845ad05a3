"""Contract fuzzing: schemathesis with every one of its checks on (what `st run --checks all` runs)
against the live server's /api/v1/openapi.json, through its engine, in all four phases:

- examples and coverage: the documented examples, then the boundaries of every parameter and body
  field, required headers left out, and methods the document doesn't list (`missing_required_header`,
  `unsupported_method`, `allow_header_conformance`);
- fuzzing: valid and invalid requests (`positive_data_acceptance`, `negative_data_rejection`,
  `not_a_server_error`, and the status code, content type, headers and body of every answer), with
  ids from earlier answers reused as path parameters so the success paths are reached too;
- stateful: chains through the links schemathesis infers (create an agent, read, change, delete it,
  read it again: `use_after_free`, `ensure_resource_availability`).

Each request carries real credentials for its operation's security scheme: the Bearer key of a
seeded organization for the API-key operations, the cookie of a real form login and its
X-CSRFToken for the session (dashboard) operations; `ignored_auth` takes them away and expects a
401. So the session-only operations answer here, not just 401 — and nothing is excluded: no check is
switched off and no check is given extra statuses. (A bare `st run` with only an API key sees the
session-only operations answer 401 to it, as documented; that is the one difference.)

tests/reliability/fuzz_hooks.py teaches the generator what the document says in words only
(phone-number validity, a fresh Idempotency-Key per request, field-order rules); see its docstring.
"""

import uuid
from collections import defaultdict

import schemathesis
from limits import parse_many
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, from_schema
from schemathesis.engine import events as engine_events

import tests.reliability.fuzz_hooks  # noqa: F401 - registers the formats and hooks
from tests.reliability.helpers import logged_in_client
from tests.support import ScopedClient, Tenant, scaled, wait_until

MAX_EXAMPLES = 8  # per operation and phase: the whole run stays within about two minutes on 2 busy cores
STATEFUL_STEPS = 6
SEED = 20261130  # the same cases on every run, so a CI failure reproduces

# The session operations run as the owner of another organization than the API key's (they list,
# revoke and regenerate keys, change members and allowed countries), all as that one login, so a
# resource one of them creates is there for the next; logging out everywhere has a login of its own.
LOGOUT = "POST /api/v1/session/logout-everywhere"


class Login:
    """A real form login as the tenant's owner: the session cookie and its CSRF token."""

    def __init__(self, app, tenant: Tenant):
        client, csrf = logged_in_client(app, tenant)
        self.cookie = client.get_cookie("session").value
        self.csrf = csrf["X-CSRFToken"]


def credentials(api_key: str, session: Login, logout: Login):
    """An auth provider class: each case gets the credentials its operation's security asks for."""

    class Credentials:
        def get(self, case, context):
            return case.operation.label

        def set(self, case, label, context):
            if {"session": []} in case.operation.definition.raw["security"]:
                login = logout if label == LOGOUT else session
                case.cookies = {**(case.cookies or {}), "session": login.cookie}
                case.headers = {**(case.headers or {}), "X-CSRFToken": login.csrf}
            else:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api_key}"}

    return Credentials


def with_member(app, tenant: Tenant) -> Tenant:
    """The tenant with a second member (someone to demote or remove)."""
    from webapp.services import orgs

    _, token = orgs.invite(tenant.org_id, f"member-{uuid.uuid4().hex[:8]}@example.com", "member", tenant.owner.id)
    orgs.accept_invite(token, name="Member", password="member-password-1")
    return tenant


def finished_call(tenant: Tenant) -> str:
    """A call that ended with its recording stored, so the call reads have something to show."""
    task = tenant.task()
    call_id = tenant.api.post(f"/tasks/{task['id']}/execute").get_json()["data"]["call_id"]
    wait_until(
        lambda: tenant.api.get(f"/calls/{call_id}/recording").status_code == 200, message="call finalized with audio"
    )
    return call_id


def run_schemathesis(schema) -> tuple[list[str], dict[str, set[int]]]:
    """Every distinct failure schemathesis reports and the status codes each operation answered."""
    failures: dict[tuple, str] = {}
    statuses: dict[str, set[int]] = defaultdict(set)
    for event in from_schema(schema).execute():
        if isinstance(event, engine_events.FatalError):
            raise event.exception
        if isinstance(event, engine_events.NonFatalError):
            failures[("error", event.label)] = f"{event.label}: error {event.value!r}"
        if isinstance(event, engine_events.EngineFinished):
            for failure in event.failures:
                failures[("run", failure.title)] = f"{failure.operation}: {failure}"
        if not isinstance(event, engine_events.ScenarioFinished | engine_events.FuzzScenarioFinished):
            continue
        recorder = event.recorder
        for case_id, interaction in recorder.interactions.items():
            if case_id in recorder.cases and interaction.response is not None:
                statuses[recorder.cases[case_id].value.operation.label].add(interaction.response.status_code)
        for checks in recorder.checks.values():
            for check in checks:
                if check.status == Status.FAILURE and check.failure_info is not None:
                    failure = check.failure_info.failure
                    failures.setdefault(
                        (failure.operation, check.name, failure.title),
                        f"{failure.operation} [{check.name}] {failure.title}: {failure.message}\n"
                        f"{check.failure_info.code_sample}",
                    )
    return list(failures.values()), statuses


def test_every_operation_answers_as_documented(app, live_server, worker, monkeypatch):
    # The request budget has its own tests; here it would only turn the fuzzing into 429s.
    monkeypatch.setattr(app.extensions["api_rate_limit"], "limits", parse_many("100000 per minute"))
    tenant = Tenant(app, ScopedClient(app))
    finished_call(tenant)
    session, logout = (Login(app, with_member(app, Tenant(app, ScopedClient(app)))) for _ in range(2))
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # how fast data is made on a busy machine says nothing about the API
            "suppress-health-check": ["too_slow"],
            "workers": 1,
            "request-timeout": scaled(30),
            "generation": {"max-examples": MAX_EXAMPLES},
            "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
            "checks": {"enabled": True},  # every built-in check
        }
    )
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json", config=config)
    schema.auth(refresh_interval=None)(credentials(tenant.key, session, logout))

    failures, statuses = run_schemathesis(schema)

    assert not failures, f"{len(failures)} failure(s):\n\n" + "\n\n".join(failures)
    documented = {op.ok().label for op in schema.get_all_operations()}
    assert documented <= set(statuses), sorted(documented - set(statuses))
    never_succeeded = sorted(label for label, codes in statuses.items() if not any(200 <= c < 300 for c in codes))
    assert len(never_succeeded) <= len(statuses) // 5, f"the fuzzing missed the success path of {never_succeeded}"
