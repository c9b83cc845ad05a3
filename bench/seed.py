"""Bulk seeding with COPY: organizations with API keys, agents, tasks and realistic call rows.

Finished calls carry what the engine stores for them (the simulated provider's timeline in
provider_data, events, the local analyzer's report), built once per scenario from the real
simulator and analyzer and reused, so rows are as wide as production rows.
"""

import hashlib
import itertools
import json
import random
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from webapp.services.analysis import analyze_call
from webapp.telephony.base import AgentSpec, CallRef, CallRequest
from webapp.telephony.simulated import SimulatedProvider

SCENARIO_SHARES = {"+14155550123": 0.70, "+15005550001": 0.10, "+15005550002": 0.06, "+15005550003": 0.08,
                   "+15005550004": 0.06}  # fmt: skip
AGENT_PROMPT = "You confirm deliveries politely and note the customer's preferred time."
STARTING_MESSAGE = "Hello {{customer_name}}, this is Acme about order {{order_id}}."
CONTEXT = {"customer_name": "Jane Roe", "order_id": "A-1001"}


@dataclass
class SeededOrg:
    org_id: str
    api_key: str
    agent_ids: list[str] = field(default_factory=list)
    tasks: list[tuple[str, str, str]] = field(default_factory=list)  # (task id, agent id, to_number)


def new_id() -> str:
    return str(uuid.uuid4())


def copy_rows(conn: psycopg.Connection, table: str, rows: Iterable[dict]) -> None:
    """COPY dict rows (all with the keys of the first) into `table`, streaming, then commit."""
    rows = iter(rows)
    first = next(rows, None)
    if first is not None:
        columns = list(first)
        with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in itertools.chain([first], rows):
                copy.write_row([row[column] for column in columns])
        if table in COUNTED_STATUS:
            recount_resources(conn, table)
    conn.commit()


# COPY bypasses the application, which keeps resource_counts (the lists' totals) in step with the
# rows; after a COPY into one of these tables its counts are rebuilt as `flask recount-resources` does.
COUNTED_STATUS = {"calls": "status", "tasks": "status", "campaigns": "status",
                  "agents": "CASE WHEN deleted_at IS NOT NULL THEN 'deleted' WHEN enabled THEN 'enabled' "
                            "ELSE 'disabled' END"}  # fmt: skip


def recount_resources(conn: psycopg.Connection, table: str) -> None:
    status = COUNTED_STATUS[table]
    conn.execute("LOCK TABLE resource_counts IN SHARE ROW EXCLUSIVE MODE")
    conn.execute("DELETE FROM resource_counts WHERE resource = %s", (table,))
    conn.execute(
        f"INSERT INTO resource_counts (organization_id, resource, status, n) SELECT organization_id, %s, {status},"
        f" COUNT(*) FROM {table} GROUP BY organization_id, {status}",
        (table,),
    )


def create_org(conn: psycopg.Connection, name: str) -> SeededOrg:
    """An organization and one API key (stored hashed, as keys.create_key does)."""
    org_id, now, api_key = new_id(), datetime.now(UTC), "va_" + secrets.token_urlsafe(32)
    timestamps = {"created_at": now, "updated_at": now}
    secret = "whsec_" + secrets.token_urlsafe(32)
    copy_rows(conn, "organizations", [{"id": org_id, "name": name, "webhook_secret": secret, **timestamps}])
    key_hash = hashlib.sha256(api_key.encode()).hexdigest()
    key = {"id": new_id(), "organization_id": org_id, "name": "bench", "prefix": api_key[:11], "key_hash": key_hash}
    copy_rows(conn, "api_keys", [{**key, **timestamps}])
    return SeededOrg(org_id, api_key)


def add_agents(conn: psycopg.Connection, org: SeededOrg, count: int) -> None:
    now = datetime.now(UTC)
    rows = [
        {"id": new_id(), "organization_id": org.org_id, "name": f"Agent {number}", "system_prompt": AGENT_PROMPT,
         "starting_message": STARTING_MESSAGE, "language": "en", "enabled": True, "voice_settings": "{}",
         "dtmf_rules": "{}", "dynamic_variables": "{}", "sync_status": "not_required", "created_at": now,
         "updated_at": now}
        for number in range(count)
    ]  # fmt: skip
    copy_rows(conn, "agents", rows)
    org.agent_ids += [row["id"] for row in rows]


def add_tasks(conn: psycopg.Connection, org: SeededOrg, numbers: list[str], *, status: str = "completed",
              webhook_url: str | None = None, webhook_events: tuple[str, ...] = ()) -> list[str]:  # fmt: skip
    """One task per number, spread round-robin over the org's agents; returns the new task ids."""
    now = datetime.now(UTC)
    rows = [
        {"id": new_id(), "organization_id": org.org_id, "agent_id": org.agent_ids[index % len(org.agent_ids)],
         "name": f"Call {index}", "to_number": number, "context_data": json.dumps(CONTEXT), "priority": 0,
         "webhook_url": webhook_url, "webhook_events": json.dumps(list(webhook_events)), "status": status,
         "created_at": now, "updated_at": now}
        for index, number in enumerate(numbers)
    ]  # fmt: skip
    copy_rows(conn, "tasks", rows)
    org.tasks += [(row["id"], row["agent_id"], row["to_number"]) for row in rows]
    return [row["id"] for row in rows]


def finished_call(number: str) -> dict:
    """The columns of a finished call to `number`, played to its end by the real simulator."""
    clock = [1_000_000.0]
    provider = SimulatedProvider(clock=lambda: clock[0])
    agent = AgentSpec(id="a", name="Agent", system_prompt=AGENT_PROMPT, starting_message=STARTING_MESSAGE,
                      voice_settings={}, dtmf_rules={}, language="en", remote_agent_id=None)  # fmt: skip
    placed = provider.place_call(CallRequest("c", number, agent, starting_message=None, context_data=CONTEXT))
    clock[0] += 3600
    final = provider.fetch_final(CallRef("c", placed.provider_call_id, placed.provider_data))
    turns, events = [turn.as_dict() for turn in final.turns], [dict(event) for event in final.events]
    report = analyze_call(turns, status=final.status, failure_reason=final.failure_reason,
                          end_reason=final.end_reason, duration_seconds=final.duration_seconds, events=events,
                          agent_prompt=AGENT_PROMPT, context_data=CONTEXT)  # fmt: skip
    return {
        "status": final.status, "failure_reason": final.failure_reason, "end_reason": final.end_reason,
        "provider_data": json.dumps(placed.provider_data), "duration_seconds": final.duration_seconds,
        "termination_reason": final.termination_reason, "events": json.dumps(events),
        "report": json.dumps(report, default=str), "answered": bool(turns),
    }  # fmt: skip


def add_finished_calls(conn: psycopg.Connection, org: SeededOrg, count: int, *, seed: int = 7) -> None:
    """`count` calls over the org's tasks, created over the last 90 days; about 1 in 500 still active."""
    rng = random.Random(seed)
    templates = [finished_call(number) for number in SCENARIO_SHARES]
    now = datetime.now(UTC)

    def row(index: int) -> dict:
        task_id, agent_id, number = org.tasks[index % len(org.tasks)]
        call = dict(rng.choices(templates, weights=list(SCENARIO_SHARES.values()))[0])
        created = now - timedelta(seconds=rng.uniform(60, 90 * 86400))
        ended = created + timedelta(seconds=(call["duration_seconds"] or 0) + 20)
        finished = {"ended_at": ended, "finalized_at": ended}
        if rng.random() < 0.002:
            call.update(status="in_progress", failure_reason=None, end_reason=None, duration_seconds=None,
                        termination_reason=None, report=None)  # fmt: skip
            finished = {"ended_at": None, "finalized_at": None}
        return {"id": new_id(), "organization_id": org.org_id, "task_id": task_id, "agent_id": agent_id,
                "to_number": number, "provider": "simulated", "provider_call_id": f"sim_{uuid.uuid4().hex}",
                "answered_at": created if call.pop("answered") else None, "last_event_at": ended,
                "created_at": created, "updated_at": ended, **call, **finished}  # fmt: skip

    copy_rows(conn, "calls", (row(index) for index in range(count)))


def add_active_calls(conn: psycopg.Connection, org: SeededOrg, count: int) -> list[str]:
    """Calls in progress (placed, not yet ended), one per task; returns their ids."""
    now = datetime.now(UTC)
    rows = [
        {"id": new_id(), "organization_id": org.org_id, "task_id": task_id, "agent_id": agent_id,
         "to_number": number, "status": "in_progress", "provider": "simulated",
         "provider_call_id": f"sim_{uuid.uuid4().hex}", "provider_data": "{}", "events": "[]", "answered_at": now,
         "last_event_at": now, "created_at": now, "updated_at": now}
        for task_id, agent_id, number in org.tasks[:count]
    ]  # fmt: skip
    copy_rows(conn, "calls", rows)
    return [row["id"] for row in rows]


def vacuum_analyze(conn: psycopg.Connection) -> None:
    """What autovacuum would have done by now on tables that grew to this size."""
    conn.commit()
    conn.autocommit = True
    for table in ("calls", "tasks", "agents", "webhook_deliveries"):
        conn.execute(f"VACUUM (ANALYZE) {table}")
    conn.autocommit = False
